"""Fixed-window counters of attempts, per scope (account, client address).

An attempt is counted before it is judged, with one conditional ``ADD`` per counter:
concurrent attempts cannot all pass a check made before any of them is counted, and a
success gives its attempt back.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta

from pynamodb.exceptions import UpdateError

from chalicelib import clock
from chalicelib.errors import Throttled
from chalicelib.store.db import condition_failed
from chalicelib.store.models import Throttle


@dataclass(frozen=True)
class Limit:
    """At most ``attempts`` per subject in each fixed window of ``window_seconds``; ``scope``
    keeps the counters of different limits apart."""

    scope: str
    attempts: int
    window_seconds: int


def _subject_hash(subject: str) -> str:
    # Addresses and emails are stored only as hashes.
    return hashlib.sha256(subject.lower().encode()).hexdigest()[:32]


def _counter(limit: Limit, subject: str) -> tuple[Throttle, int]:
    """The counter of the current window, and the seconds left in that window."""
    epoch = int(clock.now().timestamp())
    window, left = divmod(epoch, limit.window_seconds)
    item = Throttle(*Throttle.key(limit.scope, _subject_hash(subject), window))
    return item, limit.window_seconds - left


def reserve(checks: list[tuple[Limit, str]]) -> None:
    """Count one attempt against each subject, in order; ``Throttled`` at the first subject
    that has none left (later subjects are then not counted)."""
    for limit, subject in checks:
        counter, left = _counter(limit, subject)
        try:
            counter.update(
                actions=[
                    Throttle.attempts.add(1),
                    Throttle.ttl.set(clock.now() + timedelta(seconds=left + 60)),
                    Throttle.kind.set(Throttle),
                ],
                condition=Throttle.attempts.does_not_exist() | (Throttle.attempts < limit.attempts),
            )
        except UpdateError as exc:
            if condition_failed(exc):
                raise Throttled(retry_after=left) from exc
            raise


def forgive(limit: Limit, subject: str) -> None:
    """Forget the subject's attempts in this window (a success ends a run of failures)."""
    counter, _ = _counter(limit, subject)
    counter.delete()


def refund(limit: Limit, subject: str) -> None:
    """Give back one attempt: a success should not use up a shared address's allowance."""
    counter, _ = _counter(limit, subject)
    try:
        counter.update(actions=[Throttle.attempts.add(-1)], condition=Throttle.attempts > 0)
    except UpdateError as exc:
        if not condition_failed(exc):  # the window turned meanwhile: nothing to give back
            raise
