"""A contact's recent activity, as the portal's overview lists it.

Listing it from the tickets would take a query of the contact's tickets by update time on
top of the overview's query of the open ones. Instead the stream handler keeps one
``ContactActivity`` item per contact: each ticket or note record adds the entries a
customer may see (``entries``), newest first, the latest ``KEPT`` only. The overview reads
the item in its sign-in batch.

A customer sees their ticket raised, a public reply from staff, their own reply, a status
change (by its customer label), a close and a reopen. Never a private note, an assignment
or any other internal field: an entry holds the ticket's number and subject, what
happened, when, and a customer label, nothing of a note's text.

The item is read consistently and written back under its version, read again on a
conflict. Each entry keeps the stream record's id, so a record delivered again adds
nothing; an entry pushed out by newer ones that comes again is older than all those kept,
so it is cut off again.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pynamodb.exceptions import PutError

from chalicelib import clock
from chalicelib.domain.setup import SetupConfig
from chalicelib.store.db import condition_failed, get_many, get_one
from chalicelib.store.models import Config, ContactActivity, Item, Note, Ticket
from chalicelib.stream.events import DomainEvent, image

KEPT = 10
ATTEMPTS = 5
# The events an entry may come from; every other one (assignment, category, service level)
# is internal.
SHOWN = frozenset({"ticket_created", "status_changed", "ticket_closed", "ticket_reopened", "note_added"})


@dataclass(frozen=True)
class Entry:
    """One line of the recent activity, as the overview shows it."""

    number: int
    subject: str
    # created | reply (public, by staff) | own_reply | status_changed | closed | reopened
    kind: str
    at: datetime
    status_label: str | None


def entries(
    events: Sequence[DomainEvent],
    *,
    ticket: Ticket,
    config: SetupConfig,
    event_id: str,
    note: Note | None = None,
) -> list[dict[str, Any]]:
    """The activity entries one stream record's ``events`` make for the ticket's contact
    (at most one: a close or reopen is also a status change, and says it alone)."""
    names = {event.name for event in events}
    made: list[dict[str, Any]] = []
    for event in events:
        if event.ticket_number != ticket.number:
            continue
        if event.name == "ticket_created":
            made.append(
                _entry(ticket, "created", ticket.created_at, _label(config, event.data.get("status_id")))
            )
        elif event.name in ("ticket_closed", "ticket_reopened"):
            kind = event.name.removeprefix("ticket_")
            made.append(_entry(ticket, kind, ticket.updated_at, _label(config, event.data.get("status_id"))))
        elif event.name == "status_changed" and not names & {"ticket_closed", "ticket_reopened"}:
            made += _status_changed(ticket, config, event)
        elif event.name == "note_added":
            made += _note_added(ticket, note, event)
    return [{**entry, "event": event_id} for entry in made]


def _status_changed(ticket: Ticket, config: SetupConfig, event: DomainEvent) -> list[dict[str, Any]]:
    before, after = _label(config, event.data.get("from")), _label(config, event.data.get("to"))
    # A status unknown to the setup has no label to tell; a move between two statuses the
    # customer sees under one label is internal; and the status a customer's own reply sets
    # tells them only what they just did (their reply is an entry of its own).
    if (
        after is None
        or after == before
        or event.data.get("to") == config.settings.get("customer_reply_status_id")
    ):
        return []
    return [_entry(ticket, "status_changed", ticket.updated_at, after)]


def _note_added(ticket: Ticket, note: Note | None, event: DomainEvent) -> list[dict[str, Any]]:
    # Only the note item itself decides whether it is public, as for notifications.
    if note is None or note.id != event.data.get("note_id") or not note.public:
        return []
    kinds = {"staff": "reply", "contact": "own_reply"}
    kind = kinds.get(note.author_type)
    return [_entry(ticket, kind, note.created_at, None)] if kind else []


def _label(config: SetupConfig, status_id: Any) -> str | None:
    status = config.entry("statuses", status_id if isinstance(status_id, str) else None)
    label = status.get("customer_label") if status else None
    return str(label) if label else None


def _entry(ticket: Ticket, kind: str, at: datetime, status_label: str | None) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "number": ticket.number,
        "subject": ticket.subject,
        "kind": kind,
        "at": clock.iso(at),
    }
    if status_label:
        entry["status_label"] = status_label
    return entry


# -- keeping the item ----------------------------------------------------------------


def _stored(item: Item | None) -> list[dict[str, Any]]:
    if not isinstance(item, ContactActivity):
        return []
    data = json.loads(item.data)
    return [entry for entry in data if isinstance(entry, dict)] if isinstance(data, list) else []


def merged(kept: list[dict[str, Any]], added: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The newest ``KEPT`` of both, newest first; of two at the same moment, the one added
    later (a stable sort keeps ``added`` ahead)."""
    return sorted([*added, *kept], key=lambda entry: str(entry.get("at", "")), reverse=True)[:KEPT]


def keep(record: dict[str, Any], events: Sequence[DomainEvent]) -> bool:
    """Add what one stream record's events show the ticket's contact; whether anything was
    added now (False for nothing to show and for a record already added)."""
    shown = [event for event in events if event.name in SHOWN]
    new = image(record, "NewImage")
    note = new if isinstance(new, Note) else None
    if note is not None and not note.public:
        shown = [event for event in shown if event.name != "note_added"]
    if not shown:
        return False

    # A ticket record carries its ticket; a note's ticket names the contact.
    ticket = new if isinstance(new, Ticket) else get_one(Ticket.key(shown[0].ticket_number))
    if not isinstance(ticket, Ticket):
        return False
    event_id = str(record.get("eventID") or "")
    key = ContactActivity.key(ticket.contact_id)

    for _ in range(ATTEMPTS):
        found = get_many([key, Config.key()])
        # The customer label is the one the setup gives the status now, as the record is read.
        added = entries(
            shown,
            ticket=ticket,
            config=SetupConfig.from_item(found.get(Config.key())),
            event_id=event_id,
            note=note,
        )
        stored = found.get(key)
        kept = _stored(stored)
        if not added or any(entry.get("event") == event_id for entry in kept):
            return False
        item = stored if isinstance(stored, ContactActivity) else ContactActivity(*key)
        item.data = json.dumps(merged(kept, added), separators=(",", ":"))
        try:
            item.save()  # on its version: absent for a new item, the one read otherwise
            return True
        except PutError as exc:
            if not condition_failed(exc):
                raise
    raise RuntimeError("the contact's activity kept changing; the record will be retried")


# -- reading -------------------------------------------------------------------------


def read(item: Item | None) -> list[Entry]:
    """The entries of a contact's activity item (none for a missing one), newest first."""
    shown = []
    for entry in _stored(item):
        try:
            at = datetime.strptime(str(entry["at"]), "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
            shown.append(
                Entry(
                    int(entry["number"]),
                    str(entry["subject"]),
                    str(entry["kind"]),
                    at,
                    str(entry["status_label"]) if entry.get("status_label") else None,
                )
            )
        except (KeyError, ValueError, TypeError):
            continue  # an entry of a shape this code no longer writes is left out, not a 500
    return shown
