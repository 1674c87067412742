"""Staff users, their sign-in, and the API tokens that carry it.

A token reads ``<staff id>.<secret>``. Only the SHA-256 of the whole token is stored, so
a leaked table gives no usable tokens. Carrying the staff id lets one batch read fetch the
token, the staff member (live role and active flag) and the config together.

Every write of a staff member's name or active flag also puts the staff directory
(``staff_directory``) in the same transaction, so pages can name and offer any colleague
from their sign-in batch.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, NoReturn

from pynamodb.exceptions import TransactWriteError, UpdateError
from pynamodb.expressions.update import Action

from chalicelib import clock
from chalicelib.domain import passwords, staff_directory, throttle
from chalicelib.domain.setup import SetupConfig
from chalicelib.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    StaleVersion,
)
from chalicelib.store.cursor import decode_cursor, encode_cursor
from chalicelib.store.db import (
    Key,
    condition_failed,
    failed_conditions,
    get_many,
    get_one,
    transaction,
    update_unversioned,
)
from chalicelib.store.models import Config, EmailClaim, Item, Staff, StaffToken
from chalicelib.validation import (
    Field,
    boolean,
    choice,
    email,
    integer,
    parse_fields,
    password,
    secret,
    text,
)

ROLES = ("admin", "agent")
TOKEN_LIFETIME = timedelta(hours=8)
LOGIN_PER_ACCOUNT = throttle.Limit("staff-login-account", attempts=5, window_seconds=900)
LOGIN_PER_ADDRESS = throttle.Limit("staff-login-address", attempts=20, window_seconds=900)

CREATE_SPEC = {
    "email": Field(email, required=True),
    "name": Field(text(120), required=True),
    "role": Field(choice(*ROLES), required=True),
    "password": Field(password, required=True),
}
UPDATE_SPEC = {
    "name": Field(text(120)),
    "role": Field(choice(*ROLES)),
    "active": Field(boolean),
    "password": Field(password),
    "version": Field(integer(1, 2**53), required=True),
}
LOGIN_SPEC = {"email": Field(text(254), required=True), "password": Field(secret(256), required=True)}
# How often a staff write reads the directory again when another staff write saved it first.
DIRECTORY_ATTEMPTS = 5
EMAIL_TAKEN = "A staff member with this email already exists."


@dataclass
class StaffContext:
    """Who is calling, the config, and any other items fetched in the same batch."""

    staff: Staff
    config: SetupConfig
    items: dict[Key, Item]
    token_hash: str

    @property
    def is_admin(self) -> bool:
        """Whether the caller is an admin, by the role stored now: the token carries no role, so
        a demotion counts from the next request."""
        return self.staff.role == "admin"

    def require_admin(self) -> None:
        """``Forbidden`` unless the caller is an admin; agents cannot change setup, settings or staff."""
        if not self.is_admin:
            raise Forbidden("Only an admin may change setup, settings or staff.")


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# -- sign-in -------------------------------------------------------------------------


def login(body: dict[str, Any], client_address: str) -> dict[str, Any]:
    """Exchange email and password for a token; one answer for every kind of failure."""
    values = parse_fields(body, LOGIN_SPEC)
    address = values["email"].lower()
    # The address first: a throttled address does not spend the account's attempts.
    throttle.reserve([(LOGIN_PER_ADDRESS, client_address), (LOGIN_PER_ACCOUNT, address)])

    member = next(iter(Staff.lookup.query(f"STAFF_EMAIL#{address}", limit=1)), None)
    stored_hash = member.password_hash if isinstance(member, Staff) else None
    verified = passwords.verify_password(stored_hash, values["password"])
    if not verified or not isinstance(member, Staff) or not member.active:
        raise NotAuthenticated("Email or password is wrong.")

    throttle.forgive(LOGIN_PER_ACCOUNT, address)
    throttle.refund(LOGIN_PER_ADDRESS, client_address)
    if passwords.needs_rehash(member.password_hash):
        # A stronger hash is no edit: it must not make an admin's pending change stale, and
        # it must not bring back a password an admin replaced a moment ago.
        new_hash = passwords.hash_password(values["password"])
        try:
            update_unversioned(
                Staff.key(member.id),
                [Staff.password_hash.set(new_hash)],
                Staff.password_hash == member.password_hash,
            )
        except UpdateError as exc:
            if not condition_failed(exc):
                raise
    token = f"{member.id}.{secrets.token_urlsafe(32)}"
    expires_at = clock.now() + TOKEN_LIFETIME
    StaffToken(
        *StaffToken.key(_hash_token(token)),
        staff_id=member.id,
        created_at=clock.now(),
        expires_at=expires_at,
        ttl=expires_at,
    ).save()
    return {"token": token, "expires_at": expires_at, "staff": present(member)}


def authenticate(authorization: str | None, extra_keys: Sequence[Key] = ()) -> StaffContext:
    """Check a bearer token; fetch the caller, the config and ``extra_keys`` in one read."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer":
        raise NotAuthenticated()
    return authenticate_token(token, extra_keys)


