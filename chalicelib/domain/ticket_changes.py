"""The audit trail of a ticket: one ``Change`` per edit, saying who changed what and when.

A change is written in the same transaction as the edit it records (``tickets.update``,
``ticket_notes.add_customer_reply``), so an edit that is refused leaves no trace and one
that is saved never lacks its record. Changes share the notes' time-ordered keys, so the
conversation read brings them along (``ticket_notes.get_with_notes``); only staff see them.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from chalicelib import clock
from chalicelib.store.models import Change, Ticket

if TYPE_CHECKING:
    from chalicelib.domain.ticket_notes import Author

# The ticket fields a change may record, in the order they are told.
RECORDED_FIELDS = ("status_id", "category_id", "service_level_id", "assignee_id")


def new_change(
    number: int,
    actor: Author,
    changes: dict[str, tuple[Any, Any]],
    moment: datetime,
    names: dict[str, str] | None = None,
) -> Change:
    """The record of ``changes`` (``{field: (before, after)}``) made by ``actor`` at ``moment``,
    ready to be saved with the edit itself. ``names`` maps staff ids in it to their names."""
    change_id = clock.new_id()
    recorded = {name: list(changes[name]) for name in RECORDED_FIELDS if name in changes}
    return Change(
        Ticket.partition(number),
        Change.sort_key(clock.iso(moment), change_id),
        ticket_number=number,
        id=change_id,
        actor_type=actor.kind,
        actor_id=actor.id,
        actor_name=actor.name,
        changes=json.dumps(recorded, sort_keys=True),
        names=json.dumps(names, sort_keys=True) if names else None,
        created_at=moment,
    )


def fields_of(change: Change) -> dict[str, tuple[str | None, str | None]]:
    """What ``change`` changed, ``{field: (before, after)}``, in ``RECORDED_FIELDS`` order."""
    stored: dict[str, list[str | None]] = json.loads(change.changes)
    return {name: (stored[name][0], stored[name][1]) for name in RECORDED_FIELDS if name in stored}


def names_of(change: Change) -> dict[str, str]:
    """The staff names ``change`` recorded for ids in it (the actor's among them)."""
    recorded: dict[str, str] = json.loads(change.names) if change.names else {}
    if change.actor_type == "staff":
        recorded.setdefault(change.actor_id, change.actor_name)
    return recorded


def present_change(change: Change) -> dict[str, Any]:
    """A change as the API shows it: who made it, as recorded then, and each field's ids."""
    return {
        "id": change.id,
        "actor": {"type": change.actor_type, "id": change.actor_id, "name": change.actor_name},
        "changes": {name: {"from": old, "to": new} for name, (old, new) in fields_of(change).items()},
        "created_at": change.created_at,
    }
