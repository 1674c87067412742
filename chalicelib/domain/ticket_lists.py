"""The staff lists of tickets: which index answers a list, a page of it, and usage checks.

Every list is one query of one global index (see ``ticket_keys`` for the keys a ticket
carries), so its cost does not grow with the table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chalicelib import clock
from chalicelib.domain.ticket_keys import in_state
from chalicelib.store.cursor import decode_cursor, encode_cursor
from chalicelib.store.models import (
    ALL_TICKETS,
    DIMENSIONS,
    TICKET_DIMENSIONS,
    Item,
    ListDimension,
    Ticket,
    ticket_index,
)


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

    def plan(self) -> tuple[str, Any, Any, Any]:
        """(scope, index, partition value, range condition); the other filters are in ``filter``.

        The first filter given, in order of selectivity, picks the index: it narrows the
        read the most, so the filters applied while reading drop the fewest items.
        """
        if self.overdue:
            condition = Item.due_sk < f"{clock.iso(clock.now())}"
            return ("overdue", Item.open_due, "OPEN", condition)
        for dimension in TICKET_DIMENSIONS:
            value = self._value(dimension)
            if value is not None:
                return self._indexed(dimension, value)
        return self._indexed(ALL_TICKETS, None)

    def _value(self, dimension: ListDimension) -> str | None:
        value: str | None = getattr(self, dimension.field) if dimension.field else None
        return value

    def _indexed(self, dimension: ListDimension, value: str | None) -> tuple[str, Any, Any, Any]:
        condition = None
        if self.order == "priority" and self.state in ("open", "closed"):
            condition = in_state(self.state)
        index = ticket_index(dimension.name, self.order)
        return (f"{dimension.name}-{self.order}", index, dimension.partition(value), condition)

    def filter(self, indexed: str) -> Any:
        """Conditions for the filters the chosen index does not cover."""
        conditions = []
        for dimension in TICKET_DIMENSIONS:
            value = self._value(dimension)
            if value is None or dimension.field is None or indexed.startswith(f"{dimension.name}-"):
                continue
            attribute = getattr(Ticket, dimension.field)
            conditions.append(attribute.does_not_exist() if value == "none" else attribute == value)
        if self.state and (self.order != "priority" or indexed == "overdue"):
            conditions.append(Ticket.closed == (self.state == "closed"))
        combined = None
        for condition in conditions:
            combined = condition if combined is None else combined & condition
        return combined


def list_page(query: TicketQuery, limit: int, cursor: str | None) -> tuple[list[Ticket], str | None]:
    """One page of a staff list and the cursor of the next; one query.

    The cursor is signed for this exact query, so it cannot be replayed on another list.
    """
    indexed, index, partition, condition = query.plan()
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
    """A ticket that refers to a setup entry, if any; one item read.

    Setup deletion asks this before removing a status, category or service level, so a
    ticket never points at an entry that no longer exists.
    """
    found = next(
        iter(ticket_index(dimension, "newest").query(DIMENSIONS[dimension].partition(entry_id), limit=1)),
        None,
    )
    return f"ticket {found.number}" if isinstance(found, Ticket) else None
