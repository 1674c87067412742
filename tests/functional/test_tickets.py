"""Tickets through the admin API: creation, reading, edits under a version, notes."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import boto3
import pytest
from boto3.dynamodb.conditions import Key

from tests.functional.conftest import ADMIN_PASSWORD, Api
from tests.functional.desk import Desk, MovableClock

TABLE = "helpdesk-test"


pytestmark = pytest.mark.usefixtures("clock")


def at(value: str) -> datetime:
    return datetime.fromisoformat(value)


def partition_items(number: int) -> list[dict]:
    """Everything stored under one ticket's partition, read straight from the table."""
    table = boto3.resource("dynamodb").Table(TABLE)
    return table.query(KeyConditionExpression=Key("pk").eq(f"TICKET#{number:010d}"))["Items"]


# -- creation ------------------------------------------------------------------------


def test_creating_a_ticket_answers_201_with_id_number_and_location(desk: Desk) -> None:
    response = desk.api.post(
        "/api/tickets", {"contact_id": desk.contacts["cleo"], "subject": "Printer on fire", "body": "Help."}
    )

    assert response.status_code == 201, response.body
    assert response.data["id"] == str(response.data["number"])
    assert response.headers["Location"] == f"/api/tickets/{response.data['number']}"
    assert response.data["subject"] == "Printer on fire"
    assert response.data["contact_id"] == desk.contacts["cleo"]
    assert response.data["source"] == "staff"
    assert response.data["version"] == 1
    assert response.data["closed"] is False


def test_ticket_numbers_are_sequential(desk: Desk) -> None:
    numbers = [desk.ticket()["number"] for _ in range(4)]

    assert numbers == list(range(numbers[0], numbers[0] + 4))


def test_omitted_service_level_falls_back_to_the_contacts_default(desk: Desk, clock: MovableClock) -> None:
    ticket = desk.ticket("cleo")

    assert ticket["service_level_id"] == desk.levels["gold"]
    assert at(ticket["response_due_at"]) == clock.now() + timedelta(hours=4)
    assert at(ticket["resolution_due_at"]) == clock.now() + timedelta(hours=24)


def test_omitted_service_level_without_a_contact_default_uses_the_settings_default(
    desk: Desk, clock: MovableClock
) -> None:
    ticket = desk.ticket("dana")

    assert ticket["service_level_id"] == desk.levels["standard"]
    assert at(ticket["created_at"]) == clock.now()
    assert at(ticket["response_due_at"]) == clock.now() + timedelta(hours=8)
    assert at(ticket["resolution_due_at"]) == clock.now() + timedelta(hours=72)


def test_given_service_level_wins_over_every_default(desk: Desk, clock: MovableClock) -> None:
    ticket = desk.ticket("cleo", service_level_id=desk.levels["urgent"])

    assert ticket["service_level_id"] == desk.levels["urgent"]
    assert at(ticket["response_due_at"]) == clock.now() + timedelta(hours=1)
    assert at(ticket["resolution_due_at"]) == clock.now() + timedelta(hours=2)


def test_no_service_level_anywhere_means_no_due_dates(desk: Desk) -> None:
    desk.put_settings(default_service_level_id=None)

    ticket = desk.ticket("dana")

    assert ticket["service_level_id"] is None
    assert ticket["response_due_at"] is None
    assert ticket["resolution_due_at"] is None


def test_omitted_status_is_the_settings_default(desk: Desk) -> None:
    assert desk.ticket()["status_id"] == desk.statuses["new"]
    assert desk.ticket(status_id=desk.statuses["waiting"])["status_id"] == desk.statuses["waiting"]


def test_a_ticket_created_in_a_closed_status_is_closed(desk: Desk, clock: MovableClock) -> None:
    ticket = desk.ticket(status_id=desk.statuses["solved"])

    assert ticket["closed"] is True
    assert at(ticket["closed_at"]) == clock.now()


