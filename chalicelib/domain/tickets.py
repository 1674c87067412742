"""Tickets and their notes.

A ticket's partition (``TICKET#<number>``) holds the ticket and its notes, so one query
reads a whole conversation. The ticket number is the id: numbers come from an atomic
counter, are never reused, and a gap is left only when a creation fails after taking one.
Every list the staff need is a global index whose keys the ticket item carries; this
module is the one place that computes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NoReturn

from pynamodb.exceptions import PutError, TransactWriteError, UpdateError

from chalicelib import clock
from chalicelib.domain.setup import SetupConfig
from chalicelib.errors import InvalidInput, NotFound, StaleVersion
from chalicelib.store.cursor import decode_cursor, encode_cursor
from chalicelib.store.db import condition_failed, get_one, transaction, update_unversioned
from chalicelib.store.models import Contact, Counter, Item, Note, Staff, Ticket, ticket_index
from chalicelib.validation import Field, boolean, identifier, integer, parse_fields, text

FIRST_NUMBER = 1000
SOURCES = ("staff", "portal", "website")
# First part of the priority sort key: "0" sorts before "1", so open tickets come first.
STATE_PREFIX = {"open": "0", "closed": "1"}

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
NOTE_SPEC = {
    "body": Field(text(20_000, multiline=True), required=True),
    "public": Field(boolean, required=True),
}


@dataclass(frozen=True)
class Author:
    kind: str  # "staff" or "contact"
    id: str
    name: str


def parse_number(value: str) -> int:
    """The ticket number in a path or query; anything else is simply not found."""
    # ASCII only: str.isdigit() also accepts digits like "²" that int() refuses or other
    # scripts' digits that int() reads as a different ticket's number.
    # Canonical form only (no leading zeros): one ticket, one URL.
    if not (value.isascii() and value.isdigit()) or len(value) > 10 or value != str(int(value)):
        raise NotFound("No ticket has this number.")
    return int(value)


# -- derived keys --------------------------------------------------------------------


def _index_keys(ticket: Ticket, config: SetupConfig) -> dict[str, Any]:
    """The index attributes that place a ticket in every staff list."""
    number = f"{ticket.number:010d}"
    due = clock.iso(ticket.resolution_due_at) if ticket.resolution_due_at else "9999"
    state = STATE_PREFIX["closed" if ticket.closed else "open"]
    return {
        "all_pk": "TICKETS",
        "status_pk": f"STATUS#{ticket.status_id or 'none'}",
        "category_pk": f"CATEGORY#{ticket.category_id or 'none'}",
        "sl_pk": f"SERVICE_LEVEL#{ticket.service_level_id or 'none'}",
        "assignee_pk": f"ASSIGNEE#{ticket.assignee_id or 'none'}",
        "contact_pk": f"CONTACT#{ticket.contact_id}",
        # Open tickets first, then by service level rank, then by due date.
        "prio_sk": f"{state}#{config.rank(ticket.service_level_id):04d}#{due}#{number}",
        "new_sk": f"{clock.iso(ticket.created_at)}#{number}",
        # Only open tickets with a target are in the overdue index.
        "open_pk": "OPEN" if not ticket.closed and ticket.resolution_due_at else None,
        "due_sk": f"{due}#{number}" if not ticket.closed and ticket.resolution_due_at else None,
    }


def _apply_service_level(ticket: Ticket, config: SetupConfig) -> None:
    level = config.entry("service_levels", ticket.service_level_id)
    if level is None:
        ticket.response_due_at = None
        ticket.resolution_due_at = None
        return
    ticket.response_due_at = ticket.created_at + timedelta(hours=int(level["response_hours"]))
    ticket.resolution_due_at = ticket.created_at + timedelta(hours=int(level["resolution_hours"]))


def is_overdue(ticket: Ticket, moment: datetime | None = None) -> bool:
    due = ticket.resolution_due_at
    return bool(due and not ticket.closed and due < (moment or clock.now()))


# -- presentation --------------------------------------------------------------------


def present(ticket: Ticket) -> dict[str, Any]:
    return {
        "id": str(ticket.number),
        "number": ticket.number,
        "subject": ticket.subject,
        "body": ticket.body,
        "source": ticket.source,
        "contact_id": ticket.contact_id,
        "category_id": ticket.category_id,
        "service_level_id": ticket.service_level_id,
        "status_id": ticket.status_id,
        "assignee_id": ticket.assignee_id,
        "closed": ticket.closed,
        "overdue": is_overdue(ticket),
        "created_by": ticket.created_by,
        "created_at": ticket.created_at,
        "updated_at": ticket.updated_at,
        "closed_at": ticket.closed_at,
        "response_due_at": ticket.response_due_at,
        "resolution_due_at": ticket.resolution_due_at,
        "note_count": ticket.note_count,
        "version": ticket.version,
    }


def present_note(note: Note) -> dict[str, Any]:
    return {
        "id": note.id,
        "body": note.body,
        "public": note.public,
        "author": {"type": note.author_type, "id": note.author_id, "name": note.author_name},
        "created_at": note.created_at,
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
) -> Ticket:
    """Create a ticket for ``contact`` (already read by the caller with its other reads)."""
    values = parse_fields(body, CREATE_SPEC)
    if not isinstance(contact, Contact) or contact.id != values["contact_id"]:
        raise InvalidInput("'contact_id' names no existing contact.", field="contact_id")
    return open_ticket(config, contact, values, source=source, created_by=created_by)


def open_ticket(
    config: SetupConfig, contact: Contact, values: dict[str, Any], *, source: str, created_by: str
) -> Ticket:
    """Store a new ticket from already validated ``values``: two writes."""
    for name, collection in (
        ("category_id", "categories"),
        ("service_level_id", "service_levels"),
        ("status_id", "statuses"),
    ):
        if values.get(name):
            config.require(collection, values[name], name)

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
        category_id=values.get("category_id"),
        service_level_id=service_level_id,
        status_id=status_id,
        assignee_id=None,
        closed=config.is_closed(status_id),
        created_by=created_by,
        created_at=moment,
        updated_at=moment,
        closed_at=moment if config.is_closed(status_id) else None,
        note_count=0,
    )
    _apply_service_level(ticket, config)
    for name, value in _index_keys(ticket, config).items():
        setattr(ticket, name, value)
    ticket.save(condition=Ticket.pk.does_not_exist())
    return ticket


# -- reading -------------------------------------------------------------------------


def get_with_notes(number: int, *, public_only: bool = False) -> tuple[Ticket, list[Note]]:
    """The ticket and its notes, oldest first, in one query."""
    ticket: Ticket | None = None
    notes: list[Note] = []
    for item in Item.query(Ticket.partition(number)):
        if isinstance(item, Ticket):
            ticket = item
        elif isinstance(item, Note) and (item.public or not public_only):
            notes.append(item)
    if ticket is None:
        raise NotFound("No ticket has this number.")
    return ticket, notes


def find_by_number(number: int) -> Ticket | None:
    found = get_one(Ticket.key(number))
    return found if isinstance(found, Ticket) else None


@dataclass(frozen=True)
class TicketQuery:
    """A staff list: at most one indexed filter, the rest applied while reading."""

    status_id: str | None = None
    category_id: str | None = None
    service_level_id: str | None = None
    assignee_id: str | None = None
    contact_id: str | None = None
    overdue: bool = False
    state: str | None = None  # "open", "closed" or None for both
    order: str = "priority"

    # Filter -> (index dimension, attribute holding the id), in order of selectivity.
    _DIMENSIONS = (
        ("contact_id", "contact"),
        ("assignee_id", "assignee"),
        ("status_id", "status"),
        ("category_id", "category"),
        ("service_level_id", "service_level"),
    )

    def plan(self) -> tuple[str, Any, Any, Any]:
        """(scope, index, partition value, range condition); filters are in ``filter``."""
        if self.overdue:
            condition = Item.due_sk < f"{clock.iso(clock.now())}"
            return ("overdue", Item.open_due, "OPEN", condition)
        for field_name, dimension in self._DIMENSIONS:
            value = getattr(self, field_name)
            if value is not None:
                return self._indexed(dimension, value)
        return self._indexed("all", None)

    def _indexed(self, dimension: str, value: str | None) -> tuple[str, Any, Any, Any]:
        prefixes = {
            "all": "TICKETS",
            "contact": "CONTACT#",
            "assignee": "ASSIGNEE#",
            "status": "STATUS#",
            "category": "CATEGORY#",
            "service_level": "SERVICE_LEVEL#",
        }
        partition = prefixes[dimension] if dimension == "all" else f"{prefixes[dimension]}{value or 'none'}"
        condition = None
        if self.order == "priority" and self.state in ("open", "closed"):
            condition = Item.prio_sk.startswith(f"{STATE_PREFIX[self.state]}#")
        return (f"{dimension}-{self.order}", ticket_index(dimension, self.order), partition, condition)

    def filter(self, indexed: str) -> Any:
        """Conditions for the filters the chosen index does not cover."""
        conditions = []
        attributes = {
            "contact_id": Ticket.contact_id,
            "assignee_id": Ticket.assignee_id,
            "status_id": Ticket.status_id,
            "category_id": Ticket.category_id,
            "service_level_id": Ticket.service_level_id,
        }
        for field_name, dimension in self._DIMENSIONS:
            value = getattr(self, field_name)
            if value is None or indexed.startswith(f"{dimension}-"):
                continue
            attribute = attributes[field_name]
            conditions.append(attribute.does_not_exist() if value == "none" else attribute == value)
        if self.state and (self.order != "priority" or indexed == "overdue"):
            conditions.append(Ticket.closed == (self.state == "closed"))
        combined = None
        for condition in conditions:
            combined = condition if combined is None else combined & condition
        return combined


def list_page(query: TicketQuery, limit: int, cursor: str | None) -> tuple[list[Ticket], str | None]:
    """One page of a staff list and the cursor of the next; one query."""
    indexed, index, partition, condition = query.plan()
    # The cursor is bound to the whole query: it cannot be replayed on another list.
    scope = f"tickets|{indexed}|{partition}|{query!r}"
    pages = index.query(
        partition,
        condition,
        filter_condition=query.filter(indexed),
        limit=limit,
        last_evaluated_key=decode_cursor(cursor, scope),
        # Newest first; priority and due dates ascending.
        scan_index_forward=query.order != "newest",
    ).page_iter
    # Only the first page: DynamoDB reads ``limit`` items and returns those the filters keep.
    # Reading on until the page is full would cost round trips that grow with the table, so
    # a filtered page may be short, even empty, while its cursor leads on.
    raw_page = next(pages)
    found = (Item.from_raw_data(raw) for raw in raw_page.get("Items", []))
    tickets = [item for item in found if isinstance(item, Ticket)]
    return tickets, encode_cursor(pages.last_evaluated_key, scope)


def first_user(dimension: str, entry_id: str) -> str | None:
    """A ticket that refers to a setup entry, if any; one item read."""
    prefix = {"status": "STATUS#", "category": "CATEGORY#", "service_level": "SERVICE_LEVEL#"}[dimension]
    found = next(iter(ticket_index(dimension, "newest").query(f"{prefix}{entry_id}", limit=1)), None)
    return f"ticket {found.number}" if isinstance(found, Ticket) else None


# -- changes -------------------------------------------------------------------------


def _stale(number: int) -> NoReturn:
    current = find_by_number(number)
    raise StaleVersion(
        "Someone else changed this ticket since you read it; review the current values and try again.",
        current=present(current) if current else None,
    )


def update(
    config: SetupConfig, ticket: Ticket, body: dict[str, Any], assignee: Staff | None
) -> tuple[Ticket, dict[str, tuple[Any, Any]]]:
    """Apply a staff edit under the caller's version; returns the ticket and what changed."""
    values = parse_fields(body, UPDATE_SPEC, partial=True)
    if "version" not in values:
        raise InvalidInput("The field 'version' is required.", field="version")
    if ticket.version != values.pop("version"):
        _stale(ticket.number)
    for name, collection in (
        ("status_id", "statuses"),
        ("category_id", "categories"),
        ("service_level_id", "service_levels"),
    ):
        if values.get(name):
            config.require(collection, values[name], name)
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
        _apply_service_level(ticket, config)
    if "status_id" in changes:
        _sync_closed(ticket, config, moment)
    ticket.updated_at = moment

    fields: list[Any] = [
        Ticket.status_id,
        Ticket.category_id,
        Ticket.service_level_id,
        Ticket.assignee_id,
        Ticket.closed,
        Ticket.closed_at,
        Ticket.response_due_at,
        Ticket.resolution_due_at,
        Ticket.updated_at,
    ]
    actions = [_set_or_remove(attribute, getattr(ticket, attribute.attr_name)) for attribute in fields]
    for name, value in _index_keys(ticket, config).items():
        actions.append(_set_or_remove(getattr(Item, name), value))
    try:
        ticket.update(actions=actions)
    except UpdateError as exc:
        if condition_failed(exc):
            _stale(ticket.number)
        raise
    return ticket, changes


