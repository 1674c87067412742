"""Functional tier: the real app against moto's in-process AWS."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
import pytest
from chalice.test import Client
from moto import mock_aws

from local import tables
from tests.functional.desk import Desk, MovableClock, build_desk

PROJECT_DIR = Path(__file__).resolve().parents[2]
ADMIN_PASSWORD = "correct horse battery staple"


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        client = boto3.client("dynamodb")
        tables.create_all(
            client, {"HelpdeskTable": "helpdesk-test", "IdempotencyTable": "helpdesk-idempotency-test"}
        )
        yield


@pytest.fixture
def client(aws: None) -> Iterator[Client]:
    from app import app

    with Client(app, project_dir=str(PROJECT_DIR), stage_name="dev") as test_client:
        yield test_client


class Api:
    """A signed-in staff member's view of the API, for terse tests."""

    def __init__(self, client: Client, token: str | None = None) -> None:
        self.client = client
        self.token = token

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return {**headers, **(extra or {})}

    def call(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
        payload = body if isinstance(body, (str, bytes)) or body is None else json.dumps(body)
        response = getattr(self.client.http, method.lower())(
            path, headers=self._headers(headers), body=payload
        )
        response.data = json.loads(response.body) if response.body else None
        return response

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.call("GET", path, **kwargs)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> Any:
        return self.call("POST", path, body, **kwargs)

    def patch(self, path: str, body: Any = None, **kwargs: Any) -> Any:
        return self.call("PATCH", path, body, **kwargs)

    def put(self, path: str, body: Any = None, **kwargs: Any) -> Any:
        return self.call("PUT", path, body, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Any:
        return self.call("DELETE", path, **kwargs)


def sign_in(client: Client, email: str, password: str) -> Api:
    response = Api(client).post("/api/auth/login", {"email": email, "password": password})
    assert response.status_code == 200, response.body
    return Api(client, response.data["token"])


@pytest.fixture
def admin(client: Client) -> Api:
    from chalicelib.domain.staff import create_staff

    create_staff("admin@example.com", "Ada Admin", "admin", ADMIN_PASSWORD)
    return sign_in(client, "admin@example.com", ADMIN_PASSWORD)


@pytest.fixture
def agent(client: Client, admin: Api) -> Api:
    created = admin.post(
        "/api/staff",
        {"email": "agent@example.com", "name": "Alan Agent", "role": "agent", "password": ADMIN_PASSWORD},
    )
    assert created.status_code == 201, created.body
    return sign_in(client, "agent@example.com", ADMIN_PASSWORD)


@pytest.fixture
def anonymous(client: Client) -> Api:
    return Api(client)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> MovableClock:
    """Time stands still for the app until the test moves it."""
    from chalicelib import clock as clock_module

    movable = MovableClock()
    monkeypatch.setattr(clock_module, "now", movable.now)
    return movable


@pytest.fixture
def desk(admin: Api) -> Desk:
    return build_desk(admin)


@contextmanager
def transactions_refused() -> Iterator[None]:
    """Every transaction the app commits in the block fails, as if the table were
    unavailable. A monkeypatch of its own, so leaving the block frees nothing else (the
    test's clock stays where it is)."""
    from chalicelib.store import db

    def refused(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the table is unavailable")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(db.Transaction, "_commit", refused, raising=True)
        yield


class _CurrentStdout:
    """Writes to whatever ``sys.stdout`` is at the moment of writing.

    The logger's handler keeps the stream it was given at import, and pytest gives capsys
    a fresh one for each test phase: looking it up on every write follows it.
    """

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


class AppLogs:
    """The JSON lines the app's Powertools logger wrote to stdout during the test."""

    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self.capsys = capsys

    def lines(self) -> list[dict[str, Any]]:
        out = self.capsys.readouterr().out
        return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


@pytest.fixture
def app_logs(client: Client, capsys: pytest.CaptureFixture[str]) -> Iterator[AppLogs]:
    """Info lines of the app's logger, as capsys sees them on stdout."""
    from chalicelib.observability import logger

    handler = logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    previous_stream = handler.setStream(_CurrentStdout())
    previous_level = logger.log_level
    logger.setLevel("INFO")
    yield AppLogs(capsys)
    logger.setLevel(previous_level)
    handler.setStream(previous_stream)
