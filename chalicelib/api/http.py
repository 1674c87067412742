"""What every JSON endpoint shares: body parsing, responses, error mapping, auth.

Domain errors become ``{"error": {"code", "message", "field"}}`` here and nowhere else.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from chalice.app import Blueprint, Request, Response

from chalicelib import clock, errors
from chalicelib.domain import staff as staff_domain
from chalicelib.store.db import Key
from chalicelib.validation import identifier

MAX_BODY_BYTES = 64 * 1024
DEFAULT_PAGE = 25
MAX_PAGE = 100

ERROR_STATUS = {
    errors.MalformedRequest: 400,
    errors.NotAuthenticated: 401,
    errors.Forbidden: 403,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.TooLarge: 413,
    errors.InvalidInput: 422,
    errors.Throttled: 429,
}

JSON_HEADERS = {
    "Content-Type": "application/json",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
}


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return clock.iso(value)  # fixed width, whatever the microseconds
    if isinstance(value, Decimal):
        return format(value, "f")
    raise TypeError(f"cannot encode {type(value).__name__}")


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON answer with the API's headers (never cached, never sniffed); ``headers`` add or
    override. Datetimes and Decimals are written as text, so no amount passes through float."""
    return Response(
        # UTF-8 as is: escaping non-ASCII text would double the size of answers in most scripts.
        body=json.dumps(body, default=_default, separators=(",", ":"), ensure_ascii=False),
        status_code=status,
        headers={**JSON_HEADERS, **(headers or {})},
    )


def http_status(exc: errors.HelpdeskError) -> int:
    """The status a domain error answers with, in the API and on pages alike."""
    return next((code for kind, code in ERROR_STATUS.items() if isinstance(exc, kind)), 400)


def error_response(exc: errors.HelpdeskError) -> Response:
    """The ``{"error": ...}`` answer for a domain error: the status its class maps to, the
    headers that status calls for, and, for a stale version, what is stored now."""
    status = http_status(exc)
    error: dict[str, Any] = {"code": exc.code, "message": exc.message, "field": exc.field}
    headers = {}
    if isinstance(exc, errors.StaleVersion) and exc.current is not None:
        error["current"] = exc.current
    if isinstance(exc, errors.Throttled):
        headers["Retry-After"] = str(exc.retry_after)
    if isinstance(exc, errors.NotAuthenticated):
        headers["WWW-Authenticate"] = 'Bearer realm="helpdesk"'
    return json_response({"error": error}, status, headers)


def endpoint(view: Callable[..., Any]) -> Callable[..., Any]:
    """Map domain errors of ``view`` to JSON error responses."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return view(*args, **kwargs)
        except errors.HelpdeskError as exc:
            return error_response(exc)

    return wrapper


# -- request reading -----------------------------------------------------------------


def json_body(request: Request) -> dict[str, Any]:
    """The request's JSON object, parsed once per request; 400/413 for anything else."""
    cached = getattr(request, "_helpdesk_body", None)
    if cached is not None:
        return dict(cached)
    raw = request.raw_body or b""
    if len(raw) > MAX_BODY_BYTES:
        raise errors.TooLarge(f"The request body is larger than {MAX_BODY_BYTES} bytes.")
    if not raw.strip():
        raise errors.MalformedRequest("The request needs a JSON object as its body.")
    try:
        body = json.loads(raw)
        # JSON can carry lone surrogates ("\ud800") that no store or hash accepts.
        json.dumps(body, ensure_ascii=False).encode()
    except (ValueError, UnicodeError, RecursionError) as exc:
        raise errors.MalformedRequest() from exc
    if not isinstance(body, dict):
        raise errors.MalformedRequest("The request body must be a JSON object.")
    request._helpdesk_body = body  # type: ignore[attr-defined]
    return dict(body)


def query_params(request: Request, allowed: Sequence[str]) -> dict[str, str]:
    """The query parameters; 422 for any not in ``allowed``, as for an unknown body field, so a
    misspelled filter is an error rather than a silently unfiltered list."""
    params: dict[str, str] = dict(request.query_params or {})
    for name in params:
        if name not in allowed:
            raise errors.InvalidInput(f"Unknown query parameter '{name}'.", field=name)
    return params


def no_query_params(request: Request) -> None:
    """Refuse any query parameter on a route that takes none, as unknown fields are."""
    query_params(request, ())


