"""The portal overview's recent activity, kept by the stream handler per contact: what a
customer may see of any of their tickets (closed ones too), never a private note or
another contact's ticket, each stream record once, and still two round trips a page."""

from __future__ import annotations

import re

import pytest
from chalice.test import Client

from chalicelib.domain import activity
from chalicelib.store.db import get_one
from chalicelib.store.models import ContactActivity
from tests.bench.counting import count_calls
from tests.functional.browsing import Page
from tests.functional.desk import Desk, MovableClock
from tests.functional.portal_fixtures import Customers, customers
from tests.functional.test_portal_access import deliver
from tests.functional.test_portal_tickets import close
from tests.functional.test_stream_handler import StreamTap, invoke, tap

pytestmark = pytest.mark.usefixtures("clock")

__all__ = ["customers", "tap"]


WHEN = re.compile(r", \d\d \w{3} \d{4}, \d\d:\d\d UTC$")


def recent(page: Page) -> list[str]:
    """The lines of the recent activity, newest first, as HTML text without tags or time."""
    section = page.text.split('id="activity-heading"', 1)[1]
    items = re.findall(r"<li>(.*?)</li>", section, flags=re.S)
    lines = [" ".join(re.sub(r"<[^>]+>", " ", item).split()) for item in items]
    assert all(WHEN.search(line) for line in lines), lines
    return [WHEN.sub("", line) for line in lines]


def said(page: Page) -> list[str]:
    """What each line of the recent activity says happened, newest first."""
    return [line.split(" — ", 1)[1] for line in recent(page)]


def relabel_solved(desk: Desk) -> None:
    """The closed status gets a staff name unlike its customer label."""
    solved = next(
        status
        for status in desk.api.get("/api/statuses").data["items"]
        if status["id"] == desk.statuses["solved"]
    )
    renamed = desk.api.patch(
        f"/api/statuses/{solved['id']}",
        {"name": "Solved internally", "customer_label": "All sorted", "version": solved["version"]},
    )
    assert renamed.status_code == 200, renamed.body


def test_a_ticket_closed_after_newer_open_ones_shows_with_its_customer_label(
    client: Client, customers: Customers, desk: Desk, tap: StreamTap, clock: MovableClock
) -> None:
    relabel_solved(desk)
    old = desk.ticket("cleo", subject="Old question")["number"]
    for index in range(3):
        clock.advance(minutes=1)
        desk.ticket("cleo", subject=f"Newer {index}")
    clock.advance(minutes=1)
    close(desk, old)
    deliver(client, tap)

    page = customers.signed_in("cleo").get("/portal")

    assert recent(page)[0] == f"#{old} Old question — Closed: All sorted"
    assert said(page) == [
        "Closed: All sorted",
        "Raised: New",
        "Raised: New",
        "Raised: New",
        "Raised: New",
    ]
    assert f'href="/portal/tickets/{old}"' in page.text.split('id="activity-heading"', 1)[1]
    assert "Solved internally" not in page.text
    open_section = page.plain.split("Open tickets", 1)[1].split("Recent activity", 1)[0]
    assert "Old question" not in open_section


def test_a_staff_public_reply_shows_and_a_private_note_never_does(
    client: Client, customers: Customers, desk: Desk, tap: StreamTap, clock: MovableClock
) -> None:
    number = desk.ticket("cleo", subject="Invoice <b>wrong</b>")["number"]
    clock.advance(minutes=1)
    added = desk.api.post(
        f"/api/tickets/{number}/notes", {"body": "PRIVATE: ask finance first", "public": False}
    )
    assert added.status_code == 201, added.body
    clock.advance(minutes=1)
    added = desk.api.post(
        f"/api/tickets/{number}/notes", {"body": "Corrected, see attached.", "public": True}
    )
    assert added.status_code == 201, added.body
    deliver(client, tap)

    page = customers.signed_in("cleo").get("/portal")

    assert recent(page) == [
        f"#{number} Invoice &lt;b&gt;wrong&lt;/b&gt; — New reply from us",
        f"#{number} Invoice &lt;b&gt;wrong&lt;/b&gt; — Raised: New",
    ]
    assert "<b>wrong</b>" not in page.text
    assert "PRIVATE" not in page.text
    assert "ask finance" not in page.text
    assert "Corrected" not in page.text  # the entry says a reply came, the ticket page shows it
    stored = get_one(ContactActivity.key(desk.contacts["cleo"]))
    assert isinstance(stored, ContactActivity)
    assert "PRIVATE" not in stored.data


