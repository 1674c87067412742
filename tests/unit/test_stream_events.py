"""``chalicelib.stream.events.decode`` on stored stream records: no AWS involved."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest

from chalicelib.stream.events import DomainEvent, MalformedRecord, decode, decode_resend_request
from tests.events import load_record, load_records


def ticket_image(record: dict[str, Any], which: str = "NewImage") -> dict[str, Any]:
    image: dict[str, Any] = record["dynamodb"][which]
    return image


def test_a_new_ticket_is_ticket_created_with_its_contact_source_and_status() -> None:
    record = load_record("ticket_created")
    image = ticket_image(record)

    assert decode(record) == [
        DomainEvent(
            "ticket_created",
            int(image["number"]["N"]),
            {
                "contact_id": image["contact_id"]["S"],
                "source": "staff",
                "status_id": image["status_id"]["S"],
            },
        )
    ]


def test_closing_a_ticket_is_a_status_change_then_ticket_closed() -> None:
    record = load_record("ticket_closed")
    before = ticket_image(record, "OldImage")["status_id"]["S"]
    after = ticket_image(record)["status_id"]["S"]

    events = decode(record)

    assert events == [
        DomainEvent("status_changed", 1001, {"from": before, "to": after}),
        DomainEvent("ticket_closed", 1001, {"status_id": after}),
    ]


def test_reopening_with_an_assignee_reports_each_change_then_ticket_reopened() -> None:
    record = load_record("ticket_reopened_and_assigned")
    old, new = ticket_image(record, "OldImage"), ticket_image(record)

    events = decode(record)

    assert [event.name for event in events] == ["status_changed", "assignee_changed", "ticket_reopened"]
    assert events[1].data == {"from": None, "to": new["assignee_id"]["S"]}
    assert events[0].data == {"from": old["status_id"]["S"], "to": new["status_id"]["S"]}


def test_a_private_note_is_note_added_not_public_and_its_ticket_touch_is_silent() -> None:
    note, touch = load_records("note_added_private")

    assert decode(note) == [
        DomainEvent(
            "note_added",
            1001,
            {"note_id": ticket_image(note)["id"]["S"], "public": False, "author_type": "staff"},
        )
    ]
    assert touch["eventName"] == "MODIFY"
    assert decode(touch) == []


def test_a_public_note_is_note_added_and_public() -> None:
    (event,) = decode(load_record("note_added_public"))

    assert (event.name, event.ticket_number, event.data["public"]) == ("note_added", 1001, True)


def test_items_other_than_tickets_and_notes_make_no_events() -> None:
    assert decode(load_record("counter_inserted")) == []


def test_a_ttl_expiry_makes_no_event() -> None:
    record = load_record("token_expired_ttl")

    assert record["userIdentity"]["principalId"] == "dynamodb.amazonaws.com"
    assert decode(record) == []


def test_a_ttl_marked_record_makes_no_event_whatever_it_holds() -> None:
    record = copy.deepcopy(load_record("ticket_created"))
    record["userIdentity"] = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}

    assert decode(record) == []


def test_a_record_from_another_principal_is_not_taken_for_a_ttl_expiry() -> None:
    record = copy.deepcopy(load_record("ticket_created"))
    record["userIdentity"] = {"type": "Service", "principalId": "someone.example.com"}

    assert [event.name for event in decode(record)] == ["ticket_created"]


def test_removing_a_ticket_makes_no_event() -> None:
    record = copy.deepcopy(load_record("ticket_closed"))
    record["eventName"] = "REMOVE"
    record["dynamodb"]["OldImage"] = record["dynamodb"].pop("NewImage")

    assert decode(record) == []


# -- malformed records ----------------------------------------------------------------


def test_a_ticket_number_that_is_no_number_is_malformed() -> None:
    with pytest.raises(MalformedRecord):
        decode(load_record("malformed_ticket_number"))


@pytest.mark.parametrize("event_name", ["UPSERT", None, "", "insert"])
def test_an_unknown_event_name_is_malformed(event_name: str | None) -> None:
    record = copy.deepcopy(load_record("ticket_created"))
    record["eventName"] = event_name

    with pytest.raises(MalformedRecord, match="eventName"):
        decode(record)


@pytest.mark.parametrize(
    ("attribute", "value"),
    [
        ("kind", {"S": "spaceship"}),
        ("closed", {"S": "yes"}),
        ("created_at", {"S": "yesterday"}),
        ("number", {"S": "1001"}),
    ],
)
def test_an_image_attribute_of_the_wrong_kind_is_malformed(attribute: str, value: dict[str, str]) -> None:
    record = copy.deepcopy(load_record("ticket_created"))
    record["dynamodb"]["NewImage"][attribute] = value

    with pytest.raises(MalformedRecord, match="NewImage"):
        decode(record)


def test_a_broken_old_image_is_malformed_too() -> None:
    record = copy.deepcopy(load_record("ticket_closed"))
    record["dynamodb"]["OldImage"]["closed"] = {"N": "1"}

    with pytest.raises(MalformedRecord, match="OldImage"):
        decode(record)


@pytest.mark.parametrize(
    ("sample", "missing"),
    [("note_added_public", "ticket_number"), ("ticket_created", "number"), ("ticket_created", "contact_id")],
)
def test_a_ticket_or_note_image_missing_a_required_attribute_is_malformed(sample: str, missing: str) -> None:
    record = copy.deepcopy(load_record(sample))
    del record["dynamodb"]["NewImage"][missing]

    with pytest.raises(MalformedRecord, match="NewImage"):
        decode(record)


def test_an_image_that_is_not_a_map_is_malformed() -> None:
    record = copy.deepcopy(load_record("ticket_created"))
    record["dynamodb"]["NewImage"] = ["not", "a", "map"]

    with pytest.raises(MalformedRecord):
        decode(record)


# -- re-send requests ----------------------------------------------------------------


def delivery_image(outcome: str) -> dict[str, Any]:
    from chalicelib.store.models import Delivery

    entry = Delivery(
        *Delivery.key(1001, "20261203120000000000abcdef012345"),
        ticket_number=1001,
        id="20261203120000000000abcdef012345",
        event_id="e1",
        channel="email",
        recipient="cleo@example.com",
        template="ticket_created",
        outcome=outcome,
        attempted_at=datetime(2026, 12, 3, 12, tzinfo=UTC),
    )
    image: dict[str, Any] = entry.serialize()
    return image


@pytest.mark.parametrize(
    ("before", "after", "asked"),
    [
        ("failed", "resend_requested", True),
        ("resend_requested", "resent", False),
        ("resend_requested", "cancelled", False),
        ("failed", "failed", False),
        ("sent", "resend_requested", False),
    ],
)
def test_only_a_failed_delivery_turning_resend_requested_is_a_resend_request(
    before: str, after: str, asked: bool
) -> None:
    record = {
        "eventID": "e2",
        "eventName": "MODIFY",
        "dynamodb": {"OldImage": delivery_image(before), "NewImage": delivery_image(after)},
    }

    found = decode_resend_request(record)

    assert (found is not None) == asked
    assert decode(record) == []
    if found is not None:
        assert (found.ticket_number, found.channel, found.outcome) == (1001, "email", "resend_requested")


def test_a_new_delivery_entry_is_no_resend_request() -> None:
    record = {"eventID": "e3", "eventName": "INSERT", "dynamodb": {"NewImage": delivery_image("failed")}}

    assert decode_resend_request(record) is None
