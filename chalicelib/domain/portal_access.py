"""Getting into the portal: registration, password reset and staff invites.

None of these tells a visitor whether an email belongs to someone: registration and reset
answer the same for every address, take about as long (a registration hashes the password
whether or not it is kept), and whatever is to be said goes to the mailbox instead, as an
``AccountMail`` the stream handler sends with a signed link (``account_tokens``).

Registration keeps the password with a ``pending`` contact, and the confirmation link asks
for it again: whoever confirms must know the password, so registering someone else's
address leads nowhere even if its owner clicks the link. A newer registration of the same
address replaces the password and retires older links.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pynamodb.exceptions import UpdateError

from chalicelib import clock
from chalicelib.domain import account_tokens, contacts, passwords, portal_auth, throttle
from chalicelib.domain.setup import SetupConfig
from chalicelib.errors import Conflict, InvalidInput, NotAuthenticated, NotFound
from chalicelib.store.db import condition_failed, create_with_claim, get_one, update_unversioned
from chalicelib.store.models import AccountMail, Contact, EmailClaim
from chalicelib.validation import Field, email, parse_fields, password, secret, text

REGISTER_PER_ADDRESS = throttle.Limit("portal-register-address", attempts=10, window_seconds=3600)
RESET_PER_ADDRESS = throttle.Limit("portal-reset-address", attempts=10, window_seconds=3600)
# At most this many account emails to one address an hour, whoever asks: no mailbox flooding.
MAIL_PER_ACCOUNT = throttle.Limit("portal-mail-account", attempts=3, window_seconds=3600)
CONFIRM_PER_ACCOUNT = throttle.Limit("portal-confirm-account", attempts=5, window_seconds=900)
MAIL_LIFETIME_SECONDS = 2 * 24 * 3600

REGISTER_SPEC = {
    "name": Field(text(contacts.NAME_MAX), required=True),
    "email": Field(email, required=True),
    "password": Field(password, required=True),
}
RESET_SPEC = {"email": Field(email, required=True)}
NEW_PASSWORD_SPEC = {"password": Field(password, required=True)}
CONFIRM_SPEC = {"password": Field(secret(256), required=True)}

REGISTRATION_CLOSED = "Registration is not open. Ask us for an invitation instead."
CONFIRM_REFUSED = "This is not the password you registered with."


# -- registration --------------------------------------------------------------------


def register(config: SetupConfig, body: dict[str, Any], client_address: str) -> None:
    """Register, or tell the address's owner by email what to do; the same for the caller."""
    if not config.settings.get("registration_enabled"):
        raise NotFound(REGISTRATION_CLOSED)
    values = parse_fields(body, REGISTER_SPEC)
    address = values["email"].lower()
    throttle.reserve([(REGISTER_PER_ADDRESS, client_address), (MAIL_PER_ACCOUNT, address)])
    # Hashed on every path, so the time taken does not tell a new address from a known one.
    password_hash = passwords.hash_password(values["password"])

    existing = contacts.find_by_email(address)
    if existing is None:
        existing = _create_pending(values["name"], address, password_hash)
        if existing.portal_state == "pending":
            queue_mail("registration_confirm", existing)
            return
    _tell_existing(existing, password_hash)


def _create_pending(name: str, address: str, password_hash: str) -> Contact:
    """A new contact waiting for its email to be confirmed; the contact that took the address
    meanwhile if another request was faster."""
    contact_id = clock.new_id()
    moment = clock.now()
    contact = Contact(
        *Contact.key(contact_id),
        id=contact_id,
        name=name,
        email=address,
        notify_email=True,
        notify_sms=False,
        portal_state="pending",
        password_hash=password_hash,
        created_at=moment,
        updated_at=moment,
        **contacts.index_keys(contact_id, name, address, None),
    )
    claim = contacts.email_claim(address)
    claim.owner_id = contact_id
    try:
        create_with_claim(contact, claim, field="email", taken="taken")
    except Conflict:
        owner = get_one(EmailClaim.key("contact", address))
        found = get_one(Contact.key(owner.owner_id)) if isinstance(owner, EmailClaim) else None
        if not isinstance(found, Contact):
            raise
        return found
    return contact


def _tell_existing(contact: Contact, password_hash: str) -> None:
    """What a registration of a known address does, by the state of its portal access."""
    if contact.portal_state == "pending":
        # The latest registration's password is the one to confirm; older links stop working.
        update_unversioned(Contact.key(contact.id), [Contact.password_hash.set(password_hash)])
        queue_mail("registration_confirm", contact)
    elif contact.portal_state == "active":
        queue_mail("account_exists", contact)
    elif contact.portal_state in ("none", "invited"):
        queue_mail("account_set_password", contact)
    # A contact shut out by staff hears nothing: staff decide whether they come back.


