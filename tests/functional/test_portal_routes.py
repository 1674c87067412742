"""What holds for every ``/portal`` route, checked over the routes the app has rather than a
list kept here: a route added later is covered without touching this file, and a new form
fails ``test_every_portal_form_is_known_here`` until it says what a valid post to it is.

- The portal switched off answers one plain page on every route, signed in or not, whatever
  the method, before a sign-in redirect, a form check or a ticket number is looked at.
- Every form is refused without its CSRF token, or with another browser's, and nothing is
  written; the same form with the right token does write, so the refusal is the token's.
- Every state change is a POST: a GET of a form-only route is a 405 page, and no GET
  writes anything, the pages that emailed links open included.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from chalicelib.domain import account_tokens
from chalicelib.store.db import update_unversioned
from chalicelib.store.models import Contact
from tests.bench.counting import count_calls
from tests.functional.browsing import Browser, Page
from tests.functional.desk import Desk
from tests.functional.portal_fixtures import PASSWORD, Customers, customers
from tests.functional.test_portal_access import contact_by_email
from tests.functional.test_portal_tickets import close

pytestmark = pytest.mark.usefixtures("clock")

__all__ = ["customers"]

NEW_PASSWORD = "a fresh passphrase from a link"
SECRET_SUBJECT = "Cleo secret subject"


def _portal_routes() -> list[tuple[str, str]]:
    from app import app

    return sorted(
        (method, path)
        for path, methods in app.routes.items()
        if path == "/portal" or path.startswith("/portal/")
        for method in methods
    )


ROUTES = _portal_routes()
GET_ROUTES = [path for method, path in ROUTES if method == "GET"]
POST_ROUTES = [path for method, path in ROUTES if method == "POST"]
POST_ONLY = [path for path in POST_ROUTES if path not in GET_ROUTES]

# A valid post to each form: who sends it (a signed-in customer or a visitor with the login
# page's pre-session token), and its fields. ``{option}`` is the scene's rating option.
FORMS: dict[str, tuple[str, dict[str, str]]] = {
    "/portal/login": ("visitor", {"email": "cleo@example.com", "password": PASSWORD}),
    "/portal/logout": ("cleo", {}),
    "/portal/register": ("visitor", {"name": "Nora New", "email": "nora@example.com", "password": PASSWORD}),
    "/portal/register/confirm/{token}": ("visitor", {"password": PASSWORD}),
    "/portal/password-reset": ("visitor", {"email": "cleo@example.com"}),
    "/portal/password-reset/{token}": ("visitor", {"password": NEW_PASSWORD}),
    "/portal/invite/{token}": ("visitor", {"password": NEW_PASSWORD}),
    "/portal/email/{token}": ("visitor", {"password": PASSWORD}),
    "/portal/account": (
        "cleo",
        {"email": "cleo@example.com", "address": "1 New Street", "notify_email": "1"},
    ),
    "/portal/tickets/new": ("cleo", {"subject": "From a form", "body": "Hello"}),
    "/portal/tickets/{number}/reply": ("cleo", {"body": "A reply"}),
    "/portal/tickets/{number}/rating": ("cleo", {"rating_option_id": "{option}"}),
}


@dataclass
class Scene:
    """Everything a portal route can be asked about: Cleo signed in, a visitor who has seen
    the login page, an open and a closed ticket of Cleo's, and a live link of each kind
    (Pia's pending registration, Cleo's reset, Erin's invite, Cleo's new email)."""

    desk: Desk
    customers: Customers
    cleo: Browser
    visitor: Browser
    open_number: int
    closed_number: int
    option: str
    tokens: dict[str, str]

    def path(self, route: str, number: str | None = None) -> str:
        """The route with its parameters filled in: a ticket of Cleo's (the closed one for a
        rating) and the live link token the route takes."""
        if "{number}" in route:
            ticket = self.closed_number if route.endswith("/rating") else self.open_number
            return route.replace("{number}", number or str(ticket))
        if "{token}" in route:
            purpose = next(name for prefix, name in LINK_ROUTES.items() if route.startswith(prefix))
            return route.replace("{token}", self.tokens[purpose])
        assert "{" not in route, f"no value for the parameters of {route}"
        return route

    def browser(self, who: str) -> Browser:
        return self.cleo if who == "cleo" else self.visitor

    def fields(self, route: str) -> dict[str, str]:
        return {name: value.format(option=self.option) for name, value in FORMS[route][1].items()}


LINK_ROUTES = {
    "/portal/register/confirm/": "confirm",
    "/portal/password-reset/": "reset",
    "/portal/invite/": "invite",
    "/portal/email/": "email",
}


@pytest.fixture
def scene(customers: Customers, desk: Desk) -> Scene:
    desk.put_settings(registration_enabled=True, customer_reply_status_id=desk.statuses["waiting"])
    option = desk.created("/api/rating-options", {"label": "Great", "score": 5})["id"]
    open_number = desk.ticket("cleo", subject=SECRET_SUBJECT)["number"]
    closed_number = desk.ticket("cleo", subject=SECRET_SUBJECT)["number"]
    close(desk, closed_number)

    pia = customers.browser()
    pia.get("/portal/register")
    pia_form = {"name": "Pia", "email": "pia@example.com", "password": PASSWORD}
    registered = pia.post("/portal/register", pia_form)
    assert registered.status == 200, registered.text
    desk.created("/api/contacts", {"name": "Erin", "email": "erin@example.com"})
    update_unversioned(
        Contact.key(desk.contacts["cleo"]), [Contact.pending_email.set("cleo.new@example.com")]
    )
    tokens = {
        "confirm": account_tokens.make(contact_by_email("pia@example.com"), "confirm"),
        "reset": account_tokens.make(contact_by_email("cleo@example.com"), "reset"),
        "invite": account_tokens.make(contact_by_email("erin@example.com"), "invite"),
        "email": account_tokens.make(contact_by_email("cleo@example.com"), "email"),
    }

    cleo = customers.signed_in("cleo")
    assert cleo.get("/portal").status == 200  # a form token bound to the session
    visitor = customers.browser()
    assert visitor.get("/portal/login").status == 200  # a pre-session form token
    return Scene(desk, customers, cleo, visitor, open_number, closed_number, str(option), tokens)


def test_the_routes_are_found() -> None:
    # The parametrized tests below are only as good as this list.
    assert ("GET", "/portal") in ROUTES
    assert ("POST", "/portal/tickets/{number}/rating") in ROUTES
    assert {"/portal/logout", "/portal/tickets/{number}/reply", "/portal/tickets/{number}/rating"} <= set(
        POST_ONLY
    )
    assert len(ROUTES) >= 20


def test_every_portal_form_is_known_here() -> None:
    assert sorted(FORMS) == sorted(POST_ROUTES)


# -- the portal switched off ---------------------------------------------------------


def send(browser: Browser, method: str, path: str, fields: dict[str, str] | None = None) -> Page:
    return browser.get(path) if method == "GET" else browser.post(path, fields or {})


@pytest.mark.parametrize("who", ["cleo", "visitor"])
@pytest.mark.parametrize(("method", "route"), ROUTES)
def test_with_the_portal_off_every_route_answers_only_that_it_is_not_available(
    scene: Scene, method: str, route: str, who: str
) -> None:
    # A valid form with this browser's token: only the gate can stop it.
    fields = scene.fields(route) if method == "POST" else None
    browser = scene.browser(who)
    scene.desk.put_settings(portal_enabled=False)

    with count_calls() as calls:
        page = send(browser, method, scene.path(route), fields)

    assert_portal_off(page)
    assert calls.writes == 0


@pytest.mark.parametrize("who", ["cleo", "visitor"])
@pytest.mark.parametrize(("method", "route"), [(m, r) for m, r in ROUTES if "{number}" in r])
def test_with_the_portal_off_a_ticket_number_is_not_even_read(
    scene: Scene, method: str, route: str, who: str
) -> None:
    browser = scene.browser(who)
    scene.desk.put_settings(portal_enabled=False)

    page = send(browser, method, scene.path(route, number="abc"), {"body": "x"})

    assert_portal_off(page)


def assert_portal_off(page: Page) -> None:
    assert page.status == 404, page.text
    assert page.location == ""
    assert page.set_cookies == []
    assert page.plain.startswith("Portal not available")
    assert "The customer portal is not available." in page.plain
    assert SECRET_SUBJECT not in page.text
    assert "Cleo" not in page.text
    assert "<form" not in page.text
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"


# -- CSRF ----------------------------------------------------------------------------


@pytest.mark.parametrize("token", ["missing", "another browser's", "right"])
@pytest.mark.parametrize("route", POST_ROUTES)
def test_a_form_without_its_own_csrf_token_is_refused_and_writes_nothing(
    scene: Scene, customers: Customers, route: str, token: str
) -> None:
    who, _ = FORMS[route]
    browser = scene.browser(who)
    fields = scene.fields(route)
    if token == "another browser's":
        other = customers.signed_in("dana") if who == "cleo" else customers.browser()
        other.get("/portal/login" if who == "visitor" else "/portal")
        assert other.csrf
        assert other.csrf != browser.csrf
        fields["csrf_token"] = other.csrf

    with count_calls() as calls:
        page = browser.post(scene.path(route), fields, csrf=token != "missing")

    if token == "right":
        # The control: the same post with its token gets through and writes.
        assert page.status in (200, 303), page.text
        assert calls.writes > 0
    else:
        assert page.status == 403, page.text
        assert "This form has expired or did not come from this site." in page.plain
        assert calls.writes == 0


# -- every state change is a POST ----------------------------------------------------


@pytest.mark.parametrize("who", ["cleo", "visitor"])
@pytest.mark.parametrize("route", POST_ONLY)
def test_a_get_of_a_form_only_route_is_a_405_page_and_changes_nothing(
    scene: Scene, route: str, who: str
) -> None:
    browser = scene.browser(who)

    with count_calls() as calls:
        page = browser.get(scene.path(route))

    assert page.status == 405
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "This page cannot be used like that." in page.plain
    assert calls.writes == 0
    assert scene.cleo.get("/portal").status == 200  # still signed in after a GET of logout


@pytest.mark.parametrize("who", ["cleo", "visitor"])
@pytest.mark.parametrize("route", GET_ROUTES)
def test_no_page_writes_anything_when_opened(scene: Scene, route: str, who: str) -> None:
    browser = scene.browser(who)

    with count_calls() as calls:
        page = browser.get(scene.path(route))

    assert page.status in (200, 303), page.text
    assert calls.writes == 0


@pytest.mark.parametrize(
    ("route", "address"),
    [
        ("/portal/register/confirm/{token}", "pia@example.com"),
        ("/portal/password-reset/{token}", "cleo@example.com"),
        ("/portal/invite/{token}", "erin@example.com"),
    ],
)
def test_opening_an_emailed_link_changes_nothing_and_its_form_still_works(
    scene: Scene, route: str, address: str
) -> None:
    before = contact_by_email(address)
    path = scene.path(route)

    for _ in range(2):
        opened = scene.visitor.get(path)
        assert opened.status == 200
        assert 'type="password"' in opened.text

    after = contact_by_email(address)
    assert (after.portal_state, after.password_hash, after.sessions_valid_from) == (
        before.portal_state,
        before.password_hash,
        before.sessions_valid_from,
    )
    assert "hd_portal" not in " ".join(scene.visitor.cookies)
    used = scene.visitor.post(path, scene.fields(route))
    assert used.status == 303, used.text
    assert contact_by_email(address).portal_state == "active"
