"""``/embed/v1``: the public ticket endpoint websites use, its form token, and the widget.

CORS is decided here, not by Chalice: an answer carries ``Access-Control-Allow-Origin``
only for an origin a site allows, echoed exactly, never ``*`` or ``null``, never with
credentials; every other origin gets no CORS headers at all, and a browser then refuses to
let its page read the answer. A preflight carries no site key, so it is answered for any
origin some enabled site allows; the POST itself must come from an origin of its own site.
Once the site and the origin are known, every answer carries the CORS headers, errors
included (a body too large, bad JSON, a bad field, a limit reached), so the widget can
show them. A key in the header is therefore checked before the body is read: a bad key is
a 403 whatever the body. A key sent as a body field can only be checked after.
Cookies are never read here: a portal session cannot attach a website ticket to an account.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from chalice.app import Blueprint, Request, Response

from chalicelib.api.http import client_address, error_response, json_body, json_response
from chalicelib.domain import embed, sites
from chalicelib.errors import Forbidden, HelpdeskError, InvalidInput, TooLarge
from chalicelib.observability import count, logger
from chalicelib.pages import web
from chalicelib.rendering import TEMPLATES
from chalicelib.store.db import get_many
from chalicelib.store.models import Config, Site

bp = Blueprint(__name__)

KEY_HEADER = "x-helpdesk-site-key"
ALLOWED_HEADERS = "Content-Type, X-Helpdesk-Site-Key, Idempotency-Key"
JSON = "application/json"
WIDGET = TEMPLATES / "embed" / "widget.js"


def _cors(origin: str | None, allowed: bool, preflight: bool = False) -> dict[str, str]:
    """The CORS headers for ``origin``: none unless it is ``allowed``."""
    headers = {"Vary": "Origin"}
    if origin and allowed:
        headers["Access-Control-Allow-Origin"] = origin
        if preflight:
            headers["Access-Control-Allow-Methods"] = "POST, GET"
            headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
            headers["Access-Control-Max-Age"] = "600"
    return headers


def _site_and_config(public_key: str | None) -> tuple[Site, Any]:
    """The site a key names and the config, in one batch read; 403 for any other key."""
    from chalicelib.domain.setup import SetupConfig

    site_id = sites.site_id_of(public_key or "")
    if site_id is None:
        raise Forbidden(embed.BAD_KEY)
    found = get_many([Site.key(site_id), Config.key()])
    site = found.get(Site.key(site_id))
    if not isinstance(site, Site) or site.public_key != public_key:
        raise Forbidden(embed.BAD_KEY)
    return embed.require_site(site), SetupConfig.from_item(found.get(Config.key()))


def _submitted(request: Request) -> dict[str, Any]:
    """The fields, from JSON or a URL-encoded form, within the size limit."""
    raw = request.raw_body or b""
    if len(raw) > embed.MAX_BODY_BYTES:
        raise TooLarge(f"The request body is larger than {embed.MAX_BODY_BYTES} bytes.")
    content_type = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    if content_type == web.FORM:
        return dict(web.form_fields(request, (*embed.FIELDS, "site_key"), embed.MAX_BODY_BYTES))
    return json_body(request)


@bp.route("/embed/v1/tickets", methods=["OPTIONS"])
def preflight() -> Response:
    """A browser asking whether its page may post: yes only for an allowed origin."""
    origin = bp.current_request.headers.get("origin")
    allowed = bool(origin) and sites.origin_allowed(origin or "")
    headers: dict[str, str | list[str]] = {**_cors(origin, allowed, preflight=True)}
    return Response(body="", status_code=204, headers=headers)


def _check_origin(site: Site, origin: str | None) -> None:
    if not embed.origin_ok(site, origin):
        count("EmbedOriginRefused")
        raise Forbidden("This website may not raise tickets from this page.")


@bp.route("/embed/v1/tickets", methods=["POST"], content_types=[JSON, web.FORM])
def create_website_ticket() -> Response:
    """Raise a ticket from a website: 201 ``{number, message}``."""
    request = bp.current_request
    origin = request.headers.get("origin")
    header_key = request.headers.get(KEY_HEADER)
    allowed_origin = False
    try:
        if header_key is not None:
            site, config = _site_and_config(header_key)
            _check_origin(site, origin)
            allowed_origin = origin is not None
            body = _submitted(request)
            body.pop("site_key", None)  # the header's key is the one checked
        else:
            body = _submitted(request)
            key = body.pop("site_key", None)
            site, config = _site_and_config(key if isinstance(key, str) else None)
            _check_origin(site, origin)
            allowed_origin = origin is not None
        idempotency_key = request.headers.get("idempotency-key")
        if idempotency_key is not None and not 1 <= len(idempotency_key) <= 200:
            raise InvalidInput("'Idempotency-Key' must be 1 to 200 characters.", field="Idempotency-Key")
        accepted = embed.submit(
            site, config, body, client_address(request), idempotency_key, request.lambda_context
        )
    except HelpdeskError as exc:
        answer = error_response(exc)
        answer.headers.update(_cors(origin, allowed_origin))
        return answer
    if accepted.number is None:
        count("EmbedBotsDropped")
    else:
        count("EmbedTicketsCreated")
        logger.info("website ticket created", extra={"ticket_number": accepted.number, "site_id": site.id})
    return json_response(
        {"number": accepted.number, "message": accepted.message}, 201, _cors(origin, allowed_origin)
    )


@bp.route("/embed/v1/form-token", methods=["GET"])
def form_token() -> Response:
    """A fresh form token for the site's form (the widget fetches it when it shows the form)."""
    request = bp.current_request
    origin = request.headers.get("origin")
    try:
        site, _ = _site_and_config(web.query(request).get("site_key"))
        if not embed.origin_ok(site, origin):
            raise Forbidden("This website may not raise tickets from this page.")
    except HelpdeskError as exc:
        return error_response(exc)
    body = {"form_token": embed.form_token(site), "min_seconds": embed.MIN_FILL_SECONDS}
    return json_response(body, 200, _cors(origin, origin is not None))


@lru_cache(maxsize=1)
def _widget() -> str:
    return WIDGET.read_text(encoding="utf-8")


@bp.route("/embed/v1/widget.js", methods=["GET"])
def widget() -> Response:
    """The widget script websites include; any page may load it (it holds no secret)."""
    return Response(
        body=_widget(),
        status_code=200,
        headers={
            "Content-Type": "text/javascript; charset=utf-8",
            "Cache-Control": "public, max-age=3600",
            "X-Content-Type-Options": "nosniff",
            "Cross-Origin-Resource-Policy": "cross-origin",
        },
    )
