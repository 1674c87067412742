"""The ticket's audit trail: every staff edit, and the status a customer's reply sets, is
recorded on the ticket (who, what, when) in the same write as the edit; staff see the
changes with the notes, customers never do, and the stream does not take them for notes."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from boto3.dynamodb.conditions import Key
from chalice.test import Client

from tests.bench.counting import count_calls
from tests.functional.admin_fixtures import add_failed_delivery
from tests.functional.conftest import Api
from tests.functional.desk import Desk, MovableClock
from tests.functional.portal_fixtures import Customers, customers
from tests.functional.test_openapi import Checker, Documented
from tests.functional.test_stream_handler import StreamTap, invoke

pytestmark = pytest.mark.usefixtures("clock")

__all__ = ["customers"]

TABLE = "helpdesk-test"


def partition(number: int) -> list[dict[str, Any]]:
    """Every item of a ticket's partition, straight from the table."""
    table = boto3.resource("dynamodb").Table(TABLE)
    items: list[dict[str, Any]] = table.query(KeyConditionExpression=Key("pk").eq(f"TICKET#{number:010d}"))[
        "Items"
    ]
    return items


def stored_changes(number: int) -> list[dict[str, Any]]:
    return [item for item in partition(number) if item["kind"] == "change"]


def detail(api: Api, number: int) -> dict[str, Any]:
    response = api.get(f"/api/tickets/{number}")
    assert response.status_code == 200, response.body
    data: dict[str, Any] = response.data
    return data


def me(api: Api) -> dict[str, Any]:
    data: dict[str, Any] = api.get("/api/auth/me").data
    return data


# -- staff edits ---------------------------------------------------------------------


def test_an_edit_records_who_changed_which_fields_from_what_to_what_and_when(
    desk: Desk, agent: Api, clock: MovableClock
) -> None:
    ticket = desk.ticket()
    number = ticket["number"]
    alan = me(agent)
    moment = clock.advance(minutes=5)

    response = agent.patch(
        f"/api/tickets/{number}",
        {"status_id": desk.statuses["waiting"], "assignee_id": alan["id"], "version": 1},
    )

    assert response.status_code == 200, response.body
    (change,) = detail(desk.api, number)["changes"]
    assert change["actor"] == {"type": "staff", "id": alan["id"], "name": "Alan Agent"}
    assert change["changes"] == {
        "status_id": {"from": desk.statuses["new"], "to": desk.statuses["waiting"]},
        "assignee_id": {"from": None, "to": alan["id"]},
    }
    assert change["created_at"] == moment.isoformat().replace("+00:00", ".000000Z")


def test_each_edit_is_its_own_change_in_the_order_they_were_made(desk: Desk, clock: MovableClock) -> None:
    number = desk.ticket()["number"]
    edits = [
        {"category_id": desk.categories["billing"]},
        {"service_level_id": desk.levels["urgent"]},
        {"category_id": None},
    ]
    for version, edit in enumerate(edits, start=1):
        clock.advance(seconds=10)
        assert desk.api.patch(f"/api/tickets/{number}", {**edit, "version": version}).status_code == 200

    changes = detail(desk.api, number)["changes"]

    assert [change["changes"] for change in changes] == [
        {"category_id": {"from": None, "to": desk.categories["billing"]}},
        {"service_level_id": {"from": desk.levels["gold"], "to": desk.levels["urgent"]}},
        {"category_id": {"from": desk.categories["billing"], "to": None}},
    ]
    assert [change["actor"]["name"] for change in changes] == ["Ada Admin"] * 3


def test_an_edit_that_changes_nothing_records_nothing(desk: Desk) -> None:
    ticket = desk.ticket()

    response = desk.api.patch(
        f"/api/tickets/{ticket['number']}", {"status_id": ticket["status_id"], "version": 1}
    )

    assert response.status_code == 200
    assert stored_changes(ticket["number"]) == []


def test_an_edit_and_its_change_are_written_in_one_transaction(desk: Desk) -> None:
    number = desk.ticket()["number"]

    with count_calls() as calls:
        response = desk.api.patch(
            f"/api/tickets/{number}", {"status_id": desk.statuses["solved"], "version": 1}
        )

    assert response.status_code == 200
    assert calls.by_operation == {"BatchGetItem": 1, "TransactWriteItems": 1}
    assert response.data["version"] == 2
    assert len(stored_changes(number)) == 1


