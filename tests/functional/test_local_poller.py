"""The local stream poller against moto's DynamoDB stream: Lambda's delivery rules."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import boto3
import pytest

from local.poller import StreamPoller, lambda_record

TABLE = "helpdesk-test"


def write(*keys: str) -> None:
    client = boto3.client("dynamodb")
    for key in keys:
        client.put_item(TableName=TABLE, Item={"pk": {"S": key}, "sk": {"S": "ITEM"}})


def key_of(record: dict[str, Any]) -> str:
    return str(record["dynamodb"]["Keys"]["pk"]["S"])


class RecordingHandler:
    """Stands in for the stream handler: keeps every event, fails the records it is told to."""

    def __init__(self, fails: Callable[[str, int], bool] = lambda key, call: False) -> None:
        self.fails = fails
        self.events: list[dict[str, Any]] = []
        self.contexts: list[Any] = []
        self.called = threading.Event()

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        self.events.append(event)
        self.contexts.append(context)
        self.called.set()
        call = len(self.events)
        failures = [
            {"itemIdentifier": record["dynamodb"]["SequenceNumber"]}
            for record in event["Records"]
            if self.fails(key_of(record), call)
        ]
        return {"batchItemFailures": failures}

    @property
    def batches(self) -> list[list[str]]:
        return [[key_of(record) for record in event["Records"]] for event in self.events]


def make_poller(handler: Any, **options: Any) -> StreamPoller:
    settings: dict[str, Any] = {"batch_size": 10, "max_retries": 2, "retry_delay": 0, "interval": 0.05}
    settings.update(options)
    return StreamPoller(handler=handler, table_name=TABLE, region="us-east-1", **settings)


def test_batches_are_never_larger_than_the_configured_batch_size(aws: None) -> None:
    handler = RecordingHandler()
    poller = make_poller(handler, batch_size=3)
    write(*[f"K{number}" for number in range(7)])

    for _ in range(4):
        poller.poll_once()

    assert handler.batches == [["K0", "K1", "K2"], ["K3", "K4", "K5"], ["K6"]]


def test_events_have_the_shape_lambda_delivers(aws: None) -> None:
    handler = RecordingHandler()
    poller = make_poller(handler, context_factory=lambda: "the context")
    write("K0")

    poller.poll_once()

    stream_arn = boto3.client("dynamodb").describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
    (record,) = handler.events[0]["Records"]
    assert record["eventSource"] == "aws:dynamodb"
    assert record["eventSourceARN"] == stream_arn
    assert record["awsRegion"] == "us-east-1"
    assert record["eventName"] == "INSERT"
    assert isinstance(record["dynamodb"]["ApproximateCreationDateTime"], int)
    assert record["dynamodb"]["NewImage"] == {"pk": {"S": "K0"}, "sk": {"S": "ITEM"}}
    assert handler.contexts == ["the context"]


def test_binary_attribute_values_are_base64_as_in_lambda_events() -> None:
    record = {"dynamodb": {"NewImage": {"blob": {"B": b"\x00\xff"}, "set": {"BS": [b"a"]}}}}

    shaped = lambda_record(record, "arn:stream", "eu-west-1")

    assert shaped["dynamodb"]["NewImage"] == {"blob": {"B": "AP8="}, "set": {"BS": ["YQ=="]}}
    assert record["dynamodb"]["NewImage"]["blob"] == {"B": b"\x00\xff"}


def test_a_failed_record_is_delivered_again_from_its_sequence_number(aws: None) -> None:
    # GIVEN a handler that fails K2 on its first call only
    handler = RecordingHandler(fails=lambda key, call: key == "K2" and call == 1)
    poller = make_poller(handler)
    write("K0", "K1", "K2", "K3")

    # WHEN the poller delivers the batch
    poller.poll_once()
    poller.poll_once()

    # THEN the retry starts at K2, not at the start of the batch, and nothing is set aside
    assert handler.batches == [["K0", "K1", "K2", "K3"], ["K2", "K3"]]
    assert poller.failed_batches == []


def test_a_handler_error_retries_the_whole_batch(aws: None) -> None:
    calls: list[list[str]] = []

    def crashing_once(event: dict[str, Any], context: Any) -> dict[str, Any]:
        calls.append([key_of(record) for record in event["Records"]])
        if len(calls) == 1:
            raise RuntimeError("boom")
        return {"batchItemFailures": []}

    poller = make_poller(crashing_once)
    write("K0", "K1")

    poller.poll_once()

    assert calls == [["K0", "K1"], ["K0", "K1"]]
    assert poller.failed_batches == []


def test_an_unknown_item_identifier_fails_the_whole_batch(aws: None) -> None:
    responses = iter([{"batchItemFailures": [{"itemIdentifier": "not-a-sequence-number"}]}, {}])
    calls: list[list[str]] = []

    def confused(event: dict[str, Any], context: Any) -> dict[str, Any]:
        calls.append([key_of(record) for record in event["Records"]])
        return next(responses)

    poller = make_poller(confused)
    write("K0", "K1")

    poller.poll_once()

    assert calls == [["K0", "K1"], ["K0", "K1"]]


def test_exhausted_retries_send_the_batch_to_the_failure_list_and_the_poller_moves_on(aws: None) -> None:
    # GIVEN a record the handler can never process, and two retries allowed
    handler = RecordingHandler(fails=lambda key, call: key == "K1")
    poller = make_poller(handler, max_retries=2)
    write("K0", "K1", "K2")

    # WHEN the poller delivers it
    poller.poll_once()

    # THEN one first attempt and two retries, each from K1; then the batch is set aside
    assert handler.batches == [["K0", "K1", "K2"], ["K1", "K2"], ["K1", "K2"]]
    (failed,) = poller.failed_batches
    sequence = {
        key_of(record): record["dynamodb"]["SequenceNumber"] for record in handler.events[0]["Records"]
    }
    assert failed.attempts == 3
    assert failed.first_sequence_number == sequence["K1"]
    assert failed.last_sequence_number == sequence["K2"]
    assert failed.failed_sequence_numbers == [sequence["K1"]]
    assert [key_of(record) for record in failed.records] == ["K1", "K2"]

    # AND later records are delivered; the set-aside ones are not read again
    write("K3")
    poller.poll_once()
    assert handler.batches[-1] == ["K3"]
    assert len(handler.events) == 4


def test_latest_starting_position_skips_what_is_already_in_the_stream(aws: None) -> None:
    handler = RecordingHandler()
    write("OLD")
    poller = make_poller(handler, starting_position="LATEST")

    poller.poll_once()
    write("NEW")
    poller.poll_once()

    assert handler.batches == [["NEW"]]


def test_the_running_poller_delivers_new_changes_until_stopped(aws: None) -> None:
    handler = RecordingHandler()
    poller = make_poller(handler)
    poller.start()
    try:
        assert poller.running
        write("K0")
        assert handler.called.wait(timeout=10)
    finally:
        poller.stop()

    assert handler.batches == [["K0"]]
    assert not poller.running


def test_the_apps_stream_handler_reports_an_undecodable_record_until_it_is_set_aside(aws: None) -> None:
    # GIVEN the real handler Lambda calls, and an item of no known kind next to a valid one
    from app import app

    handler = app.handler_map["on_table_change"]
    responses: list[Any] = []

    def recording(event: dict[str, Any], context: Any) -> Any:
        responses.append(handler(event, context))
        return responses[-1]

    from chalice.local import LambdaContext

    poller = make_poller(
        recording, max_retries=1, context_factory=lambda: LambdaContext("on_table_change", 512)
    )
    boto3.client("dynamodb").put_item(
        TableName=TABLE, Item={"pk": {"S": "X"}, "sk": {"S": "Y"}, "kind": {"S": "no-such-kind"}}
    )
    write("K1")

    # WHEN the poller delivers them
    poller.poll_once()

    # THEN the handler fails only the undecodable record, twice, and the poller sets it aside
    assert len(responses) == 2
    assert all(len(response["batchItemFailures"]) == 1 for response in responses)
    (failed,) = poller.failed_batches
    assert [record["dynamodb"]["Keys"]["pk"]["S"] for record in failed.records] == ["X", "K1"]


@pytest.mark.parametrize(("size", "position"), [(0, "TRIM_HORIZON"), (10, "AT_TIMESTAMP")])
def test_settings_lambda_would_reject_are_refused(size: int, position: str) -> None:
    with pytest.raises(ValueError, match=r"batch_size|starting_position"):
        StreamPoller(
            handler=RecordingHandler(),
            table_name=TABLE,
            region="us-east-1",
            batch_size=size,
            starting_position=position,
        )
