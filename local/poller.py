"""A local stand-in for Lambda's DynamoDB stream event source mapping.

It reads the table's stream and invokes the stream handler the way Lambda does: batches
of at most the configured size, in order per shard, as a Lambda-shaped event. A partial
batch response (``batchItemFailures``) or a raised error makes it deliver again from the
first failed record; after the allowed retries the batch goes to the "on-failure
destination", here a list kept in memory and a loud log line, and the shard moves on.
"""

from __future__ import annotations

import base64
import copy
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chalicelib import clock

logger = logging.getLogger("local.poller")

Handler = Callable[[dict[str, Any], Any], Any]


@dataclass(frozen=True)
class FailedBatch:
    """What Lambda would send to the on-failure destination, plus the records themselves."""

    shard_id: str
    first_sequence_number: str
    last_sequence_number: str
    attempts: int
    reason: str
    failed_sequence_numbers: list[str]
    records: list[dict[str, Any]]
    failed_at: datetime = field(default_factory=clock.now)


@dataclass
class _Shard:
    shard_id: str
    parent_id: str | None
    iterator: str | None = None
    finished: bool = False


class BatchFailed(Exception):
    """An invocation did not process the whole batch."""

    def __init__(self, first_failed: str, failed: list[str], reason: str) -> None:
        super().__init__(reason)
        self.first_failed = first_failed
        self.failed = failed
        self.reason = reason