@pytest.mark.parametrize("field", ["contact_id", "category_id", "status_id", "service_level_id"])
def test_creating_with_an_unknown_reference_is_422_naming_the_field(desk: Desk, field: str) -> None:
    body = {"contact_id": desk.contacts["cleo"], "subject": "S", "body": "B", field: "doesnotexist"}

    response = desk.api.post("/api/tickets", body)

    assert response.status_code == 422, response.body
    assert response.data["error"]["field"] == field
    assert desk.api.get("/api/tickets").data["items"] == []


def test_creating_with_an_unknown_field_is_422_naming_it(desk: Desk) -> None:
    response = desk.api.post(
        "/api/tickets", {"contact_id": desk.contacts["cleo"], "subject": "S", "body": "B", "priority": "high"}
    )

    assert response.status_code == 422
    assert response.data["error"] == {
        "code": "invalid",
        "message": "Unknown field 'priority'.",
        "field": "priority",
    }


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"body": "B"}, "subject"),
        ({"subject": "   ", "body": "B"}, "subject"),
        ({"subject": "S"}, "body"),
        ({"subject": 7, "body": "B"}, "subject"),
        ({"subject": "one\ntwo", "body": "B"}, "subject"),
    ],
)
def test_creating_without_a_usable_subject_or_body_is_422(desk: Desk, body: dict, field: str) -> None:
    response = desk.api.post("/api/tickets", {"contact_id": desk.contacts["cleo"], **body})

    assert response.status_code == 422, response.body
    assert response.data["error"]["field"] == field


@pytest.mark.parametrize("contact_id", [None, 42, "", "../x", ["a"]])
def test_creating_with_a_contact_id_that_is_not_an_id_is_422(desk: Desk, contact_id: object) -> None:
    response = desk.api.post("/api/tickets", {"contact_id": contact_id, "subject": "S", "body": "B"})

    assert response.status_code == 422, response.body
    assert response.data["error"]["field"] == "contact_id"


def test_creating_needs_a_signed_in_staff_member(desk: Desk, anonymous: Api) -> None:
    response = anonymous.post(
        "/api/tickets", {"contact_id": desk.contacts["cleo"], "subject": "S", "body": "B"}
    )

    assert response.status_code == 401
    assert desk.api.get("/api/tickets").data["items"] == []


