"""The portal's sign-in and sessions: cookies, CSRF, throttling, where a login leads, and
every way a session ends on the server."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from chalice.test import Client

from chalicelib.domain import portal_auth
from chalicelib.store.models import Contact
from tests.functional.browsing import Browser
from tests.functional.conftest import PROJECT_DIR
from tests.functional.desk import Desk, MovableClock
from tests.functional.portal_fixtures import PASSWORD, Customers, customers, give_password, sign_in

pytestmark = pytest.mark.usefixtures("clock")

__all__ = ["customers"]


def session_cookie(browser: Browser) -> str:
    return browser.cookies["__Host-hd_portal"]


# -- the login page ------------------------------------------------------------------


def test_the_login_page_carries_the_security_headers_and_a_pre_session_cookie(customers: Customers) -> None:
    page = customers.browser().get("/portal/login")

    assert page.status == 200
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    policy = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["Referrer-Policy"] == "same-origin"
    assert page.headers["Strict-Transport-Security"].startswith("max-age=")
    assert page.headers["Cache-Control"] == "no-store"
    (cookie,) = page.set_cookies
    assert cookie.startswith("__Host-hd_pre=")
    attributes = {part.strip().split("=")[0] for part in cookie.split(";")[1:]}
    assert attributes == {"Path", "Max-Age", "HttpOnly", "SameSite", "Secure"}
    assert "SameSite=Lax" in cookie
    assert "Domain" not in cookie
    assert re.search(r'name="csrf_token" value="[0-9a-f]{40}"', page.text)
    assert '<label for="email">Email</label>' in page.text


def test_signing_in_starts_a_fresh_server_side_session_and_goes_to_the_overview(customers: Customers) -> None:
    browser = customers.browser()

    answer = sign_in(browser, "CLEO@example.com", PASSWORD)

    assert answer.status == 303
    assert answer.location == "/portal"
    (cookie,) = answer.set_cookies
    assert cookie.startswith("__Host-hd_portal=")
    assert "HttpOnly" in cookie
    assert "Secure" in cookie
    value = session_cookie(browser)
    stored = portal_auth.authenticate(value)
    assert stored.contact.id == customers.desk.contacts["cleo"]
    # Only the hash of the cookie is stored.
    from chalicelib.store.models import PortalSession

    assert (
        PortalSession.get(*PortalSession.key(portal_auth.session_hash(value))).contact_id == stored.contact.id
    )
    overview = browser.get("/portal")
    assert overview.status == 200
    assert "Hello, Cleo Customer" in overview.plain


def cookie_attributes(cookie: str) -> dict[str, str | None]:
    """A ``Set-Cookie`` value's attributes by name (None for a flag such as HttpOnly)."""
    attributes: dict[str, str | None] = {}
    for part in cookie.split(";")[1:]:
        name, equals, value = part.strip().partition("=")
        attributes[name] = value if equals else None
    return attributes


def test_the_session_cookie_is_host_only_secure_http_only_and_lax_with_a_256_bit_secret(
    customers: Customers,
) -> None:
    answer = sign_in(customers.browser(), "cleo@example.com", PASSWORD)

    (cookie,) = answer.set_cookies
    name, _, value = cookie.split(";", 1)[0].partition("=")
    assert name == "__Host-hd_portal"
    assert cookie_attributes(cookie) == {
        "Path": "/",
        "Max-Age": str(int(portal_auth.SESSION_LIFETIME.total_seconds())),
        "HttpOnly": None,
        "SameSite": "Lax",
        "Secure": None,
    }
    contact_id, _, secret = value.partition(".")
    assert contact_id == customers.desk.contacts["cleo"]
    raw = base64.urlsafe_b64decode(secret + "=" * (-len(secret) % 4))
    assert len(raw) * 8 == 256
    assert len(secret) == 43  # base64url of 32 bytes, unpadded


