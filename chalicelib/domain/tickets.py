"""Tickets: creation, staff edits under a version, and how a ticket is shown.

A ticket's partition (``TICKET#<number>``) holds the ticket and its notes. The ticket
number is the id: numbers come from an atomic counter, are never reused, and a gap is left
only when a creation fails after taking one. Elsewhere: notes and reading a conversation in
``ticket_notes``, the keys that place a ticket in the staff lists in ``ticket_keys``, the
lists themselves in ``ticket_lists``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, NoReturn

from pynamodb.exceptions import PutError, TransactWriteError, UpdateError

from chalicelib import clock
from chalicelib.domain import contacts
from chalicelib.domain.contacts import NewContact
from chalicelib.domain.setup import SetupConfig
from chalicelib.domain.ticket_changes import new_change
from chalicelib.domain.ticket_keys import index_keys, key_actions, sync_closed
from chalicelib.domain.ticket_notes import Author, NoteDraft
from chalicelib.errors import Conflict, InvalidInput, NotFound, StaleVersion
from chalicelib.store.db import condition_failed, get_one, set_or_remove, transaction
from chalicelib.store.models import Change, Contact, Counter, Item, Staff, Ticket
from chalicelib.validation import Field, identifier, integer, parse_fields, text

FIRST_NUMBER = 1000
# Ticket fields that name a setup entry, and the setup list that entry must be in.
SETUP_REFERENCES = {
    "status_id": "statuses",
    "category_id": "categories",
    "service_level_id": "service_levels",
}

CREATE_SPEC = {
    "contact_id": Field(identifier, required=True),
    "subject": Field(text(200), required=True),
    "body": Field(text(20_000, multiline=True), required=True),
    "category_id": Field(identifier, nullable=True),
    "service_level_id": Field(identifier, nullable=True),
    "status_id": Field(identifier, nullable=True),
}
UPDATE_SPEC = {
    "status_id": Field(identifier),
    "category_id": Field(identifier, nullable=True),
    "service_level_id": Field(identifier, nullable=True),
    "assignee_id": Field(identifier, nullable=True),
    "version": Field(integer(1, 2**53), required=True),
}


def parse_number(value: str) -> int:
    """The ticket number in a path or query; anything else is simply not found."""
    # ASCII only: str.isdigit() also accepts digits like "²" that int() refuses or other
    # scripts' digits that int() reads as a different ticket's number.
    # Canonical form only (no leading zeros): one ticket, one URL.
    if not (value.isascii() and value.isdigit()) or len(value) > 10 or value != str(int(value)):
        raise NotFound("No ticket has this number.")
    return int(value)


def number_or_none(value: str) -> int | None:
    """``parse_number``, with None for a value that is no ticket number: for routes that
    sign in first and only then answer that the ticket is not found."""
    try:
        return parse_number(value)
    except NotFound:
        return None


# -- derived values ------------------------------------------------------------------


def apply_service_level(ticket: Ticket, config: SetupConfig) -> None:
    """Set the due dates from the ticket's service level, counted from its creation.

    Counting from creation (not from the edit) keeps a ticket's promise honest when its
    level changes later; a ticket without a level has no targets, so it is never overdue.
    """
    level = config.entry("service_levels", ticket.service_level_id)
    if level is None:
        ticket.response_due_at = None
        ticket.resolution_due_at = None
        return
    ticket.response_due_at = ticket.created_at + timedelta(hours=int(level["response_hours"]))
    ticket.resolution_due_at = ticket.created_at + timedelta(hours=int(level["resolution_hours"]))


def is_overdue(ticket: Ticket, moment: datetime | None = None) -> bool:
    """Open and past its resolution target: computed on read, since it changes with time alone."""
    due = ticket.resolution_due_at
    return bool(due and not ticket.closed and due < (moment or clock.now()))


def _require_setup_entries(config: SetupConfig, values: dict[str, Any]) -> None:
    """422 naming the field for any given id that names no entry of its setup list."""
    for name, collection in SETUP_REFERENCES.items():
        if values.get(name):
            config.require(collection, values[name], name)


# -- presentation --------------------------------------------------------------------


def customer_status(config: SetupConfig, ticket: Ticket) -> str:
    """The status as the customer sees it: its customer label, never the staff's name."""
    status = config.entry("statuses", ticket.status_id)
    if status and status.get("customer_label"):
        return str(status["customer_label"])
    return "Closed" if ticket.closed else "Open"


