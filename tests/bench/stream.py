"""The stream handler under load: throughput and AWS calls per stream record.

A desk that sends (a verified SES sender, SMS on, one contact opted in with a mobile
number) takes changes through the API in cycles of five per ticket: created, a public
note, a private note, a status change (the ticket assigned at the same time), and the
close. Tickets alternate between a contact told by email and SMS and one told by email
only. The table's stream is then read back as Lambda's event source would read it and
handed to the real handler, ``app.on_table_change``, in batches of the size its event
source declares (``batch_size()``), and so
are the delivery log entries the handler wrote, when they come back through the stream.
Every AWS call made during each invocation is counted, whichever client makes it.

The changes are spread over desks of ``CHANGES_PER_DESK``, each in a fresh mocked
account: moto deep-copies the whole table, stream included, on every TransactWriteItems
(each note is one), so a single desk taking 1,000 changes spends minutes inside moto.
What a record costs does not depend on how many tickets surround it: the handler reads
by key only.

Wall time is printed for the reader only; the budget judges counts.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from unittest import mock

from chalice.test import Client

from tests.bench.counting import Calls, count_aws_calls
from tests.functional.conftest import PROJECT_DIR, sign_in
from tests.functional.desk import Desk, build_desk
from tests.functional.test_notifications import CLEO_PHONE, PUBLIC_URL, REGION, SENDER, NoSleep, Outbox
from tests.functional.test_stream_handler import LambdaTime, StreamTap, invoke

CHANGES_PER_DESK = 250
# Passes over the stream before its records must have run out: the changes, then the
# delivery log entries the handler wrote for them.
MAX_PASSES = 3
# One ticket's life, in the order its changes are made.
CYCLE = ("ticket created", "public note", "private note", "status change", "close")
STAFF_EMAIL = "bench-stream@example.com"
STAFF_PASSWORD = "bench stream password that is long enough"


class StreamBenchFailed(RuntimeError):
    """A setup request or a batch failed: the counts would describe an error path."""


@dataclass(frozen=True)
class Batch:
    """One invocation: the kinds of item its records were about, and what it asked of AWS."""

    kinds: Counter[str]
    calls: Calls

    @property
    def records(self) -> int:
        return sum(self.kinds.values())

    @property
    def messages(self) -> int:
        """Messages the handler tried to send: each is one SES or SNS call."""
        return len(self.calls.of("ses").calls) + len(self.calls.of("sns").calls)


@dataclass(frozen=True)
class StreamRun:
    """The changes made, the stream records they left, and what handling them cost."""

    made: Counter[str]
    desks: int
    tables: dict[str, str]
    batches: list[Batch]
    emails: int
    sms: int
    # Sleeps botocore's retries asked for (recorded, never slept).
    retry_sleeps: int
    seconds: float

    @property
    def changes(self) -> int:
        return sum(self.made.values())

    @property
    def kinds(self) -> Counter[str]:
        return sum((batch.kinds for batch in self.batches), Counter())

    @property
    def records(self) -> int:
        return sum(batch.records for batch in self.batches)

    @property
    def messages(self) -> int:
        return sum(batch.messages for batch in self.batches)

    @property
    def calls(self) -> Calls:
        return Calls([call for batch in self.batches for call in batch.calls.calls])

    @property
    def records_per_second(self) -> float:
        return self.records / self.seconds if self.seconds else 0.0


# -- the desk and its changes --------------------------------------------------------


@contextmanager
def sending_desk(client: Client) -> Iterator[Desk]:
    """The functional tests' desk, made to send as their ``outbox`` fixture makes it: a
    public URL, a verified sender, SMS on, Cleo opted in with a mobile number, fresh provider
    clients, and botocore's retry sleeps recorded instead of slept. Rating options too, so
    each close notice carries its rating links."""
    import boto3

    from chalicelib.domain.staff import create_staff
    from chalicelib.notify import sender

    create_staff(STAFF_EMAIL, "Bea Bench", "admin", STAFF_PASSWORD)
    desk = build_desk(sign_in(client, STAFF_EMAIL, STAFF_PASSWORD))
    with (
        mock.patch.dict(os.environ, {"HELPDESK_PUBLIC_URL": PUBLIC_URL}),
        mock.patch("botocore.endpoint.time", NoSleep()),
    ):
        sender.ses_client.cache_clear()
        sender.sns_client.cache_clear()
        boto3.client("ses", region_name=REGION).verify_email_identity(EmailAddress=SENDER)
        desk.put_settings(sender_email=SENDER, notify_sms_enabled=True)
        for label, score in (("Great", 100), ("Fine", 50), ("Poor", 0)):
            desk.created("/api/rating-options", {"label": label, "score": score})
        cleo = _answer(desk.api.get(f"/api/contacts/{desk.contacts['cleo']}"))
        opted_in = {"phone": CLEO_PHONE, "notify_sms": True, "version": cleo["version"]}
        _answer(desk.api.patch(f"/api/contacts/{cleo['id']}", opted_in))
        try:
            yield desk
        finally:
            sender.ses_client.cache_clear()
            sender.sns_client.cache_clear()


def _answer(response: Any, status: int = 200) -> Any:
    if response.status_code != status:
        raise StreamBenchFailed(f"request answered {response.status_code}: {response.body!r}")
    return response.data


def make_changes(desk: Desk, count: int) -> Counter[str]:
    """Make ``count`` changes, cycle after cycle, tickets alternating between Cleo (email and
    SMS) and Dana (email only); how many of each kind were made."""
    staff: list[dict[str, Any]] = _answer(desk.api.get("/api/staff"))["items"]
    handler_id = next(member["id"] for member in staff if member["email"] == STAFF_EMAIL)
    made: Counter[str] = Counter()
    number = 0

    for position in range(count):
        kind = CYCLE[position % len(CYCLE)]
        cycle = position // len(CYCLE)
        if kind == "ticket created":
            contact = ("cleo", "dana")[cycle % 2]
            number = desk.ticket(contact, subject=f"Order {cycle} arrived damaged")["number"]
        elif kind in ("public note", "private note"):
            note = {"body": f"Reply {position}: a new one is on its way.", "public": kind == "public note"}
            _answer(desk.api.post(f"/api/tickets/{number}/notes", note), 201)
        else:
            ticket = _answer(desk.api.get(f"/api/tickets/{number}"))
            if kind == "status change":
                change = {"status_id": desk.statuses["waiting"], "assignee_id": handler_id}
            else:
                change = {"status_id": desk.statuses["solved"]}
            _answer(desk.api.patch(f"/api/tickets/{number}", {**change, "version": ticket["version"]}))
        made[kind] += 1

    return made


# -- the stream and the handler ------------------------------------------------------


def read_stream(tap: StreamTap) -> list[dict[str, Any]]:
    """Every record written since the tap last read, across as many reads as it takes."""
    records: list[dict[str, Any]] = []
    while taken := tap.take():
        records += taken
    return records


def record_kind(record: dict[str, Any]) -> str:
    """The kind of item a record is about (``ticket``, ``note``, ``counter``...).

    An image without its ``kind`` is named after its partition: moto records the first
    upsert of the ticket number counter twice, once with its key alone.
    """
    change = record["dynamodb"]
    image = change.get("NewImage") or change.get("OldImage") or {}
    if "kind" in image:
        return str(image["kind"]["S"])
    return str(change["Keys"]["pk"]["S"]).split("#", 1)[0].lower()


def batch_size() -> int:
    """How many records Lambda hands ``app.on_table_change`` at once, as the app declares it."""
    from chalice.app import DynamoDBEventConfig

    from app import app

    (source,) = [
        source
        for source in app.event_sources
        if isinstance(source, DynamoDBEventConfig) and source.name == "on_table_change"
    ]
    return int(source.batch_size)


def handle(client: Client, records: list[dict[str, Any]]) -> tuple[list[Batch], float, int]:
    """Hand the records to the handler in Lambda-sized batches, a fresh context each; the
    batches, the wall time spent in the handler, and the retry sleeps botocore asked for."""
    batches: list[Batch] = []
    sleeps = NoSleep()
    seconds = 0.0

    size = batch_size()
    with mock.patch("botocore.endpoint.time", sleeps):
        for start in range(0, len(records), size):
            batch = records[start : start + size]
            context = LambdaTime()
            with count_aws_calls() as calls:
                started = time.perf_counter()
                response = invoke(client, batch, context)
                seconds += time.perf_counter() - started
            if response != {"batchItemFailures": []}:
                raise StreamBenchFailed(f"the batch from record {start} answered {response}")
            batches.append(Batch(Counter(record_kind(record) for record in batch), calls))

    return batches, seconds, len(sleeps.delays)


def drain(tap: StreamTap, client: Client) -> tuple[list[Batch], float, int]:
    """Handle the stream until it has nothing more, as Lambda keeps polling the shard.

    The handler's own writes (the delivery log) come back through the stream in a second
    pass; handling them writes nothing, so a third finds the stream quiet.
    """
    batches: list[Batch] = []
    seconds = 0.0
    sleeps = 0
    for _ in range(MAX_PASSES):
        records = read_stream(tap)
        if not records:
            return batches, seconds, sleeps
        handled, spent, slept = handle(client, records)
        batches += handled
        seconds += spent
        sleeps += slept
    raise StreamBenchFailed(f"the stream still had records after {MAX_PASSES} passes of the handler")


def measure_desk(changes: int) -> StreamRun:
    """A fresh mocked account: one desk makes ``changes`` changes, then the handler runs."""
    import boto3
    from moto import mock_aws

    from chalicelib.notify.deliver import IDEMPOTENCY_TABLE_VARIABLE
    from chalicelib.settings import table_name_from_env
    from local import tables

    names = {"main": table_name_from_env(), "idempotency": os.environ[IDEMPOTENCY_TABLE_VARIABLE]}
    with mock_aws():
        tables.create_all(
            boto3.client("dynamodb"),
            {"HelpdeskTable": names["main"], "IdempotencyTable": names["idempotency"]},
        )
        from app import app

        with (
            Client(app, project_dir=str(PROJECT_DIR), stage_name="dev") as client,
            sending_desk(client) as desk,
        ):
            tap = StreamTap()
            read_stream(tap)
            made = make_changes(desk, changes)
            batches, seconds, sleeps = drain(tap, client)
            outbox = Outbox()
            return StreamRun(
                made=made,
                desks=1,
                tables=names,
                batches=batches,
                emails=len(outbox.emails()),
                sms=len(outbox.sms()),
                retry_sleeps=sleeps,
                seconds=seconds,
            )


def measure_stream(changes: int, per_desk: int = CHANGES_PER_DESK) -> StreamRun:
    """``changes`` changes over desks of ``per_desk``, each handled as it was made."""
    parts = [measure_desk(min(per_desk, changes - start)) for start in range(0, changes, per_desk)]
    return StreamRun(
        made=sum((part.made for part in parts), Counter()),
        desks=len(parts),
        tables=parts[0].tables,
        batches=[batch for part in parts for batch in part.batches],
        emails=sum(part.emails for part in parts),
        sms=sum(part.sms for part in parts),
        retry_sleeps=sum(part.retry_sleeps for part in parts),
        seconds=sum(part.seconds for part in parts),
    )
