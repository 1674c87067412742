"""The shapes shared by the notification rules and the templates."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any, Literal, cast

Channel = Literal["email", "sms"]

# Template keys: each has an email (subject, text, HTML) and, where listed, an SMS text.
TEMPLATES: dict[str, tuple[Channel, ...]] = {
    "ticket_created": ("email", "sms"),
    "public_reply": ("email", "sms"),
    "status_changed": ("email", "sms"),
    "ticket_closed": ("email",),
    "customer_replied": ("email",),
}


@dataclass(frozen=True)
class RatingLink:
    label: str
    url: str


@dataclass(frozen=True)
class MessageContext:
    """Everything a template may show. Only customer-visible facts go in here: the rules
    never put a private note, an internal field or a staff-only status name into it."""

    ticket_number: int
    ticket_subject: str
    contact_name: str
    # Link for the reader: the portal ticket page for a customer, the admin page for staff.
    ticket_url: str
    status_label: str | None = None
    note_body: str | None = None
    note_author: str | None = None
    rating_links: tuple[RatingLink, ...] = ()


@dataclass(frozen=True)
class Outgoing:
    """One message to send: a channel, a recipient, a template and what it shows."""

    channel: Channel
    to: str
    template: str
    context: MessageContext

    def to_json(self) -> str:
        """The message as the delivery log keeps it for a re-send."""
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Outgoing:
        """The message a failed delivery kept; ``ValueError`` when it is not one."""
        try:
            data: dict[str, Any] = json.loads(text)
            context = dict(data["context"])
            context["rating_links"] = tuple(RatingLink(**link) for link in context.get("rating_links", ()))
            if data["channel"] not in ("email", "sms") or data["template"] not in TEMPLATES:
                raise ValueError(f"unknown channel or template: {data['channel']}, {data['template']}")
            return cls(
                channel=cast(Channel, data["channel"]),
                to=str(data["to"]),
                template=str(data["template"]),
                context=MessageContext(**context),
            )
        except (KeyError, TypeError, json.JSONDecodeError) as exc:
            raise ValueError(f"not a kept message: {exc}") from exc