def present(ticket: Ticket) -> dict[str, Any]:
    """The staff view of a ticket, as every ticket answer and list shows it."""
    return {
        "id": str(ticket.number),
        "number": ticket.number,
        "subject": ticket.subject,
        "body": ticket.body,
        "source": ticket.source,
        "contact_id": ticket.contact_id,
        "contact_name": ticket.contact_name,
        "category_id": ticket.category_id,
        "service_level_id": ticket.service_level_id,
        "status_id": ticket.status_id,
        "assignee_id": ticket.assignee_id,
        "assignee_name": ticket.assignee_name,
        "closed": ticket.closed,
        "overdue": is_overdue(ticket),
        "created_by": ticket.created_by,
        "created_at": ticket.created_at,
        "updated_at": ticket.updated_at,
        "closed_at": ticket.closed_at,
        "response_due_at": ticket.response_due_at,
        "resolution_due_at": ticket.resolution_due_at,
        "note_count": ticket.note_count,
        # Unset on a ticket no notification about has failed.
        "failed_deliveries": ticket.failed_deliveries or 0,
        "version": ticket.version,
    }


# -- creation ------------------------------------------------------------------------


def _next_number() -> int:
    counter = Counter(*Counter.ticket_number_key())
    # One atomic ADD: concurrent creations each get their own number.
    counter.update(actions=[Counter.value.add(1), Counter.kind.set(Counter)])
    return FIRST_NUMBER + int(counter.value)


def create(
    config: SetupConfig,
    contact: Contact | None,
    body: dict[str, Any],
    *,
    source: str,
    created_by: str,
    first_note: NoteDraft | None = None,
    new_contact: NewContact | None = None,
) -> Ticket:
    """Create a ticket for ``contact``, which the caller read with its other reads (the
    API's auth batch), so creation costs no read of its own; or for ``new_contact``, written
    with the ticket (see ``open_ticket``)."""
    values = parse_fields(body, CREATE_SPEC)
    if new_contact is not None:
        contact = new_contact.contact
    if not isinstance(contact, Contact) or contact.id != values["contact_id"]:
        raise InvalidInput("'contact_id' names no existing contact.", field="contact_id")
    return open_ticket(
        config,
        contact,
        values,
        source=source,
        created_by=created_by,
        first_note=first_note,
        new_contact=new_contact,
    )


def open_ticket(
    config: SetupConfig,
    contact: Contact,
    values: dict[str, Any],
    *,
    source: str,
    created_by: str,
    first_note: NoteDraft | None = None,
    new_contact: NewContact | None = None,
) -> Ticket:
    """Store a new ticket from already validated ``values``: two writes, the number and
    then the ticket, with its ``first_note`` and its ``new_contact`` (the contact and its
    email claim, not written yet) in the same transaction, so no outage leaves a new contact
    without the ticket it came with. ``Conflict`` on ``email`` if the address was claimed
    meanwhile; the number drawn is then left unused.

    Separate from ``create`` so other surfaces (the portal, the website form) that validate
    their own bodies share the defaults, due dates and keys of staff-created tickets.
    With ``new_contact``, ``contact`` is its contact.
    """
    _require_setup_entries(config, values)

    service_level_id = values.get("service_level_id")
    if service_level_id is None:
        # The contact's own default, when it still exists; then the helpdesk-wide one.
        if config.entry("service_levels", contact.service_level_id):
            service_level_id = contact.service_level_id
        else:
            service_level_id = config.settings.get("default_service_level_id")
    status_id = values.get("status_id") or config.settings.get("default_status_id")

    number = _next_number()
    moment = clock.now()
    ticket = Ticket(
        *Ticket.key(number),
        number=number,
        subject=values["subject"],
        body=values["body"],
        source=source,
        contact_id=contact.id,
        contact_name=contact.name,
        category_id=values.get("category_id"),
        service_level_id=service_level_id,
        status_id=status_id,
        assignee_id=None,
        closed=config.is_closed(status_id),
        created_by=created_by,
        created_at=moment,
        updated_at=moment,
        closed_at=moment if config.is_closed(status_id) else None,
        note_count=0 if first_note is None else 1,
    )
    apply_service_level(ticket, config)
    for name, value in index_keys(ticket, config).items():
        setattr(ticket, name, value)
    if first_note is None and new_contact is None:
        ticket.save(condition=Ticket.pk.does_not_exist())
        return ticket

    try:
        with transaction() as writes:
            # Puts in this order; each only if new, the claim keeping the email unique.
            if new_contact is not None:
                writes.save(new_contact.claim, condition=Item.pk.does_not_exist())
                writes.save(new_contact.contact, condition=Item.pk.does_not_exist())
            writes.save(ticket, condition=Item.pk.does_not_exist())
            if first_note is not None:
                writes.save(first_note.to_note(number, moment), condition=Item.pk.does_not_exist())
    except TransactWriteError as exc:
        if new_contact is not None and condition_failed(exc):
            raise Conflict(contacts.TAKEN, field="email") from exc
        raise
    if new_contact is not None:
        new_contact.contact.version = 1
    return ticket


