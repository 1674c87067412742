"""Keeping the names tickets copy up to date when a contact or a staff member is renamed.

A ticket carries its contact's and its assignee's names so that lists of tickets can show
them without reading each person. The stream handler sees a rename and rewrites the copy on
that person's tickets, a query page at a time through the person's ticket index, within the
invocation's time; an interrupted rename fails the record, which Lambda delivers again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pynamodb.exceptions import UpdateError

from chalicelib.store.db import condition_failed, update_unversioned
from chalicelib.store.models import DIMENSIONS, Contact, Item, Staff, Ticket, ticket_index


class RenameIncomplete(Exception):
    """The invocation ran short of time; the record is delivered again and carries on."""


def renamed(record: dict[str, Any]) -> tuple[str, str, str] | None:
    """(``contact`` or ``assignee``, the person's id, the new name) for a rename record."""
    if record.get("eventName") != "MODIFY":
        return None
    images = record.get("dynamodb", {})
    old = Item.from_raw_data(images["OldImage"]) if images.get("OldImage") else None
    new = Item.from_raw_data(images["NewImage"]) if images.get("NewImage") else None
    if isinstance(new, Contact) and isinstance(old, Contact) and new.name != old.name:
        return "contact", new.id, new.name
    if isinstance(new, Staff) and isinstance(old, Staff) and new.name != old.name:
        return "assignee", new.id, new.name
    return None


def follow(kind: str, person_id: str, name: str, out_of_time: Callable[[], bool]) -> int:
    """Write ``name`` on every ticket of the person; how many tickets changed."""
    index = ticket_index(kind, "newest")
    partition = DIMENSIONS[kind].partition(person_id)
    attribute = Ticket.contact_name if kind == "contact" else Ticket.assignee_name
    owner = Ticket.contact_id if kind == "contact" else Ticket.assignee_id
    changed = 0
    for ticket in index.query(partition):
        if out_of_time():
            raise RenameIncomplete(f"{changed} tickets renamed before the deadline")
        if not isinstance(ticket, Ticket) or getattr(ticket, attribute.attr_name) == name:
            continue
        try:
            # Still this person's ticket: a reassignment meanwhile wrote its own name.
            update_unversioned(Ticket.key(ticket.number), [attribute.set(name)], owner == person_id)
        except UpdateError as exc:
            if not condition_failed(exc):
                raise
            continue
        changed += 1
    return changed