@pytest.fixture
def local_http_client(aws: None, tmp_path: Path) -> Iterator[Client]:
    """The app as ``make run`` serves it (``HELPDESK_STAGE=local``, plain HTTP): a stage of
    the project's own config with that variable on top, as the local runner sets it."""
    from app import app

    config = json.loads((PROJECT_DIR / ".chalice" / "config.json").read_text())
    stage = config["stages"]["dev"]
    config["stages"]["local"] = {
        **stage,
        "environment_variables": {**stage["environment_variables"], "HELPDESK_STAGE": "local"},
    }
    (tmp_path / ".chalice").mkdir()
    (tmp_path / ".chalice" / "config.json").write_text(json.dumps(config))
    with Client(app, project_dir=str(tmp_path), stage_name="local") as local_client:
        yield local_client


def test_on_local_http_the_cookies_drop_only_the_host_prefix_and_secure(
    customers: Customers, local_http_client: Client
) -> None:
    browser = Browser(local_http_client)

    login = browser.get("/portal/login")
    answer = browser.post("/portal/login", {"email": "cleo@example.com", "password": PASSWORD})

    (pre_session,) = login.set_cookies
    (session,) = answer.set_cookies
    assert pre_session.startswith("hd_pre=")
    assert session.startswith("hd_portal=")
    for cookie in (pre_session, session):
        attributes = cookie_attributes(cookie)
        assert set(attributes) == {"Path", "Max-Age", "HttpOnly", "SameSite"}
        assert (attributes["Path"], attributes["SameSite"]) == ("/", "Lax")
    # The unprefixed cookie is the one read back.
    overview = browser.get("/portal")
    assert overview.status == 200
    assert "Hello, Cleo Customer" in overview.plain


def test_each_sign_in_gets_a_new_session_even_with_an_old_cookie_sent_along(customers: Customers) -> None:
    browser = customers.signed_in("cleo")
    first = session_cookie(browser)

    sign_in(browser, "cleo@example.com", PASSWORD)

    assert session_cookie(browser) != first


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("cleo@example.com", "wrong password entirely"),
        ("nobody@example.com", PASSWORD),
        ("not an email", PASSWORD),
        ("", ""),
    ],
)
def test_every_failed_sign_in_gets_the_same_page_and_no_session(
    customers: Customers, email: str, password: str
) -> None:
    browser = customers.browser()

    page = sign_in(browser, email, password)

    assert page.status == 401
    assert "Email or password is wrong." in page.plain
    assert "__Host-hd_portal" not in browser.cookies


def test_a_contact_without_portal_access_cannot_sign_in_with_the_right_password(
    customers: Customers, desk: Desk
) -> None:
    cleo = desk.api.get(f"/api/contacts/{desk.contacts['cleo']}").data
    desk.api.patch(f"/api/contacts/{cleo['id']}", {"portal_access": "disabled", "version": cleo["version"]})

    page = sign_in(customers.browser(), "cleo@example.com", PASSWORD)

    assert page.status == 401
    assert "Email or password is wrong." in page.plain


def test_sign_ins_are_throttled_per_account_with_retry_after(customers: Customers) -> None:
    browser = customers.browser()
    for _ in range(portal_auth.LOGIN_PER_ACCOUNT.attempts):
        assert sign_in(browser, "cleo@example.com", "wrong password entirely").status == 401

    page = sign_in(browser, "cleo@example.com", PASSWORD)

    assert page.status == 429
    assert int(page.headers["Retry-After"]) > 0
    assert "__Host-hd_portal" not in browser.cookies


@pytest.mark.parametrize("email", ["cleo@example.com", "nobody@example.com"])
def test_failed_sign_ins_to_an_unknown_email_are_throttled_like_a_known_ones(
    customers: Customers, email: str
) -> None:
    # The same run of answers whether or not the account exists: throttling tells nothing.
    browser = customers.browser()

    answers = [
        sign_in(browser, email, "wrong password entirely").status
        for _ in range(portal_auth.LOGIN_PER_ACCOUNT.attempts + 1)
    ]

    assert answers == [401] * portal_auth.LOGIN_PER_ACCOUNT.attempts + [429]


def test_sign_ins_are_throttled_per_client_address(customers: Customers) -> None:
    browser = customers.browser()
    for number in range(portal_auth.LOGIN_PER_ADDRESS.attempts):
        assert sign_in(browser, f"guess{number}@example.com", "wrong password entirely").status == 401

    assert sign_in(browser, "cleo@example.com", PASSWORD).status == 429


