"""Fixed-window counters of failed attempts, per scope (account, client address)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta

from chalicelib import clock
from chalicelib.errors import Throttled
from chalicelib.store.db import get_many
from chalicelib.store.models import Throttle


@dataclass(frozen=True)
class Limit:
    scope: str
    attempts: int
    window_seconds: int


def _subject_hash(subject: str) -> str:
    # Addresses and emails are stored only as hashes.
    return hashlib.sha256(subject.lower().encode()).hexdigest()[:32]


def _window(limit: Limit) -> tuple[int, int]:
    """The current window's number and the seconds left in it."""
    epoch = int(clock.now().timestamp())
    return epoch // limit.window_seconds, limit.window_seconds - epoch % limit.window_seconds


def check(checks: list[tuple[Limit, str]]) -> set[str]:
    """Raise ``Throttled`` when any subject used up its attempts; one batch read.

    Returns the scopes that have failures in their current window, so a success clears
    only counters that exist.
    """
    keys = {}
    for limit, subject in checks:
        window, _ = _window(limit)
        keys[Throttle.key(limit.scope, _subject_hash(subject), window)] = limit
    found = get_many(keys)
    for key, limit in keys.items():
        item = found.get(key)
        if isinstance(item, Throttle) and item.attempts >= limit.attempts:
            raise Throttled(retry_after=_window(limit)[1])
    return {limit.scope for key, limit in keys.items() if key in found}


def record_failure(checks: list[tuple[Limit, str]]) -> None:
    for limit, subject in checks:
        window, left = _window(limit)
        counter = Throttle(*Throttle.key(limit.scope, _subject_hash(subject), window))
        counter.update(
            actions=[
                Throttle.attempts.add(1),
                Throttle.ttl.set(clock.now() + timedelta(seconds=left + 60)),
                Throttle.kind.set(Throttle),
            ]
        )


def clear(limit: Limit, subject: str) -> None:
    window, _ = _window(limit)
    Throttle(*Throttle.key(limit.scope, _subject_hash(subject), window)).delete()
