"""The dashboard's figures, kept by the stream handler: they must equal what a count of the
tickets would give, survive a batch delivered twice, and never lose a concurrent update."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.domain import dashboard, ratings
from chalicelib.domain.setup import load
from chalicelib.store.db import get_one
from chalicelib.store.models import Stats
from tests.functional.conftest import Api
from tests.functional.desk import Desk, MovableClock
from tests.functional.test_stream_handler import StreamTap, invoke

pytestmark = pytest.mark.usefixtures("clock")


@pytest.fixture
def tap(desk: Desk) -> StreamTap:
    reader = StreamTap()
    reader.take()
    return reader


def figures() -> dashboard.Figures:
    return dashboard.Figures.from_item(get_one(Stats.key()))


def counted_by_reading(api: Api) -> tuple[Counter[str], Counter[str]]:
    """The same figures the slow way: every open ticket, read through the API."""
    items = api.get("/api/tickets?state=open&limit=100").data["items"]
    return (
        Counter(item["status_id"] for item in items),
        Counter(item["assignee_id"] or "" for item in items),
    )


def edit(api: Api, number: int, **fields: Any) -> None:
    version = api.get(f"/api/tickets/{number}").data["version"]
    answer = api.patch(f"/api/tickets/{number}", {**fields, "version": version})
    assert answer.status_code == 200, answer.body


def test_open_tickets_by_status_and_assignee_follow_every_change(
    client: Client, desk: Desk, tap: StreamTap, agent: Api
) -> None:
    me = agent.get("/api/auth/me").data["id"]
    numbers = [desk.ticket(name)["number"] for name in ("cleo", "dana", "cleo", "dana")]
    edit(desk.api, numbers[0], assignee_id=me)
    edit(desk.api, numbers[1], status_id=desk.statuses["waiting"], assignee_id=me)
    edit(desk.api, numbers[2], status_id=desk.statuses["solved"])
    edit(desk.api, numbers[3], status_id=desk.statuses["solved"])
    edit(desk.api, numbers[3], status_id=desk.statuses["new"])  # reopened

    assert invoke(client, tap.take()) == {"batchItemFailures": []}

    kept = figures()
    by_status, by_assignee = counted_by_reading(desk.api)
    assert +kept.open_by_status == by_status
    assert +kept.open_by_assignee == by_assignee
    assert (kept.open_total, kept.unassigned, kept.open_by_assignee[me]) == (3, 1, 2)


def test_a_batch_delivered_twice_is_counted_once(client: Client, desk: Desk, tap: StreamTap) -> None:
    desk.ticket("cleo")
    records = tap.take()

    invoke(client, records)
    invoke(client, records)

    assert figures().open_total == 1


def test_a_concurrent_update_is_read_again_not_lost(
    client: Client, desk: Desk, tap: StreamTap, monkeypatch: pytest.MonkeyPatch
) -> None:
    desk.ticket("cleo")
    desk.ticket("dana")
    first, second = [
        record
        for record in tap.take()
        if record["eventName"] == "INSERT" and "TICKET#" in str(record["dynamodb"]["Keys"])
    ][:2]
    real_get_many = dashboard.get_many
    raced = []

    def racing_get_many(keys: Any) -> Any:
        found = real_get_many(keys)
        if not raced:
            raced.append(True)
            dashboard.apply(second)  # lands between this read and its write
        return found

    monkeypatch.setattr(dashboard, "get_many", racing_get_many)
    assert dashboard.apply(first) is True

    assert figures().open_total == 2


def test_ratings_keep_a_count_an_average_and_the_latest_first(
    client: Client, desk: Desk, tap: StreamTap, clock: MovableClock
) -> None:
    for label, score in (("Great", 5), ("Poor", 1)):
        desk.created("/api/rating-options", {"label": label, "score": score})
    options = {option["label"]: option["id"] for option in desk.api.get("/api/rating-options").data["items"]}
    numbers = [desk.ticket("cleo")["number"] for _ in range(3)]
    for number in numbers:
        edit(desk.api, number, status_id=desk.statuses["solved"])
    config = load()
    ratings.rate(numbers[0], config, {"rating_option_id": options["Poor"]})
    clock.advance(minutes=1)
    ratings.rate(numbers[1], config, {"rating_option_id": options["Great"], "comment": "Quick"})
    clock.advance(minutes=1)
    ratings.rate(numbers[0], config, {"rating_option_id": options["Great"]})  # changed its mind

    invoke(client, tap.take())

    kept = figures()
    assert (kept.ratings_count, kept.average_score) == (2, 5.0)
    assert [(item["ticket_number"], item["label"]) for item in kept.recent_ratings] == [
        (numbers[0], "Great"),
        (numbers[1], "Great"),
    ]
    assert kept.recent_ratings[1]["comment"] == "Quick"


def test_overdue_counts_open_tickets_past_due_up_to_a_cap(
    client: Client, desk: Desk, clock: MovableClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    for _ in range(4):
        desk.ticket("dana")  # standard: due in 72 hours
    closed = desk.ticket("dana")["number"]
    edit(desk.api, closed, status_id=desk.statuses["solved"])

    assert dashboard.overdue() == dashboard.Overdue(0, False)
    clock.advance(hours=73)
    assert dashboard.overdue() == dashboard.Overdue(4, False)
    monkeypatch.setattr(dashboard, "OVERDUE_CAP", 3)
    assert dashboard.overdue() == dashboard.Overdue(3, True)


def test_records_of_other_items_change_nothing(client: Client, desk: Desk, tap: StreamTap) -> None:
    desk.api.post(
        f"/api/contacts/{desk.contacts['cleo']}/transactions",
        {"type": "invoice", "reference": "INV-9", "amount": "10.00", "currency": "EUR", "date": "2026-01-01"},
    )
    records = tap.take()
    assert records
    assert not any(dashboard.counts(record) for record in records)
