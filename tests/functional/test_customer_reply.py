"""A customer's reply, end to end: the note and the status move together, staff hear of it
by email (the assignee, else the shared staff address), and the customer hears nothing of
what they just did themselves."""

from __future__ import annotations

from typing import Any

import pytest
from chalice.test import Client

from chalicelib.domain import ticket_notes
from chalicelib.domain.setup import load as load_config
from chalicelib.errors import InvalidInput, NotFound
from chalicelib.store.models import Contact, Ticket
from tests.functional import test_notifications as notifying
from tests.functional.conftest import Api
from tests.functional.desk import Desk
from tests.functional.test_notifications import Outbox, deliveries
from tests.functional.test_stream_handler import StreamTap, invoke

pytestmark = pytest.mark.usefixtures("clock")

outbox = notifying.outbox
tap = notifying.tap

STAFF_DESK = "team@shop.example"


def reply_as(contact_name: str, desk: Desk, number: int, text: str) -> Any:
    """Reply the way the portal does: as the contact, on a ticket read fresh."""
    ticket = Ticket.get(*Ticket.key(number), consistent_read=True)
    contact = Contact.get(*Contact.key(desk.contacts[contact_name]))
    author = ticket_notes.Author(kind="contact", id=contact.id, name=contact.name)
    return ticket_notes.add_customer_reply(ticket, author, {"body": text}, load_config())


@pytest.fixture
def replying(desk: Desk, outbox: Outbox) -> Desk:
    """Customer replies set ``waiting``; unassigned tickets' replies go to the team address."""
    desk.put_settings(customer_reply_status_id=desk.statuses["waiting"], staff_notify_email=STAFF_DESK)
    return desk


def test_a_reply_on_an_assigned_ticket_emails_the_assignee_with_a_link_to_the_admin_page(
    client: Client, replying: Desk, tap: StreamTap, outbox: Outbox, agent: Api
) -> None:
    # GIVEN Cleo's ticket, assigned to the agent, its confirmation already sent
    ticket = replying.ticket("cleo")
    me = agent.get("/api/auth/me").data
    assigned = agent.patch(f"/api/tickets/{ticket['number']}", {"assignee_id": me["id"], "version": 1})
    assert assigned.status_code == 200, assigned.body
    invoke(client, tap.take())
    emails_before, sms_before = len(outbox.emails()), len(outbox.sms())

    # WHEN Cleo replies
    reply_as("cleo", replying, ticket["number"], "Still smoking, see photo.")
    assert invoke(client, tap.take()) == {"batchItemFailures": []}

    # THEN only the assignee hears of it, by email, with the reply and the admin link
    ((to, subject, body),) = outbox.emails()[emails_before:]
    assert to == me["email"]
    assert str(ticket["number"]) in subject
    assert "Still smoking, see photo." in body
    assert f"/admin/tickets/{ticket['number']}" in body
    assert len(outbox.sms()) == sms_before
    # AND the ticket moved to the reply status, which told Cleo nothing
    assert (
        replying.api.get(f"/api/tickets/{ticket['number']}").data["status_id"] == replying.statuses["waiting"]
    )


def test_a_reply_on_an_unassigned_ticket_goes_to_the_staff_address_and_is_logged(
    client: Client, replying: Desk, tap: StreamTap, outbox: Outbox
) -> None:
    number = replying.ticket("dana")["number"]
    invoke(client, tap.take())

    reply_as("dana", replying, number, "Any news?")
    invoke(client, tap.take())

    ((to, _, body),) = outbox.emails()[1:]
    assert to == STAFF_DESK
    assert "Any news?" in body
    # Both sends share the frozen clock's moment, so they are found by template, not order.
    logged = {item["template"]: item for item in deliveries(replying.api, number)}
    assert (logged["customer_replied"]["recipient"], logged["customer_replied"]["outcome"]) == (
        STAFF_DESK,
        "sent",
    )


