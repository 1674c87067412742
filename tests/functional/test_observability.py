"""Logging and metrics are wired once, as middleware, for every request."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib import observability
from tests.functional.conftest import Api, AppLogs
from tests.functional.desk import Desk, build_desk


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