def test_a_stale_edit_is_refused_and_records_no_change(desk: Desk, agent: Api) -> None:
    number = desk.ticket()["number"]
    first = agent.patch(f"/api/tickets/{number}", {"status_id": desk.statuses["waiting"], "version": 1})
    assert first.status_code == 200

    refused = desk.api.patch(
        f"/api/tickets/{number}", {"category_id": desk.categories["billing"], "version": 1}
    )

    assert refused.status_code == 409
    assert refused.data["error"]["code"] == "stale_version"
    (change,) = stored_changes(number)
    assert change["actor_name"] == "Alan Agent"
    assert detail(desk.api, number)["category_id"] is None


def test_an_edit_whose_change_cannot_be_recorded_is_not_applied_either(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GIVEN the time stands still and every new id is the same, so a second change would
    take the first one's key, WHEN a second edit is saved, THEN its change's put is refused
    and the ticket update, in the same transaction, is refused with it."""
    from chalicelib import clock

    number = desk.ticket()["number"]
    monkeypatch.setattr(clock, "new_id", lambda: "0" * 32)
    assert (
        desk.api.patch(
            f"/api/tickets/{number}", {"status_id": desk.statuses["waiting"], "version": 1}
        ).status_code
        == 200
    )

    second = desk.api.patch(
        f"/api/tickets/{number}", {"category_id": desk.categories["billing"], "version": 2}
    )

    assert second.status_code == 409
    after = detail(desk.api, number)
    assert (after["category_id"], after["version"]) == (None, 2)
    assert len(stored_changes(number)) == 1


def test_a_change_keeps_the_names_it_was_made_under(desk: Desk, agent: Api, clock: MovableClock) -> None:
    number = desk.ticket()["number"]
    alan = me(agent)
    desk.api.patch(f"/api/tickets/{number}", {"assignee_id": alan["id"], "version": 1})
    clock.advance(seconds=1)
    desk.api.patch(f"/api/staff/{alan['id']}", {"name": "Alan Renamed", "version": alan["version"]})

    (change,) = stored_changes(number)

    assert change["actor_name"] == "Ada Admin"
    assert json.loads(change["names"]) == {alan["id"]: "Alan Agent"}


# -- re-send requests ----------------------------------------------------------------


def resend(api: Api, number: int, delivery_id: str) -> Any:
    return api.post(f"/api/tickets/{number}/deliveries/{delivery_id}/resend", {})


def test_a_resend_request_is_recorded_as_the_staff_members_change_in_the_same_write(
    client: Client, desk: Desk, agent: Api, clock: MovableClock
) -> None:
    number = desk.ticket()["number"]
    delivery_id = add_failed_delivery(number)
    alan = me(agent)
    moment = clock.advance(minutes=5)

    with count_calls() as calls:
        asked = resend(agent, number, delivery_id)

    assert asked.status_code == 202, asked.body
    assert calls.by_operation == {"BatchGetItem": 1, "TransactWriteItems": 1}
    answer = Documented(client, Checker(), desk.api.token).get(f"/api/tickets/{number}")
    (change,) = answer.data["changes"]
    assert change["actor"] == {"type": "staff", "id": alan["id"], "name": "Alan Agent"}
    assert change["changes"] == {"delivery_outcome": {"from": "failed", "to": "resend_requested"}}
    assert change["delivery"] == {
        "id": delivery_id,
        "channel": "email",
        "recipient": "cleo@example.com",
        "template": "ticket_created",
    }
    assert change["created_at"] == moment.isoformat().replace("+00:00", ".000000Z")
    assert answer.data["version"] == 1  # the ticket itself is not edited


def test_an_edit_of_the_ticket_names_no_delivery(desk: Desk) -> None:
    number = desk.ticket()["number"]
    desk.api.patch(f"/api/tickets/{number}", {"status_id": desk.statuses["waiting"], "version": 1})

    (change,) = detail(desk.api, number)["changes"]

    assert change["delivery"] is None
    assert "delivery" not in stored_changes(number)[0]


def test_a_refused_resend_request_records_nothing(desk: Desk, agent: Api) -> None:
    number = desk.ticket()["number"]
    delivery_id = add_failed_delivery(number)
    assert resend(agent, number, delivery_id).status_code == 202

    again = resend(desk.api, number, delivery_id)

    assert again.status_code == 409
    (change,) = stored_changes(number)
    assert change["actor_name"] == "Alan Agent"


def test_a_resend_whose_change_cannot_be_recorded_is_not_requested_either(
    desk: Desk, agent: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GIVEN time stands still and every new id is the same, so the request's change would
    take the key of a change already there, WHEN a re-send is asked for, THEN the change's
    put is refused and the delivery's update, in the same transaction, with it."""
    from chalicelib import clock

    number = desk.ticket()["number"]
    delivery_id = add_failed_delivery(number)
    monkeypatch.setattr(clock, "new_id", lambda: "0" * 32)
    edited = desk.api.patch(f"/api/tickets/{number}", {"status_id": desk.statuses["waiting"], "version": 1})
    assert edited.status_code == 200

    refused = resend(agent, number, delivery_id)

    assert refused.status_code == 409
    (delivery,) = desk.api.get(f"/api/tickets/{number}/deliveries").data["items"]
    assert (delivery["outcome"], delivery["resend_requested_by"]) == ("failed", None)
    assert [change["changes"] for change in detail(desk.api, number)["changes"]] == [
        {"status_id": {"from": desk.statuses["new"], "to": desk.statuses["waiting"]}}
    ]


# -- customer replies ----------------------------------------------------------------


def test_a_customer_reply_that_reopens_the_ticket_is_recorded_as_the_contacts_change(
    customers: Customers, desk: Desk, clock: MovableClock
) -> None:
    desk.put_settings(customer_reply_status_id=desk.statuses["waiting"])
    number = desk.ticket("cleo")["number"]
    desk.api.patch(f"/api/tickets/{number}", {"status_id": desk.statuses["solved"], "version": 1})
    clock.advance(minutes=1)
    browser = customers.signed_in("cleo")
    browser.get(f"/portal/tickets/{number}")

    answer = browser.post(f"/portal/tickets/{number}/reply", {"body": "It is smoking again."})

    assert answer.status == 303
    ticket = detail(desk.api, number)
    closing, reopening = ticket["changes"]
    assert closing["actor"]["name"] == "Ada Admin"
    assert reopening["actor"] == {"type": "contact", "id": desk.contacts["cleo"], "name": "Cleo Customer"}
    assert reopening["changes"] == {
        "status_id": {"from": desk.statuses["solved"], "to": desk.statuses["waiting"]}
    }
    assert reopening["created_at"] == ticket["notes"][0]["created_at"]


def test_a_customer_reply_that_sets_no_status_records_no_change(customers: Customers, desk: Desk) -> None:
    number = desk.ticket("cleo")["number"]
    browser = customers.signed_in("cleo")
    browser.get(f"/portal/tickets/{number}")

    browser.post(f"/portal/tickets/{number}/reply", {"body": "Any news?"})

    assert stored_changes(number) == []


# -- who sees changes ----------------------------------------------------------------


def test_a_customer_never_sees_a_change_in_the_portal_or_a_public_read(
    customers: Customers, desk: Desk, agent: Api, clock: MovableClock
) -> None:
    from chalicelib.domain import ticket_notes

    # GIVEN a ticket with a public reply between two staff edits, one naming the assignee
    number = desk.ticket("cleo")["number"]
    clock.advance(minutes=1)
    desk.api.patch(f"/api/tickets/{number}", {"assignee_id": me(agent)["id"], "version": 1})
    clock.advance(minutes=1)
    desk.api.post(f"/api/tickets/{number}/notes", {"body": "We are on it.", "public": True})
    clock.advance(minutes=1)
    desk.api.patch(f"/api/tickets/{number}", {"category_id": desk.categories["billing"], "version": 2})

    # WHEN the customer opens it, and the public view is read and paged
    page = customers.signed_in("cleo").get(f"/portal/tickets/{number}")
    public = ticket_notes.get_with_notes(number, public_only=True)
    # (the newest entry is the category change: a page of one holds no note for the customer)
    newest_one, _ = ticket_notes.notes_page(number, 1, None, public_only=True)

    # THEN only the public reply shows: no change, no staff name, no field
    assert page.status == 200
    assert "We are on it." in page.plain
    for hidden in ("changed", "Alan Agent", "Ada Admin", "assignee", "Unassigned", "No category"):
        assert hidden not in page.plain, hidden
    assert public.changes == []
    assert [note.body for note in public.notes] == ["We are on it."]
    assert newest_one == []
    # AND staff see both changes with the reply
    staff_view = ticket_notes.get_with_notes(number)
    assert len(staff_view.changes) == 2
    assert [type(entry).__name__ for entry in staff_view.timeline()] == ["Change", "Note", "Change"]


def test_the_notes_api_keeps_listing_notes_only(desk: Desk, clock: MovableClock) -> None:
    number = desk.ticket()["number"]
    desk.api.post(f"/api/tickets/{number}/notes", {"body": "First.", "public": False})
    clock.advance(seconds=1)
    desk.api.patch(f"/api/tickets/{number}", {"status_id": desk.statuses["waiting"], "version": 1})

    ticket = detail(desk.api, number)
    notes = desk.api.get(f"/api/tickets/{number}/notes").data

    assert [note["body"] for note in ticket["notes"]] == ["First."]
    assert len(ticket["changes"]) == 1
    assert [note["body"] for note in notes["items"]] == ["First."]


def test_changes_take_their_place_in_a_page_and_the_cursor_leads_past_them(
    desk: Desk, clock: MovableClock
) -> None:
    from chalicelib.domain import ticket_notes

    # GIVEN, oldest first: note 0, a change, note 1, a change, note 2
    number = desk.ticket()["number"]
    statuses = [desk.statuses["waiting"], desk.statuses["new"]]
    for position in range(3):
        clock.advance(seconds=1)
        desk.api.post(f"/api/tickets/{number}/notes", {"body": f"note {position}", "public": True})
        if position < 2:
            clock.advance(seconds=1)
            desk.api.patch(
                f"/api/tickets/{number}", {"status_id": statuses[position], "version": position + 1}
            )

    # WHEN staff read three entries at a time
    newest = ticket_notes.get_with_notes(number, limit=3)
    notes, changes, end = ticket_notes.timeline_page(number, 3, newest.notes_cursor)
    # AND the notes API pages the same way
    api_notes, api_end = ticket_notes.notes_page(number, 3, newest.notes_cursor)

    # THEN the first page holds the three newest entries and the second the two before
    assert [type(entry).__name__ for entry in newest.timeline()] == ["Note", "Change", "Note"]
    assert [note.body for note in newest.notes] == ["note 1", "note 2"]
    assert [note.body for note in notes] == ["note 0"]
    assert len(changes) == 1
    assert end is None
    assert [note.body for note in api_notes] == ["note 0"]
    assert api_end is None


def test_a_ticket_detail_with_changes_answers_as_the_openapi_document_says(
    client: Client, desk: Desk, agent: Api
) -> None:
    number = desk.ticket()["number"]
    agent.patch(
        f"/api/tickets/{number}",
        {"status_id": desk.statuses["waiting"], "assignee_id": me(agent)["id"], "version": 1},
    )
    documented = Documented(client, Checker(), desk.api.token)

    answer = documented.get(f"/api/tickets/{number}")

    assert answer.status_code == 200
    assert len(answer.data["changes"]) == 1


# -- the stream ----------------------------------------------------------------------


def test_a_change_record_is_no_note_and_tells_the_stream_only_of_the_edit(client: Client, desk: Desk) -> None:
    from chalicelib.store.models import Change, Item
    from chalicelib.stream.events import decode

    number = desk.ticket()["number"]
    tap = StreamTap()
    tap.take()

    desk.api.patch(f"/api/tickets/{number}", {"status_id": desk.statuses["waiting"], "version": 1})
    records = tap.take()

    inserted = [record for record in records if record["eventName"] == "INSERT"]
    assert len(inserted) == 1
    assert isinstance(Item.from_raw_data(inserted[0]["dynamodb"]["NewImage"]), Change)
    assert decode(inserted[0]) == []
    assert [event.name for record in records for event in decode(record)] == ["status_changed"]
    assert invoke(client, records) == {"batchItemFailures": []}