def _sync_closed(ticket: Ticket, config: SetupConfig, moment: datetime) -> None:
    """A ticket is closed exactly when its status is a closed one."""
    closing = config.is_closed(ticket.status_id)
    if closing and not ticket.closed:
        ticket.closed_at = moment
    elif not closing:
        ticket.closed_at = None
    ticket.closed = closing


def realign_with_setup(old: SetupConfig, new: SetupConfig) -> int:
    """Re-derive the state and list keys of the tickets an edited setup entry affects.

    A service level's new rank moves its open tickets in every priority list (closed ones
    sort after all open ones whatever their rank); a status that becomes closed, or open,
    closes or reopens its tickets. Runs from the stream after the edit: one query per
    changed entry, one unversioned update per ticket. Returns how many tickets changed.
    """
    targets: list[tuple[Any, str, Any]] = []
    open_only = Item.prio_sk.startswith(f"{STATE_PREFIX['open']}#")
    for level_id, level in new.lists["service_levels"].items():
        before = old.entry("service_levels", level_id)
        if before is not None and before["rank"] != level["rank"]:
            targets.append(
                (ticket_index("service_level", "priority"), f"SERVICE_LEVEL#{level_id}", open_only)
            )
    for status_id, status in new.lists["statuses"].items():
        before = old.entry("statuses", status_id)
        if before is not None and before["closed"] != status["closed"]:
            targets.append((ticket_index("status", "newest"), f"STATUS#{status_id}", None))

    changed = 0
    for index, partition, condition in targets:
        for ticket in index.query(partition, condition):
            if isinstance(ticket, Ticket) and _realign(ticket, new):
                changed += 1
    return changed


