"""The shapes shared by the notification rules and the templates."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

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
