"""What every server-rendered page shares: forms, cookies, CSRF tokens and redirects.

Cookies are ``HttpOnly``, ``SameSite=Lax`` and host-only (no ``Domain``). Over HTTPS, which
is every deployed stage, they are also ``Secure`` and carry the ``__Host-`` prefix, which
the browser enforces; ``make run`` serves plain HTTP, so there (``HELPDESK_STAGE=local``)
the names lose the prefix and the flag.

CSRF tokens are HMACs, never stored: for a signed-in browser over its session hash, before
sign-in over a random value kept in a cookie of its own (so the login form is protected too).
A form's token is checked before anything else it asks for, and every change is a POST.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from http.cookies import CookieError, SimpleCookie
from urllib.parse import parse_qsl, quote, urlsplit

from chalice.app import Request, Response

from chalicelib.errors import Forbidden, InvalidInput, MalformedRequest, TooLarge
from chalicelib.settings import get_settings

FORM = "application/x-www-form-urlencoded"
CSRF_FIELD = "csrf_token"
PRE_SESSION_COOKIE = "hd_pre"
PRE_SESSION_AGE = 2 * 3600


class CsrfFailed(Forbidden):
    """A form came without the token this browser was given, or with another one."""

    code = "csrf_failed"
    default_message = (
        "This form has expired or did not come from this site. Please reload the page and try again."
    )


def local_http() -> bool:
    """Whether pages are served over plain HTTP on a developer's machine (``make run``)."""
    return os.environ.get("HELPDESK_STAGE") == "local"


# -- forms ---------------------------------------------------------------------------


def form_fields(
    request: Request, allowed: tuple[str, ...], max_bytes: int = 64 * 1024, *, ignore_unknown: bool = False
) -> dict[str, str]:
    """The fields of a URL-encoded form body, each at most once, only those ``allowed``
    (plus the CSRF token). Another field is refused naming it, or with ``ignore_unknown``
    dropped (a customer's form ignores fields such as ``status_id`` that it never offers).
    Line breaks arrive as ``\\n`` whatever the browser sent."""
    raw = request.raw_body or b""
    if isinstance(raw, str):
        raw = raw.encode()
    if len(raw) > max_bytes:
        raise TooLarge(f"The form is larger than {max_bytes} bytes.")
    names = (*allowed, CSRF_FIELD)
    try:
        pairs = parse_qsl(
            raw.decode("utf-8"),
            keep_blank_values=True,
            strict_parsing=bool(raw),
            errors="strict",
            max_num_fields=len(names) + (20 if ignore_unknown else 0),
        )
    except ValueError as exc:
        raise MalformedRequest("The form could not be read.") from exc

    fields: dict[str, str] = {}
    for name, value in pairs:
        if name not in names and ignore_unknown:
            continue
        if name not in names:
            raise InvalidInput(f"Unknown field '{name}'.", field=name)
        if name in fields:
            raise InvalidInput(f"The field '{name}' was sent more than once.", field=name)
        fields[name] = value.replace("\r\n", "\n")
    return fields


def query(request: Request) -> dict[str, str]:
    """The query parameters, the last value of each (pages read one value per name)."""
    return dict(request.query_params or {})


# -- cookies -------------------------------------------------------------------------


def cookie_name(base: str) -> str:
    return base if local_http() else f"__Host-{base}"


def read_cookie(request: Request, base: str) -> str | None:
    """The value of our cookie ``base``, if the browser sent it (a malformed header is none)."""
    header = request.headers.get("cookie") or ""
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(header)
    except CookieError:
        return None
    morsel = jar.get(cookie_name(base))
    return morsel.value if morsel is not None and morsel.value else None


def set_cookie(base: str, value: str, max_age: int) -> str:
    """A ``Set-Cookie`` value: host-only, the whole site, not for scripts, not cross-site."""
    parts = [f"{cookie_name(base)}={value}", "Path=/", f"Max-Age={max_age}", "HttpOnly", "SameSite=Lax"]
    if not local_http():
        parts.append("Secure")
    return "; ".join(parts)