# -- CSRF and origin -----------------------------------------------------------------


def test_a_login_without_its_csrf_token_changes_nothing(customers: Customers) -> None:
    browser = customers.browser()
    browser.get("/portal/login")

    page = browser.post("/portal/login", {"email": "cleo@example.com", "password": PASSWORD}, csrf=False)

    assert page.status == 403
    assert "__Host-hd_portal" not in browser.cookies


def test_another_browsers_csrf_token_is_refused(customers: Customers) -> None:
    mine, theirs = customers.browser(), customers.browser()
    mine.get("/portal/login")
    theirs.get("/portal/login")

    page = mine.post(
        "/portal/login", {"email": "cleo@example.com", "password": PASSWORD, "csrf_token": theirs.csrf}
    )

    assert page.status == 403


def test_a_post_from_another_origin_is_refused_even_with_the_token(customers: Customers) -> None:
    browser = customers.browser()
    browser.get("/portal/login")

    page = browser.post(
        "/portal/login",
        {"email": "cleo@example.com", "password": PASSWORD},
        headers={"Origin": "https://evil.example", "Host": "help.example.com"},
    )

    assert page.status == 403


def test_signed_in_forms_carry_a_token_bound_to_the_session(customers: Customers) -> None:
    browser = customers.signed_in("cleo")
    overview = browser.get("/portal")
    token = browser.csrf

    other = customers.signed_in("dana")
    other.get("/portal")

    assert token
    assert token != other.csrf
    assert 'action="/portal/logout"' in overview.text
    assert other.post("/portal/logout", {"csrf_token": token}).status == 403


# -- where a sign-in leads -----------------------------------------------------------


def test_a_page_that_needs_a_session_sends_the_browser_to_sign_in_and_back(customers: Customers) -> None:
    number = customers.desk.ticket("cleo")["number"]
    browser = customers.browser()

    first = browser.get(f"/portal/tickets/{number}")
    assert first.status == 303
    assert first.location == f"/portal/login?next=/portal/tickets/{number}"

    login = browser.get(first.location)
    assert f'name="next" value="/portal/tickets/{number}"' in login.text
    answer = browser.post(
        "/portal/login",
        {"email": "cleo@example.com", "password": PASSWORD, "next": f"/portal/tickets/{number}"},
    )
    assert answer.location == f"/portal/tickets/{number}"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/portal",
        "//evil.example/portal",
        "/\\evil.example",
        "/admin",
        "/portalx",
        "javascript:alert(1)",
        "/portal\n/evil",
    ],
)
def test_next_never_leads_off_the_portal(customers: Customers, target: str) -> None:
    answer = sign_in(customers.browser(), "cleo@example.com", PASSWORD, next_path=target)

    assert answer.status == 303
    assert answer.location == "/portal"


# -- how sessions end ----------------------------------------------------------------


def test_signing_out_ends_the_session_on_the_server(customers: Customers) -> None:
    browser = customers.signed_in("cleo")
    value = session_cookie(browser)
    browser.get("/portal")

    answer = browser.post("/portal/logout")

    assert answer.status == 303
    assert answer.location == "/portal/login"
    assert "__Host-hd_portal" not in browser.cookies
    replay = Browser(customers.client, cookies={"__Host-hd_portal": value})
    assert replay.get("/portal").status == 303


def test_a_password_change_ends_every_earlier_session(customers: Customers, clock: MovableClock) -> None:
    laptop, phone = customers.signed_in("cleo"), customers.signed_in("cleo")
    clock.advance(seconds=1)

    give_password(customers.desk.contacts["cleo"], "a brand new passphrase here")

    assert laptop.get("/portal").status == 303
    assert phone.get("/portal").status == 303
    assert sign_in(customers.browser(), "cleo@example.com", "a brand new passphrase here").status == 303


def test_staff_shutting_a_contact_out_ends_their_sessions(
    customers: Customers, desk: Desk, clock: MovableClock
) -> None:
    browser = customers.signed_in("cleo")
    clock.advance(seconds=1)
    cleo = desk.api.get(f"/api/contacts/{desk.contacts['cleo']}").data

    desk.api.patch(f"/api/contacts/{cleo['id']}", {"portal_access": "disabled", "version": cleo["version"]})

    assert browser.get("/portal").status == 303


