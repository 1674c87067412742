"""The audit trail of a ticket: one ``Change`` per edit, saying who changed what and when.

A change is written in the same transaction as the edit it records (``tickets.update``,
``ticket_notes.add_customer_reply``, ``deliveries.request_resend``), so an edit that is
refused leaves no trace and one that is saved never lacks its record. Changes share the
notes' time-ordered keys, so the conversation read brings them along
(``ticket_notes.get_with_notes``); only staff see them.

Most changes are of the ticket's own fields. A staff member asking for a failed
notification to be sent again changes a delivery instead: its ``delivery_outcome`` from
``failed`` to ``resend_requested``, with the delivery it names kept on the change.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from chalicelib import clock
from chalicelib.store.models import Change, Delivery, Ticket

if TYPE_CHECKING:
    from chalicelib.domain.ticket_notes import Author

# The fields a change may record, in the order they are told: the ticket's own, then the
# outcome of the delivery a re-send request names.
RECORDED_FIELDS = ("status_id", "category_id", "service_level_id", "assignee_id", "delivery_outcome")
# What a change keeps of the delivery it names.
DELIVERY_FIELDS = ("id", "channel", "recipient", "template")


def new_change(
    number: int,
    actor: Author,
    changes: dict[str, tuple[Any, Any]],
    moment: datetime,
    names: dict[str, str] | None = None,
    delivery: Delivery | None = None,
) -> Change:
    """The record of ``changes`` (``{field: (before, after)}``) made by ``actor`` at ``moment``,
    ready to be saved with the edit itself. ``names`` maps staff ids in it to their names;
    ``delivery`` is the delivery whose ``delivery_outcome`` changed."""
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
        delivery=json.dumps(_delivery_fields(delivery), sort_keys=True) if delivery else None,
        created_at=moment,
    )


def _delivery_fields(delivery: Delivery) -> dict[str, str]:
    return {name: str(getattr(delivery, name)) for name in DELIVERY_FIELDS}


def fields_of(change: Change) -> dict[str, tuple[str | None, str | None]]:
    """What ``change`` changed, ``{field: (before, after)}``, in ``RECORDED_FIELDS`` order."""
    stored: dict[str, list[str | None]] = json.loads(change.changes)
    return {name: (stored[name][0], stored[name][1]) for name in RECORDED_FIELDS if name in stored}


def delivery_of(change: Change) -> dict[str, str] | None:
    """The delivery a re-send request named (``DELIVERY_FIELDS``), or None for an edit."""
    if not change.delivery:
        return None
    stored: dict[str, str] = json.loads(change.delivery)
    return {name: stored[name] for name in DELIVERY_FIELDS}


def names_of(change: Change) -> dict[str, str]:
    """The staff names ``change`` recorded for ids in it (the actor's among them)."""
    recorded: dict[str, str] = json.loads(change.names) if change.names else {}
    if change.actor_type == "staff":
        recorded.setdefault(change.actor_id, change.actor_name)
    return recorded


def present_change(change: Change) -> dict[str, Any]:
    """A change as the API shows it: who made it, as recorded then, each field's ids, and
    the delivery a re-send request named (None for an edit of the ticket)."""
    return {
        "id": change.id,
        "actor": {"type": change.actor_type, "id": change.actor_id, "name": change.actor_name},
        "changes": {name: {"from": old, "to": new} for name, (old, new) in fields_of(change).items()},
        "delivery": delivery_of(change),
        "created_at": change.created_at,
    }