def _realign(ticket: Ticket, config: SetupConfig) -> bool:
    """Rewrite one ticket's derived attributes if the setup changed them."""
    status_id, service_level_id, was_closed = ticket.status_id, ticket.service_level_id, ticket.closed
    if config.entry("statuses", status_id) is not None:
        _sync_closed(ticket, config, clock.now())
    derived = _index_keys(ticket, config)
    if ticket.closed == was_closed and all(getattr(ticket, name) == value for name, value in derived.items()):
        return False

    actions = [
        _set_or_remove(Ticket.closed, ticket.closed),
        _set_or_remove(Ticket.closed_at, ticket.closed_at),
    ]
    actions += [_set_or_remove(getattr(Item, name), value) for name, value in derived.items()]
    # Only if no edit moved the ticket meanwhile: that edit derived its keys itself.
    unchanged = (Ticket.status_id == status_id if status_id else Ticket.status_id.does_not_exist()) & (
        Ticket.service_level_id == service_level_id
        if service_level_id
        else Ticket.service_level_id.does_not_exist()
    )
    try:
        update_unversioned(Ticket.key(ticket.number), actions, unchanged)
    except UpdateError as exc:
        if condition_failed(exc):
            return False
        raise
    return True


def _set_or_remove(attribute: Any, value: Any) -> Any:
    return attribute.remove() if value is None else attribute.set(value)


def add_note(number: int, body: dict[str, Any], author: Author, *, public: bool | None = None) -> Note:
    """Add a note and touch the ticket, in one transaction. ``public`` overrides the body."""
    values = parse_fields(body, NOTE_SPEC if public is None else {"body": NOTE_SPEC["body"]})
    moment = clock.now()
    note_id = clock.new_id()
    note = Note(
        Ticket.partition(number),
        Note.sort_key(clock.iso(moment), note_id),
        ticket_number=number,
        id=note_id,
        body=values["body"],
        public=values["public"] if public is None else public,
        author_type=author.kind,
        author_id=author.id,
        author_name=author.name,
        created_at=moment,
    )
    try:
        with transaction() as writes:
            writes.save(note, condition=Note.pk.does_not_exist())
            # Notes leave the version alone: an edit of status or assignee still applies.
            writes.update_unversioned(
                Ticket.key(number),
                actions=[Ticket.updated_at.set(moment), Ticket.note_count.add(1)],
                condition=Ticket.pk.exists(),
            )
    except (TransactWriteError, PutError) as exc:
        if condition_failed(exc):
            raise NotFound("No ticket has this number.") from exc
        raise
    return note