def authenticate_token(token: str | None, extra_keys: Sequence[Key] = ()) -> StaffContext:
    """Check a token however it came (a bearer header, the staff pages' cookie); fetch the
    caller, the config and ``extra_keys`` in one read."""
    token = (token or "").strip()
    staff_id, dot, secret = token.partition(".")
    if not dot or not staff_id or not secret or len(token) > 200:
        raise NotAuthenticated()
    token_hash = _hash_token(token)
    token_key = StaffToken.key(token_hash)
    staff_key = Staff.key(staff_id)
    items = get_many([token_key, staff_key, Config.key(), *extra_keys])

    stored = items.get(token_key)
    member = items.get(staff_key)
    # Expired tokens linger until DynamoDB's TTL sweep removes them: check the time here.
    if not isinstance(stored, StaffToken) or stored.expires_at <= clock.now() or stored.staff_id != staff_id:
        raise NotAuthenticated()
    if not isinstance(member, Staff) or not member.active:
        raise NotAuthenticated()
    if member.sessions_valid_from and stored.created_at < member.sessions_valid_from:
        raise NotAuthenticated()  # signed in before a password change or deactivation
    return StaffContext(
        staff=member,
        config=SetupConfig.from_item(items.get(Config.key())),
        items=items,
        token_hash=token_hash,
    )


def logout(context: StaffContext) -> None:
    """Revoke the token this request came with; the person's other sessions stay signed in."""
    StaffToken(*StaffToken.key(context.token_hash)).delete()


# -- staff records -------------------------------------------------------------------


def present(member: Staff) -> dict[str, Any]:
    """A staff member as the API shows them: never the password hash or session data."""
    return {
        "id": member.id,
        "email": member.email,
        "name": member.name,
        "role": member.role,
        "active": member.active,
        "created_at": member.created_at,
        "updated_at": member.updated_at,
        "version": member.version,
    }


def create(body: dict[str, Any]) -> Staff:
    """Create a staff member from an API body; the route has checked the caller is an admin."""
    values = parse_fields(body, CREATE_SPEC)
    return create_staff(values["email"], values["name"], values["role"], values["password"])


def create_staff(address: str, name: str, role: str, plain_password: str) -> Staff:
    """Store a staff member from already valid values, with the password hashed and the claim
    that keeps the email unique. Apart from ``create`` for callers that hold values rather
    than an API body, such as fixtures and data loaders."""
    address = address.lower()
    staff_id = clock.new_id()
    moment = clock.now()
    member = Staff(
        *Staff.key(staff_id),
        id=staff_id,
        email=address,
        name=name,
        role=role,
        active=True,
        password_hash=passwords.hash_password(plain_password),
        created_at=moment,
        updated_at=moment,
        lookup_pk=f"STAFF_EMAIL#{address}",
        list_pk="STAFF",
        list_sk=f"{name.lower()}#{staff_id}",
    )
    claim = EmailClaim(*EmailClaim.key("staff", address), owner_id=staff_id)
    for _ in range(DIRECTORY_ATTEMPTS):
        directory = staff_directory.staged(member.id, name, True, get_one(staff_directory.key()))
        try:
            with transaction() as writes:
                # Puts, in this order: a refusal's reason is found by position.
                writes.save(claim, condition=Item.pk.does_not_exist())
                writes.save(member, condition=Item.pk.does_not_exist())
                if directory is not None:
                    writes.save(directory)
        except TransactWriteError as exc:
            if _refused_at(exc, 0):
                raise Conflict(EMAIL_TAKEN, field="email") from exc
            if _refused_at(exc, 2):
                continue  # another staff write saved the directory first: read it again
            raise
        member.version = 1
        return member
    raise _directory_busy()