def test_creations_in_flight_together_get_distinct_consecutive_numbers(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    # moto has no per-item locking, so threads cannot prove DynamoDB's atomic ADD here.
    # Instead each creation starts the next one after taking its number and before
    # storing its ticket: the interleaving a read-the-highest-number design gets wrong.
    from chalicelib.domain import contacts, setup, tickets
    from chalicelib.store.models import Ticket

    config = setup.load()
    contact = contacts.get(desk.contacts["cleo"])
    first = desk.ticket()["number"]
    workers = 8
    numbers: list[int] = []
    real_save = Ticket.save

    def create(position: int) -> None:
        body = {"contact_id": contact.id, "subject": f"Creation {position}", "body": "Race."}
        ticket = tickets.create(config, contact, body, source="staff", created_by="staff:test")
        numbers.append(ticket.number)

    def save_after_the_next_creation(ticket: Ticket, *args: Any, **kwargs: Any) -> Any:
        started = len(started_positions)
        if started < workers:
            started_positions.append(started)
            create(started)
        return real_save(ticket, *args, **kwargs)

    started_positions: list[int] = [0]
    monkeypatch.setattr(Ticket, "save", save_after_the_next_creation)

    create(0)

    # THEN each got its own number, with no gap, and each number holds its own ticket
    assert sorted(numbers) == list(range(first + 1, first + 1 + workers))
    subjects = {desk.api.get(f"/api/tickets/{number}").data["subject"] for number in numbers}
    assert subjects == {f"Creation {position}" for position in range(workers)}


# -- reading -------------------------------------------------------------------------


def test_a_ticket_shows_every_note_marked_public_or_private_and_its_version(
    desk: Desk, clock: MovableClock
) -> None:
    ticket = desk.ticket()
    desk.api.post(f"/api/tickets/{ticket['id']}/notes", {"body": "We are on it.", "public": True})
    clock.advance(seconds=1)
    desk.api.post(f"/api/tickets/{ticket['id']}/notes", {"body": "Customer sounds upset.", "public": False})

    response = desk.api.get(f"/api/tickets/{ticket['id']}")

    assert response.status_code == 200
    assert response.data["version"] == ticket["version"]
    assert response.data["note_count"] == 2
    assert [(note["body"], note["public"]) for note in response.data["notes"]] == [
        ("We are on it.", True),
        ("Customer sounds upset.", False),
    ]
    assert response.data["notes_cursor"] is None
    author = response.data["notes"][0]["author"]
    assert author["type"] == "staff"
    assert author["name"] == "Ada Admin"


def add_notes(desk: Desk, clock: MovableClock, ticket: dict, count: int) -> list[str]:
    """``count`` notes a second apart, every third one private; their bodies in order."""
    bodies = []
    for position in range(count):
        clock.advance(seconds=1)
        body = f"Note {position}"
        response = desk.api.post(
            f"/api/tickets/{ticket['id']}/notes", {"body": body, "public": position % 3 != 2}
        )
        assert response.status_code == 201, response.body
        bodies.append(body)
    return bodies


def bodies_of(notes: list[dict]) -> list[str]:
    return [note["body"] for note in notes]


def test_a_long_conversation_shows_the_newest_notes_and_a_cursor_to_the_older_ones(
    desk: Desk, clock: MovableClock
) -> None:
    from chalicelib.domain.ticket_notes import NOTES_SHOWN

    # GIVEN a ticket with two notes more than a ticket is shown with
    ticket = desk.ticket()
    bodies = add_notes(desk, clock, ticket, NOTES_SHOWN + 2)

    # WHEN it is read
    detail = desk.api.get(f"/api/tickets/{ticket['id']}").data

    # THEN it holds the newest notes, oldest first, and every note is counted
    assert bodies_of(detail["notes"]) == bodies[2:]
    assert detail["note_count"] == NOTES_SHOWN + 2
    # AND its cursor leads to the two before them, after which nothing is older
    older = desk.api.get(f"/api/tickets/{ticket['id']}/notes?cursor={detail['notes_cursor']}")
    assert older.status_code == 200, older.body
    assert bodies_of(older.data["items"]) == bodies[:2]
    assert older.data["next_cursor"] is None


def test_a_conversation_that_just_fits_has_no_cursor_to_an_empty_page(
    desk: Desk, clock: MovableClock
) -> None:
    from chalicelib.domain.ticket_notes import NOTES_SHOWN

    ticket = desk.ticket()
    bodies = add_notes(desk, clock, ticket, NOTES_SHOWN)

    detail = desk.api.get(f"/api/tickets/{ticket['id']}").data

    assert bodies_of(detail["notes"]) == bodies
    assert detail["notes_cursor"] is None


def test_notes_page_back_in_time_each_page_oldest_first(desk: Desk, clock: MovableClock) -> None:
    ticket = desk.ticket()
    bodies = add_notes(desk, clock, ticket, 5)

    pages: list[list[str]] = []
    url = f"/api/tickets/{ticket['id']}/notes?limit=2"
    while url:
        response = desk.api.get(url)
        assert response.status_code == 200, response.body
        pages.append(bodies_of(response.data["items"]))
        cursor = response.data["next_cursor"]
        url = f"/api/tickets/{ticket['id']}/notes?limit=2&cursor={cursor}" if cursor else ""
        assert len(pages) <= 3, "the cursor never ran out"

    assert pages == [bodies[3:5], bodies[1:3], bodies[0:1]]


def test_a_notes_cursor_works_only_on_its_own_ticket(desk: Desk, clock: MovableClock) -> None:
    first, second = desk.ticket(), desk.ticket()
    add_notes(desk, clock, first, 3)
    add_notes(desk, clock, second, 3)
    cursor = desk.api.get(f"/api/tickets/{first['id']}/notes?limit=1").data["next_cursor"]
    assert cursor

    response = desk.api.get(f"/api/tickets/{second['id']}/notes?limit=1&cursor={cursor}")

    assert response.status_code == 422, response.body
    assert response.data["error"]["field"] == "cursor"


@pytest.mark.parametrize(
    ("query", "field"),
    [("limit=0", "limit"), ("limit=101", "limit"), ("cursor=forged", "cursor"), ("order=old", "order")],
)
def test_bad_notes_page_parameters_are_422_naming_them(desk: Desk, query: str, field: str) -> None:
    ticket = desk.ticket()

    response = desk.api.get(f"/api/tickets/{ticket['id']}/notes?{query}")

    assert response.status_code == 422, response.body
    assert response.data["error"]["field"] == field


@pytest.mark.parametrize("ticket_id", ["abc", "999999", "01001"])
def test_the_notes_of_no_ticket_are_404(desk: Desk, ticket_id: str) -> None:
    desk.ticket()

    response = desk.api.get(f"/api/tickets/{ticket_id}/notes")

    assert response.status_code == 404, response.body
    assert response.data["error"]["code"] == "not_found"


def test_the_public_view_of_a_conversation_never_holds_a_private_note(
    desk: Desk, clock: MovableClock
) -> None:
    from chalicelib.domain import ticket_notes

    # GIVEN a ticket with public and private notes, every third one private
    ticket = desk.ticket()
    bodies = add_notes(desk, clock, ticket, 8)
    public = [body for position, body in enumerate(bodies) if position % 3 != 2]

    # WHEN the customer's view reads it three notes at a time, then pages back
    conversation = ticket_notes.get_with_notes(ticket["number"], public_only=True, limit=3)
    pages = [[note.body for note in conversation.notes]]
    cursor = conversation.notes_cursor
    while cursor is not None:
        notes, cursor = ticket_notes.notes_page(ticket["number"], 3, cursor, public_only=True)
        pages.append([note.body for note in notes])
        assert len(pages) <= 3, "the cursor never ran out"

    # THEN every public note shows once, in order, and no private one ever does
    assert [body for page in reversed(pages) for body in page] == public
    assert all(len(page) <= 3 for page in pages)


def test_a_staff_notes_cursor_does_not_open_the_public_view(desk: Desk, clock: MovableClock) -> None:
    from chalicelib.domain import ticket_notes
    from chalicelib.errors import InvalidInput

    ticket = desk.ticket()
    add_notes(desk, clock, ticket, 3)
    staff_cursor = ticket_notes.get_with_notes(ticket["number"], limit=1).notes_cursor
    assert staff_cursor

    with pytest.raises(InvalidInput) as refused:
        ticket_notes.notes_page(ticket["number"], 3, staff_cursor, public_only=True)

    assert refused.value.field == "cursor"


@pytest.mark.parametrize(
    "ticket_id", ["abc", "12a", "-1", "0", "999999", "1" * 11, "1.5", "%C2%B2", "%D9%A1%D9%A0%D9%A0%D9%A1"]
)
def test_a_ticket_id_that_is_not_a_known_number_is_404(desk: Desk, ticket_id: str) -> None:
    desk.ticket()

    response = desk.api.get(f"/api/tickets/{ticket_id}")

    assert response.status_code == 404
    assert response.data["error"]["code"] == "not_found"


# -- edits ---------------------------------------------------------------------------


def patch(desk: Desk, ticket: dict, **fields: object) -> object:
    return desk.api.patch(f"/api/tickets/{ticket['id']}", fields)


def test_moving_to_a_closed_status_closes_the_ticket(desk: Desk, clock: MovableClock) -> None:
    ticket = desk.ticket()
    closed_at = clock.advance(hours=3)

    response = patch(desk, ticket, status_id=desk.statuses["solved"], version=ticket["version"])

    assert response.status_code == 200, response.body
    assert response.data["status_id"] == desk.statuses["solved"]
    assert response.data["closed"] is True
    assert at(response.data["closed_at"]) == closed_at
    assert response.data["version"] == ticket["version"] + 1
    stored = desk.api.get(f"/api/tickets/{ticket['id']}").data
    assert (stored["closed"], stored["closed_at"], stored["version"]) == (
        True,
        response.data["closed_at"],
        ticket["version"] + 1,
    )


def test_reopening_clears_closed_and_closed_at(desk: Desk) -> None:
    ticket = desk.ticket(status_id=desk.statuses["solved"])

    response = patch(desk, ticket, status_id=desk.statuses["waiting"], version=ticket["version"])

    assert response.status_code == 200, response.body
    assert response.data["closed"] is False
    assert response.data["closed_at"] is None
    assert desk.api.get(f"/api/tickets/{ticket['id']}").data["closed_at"] is None


def test_changing_the_service_level_recomputes_due_dates_from_creation(
    desk: Desk, clock: MovableClock
) -> None:
    ticket = desk.ticket("cleo")
    created = at(ticket["created_at"])
    clock.advance(hours=5)

    response = patch(desk, ticket, service_level_id=desk.levels["standard"], version=ticket["version"])

    assert response.status_code == 200, response.body
    assert at(response.data["response_due_at"]) == created + timedelta(hours=8)
    assert at(response.data["resolution_due_at"]) == created + timedelta(hours=72)


def test_removing_the_service_level_removes_due_dates(desk: Desk) -> None:
    ticket = desk.ticket("cleo")

    response = patch(desk, ticket, service_level_id=None, version=ticket["version"])

    assert response.status_code == 200, response.body
    stored = desk.api.get(f"/api/tickets/{ticket['id']}").data
    assert (stored["service_level_id"], stored["response_due_at"], stored["resolution_due_at"]) == (
        None,
        None,
        None,
    )


def test_assigning_needs_an_active_staff_member_and_null_unassigns(desk: Desk, agent: Api) -> None:
    ticket = desk.ticket()
    agent_id = _staff_id(desk, "agent@example.com")

    assigned = patch(desk, ticket, assignee_id=agent_id, version=ticket["version"])
    assert assigned.status_code == 200, assigned.body
    assert assigned.data["assignee_id"] == agent_id

    unassigned = patch(desk, ticket, assignee_id=None, version=assigned.data["version"])
    assert unassigned.status_code == 200, unassigned.body
    assert unassigned.data["assignee_id"] is None
    assert desk.api.get(f"/api/tickets/{ticket['id']}").data["assignee_id"] is None


def _staff_id(desk: Desk, email: str) -> str:
    members = desk.api.get("/api/staff").data["items"]
    return next(member["id"] for member in members if member["email"] == email)


@pytest.mark.parametrize("assignee", ["nobody-has-this-id", "inactive", "bad id!"])
def test_assigning_to_anyone_but_an_active_staff_member_is_422(desk: Desk, assignee: str) -> None:
    ticket = desk.ticket()
    if assignee == "inactive":
        member = desk.created(
            "/api/staff",
            {"email": "gone@example.com", "name": "Gone", "role": "agent", "password": ADMIN_PASSWORD},
        )
        deactivated = desk.api.patch(
            f"/api/staff/{member['id']}", {"active": False, "version": member["version"]}
        )
        assert deactivated.status_code == 200, deactivated.body
        assignee = member["id"]

    response = patch(desk, ticket, assignee_id=assignee, version=ticket["version"])

    assert response.status_code == 422, response.body
    assert response.data["error"]["field"] == "assignee_id"
    assert desk.api.get(f"/api/tickets/{ticket['id']}").data["assignee_id"] is None


@pytest.mark.parametrize(
    ("field", "collection"),
    [("status_id", "statuses"), ("category_id", "categories"), ("service_level_id", "levels")],
)
def test_editing_to_an_unknown_setup_entry_is_422(desk: Desk, field: str, collection: str) -> None:
    ticket = desk.ticket()

    response = patch(desk, ticket, **{field: "doesnotexist", "version": ticket["version"]})

    assert response.status_code == 422, response.body
    assert response.data["error"]["field"] == field


def test_an_edit_with_a_stale_version_is_409_showing_the_other_writers_values(desk: Desk, agent: Api) -> None:
    # GIVEN two staff members who read the same version
    ticket = desk.ticket()
    read_version = ticket["version"]

    # WHEN the agent changes the status first
    first = agent.patch(
        f"/api/tickets/{ticket['id']}", {"status_id": desk.statuses["waiting"], "version": read_version}
    )
    assert first.status_code == 200, first.body

    # THEN the admin's edit from the old version is refused, showing what the agent did
    second = patch(desk, ticket, category_id=desk.categories["billing"], version=read_version)
    assert second.status_code == 409
    error = second.data["error"]
    assert error["code"] == "stale_version"
    assert error["field"] == "version"
    assert error["current"]["status_id"] == desk.statuses["waiting"]
    assert error["current"]["version"] == read_version + 1
    stored = desk.api.get(f"/api/tickets/{ticket['id']}").data
    assert stored["category_id"] is None
    assert stored["status_id"] == desk.statuses["waiting"]


def test_a_note_added_meanwhile_does_not_make_an_edit_stale(desk: Desk, agent: Api) -> None:
    # GIVEN a ticket edited once already, so its version is past the first
    ticket = desk.ticket()
    edited = patch(desk, ticket, category_id=desk.categories["technical"], version=ticket["version"])
    assert edited.status_code == 200, edited.body
    read_version = edited.data["version"]

    # WHEN an agent adds notes after the admin read it
    for public in (True, False):
        note = agent.post(f"/api/tickets/{ticket['id']}/notes", {"body": "Called them.", "public": public})
        assert note.status_code == 201, note.body

    # THEN the version is unchanged and the admin's status edit still applies
    assert desk.api.get(f"/api/tickets/{ticket['id']}").data["version"] == read_version
    response = patch(desk, ticket, status_id=desk.statuses["solved"], version=read_version)
    assert response.status_code == 200, response.body
    assert response.data["closed"] is True
    assert response.data["note_count"] == 2
    assert response.data["version"] == read_version + 1


def test_a_note_does_not_let_an_older_version_overwrite_a_newer_edit(desk: Desk) -> None:
    ticket = desk.ticket()
    edited = patch(desk, ticket, status_id=desk.statuses["waiting"], version=ticket["version"])
    desk.api.post(f"/api/tickets/{ticket['id']}/notes", {"body": "Note.", "public": False})

    stale = patch(desk, ticket, status_id=desk.statuses["solved"], version=ticket["version"])

    assert stale.status_code == 409, stale.body
    assert stale.data["error"]["current"]["version"] == edited.data["version"]


@pytest.mark.parametrize("version", ["missing", None, "1", 0, True])
def test_an_edit_without_a_valid_version_is_422(desk: Desk, version: object) -> None:
    ticket = desk.ticket()
    body: dict = {"status_id": desk.statuses["waiting"]}
    if version != "missing":
        body["version"] = version

    response = desk.api.patch(f"/api/tickets/{ticket['id']}", body)

    assert response.status_code == 422, response.body
    assert response.data["error"]["field"] == "version"


def test_an_edit_with_an_unknown_field_is_422(desk: Desk) -> None:
    ticket = desk.ticket()

    response = patch(desk, ticket, subject="Changed", version=ticket["version"])

    assert response.status_code == 422
    assert response.data["error"]["field"] == "subject"


@pytest.mark.parametrize("ticket_id", ["abc", "999999"])
def test_editing_an_unknown_ticket_is_404(desk: Desk, ticket_id: str) -> None:
    response = desk.api.patch(f"/api/tickets/{ticket_id}", {"status_id": desk.statuses["new"], "version": 1})

    assert response.status_code == 404


def test_an_edit_that_changes_nothing_keeps_the_version(desk: Desk) -> None:
    ticket = desk.ticket()

    response = patch(desk, ticket, status_id=ticket["status_id"], version=ticket["version"])

    assert response.status_code == 200, response.body
    assert response.data["version"] == ticket["version"]


# -- notes ---------------------------------------------------------------------------


def test_notes_are_stored_public_or_private_with_their_author(desk: Desk, clock: MovableClock) -> None:
    ticket = desk.ticket()
    clock.advance(minutes=10)

    public = desk.api.post(f"/api/tickets/{ticket['id']}/notes", {"body": "Visible.", "public": True})
    private = desk.api.post(f"/api/tickets/{ticket['id']}/notes", {"body": "Internal.", "public": False})

    assert public.status_code == 201, public.body
    assert (public.data["body"], public.data["public"]) == ("Visible.", True)
    assert (private.data["body"], private.data["public"]) == ("Internal.", False)
    assert at(public.data["created_at"]) == clock.now()
    stored = desk.api.get(f"/api/tickets/{ticket['id']}").data
    assert {note["id"] for note in stored["notes"]} == {public.data["id"], private.data["id"]}
    assert at(stored["updated_at"]) == clock.now()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"body": "x"}, "public"),
        ({"public": True}, "body"),
        ({"body": "x", "public": "yes"}, "public"),
        ({"body": "x", "public": True, "author": "me"}, "author"),
    ],
)
def test_a_note_with_bad_fields_is_422(desk: Desk, body: dict, field: str) -> None:
    ticket = desk.ticket()

    response = desk.api.post(f"/api/tickets/{ticket['id']}/notes", body)

    assert response.status_code == 422, response.body
    assert response.data["error"]["field"] == field
    assert len(partition_items(ticket["number"])) == 1


