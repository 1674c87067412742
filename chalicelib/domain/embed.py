"""Tickets raised from merchants' websites: the rules of ``POST /embed/v1/tickets``.

The endpoint faces the whole internet, so every submission passes, in this order:
a site key naming an enabled site; an ``Origin`` (when a browser sends one) among the
site's allowed origins; a form token the widget fetched at least ``MIN_FILL_SECONDS``
before (a signed time, so a bot that posts at once is refused); an empty honeypot field
(a filled one is taken as automated and quietly dropped); and rate limits per client
address and per email. The visitor's email finds their contact or makes a new one; the
answer is the same either way and says nothing about the contact. A double submit with
the same ``Idempotency-Key`` gets the first answer back (Powertools idempotency); such a
replay raises nothing, so it is not counted against the limits either.

A blank optional field counts as absent, in JSON as in a form: a plain HTML form sends
every field it has, an untouched one as ``phone=``.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from chalicelib import clock
from chalicelib.domain import contacts, sites, throttle, tickets
from chalicelib.domain.setup import SetupConfig
from chalicelib.errors import Conflict, Forbidden, InvalidInput
from chalicelib.observability import logger
from chalicelib.settings import get_settings
from chalicelib.store.models import Contact, Site
from chalicelib.validation import Field, email, identifier, parse_fields, phone, text

MIN_FILL_SECONDS = 3
FORM_TOKEN_LIFETIME = 2 * 3600
MAX_BODY_BYTES = 16 * 1024
PER_ADDRESS = throttle.Limit("embed-address", attempts=10, window_seconds=3600)
PER_EMAIL = throttle.Limit("embed-email", attempts=5, window_seconds=3600)
IDEMPOTENCY_SECONDS = 24 * 3600
HONEYPOT = "website"
THANKS = "Thank you. We have your request and will answer by email."

SPEC = {
    "name": Field(text(120), required=True),
    "email": Field(email, required=True),
    "phone": Field(phone, nullable=True),
    "subject": Field(text(200), required=True),
    "body": Field(text(5_000, multiline=True), required=True),
    "category_id": Field(identifier, nullable=True),
    "form_token": Field(text(200), required=True),
    HONEYPOT: Field(text(500, min_length=0), nullable=True),
}
FIELDS = tuple(SPEC)
OPTIONAL = frozenset(name for name, field in SPEC.items() if not field.required)

TOO_FAST = "The form was sent too quickly. Please wait a moment and send it again."
STALE_FORM = "This form has expired. Please reload the page and send it again."
BAD_KEY = "This website is not set up to raise tickets."


@dataclass(frozen=True)
class Accepted:
    """What the endpoint answers: the ticket number (None when a bot's post was dropped)."""

    number: int | None
    message: str = THANKS


# -- the form token ------------------------------------------------------------------


ISSUED = re.compile(r"[0-9]{1,12}")


def _mac(site_id: str, issued: int) -> str:
    message = f"helpdesk embed form\x00{site_id}\x00{issued}".encode()
    return hmac.new(get_settings().secret_key, message, hashlib.sha256).hexdigest()[:32]


def form_token(site: Site, now: float | None = None) -> str:
    """A token saying when this site's form was handed out."""
    issued = int(now if now is not None else clock.now().timestamp())
    return f"{issued}.{_mac(site.id, issued)}"


def check_form_token(site: Site, token: str, now: float | None = None) -> None:
    """``InvalidInput`` on ``form_token`` unless it is ours, for this site, at least
    ``MIN_FILL_SECONDS`` and at most ``FORM_TOKEN_LIFETIME`` old."""
    issued_text, _, mac = token.partition(".")
    # ASCII digits only: str.isdigit() also takes "²", which int() refuses.
    if not ISSUED.fullmatch(issued_text) or not hmac.compare_digest(mac, _mac(site.id, int(issued_text))):
        raise InvalidInput(STALE_FORM, field="form_token")
    age = (now if now is not None else clock.now().timestamp()) - int(issued_text)
    if age > FORM_TOKEN_LIFETIME or age < -60:
        raise InvalidInput(STALE_FORM, field="form_token")
    if age < MIN_FILL_SECONDS:
        raise InvalidInput(TOO_FAST, field="form_token")


# -- the site ------------------------------------------------------------------------


def require_site(site: Site | None) -> Site:
    if site is None or not site.enabled:
        raise Forbidden(BAD_KEY)
    return site


def origin_ok(site: Site, origin: str | None) -> bool:
    """A browser's ``Origin`` must be one the site allows; a request without one (a server
    posting for its visitors) is judged by the key and the limits alone."""
    return origin is None or origin in sites.allowed(site)


# -- submitting ----------------------------------------------------------------------


def submit(
    site: Site,
    config: SetupConfig,
    body: dict[str, Any],
    client_address: str,
    idempotency_key: str | None,
    lambda_context: Any = None,
) -> Accepted:
    """Check the submission and raise the ticket; the same answer for a repeated key."""
    values = parse_fields(_without_blank_optionals(body), SPEC)
    check_form_token(site, values["form_token"])
    if values.get("category_id") and not config.entry("categories", values["category_id"]):
        # The snippet's data-category names a category deleted since: the visitor cannot fix
        # that, so the ticket takes the site's default and the merchant sees it in the logs.
        logger.warning(
            "unknown website category", extra={"site_id": site.id, "category_id": values["category_id"]}
        )
        values["category_id"] = None
    if values.get(HONEYPOT):
        return Accepted(None)  # a field no person sees was filled in: a bot, told nothing
    limits = [(PER_ADDRESS, client_address), (PER_EMAIL, values["email"].lower())]
    if not idempotency_key:
        return Accepted(_raise_ticket(site, config, values, limits))
    return Accepted(_raise_once(site, config, values, limits, idempotency_key, lambda_context))


def _without_blank_optionals(body: dict[str, Any]) -> dict[str, Any]:
    """``body`` without the optional fields whose value is blank text: the visitor gave none.
    A blank required field stays, to be refused naming it."""
    return {
        name: value
        for name, value in body.items()
        if not (name in OPTIONAL and isinstance(value, str) and not value.strip())
    }


def _raise_once(
    site: Site,
    config: SetupConfig,
    values: dict[str, Any],
    limits: list[tuple[throttle.Limit, str]],
    idempotency_key: str,
    lambda_context: Any,
) -> int:
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyValidationError,
    )

    body_hash = hashlib.sha256(repr(sorted(values.items())).encode()).hexdigest()
    key = {"site": site.id, "key": idempotency_key, "body": body_hash}
    idempotency, raise_once = _idempotent_raise()
    if lambda_context is not None:
        # An attempt cut off by the Lambda timeout is not left "in progress" for a whole day.
        idempotency.register_lambda_context(lambda_context)
    try:
        number: int = raise_once(site, config, values, limits, key=key)
    except IdempotencyAlreadyInProgressError as exc:
        raise Conflict("The same request is still being handled; try again in a moment.") from exc
    except IdempotencyValidationError as exc:
        raise InvalidInput(
            "This Idempotency-Key was already used with another request.", field="Idempotency-Key"
        ) from exc
    return number