def test_a_session_expires_after_its_lifetime(customers: Customers, clock: MovableClock) -> None:
    browser = customers.signed_in("cleo")

    clock.advance(seconds=portal_auth.SESSION_LIFETIME.total_seconds() + 1)

    assert browser.get("/portal").status == 303


@pytest.mark.parametrize(
    "value",
    ["", "no-dot", ".", "x.y", "a" * 300, "cleo.' OR 1=1", "\u00e9t\u00e9.secret"],
)
def test_a_forged_session_cookie_is_just_not_signed_in(customers: Customers, value: str) -> None:
    browser = Browser(customers.client, cookies={"__Host-hd_portal": value})

    assert browser.get("/portal").status == 303


def test_a_session_of_one_contact_cannot_be_used_with_another_contacts_id(customers: Customers) -> None:
    browser = customers.signed_in("cleo")
    _, _, secret = session_cookie(browser).partition(".")

    forged = Browser(
        customers.client, cookies={"__Host-hd_portal": f"{customers.desk.contacts['dana']}.{secret}"}
    )

    assert forged.get("/portal").status == 303


# -- the portal switched off ---------------------------------------------------------


@pytest.mark.parametrize("path", ["/portal", "/portal/login", "/portal/tickets", "/portal/tickets/1000"])
def test_with_the_portal_off_every_page_says_only_that_it_is_not_available(
    customers: Customers, desk: Desk, path: str
) -> None:
    browser = customers.signed_in("cleo")
    number = desk.ticket("cleo", subject="Secret subject")["number"]
    desk.put_settings(portal_enabled=False)

    page = browser.get(path.replace("1000", str(number)))

    assert page.status == 404
    assert "Portal not available" in page.plain
    assert "Secret subject" not in page.text
    assert "Cleo" not in page.text


def test_with_the_portal_off_a_login_post_signs_nobody_in(customers: Customers, desk: Desk) -> None:
    browser = customers.browser()
    browser.get("/portal/login")
    desk.put_settings(portal_enabled=False)

    page = browser.post("/portal/login", {"email": "cleo@example.com", "password": PASSWORD})

    assert page.status == 404
    assert "__Host-hd_portal" not in browser.cookies


def test_the_stylesheet_is_served_by_the_app(customers: Customers) -> None:
    page = customers.browser().get("/assets/helpdesk.css")

    assert page.status == 200
    assert page.headers["Content-Type"] == "text/css; charset=utf-8"
    assert ":focus-visible" in page.text


def test_contacts_password_hash_never_reaches_a_page(customers: Customers) -> None:
    browser = customers.signed_in("cleo")
    stored = Contact.get(*Contact.key(customers.desk.contacts["cleo"]))

    for path in ("/portal", "/portal/tickets", "/portal/tickets/new"):
        assert stored.password_hash not in browser.get(path).text


# -- errors Chalice answers itself ---------------------------------------------------


def test_a_page_answers_a_wrong_method_or_content_type_with_html_not_json(customers: Customers) -> None:
    browser = customers.browser()

    wrong_method = browser._send(
        "PUT", "/portal/login", "x=1", {"Content-Type": "application/x-www-form-urlencoded"}
    )
    wrong_type = browser._send("POST", "/portal/login", "{}", {"Content-Type": "application/json"})

    for page in (wrong_method, wrong_type):
        assert page.headers["Content-Type"] == "text/html; charset=utf-8"
        assert "Something went wrong" in page.plain
        assert "Content-Security-Policy" in page.headers
    assert (wrong_method.status, wrong_type.status) == (405, 415)


def test_an_unexpected_failure_on_a_page_is_an_html_page_without_a_trace(
    customers: Customers, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.pages import portal_routes

    def broken(*args: object, **kwargs: object) -> object:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(portal_routes.ledger, "outstanding", broken)
    browser = customers.signed_in("cleo")

    page = browser.get("/portal")

    assert page.status == 500
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "secret internals" not in page.text
    assert "Traceback" not in page.text
