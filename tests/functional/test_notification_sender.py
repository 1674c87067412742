"""The sender against moto's SES and SNS: what arrives, what is refused, and how throttling
and unreachable providers are retried within the budget and then reported."""

from __future__ import annotations

import email.parser
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import boto3
import botocore.endpoint
import pytest
from botocore.exceptions import EndpointConnectionError
from moto import mock_aws
from moto.backends import get_backend
from moto.core import DEFAULT_ACCOUNT_ID
from moto.core.exceptions import ServiceException

from chalicelib.notify import sender
from chalicelib.notify.sender import DeliveryFailed, send_email, send_sms
from chalicelib.notify.templates import RenderedEmail
from tests.functional.conftest import PROJECT_DIR

REGION = "us-east-1"
DESK = "desk@shop.example"
CUSTOMER = "zoe@customer.example"
PHONE = "+14155552671"

EMAIL = RenderedEmail(
    subject="Ticket 42 reçu : « l'imprimante » — 12 €",
    text="Bonjour Zoë,\n\nWe received ticket 42.\nhttps://desk.example/t/42\n",
    html='<p>Bonjour Zoë,</p>\n<p>Ticket <a href="https://desk.example/t/42">42</a> reçu — 12 €.</p>\n',
)

# Retry i (0-based) sleeps rand(0, 1) * base * 2**i: base 1 s after throttling, 0.05 s otherwise.
THROTTLED_BASE, TRANSIENT_BASE = 1.0, 0.05


class Throttling(ServiceException):
    """What SES answers past the account's sending rate."""

    code = "Throttling"
    message = "Maximum sending rate exceeded."


class RequestLimitExceeded(ServiceException):
    """A throttling code botocore knows and the sender does not list: botocore's verdict,
    retried to the end, is what makes it retryable."""

    code = "RequestLimitExceeded"
    message = "Request limit exceeded."


@dataclass
class Wire:
    """Each request body a client put on the wire for one operation, parsed."""

    bodies: list[dict[str, list[str]]] = field(default_factory=list)

    def record(self, request: Any, **_: Any) -> None:
        self.bodies.append(
            parse_qs(request.body.decode() if isinstance(request.body, bytes) else request.body)
        )

    @property
    def last(self) -> dict[str, str]:
        return {key: values[0] for key, values in self.bodies[-1].items()}


