"""Hands one rendered message to the provider: email to SES, SMS to SNS.

The clients are created on first use and kept, so ``import app`` neither loads boto3 nor
builds an SES or SNS client: only a send pays for them, and a warm Lambda reuses them.

Retries are botocore's ``standard`` mode, not a loop of our own: it retries throttling
(``Throttling``, HTTP 429), 5xx answers and connection errors with exponential backoff and
full jitter, and stops early when the client's retry quota (a token bucket shared by every
call of that client) runs dry, so a provider that is failing for everyone fails fast.

Time budget of one send
-----------------------
``MAX_ATTEMPTS`` = 4 attempts (the first and 3 retries). Each attempt may wait up to
``CONNECT_TIMEOUT`` (2 s) to connect and ``READ_TIMEOUT`` (3 s) between bytes of the
answer; SES and SNS answer in well under a second, and their answers are small, so 5 s
bounds an attempt. Before retry ``i`` (1, 2, 3) botocore sleeps ``rand(0, 1) * b * 2**(i-1)``
with ``b`` = 1 s after throttling and 0.05 s after other errors: at most 1 + 2 + 4 = 7 s
(0.35 s) in all. An ``x-amz-retry-after`` header may stretch each sleep by up to 5 s more
(15 s in all). Worst case: 4 * 5 + 7 + 15 = 42 s (``WORST_CASE_SECONDS``); throttled twice
and then accepted, about 1.5 s of sleep on average. A caller with less time left than that
should leave the message for a later run rather than start it.

Past the budget, or when the provider refuses outright, ``DeliveryFailed`` says which
channel failed, why, and whether trying again later could help, so the caller records the
failed delivery and moves on.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from chalicelib import validation
from chalicelib.notify.messages import Channel
from chalicelib.notify.templates import MAX_SUBJECT, RenderedEmail, header_value
from chalicelib.observability import logger
from chalicelib.settings import region_from_env

MAX_ATTEMPTS = 4
CONNECT_TIMEOUT = 2
READ_TIMEOUT = 3
# botocore's own constants for standard mode: first throttled wait, ceiling, retry-after slack.
_THROTTLED_BASE = 1
_BACKOFF_CEILING = 20
_RETRY_AFTER_SLACK = 5
WORST_CASE_SECONDS = (
    MAX_ATTEMPTS * (CONNECT_TIMEOUT + READ_TIMEOUT)
    + sum(min(_THROTTLED_BASE * 2**retry, _BACKOFF_CEILING) for retry in range(MAX_ATTEMPTS - 1))
    + _RETRY_AFTER_SLACK * (MAX_ATTEMPTS - 1)
)

# Error codes that mean "not now" rather than "never": botocore retried them, and a later
# re-send may well succeed. Everything else the provider says (MessageRejected,
# InvalidParameterValue, an opted-out number...) would fail again the same way.
_TRANSIENT_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "Throttled",
        "ThrottledException",
        "TooManyRequestsException",
        "RequestTimeout",
        "RequestTimeoutException",
        "ServiceUnavailable",
        "InternalFailure",
        "InternalError",
        "KMSThrottling",
    }
)

SMS_TYPE = {"AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}}


class DeliveryFailed(Exception):
    """A message the provider did not take: ``channel`` it was for, a ``reason`` for the
    failed-deliveries log, and whether a later re-send could succeed (``retryable``)."""

    def __init__(self, channel: Channel, reason: str, *, retryable: bool) -> None:
        super().__init__(f"{channel} not delivered: {reason}")
        self.channel = channel
        self.reason = reason
        self.retryable = retryable


def _client_config() -> Any:
    """The retry mode and timeouts every provider client shares (see the module docstring)."""
    from botocore.config import Config  # type: ignore[import-untyped]

    return Config(
        retries={"mode": "standard", "total_max_attempts": MAX_ATTEMPTS},
        connect_timeout=CONNECT_TIMEOUT,
        read_timeout=READ_TIMEOUT,
    )


@lru_cache(maxsize=1)
def ses_client() -> Any:
    """The SES client, built on the first email sent."""
    import boto3

    return boto3.client("ses", region_name=region_from_env(), config=_client_config())


@lru_cache(maxsize=1)
def sns_client() -> Any:
    """The SNS client, built on the first SMS sent."""
    import boto3

    return boto3.client("sns", region_name=region_from_env(), config=_client_config())


def send_email(sender: str, to: str, email: RenderedEmail) -> str:
    """Send ``email`` from ``sender`` to ``to`` through SES; the provider's MessageId.

    Both addresses are validated and the subject cleaned again here, whoever built the
    message: nothing with a line break in it may reach a header. SES builds the MIME
    message itself from the subject, the text part and the HTML part, all UTF-8.
    """
    source = _mail_address(sender, "sender")
    recipient = _mail_address(to, "recipient")
    subject = header_value(email.subject, MAX_SUBJECT)
    if not subject:
        raise DeliveryFailed("email", "the subject is empty", retryable=False)

    with _provider_errors("email"):
        response = ses_client().send_email(
            Source=source,
            Destination={"ToAddresses": [recipient]},
            Message={
                "Subject": _utf8(subject),
                "Body": {"Text": _utf8(email.text), "Html": _utf8(email.html)},
            },
        )

    return _message_id(response, "email")


def send_sms(to: str, text: str) -> str:
    """Send ``text`` to the phone number ``to`` through SNS as a transactional SMS (the
    kind SNS delivers first and may send to numbers opted out of marketing); the MessageId."""
    number = _phone_number(to)
    message = text.strip()
    if not message:
        raise DeliveryFailed("sms", "the text is empty", retryable=False)

    with _provider_errors("sms"):
        response = sns_client().publish(PhoneNumber=number, Message=message, MessageAttributes=SMS_TYPE)

    return _message_id(response, "sms")


def _utf8(data: str) -> dict[str, str]:
    return {"Data": data, "Charset": "UTF-8"}


def _mail_address(value: str, role: str) -> str:
    """``value`` as SES takes it: a bare address, domain in ASCII (punycode).

    ``validation.email`` keeps an internationalised domain in Unicode, which SES refuses,
    hence the validator's ASCII form here. A local part beyond ASCII has no such form:
    SES cannot send to it at all.
    """
    from email_validator import EmailNotValidError, validate_email

    try:
        result = validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        raise DeliveryFailed("email", f"the {role} address is not valid ({exc})", retryable=False) from exc
    if result.ascii_email is None:
        raise DeliveryFailed(
            "email", f"the {role} address is not ASCII, which SES cannot send", retryable=False
        )
    return str(result.ascii_email)


def _phone_number(value: str) -> str:
    """``value`` in E.164, the only form SNS sends SMS to."""
    try:
        return validation.phone(value)
    except ValueError as exc:
        raise DeliveryFailed("sms", f"the recipient {exc}", retryable=False) from exc


@contextmanager
def _provider_errors(channel: Channel) -> Iterator[None]:
    """Turn what botocore raises once it has stopped retrying into ``DeliveryFailed``."""
    from botocore.exceptions import (  # type: ignore[import-untyped]
        BotoCoreError,
        ClientError,
        HTTPClientError,
    )
    from botocore.exceptions import ConnectionError as BotoConnectionError

    try:
        yield
    except ClientError as exc:
        error = exc.response.get("Error", {})
        meta = exc.response.get("ResponseMetadata", {})
        code = str(error.get("Code", "Unknown"))
        status = int(meta.get("HTTPStatusCode", 0))
        attempts = int(meta.get("RetryAttempts", 0)) + 1
        # MaxAttemptsReached: botocore judged the error worth retrying and ran out of
        # attempts. The codes and statuses cover a retry quota that ran dry first.
        retryable = (
            bool(meta.get("MaxAttemptsReached"))
            or code in _TRANSIENT_CODES
            or status in (429, 500, 502, 503, 504)
        )
        reason = f"{code}: {error.get('Message', '')} (attempts: {attempts})"
        logger.debug(
            "provider refused message", extra={"channel": channel, "code": code, "attempts": attempts}
        )
        raise DeliveryFailed(channel, reason, retryable=retryable) from exc
    except (BotoConnectionError, HTTPClientError) as exc:
        logger.debug("provider unreachable", extra={"channel": channel, "error": type(exc).__name__})
        raise DeliveryFailed(channel, f"provider unreachable: {exc}", retryable=True) from exc
    except BotoCoreError as exc:
        # Missing credentials, a parameter botocore itself refuses: not a passing condition.
        raise DeliveryFailed(channel, f"{type(exc).__name__}: {exc}", retryable=False) from exc


def _message_id(response: dict[str, Any], channel: Channel) -> str:
    """The provider's MessageId, logged (no recipient: addresses stay out of logs)."""
    message_id = str(response["MessageId"])
    attempts = int(response.get("ResponseMetadata", {}).get("RetryAttempts", 0)) + 1
    logger.debug(
        "message accepted", extra={"channel": channel, "message_id": message_id, "attempts": attempts}
    )
    return message_id