def path_id(value: str, what: str) -> str:
    """An id from the path. One that no id could be is simply not found: DynamoDB would
    refuse a key over 2 KB with a server error."""
    try:
        return identifier(value)
    except ValueError as exc:
        raise errors.NotFound(f"No {what} has this id.") from exc


def keys_for_ids(*pairs: tuple[Any, Callable[[str], Key]]) -> list[Key]:
    """Keys for ids taken from untrusted input, to ride along in the auth batch.

    A value no id could be (not a string, too long for a DynamoDB key) is left out: the
    route then finds nothing under it and answers as for any unknown id.
    """
    keys = []
    for value, make_key in pairs:
        try:
            keys.append(make_key(identifier(value)))
        except ValueError:
            continue
    return keys


def peek_body(request: Request) -> dict[str, Any]:
    """The JSON body if it parses as an object, else empty. Only for choosing what to read
    alongside authentication: the route still validates with ``json_body`` afterwards."""
    try:
        return json_body(request)
    except errors.HelpdeskError:
        return {}


def page_size(params: dict[str, str]) -> int:
    """The ``limit`` parameter, from 1 to ``MAX_PAGE``. Matched as ASCII digits before ``int()``,
    which would also take signs, spaces and other scripts' digits."""
    raw = params.get("limit", str(DEFAULT_PAGE))
    if not re.fullmatch(r"[0-9]{1,3}", raw) or not 1 <= int(raw) <= MAX_PAGE:
        raise errors.InvalidInput(f"'limit' must be a whole number from 1 to {MAX_PAGE}.", field="limit")
    return int(raw)


def client_address(request: Request) -> str:
    """The caller's address as API Gateway saw it, which sign-in throttles by. Headers such as
    ``X-Forwarded-For`` are not read: the client writes those."""
    identity = (request.context or {}).get("identity") or {}
    return str(identity.get("sourceIp") or "unknown")


def page(items: list[dict[str, Any]], cursor: str | None) -> dict[str, Any]:
    """The body of every list answer: the items and the cursor of the next page (None at the end)."""
    return {"items": items, "next_cursor": cursor}


def staff_context(bp: Blueprint, extra_keys: Sequence[Key] = ()) -> staff_domain.StaffContext:
    """Authenticate the bearer token; ``extra_keys`` ride along in the same batch read."""
    request = bp.current_request
    return staff_domain.authenticate(request.headers.get("authorization"), extra_keys)


def admin_context(bp: Blueprint, extra_keys: Sequence[Key] = ()) -> staff_domain.StaffContext:
    """``staff_context`` for routes only admins may use. It authenticates first, so a bad token
    answers 401 before any role check answers 403."""
    context = staff_context(bp, extra_keys)
    context.require_admin()
    return context


def choice_param(
    params: dict[str, str], name: str, options: Sequence[str], default: str | None
) -> str | None:
    """The query parameter ``name``, which must be one of ``options``; ``default`` when absent."""
    value = params.get(name)
    if value is None:
        return default
    if value not in options:
        raise errors.InvalidInput(f"'{name}' must be one of " + ", ".join(options) + ".", field=name)
    return value


def error_shape_middleware(request: Request, get_response: Callable[[Request], Response]) -> Response:
    """Give the errors Chalice answers by itself (415, 405, an unhandled 500) the same
    ``{"error": ...}`` shape as every other error of the API (and of ``/embed``), or, on the
    HTML pages, a plain page: a browser never sees JSON or a trace there."""
    response = get_response(request)
    body = response.body
    if response.status_code >= 400 and isinstance(body, dict) and set(body) == {"Code", "Message"}:
        code = re.sub(r"(?<!^)(?=[A-Z])", "_", str(body["Code"])).lower().removesuffix("_error")
        message = str(body["Message"])
        if response.status_code >= 500:
            message = "Something went wrong on our side; the error was logged."
        if not request.path.startswith(("/api", "/embed")):
            return _error_page(response.status_code, message)
        error = {"code": code, "message": message, "field": None}
        return json_response({"error": error}, response.status_code)
    return response


def _error_page(status: int, message: str) -> Response:
    from chalicelib.rendering import html_response, render

    if status == 415:
        message = "This form was sent in a way the page does not accept. Please go back and try again."
    elif status == 405:
        message = "This page cannot be used like that."
    return html_response(render("error.html", heading="Something went wrong", message=message), status)