def test_a_note_on_an_unknown_ticket_is_404_and_leaves_nothing_behind(desk: Desk) -> None:
    number = desk.ticket()["number"] + 1

    response = desk.api.post(f"/api/tickets/{number}/notes", {"body": "Hello?", "public": True})

    assert response.status_code == 404, response.body
    assert partition_items(number) == []


def test_a_caller_without_a_token_learns_nothing_about_body_or_ticket(anonymous):
    # Authentication comes first: no 400 for a broken body, no 404 for a bad number.
    responses = [
        anonymous.post("/api/tickets", "{not json"),
        anonymous.patch("/api/tickets/abc", "{not json"),
        anonymous.post("/api/tickets/999999/notes", {"body": "x", "public": True}),
        anonymous.get("/api/tickets/abc"),
    ]

    assert [response.status_code for response in responses] == [401, 401, 401, 401]


def test_ticket_routes_refuse_unknown_query_parameters(admin):
    response = admin.get("/api/tickets/1000?debug=1")

    assert response.status_code == 422
    assert response.data["error"]["field"] == "debug"


def test_a_ticket_number_with_leading_zeros_is_not_found(admin):
    contact = admin.post("/api/contacts", {"name": "Zed", "email": "zed@example.com"}).data
    ticket = admin.post("/api/tickets", {"contact_id": contact["id"], "subject": "s", "body": "b"}).data

    assert admin.get(f"/api/tickets/{ticket['number']}").status_code == 200
    assert admin.get(f"/api/tickets/0{ticket['number']}").status_code == 404