def test_with_no_assignee_and_no_staff_address_a_reply_tells_nobody(
    client: Client, replying: Desk, tap: StreamTap, outbox: Outbox
) -> None:
    replying.put_settings(staff_notify_email=None)
    number = replying.ticket("dana")["number"]
    invoke(client, tap.take())

    reply_as("dana", replying, number, "Hello?")
    invoke(client, tap.take())

    assert len(outbox.emails()) == 1  # the confirmation only


def test_a_reply_on_a_closed_ticket_reopens_it_and_a_stale_staff_edit_is_refused(
    client: Client, replying: Desk, tap: StreamTap, outbox: Outbox
) -> None:
    # GIVEN a solved ticket, read by staff before the customer answers
    ticket = replying.ticket("dana")
    solved = replying.api.patch(
        f"/api/tickets/{ticket['number']}", {"status_id": replying.statuses["solved"], "version": 1}
    ).data
    assert solved["closed"] is True

    # WHEN the customer replies
    reply_as("dana", replying, ticket["number"], "It broke again.")

    # THEN the ticket is open again in the reply status, with one more note
    now = replying.api.get(f"/api/tickets/{ticket['number']}").data
    assert (now["status_id"], now["closed"], now["closed_at"]) == (replying.statuses["waiting"], False, None)
    assert [note["body"] for note in now["notes"]] == ["It broke again."]
    assert now["notes"][0]["public"] is True
    assert now["notes"][0]["author"]["type"] == "contact"
    # AND the open list finds it again
    open_numbers = [item["number"] for item in replying.api.get("/api/tickets?state=open").data["items"]]
    assert ticket["number"] in open_numbers
    # AND the staff edit based on the solved version is refused instead of closing it again
    stale = replying.api.patch(
        f"/api/tickets/{ticket['number']}",
        {"status_id": replying.statuses["solved"], "version": solved["version"]},
    )
    assert stale.status_code == 409


def test_a_reply_racing_a_staff_edit_reads_the_ticket_again_and_keeps_both(
    client: Client, replying: Desk, tap: StreamTap, outbox: Outbox
) -> None:
    # GIVEN the portal read the ticket, then staff assigned a category
    number = replying.ticket("cleo")["number"]
    read_by_portal = Ticket.get(*Ticket.key(number), consistent_read=True)
    edited = replying.api.patch(
        f"/api/tickets/{number}", {"category_id": replying.categories["billing"], "version": 1}
    )
    assert edited.status_code == 200

    # WHEN the reply is saved from the older read
    cleo = Contact.get(*Contact.key(replying.contacts["cleo"]))
    author = ticket_notes.Author(kind="contact", id=cleo.id, name=cleo.name)
    ticket_notes.add_customer_reply(read_by_portal, author, {"body": "Thanks"}, load_config())

    # THEN both the staff edit and the reply's status hold
    now = replying.api.get(f"/api/tickets/{number}").data
    assert now["category_id"] == replying.categories["billing"]
    assert now["status_id"] == replying.statuses["waiting"]
    assert now["version"] == 3
    assert [note["body"] for note in now["notes"]] == ["Thanks"]


def test_an_empty_reply_is_refused_naming_the_field_and_writes_nothing(
    client: Client, replying: Desk, tap: StreamTap, outbox: Outbox
) -> None:
    number = replying.ticket("cleo")["number"]

    with pytest.raises(InvalidInput) as refused:
        reply_as("cleo", replying, number, "   ")

    assert refused.value.field == "body"
    now = replying.api.get(f"/api/tickets/{number}").data
    assert (now["notes"], now["status_id"]) == ([], replying.statuses["new"])


def test_a_reply_to_a_ticket_deleted_meanwhile_is_not_found(
    client: Client, replying: Desk, tap: StreamTap, outbox: Outbox
) -> None:
    number = replying.ticket("cleo")["number"]
    read = Ticket.get(*Ticket.key(number), consistent_read=True)
    read.delete()

    cleo = Contact.get(*Contact.key(replying.contacts["cleo"]))
    with pytest.raises(NotFound):
        ticket_notes.add_customer_reply(
            read, ticket_notes.Author("contact", cleo.id, cleo.name), {"body": "Hi"}, load_config()
        )
