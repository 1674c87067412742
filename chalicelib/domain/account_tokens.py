"""Signed links for portal accounts: confirm a registration, reset a password, accept an
invite, confirm a new email. Nothing is stored for them.

A token names the contact, what it is for and when it expires, and carries an HMAC over
those and over a fingerprint of the contact's password hash, portal state and email as they
were when the link was made. Using a link changes the password (or the state), so the same
link then fails: single use without a table of used tokens. A newer registration or reset
changes the fingerprint too, which retires every older link for that contact, and so does
a new email: a link sent to the address a contact has left no longer works. An email
link's fingerprint also covers the address waiting to replace the email: using it changes
that, and asking for another address retires it.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import datetime, timedelta

from chalicelib import clock
from chalicelib.errors import NotFound
from chalicelib.settings import get_settings
from chalicelib.store.models import Contact

LIFETIMES = {
    "confirm": timedelta(hours=24),
    "reset": timedelta(hours=1),
    "invite": timedelta(days=7),
    "email": timedelta(hours=24),
}
# Which link each account email carries.
PURPOSES = {
    "registration_confirm": "confirm",
    "password_reset": "reset",
    "portal_invite": "invite",
    "account_exists": "reset",
    "account_set_password": "invite",
    "email_change_confirm": "email",
    # To the address being replaced: if the change was not theirs, a new password stops it.
    "email_change_requested": "reset",
}
_TOKEN = re.compile(
    r"(?P<contact>[A-Za-z0-9_-]{1,64})\.(?P<purpose>[a-z]{1,10})\.(?P<expires>[0-9]{1,12})\.(?P<mac>[0-9a-f]{40})"
)


class InvalidAccountLink(NotFound):
    """Altered, expired, already used or not ours: one message for every cause."""

    default_message = "This link is not valid or has expired. You can ask for a new one."


def fingerprint(contact: Contact, purpose: str) -> str:
    """What a link depends on: the password hash, the portal state and the email; for an
    email link, the pending address as well."""
    material = f"{contact.password_hash or ''}|{contact.portal_state}|{contact.email.lower()}"
    if purpose == "email":
        material += f"|{contact.pending_email or ''}"
    return hashlib.sha256(material.encode()).hexdigest()[:32]


def _mac(contact_id: str, purpose: str, expires: int, print_: str) -> str:
    message = f"helpdesk account link\x00{purpose}\x00{contact_id}\x00{expires}\x00{print_}".encode()
    return hmac.new(get_settings().secret_key, message, hashlib.sha256).hexdigest()[:40]


def make(contact: Contact, purpose: str, issued_at: datetime | None = None) -> str:
    """A link token for ``purpose`` (a ``LIFETIMES`` key), valid for that purpose's
    lifetime from ``issued_at`` (now by default)."""
    expires = int(((issued_at or clock.now()) + LIFETIMES[purpose]).timestamp())
    mac = _mac(contact.id, purpose, expires, fingerprint(contact, purpose))
    return f"{contact.id}.{purpose}.{expires}.{mac}"


def contact_id_of(token: str, purpose: str) -> str:
    """The contact a well-formed, unexpired token of ``purpose`` names; read the contact,
    then ``verify`` it. ``InvalidAccountLink`` otherwise."""
    match = _TOKEN.fullmatch(token or "")
    if not match or match["purpose"] != purpose:
        raise InvalidAccountLink()
    # Compared as numbers: any 12 digits parse, while a date past year 9999 would not.
    if int(match["expires"]) <= clock.now().timestamp():
        raise InvalidAccountLink()
    return match["contact"]


def verify(token: str, purpose: str, contact: Contact | None) -> Contact:
    """``contact`` when ``token`` was made for it and for ``purpose``, has not expired and
    nothing it depends on has changed since; ``InvalidAccountLink`` otherwise."""
    contact_id = contact_id_of(token, purpose)
    if contact is None or contact.id != contact_id:
        raise InvalidAccountLink()
    _, _, expires, mac = token.split(".")
    if not hmac.compare_digest(mac, _mac(contact_id, purpose, int(expires), fingerprint(contact, purpose))):
        raise InvalidAccountLink()
    return contact
