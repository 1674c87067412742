"""Logging and metrics are wired once, as middleware, for every request and every stream batch."""

from __future__ import annotations

from typing import Any

import pytest
from chalice.test import Client
from moto.core.exceptions import ServiceException

from chalicelib import observability
from tests.functional import test_notifications as notifying
from tests.functional.conftest import Api, AppLogs
from tests.functional.desk import Desk, build_desk
from tests.functional.test_stream_handler import StreamTap, invoke, tickets_inserted


@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The metric sets each invocation publishes, in order."""
    sets: list[dict[str, Any]] = []

    def capture(*args: Any, **kwargs: Any) -> None:
        sets.append(dict(observability.metrics.metric_set))
        observability.metrics.metric_set.clear()

    monkeypatch.setattr(observability.metrics, "flush_metrics", capture)
    return sets


@pytest.fixture
def log_lines(app_logs: AppLogs) -> Any:
    return app_logs.lines


def test_a_failed_login_is_counted(anonymous: Api, admin: Api, published: list[dict[str, Any]]) -> None:
    anonymous.post("/api/auth/login", {"email": "admin@example.com", "password": "not the password!"})

    assert "LoginFailures" in published[-1]


def test_a_created_ticket_is_counted_and_its_number_tagged_on_the_request_log(
    admin: Api, published: list[dict[str, Any]], log_lines: Any
) -> None:
    desk: Desk = build_desk(admin)
    log_lines()  # forget the setup's lines

    ticket = desk.ticket("cleo")

    assert "TicketsCreated" in published[-1]
    handled = [line for line in log_lines() if line["message"] == "request handled"]
    assert handled[-1]["status"] == 201
    assert handled[-1]["ticket_number"] == ticket["number"]
    assert handled[-1]["method"] == "POST"
    assert handled[-1]["service"] == "helpdesk"
    assert handled[-1].get("request_id")


def test_request_keys_do_not_leak_into_the_next_request(admin: Api, log_lines: Any) -> None:
    desk = build_desk(admin)
    desk.ticket("cleo")
    log_lines()

    admin.get("/api/settings")

    handled = [line for line in log_lines() if line["message"] == "request handled"]
    assert handled[-1]["path"] == "/api/settings"
    assert "ticket_number" not in handled[-1]


# -- the stream handler's metrics and log lines ----------------------------------------

# The sending desk of the notification tests: a verified sender, Cleo opted in to SMS.
outbox = notifying.outbox
tap = notifying.tap

DELIVERY_METRICS = ("EmailSent", "SmsSent", "EmailFailed", "SmsFailed")


class InvalidParameter(ServiceException):
    """What SNS answers for a number it will not send to (opted out, say): never retried."""

    code = "InvalidParameter"
    message = "Invalid parameter: PhoneNumber"


def invocation_metrics(
    published: list[dict[str, Any]], client: Client, records: list[dict[str, Any]]
) -> tuple[dict[str, Any], dict[str, float]]:
    """Hand ``records`` to the stream handler; its answer, and the one metric set the
    invocation published, each metric summed over its values."""
    before = len(published)
    answer = invoke(client, records)
    (metric_set,) = published[before:]
    return answer, {name: sum(metric["Value"]) for name, metric in metric_set.items()}


def deliveries_counted(metrics: dict[str, float]) -> dict[str, float]:
    return {name: metrics.get(name, 0) for name in DELIVERY_METRICS}


def notification_lines(log_lines: Any) -> list[dict[str, Any]]:
    return [line for line in log_lines() if str(line.get("message", "")).startswith("notification ")]


def test_a_sent_email_and_sms_are_counted_per_channel_and_logged_with_the_ticket_number(
    client: Client,
    desk: Desk,
    tap: StreamTap,
    outbox: notifying.Outbox,
    published: list[dict[str, Any]],
    log_lines: Any,
) -> None:
    ticket = desk.ticket("cleo")
    records = tap.take()
    log_lines()

    answer, metrics = invocation_metrics(published, client, records)

    assert answer == {"batchItemFailures": []}
    assert deliveries_counted(metrics) == {"EmailSent": 1, "SmsSent": 1, "EmailFailed": 0, "SmsFailed": 0}
    assert "MalformedRecords" not in metrics
    lines = notification_lines(log_lines)
    assert sorted((line["message"], line["channel"]) for line in lines) == [
        ("notification sent", "email"),
        ("notification sent", "sms"),
    ]
    assert all(line["ticket_number"] == ticket["number"] for line in lines)
    assert all(line["template"] == "ticket_created" and line["level"] == "INFO" for line in lines)


@notifying.no_shape_warning
def test_failed_sends_are_counted_per_channel_and_logged_as_warnings_with_the_ticket_number(
    client: Client,
    desk: Desk,
    tap: StreamTap,
    outbox: notifying.Outbox,
    published: list[dict[str, Any]],
    log_lines: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN SES throttling every send past the budget, and SNS refusing the number outright
    notifying.throttle_ses(monkeypatch, outbox)

    def refuse(backend: Any, *args: Any, **kwargs: Any) -> Any:
        raise InvalidParameter()

    # On the class: moto rebuilds its backends when the mock ends.
    monkeypatch.setattr(type(outbox.sns), "publish", refuse)
    ticket = desk.ticket("cleo")
    records = tap.take()
    log_lines()

    answer, metrics = invocation_metrics(published, client, records)

    # The record itself succeeds (the failures are in the delivery log), and both are counted.
    assert answer == {"batchItemFailures": []}
    assert deliveries_counted(metrics) == {"EmailSent": 0, "SmsSent": 0, "EmailFailed": 1, "SmsFailed": 1}
    lines = notification_lines(log_lines)
    assert sorted((line["message"], line["channel"]) for line in lines) == [
        ("notification failed", "email"),
        ("notification failed", "sms"),
    ]
    assert all(line["ticket_number"] == ticket["number"] for line in lines)
    assert all(line["level"] == "WARNING" and line["reason"] for line in lines)


def test_a_malformed_record_is_counted_and_logged_and_the_one_behind_it_still_sends(
    client: Client,
    desk: Desk,
    tap: StreamTap,
    outbox: notifying.Outbox,
    published: list[dict[str, Any]],
    log_lines: Any,
) -> None:
    # GIVEN two new tickets for Dana (email only), the first record damaged
    desk.ticket("dana")
    second = desk.ticket("dana")
    inserts = tickets_inserted(tap.take())
    assert len(inserts) == 2
    inserts[0]["dynamodb"]["NewImage"]["number"] = {"N": "not-a-number"}
    log_lines()

    answer, metrics = invocation_metrics(published, client, inserts)

    assert answer == {"batchItemFailures": [{"itemIdentifier": inserts[0]["dynamodb"]["SequenceNumber"]}]}
    assert metrics["MalformedRecords"] == 1
    assert deliveries_counted(metrics) == {"EmailSent": 1, "SmsSent": 0, "EmailFailed": 0, "SmsFailed": 0}
    lines = log_lines()
    (malformed,) = [line for line in lines if line["message"] == "malformed stream record"]
    assert malformed["event_id"] == inserts[0]["eventID"]
    assert malformed["level"] == "ERROR"
    (sent,) = [line for line in lines if line["message"] == "notification sent"]
    assert sent["ticket_number"] == second["number"]
