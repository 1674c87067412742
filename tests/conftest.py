"""Shared test setup. The environment is fixed here, before anything imports the app:
Powertools and PynamoDB read it at import time."""

from __future__ import annotations

import os

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