# -- reading -------------------------------------------------------------------------


def find_by_number(number: int) -> Ticket | None:
    """The ticket item alone, without its notes: one GetItem (the list's look-up by number)."""
    found = get_one(Ticket.key(number))
    return found if isinstance(found, Ticket) else None


# -- changes -------------------------------------------------------------------------


def _stale(number: int) -> NoReturn:
    current = find_by_number(number)
    raise StaleVersion(
        "Someone else changed this ticket since you read it; review the current values and try again.",
        current=present(current) if current else None,
    )


# What a staff edit may write; the index keys follow from these.
_EDITED_ATTRIBUTES = (
    Ticket.status_id,
    Ticket.category_id,
    Ticket.service_level_id,
    Ticket.assignee_id,
    Ticket.assignee_name,
    Ticket.closed,
    Ticket.closed_at,
    Ticket.response_due_at,
    Ticket.resolution_due_at,
    Ticket.updated_at,
)


def update(
    config: SetupConfig, ticket: Ticket, body: dict[str, Any], assignee: Staff | None, *, actor: Author
) -> tuple[Ticket, dict[str, tuple[Any, Any]]]:
    """Apply ``actor``'s edit under the caller's version; returns the ticket and what changed.

    The version check is the write's condition too, so two staff members editing at once
    never overwrite each other: the later one gets 409 with the current values. The edit
    and its record in the ticket's audit trail (a ``Change``) are one transaction: a
    refused edit records nothing, a saved one is never missing from the trail.
    """
    values = parse_fields(body, UPDATE_SPEC, partial=True)
    if "version" not in values:
        raise InvalidInput("The field 'version' is required.", field="version")
    if ticket.version != values.pop("version"):
        _stale(ticket.number)
    _require_setup_entries(config, values)
    if values.get("assignee_id") and (not isinstance(assignee, Staff) or not assignee.active):
        raise InvalidInput("'assignee_id' names no active staff member.", field="assignee_id")

    changes = {
        name: (getattr(ticket, name), value)
        for name, value in values.items()
        if getattr(ticket, name) != value
    }
    if not changes:
        return ticket, {}

    moment = clock.now()
    for name, (_, value) in changes.items():
        setattr(ticket, name, value)
    if "service_level_id" in changes:
        apply_service_level(ticket, config)
    if "status_id" in changes:
        sync_closed(ticket, config, moment)
    if "assignee_id" in changes:
        ticket.assignee_name = assignee.name if ticket.assignee_id and assignee is not None else None
    ticket.updated_at = moment

    actions = [
        set_or_remove(attribute, getattr(ticket, attribute.attr_name)) for attribute in _EDITED_ATTRIBUTES
    ]
    actions += key_actions(index_keys(ticket, config))
    # The new assignee's name as it is now, so the trail names them even once renamed.
    new_assignee = changes.get("assignee_id", (None, None))[1]
    names = {assignee.id: assignee.name} if assignee is not None and assignee.id == new_assignee else None
    change = new_change(ticket.number, actor, changes, moment, names)
    try:
        with transaction() as writes:
            # PynamoDB adds the version condition and its increment, and raises the local
            # version once the transaction is written.
            writes.update(ticket, actions=actions)
            writes.save(change, condition=Change.pk.does_not_exist())
    except (TransactWriteError, PutError, UpdateError) as exc:
        if condition_failed(exc):
            _stale(ticket.number)
        raise
    return ticket, changes
