"""The links notifications carry, and the signed tokens inside rating links.

A rating link works without a login, so its token is the only credential: it names one
ticket and an expiry, and an HMAC-SHA256 over both with the app's secret key makes it
unforgeable. The MAC covers a purpose prefix of its own, so nothing else the key signs (a
page cursor, say) can ever pass as a rating token. The option a link names travels in the
query string, outside the token: it only pre-selects a choice the customer confirms.

Environment variables
---------------------
HELPDESK_PUBLIC_URL
    The public base URL of the deployment (``https://help.example.com``), which every link
    starts with. Read each time ``PublicLinks.from_env`` is called; empty or unset is an
    error naming the variable, since a message with a broken link must not go out.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import struct
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from chalicelib import clock
from chalicelib.errors import NotFound
from chalicelib.settings import get_settings

PUBLIC_URL_VARIABLE = "HELPDESK_PUBLIC_URL"

# How long a rating link stays good after the message that carries it was built.
RATING_TOKEN_LIFETIME = timedelta(days=30)

# Signed with the token and never sent: it keeps rating MACs apart from every other use of the key.
_PURPOSE = b"helpdesk rating link\x00"
_VERSION = 1
# version byte, ticket number, expiry in epoch seconds
_PAYLOAD = struct.Struct(">BQQ")
_MAC_BYTES = 16
# 17 + 16 bytes are 44 base64 characters exactly: no padding, no spare bits to vary.
_TOKEN = re.compile(r"[A-Za-z0-9_-]{44}")


class InvalidRatingLink(NotFound):
    """A rating token that is altered, expired or not a token at all. One message for every
    cause, so a guess learns nothing about which tickets exist."""

    default_message = "This rating link is not valid or has expired."


class InvalidTicketLink(NotFound):
    """A ticket-view token that is altered, expired or not a token at all."""

    default_message = "This link is not valid or has expired."


# How long a ticket link in a message works: long enough to follow a slow ticket to its end.
TICKET_VIEW_LIFETIME = timedelta(days=90)
_VIEW_PURPOSE = b"helpdesk ticket view\x00"


def _mac(payload: bytes, purpose: bytes) -> bytes:
    key = get_settings().secret_key
    return hmac.new(key, purpose + payload, hashlib.sha256).digest()[:_MAC_BYTES]


def _token(number: int, purpose: bytes, lifetime: timedelta) -> str:
    expires = int((clock.now() + lifetime).timestamp())
    payload = _PAYLOAD.pack(_VERSION, number, expires)
    return base64.urlsafe_b64encode(payload + _mac(payload, purpose)).decode()


def _verify(token: str, purpose: bytes) -> int | None:
    """The ticket number a token of ``purpose`` names, or None if it is not one, or expired."""
    if not isinstance(token, str) or not _TOKEN.fullmatch(token):
        return None
    raw = base64.urlsafe_b64decode(token)
    payload, mac = raw[: _PAYLOAD.size], raw[_PAYLOAD.size :]
    if not hmac.compare_digest(mac, _mac(payload, purpose)):
        return None
    version, number, expires = _PAYLOAD.unpack(payload)
    if version != _VERSION or number < 1 or clock.now() >= datetime.fromtimestamp(expires, UTC):
        return None
    return int(number)


def rating_token(number: int, *, lifetime: timedelta = RATING_TOKEN_LIFETIME) -> str:
    """A token that lets its holder rate ticket ``number`` until ``lifetime`` from now."""
    return _token(number, _PURPOSE, lifetime)


def verify_rating_token(token: str) -> int:
    """The ticket number a token was made for; ``InvalidRatingLink`` if it was altered, has
    expired or is no token of ours."""
    number = _verify(token, _PURPOSE)
    if number is None:
        raise InvalidRatingLink()
    return number


def ticket_view_token(number: int, *, lifetime: timedelta = TICKET_VIEW_LIFETIME) -> str:
    """A token that shows ticket ``number`` (read only) to its holder until ``lifetime`` from now."""
    return _token(number, _VIEW_PURPOSE, lifetime)


def verify_ticket_view_token(token: str) -> int:
    """The ticket number a view token names; ``InvalidTicketLink`` otherwise."""
    number = _verify(token, _VIEW_PURPOSE)
    if number is None:
        raise InvalidTicketLink()
    return number


# Where each kind of account link (``account_tokens.LIFETIMES``) opens, under ``/portal/``.
ACCOUNT_PATHS = {
    "confirm": "register/confirm",
    "reset": "password-reset",
    "invite": "invite",
    "email": "email",
}


@dataclass(frozen=True)
class PublicLinks:
    """The ``Links`` the notification rules use: URLs under one public base URL."""

    base_url: str

    @classmethod
    def from_env(cls) -> PublicLinks:
        """Links under ``HELPDESK_PUBLIC_URL``; ``RuntimeError`` naming it when it is unset or
        not an absolute http(s) URL."""
        base = os.environ.get(PUBLIC_URL_VARIABLE, "").strip().rstrip("/")
        if not base:
            raise RuntimeError(f"{PUBLIC_URL_VARIABLE} must be set to the public base URL of the helpdesk")
        if not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", base):
            raise RuntimeError(f"{PUBLIC_URL_VARIABLE} must be an absolute http(s) URL, not {base!r}")
        return cls(base)

    def portal_ticket(self, number: int) -> str:
        """The customer's page of the ticket."""
        return f"{self.base_url}/portal/tickets/{number}"

    def admin_ticket(self, number: int) -> str:
        """The staff page of the ticket."""
        return f"{self.base_url}/admin/tickets/{number}"

    def account(self, purpose: str, token: str) -> str:
        """The page an account email's link opens: confirm, reset, invite or a new email."""
        return f"{self.base_url}/portal/{ACCOUNT_PATHS[purpose]}/{token}"

    def ticket_view(self, number: int) -> str:
        """A signed link to a read-only page of the ticket, for customers without a login."""
        return f"{self.base_url}/t/{ticket_view_token(number)}"

    def rating(self, number: int, option_id: str) -> str:
        """A signed link to the rating page of the ticket, with ``option_id`` pre-selected."""
        return f"{self.base_url}/rate/{rating_token(number)}?option={quote(option_id, safe='')}"
