"""A customer's own account in the portal: contact details, notification choices, email and
password.

What a customer may change is narrower than what staff edit: never the name, the service
level or the portal state. Only the attributes that change are written, in one UpdateItem
under the version read with the session: the contact item also carries the ledger's
balances and the password hash, which other writers change without a version, so a whole
item must never be put back.

Changing the email or the password asks for the current password, checked at most
``PASSWORD_CHECK.attempts`` times per account in a window, so a browser left signed in
cannot be used to take the account over.

A new email is not taken at once: it waits as ``pending_email``, and a signed link goes to
it (``email_change_confirm``). Only that link, opened with the account's password, moves
the contact's claim to the address, so nobody can take an address they cannot read mail
at, and with it the tickets and notices of its owner. The answer is the same whether or not
the address is free: the stream handler sends nothing to an address another contact holds,
and the confirmation refuses it if it was claimed meanwhile. The old address is told of
the request, with a link to choose a new password, which stops the change. Requests are
counted per account and never forgiven (``EMAIL_CHANGES``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pynamodb.exceptions import TransactWriteError, UpdateError
from pynamodb.expressions.update import Action

from chalicelib import clock
from chalicelib.domain import account_tokens, contacts, passwords, portal_access, portal_auth, throttle
from chalicelib.domain.portal_auth import PortalContext
from chalicelib.errors import Conflict, InvalidInput, StaleVersion
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
# Every email change asked for, right password or not, counts here and is never given back:
# the form cannot be used to try address after address, nor to flood the old mailbox.
EMAIL_CHANGES = throttle.Limit("portal-email-change", attempts=5, window_seconds=3600)
EMAIL_CONFIRM = throttle.Limit("portal-email-confirm", attempts=5, window_seconds=900)
EMAIL_CONFIRM_SPEC = {"password": Field(secret(256), required=True)}

CURRENT_NEEDED = "Enter your current password to change your email or password."
CURRENT_WRONG = "The current password is wrong."
CONFIRM_REFUSED = "This is not your account's password."
EMAIL_TAKEN_MEANWHILE = (
    "This address has come to belong to another account since you asked, so your email has not changed."
)


@dataclass(frozen=True)
class Saved:
    """What a save changed: the profile fields written, whether the password changed, then
    the cookie value of the fresh session that keeps this browser signed in, and the address
    a confirmation link was asked for."""

    changed: tuple[str, ...]
    password_changed: bool
    session: str | None = None
    email_requested: str | None = None


def save(context: PortalContext, body: dict[str, Any]) -> Saved:
    """Apply the signed-in customer's edit; fields left out of ``body`` stay as they are.

    Everything is checked before anything is written, so a refused edit changes nothing.
    A new password ends every session of the contact, this one included; this browser
    gets a fresh session, begun after the change. A new email only waits for its link.
    """
    values = parse_fields(body, ACCOUNT_SPEC, partial=True)
    current_password = values.pop("current_password", None)
    new_password = values.pop("new_password", None)
    contact = context.contact
    edits = {name: value for name, value in values.items() if getattr(contact, name) != value}

    new_email: str | None = edits.get("email")
    # Another case of the same address is the same mailbox and keeps its claim: written at once.
    requested = new_email if new_email and new_email.lower() != contact.email.lower() else None
    if new_email is not None:
        throttle.reserve([(EMAIL_CHANGES, contact.id)])
    if new_email is not None or new_password is not None:
        _check_current_password(contact, current_password)
    if requested is not None:
        # Counted whether or not the address is free: the limit tells nothing either.
        throttle.reserve([(portal_access.MAIL_PER_ACCOUNT, requested.lower())])
        del edits["email"]
        edits["pending_email"] = requested

    if edits:
        _write(contact, edits)

    session = None
    if new_password is not None:
        # Only over the password just checked: a reset finished meanwhile is not undone.
        portal_auth.set_password(contact, new_password, expected_hash=contact.password_hash)
        portal_auth.end_session(context)
        session = portal_auth.start_session(contact)

    # Last: the link is made from the password as it is now, a new one included.
    if requested is not None:
        _queue_email_change(contact, requested)
    changed = tuple(sorted(name for name in edits if name != "pending_email"))
    return Saved(changed, new_password is not None, session, requested)


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
    """Write only ``edits`` (and the time of the edit) under the contact's version. An email
    here differs from the stored one in case only: the claim, kept in lower case, stays."""
    moment = clock.now()
    actions = [set_or_remove(getattr(Contact, name), value) for name, value in edits.items()]
    actions.append(Contact.updated_at.set(moment))
    if "email" in edits:
        lookup = contacts.index_keys(contact.id, contact.name, edits["email"], contact.service_level_id)
        actions.append(Contact.lookup_pk.set(lookup["lookup_pk"]))

    try:
        # One UpdateItem; PynamoDB adds the version condition and increment.
        contact.update(actions=actions)
    except UpdateError as exc:
        if condition_failed(exc):
            raise StaleVersion() from exc
        raise

    for name, value in edits.items():
        setattr(contact, name, value)
    contact.updated_at = moment


def _queue_email_change(contact: Contact, requested: str) -> None:
    """The link to the new address, and the word to the old one. Queued alike whether or not
    the address is free; the stream handler drops the link to one another contact holds."""
    portal_access.queue_mail("email_change_confirm", contact, recipient=requested)
    portal_access.queue_mail("email_change_requested", contact, recipient=contact.email)


# -- confirming a new email ----------------------------------------------------------


def confirm_email(token: str, body: dict[str, Any]) -> Contact:
    """Make the pending address the contact's email, from its link and with the account's
    password (so the owner of an address someone else asked for cannot hand it over by
    clicking); the contact, whose other sessions have ended."""
    contact = portal_access.linked_contact(token, "email")
    requested = contact.pending_email
    if not requested:
        raise account_tokens.InvalidAccountLink()
    values = parse_fields(body, EMAIL_CONFIRM_SPEC)
    throttle.reserve([(EMAIL_CONFIRM, contact.id)])
    if not passwords.verify_password(contact.password_hash, values["password"]):
        raise InvalidInput(CONFIRM_REFUSED, field="password")
    throttle.forgive(EMAIL_CONFIRM, contact.id)
    _move_email(token, contact, requested)
    return contact


def _move_email(token: str, contact: Contact, requested: str) -> None:
    """In one transaction: the contact takes the address (under its version, and only while
    its email, pending address and password are the ones the link was checked against), the
    new claim is made if nobody holds the address, and the old claim goes."""
    moment = clock.now()
    old_email = contact.email
    lookup = contacts.index_keys(contact.id, contact.name, requested, contact.service_level_id)
    actions: list[Action] = [
        Contact.email.set(requested),
        Contact.lookup_pk.set(lookup["lookup_pk"]),
        Contact.pending_email.remove(),
        # The address to sign in with has changed: every browser signs in again.
        Contact.sessions_valid_from.set(moment),
        Contact.updated_at.set(moment),
    ]
    unchanged = (
        (Contact.email == old_email)
        & (Contact.pending_email == requested)
        & (Contact.password_hash == contact.password_hash)
    )
    new_claim = contacts.email_claim(requested)
    new_claim.owner_id = contact.id
    try:
        with transaction() as writes:
            writes.update(contact, actions=actions, condition=unchanged)
            writes.save(new_claim, condition=EmailClaim.pk.does_not_exist())
            writes.delete(contacts.email_claim(old_email), condition=EmailClaim.owner_id == contact.id)
    except TransactWriteError as exc:
        if not condition_failed(exc):
            raise
        holder = get_one(EmailClaim.key("contact", requested.lower()))
        if isinstance(holder, EmailClaim) and holder.owner_id != contact.id:
            raise Conflict(EMAIL_TAKEN_MEANWHILE, field="email") from exc
        # The contact changed meanwhile: a dead link says so; a live one may be tried again.
        portal_access.linked_contact(token, "email")
        raise StaleVersion() from exc

    contact.email, contact.pending_email = requested, None
    contact.sessions_valid_from = contact.updated_at = moment
