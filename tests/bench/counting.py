"""Count AWS calls without touching app code.

``count_calls()`` counts DynamoDB calls with a botocore event hook: every DynamoDB client
the app's store layer uses (PynamoDB's shared table connection and the connection that
runs transactions) gets an ``after-call.dynamodb`` handler for the duration of the block.
The handler sees each parsed response, so it records the operation and how many items
DynamoDB read to answer it.

``count_aws_calls()`` counts every call of every botocore client in the process, whatever
its service and whenever it was created: the stream handler also talks to clients the
store layer does not own (Powertools idempotency's DynamoDB client, SES, SNS), and a
client added later must not slip past the budget unseen. It wraps the one method every
botocore client call goes through (PynamoDB's included) for the duration of the block.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import botocore.client  # type: ignore[import-untyped]
from botocore.exceptions import ClientError  # type: ignore[import-untyped]

WRITE_OPERATIONS = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"})
HOOK_EVENT = "after-call.dynamodb"
HOOK_ID = "helpdesk-bench-call-counter"


@dataclass(frozen=True)
class Call:
    """One DynamoDB API call as the client made it."""

    operation: str
    items_read: int
    # botocore retries inside one API call; each retry is one more round trip.
    retries: int = 0
    failed: bool = False
    service: str = "dynamodb"
    # The DynamoDB table the call named, when the counter saw its parameters.
    table: str | None = None
    # Wall time inside the client, when the counter timed it: for the reader, never judged.
    seconds: float = 0.0


@dataclass
class Calls:
    """What a block of code asked of DynamoDB."""

    calls: list[Call] = field(default_factory=list)

    @property
    def round_trips(self) -> int:
        return sum(1 + call.retries for call in self.calls)

    @property
    def items_read(self) -> int:
        return sum(call.items_read for call in self.calls)

    @property
    def scans(self) -> int:
        return sum(1 for call in self.calls if call.operation == "Scan")

    @property
    def writes(self) -> int:
        return sum(1 for call in self.calls if call.operation in WRITE_OPERATIONS)

    @property
    def by_operation(self) -> dict[str, int]:
        return dict(Counter(call.operation for call in self.calls))

    @property
    def seconds(self) -> float:
        return sum(call.seconds for call in self.calls)

    def of(self, service: str, table: str | None = None) -> Calls:
        """Only the calls to ``service`` (and, when given, to that DynamoDB ``table``)."""
        return Calls(
            [
                call
                for call in self.calls
                if call.service == service and (table is None or call.table == table)
            ]
        )


def items_read(operation: str, parsed: dict[str, Any]) -> int:
    """How many items DynamoDB read to answer one call, from its parsed response.

    Queries and scans report ``ScannedCount``: items read before any filter, which is
    what a request costs even when the filter drops them. Writes read nothing here,
    even when they return the written item.
    """
    if operation in ("Query", "Scan"):
        return int(parsed.get("ScannedCount", parsed.get("Count", len(parsed.get("Items", [])))))
    if operation == "GetItem":
        return 1 if parsed.get("Item") else 0
    if operation == "BatchGetItem":
        return sum(len(found) for found in parsed.get("Responses", {}).values())
    if operation == "TransactGetItems":
        return sum(1 for response in parsed.get("Responses", []) if response.get("Item"))
    if operation == "ExecuteStatement":
        return len(parsed.get("Items", []))
    return 0


def dynamodb_clients() -> list[Any]:
    """Every botocore DynamoDB client the app's store layer uses, each once."""
    from chalicelib.store import db
    from chalicelib.store.models import Item

    # The base model's connection first: subclasses that have none of their own inherit it.
    connections = [Item._get_connection().connection, db._connection()]
    pending: list[type] = [Item]
    while pending:
        model = pending.pop()
        pending.extend(model.__subclasses__())
        own = model.__dict__.get("_connection")
        if own is not None:
            connections.append(own.connection)
    clients = {id(connection.client): connection.client for connection in connections}
    return list(clients.values())


@contextmanager
def count_calls() -> Iterator[Calls]:
    """Record every DynamoDB call made inside the block."""
    calls = Calls()

    def record(parsed: dict[str, Any], model: Any, **_: Any) -> None:
        operation = model.name
        metadata = parsed.get("ResponseMetadata", {})
        failed = "Error" in parsed
        calls.calls.append(
            Call(
                operation=operation,
                items_read=0 if failed else items_read(operation, parsed),
                retries=int(metadata.get("RetryAttempts", 0)),
                failed=failed,
            )
        )

    clients = dynamodb_clients()
    for client in clients:
        client.meta.events.register(HOOK_EVENT, record, unique_id=HOOK_ID)
    try:
        yield calls
    finally:
        for client in clients:
            client.meta.events.unregister(HOOK_EVENT, unique_id=HOOK_ID)


def table_named(params: dict[str, Any]) -> str | None:
    """The DynamoDB table a request names; ``"*"`` when it names several."""
    if "TableName" in params:
        return str(params["TableName"])
    names = set(params.get("RequestItems", {}))
    for action in params.get("TransactItems", []):
        names.update(str(detail["TableName"]) for detail in action.values())
    if not names:
        return None
    return names.pop() if len(names) == 1 else "*"


@contextmanager
def count_aws_calls() -> Iterator[Calls]:
    """Record every call any botocore client in this process makes inside the block.

    An error answer is recorded as a failed call before it propagates; retries come from
    the response metadata, as in ``count_calls()``.
    """
    calls = Calls()
    original = botocore.client.BaseClient._make_api_call

    def counted(client: Any, operation: str, params: dict[str, Any]) -> Any:
        service = client.meta.service_model.service_name
        table = table_named(params) if service == "dynamodb" else None
        started = time.perf_counter()
        try:
            parsed = original(client, operation, params)
        except ClientError as exc:
            retries = int(exc.response.get("ResponseMetadata", {}).get("RetryAttempts", 0))
            seconds = time.perf_counter() - started
            calls.calls.append(Call(operation, 0, retries, True, service, table, seconds))
            raise
        seconds = time.perf_counter() - started
        retries = int(parsed.get("ResponseMetadata", {}).get("RetryAttempts", 0))
        read = items_read(operation, parsed) if service == "dynamodb" else 0
        calls.calls.append(Call(operation, read, retries, False, service, table, seconds))
        return parsed

    botocore.client.BaseClient._make_api_call = counted
    try:
        yield calls
    finally:
        botocore.client.BaseClient._make_api_call = original
