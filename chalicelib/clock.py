"""Time and identifiers. One place to read the clock, so tests can move it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime


def now() -> datetime:
    """The current time in UTC, always timezone-aware so stored and compared times agree."""
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """Fixed-width UTC timestamp that sorts as text in the same order as in time."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def new_id() -> str:
    """A random id of 32 hex digits: unguessable, so one id in a URL tells nothing of others,
    and within what ``validation.identifier`` accepts."""
    return uuid.uuid4().hex


def sortable_id(moment: datetime) -> str:
    """An id that sorts in time order: the moment to the microsecond, then 12 random hex
    digits so ids of one moment differ. For records whose key is their time, such as the
    delivery log, the id alone then finds the item."""
    return moment.astimezone(UTC).strftime("%Y%m%d%H%M%S%f") + uuid.uuid4().hex[:12]
