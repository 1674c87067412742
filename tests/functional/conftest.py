"""Functional tier: the real app against moto's in-process AWS."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from chalice.test import Client
from moto import mock_aws

from local import tables

PROJECT_DIR = Path(__file__).resolve().parents[2]
ADMIN_PASSWORD = "correct horse battery staple"


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        client = boto3.client("dynamodb")
        tables.create_all(client, {"HelpdeskTable": "helpdesk-test"})
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
