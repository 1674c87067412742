"""Tickets keep their contact's and assignee's names, so lists name them without a read, and
the stream handler follows a rename onto every ticket of that person."""

from __future__ import annotations

import pytest
from chalice.test import Client

from tests.functional.conftest import Api
from tests.functional.desk import Desk
from tests.functional.test_stream_handler import StreamTap, invoke

pytestmark = pytest.mark.usefixtures("clock")


def test_a_ticket_names_its_contact_and_its_assignee(desk: Desk, agent: Api) -> None:
    me = agent.get("/api/auth/me").data
    number = desk.ticket("cleo")["number"]

    assigned = desk.api.patch(f"/api/tickets/{number}", {"assignee_id": me["id"], "version": 1}).data
    unassigned = desk.api.patch(f"/api/tickets/{number}", {"assignee_id": None, "version": 2}).data

    assert (assigned["contact_name"], assigned["assignee_name"]) == ("Cleo Customer", "Alan Agent")
    assert unassigned["assignee_name"] is None


def test_a_rename_reaches_every_ticket_of_the_contact_and_the_assignee(
    client: Client, desk: Desk, agent: Api
) -> None:
    me = agent.get("/api/auth/me").data
    numbers = [desk.ticket("cleo")["number"] for _ in range(3)]
    other = desk.ticket("dana")["number"]
    for number in numbers[:2]:
        desk.api.patch(f"/api/tickets/{number}", {"assignee_id": me["id"], "version": 1})
    tap = StreamTap()
    tap.take()
    cleo = desk.api.get(f"/api/contacts/{desk.contacts['cleo']}").data

    desk.api.patch(f"/api/contacts/{cleo['id']}", {"name": "Cleo Renamed", "version": cleo["version"]})
    desk.api.patch(f"/api/staff/{me['id']}", {"name": "Alan Renamed", "version": me["version"]})
    assert invoke(client, tap.take()) == {"batchItemFailures": []}

    tickets = {number: desk.api.get(f"/api/tickets/{number}").data for number in [*numbers, other]}
    assert {tickets[number]["contact_name"] for number in numbers} == {"Cleo Renamed"}
    assert [tickets[number]["assignee_name"] for number in numbers] == ["Alan Renamed", "Alan Renamed", None]
    assert tickets[other]["contact_name"] == "Dana Doe"


def test_the_queue_names_contacts_and_assignees_in_two_round_trips(
    client: Client, desk: Desk, agent: Api
) -> None:
    from tests.bench.counting import count_calls
    from tests.functional.admin_fixtures import staff_sign_in
    from tests.functional.browsing import Browser

    me = agent.get("/api/auth/me").data
    number = desk.ticket("dana")["number"]
    desk.api.patch(f"/api/tickets/{number}", {"assignee_id": me["id"], "version": 1})
    browser = Browser(client)
    staff_sign_in(browser, "admin@example.com")

    with count_calls() as calls:
        page = browser.get("/admin/tickets")

    assert "Dana Doe" in page.plain
    assert "Alan Agent" in page.plain
    assert calls.round_trips == 2
