"""The local outbox and its /dev pages, reading what moto's SES and SNS sent."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from chalice.app import Chalice
from chalice.test import Client
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID

from local.dev_routes import create_blueprint
from local.outbox import Outbox

SENDER = "helpdesk@example.com"
RAW_MAIL = (
    "From: helpdesk@example.com\r\nTo: cleo@example.com\r\nSubject: Ticket 1001 updated\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n\r\nWe replied to your ticket.\r\n"
)


class Ticking:
    """A clock that moves one minute each time it is read."""

    def __init__(self) -> None:
        self.moment = datetime(2030, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.moment += timedelta(minutes=1)
        return self.moment


@pytest.fixture
def outbox() -> Iterator[Outbox]:
    with mock_aws():
        boto3.client("ses").verify_email_identity(EmailAddress=SENDER)
        yield Outbox(DEFAULT_ACCOUNT_ID, "us-east-1", now=Ticking())


def send_email(to: str, subject: str, body: str) -> None:
    boto3.client("ses").send_email(
        Source=SENDER,
        Destination={"ToAddresses": [to]},
        Message={"Subject": {"Data": subject}, "Body": {"Text": {"Data": body}}},
    )


def send_sms(phone: str, text: str) -> None:
    boto3.client("sns").publish(PhoneNumber=phone, Message=text)


def test_the_outbox_lists_every_email_and_sms_newest_first(outbox: Outbox) -> None:
    send_email("cleo@example.com", "Ticket 1001 received", "Thanks, we got it.")
    outbox.collect()
    send_sms("+14155550123", "Ticket 1001: we replied.")
    outbox.collect()
    boto3.client("ses").send_raw_email(Source=SENDER, RawMessage={"Data": RAW_MAIL})

    messages = [message.to_dict() for message in outbox.messages()]

    assert [(m["channel"], m["to"], m["subject"], m["body"].strip()) for m in messages] == [
        ("email", "cleo@example.com", "Ticket 1001 updated", "We replied to your ticket."),
        ("sms", "+14155550123", None, "Ticket 1001: we replied."),
        ("email", "cleo@example.com", "Ticket 1001 received", "Thanks, we got it."),
    ]
    sent_at = [m["sent_at"] for m in messages]
    assert sent_at == sorted(sent_at, reverse=True)
    assert len(set(sent_at)) == 3


def test_a_message_keeps_the_time_it_was_first_seen(outbox: Outbox) -> None:
    send_sms("+14155550123", "first")
    first_look = outbox.messages()

    second_look = outbox.messages()

    assert first_look == second_look
    assert len(second_look) == 1


def test_outbox_json_answers_with_every_message(outbox: Outbox) -> None:
    app = Chalice("outbox-test")
    app.register_blueprint(create_blueprint(outbox))
    send_email("cleo@example.com", "Hello", "Body text")

    with Client(app) as client:
        response = client.http.get("/dev/outbox.json")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    (item,) = json.loads(response.body)["items"]
    assert item["channel"] == "email"
    assert item["to"] == "cleo@example.com"
    assert item["subject"] == "Hello"
    assert item["body"] == "Body text"
    assert item["sent_at"].endswith("Z")


def test_outbox_page_escapes_message_text_and_sends_security_headers(outbox: Outbox) -> None:
    app = Chalice("outbox-test")
    app.register_blueprint(create_blueprint(outbox))
    send_email("cleo@example.com", "<script>alert(1)</script>", "a & b")

    with Client(app) as client:
        response = client.http.get("/dev/outbox")

    page = response.body.decode()
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>" not in page
    assert "a &amp; b" in page


def test_the_deployed_app_has_no_dev_routes() -> None:
    from app import app

    assert [path for path in app.routes if path.startswith("/dev")] == []