def _raise_ticket(
    site: Site, config: SetupConfig, values: dict[str, Any], limits: list[tuple[throttle.Limit, str]]
) -> int:
    # Counted here, where a ticket is really raised: a replayed Idempotency-Key never gets
    # this far, so a double submit at the limit still gets its first answer, and a throttled
    # attempt leaves no idempotency record behind (Powertools deletes it on the error).
    throttle.reserve(limits)
    details = {
        "subject": values["subject"],
        "body": values["body"],
        # A default category deleted since is dropped, not refused: the visitor cannot fix it.
        "category_id": values.get("category_id") or _existing_category(config, site.default_category_id),
    }
    found = contacts.find_by_email_consistent(values["email"])
    if found is None:
        # A new visitor: the contact is written with the ticket, in one transaction.
        new = contacts.build(
            config, {"name": values["name"], "email": values["email"], "phone": values.get("phone")}
        )
        try:
            return _open(site, config, new.contact, details, new)
        except Conflict:  # created a moment ago by a concurrent submission: theirs is the one
            found = contacts.find_by_email_consistent(values["email"])
            if found is None:
                raise
    # A known contact is taken as it is: a visitor never changes it.
    return _open(site, config, found, details)


def _open(
    site: Site,
    config: SetupConfig,
    contact: Contact,
    details: dict[str, Any],
    new: contacts.NewContact | None = None,
) -> int:
    ticket = tickets.open_ticket(
        config, contact, details, source="website", created_by=f"site:{site.id}", new_contact=new
    )
    return ticket.number


def _existing_category(config: SetupConfig, category_id: str | None) -> str | None:
    return category_id if config.entry("categories", category_id) else None


@lru_cache(maxsize=1)
def _idempotent_raise() -> tuple[Any, Any]:
    """``_raise_ticket`` under Powertools idempotency, keyed by (site, Idempotency-Key): a
    repeat within a day answers the first ticket's number without running it again (nor
    counting it against the limits); a repeat while the first is still running is refused
    (the caller retries); a repeat with another body is a 422."""
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
        idempotent_function,
    )

    table = os.environ.get("HELPDESK_IDEMPOTENCY_TABLE", "").strip()
    if not table:
        raise RuntimeError("HELPDESK_IDEMPOTENCY_TABLE must name the idempotency table")
    persistence = DynamoDBPersistenceLayer(table_name=table, key_attr="id", expiry_attr="expiration")
    # The key is the site and the client's key; the body's hash is checked, not keyed, so the
    # same key with another body is refused instead of raising a second ticket.
    config = IdempotencyConfig(
        event_key_jmespath="[site, key]",
        payload_validation_jmespath="body",
        expires_after_seconds=IDEMPOTENCY_SECONDS,
    )

    def raise_once(
        site: Site,
        config: SetupConfig,
        values: dict[str, Any],
        limits: list[tuple[throttle.Limit, str]],
        *,
        key: dict[str, str],
    ) -> int:
        return _raise_ticket(site, config, values, limits)

    wrapped = idempotent_function(data_keyword_argument="key", persistence_store=persistence, config=config)(
        raise_once
    )
    return config, wrapped
