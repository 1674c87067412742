"""Customers' sign-in to the portal and the server-side sessions that carry it.

A session cookie reads ``<contact id>.<secret>``; only the SHA-256 of the whole value is
stored (``PortalSession``), so the table holds no usable session. The visible id lets one
batch read fetch the session, the contact and the config together, plus whatever the page
shows from single items, such as the ticket of a reply.

A session ends at its expiry, at sign-out (the item is deleted), and for every browser of
the contact when their password changes or staff shut them out (``sessions_valid_from``).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from pynamodb.exceptions import UpdateError

from chalicelib import clock
from chalicelib.domain import contacts, passwords, throttle
from chalicelib.domain.setup import SetupConfig
from chalicelib.errors import NotAuthenticated
from chalicelib.store.db import Key, condition_failed, get_many, update_unversioned
from chalicelib.store.models import Config, Contact, Item, PortalSession
from chalicelib.validation import Field, parse_fields, secret, text

SESSION_LIFETIME = timedelta(hours=12)
LOGIN_PER_ACCOUNT = throttle.Limit("portal-login-account", attempts=5, window_seconds=900)
LOGIN_PER_ADDRESS = throttle.Limit("portal-login-address", attempts=20, window_seconds=900)
LOGIN_SPEC = {"email": Field(text(254), required=True), "password": Field(secret(256), required=True)}
WRONG = "Email or password is wrong."


@dataclass
class PortalContext:
    """The signed-in contact, the config, and the other items read in the same batch."""

    contact: Contact
    config: SetupConfig
    items: dict[Key, Item]
    session_hash: str


class NoSession(NotAuthenticated):
    """No live session, with the config when the failed check had read it already (None
    when the cookie was refused before any read): the caller can tell a portal that is
    switched off from one to sign in to without reading the config a second time."""

    def __init__(self, config: SetupConfig | None = None) -> None:
        super().__init__()
        self.config = config


def session_hash(cookie_value: str) -> str:
    return hashlib.sha256(cookie_value.encode()).hexdigest()


def sign_in(body: dict[str, Any], client_address: str) -> tuple[str, Contact]:
    """Check email and password; a new session's cookie value and the contact.

    Every failure, unknown email included, is the same ``NotAuthenticated`` after the same
    password check, so the answer tells nothing about which accounts exist. Attempts are
    counted before they are judged, per client address and per account.
    """
    values = parse_fields(body, LOGIN_SPEC)
    address = values["email"].lower()
    throttle.reserve([(LOGIN_PER_ADDRESS, client_address), (LOGIN_PER_ACCOUNT, address)])

    contact = contacts.find_by_email(address)
    stored_hash = contact.password_hash if contact is not None else None
    verified = passwords.verify_password(stored_hash, values["password"])
    if not verified or contact is None or contact.portal_state != "active":
        raise NotAuthenticated(WRONG)

    throttle.forgive(LOGIN_PER_ACCOUNT, address)
    throttle.refund(LOGIN_PER_ADDRESS, client_address)
    if passwords.needs_rehash(contact.password_hash):
        _store_stronger_hash(contact, values["password"])
    return start_session(contact), contact


def _store_stronger_hash(contact: Contact, plain: str) -> None:
    # Not an edit: the version stays, and a password changed meanwhile is not brought back.
    try:
        update_unversioned(
            Contact.key(contact.id),
            [Contact.password_hash.set(passwords.hash_password(plain))],
            Contact.password_hash == contact.password_hash,
        )
    except UpdateError as exc:
        if not condition_failed(exc):
            raise


def start_session(contact: Contact) -> str:
    """Store a new session for the contact; its cookie value. Called at every sign-in, so a
    session id planted before sign-in never becomes a signed-in one."""
    value = f"{contact.id}.{secrets.token_urlsafe(32)}"
    moment = clock.now()
    expires_at = moment + SESSION_LIFETIME
    PortalSession(
        *PortalSession.key(session_hash(value)),
        contact_id=contact.id,
        created_at=moment,
        expires_at=expires_at,
        ttl=expires_at,
    ).save()
    return value


def claimed_contact_id(cookie_value: str | None) -> str | None:
    """The contact id a cookie value names, not yet checked (None for a value of the wrong
    form): enough to put that contact's own items in the session batch, which then proves
    the claim or refuses the session."""
    value = (cookie_value or "").strip()
    contact_id, dot, rest = value.partition(".")
    if not dot or not contact_id or not rest or len(value) > 200:
        return None
    return contact_id


def authenticate(cookie_value: str | None, extra_keys: Sequence[Key] = ()) -> PortalContext:
    """The session behind a cookie value, with its contact, the config and ``extra_keys``, in
    one strongly consistent batch read; ``NoSession`` (a ``NotAuthenticated``) for anything
    but a live session of a contact who may use the portal."""
    value = (cookie_value or "").strip()
    contact_id = claimed_contact_id(value)
    if contact_id is None:
        raise NoSession()
    digest = session_hash(value)
    session_key, contact_key = PortalSession.key(digest), Contact.key(contact_id)
    items = get_many([session_key, contact_key, Config.key(), *extra_keys])
    config = SetupConfig.from_item(items.get(Config.key()))

    stored, contact = items.get(session_key), items.get(contact_key)
    # An expired session lingers until DynamoDB's TTL sweep removes it: the time is checked here.
    if not isinstance(stored, PortalSession) or stored.expires_at <= clock.now():
        raise NoSession(config)
    if not isinstance(contact, Contact) or stored.contact_id != contact.id:
        raise NoSession(config)
    if contact.portal_state != "active":
        raise NoSession(config)
    if contact.sessions_valid_from and stored.created_at < contact.sessions_valid_from:
        raise NoSession(config)
    return PortalContext(contact, config, items, digest)


def end_session(context: PortalContext) -> None:
    """Sign this browser out: the session item goes, so the cookie is worth nothing."""
    PortalSession(*PortalSession.key(context.session_hash)).delete()


_ANY_HASH = object()


def set_password(contact: Contact, plain: str, *, expected_hash: Any = _ANY_HASH) -> None:
    """Give the contact a new portal password (already checked against the password rules)
    and end every session begun before, so a stolen session does not outlive the change.
    The contact's version stays: a password is not part of what staff edit.

    With ``expected_hash`` the change happens only if the stored hash is still that one
    (None: still no password): a link that sets a password works once, even twice at once.
    """
    condition = Contact.pk.exists()
    if expected_hash is None:
        condition &= Contact.password_hash.does_not_exist()
    elif expected_hash is not _ANY_HASH:
        condition &= Contact.password_hash == expected_hash
    try:
        update_unversioned(
            Contact.key(contact.id),
            [
                Contact.password_hash.set(passwords.hash_password(plain)),
                Contact.portal_state.set("active"),
                Contact.sessions_valid_from.set(clock.now()),
            ],
            condition,
        )
    except UpdateError as exc:
        if condition_failed(exc):
            raise NotAuthenticated("The password was changed meanwhile.") from exc
        raise