@dataclass
class Backoff:
    """The sleeps botocore asked for between attempts, recorded instead of slept."""

    delays: list[float] = field(default_factory=list)

    def sleep(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture
def aws_mail() -> Iterator[None]:
    """moto's SES and SNS, the desk's address verified, and clients built afresh: each test
    starts with a full retry quota and no event hooks left by another."""
    sender.ses_client.cache_clear()
    sender.sns_client.cache_clear()
    with mock_aws():
        boto3.client("ses", region_name=REGION).verify_email_identity(EmailAddress=DESK)
        yield
    sender.ses_client.cache_clear()
    sender.sns_client.cache_clear()


@pytest.fixture
def ses(aws_mail: None) -> Any:
    return get_backend("ses")[DEFAULT_ACCOUNT_ID][REGION]


@pytest.fixture
def sns(aws_mail: None) -> Any:
    return get_backend("sns")[DEFAULT_ACCOUNT_ID][REGION]


@pytest.fixture
def backoff(monkeypatch: pytest.MonkeyPatch) -> Backoff:
    """botocore's endpoint sleeps through its module's ``time``: only that one is replaced."""
    recorder = Backoff()
    monkeypatch.setattr(botocore.endpoint, "time", recorder)
    return recorder


def on_the_wire(client: Any, operation: str) -> Wire:
    wire = Wire()
    service = client.meta.service_model.service_id.hyphenize()
    client.meta.events.register(f"before-send.{service}.{operation}", wire.record)
    return wire


def failing_first(
    monkeypatch: pytest.MonkeyPatch,
    backend: Any,
    method: str,
    times: int,
    error: type[ServiceException] = Throttling,
) -> Callable[[], int]:
    """Make the provider answer ``error`` to the first ``times`` calls of ``method``;
    returns a function telling how many calls reached it.

    Patched on the class: moto rebuilds its backends when the mock ends, which an
    instance attribute would not survive to be undone.
    """
    original = getattr(type(backend), method)
    calls = 0

    def flaky(self: Any, *args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls <= times:
            raise error()
        return original(self, *args, **kwargs)

    monkeypatch.setattr(type(backend), method, flaky)
    return lambda: calls


def within_backoff(delays: list[float], base: float) -> bool:
    return all(0 <= delay <= base * 2**retry for retry, delay in enumerate(delays))


# moto warns that SES models no throttling error shape; real SES sends "Throttling" all the same.
throttled = pytest.mark.filterwarnings("ignore:Exception\\(\\w+\\) with code:UserWarning")


# -- what arrives ----------------------------------------------------------------------


def test_an_email_arrives_with_its_subject_text_and_html_intact(ses: Any) -> None:
    wire = on_the_wire(sender.ses_client(), "SendEmail")

    message_id = send_email(DESK, CUSTOMER, EMAIL)

    [stored] = ses.sent_messages
    assert stored.id == message_id
    assert (stored.source, stored.destinations) == (DESK, {"ToAddresses": [CUSTOMER]})
    assert stored.subject == EMAIL.subject
    assert stored.body == EMAIL.html
    # moto keeps one body part; the text part is checked as it left for SES.
    sent = wire.last
    assert sent["Message.Body.Text.Data"] == EMAIL.text
    assert sent["Message.Body.Html.Data"] == EMAIL.html
    charsets = {sent[f"Message.{part}.Charset"] for part in ("Subject", "Body.Text", "Body.Html")}
    assert charsets == {"UTF-8"}


def test_an_sms_arrives_as_a_transactional_message_to_the_e164_number(sns: Any) -> None:
    wire = on_the_wire(sender.sns_client(), "Publish")

    message_id = send_sms("+1 415-555-2671", "Ticket 42: new reply https://desk.example/t/42")

    assert sns.sms_messages == {message_id: (PHONE, "Ticket 42: new reply https://desk.example/t/42")}
    sent = wire.last
    assert sent["MessageAttributes.entry.1.Name"] == "AWS.SNS.SMS.SMSType"
    assert sent["MessageAttributes.entry.1.Value.DataType"] == "String"
    assert sent["MessageAttributes.entry.1.Value.StringValue"] == "Transactional"


def test_the_clients_are_built_once_and_reused(aws_mail: None) -> None:
    assert sender.ses_client() is sender.ses_client()
    assert sender.sns_client() is sender.sns_client()
    assert sender.ses_client().meta.service_model.service_name == "ses"


def test_importing_the_sender_loads_no_boto3_and_creates_no_client() -> None:
    probe = (
        "import sys; from chalicelib.notify.sender import ses_client, sns_client; "
        "print('boto3' in sys.modules, ses_client.cache_info().currsize, sns_client.cache_info().currsize)"
    )

    result = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", probe], cwd=PROJECT_DIR, capture_output=True, text=True, check=True
    )

    assert result.stdout.split() == ["False", "0", "0"]


# -- what is refused -------------------------------------------------------------------


def test_an_unverified_sender_is_refused_once_and_not_worth_retrying(ses: Any, backoff: Backoff) -> None:
    wire = on_the_wire(sender.ses_client(), "SendEmail")

    with pytest.raises(DeliveryFailed) as failure:
        send_email("stranger@elsewhere.example", CUSTOMER, EMAIL)

    assert (failure.value.channel, failure.value.retryable) == ("email", False)
    assert failure.value.reason.startswith("MessageRejected:")
    assert (len(wire.bodies), backoff.delays, ses.sent_messages) == (1, [], [])


def test_a_subject_carrying_a_line_break_and_bcc_produces_no_extra_header(ses: Any) -> None:
    wire = on_the_wire(sender.ses_client(), "SendEmail")
    injected = RenderedEmail(
        subject="Your ticket\r\nBcc: thief@evil.example\r\n\r\nforged body",
        text=EMAIL.text,
        html=EMAIL.html,
    )

    send_email(DESK, CUSTOMER, injected)

    [stored] = ses.sent_messages
    assert stored.subject == "Your ticket Bcc: thief@evil.example forged body"
    assert stored.destinations == {"ToAddresses": [CUSTOMER]}
    assert not [key for key in wire.last if "Bcc" in key or "Cc" in key]
    headers = email.parser.HeaderParser().parsestr(
        f"From: {stored.source}\r\nSubject: {stored.subject}\r\n\r\n"
    )
    assert headers.keys() == ["From", "Subject"]


@pytest.mark.parametrize(
    ("from_", "to"),
    [
        (DESK, f"{CUSTOMER}\r\nBcc: thief@evil.example"),
        (f"{DESK}\nBcc: thief@evil.example", CUSTOMER),
        (DESK, "not an address"),
    ],
    ids=["recipient with a header", "sender with a header", "recipient not an address"],
)
def test_an_address_that_is_not_a_plain_address_never_reaches_ses(ses: Any, from_: str, to: str) -> None:
    wire = on_the_wire(sender.ses_client(), "SendEmail")

    with pytest.raises(DeliveryFailed) as failure:
        send_email(from_, to, EMAIL)

    assert (failure.value.channel, failure.value.retryable) == ("email", False)
    assert (wire.bodies, ses.sent_messages) == ([], [])


def test_an_internationalised_domain_goes_to_ses_in_punycode(ses: Any) -> None:
    send_email(DESK, "zoe@bücher.example", EMAIL)

    [stored] = ses.sent_messages
    assert stored.destinations == {"ToAddresses": ["zoe@xn--bcher-kva.example"]}


@pytest.mark.parametrize(
    ("number", "text"), [("0207 946 0000", "hello"), ("+999 123", "hello"), (PHONE, "  ")]
)
def test_an_sms_without_a_valid_number_or_text_never_reaches_sns(sns: Any, number: str, text: str) -> None:
    wire = on_the_wire(sender.sns_client(), "Publish")

    with pytest.raises(DeliveryFailed) as failure:
        send_sms(number, text)

    assert (failure.value.channel, failure.value.retryable) == ("sms", False)
    assert (wire.bodies, sns.sms_messages) == ([], {})


# -- faults: throttling and unreachable providers --------------------------------------


@throttled
def test_ses_throttling_twice_then_accepting_delivers_exactly_one_email(
    ses: Any, backoff: Backoff, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN SES that throttles the first two sends
    calls = failing_first(monkeypatch, ses, "send_email", times=2)

    # WHEN one email is sent
    message_id = send_email(DESK, CUSTOMER, EMAIL)

    # THEN botocore retried twice, backing off as for throttling, and one email went out
    [stored] = ses.sent_messages
    assert stored.id == message_id
    assert calls() == 3
    assert len(backoff.delays) == 2
    assert within_backoff(backoff.delays, THROTTLED_BASE)


@throttled
@pytest.mark.parametrize("error", [Throttling, RequestLimitExceeded])
def test_throttling_past_the_budget_fails_retryable_after_exactly_max_attempts(
    ses: Any, backoff: Backoff, monkeypatch: pytest.MonkeyPatch, error: type[ServiceException]
) -> None:
    calls = failing_first(monkeypatch, ses, "send_email", times=1_000, error=error)

    with pytest.raises(DeliveryFailed) as failure:
        send_email(DESK, CUSTOMER, EMAIL)

    assert (failure.value.channel, failure.value.retryable) == ("email", True)
    assert failure.value.reason == f"{error.code}: {error.message} (attempts: {sender.MAX_ATTEMPTS})"
    assert calls() == sender.MAX_ATTEMPTS == 4
    assert len(backoff.delays) == sender.MAX_ATTEMPTS - 1
    assert within_backoff(backoff.delays, THROTTLED_BASE)
    assert ses.sent_messages == []


@throttled
def test_once_throttling_spends_the_retry_quota_sends_fail_at_once_and_stay_retryable(
    ses: Any, backoff: Backoff, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN SES throttling every send, for a whole batch of messages
    calls = failing_first(monkeypatch, ses, "send_email", times=10_000)
    attempts_per_send: list[int] = []
    outcomes: set[bool] = set()

    # WHEN the batch keeps sending until a send gets no retry at all
    while len(attempts_per_send) < 60 and attempts_per_send[-1:] != [1]:
        before = calls()
        with pytest.raises(DeliveryFailed) as failure:
            send_email(DESK, CUSTOMER, EMAIL)
        attempts_per_send.append(calls() - before)
        outcomes.add(failure.value.retryable)

    # THEN the quota shared by the client ran dry within a few dozen sends: the next one
    # failed fast, without botocore's MaxAttemptsReached, and is still worth re-sending
    assert attempts_per_send[-1] == 1
    assert 10 < len(attempts_per_send) < 60
    assert attempts_per_send[0] == sender.MAX_ATTEMPTS
    assert outcomes == {True}


@pytest.mark.parametrize("environment_mode", [None, "legacy"])
def test_an_unreachable_sns_is_retried_to_the_budget_then_reported_retryable(
    sns: Any, backoff: Backoff, monkeypatch: pytest.MonkeyPatch, environment_mode: str | None
) -> None:
    # The sender's standard mode holds whatever retry mode the environment asks for.
    if environment_mode:
        monkeypatch.setenv("AWS_RETRY_MODE", environment_mode)
    attempts = 0

    def refuse_connection(request: Any, **_: Any) -> None:
        nonlocal attempts
        attempts += 1
        raise EndpointConnectionError(endpoint_url=request.url)

    sender.sns_client().meta.events.register("before-send.sns.Publish", refuse_connection)

    with pytest.raises(DeliveryFailed) as failure:
        send_sms(PHONE, "Ticket 42: new reply")

    assert (failure.value.channel, failure.value.retryable) == ("sms", True)
    assert failure.value.reason.startswith("provider unreachable:")
    assert attempts == sender.MAX_ATTEMPTS
    assert len(backoff.delays) == sender.MAX_ATTEMPTS - 1
    assert within_backoff(backoff.delays, TRANSIENT_BASE)
    assert sns.sms_messages == {}


def test_the_worst_case_the_docstring_documents_is_the_one_the_budget_adds_up_to() -> None:
    assert sender.__doc__ is not None
    assert f"= {sender.WORST_CASE_SECONDS} s (``WORST_CASE_SECONDS``)" in sender.__doc__
