"""Notification messages rendered from Jinja2 files under ``templates/notifications/``.

Each template key of ``messages.TEMPLATES`` has a folder holding ``subject.txt``,
``email.txt`` and ``email.html`` and, where SMS is listed, ``sms.txt``. HTML is
autoescaped; the subject and plain text are not (a mail client shows them as typed), so
the subject is cleaned of line breaks and control characters before it can reach a header.

The environment is built on first use and kept, as ``chalicelib.rendering`` does: Jinja2
costs an import that only the stream handler needs.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, fields
from datetime import timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from chalicelib.notify.messages import TEMPLATES, Channel, MessageContext
from chalicelib.rendering import TEMPLATES as TEMPLATE_ROOT

if TYPE_CHECKING:
    from jinja2 import Environment

NOTIFICATIONS = TEMPLATE_ROOT / "notifications"

# Mail clients cut subjects far shorter; this bounds what a pasted essay can put in a header.
MAX_SUBJECT = 140
# One SMS segment is 160 GSM-7 characters; the templates aim below it with typical data.
SMS_SEGMENT = 160
ELLIPSIS = "…"

# Fields a template shows that MessageContext leaves optional: rendering without them
# would send an email with a hole in it, so it is refused instead.
REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {
    "public_reply": ("note_body",),
    "status_changed": ("status_label",),
    "customer_replied": ("note_body",),
}

_LINK = re.compile(r"https?://[^\s<>\"']+\Z")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class RenderedEmail:
    """An email ready for SES: a one-line subject, a plain-text part and an HTML part."""

    subject: str
    text: str
    html: str


@lru_cache(maxsize=1)
def environment() -> Environment:
    """The notifications' own environment: ``.html`` autoescaped, ``.txt`` verbatim, and a
    missing variable an error rather than an empty string in a customer's inbox."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    return Environment(
        loader=FileSystemLoader(NOTIFICATIONS),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=True, default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )


def render_email(template: str, context: MessageContext) -> RenderedEmail:
    """Render the email of ``template``: subject (header-safe), plain text and HTML."""
    values = _values(template, "email", context)
    env = environment()

    subject = header_value(env.get_template(f"{template}/subject.txt").render(values), MAX_SUBJECT)
    text = env.get_template(f"{template}/email.txt").render(values).strip() + "\n"
    html = env.get_template(f"{template}/email.html").render(values).strip() + "\n"
    return RenderedEmail(subject=subject, text=text, html=html)


# Emails about a contact's portal account (``chalicelib.domain.portal_access``), under
# ``notifications/account/<key>/``: each shows the contact's name and one signed link.
ACCOUNT_TEMPLATES = (
    "registration_confirm",
    "password_reset",
    "portal_invite",
    "account_exists",
    "account_set_password",
    "email_change_confirm",
    "email_change_requested",
)


def render_account_email(template: str, *, contact_name: str, link: str, valid_for: str) -> RenderedEmail:
    """Render an account email; ``valid_for`` says how long its link works ("1 hour")."""
    if template not in ACCOUNT_TEMPLATES:
        raise ValueError(f"no account email named {template!r}")
    if not _LINK.match(link):
        raise ValueError(f"link {link!r} is not an absolute http(s) URL")
    values = {"contact_name": contact_name, "link": link, "valid_for": valid_for}
    env = environment()
    folder = f"account/{template}"
    subject = header_value(env.get_template(f"{folder}/subject.txt").render(values), MAX_SUBJECT)
    text = env.get_template(f"{folder}/email.txt").render(values).strip() + "\n"
    html = env.get_template(f"{folder}/email.html").render(values).strip() + "\n"
    return RenderedEmail(subject=subject, text=text, html=html)


def duration_text(span: timedelta) -> str:
    """How long an account link works, as its email says it: "1 hour", "24 hours", "7 days"."""
    hours = int(span.total_seconds() // 3600)
    if hours % 24 == 0 and hours >= 48:
        return f"{hours // 24} days"
    return "1 hour" if hours == 1 else f"{hours} hours"


def render_sms(template: str, context: MessageContext) -> str:
    """Render the SMS of ``template`` as one line: line breaks in a value never split it."""
    values = _values(template, "sms", context)

    raw = environment().get_template(f"{template}/sms.txt").render(values)
    return _collapse(raw)


def header_value(value: str, limit: int) -> str:
    """``value`` made safe for a mail header: one line, no control or format characters
    (CR/LF, NUL, bidi overrides), runs of spaces collapsed, at most ``limit`` characters.

    A header value with a line break in it could start a header of its own (``Bcc:``);
    after this there is none to start one with.
    """
    cleaned = _collapse(value)
    if len(cleaned) <= limit:
        return cleaned
    return cleaned[: limit - len(ELLIPSIS)].rstrip() + ELLIPSIS


def _collapse(value: str) -> str:
    """Control, format and separator characters become spaces; spaces collapse to one."""
    kept = "".join(" " if unicodedata.category(char)[0] in "CZ" else char for char in value)
    return _SPACES.sub(" ", kept).strip()


def _values(template: str, channel: Channel, context: MessageContext) -> dict[str, Any]:
    """The template's variables, after refusing what must never render: an unknown
    template or channel, a missing required field, a link that is not http(s)."""
    if channel not in TEMPLATES.get(template, ()):
        raise ValueError(f"no {channel} template named {template!r}")

    missing = [name for name in REQUIRED_FIELDS.get(template, ()) if not getattr(context, name)]
    if missing:
        raise ValueError(f"template {template!r} needs {', '.join(missing)}")

    links = [context.ticket_url, *(link.url for link in context.rating_links)]
    for link in links:
        # Links come from the configured base URL; anything else (javascript:, a line
        # break) means a bug upstream, and must not reach an href.
        if not _LINK.match(link):
            raise ValueError(f"link {link!r} is not an absolute http(s) URL")

    return {field.name: getattr(context, field.name) for field in fields(context)}
