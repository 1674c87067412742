"""Shared test setup. The environment is fixed here, before anything imports the app:
Powertools and PynamoDB read it at import time."""

from __future__ import annotations

import os

import pytest

os.environ.update(
    {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        # moto intercepts DynamoDB Streams calls only on the account-less endpoint.
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
        "HELPDESK_TABLE": "helpdesk-test",
        "HELPDESK_IDEMPOTENCY_TABLE": "helpdesk-idempotency-test",
        "HELPDESK_SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
        "HELPDESK_STAGE": "test",
        "POWERTOOLS_SERVICE_NAME": "helpdesk",
        "POWERTOOLS_METRICS_NAMESPACE": "HelpdeskTest",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }
)
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.pop("AWS_PROFILE", None)


@pytest.fixture(autouse=True)
def cheap_password_hashing(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2id with a small memory cost: the same code path at a fraction of the time.

    Tests marked ``real_argon2`` keep the production profile; ``tests/unit/test_passwords.py``
    checks that profile itself.
    """
    if request.node.get_closest_marker("real_argon2"):
        return
    from argon2 import PasswordHasher, Type

    from chalicelib.domain import passwords

    hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1, type=Type.ID)
    decoy = hasher.hash("decoy password that matches nothing")
    monkeypatch.setattr(passwords, "_hasher", lambda: hasher)
    monkeypatch.setattr(passwords, "_decoy_hash", lambda: decoy)
