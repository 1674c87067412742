"""What the portal's pages share: the gate, the signed-in visit, rendering, failure pages.

Every portal view is wrapped by ``portal_view``, which turns each way a request can fail
into one page: the portal switched off, a browser not signed in (sent to the login page,
with the path to come back to), a form without its CSRF token, something not found
(another contact's ticket looks exactly like one that does not exist), too many attempts.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from chalice.app import Blueprint, Response

from chalicelib.api.http import client_address, http_status
from chalicelib.domain import portal_auth, setup
from chalicelib.domain.portal_auth import PortalContext
from chalicelib.domain.setup import SetupConfig
from chalicelib.errors import HelpdeskError, Throttled
from chalicelib.observability import logger
from chalicelib.pages import web
from chalicelib.rendering import html_response, render
from chalicelib.store.db import Key

PREFIX = "/portal"
SESSION_COOKIE = "hd_portal"
SESSION_COOKIE_AGE = int(portal_auth.SESSION_LIFETIME.total_seconds())

__all__ = ["PortalContext", "client_address"]


class PortalOff(HelpdeskError):
    """The settings have the portal switched off."""

    code = "portal_off"
    default_message = "The customer portal is not available."


@dataclass
class Visit:
    """An anonymous visit: the config, and the pre-session value the forms are bound to."""

    config: SetupConfig
    binding: str
    cookies: list[str] = field(default_factory=list)


def signed_in(bp: Blueprint, extra_keys: Sequence[Key] = ()) -> PortalContext:
    """The signed-in contact of this request, the config and ``extra_keys``: one batch read.

    The portal switched off is said before anything else, signed in or not: a browser
    without a session is not sent to a login page that would only say it next. The batch
    read brings the config either way; a cookie refused before any read costs one config read.
    """
    request = bp.current_request
    try:
        context = portal_auth.authenticate(web.read_cookie(request, SESSION_COOKIE), extra_keys)
    except portal_auth.NoSession as exc:
        _gate(exc.config if exc.config is not None else setup.load())
        raise web.SignInNeeded(web.here(request, PREFIX)) from exc
    _gate(context.config)
    logger.append_keys(contact_id=context.contact.id)
    return context


def _gate(config: SetupConfig) -> None:
    """``PortalOff`` unless the settings have the portal on."""
    if not config.settings.get("portal_enabled"):
        raise PortalOff()


def anonymous(bp: Blueprint) -> Visit:
    """A visit without a session (sign-in, registration, password reset): one config read."""
    config = setup.load()
    _gate(config)
    binding, cookie = web.pre_session(bp.current_request)
    return Visit(config, binding, [cookie] if cookie else [])


def checked_form(
    bp: Blueprint, allowed: tuple[str, ...], binding: str | None, max_bytes: int = 64 * 1024
) -> dict[str, str]:
    """``web.checked_form`` for the blueprint's current request."""
    return web.checked_form(bp.current_request, allowed, binding, max_bytes)


def page(
    template: str,
    *,
    context: PortalContext | None = None,
    visit: Visit | None = None,
    status: int = 200,
    cookies: Sequence[str] = (),
    **values: Any,
) -> Response:
    """Render a portal page with what every one shows: the contact (when signed in), the
    settings, and the CSRF token of this browser for its forms."""
    binding = context.session_hash if context else visit.binding if visit else None
    config = context.config if context else visit.config if visit else None
    values.setdefault("nav", "")
    body = render(
        template,
        contact=context.contact if context else None,
        settings=config.settings if config else {},
        csrf_token=web.csrf_token(binding) if binding else "",
        **values,
    )
    headers: dict[str, Any] = {}
    all_cookies = [*(visit.cookies if visit else []), *cookies]
    if all_cookies:
        headers["Set-Cookie"] = all_cookies
    return html_response(body, status, headers)


def message_page(status: int, heading: str, message: str, headers: dict[str, str] | None = None) -> Response:
    """A page with a heading and one message, and a way back to the portal."""
    body = render(
        "portal/message.html",
        heading=heading,
        message=message,
        contact=None,
        settings={},
        csrf_token="",
        nav="",
    )
    return html_response(body, status, headers)


def portal_view(view: Callable[..., Response]) -> Callable[..., Response]:
    """Answer each failure of ``view`` with its page; no trace ever reaches the browser."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        try:
            return view(*args, **kwargs)
        except PortalOff as exc:
            return html_response(render("portal/off.html", message=exc.message), 404)
        except web.SignInNeeded as exc:
            return web.redirect(f"{PREFIX}/login?next={quote(exc.path, safe='/')}")
        except HelpdeskError as exc:
            status = http_status(exc)
            headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, Throttled) else None
            return message_page(
                status, web.HEADINGS.get(status, "Something went wrong"), exc.message, headers
            )

    return wrapper