def test_the_customers_own_reply_shows_once_without_the_status_it_sets(
    client: Client, customers: Customers, desk: Desk, tap: StreamTap, clock: MovableClock
) -> None:
    desk.put_settings(customer_reply_status_id=desk.statuses["waiting"])
    tap.take()
    number = desk.ticket("cleo", subject="Any news")["number"]
    browser = customers.signed_in("cleo")
    browser.get(f"/portal/tickets/{number}")
    clock.advance(minutes=1)
    assert browser.post(f"/portal/tickets/{number}/reply", {"body": "Hello?"}).status == 303
    deliver(client, tap)

    assert said(browser.get("/portal")) == ["You replied", "Raised: New"]


def test_another_contacts_activity_never_shows(
    client: Client, customers: Customers, desk: Desk, tap: StreamTap
) -> None:
    theirs = desk.ticket("dana", subject="Dana confidential")["number"]
    desk.api.post(f"/api/tickets/{theirs}/notes", {"body": "Reply to Dana", "public": True})
    close(desk, theirs)
    mine = desk.ticket("cleo", subject="Cleo question")["number"]
    deliver(client, tap)

    cleo = customers.signed_in("cleo").get("/portal")
    dana = customers.signed_in("dana").get("/portal")

    assert "Dana confidential" not in cleo.text
    assert f"/portal/tickets/{theirs}" not in cleo.text
    assert [line.split(" — ")[0] for line in recent(cleo)] == [f"#{mine} Cleo question"]
    assert "Cleo question" not in dana.text
    assert len(recent(dana)) == 3


def test_a_stream_batch_delivered_twice_adds_each_entry_once(
    client: Client, customers: Customers, desk: Desk, tap: StreamTap
) -> None:
    number = desk.ticket("cleo", subject="Only once")["number"]
    records = tap.take()

    assert invoke(client, records) == {"batchItemFailures": []}
    assert invoke(client, records) == {"batchItemFailures": []}

    kept = activity.read(get_one(ContactActivity.key(desk.contacts["cleo"])))
    assert [(entry.number, entry.kind) for entry in kept] == [(number, "created")]
    assert len(recent(customers.signed_in("cleo").get("/portal"))) == 1


def test_only_the_ten_newest_are_kept(
    client: Client, customers: Customers, desk: Desk, tap: StreamTap, clock: MovableClock
) -> None:
    numbers = []
    for index in range(12):
        clock.advance(minutes=1)
        numbers.append(desk.ticket("cleo", subject=f"Ticket {index}")["number"])
    deliver(client, tap)

    lines = recent(customers.signed_in("cleo").get("/portal"))

    assert [line.split(" ")[0] for line in lines] == [f"#{number}" for number in reversed(numbers[2:])]


def test_the_overview_with_activity_is_still_one_batch_read_and_one_query(
    client: Client, customers: Customers, desk: Desk, tap: StreamTap
) -> None:
    number = desk.ticket("cleo", subject="Counted")["number"]
    close(desk, number)
    deliver(client, tap)
    browser = customers.signed_in("cleo")

    with count_calls() as calls:
        page = browser.get("/portal")

    assert said(page) == ["Closed: Solved", "Raised: New"]
    assert calls.by_operation == {"BatchGetItem": 1, "Query": 1}


def test_without_activity_the_overview_says_so(customers: Customers, desk: Desk) -> None:
    desk.ticket("cleo", subject="Not streamed yet")

    page = customers.signed_in("cleo").get("/portal")

    assert recent(page) == []
    assert "No recent activity." in page.plain