def get(staff_id: str) -> Staff:
    """The staff member as stored now (a strongly consistent read); ``NotFound`` otherwise."""
    found = get_many([Staff.key(staff_id)]).get(Staff.key(staff_id))
    if not isinstance(found, Staff):
        raise NotFound("No staff member has this id.")
    return found


def list_page(limit: int, cursor: str | None) -> tuple[list[Staff], str | None]:
    """A page of staff in name order, and the cursor of the next page; one index query."""
    result = Staff.listing.query("STAFF", limit=limit, last_evaluated_key=decode_cursor(cursor, "staff"))
    members = [member for member in result if isinstance(member, Staff)]
    return members, encode_cursor(result.last_evaluated_key, "staff")


def update(context: StaffContext, staff_id: str, body: dict[str, Any]) -> Staff:
    """Apply an admin's partial edit under the version they read.

    Admins cannot demote or deactivate themselves, so nobody locks themselves out by
    mistake; a new password or a deactivation ends every session begun before it. A new
    name or active flag is put in the staff directory in the same transaction.
    """
    values = parse_fields(body, UPDATE_SPEC, partial=True)
    if "version" not in values:
        raise InvalidInput("The field 'version' is required.", field="version")
    if staff_id == context.staff.id and (values.get("role") == "agent" or values.get("active") is False):
        raise InvalidInput(
            "You cannot demote or deactivate yourself.",
            field="role" if values.get("role") == "agent" else "active",
        )
    new_hash = passwords.hash_password(values["password"]) if "password" in values else None
    for _ in range(DIRECTORY_ATTEMPTS):
        # The member and the directory in one read: the directory costs no extra round trip.
        found = get_many([Staff.key(staff_id), staff_directory.key()])
        member = found.get(Staff.key(staff_id))
        if not isinstance(member, Staff):
            raise NotFound("No staff member has this id.")
        if member.version != values["version"]:
            raise_stale(member)
        actions = _apply(member, values, new_hash)
        directory = staff_directory.staged(
            member.id, member.name, member.active, found.get(staff_directory.key())
        )
        if directory is None:
            _update_alone(member, actions)
            return member
        try:
            with transaction() as writes:
                # The directory is a put and the member an update: puts come first.
                writes.save(directory)
                writes.update(member, actions=actions)
        except TransactWriteError as exc:
            if _refused_at(exc, 1):
                raise_stale(get(staff_id))
            if _refused_at(exc, 0):
                continue  # another staff write saved the directory first: read both again
            raise
        return member
    raise _directory_busy()


def _apply(member: Staff, values: dict[str, Any], new_hash: str | None) -> list[Action]:
    """Set the edited values on ``member`` and return the update actions that store them."""
    moment = clock.now()
    member.updated_at = moment
    actions: list[Action] = [Staff.updated_at.set(moment)]
    if "name" in values:
        member.name = values["name"]
        member.list_sk = f"{values['name'].lower()}#{member.id}"
        actions += [Staff.name.set(member.name), Staff.list_sk.set(member.list_sk)]
    if "role" in values:
        member.role = values["role"]
        actions.append(Staff.role.set(member.role))
    if "active" in values:
        member.active = values["active"]
        actions.append(Staff.active.set(member.active))
    if new_hash is not None:
        member.password_hash = new_hash
        actions.append(Staff.password_hash.set(new_hash))
    if new_hash is not None or values.get("active") is False:
        # Every token issued before now stops working, wherever it is.
        member.sessions_valid_from = moment
        actions.append(Staff.sessions_valid_from.set(moment))
    return actions


def _update_alone(member: Staff, actions: list[Action]) -> None:
    """An edit the directory does not show (role, password): the member's update alone."""
    try:
        member.update(actions=actions)
    except UpdateError as exc:
        if condition_failed(exc):
            raise_stale(get(member.id))
        raise


def _refused_at(exc: TransactWriteError, position: int) -> bool:
    """Whether the transaction's item at ``position`` was refused by its condition."""
    flags = failed_conditions(exc)
    return position < len(flags) and flags[position]


def _directory_busy() -> Conflict:
    # Only staff writes save the directory, and they are admins' clicks: this many landing
    # between one read and its write does not happen; if it does, nothing was saved.
    return Conflict("Other staff changes were being saved at the same moment. Please try again.")


def raise_stale(member: Staff) -> NoReturn:
    """Refuse an edit as stale, with ``member`` as stored now for the client to start over from."""
    raise StaleVersion(current=present(member))
