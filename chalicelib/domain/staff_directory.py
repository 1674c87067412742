"""The staff directory: every staff member's name and active flag in one item beside the
config (``StaffDirectory``, ``SETUP/STAFF``).

The staff list is an index query, and a page that already spends its second round trip on
its own query (the ticket queue, a ticket's delivery log) cannot afford a third to offer or
name colleagues. The directory is a key, so it rides in the sign-in batch like the config.

It is kept in the transaction of every staff write (``chalicelib.domain.staff``): the write
reads it, puts it back with the member's entry replaced, under its version, and reads it
again if another staff write came between. A table whose staff predate the directory gets
it at its next staff write, rebuilt from the staff list; until then pages fall back to
what they knew without it. Each entry takes some 100 bytes, so the 400 KB item holds
thousands of staff, far more than a helpdesk has.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from chalicelib.store.db import Key
from chalicelib.store.models import Item, Staff, StaffDirectory


@dataclass(frozen=True)
class Colleague:
    """One staff member as the directory knows them."""

    id: str
    name: str
    active: bool


@dataclass(frozen=True)
class Directory:
    """Every staff member by id."""

    members: dict[str, Colleague]

    @classmethod
    def from_item(cls, item: Item | None) -> Directory | None:
        """The directory the item holds; None when there is none yet."""
        if not isinstance(item, StaffDirectory):
            return None
        data: dict[str, dict[str, object]] = json.loads(item.data)
        return cls(
            {
                staff_id: Colleague(staff_id, str(entry["name"]), bool(entry["active"]))
                for staff_id, entry in data.items()
            }
        )

    def name_of(self, staff_id: str | None) -> str | None:
        found = self.members.get(staff_id or "")
        return found.name if found else None

    def ordered(self) -> list[Colleague]:
        """Active staff by name, then the deactivated ones by name (their tickets stay theirs
        until someone reassigns them, so they can still be looked for)."""
        return sorted(
            self.members.values(), key=lambda member: (not member.active, member.name.lower(), member.id)
        )


def key() -> Key:
    return StaffDirectory.key()


def of(items: Mapping[Key, Item]) -> Directory | None:
    """The directory a sign-in batch read with ``key()``; None when the table has none yet."""
    return Directory.from_item(items.get(key()))


# -- keeping it ------------------------------------------------------------------------


def staged(staff_id: str, name: str, active: bool, stored: Item | None) -> StaffDirectory | None:
    """The directory ``stored`` (read just now, consistently) with this member's entry as it
    is about to be saved, ready to be put under its version in the staff write's
    transaction; None when the entry is already so.

    A table without a directory gets one built from the staff list. Its version is unset,
    so the put is conditioned on no directory existing: two staff writes that both build
    one cannot both succeed, and the later one reads the earlier's and adds to it.
    """
    entry: dict[str, object] = {"name": name, "active": active}
    if isinstance(stored, StaffDirectory):
        item = stored
        entries: dict[str, dict[str, object]] = json.loads(stored.data)
        if entries.get(staff_id) == entry:
            return None
    else:
        item = StaffDirectory(*key())
        entries = _rebuilt()
    entries[staff_id] = entry
    item.data = json.dumps(entries, separators=(",", ":"), sort_keys=True)
    return item


def _rebuilt() -> dict[str, dict[str, object]]:
    """Every staff member from the ``listing`` index, a page at a time: only ever run once,
    by the first staff write of a table whose staff predate the directory."""
    entries: dict[str, dict[str, object]] = {}
    for member in Staff.listing.query("STAFF"):
        if isinstance(member, Staff):
            entries[member.id] = {"name": member.name, "active": member.active}
    return entries