def confirm(token: str, body: dict[str, Any]) -> Contact:
    """Confirm a registration with the password it was made with; the contact, now active."""
    contact = _linked_contact(token, "confirm", ("pending",))
    values = parse_fields(body, CONFIRM_SPEC)
    throttle.reserve([(CONFIRM_PER_ACCOUNT, contact.id)])
    if not passwords.verify_password(contact.password_hash, values["password"]):
        raise InvalidInput(CONFIRM_REFUSED, field="password")
    throttle.forgive(CONFIRM_PER_ACCOUNT, contact.id)
    try:
        update_unversioned(
            Contact.key(contact.id),
            [Contact.portal_state.set("active"), Contact.sessions_valid_from.set(clock.now())],
            (Contact.portal_state == "pending") & (Contact.password_hash == contact.password_hash),
        )
    except UpdateError as exc:
        if condition_failed(exc):
            raise account_tokens.InvalidAccountLink() from exc
        raise
    contact.portal_state = "active"
    return contact


# -- password reset and invites ------------------------------------------------------


def request_reset(body: dict[str, Any], client_address: str) -> None:
    """Email the address's owner a way in, if the address has one; the same for the caller."""
    values = parse_fields(body, RESET_SPEC)
    address = values["email"].lower()
    throttle.reserve([(RESET_PER_ADDRESS, client_address), (MAIL_PER_ACCOUNT, address)])
    contact = contacts.find_by_email(address)
    if contact is None:
        return
    template = {
        "active": "password_reset",
        "none": "account_set_password",
        "invited": "account_set_password",
        "pending": "registration_confirm",
    }.get(contact.portal_state)
    if template:
        queue_mail(template, contact)


def invite(contact: Contact) -> Contact:
    """Staff invite a contact to the portal: an email with a link to set a password. Invites
    count towards the same hourly limit of account emails per address as resets do, so
    clicking "invite" again and again cannot flood a customer's mailbox."""
    if contact.portal_state == "active":
        raise Conflict("This contact already uses the portal.")
    if contact.portal_state == "disabled":
        raise Conflict("This contact's portal access is disabled; enable it first.")
    throttle.reserve([(MAIL_PER_ACCOUNT, contact.email.lower())])
    try:
        update_unversioned(
            Contact.key(contact.id),
            [Contact.portal_state.set("invited")],
            Contact.portal_state.is_in("none", "invited", "pending"),
        )
    except UpdateError as exc:
        if condition_failed(exc):
            raise Conflict("This contact's portal access changed meanwhile; reload and try again.") from exc
        raise
    contact.portal_state = "invited"
    queue_mail("portal_invite", contact)
    return contact


def set_password_from_link(token: str, purpose: str, body: dict[str, Any]) -> Contact:
    """Set a new password from a reset or invite link; the contact, now active."""
    states = ("active",) if purpose == "reset" else ("none", "invited", "pending")
    contact = _linked_contact(token, purpose, states)
    values = parse_fields(body, NEW_PASSWORD_SPEC)
    try:
        portal_auth.set_password(contact, values["password"], expected_hash=contact.password_hash)
    except NotAuthenticated as exc:  # the same link used twice at once: the other one won
        raise account_tokens.InvalidAccountLink() from exc
    contact.portal_state = "active"
    return contact


def linked_contact(token: str, purpose: str) -> Contact:
    """The contact a link is for, checked as its page opens (the page itself changes nothing)."""
    states = {
        "confirm": ("pending",),
        "reset": ("active",),
        "invite": ("none", "invited", "pending"),
        "email": ("active",),
    }[purpose]
    return _linked_contact(token, purpose, states)


def _linked_contact(token: str, purpose: str, states: tuple[str, ...]) -> Contact:
    contact_id = account_tokens.contact_id_of(token, purpose)
    found = get_one(Contact.key(contact_id))
    contact = account_tokens.verify(token, purpose, found if isinstance(found, Contact) else None)
    if contact.portal_state not in states:
        raise account_tokens.InvalidAccountLink()
    return contact


def queue_mail(template: str, contact: Contact, recipient: str | None = None) -> None:
    """Queue an account email; the stream handler sends it with its link, to ``recipient``
    when given, else to the contact's email as stored then."""
    moment = clock.now()
    AccountMail(
        *AccountMail.key(clock.new_id()),
        contact_id=contact.id,
        template=template,
        recipient=recipient,
        created_at=moment,
        ttl=moment + timedelta(seconds=MAIL_LIFETIME_SECONDS),
    ).save()
