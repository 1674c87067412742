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
