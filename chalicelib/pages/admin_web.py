"""What the staff pages under ``/admin`` share: the signed-in visit, rendering, failures.

A staff member signs in on ``/admin/login`` with the same account, throttling and tokens as
the API: the session cookie holds an API token (``<staff id>.<secret>``, 8 hours), so a
signed-in page reads the token, the staff member and the config in one batch, exactly as
an API call does. Cookies and CSRF tokens follow ``web``. Agents may not open setup or
staff pages: ``require_admin`` answers those with 403.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from chalice.app import Blueprint, Response

from chalicelib.api.http import http_status
from chalicelib.domain import setup, staff
from chalicelib.domain.setup import SetupConfig
from chalicelib.domain.staff import StaffContext
from chalicelib.errors import HelpdeskError, NotAuthenticated, NotFound, Throttled
from chalicelib.observability import logger
from chalicelib.pages import web
from chalicelib.rendering import html_response, render
from chalicelib.store.db import Key
from chalicelib.store.models import Ticket

PREFIX = "/admin"
SESSION_COOKIE = "hd_admin"
SESSION_COOKIE_AGE = int(staff.TOKEN_LIFETIME.total_seconds())

__all__ = ["StaffContext"]


@dataclass
class Visit:
    """A visit without a session (the login page): the config and the pre-session binding."""

    config: SetupConfig
    binding: str
    cookies: list[str] = field(default_factory=list)


def signed_in(bp: Blueprint, extra_keys: Sequence[Key] = ()) -> StaffContext:
    """The signed-in staff member of this request, the config and ``extra_keys``: one batch."""
    request = bp.current_request
    try:
        context = staff.authenticate_token(web.read_cookie(request, SESSION_COOKIE), extra_keys)
    except NotAuthenticated as exc:
        raise web.SignInNeeded(web.here(request, PREFIX)) from exc
    logger.append_keys(staff_id=context.staff.id)
    return context


def anonymous(bp: Blueprint) -> Visit:
    """The login page's visit: one config read, and this browser's pre-session value."""
    binding, cookie = web.pre_session(bp.current_request)
    return Visit(setup.load(), binding, [cookie] if cookie else [])


def checked_form(
    bp: Blueprint, context: StaffContext | Visit, allowed: tuple[str, ...], max_bytes: int = 64 * 1024
) -> dict[str, str]:
    """The form's fields once its origin and CSRF token are checked."""
    binding = context.token_hash if isinstance(context, StaffContext) else context.binding
    return web.checked_form(bp.current_request, allowed, binding, max_bytes)


def page(
    template: str,
    context: StaffContext | Visit,
    *,
    status: int = 200,
    cookies: Sequence[str] = (),
    **values: Any,
) -> Response:
    """Render a staff page with what every one shows: who is signed in (and whether they
    are an admin, for the navigation), the settings, and the CSRF token for its forms."""
    signed = context if isinstance(context, StaffContext) else None
    binding = signed.token_hash if signed else context.binding  # type: ignore[union-attr]
    values.setdefault("nav", "")
    body = render(
        template,
        me=signed.staff if signed else None,
        is_admin=bool(signed and signed.is_admin),
        settings=context.config.settings,
        csrf_token=web.csrf_token(binding),
        **values,
    )
    all_cookies = [*(context.cookies if isinstance(context, Visit) else []), *cookies]
    headers: dict[str, Any] = {"Set-Cookie": all_cookies} if all_cookies else {}
    return html_response(body, status, headers)


def message_page(status: int, heading: str, message: str, headers: dict[str, str] | None = None) -> Response:
    """A page with a heading and one message, and a way back to the dashboard."""
    body = render(
        "admin/message.html",
        heading=heading,
        message=message,
        me=None,
        is_admin=False,
        settings={},
        csrf_token="",
        nav="",
    )
    return html_response(body, status, headers)


def admin_view(view: Callable[..., Response]) -> Callable[..., Response]:
    """Answer each failure of ``view`` with its page; no trace ever reaches the browser."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        try:
            return view(*args, **kwargs)
        except web.SignInNeeded as exc:
            return web.redirect(f"{PREFIX}/login?next={quote(exc.path, safe='/')}")
        except HelpdeskError as exc:
            status = http_status(exc)
            headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, Throttled) else None
            refused = status == 403 and not isinstance(exc, web.CsrfFailed)
            heading = "Not allowed" if refused else web.HEADINGS.get(status, "Something went wrong")
            return message_page(status, heading, exc.message, headers)

    return wrapper


# -- path values ---------------------------------------------------------------------


def ticket_in(context: StaffContext, number: int | None) -> Ticket:
    """The ticket the sign-in batch read, or 404."""
    found = context.items.get(Ticket.key(number)) if number is not None else None
    if not isinstance(found, Ticket):
        raise NotFound("No ticket has this number.")
    logger.append_keys(ticket_number=found.number)
    return found