def _binary_to_base64(value: Any) -> Any:
    """Lambda events carry binary attribute values base64-encoded; boto3 hands out bytes."""
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, dict):
        return {key: _binary_to_base64(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_binary_to_base64(item) for item in value]
    return value


def lambda_record(record: dict[str, Any], stream_arn: str, region: str) -> dict[str, Any]:
    """A GetRecords record as Lambda delivers it in a DynamoDB stream event."""
    shaped: dict[str, Any] = _binary_to_base64(copy.deepcopy(record))
    shaped["eventSource"] = "aws:dynamodb"
    shaped["eventSourceARN"] = stream_arn
    shaped["awsRegion"] = region
    change = shaped.setdefault("dynamodb", {})
    moment = change.get("ApproximateCreationDateTime")
    if isinstance(moment, datetime):
        # Lambda sends whole epoch seconds; Chalice reads them with utcfromtimestamp.
        change["ApproximateCreationDateTime"] = int(moment.timestamp())
    return shaped


def _sequence(record: dict[str, Any]) -> str:
    return str(record["dynamodb"]["SequenceNumber"])


class StreamPoller:
    """Polls one table's stream and feeds ``handler`` as Lambda would.

    ``batch_size`` and ``starting_position`` come from the handler's registration
    (``app.event_sources``), ``max_retries`` from the event source in ``infra/``.
    """

    def __init__(
        self,
        *,
        handler: Handler,
        table_name: str,
        region: str,
        batch_size: int,
        starting_position: str = "TRIM_HORIZON",
        max_retries: int = 2,
        context_factory: Callable[[], Any] = lambda: None,
        dynamodb: Any = None,
        streams: Any = None,
        interval: float = 0.2,
        retry_delay: float = 0.2,
    ) -> None:
        import boto3

        if not 1 <= batch_size <= 10_000:
            raise ValueError("batch_size must be from 1 to 10000")
        if starting_position not in ("TRIM_HORIZON", "LATEST"):
            raise ValueError("starting_position must be TRIM_HORIZON or LATEST")
        self.handler = handler
        self.table_name = table_name
        self.region = region
        self.batch_size = batch_size
        self.starting_position = starting_position
        self.max_retries = max_retries
        self.context_factory = context_factory
        self.interval = interval
        self.retry_delay = retry_delay
        self.dynamodb = dynamodb or boto3.client("dynamodb", region_name=region)
        self.streams = streams or boto3.client("dynamodbstreams", region_name=region)
        self.failed_batches: list[FailedBatch] = []
        self.stop_event = threading.Event()
        self._stream_arn: str | None = None
        self._shards: dict[str, _Shard] = {}
        self._thread: threading.Thread | None = None

    # -- shards --------------------------------------------------------------------

    @property
    def stream_arn(self) -> str:
        """The table's latest stream, looked up on first use, so building a poller costs no call."""
        if self._stream_arn is None:
            table = self.dynamodb.describe_table(TableName=self.table_name)["Table"]
            arn = table.get("LatestStreamArn")
            if not arn:
                raise RuntimeError(f"table {self.table_name} has no stream")
            self._stream_arn = str(arn)
        return self._stream_arn

    def _discover_shards(self) -> None:
        """Learn the stream's shards; the first ones start at ``starting_position``."""
        first_look = not self._shards
        arguments: dict[str, Any] = {"StreamArn": self.stream_arn}
        while True:
            description = self.streams.describe_stream(**arguments)["StreamDescription"]
            for shard in description.get("Shards", []):
                shard_id = shard["ShardId"]
                if shard_id not in self._shards:
                    self._shards[shard_id] = _Shard(shard_id, shard.get("ParentShardId"))
                    # A shard that appears later is read whole: its records are all new.
                    position = self.starting_position if first_look else "TRIM_HORIZON"
                    self._shards[shard_id].iterator = self._iterator(shard_id, position)
            last = description.get("LastEvaluatedShardId")
            if not last:
                return
            arguments["ExclusiveStartShardId"] = last

    def _iterator(self, shard_id: str, position: str, sequence_number: str | None = None) -> str:
        arguments: dict[str, Any] = {
            "StreamArn": self.stream_arn,
            "ShardId": shard_id,
            "ShardIteratorType": position,
        }
        if sequence_number is not None:
            arguments["SequenceNumber"] = sequence_number
        return str(self.streams.get_shard_iterator(**arguments)["ShardIterator"])

    def _ready(self, shard: _Shard) -> bool:
        """A child shard waits until its parent is read to the end, to keep key order."""
        if shard.finished or shard.iterator is None:
            return False
        parent = self._shards.get(shard.parent_id) if shard.parent_id else None
        return parent is None or parent.finished

    # -- polling -------------------------------------------------------------------

    def poll_once(self) -> int:
        """Read one batch from every ready shard and deliver it; returns records read."""
        if not self._shards:
            self._discover_shards()
        delivered = 0
        for shard in list(self._shards.values()):
            if self._ready(shard):
                delivered += self._poll_shard(shard)
        if any(shard.finished for shard in self._shards.values()):
            self._discover_shards()
        return delivered

    def _poll_shard(self, shard: _Shard) -> int:
        response = self.streams.get_records(ShardIterator=shard.iterator, Limit=self.batch_size)
        records = response.get("Records", [])
        shard.iterator = response.get("NextShardIterator")
        if records:
            shard.iterator = self._deliver(shard, records, shard.iterator)
        if shard.iterator is None:
            # A closed shard: everything in it has been read.
            shard.finished = True
        return len(records)

    def _deliver(self, shard: _Shard, records: list[dict[str, Any]], next_iterator: str | None) -> str | None:
        """Invoke until the batch succeeds or retries run out; returns where to read on."""
        # shortcoming: no BisectBatchOnFunctionError emulation; a failing batch is retried from
        # its first failed record and then set aside whole, as Lambda does without bisection.
        attempts = 0
        while True:
            attempts += 1
            try:
                self._invoke(records)
                return next_iterator
            except BatchFailed as failure:
                if self.stop_event.is_set():
                    logger.warning("stream retry abandoned at shutdown shard=%s", shard.shard_id)
                    return next_iterator
                if attempts > self.max_retries:
                    self._set_aside(shard, records, attempts, failure)
                    return next_iterator
                logger.warning(
                    "stream batch failed, retrying shard=%s from=%s attempt=%d reason=%s",
                    shard.shard_id,
                    failure.first_failed,
                    attempts,
                    failure.reason,
                )
                self.stop_event.wait(self.retry_delay * attempts)
                # Like Lambda: read again from the first failed record, not from the batch start.
                iterator = self._iterator(shard.shard_id, "AT_SEQUENCE_NUMBER", failure.first_failed)
                response = self.streams.get_records(ShardIterator=iterator, Limit=self.batch_size)
                records = response.get("Records", [])
                next_iterator = response.get("NextShardIterator")
                if not records:
                    return next_iterator

    def _invoke(self, records: list[dict[str, Any]]) -> None:
        """One invocation of the handler; raises ``BatchFailed`` unless every record went through."""
        event = {"Records": [lambda_record(record, self.stream_arn, self.region) for record in records]}
        sequences = [_sequence(record) for record in records]
        try:
            response = self.handler(event, self.context_factory())
        except Exception as exc:
            logger.exception("stream handler raised size=%d", len(records))
            raise BatchFailed(sequences[0], sequences, f"handler raised {type(exc).__name__}") from exc

        failures = response.get("batchItemFailures") if isinstance(response, dict) else None
        if not failures:
            return
        identifiers = [
            str(failure.get("itemIdentifier") or "") if isinstance(failure, dict) else ""
            for failure in (failures if isinstance(failures, list) else [None])
        ]
        if not all(identifier in sequences for identifier in identifiers):
            # Lambda treats an unknown or empty identifier as a failure of the whole batch.
            raise BatchFailed(sequences[0], sequences, "invalid batchItemFailures")
        first = min(identifiers, key=int)
        raise BatchFailed(first, sorted(identifiers, key=int), f"{len(identifiers)} record(s) failed")

    def _set_aside(
        self, shard: _Shard, records: list[dict[str, Any]], attempts: int, failure: BatchFailed
    ) -> None:
        batch = FailedBatch(
            shard_id=shard.shard_id,
            first_sequence_number=_sequence(records[0]),
            last_sequence_number=_sequence(records[-1]),
            attempts=attempts,
            reason=failure.reason,
            failed_sequence_numbers=failure.failed,
            records=[lambda_record(record, self.stream_arn, self.region) for record in records],
        )
        self.failed_batches.append(batch)
        logger.error(
            "stream batch sent to the on-failure destination, skipping it shard=%s first=%s last=%s "
            "records=%d attempts=%d reason=%s",
            batch.shard_id,
            batch.first_sequence_number,
            batch.last_sequence_number,
            len(records),
            attempts,
            batch.reason,
        )

    # -- running -------------------------------------------------------------------

    def run(self) -> None:
        """Poll until stopped. A failure of the poll itself is logged and retried."""
        while not self.stop_event.is_set():
            try:
                read = self.poll_once()
            except Exception:
                logger.exception("stream poll failed table=%s", self.table_name)
                read = 0
            if not read:
                self.stop_event.wait(self.interval)

    @property
    def running(self) -> bool:
        """Whether the polling thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Poll in a daemon thread, so a poll that hangs cannot keep the process from exiting."""
        self._thread = threading.Thread(target=self.run, name="stream-poller", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10) -> None:
        """Ask the thread to stop and wait up to ``timeout`` seconds; a retry pause ends at once."""
        self.stop_event.set()
        if self._thread is not None:
            self._thread.join(timeout)
