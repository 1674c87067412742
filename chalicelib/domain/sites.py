"""Websites that raise tickets through the embed endpoint, and the origins they allow.

A site's public key is meant to be seen (it sits in the merchant's page), so it proves
nothing about who calls: what protects the endpoint is the allowed origins (browsers send
``Origin`` and honour CORS), the abuse limits of ``chalicelib.domain.embed``, and that a key
can be disabled or replaced. Each allowed origin is also stored as a ``SiteOrigin`` item
keyed by the origin, kept in the same transaction as the site, so a CORS preflight, which
carries no key, finds whether any enabled site allows its origin in one query.
"""

from __future__ import annotations

import json
import secrets
from typing import Any, NoReturn
from urllib.parse import urlsplit

from pynamodb.exceptions import TransactWriteError

from chalicelib import clock
from chalicelib.domain.setup import SetupConfig
from chalicelib.errors import InvalidInput, NotFound, StaleVersion
from chalicelib.store.cursor import decode_cursor, encode_cursor
from chalicelib.store.db import condition_failed, get_one, transaction
from chalicelib.store.models import Item, Site, SiteOrigin
from chalicelib.validation import Field, boolean, identifier, integer, parse_fields, text

MAX_ORIGINS = 20
KEY_PREFIX = "hd"


def origin(value: Any) -> str:
    """An origin as browsers send it: ``scheme://host[:port]``, http(s), lower case, no path."""
    if not isinstance(value, str) or len(value) > 200 or not value.isascii():
        raise ValueError("must be an origin such as https://shop.example.")
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an origin such as https://shop.example.")
    if parts.username or parts.password or parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError("must be an origin only: no path, query or login, such as https://shop.example.")
    try:
        port = parts.port
    except ValueError as exc:
        raise ValueError("has a port that is not a number from 0 to 65535.") from exc
    default = {"http": 80, "https": 443}[parts.scheme]
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != default else "")


def origins(value: Any) -> list[str]:
    """A list of distinct origins, at most ``MAX_ORIGINS``."""
    if not isinstance(value, list) or len(value) > MAX_ORIGINS:
        raise ValueError(f"must be a list of at most {MAX_ORIGINS} origins.")
    found: list[str] = []
    for item in value:
        normal = origin(item)
        if normal not in found:
            found.append(normal)
    return found


CREATE_SPEC = {
    "name": Field(text(120), required=True),
    "allowed_origins": Field(origins, required=True),
    "enabled": Field(boolean),
    "default_category_id": Field(identifier, nullable=True),
}
UPDATE_SPEC = {
    "name": Field(text(120)),
    "allowed_origins": Field(origins),
    "enabled": Field(boolean),
    "default_category_id": Field(identifier, nullable=True),
    # Replace the public key, for a key that leaked into the wrong page or was abused.
    "new_key": Field(boolean),
    "version": Field(integer(1, 2**53), required=True),
}


def new_key(site_id: str) -> str:
    return f"{KEY_PREFIX}_{site_id}_{secrets.token_urlsafe(18)}"


def site_id_of(public_key: str) -> str | None:
    """The site id a well-formed key names; None for anything else."""
    prefix, _, rest = (public_key or "").partition("_")
    site_id, _, _random = rest.partition("_")
    if prefix != KEY_PREFIX or not _random or len(public_key) > 120:
        return None
    try:
        return identifier(site_id)
    except ValueError:
        return None


def allowed(site: Site) -> list[str]:
    result: list[str] = json.loads(site.allowed_origins)
    return result


def present(site: Site) -> dict[str, Any]:
    return {
        "id": site.id,
        "name": site.name,
        "public_key": site.public_key,
        "allowed_origins": allowed(site),
        "enabled": site.enabled,
        "default_category_id": site.default_category_id,
        "created_at": site.created_at,
        "updated_at": site.updated_at,
        "version": site.version,
    }


def _check_category(config: SetupConfig, values: dict[str, Any]) -> None:
    if values.get("default_category_id"):
        config.require("categories", values["default_category_id"], "default_category_id")


