"""The platform's performance budget, checked against two measured scales.

Budget (issue 2, section 9; issue 4 for the portal): a read endpoint or portal page makes
at most 2 DynamoDB round trips (the auth or session batch and one data call); creating a
ticket makes at most 2 writes; every operation reads the same number of items at both
scales; nothing scans; ``import app`` costs at most 1.5 times ``import boto3``.

Budget of the stream handler (issue 3), per stream record, derived from
``chalicelib/notify/deliver.py``: see ``STREAM_READS`` and what follows it.
"""

from __future__ import annotations

from dataclasses import dataclass

from tests.bench.counting import Calls
from tests.bench.imports import ImportTimes
from tests.bench.operations import CREATE, READ, Measurement
from tests.bench.stream import Batch, StreamRun

READ_ROUND_TRIPS = 2
CREATE_WRITES = 2
IMPORT_RATIO = 1.5


@dataclass(frozen=True)
class Check:
    rule: str
    passed: bool
    # The operations that broke the rule, with their counts; empty when it held.
    failures: tuple[str, ...] = ()


def pairs(small: list[Measurement], large: list[Measurement]) -> list[tuple[Measurement, Measurement]]:
    """The same operation at both scales, in the order they ran."""
    labels = [measurement.label for measurement in small]
    if labels != [measurement.label for measurement in large]:
        raise ValueError("the two scales measured different operations")
    return list(zip(small, large, strict=True))


RULES = (
    f"read endpoints <= {READ_ROUND_TRIPS} round trips",
    f"ticket creation <= {CREATE_WRITES} writes",
    "items read the same at both scales",
    "zero Scans",
)


def operation_failures(small: Measurement, large: Measurement) -> dict[str, str]:
    """The rules this one operation breaks, each with the counts that break it."""
    failures = {}
    trips = max(small.calls.round_trips, large.calls.round_trips)
    if small.kind == READ and trips > READ_ROUND_TRIPS:
        failures[RULES[0]] = f"{trips} round trips"
    writes = max(small.calls.writes, large.calls.writes)
    if small.kind == CREATE and writes > CREATE_WRITES:
        failures[RULES[1]] = f"{writes} writes"
    if small.calls.items_read != large.calls.items_read:
        failures[RULES[2]] = f"{small.calls.items_read} vs {large.calls.items_read} items"
    scans = small.calls.scans + large.calls.scans
    if scans:
        failures[RULES[3]] = f"{scans} scans"
    return failures


def check_operations(small: list[Measurement], large: list[Measurement]) -> list[Check]:
    """One check per budget rule over every operation measured at both scales."""
    broken: dict[str, list[str]] = {rule: [] for rule in RULES}
    for one, other in pairs(small, large):
        for rule, detail in operation_failures(one, other).items():
            broken[rule].append(f"{one.label}: {detail}")
    return [Check(rule, not broken[rule], tuple(broken[rule])) for rule in RULES]


def check_import(times: ImportTimes) -> Check:
    passed = times.ratio <= IMPORT_RATIO
    detail = () if passed else (f"ratio {times.ratio:.2f}",)
    return Check(f"import app <= {IMPORT_RATIO} x import boto3", passed, detail)


# -- the stream handler --------------------------------------------------------------

# Round trips one record may cost before its messages, by the kind of item it is about. A
# ticket record carries the ticket in its new image, so one read fetches the contact, the
# assignee and the config; if it changes what the dashboard counts, the figures are read and
# written back (one BatchGetItem, one TransactWriteItems with the record's marker). A note
# record first needs its ticket (with the config), since only the ticket names the contact,
# then a second read. A rating record changes only the figures. A private note, a record
# with no notifying event that counts nothing (a note's count on its ticket) and any other
# item (the ticket number counter, the handler's own writes coming back) cost nothing.
# A record that shows the contact something adds it to their recent activity: the item and
# the config read together, then written back under its version (a note record reads its
# ticket first, as above).
STREAM_READS = {"ticket": 1 + 2 + 2, "note": 2 + 3, "rating": 2}
# Each message sent then costs three writes: Powertools idempotency's in-progress PutItem and
# its completing UpdateItem (its own table), and the delivery log's PutItem.
STREAM_WRITES_PER_MESSAGE = 3
# A record sends at most one email and one SMS: rules.plan keeps one message per channel and
# recipient, and one change tells either the contact or a single member of staff.
STREAM_MESSAGES_PER_RECORD = 2
# Worst case of one record: a ticket change told by email and SMS, 5 + 2 * 3 = 11.
STREAM_WORST_CASE = max(STREAM_READS.values()) + STREAM_MESSAGES_PER_RECORD * STREAM_WRITES_PER_MESSAGE

STREAM_RULES = (
    "stream: zero Scans",
    f"stream: DynamoDB round trips <= {STREAM_READS['ticket']} per ticket record"
    f" + {STREAM_READS['note']} per note or rating record + {STREAM_WRITES_PER_MESSAGE} per message,"
    " in every batch",
    f"stream: DynamoDB round trips <= {STREAM_WORST_CASE} per record, in every batch",
    "stream: one provider call per message, none retried or refused, each in the outbox",
)


def stream_bound(batch: Batch) -> int:
    """The most DynamoDB round trips this batch may cost, given its records and messages."""
    reads = sum(STREAM_READS.get(kind, 0) * count for kind, count in batch.kinds.items())
    return reads + STREAM_WRITES_PER_MESSAGE * batch.messages


def check_stream(run: StreamRun) -> list[Check]:
    """One check per stream rule over every batch the handler was given."""
    broken: dict[str, list[str]] = {rule: [] for rule in STREAM_RULES}
    for position, batch in enumerate(run.batches, start=1):
        dynamodb = batch.calls.of("dynamodb")
        name = f"batch {position} ({batch.records} records, {batch.messages} messages)"
        if dynamodb.scans:
            broken[STREAM_RULES[0]].append(f"{name}: {dynamodb.scans} scans")
        if dynamodb.round_trips > stream_bound(batch):
            broken[STREAM_RULES[1]].append(f"{name}: {dynamodb.round_trips} > {stream_bound(batch)}")
        if dynamodb.round_trips > STREAM_WORST_CASE * batch.records:
            broken[STREAM_RULES[2]].append(f"{name}: {dynamodb.round_trips} round trips")

    provider = Calls(run.calls.of("ses").calls + run.calls.of("sns").calls)
    sent = {"SendEmail": run.emails, "Publish": run.sms}
    made = {operation: provider.by_operation.get(operation, 0) for operation in sent}
    if made != sent:
        broken[STREAM_RULES[3]].append(f"provider calls {made}, outbox {sent}")
    troubled = sum(1 for call in provider.calls if call.retries or call.failed)
    if troubled or run.retry_sleeps:
        broken[STREAM_RULES[3]].append(f"{troubled} calls retried or refused, {run.retry_sleeps} sleeps")

    return [Check(rule, not broken[rule], tuple(broken[rule])) for rule in STREAM_RULES]
