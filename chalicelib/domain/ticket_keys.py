"""The attributes a ticket carries only so the staff lists can find it.

Every staff list is a global index, so a ticket holds one partition value per list
dimension and two sort values (priority, newest), all derived from its own fields and
from the setup (a service level's rank, a status's ``closed`` flag). This module is the
one place that derives them, both when a ticket is written and when a setup edit makes
the stored ones stale (``realign_with_setup``, run from the stream).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from pynamodb.exceptions import UpdateError

from chalicelib import clock
from chalicelib.domain.setup import SetupConfig
from chalicelib.store.db import condition_failed, set_or_remove, update_unversioned
from chalicelib.store.models import DIMENSIONS, Item, Ticket, ticket_index

# First part of the priority sort key: "0" sorts before "1", so open tickets come first.
STATE_PREFIX = {"open": "0", "closed": "1"}


class RealignIncomplete(Exception):
    """Realigning ran out of time before every affected ticket was rewritten.

    The stream handler lets it fail the record, so Lambda delivers the record again; the
    tickets already rewritten are skipped then without a write, so each delivery gets further.
    """

    def __init__(self, changed: int) -> None:
        super().__init__(f"realigning stopped after rewriting {changed} tickets")
        self.changed = changed


def in_state(state: str) -> Any:
    """The sort key condition that keeps only open (or only closed) tickets of a priority
    index: the state leads ``prio_sk``, so no filter has to read and drop the others."""
    return Item.prio_sk.startswith(f"{STATE_PREFIX[state]}#")


def index_keys(ticket: Ticket, config: SetupConfig) -> dict[str, Any]:
    """The index attributes that place a ticket in every staff list.

    Derived rather than stored by callers so that creation, edits, the bench loader and
    the realignment after setup edits all write exactly the same keys; None means the
    attribute is removed (the ticket leaves that sparse index).
    """
    number = f"{ticket.number:010d}"
    due = clock.iso(ticket.resolution_due_at) if ticket.resolution_due_at else "9999"
    state = STATE_PREFIX["closed" if ticket.closed else "open"]
    overdue_candidate = not ticket.closed and ticket.resolution_due_at is not None

    return {
        **{
            dimension.attribute: dimension.partition(dimension.value_of(ticket))
            for dimension in DIMENSIONS.values()
        },
        # Open tickets first, then by service level rank, then by due date.
        "prio_sk": f"{state}#{config.rank(ticket.service_level_id):04d}#{due}#{number}",
        "new_sk": f"{clock.iso(ticket.created_at)}#{number}",
        # Only open tickets with a target are in the overdue index.
        "open_pk": "OPEN" if overdue_candidate else None,
        "due_sk": f"{due}#{number}" if overdue_candidate else None,
    }


def key_actions(keys: dict[str, Any]) -> list[Any]:
    """Update actions that write ``keys`` (from ``index_keys``) onto the stored ticket."""
    return [set_or_remove(getattr(Item, name), value) for name, value in keys.items()]


def sync_closed(ticket: Ticket, config: SetupConfig, moment: datetime) -> None:
    """Make the ticket closed exactly when its status is a closed one.

    ``closed`` is stored, not looked up, because the lists sort and filter on it; so both
    a status change and a status's own ``closed`` flag changing have to come through here.
    """
    closing = config.is_closed(ticket.status_id)
    if closing and not ticket.closed:
        ticket.closed_at = moment
    elif not closing:
        ticket.closed_at = None
    ticket.closed = closing


def _never() -> bool:
    return False


def realign_with_setup(
    old: SetupConfig, new: SetupConfig, *, out_of_time: Callable[[], bool] = _never
) -> int:
    """Re-derive the state and list keys of the tickets an edited setup entry affects.

    A service level's new rank moves its open tickets in every priority list (closed ones
    sort after all open ones whatever their rank); a status that becomes closed, or open,
    closes or reopens its tickets. Runs from the stream after the edit: one query per
    changed entry, one unversioned update per ticket that needs one. Returns how many
    tickets changed.

    A popular entry can have thousands of tickets, more than one Lambda invocation has
    time for: ``out_of_time`` is asked before each ticket, and when it answers true this
    stops with ``RealignIncomplete``. Tickets already aligned are skipped without a write,
    so running it again with the same configs carries on where it stopped.
    """
    service_levels = DIMENSIONS["service_level"]
    statuses = DIMENSIONS["status"]
    targets: list[tuple[Any, str, Any]] = []
    for level_id, level in new.lists["service_levels"].items():
        before = old.entry("service_levels", level_id)
        if before is not None and before["rank"] != level["rank"]:
            targets.append(
                (
                    ticket_index(service_levels.name, "priority"),
                    service_levels.partition(level_id),
                    in_state("open"),
                )
            )
    for status_id, status in new.lists["statuses"].items():
        before = old.entry("statuses", status_id)
        if before is not None and before["closed"] != status["closed"]:
            targets.append((ticket_index(statuses.name, "newest"), statuses.partition(status_id), None))

    changed = 0
    for index, partition, condition in targets:
        for ticket in index.query(partition, condition):
            if out_of_time():
                raise RealignIncomplete(changed)
            if isinstance(ticket, Ticket) and realign_ticket(ticket, new):
                changed += 1
    return changed


def realign_ticket(ticket: Ticket, config: SetupConfig) -> bool:
    """Rewrite one ticket's derived attributes if ``config`` changed them; True if it did.

    ``ticket`` comes from an index, which lags the table: the write is conditioned on the
    status, service level and ``closed`` flag it was derived from, so a ticket that an edit
    (or an earlier realignment) changed meanwhile is left to the keys that change wrote.
    """
    status_id, service_level_id, was_closed = ticket.status_id, ticket.service_level_id, ticket.closed
    if config.entry("statuses", status_id) is not None:
        sync_closed(ticket, config, clock.now())
    derived = index_keys(ticket, config)
    if ticket.closed == was_closed and all(getattr(ticket, name) == value for name, value in derived.items()):
        return False

    actions = [
        set_or_remove(Ticket.closed, ticket.closed),
        set_or_remove(Ticket.closed_at, ticket.closed_at),
        *key_actions(derived),
    ]
    unchanged = (
        _holds(Ticket.status_id, status_id)
        & _holds(Ticket.service_level_id, service_level_id)
        & (Ticket.closed == was_closed)
    )
    try:
        update_unversioned(Ticket.key(ticket.number), actions, unchanged)
    except UpdateError as exc:
        if condition_failed(exc):
            return False
        raise
    return True


def _holds(attribute: Any, value: Any) -> Any:
    """The condition that ``attribute`` still holds ``value`` (None: is absent)."""
    return attribute == value if value is not None else attribute.does_not_exist()
