"""Small helpers over PynamoDB: batch reads, transactions, translated failures."""

from __future__ import annotations

import random
import time
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

from pynamodb.connection import Connection
from pynamodb.exceptions import PutError, TransactWriteError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from chalicelib.errors import Conflict
from chalicelib.settings import region_from_env
from chalicelib.store.models import Item

Key = tuple[str, str]


def get_many(keys: Iterable[Key]) -> dict[Key, Item]:
    """Read up to 100 items of any kind in one BatchGetItem; missing keys are absent."""
    unique = list(dict.fromkeys(keys))
    if not unique:
        return {}
    if len(unique) > 100:
        raise ValueError("BatchGetItem reads at most 100 keys")
    # Strongly consistent: a logout, a deactivation or a version bump counts at once.
    return {(item.pk, item.sk): item for item in Item.batch_get(unique, consistent_read=True)}


def get_one(key: Key) -> Item | None:
    """One item of any kind, or None; strongly consistent like ``get_many``."""
    found = get_many([key])
    return found.get(key)


@lru_cache(maxsize=1)
def _connection() -> Connection:
    return Connection(region=region_from_env())


class Transaction(TransactWrite):
    """PynamoDB's write transaction, plus an update that leaves an item's version alone."""

    def update_unversioned(
        self, key: Key, actions: Sequence[Action], condition: Condition | None = None
    ) -> None:
        """Update the item at ``key`` without touching its version.

        PynamoDB's own ``update`` always adds one to a model's version (even with
        ``add_version_condition=False``, and it sets 1 on an unread instance), so a side
        effect such as a new note would make every edit based on the current version stale.
        """
        # The model's table connection knows the key schema: no DescribeTable round trip.
        operation = Item._get_connection().get_operation_kwargs(
            key[0], range_key=key[1], actions=actions, condition=condition
        )
        self._update_items.append(operation)

    def _commit(self) -> Any:
        """Commit; a transaction cancelled only because another one was writing the same
        items at that moment (``TransactionConflict``) is tried again, a few times with a
        short random pause: nothing of it was applied, and the request should not fail for
        a colleague's simultaneous note."""
        for attempt in range(CONFLICT_ATTEMPTS):
            try:
                return super()._commit()
            except TransactWriteError as exc:
                if not _conflict_only(exc) or attempt == CONFLICT_ATTEMPTS - 1:
                    raise
                time.sleep(random.uniform(0, CONFLICT_PAUSE * 2**attempt))  # noqa: S311 (jitter, no secret)
        return None


CONFLICT_ATTEMPTS = 3
CONFLICT_PAUSE = 0.05


def _conflict_only(exc: TransactWriteError) -> bool:
    reasons: Sequence[Any] = getattr(exc, "cancellation_reasons", None) or []
    codes = {reason.code for reason in reasons if reason}
    return exc.cause_response_code == "TransactionCanceledException" and codes == {"TransactionConflict"}


def transaction() -> Transaction:
    """A write transaction; use as a context manager, it commits on exit."""
    return Transaction(connection=_connection())


def condition_failed(exc: PutError | UpdateError | TransactWriteError) -> bool:
    """Whether a write failed only because one of its conditions did not hold."""
    code = exc.cause_response_code
    if code == "ConditionalCheckFailedException":
        return True
    if code == "TransactionCanceledException":
        reasons: Sequence[Any] = getattr(exc, "cancellation_reasons", None) or []
        return any(reason and reason.code == "ConditionalCheckFailed" for reason in reasons)
    return False


def failed_conditions(exc: TransactWriteError) -> list[bool]:
    """Which items of a cancelled transaction failed their condition, one flag per item in
    the order PynamoDB sends them: condition checks, deletes, puts, then updates."""
    reasons: Sequence[Any] = getattr(exc, "cancellation_reasons", None) or []
    return [bool(reason and reason.code == "ConditionalCheckFailed") for reason in reasons]


def update_unversioned(key: Key, actions: Sequence[Action], condition: Condition | None = None) -> None:
    """Update one item without touching its version (see ``Transaction.update_unversioned``)."""
    Item._get_connection().update_item(key[0], range_key=key[1], actions=actions, condition=condition)


def set_or_remove(attribute: Any, value: Any) -> Any:
    """The update action that stores ``value``, or removes the attribute for None: DynamoDB
    keeps no nulls in index keys, and a removed key takes the item out of a sparse index."""
    return attribute.remove() if value is None else attribute.set(value)


def first_referrer(target: str) -> Item | None:
    """Any one item whose ``ref_pk`` names ``target`` (say ``SERVICE_LEVEL#<id>``)."""
    return next(iter(Item.refs.query(target, limit=1)), None)


def create_with_claim(owner: Item, claim: Item, *, field: str, taken: str) -> None:
    """Store a new ``owner`` and the ``claim`` item that reserves its unique value, both
    or neither; ``Conflict`` on ``field`` (the request field holding that value) with the
    message ``taken`` if the value is already claimed."""
    try:
        with transaction() as writes:
            writes.save(claim, condition=Item.pk.does_not_exist())
            writes.save(owner, condition=Item.pk.does_not_exist())
    except TransactWriteError as exc:
        if condition_failed(exc):
            raise Conflict(taken, field=field) from exc
        raise
