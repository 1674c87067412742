"""Write transactions: one cancelled only by a concurrent transaction is tried again; one
whose condition failed, or that keeps conflicting, is not."""

from __future__ import annotations

from typing import Any

import pytest
from pynamodb.exceptions import CancellationReason, TransactWriteError, VerboseClientError
from pynamodb.transactions import TransactWrite

from chalicelib.store import db
from chalicelib.store.models import Counter


def cancelled(*codes: str) -> TransactWriteError:
    """What PynamoDB raises when DynamoDB cancels a transaction for these reasons ("None"
    for an item that was no reason)."""
    error = VerboseClientError(
        {"Error": {"Code": "TransactionCanceledException", "Message": "cancelled"}},
        "TransactWriteItems",
        cancellation_reasons=[CancellationReason(code=code) if code != "None" else None for code in codes],
    )
    return TransactWriteError("Failed to write transaction items", cause=error)


class Commits:
    """DynamoDB as the test wants it: the queued cancellations first, then real commits."""

    def __init__(self) -> None:
        self.queued: list[TransactWriteError] = []
        self.calls = 0


@pytest.fixture
def commits(aws: None, monkeypatch: pytest.MonkeyPatch) -> Commits:
    state = Commits()
    real_commit = TransactWrite._commit

    def commit(self: Any) -> Any:
        state.calls += 1
        if state.queued:
            raise state.queued.pop(0)
        return real_commit(self)

    monkeypatch.setattr(TransactWrite, "_commit", commit)
    monkeypatch.setattr(db, "CONFLICT_PAUSE", 0)
    return state


def write_counter() -> None:
    with db.transaction() as writes:
        writes.save(Counter("COUNTER", "TEST", value=1))


def test_a_transaction_cancelled_by_a_conflict_is_tried_again_and_lands(commits: Commits) -> None:
    commits.queued.append(cancelled("None", "TransactionConflict"))

    write_counter()

    assert commits.calls == 2
    assert Counter.get("COUNTER", "TEST").value == 1


def test_a_failed_condition_is_not_tried_again(commits: Commits) -> None:
    commits.queued.append(cancelled("ConditionalCheckFailed", "TransactionConflict"))

    with pytest.raises(TransactWriteError) as raised:
        write_counter()

    assert commits.calls == 1
    assert db.condition_failed(raised.value)


def test_a_transaction_that_keeps_conflicting_fails_after_the_last_attempt(commits: Commits) -> None:
    commits.queued.extend([cancelled("TransactionConflict")] * db.CONFLICT_ATTEMPTS)

    with pytest.raises(TransactWriteError):
        write_counter()

    assert commits.calls == db.CONFLICT_ATTEMPTS
    assert db.get_one(("COUNTER", "TEST")) is None