def clear_cookie(base: str) -> str:
    return set_cookie(base, "", 0)


# -- CSRF ----------------------------------------------------------------------------


def csrf_token(binding: str) -> str:
    """The token forms carry for ``binding`` (a session hash, or a pre-session value)."""
    mac = hmac.new(get_settings().secret_key, f"csrf|{binding}".encode(), hashlib.sha256)
    return mac.hexdigest()[:40]


def check_csrf(fields: dict[str, str], binding: str | None) -> None:
    """``CsrfFailed`` unless the form's token is the one made for ``binding``."""
    sent = fields.get(CSRF_FIELD, "")
    if not binding or not hmac.compare_digest(sent.encode(), csrf_token(binding).encode()):
        raise CsrfFailed()


def pre_session(request: Request) -> tuple[str, str | None]:
    """This browser's pre-session value, and the ``Set-Cookie`` to send when it is new."""
    current = read_cookie(request, PRE_SESSION_COOKIE)
    if current and len(current) <= 64:
        return current, None
    fresh = secrets.token_urlsafe(24)
    return fresh, set_cookie(PRE_SESSION_COOKIE, fresh, PRE_SESSION_AGE)


def same_origin(request: Request) -> bool:
    """False when the browser says the request comes from another site: a second check
    behind the token. Browsers send ``Origin`` with every cross-site POST."""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    host = request.headers.get("host", "")
    parts = urlsplit(origin)
    return bool(host) and parts.netloc == host and parts.scheme in ("http", "https")


# -- redirects -----------------------------------------------------------------------


def redirect(location: str, cookies: list[str] | None = None) -> Response:
    """A 303 See Other (the browser follows with GET), setting ``cookies`` on the way."""
    headers: dict[str, str | list[str]] = {"Location": location, "Cache-Control": "no-store"}
    if cookies:
        headers["Set-Cookie"] = cookies
    return Response(body="", status_code=303, headers=headers)


def safe_next(value: str | None, prefix: str) -> str | None:
    """``value`` when it is a path of this site under ``prefix``, else None: a ``next``
    parameter never sends a browser elsewhere (no scheme, host, ``//`` or backslash)."""
    if not value or len(value) > 500 or "\\" in value or any(ord(char) < 32 for char in value):
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or value.startswith("//"):
        return None
    if parts.path != prefix and not parts.path.startswith(prefix + "/"):
        return None
    return value


def checked_form(
    request: Request, allowed: tuple[str, ...], binding: str | None, max_bytes: int = 64 * 1024
) -> dict[str, str]:
    """The form's fields, once its origin and CSRF token are checked: nothing else happens
    for a form this site did not hand out. Fields the form does not offer are ignored, and
    the token is not among the fields returned."""
    if not same_origin(request):
        raise CsrfFailed()
    fields = form_fields(request, allowed, max_bytes, ignore_unknown=True)
    check_csrf(fields, binding)
    fields.pop(CSRF_FIELD, None)
    return fields


# -- signing in and failing ---------------------------------------------------------


class SignInNeeded(Exception):
    """No live session: the browser goes to the login page and then back to ``path``."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.path = path


# The heading of a failure page, by status.
HEADINGS = {
    400: "Something went wrong",
    403: "Please try again",
    404: "Not found",
    409: "Not possible right now",
    413: "Too much text",
    422: "Please check the form",
    429: "Too many attempts",
}


def here(request: Request, home: str) -> str:
    """The path of a GET to come back to after sign-in; ``home`` for anything else."""
    if request.method != "GET":
        return home
    # ``request.path`` is the route's pattern; the values come from the path parameters.
    path = request.path
    for name, value in (request.uri_params or {}).items():
        path = path.replace("{" + name + "}", quote(value, safe=""))
    query = "&".join(f"{quote(name)}={quote(value)}" for name, value in (request.query_params or {}).items())
    return path + (f"?{query}" if query else "")
