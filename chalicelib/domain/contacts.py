"""Contacts: the merchant's customers, with unique emails and a default service level."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NoReturn

from pynamodb.exceptions import TransactWriteError

from chalicelib import clock
from chalicelib.domain.setup import SetupConfig
from chalicelib.errors import Conflict, InvalidInput, NotFound, StaleVersion
from chalicelib.store.cursor import decode_cursor, encode_cursor
from chalicelib.store.db import (
    condition_failed,
    create_with_claim,
    first_referrer,
    get_one,
    set_or_remove,
    transaction,
)
from chalicelib.store.models import Contact, EmailClaim
from chalicelib.validation import (
    Field,
    boolean,
    choice,
    email,
    identifier,
    integer,
    parse_fields,
    phone,
    text,
)

PORTAL_STATES = ("none", "invited", "pending", "active", "disabled")
NAME_MAX = 120

CONTACT_SPEC = {
    "name": Field(text(NAME_MAX), required=True),
    "email": Field(email, required=True),
    "phone": Field(phone, nullable=True),
    "company": Field(text(120), nullable=True),
    "address": Field(text(500, multiline=True), nullable=True),
    "service_level_id": Field(identifier, nullable=True),
    "notify_email": Field(boolean),
    "notify_sms": Field(boolean),
}
UPDATE_SPEC = {
    **CONTACT_SPEC,
    # Staff can shut a contact out of the portal, or let them back in.
    "portal_access": Field(choice("enabled", "disabled")),
    "version": Field(integer(1, 2**53), required=True),
}


# What a staff edit writes; the ledger's balances, the password and the sessions are not here.
_EDITED = (
    Contact.name,
    Contact.email,
    Contact.phone,
    Contact.company,
    Contact.address,
    Contact.service_level_id,
    Contact.notify_email,
    Contact.notify_sms,
    Contact.portal_state,
    Contact.sessions_valid_from,
    Contact.updated_at,
    Contact.lookup_pk,
    Contact.list_pk,
    Contact.list_sk,
    Contact.ref_pk,
    Contact.ref_sk,
)


def email_claim(address: str) -> EmailClaim:
    """The item that keeps a contact's email unique, whatever its case."""
    return EmailClaim(*EmailClaim.key("contact", address.lower()))


def index_keys(contact_id: str, name: str, address: str, service_level_id: str | None) -> dict[str, Any]:
    """The index attributes a contact is written with: look-up by email, listing by name,
    and the reference to its default service level."""
    return {
        "lookup_pk": f"CONTACT_EMAIL#{address.lower()}",
        "list_pk": "CONTACTS",
        "list_sk": f"{name.lower()}#{contact_id}",
        "ref_pk": f"SERVICE_LEVEL#{service_level_id}" if service_level_id else None,
        "ref_sk": f"CONTACT#{contact_id}" if service_level_id else None,
    }


def present(contact: Contact) -> dict[str, Any]:
    """A contact as the API shows it: the portal state as ``portal_access``, no password hash."""
    return {
        "id": contact.id,
        "name": contact.name,
        "email": contact.email,
        "phone": contact.phone,
        "company": contact.company,
        "address": contact.address,
        "service_level_id": contact.service_level_id,
        "notify_email": contact.notify_email,
        "notify_sms": contact.notify_sms,
        "portal_access": contact.portal_state,
        "created_at": contact.created_at,
        "updated_at": contact.updated_at,
        "version": contact.version,
    }


def _check_service_level(config: SetupConfig, values: dict[str, Any]) -> None:
    if values.get("service_level_id"):
        config.require("service_levels", values["service_level_id"], "service_level_id")


TAKEN = "A contact with this email already exists."


@dataclass(frozen=True)
class NewContact:
    """A checked contact not yet written, with the claim on its email that must be written
    in the same transaction (``create``, or ``tickets.open_ticket`` with its first ticket)."""

    contact: Contact
    claim: EmailClaim


def create(config: SetupConfig, body: dict[str, Any]) -> Contact:
    """Create a contact from an API body. The contact and the claim on its email are written in
    one transaction, so two creations with the same address cannot both succeed."""
    new = build(config, body)
    create_with_claim(new.contact, new.claim, field="email", taken=TAKEN)
    new.contact.version = 1
    return new.contact


def build(config: SetupConfig, body: dict[str, Any]) -> NewContact:
    """A new contact from an API body, checked, and the claim on its email; nothing written."""
    values = parse_fields(body, CONTACT_SPEC)
    _check_service_level(config, values)
    contact_id = clock.new_id()
    moment = clock.now()
    contact = Contact(
        *Contact.key(contact_id),
        id=contact_id,
        name=values["name"],
        email=values["email"],
        phone=values.get("phone"),
        company=values.get("company"),
        address=values.get("address"),
        service_level_id=values.get("service_level_id"),
        notify_email=values.get("notify_email", True),
        notify_sms=values.get("notify_sms", False),
        portal_state="none",
        created_at=moment,
        updated_at=moment,
        **index_keys(contact_id, values["name"], values["email"], values.get("service_level_id")),
    )
    claim = email_claim(values["email"])
    claim.owner_id = contact_id
    return NewContact(contact, claim)


