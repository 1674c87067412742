"""What the local SES and SNS have sent, read from moto's in-process backends.

moto runs in this process, so its backends are plain objects here: SES keeps every sent
message in ``sent_messages``, SNS every SMS in ``sms_messages``. Neither keeps the time
of sending, so the outbox stamps each message when it first sees it; the runner looks
every quarter second.
"""

from __future__ import annotations

import email
import email.policy
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chalicelib import clock


@dataclass(frozen=True)
class SentMessage:
    """One email or SMS as the outbox lists it."""

    channel: str  # "email" or "sms"
    to: str
    subject: str | None
    body: str
    sent_at: datetime

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape; ``sent_at`` stays a datetime for ``json_response`` to format."""
        return {
            "channel": self.channel,
            "to": self.to,
            "subject": self.subject,
            "body": self.body,
            "sent_at": self.sent_at,
        }


def _recipients(destinations: Any) -> str:
    """SES keeps To/Cc/Bcc as a dict of lists for SendEmail and a plain list for raw mail."""
    if isinstance(destinations, dict):
        addresses = [address for key in sorted(destinations) for address in destinations[key] or []]
    else:
        addresses = list(destinations or [])
    # moto lists a raw message's header recipients again after the given ones.
    return ", ".join(dict.fromkeys(addresses))


def _raw_parts(raw_data: str) -> tuple[str | None, str]:
    """Subject and readable body of a MIME message sent with SendRawEmail."""
    parsed = email.message_from_string(raw_data, policy=email.policy.default)
    part = parsed.get_body(preferencelist=("plain", "html"))
    body = part.get_content() if part is not None else ""
    return parsed.get("Subject"), str(body)


def describe_email(message: Any, moment: datetime) -> SentMessage:
    """One SES message, whichever of moto's message kinds it is."""
    if hasattr(message, "raw_data"):
        subject, body = _raw_parts(message.raw_data)
    elif hasattr(message, "template"):
        subject, body = f"template {message.template}", str(message.template_data)
    else:
        subject, body = message.subject, message.body
    return SentMessage("email", _recipients(message.destinations), subject, body, moment)


class Outbox:
    """Every message sent through the local SES/SNS of one account and region."""

    def __init__(self, account_id: str, region: str, now: Callable[[], datetime] = clock.now) -> None:
        self.account_id = account_id
        self.region = region
        self._now = now
        self._lock = threading.Lock()
        self._emails_seen = 0
        self._sms_seen = 0
        self._messages: list[SentMessage] = []

    def _backends(self) -> tuple[Any, Any]:
        from moto.ses.models import ses_backends
        from moto.sns.models import sns_backends

        return ses_backends[self.account_id][self.region], sns_backends[self.account_id][self.region]

    def collect(self) -> int:
        """Take in what was sent since the last look; returns how many new messages."""
        ses, sns = self._backends()
        with self._lock:
            moment = self._now()
            emails = list(ses.sent_messages)
            texts = list(sns.sms_messages.values())
            # A reset of moto empties its lists: start counting again from there.
            self._emails_seen = min(self._emails_seen, len(emails))
            self._sms_seen = min(self._sms_seen, len(texts))

            new = [describe_email(message, moment) for message in emails[self._emails_seen :]]
            new += [SentMessage("sms", phone, None, text, moment) for phone, text in texts[self._sms_seen :]]
            self._emails_seen, self._sms_seen = len(emails), len(texts)
            self._messages.extend(new)
            return len(new)

    def messages(self) -> list[SentMessage]:
        """Everything sent so far, newest first."""
        self.collect()
        with self._lock:
            return list(reversed(self._messages))
