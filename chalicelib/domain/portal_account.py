"""A customer's own account in the portal: contact details, notification choices, email and
password.

What a customer may change is narrower than what staff edit: never the name, the service
level or the portal state. Only the attributes that change are written, in one UpdateItem
under the version read with the session: the contact item also carries the ledger's
balances and the password hash, which other writers change without a version, so a whole
item must never be put back.

Changing the email or the password asks for the current password, checked at most
``PASSWORD_CHECK.attempts`` times per account in a window, so a browser left signed in
cannot be used to take the account over or to try addresses one after another.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pynamodb.exceptions import TransactWriteError, UpdateError

from chalicelib import clock
from chalicelib.domain import contacts, passwords, portal_auth, throttle
from chalicelib.domain.portal_auth import PortalContext
from chalicelib.errors import InvalidInput, StaleVersion
from chalicelib.store.db import condition_failed, get_one, set_or_remove, transaction
from chalicelib.store.models import Contact, EmailClaim
from chalicelib.validation import Field, boolean, email, parse_fields, password, phone, secret, text

PASSWORD_CHECK = throttle.Limit("portal-password-check", attempts=5, window_seconds=900)

ACCOUNT_SPEC = {
    "email": Field(email),
    "phone": Field(phone, nullable=True),
    "address": Field(text(500, multiline=True), nullable=True),
    "notify_email": Field(boolean),
    "notify_sms": Field(boolean),
    "current_password": Field(secret(256), nullable=True),
    "new_password": Field(password, nullable=True),
}
# The fields of the contact item a customer edits, as named in ``ACCOUNT_SPEC``.
PROFILE = ("email", "phone", "address", "notify_email", "notify_sms")

# Says nothing of whether, or by whom, the address is used.
EMAIL_UNUSABLE = "This email cannot be used."
CURRENT_NEEDED = "Enter your current password to change your email or password."
CURRENT_WRONG = "The current password is wrong."


@dataclass(frozen=True)
class Saved:
    """What a save changed: the profile fields written, whether the password changed, and
    then the cookie value of the fresh session that keeps this browser signed in."""

    changed: tuple[str, ...]
    password_changed: bool
    session: str | None = None


def save(context: PortalContext, body: dict[str, Any]) -> Saved:
    """Apply the signed-in customer's edit; fields left out of ``body`` stay as they are.

    Everything is checked before anything is written, so a refused edit changes nothing.
    A new password ends every session of the contact, this one included; this browser
    gets a fresh session, begun after the change.
    """
    values = parse_fields(body, ACCOUNT_SPEC, partial=True)
    current_password = values.pop("current_password", None)
    new_password = values.pop("new_password", None)
    contact = context.contact
    edits = {name: value for name, value in values.items() if getattr(contact, name) != value}

    if "email" in edits or new_password is not None:
        # shortcoming: a new email is not confirmed by a link sent to it, nor is the old address
        # told of the change; the current password is the only proof asked for.
        _check_current_password(contact, current_password)

    if edits:
        _write(contact, edits)

    session = None
    if new_password is not None:
        # Only over the password just checked: a reset finished meanwhile is not undone.
        portal_auth.set_password(contact, new_password, expected_hash=contact.password_hash)
        portal_auth.end_session(context)
        session = portal_auth.start_session(contact)
    return Saved(tuple(sorted(edits)), new_password is not None, session)


def _check_current_password(contact: Contact, given: str | None) -> None:
    """``InvalidInput`` on ``current_password`` unless it is the contact's password. Each
    check is counted before it is judged; a right one clears the count."""
    if not given:
        raise InvalidInput(CURRENT_NEEDED, field="current_password")
    throttle.reserve([(PASSWORD_CHECK, contact.id)])
    if not passwords.verify_password(contact.password_hash, given):
        raise InvalidInput(CURRENT_WRONG, field="current_password")
    throttle.forgive(PASSWORD_CHECK, contact.id)


def _write(contact: Contact, edits: dict[str, Any]) -> None:
    """Write only ``edits`` (and the time of the edit) under the contact's version. A new
    email moves the contact's claim on its address in the same transaction, exactly as a
    staff edit does, so two contacts never share an address."""
    moment = clock.now()
    actions = [set_or_remove(getattr(Contact, name), value) for name, value in edits.items()]
    actions.append(Contact.updated_at.set(moment))
    new_email: str | None = edits.get("email")
    if new_email is not None:
        lookup = contacts.index_keys(contact.id, contact.name, new_email, contact.service_level_id)
        actions.append(Contact.lookup_pk.set(lookup["lookup_pk"]))
    # A change of case only keeps the claim: it is kept in lower case, and is this contact's.
    moved_claim = new_email if new_email and new_email.lower() != contact.email.lower() else None

    expected_version = contact.version
    try:
        if moved_claim:
            _write_with_claim(contact, actions, moved_claim)
        else:
            # One UpdateItem; PynamoDB adds the version condition and increment.
            contact.update(actions=actions)
    except (UpdateError, TransactWriteError) as exc:
        if not condition_failed(exc):
            raise
        # The cancellation reasons do not say which write failed in PynamoDB's order of
        # writes (see ``contacts.update``): the stored version tells a stale edit apart.
        stored = get_one(Contact.key(contact.id)) if moved_claim else None
        if not isinstance(stored, Contact) or stored.version != expected_version:
            raise StaleVersion() from exc
        raise InvalidInput(EMAIL_UNUSABLE, field="email") from exc

    for name, value in edits.items():
        setattr(contact, name, value)
    contact.updated_at = moment


def _write_with_claim(contact: Contact, actions: list[Any], new_email: str) -> None:
    new_claim = contacts.email_claim(new_email)
    new_claim.owner_id = contact.id
    with transaction() as writes:
        writes.update(contact, actions=actions)
        writes.save(new_claim, condition=EmailClaim.pk.does_not_exist())
        writes.delete(contacts.email_claim(contact.email), condition=EmailClaim.owner_id == contact.id)