def get(contact_id: str) -> Contact:
    """The contact as stored now (a strongly consistent read); ``NotFound`` if there is none."""
    found = get_one(Contact.key(contact_id))
    if not isinstance(found, Contact):
        raise NotFound("No contact has this id.")
    return found


def _stale(contact_id: str) -> NoReturn:
    raise StaleVersion(current=present(get(contact_id)))


def update(config: SetupConfig, contact: Contact, body: dict[str, Any]) -> Contact:
    """Apply a partial edit; the caller's ``version`` must still be the stored one."""
    values = parse_fields(body, UPDATE_SPEC, partial=True)
    if "version" not in values:
        raise InvalidInput("The field 'version' is required.", field="version")
    _check_service_level(config, values)
    if contact.version != values.pop("version"):
        _stale(contact.id)

    old_email = contact.email
    access = values.pop("portal_access", None)
    for name, value in values.items():
        setattr(contact, name, value)
    moment = clock.now()
    extra_actions: list[Any] = []
    if access == "disabled" and contact.portal_state != "disabled":
        if contact.portal_state != "active" and contact.password_hash:
            # A password never confirmed (a registration still pending) is dropped: letting
            # the contact back in must not make it a working one without its confirmation.
            extra_actions.append(Contact.password_hash.remove())
            contact.password_hash = None
        contact.portal_state = "disabled"
        contact.sessions_valid_from = moment  # signed-in browsers are signed out
    elif access == "enabled" and contact.portal_state == "disabled":
        # Only a contact who was using the portal keeps a password through a shut-out.
        contact.portal_state = "active" if contact.password_hash else "none"
    contact.updated_at = moment
    for name, value in index_keys(contact.id, contact.name, contact.email, contact.service_level_id).items():
        setattr(contact, name, value)

    email_changed = contact.email.lower() != old_email.lower()
    expected_version = contact.version
    try:
        with transaction() as writes:
            # Only what staff edit: the balances and the password move on their own. The
            # version check comes with the update: a concurrent edit cancels the whole change.
            writes.update(
                contact,
                actions=[
                    set_or_remove(attribute, getattr(contact, attribute.attr_name)) for attribute in _EDITED
                ]
                + extra_actions,
            )
            if email_changed:
                new_claim = email_claim(contact.email)
                new_claim.owner_id = contact.id
                writes.save(new_claim, condition=EmailClaim.pk.does_not_exist())
                writes.delete(email_claim(old_email), condition=EmailClaim.owner_id == contact.id)
    except TransactWriteError as exc:
        if not condition_failed(exc):
            raise
        # PynamoDB sends deletes before puts, so the positions of the cancellation reasons
        # are not the order of the writes above: the stored version tells the two apart.
        current = get(contact.id)
        if current.version != expected_version:
            raise StaleVersion(current=present(current)) from exc
        raise Conflict("A contact with this email already exists.", field="email") from exc
    return contact


def find_by_email_consistent(address: str) -> Contact | None:
    """The contact with this address, read through its email claim: two strongly consistent
    reads, so a contact created a moment ago is found (the look-up index may lag)."""
    claim = get_one(EmailClaim.key("contact", address.lower()))
    if not isinstance(claim, EmailClaim):
        return None
    found = get_one(Contact.key(claim.owner_id))
    return found if isinstance(found, Contact) else None


def find_by_email(address: str) -> Contact | None:
    """The contact with this address in any case, if any: one query of the lookup index. The
    index lags writes slightly, so a contact created a moment ago may not be found yet."""
    found = next(iter(Contact.lookup.query(f"CONTACT_EMAIL#{address.lower()}", limit=1)), None)
    return found if isinstance(found, Contact) else None


def list_page(name_prefix: str | None, limit: int, cursor: str | None) -> tuple[list[Contact], str | None]:
    """Contacts by name, optionally those whose name starts with ``name_prefix``."""
    prefix = (name_prefix or "").lower()
    if len(prefix) > NAME_MAX:
        # No name is this long, and DynamoDB refuses sort key conditions over 1 KB.
        raise InvalidInput(f"'name' must be at most {NAME_MAX} characters.", field="name")
    scope = f"contacts|{prefix}"
    condition = Contact.list_sk.startswith(prefix) if prefix else None
    result = Contact.listing.query(
        "CONTACTS", condition, limit=limit, last_evaluated_key=decode_cursor(cursor, scope)
    )
    contacts = [item for item in result if isinstance(item, Contact)]
    return contacts, encode_cursor(result.last_evaluated_key, scope)


def first_user_of_service_level(service_level_id: str) -> str | None:
    """A contact that has this service level as its default, if any."""
    found = first_referrer(f"SERVICE_LEVEL#{service_level_id}")
    return f"contact {found.id}" if isinstance(found, Contact) else None
