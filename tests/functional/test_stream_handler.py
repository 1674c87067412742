"""The stream handler, fed real records: API changes against moto, read back through
DynamoDB Streams and shaped the way Lambda delivers them."""

from __future__ import annotations

import copy
import json
from typing import Any

import boto3
import pytest
from chalice.test import Client

from tests.bench.counting import count_calls
from tests.functional.conftest import ADMIN_PASSWORD, PROJECT_DIR, Api, AppLogs, sign_in
from tests.functional.desk import Desk

TABLE = "helpdesk-test"


class StreamTap:
    """Reads the table's stream from where it was last read, like a Lambda event source."""

    def __init__(self) -> None:
        description = boto3.client("dynamodb").describe_table(TableName=TABLE)["Table"]
        self.arn: str = description["LatestStreamArn"]
        self.streams = boto3.client("dynamodbstreams")
        shards = self.streams.describe_stream(StreamArn=self.arn)["StreamDescription"]["Shards"]
        assert len(shards) == 1
        self.iterator = self.streams.get_shard_iterator(
            StreamArn=self.arn, ShardId=shards[0]["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]

    def take(self) -> list[dict[str, Any]]:
        """Every record written since the last call, as Lambda would hand them over."""
        response = self.streams.get_records(ShardIterator=self.iterator)
        self.iterator = response["NextShardIterator"]
        return [self._as_lambda_record(record) for record in response["Records"]]

    def _as_lambda_record(self, record: dict[str, Any]) -> dict[str, Any]:
        shaped = copy.deepcopy(record)
        shaped["eventSourceARN"] = self.arn
        # boto3 parses the time; Lambda sends epoch seconds (Chalice reads it that way).
        shaped["dynamodb"]["ApproximateCreationDateTime"] = record["dynamodb"][
            "ApproximateCreationDateTime"
        ].timestamp()
        return shaped


pytestmark = pytest.mark.usefixtures("clock")


@pytest.fixture
def tap(desk: Desk) -> StreamTap:
    """A stream reader positioned after the setup's own records."""
    reader = StreamTap()
    reader.take()
    return reader


@pytest.fixture
def logs(app_logs: AppLogs) -> AppLogs:
    return app_logs


class LambdaTime:
    """The part of a Lambda context the handler reads: the time left until the timeout.

    The test client's own context allows 3 s, less than the handler's safety margin; Lambda
    gives this function its configured timeout. ``runs_out_after`` lets a test end the time
    after that many looks at the clock (the realignment looks once per ticket).
    """

    aws_request_id = "test-invocation"

    def __init__(self, runs_out_after: int | None = None) -> None:
        config = json.loads((PROJECT_DIR / ".chalice" / "config.json").read_text())
        self.timeout_ms = 1000 * int(config["lambda_functions"]["on_table_change"]["lambda_timeout"])
        self.looks_left = runs_out_after

    def get_remaining_time_in_millis(self) -> int:
        if self.looks_left is None:
            return self.timeout_ms
        self.looks_left -= 1
        return self.timeout_ms if self.looks_left >= 0 else 1_000


def invoke(
    client: Client, records: list[dict[str, Any]], context: LambdaTime | None = None
) -> dict[str, Any]:
    """Call the stream handler with a batch, as Lambda does (the client's app, our context)."""
    from app import app

    payload: dict[str, Any] = app.handler_map["on_table_change"](
        {"Records": records}, context or LambdaTime()
    )
    return payload


def ticket_events(logs: AppLogs) -> list[dict[str, Any]]:
    return [line for line in logs.lines() if line.get("message") == "ticket event"]


def summary(events: list[dict[str, Any]]) -> list[tuple[str, int]]:
    return [(event["event"], event["ticket_number"]) for event in events]


# -- decoded events ------------------------------------------------------------------


def test_a_new_ticket_is_logged_as_ticket_created(
    client: Client, desk: Desk, tap: StreamTap, logs: AppLogs
) -> None:
    ticket = desk.ticket("cleo")
    records = tap.take()

    response = invoke(client, records)

    assert response == {"batchItemFailures": []}
    events = ticket_events(logs)
    assert summary(events) == [("ticket_created", ticket["number"])]
    assert events[0]["contact_id"] == desk.contacts["cleo"]
    assert events[0]["status_id"] == desk.statuses["new"]
    assert events[0]["source"] == "staff"
    assert events[0]["service"] == "helpdesk"
    assert events[0]["level"] == "INFO"


def test_status_changes_closing_and_notes_are_logged_in_order(
    client: Client, desk: Desk, tap: StreamTap, logs: AppLogs, agent: Api
) -> None:
    # GIVEN a ticket, a status change, notes and a close, read off the stream in one batch
    ticket = desk.ticket("cleo")
    number = ticket["number"]
    waiting = desk.api.patch(
        f"/api/tickets/{number}", {"status_id": desk.statuses["waiting"], "version": ticket["version"]}
    )
    desk.api.post(f"/api/tickets/{number}/notes", {"body": "On it.", "public": True})
    desk.api.post(f"/api/tickets/{number}/notes", {"body": "Tricky one.", "public": False})
    desk.api.patch(
        f"/api/tickets/{number}", {"status_id": desk.statuses["solved"], "version": waiting.data["version"]}
    )
    records = tap.take()

    # WHEN the handler gets the batch
    response = invoke(client, records)

    # THEN every change is decoded, nothing failed
    assert response == {"batchItemFailures": []}
    events = ticket_events(logs)
    assert summary(events) == [
        ("ticket_created", number),
        ("status_changed", number),
        ("note_added", number),
        ("note_added", number),
        ("status_changed", number),
        ("ticket_closed", number),
    ]
    assert (events[1]["from"], events[1]["to"]) == (desk.statuses["new"], desk.statuses["waiting"])
    assert [event["public"] for event in events if event["event"] == "note_added"] == [True, False]
    assert {event["author_type"] for event in events if event["event"] == "note_added"} == {"staff"}
    assert events[5]["status_id"] == desk.statuses["solved"]


def test_assignment_and_reopening_are_logged(client: Client, desk: Desk, logs: AppLogs, agent: Api) -> None:
    ticket = desk.ticket("cleo", status_id=desk.statuses["solved"])
    members = desk.api.get("/api/staff").data["items"]
    agent_id = next(member["id"] for member in members if member["role"] == "agent")
    tap = StreamTap()
    tap.take()

    desk.api.patch(
        f"/api/tickets/{ticket['id']}",
        {"status_id": desk.statuses["waiting"], "assignee_id": agent_id, "version": ticket["version"]},
    )
    response = invoke(client, tap.take())

    assert response == {"batchItemFailures": []}
    events = ticket_events(logs)
    assert [event["event"] for event in events] == ["status_changed", "assignee_changed", "ticket_reopened"]
    # Powertools leaves keys whose value is None out of the line: no "from" means unassigned.
    assert "from" not in events[1]
    assert events[1]["to"] == agent_id


def test_changes_nobody_watches_make_no_events(
    client: Client, desk: Desk, tap: StreamTap, logs: AppLogs
) -> None:
    # Setup edits and new contacts are on the stream too; they are not ticket events.
    desk.created("/api/categories", {"name": "Returns"})
    desk.created("/api/contacts", {"name": "Eve Example", "email": "eve@example.com"})
    records = tap.take()
    assert records

    response = invoke(client, records)

    assert response == {"batchItemFailures": []}
    assert ticket_events(logs) == []


# -- failures ------------------------------------------------------------------------


def tickets_inserted(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The records of new tickets (the first creation also inserts the number counter)."""
    return [
        record
        for record in records
        if record["eventName"] == "INSERT" and record["dynamodb"]["NewImage"].get("kind") == {"S": "ticket"}
    ]


def corrupt(record: dict[str, Any]) -> dict[str, Any]:
    """The same record with a ticket number that is no number."""
    broken = copy.deepcopy(record)
    broken["dynamodb"]["NewImage"]["number"] = {"N": "not-a-number"}
    return broken


def test_a_malformed_record_alone_is_reported_failed_and_the_rest_processed(
    client: Client, desk: Desk, tap: StreamTap, logs: AppLogs
) -> None:
    # GIVEN three new tickets, the middle record damaged
    numbers = [desk.ticket()["number"] for _ in range(3)]
    inserts = tickets_inserted(tap.take())
    assert len(inserts) == 3
    inserts[1] = corrupt(inserts[1])

    # WHEN the batch is handled
    response = invoke(client, inserts)

    # THEN exactly that record is failed by sequence number; the others made their events
    assert response == {"batchItemFailures": [{"itemIdentifier": inserts[1]["dynamodb"]["SequenceNumber"]}]}
    lines = logs.lines()
    created = [line for line in lines if line.get("message") == "ticket event"]
    assert summary(created) == [("ticket_created", numbers[0]), ("ticket_created", numbers[2])]
    errors = [line for line in lines if line.get("message") == "malformed stream record"]
    assert [(line["level"], line["event_id"]) for line in errors] == [("ERROR", inserts[1]["eventID"])]


def test_a_record_with_an_unknown_event_name_is_failed(
    client: Client, desk: Desk, tap: StreamTap, logs: AppLogs
) -> None:
    desk.ticket()
    desk.ticket()
    good, bad = tickets_inserted(tap.take())
    bad["eventName"] = "UPSERT"

    response = invoke(client, [good, bad])

    assert response == {"batchItemFailures": [{"itemIdentifier": bad["dynamodb"]["SequenceNumber"]}]}
    assert [event["event"] for event in ticket_events(logs)] == ["ticket_created"]


def test_a_ttl_expiry_makes_no_event_and_no_failure(client: Client, desk: Desk, logs: AppLogs) -> None:
    # GIVEN a sign-in token removed the way DynamoDB's TTL sweep removes it
    from chalicelib.domain.staff import authenticate
    from chalicelib.store.models import StaffToken

    session = sign_in(client, "admin@example.com", ADMIN_PASSWORD)
    pk, sk = StaffToken.key(authenticate(f"Bearer {session.token}").token_hash)
    tap = StreamTap()
    tap.take()
    boto3.client("dynamodb").delete_item(TableName=TABLE, Key={"pk": {"S": pk}, "sk": {"S": sk}})
    (removal,) = tap.take()
    assert removal["eventName"] == "REMOVE"
    assert removal["dynamodb"]["OldImage"]["kind"] == {"S": "staff_token"}
    removal["userIdentity"] = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}

    # WHEN the handler gets it
    response = invoke(client, [removal])

    # THEN it is neither an event nor a failure
    assert response == {"batchItemFailures": []}
    assert ticket_events(logs) == []


# -- setup edits realign tickets -----------------------------------------------------


def test_a_service_levels_new_rank_moves_its_open_tickets_in_the_priority_queue(
    client: Client, desk: Desk, tap: StreamTap
) -> None:
    # GIVEN a gold ticket ahead of a standard one in the priority queue
    gold = desk.ticket("cleo")
    standard = desk.ticket("dana")
    queue = desk.api.get("/api/tickets?state=open").data["items"]
    assert [ticket["number"] for ticket in queue] == [gold["number"], standard["number"]]
    tap.take()

    # WHEN an admin ranks standard above gold and the stream delivers the edit
    edited = desk.api.patch(f"/api/service-levels/{desk.levels['standard']}", {"rank": 1, "version": 1})
    assert edited.status_code == 200, edited.body
    response = invoke(client, tap.take())

    # THEN the standard ticket leads the queue, and its version is untouched
    assert response == {"batchItemFailures": []}
    queue = desk.api.get("/api/tickets?state=open").data["items"]
    assert [ticket["number"] for ticket in queue] == [standard["number"], gold["number"]]
    assert queue[0]["version"] == standard["version"]


def test_a_status_that_becomes_closed_closes_its_tickets_without_telling_anyone(
    client: Client, desk: Desk, tap: StreamTap, logs: AppLogs
) -> None:
    ticket = desk.ticket("cleo", status_id=desk.statuses["waiting"])
    tap.take()

    closed = desk.api.patch(f"/api/statuses/{desk.statuses['waiting']}", {"closed": True, "version": 1})
    assert closed.status_code == 200, closed.body
    assert invoke(client, tap.take()) == {"batchItemFailures": []}
    # The realigned ticket's own change comes through the stream next: no event for it.
    assert invoke(client, tap.take()) == {"batchItemFailures": []}

    stored = desk.api.get(f"/api/tickets/{ticket['number']}").data
    assert stored["closed"] is True
    assert stored["closed_at"] is not None
    assert desk.api.get("/api/tickets?state=open").data["items"] == []
    assert [event["event"] for event in ticket_events(logs)] == []


def test_realigning_skips_a_ticket_an_edit_moved_meanwhile(desk: Desk) -> None:
    from chalicelib.domain import setup, ticket_keys

    # GIVEN the config before and after a rank edit, and a ticket moved to another level since
    ticket = desk.ticket("cleo")
    before = setup.load()
    reranked = desk.api.patch(f"/api/service-levels/{desk.levels['gold']}", {"rank": 9, "version": 1})
    assert reranked.status_code == 200, reranked.body
    after = setup.load()
    moved = desk.api.patch(
        f"/api/tickets/{ticket['number']}",
        {"service_level_id": desk.levels["urgent"], "version": ticket["version"]},
    )
    assert moved.status_code == 200, moved.body

    # WHEN the realignment for the gold edit runs
    changed = ticket_keys.realign_with_setup(before, after)

    # THEN it finds nothing left at gold to move
    assert changed == 0
    queue = desk.api.get("/api/tickets?service_level_id=" + desk.levels["urgent"]).data["items"]
    assert [item["number"] for item in queue] == [ticket["number"]]


def test_realigning_leaves_a_ticket_whose_closed_flag_changed_since_it_was_read(desk: Desk) -> None:
    from chalicelib.domain import setup, ticket_keys, tickets

    # GIVEN a copy of an open ticket read by a rank realignment, as the lagging index gave it
    ticket = desk.ticket("cleo", status_id=desk.statuses["waiting"])
    stale = tickets.find_by_number(ticket["number"])
    assert stale is not None
    assert stale.closed is False
    reranked = desk.api.patch(f"/api/service-levels/{desk.levels['gold']}", {"rank": 9, "version": 1})
    assert reranked.status_code == 200, reranked.body
    after_rank = setup.load()
    # ... while its status became a closed one and that realignment closed the ticket first
    closing = desk.api.patch(f"/api/statuses/{desk.statuses['waiting']}", {"closed": True, "version": 1})
    assert closing.status_code == 200, closing.body
    assert ticket_keys.realign_with_setup(after_rank, setup.load()) == 1

    # WHEN the rank realignment gets to its stale copy, with the config it was given
    written = ticket_keys.realign_ticket(stale, after_rank)

    # THEN it writes nothing: the ticket stays closed and out of the open queue
    assert written is False
    stored = desk.api.get(f"/api/tickets/{ticket['number']}").data
    assert stored["closed"] is True
    assert desk.api.get("/api/tickets?state=open").data["items"] == []
    assert [item["number"] for item in desk.api.get("/api/tickets?state=closed").data["items"]] == [
        ticket["number"]
    ]


def test_a_realignment_out_of_time_fails_its_record_and_the_next_delivery_finishes_it(
    client: Client, desk: Desk, tap: StreamTap, logs: AppLogs
) -> None:
    # GIVEN three standard tickets behind a gold one, and an edit that ranks standard first
    standard = [desk.ticket("dana")["number"] for _ in range(3)]
    gold = desk.ticket("cleo")["number"]
    assert open_queue(desk) == [gold, *standard]
    tap.take()
    edited = desk.api.patch(f"/api/service-levels/{desk.levels['standard']}", {"rank": 1, "version": 1})
    assert edited.status_code == 200, edited.body
    (edit,) = tap.take()

    # WHEN the edit arrives in an invocation whose time runs out after two tickets
    first = invoke(client, [edit], LambdaTime(runs_out_after=2))

    # THEN only that record fails, and the two tickets it reached have moved
    assert first == {"batchItemFailures": [{"itemIdentifier": edit["dynamodb"]["SequenceNumber"]}]}
    assert open_queue(desk) == [standard[0], standard[1], gold, standard[2]]
    stopped = [line for line in logs.lines() if line.get("message") == "tickets realign stopped at deadline"]
    assert [(line["level"], line["tickets"]) for line in stopped] == [("WARNING", 2)]

    # WHEN Lambda delivers the record again, with time to spare
    with count_calls() as calls:
        second = invoke(client, [edit])

    # THEN it finishes: one write for the one ticket left, the aligned ones skipped
    assert second == {"batchItemFailures": []}
    assert open_queue(desk) == [*standard, gold]
    assert calls.by_operation == {"Query": 1, "UpdateItem": 1}
    done = [line for line in logs.lines() if line.get("message") == "tickets realigned with setup"]
    assert [line["tickets"] for line in done] == [1]


def open_queue(desk: Desk) -> list[int]:
    """Ticket numbers of the open priority queue."""
    return [ticket["number"] for ticket in desk.api.get("/api/tickets?state=open").data["items"]]