def create(config: SetupConfig, body: dict[str, Any]) -> Site:
    """A new site with a fresh key, and one ``SiteOrigin`` per allowed origin, together."""
    values = parse_fields(body, CREATE_SPEC)
    _check_category(config, values)
    site_id = clock.new_id()
    moment = clock.now()
    site = Site(
        *Site.key(site_id),
        id=site_id,
        name=values["name"],
        public_key=new_key(site_id),
        allowed_origins=json.dumps(values["allowed_origins"]),
        enabled=values.get("enabled", True),
        default_category_id=values.get("default_category_id"),
        created_at=moment,
        updated_at=moment,
        list_pk="SITES",
        list_sk=f"{values['name'].lower()}#{site_id}",
    )
    with transaction() as writes:
        writes.save(site, condition=Site.pk.does_not_exist())
        for entry in values["allowed_origins"]:
            writes.save(_origin_item(entry, site))
    site.version = 1
    return site


def _origin_item(entry: str, site: Site) -> SiteOrigin:
    return SiteOrigin(*SiteOrigin.key(entry, site.id), site_id=site.id, enabled=site.enabled)


def get(site_id: str) -> Site:
    found = get_one(Site.key(site_id))
    if not isinstance(found, Site):
        raise NotFound("No site has this id.")
    return found


def _stale(site_id: str) -> NoReturn:
    found = get_one(Site.key(site_id))
    raise StaleVersion(current=present(found) if isinstance(found, Site) else None)


def update(config: SetupConfig, site: Site, body: dict[str, Any]) -> Site:
    """Apply an admin's edit under the version read; the origin items follow in the same
    transaction (added, removed, and their ``enabled`` copied from the site)."""
    values = parse_fields(body, UPDATE_SPEC, partial=True)
    if "version" not in values:
        raise InvalidInput("The field 'version' is required.", field="version")
    if site.version != values.pop("version"):
        _stale(site.id)
    _check_category(config, values)

    before = allowed(site)
    after = values.pop("allowed_origins", before)
    if values.pop("new_key", False):
        site.public_key = new_key(site.id)
    for name, value in values.items():
        setattr(site, name, value)
    site.allowed_origins = json.dumps(after)
    site.updated_at = clock.now()
    site.list_sk = f"{site.name.lower()}#{site.id}"
    try:
        with transaction() as writes:
            writes.save(site)  # under its version: a concurrent edit cancels everything
            for entry in after:
                writes.save(_origin_item(entry, site))
            for entry in set(before) - set(after):
                writes.delete(SiteOrigin(*SiteOrigin.key(entry, site.id)))
    except TransactWriteError as exc:
        if condition_failed(exc):
            _stale(site.id)
        raise
    return site


def delete(site: Site) -> None:
    """Remove the site and its origins; tickets it raised stay (their source says "website")."""
    try:
        with transaction() as writes:
            writes.delete(site)  # under the version read
            for entry in allowed(site):
                writes.delete(SiteOrigin(*SiteOrigin.key(entry, site.id)))
    except TransactWriteError as exc:
        if condition_failed(exc):
            _stale(site.id)  # changed since it was read: its origins may differ now
        raise


def list_page(limit: int, cursor: str | None) -> tuple[list[Site], str | None]:
    """Sites by name; one query of the ``listing`` index."""
    result = Item.listing.query("SITES", limit=limit, last_evaluated_key=decode_cursor(cursor, "sites"))
    found = [item for item in result if isinstance(item, Site)]
    return found, encode_cursor(result.last_evaluated_key, "sites")


def origin_allowed(value: str) -> bool:
    """Whether any enabled site allows the origin: one query of its ``SiteOrigin`` items."""
    try:
        normal = origin(value)
    except ValueError:
        return False
    if normal != value:
        return False  # browsers send origins exactly; anything else is not a browser's
    found = Item.query(f"ORIGIN#{normal}", limit=MAX_ORIGINS)
    return any(isinstance(item, SiteOrigin) and item.enabled for item in found)
