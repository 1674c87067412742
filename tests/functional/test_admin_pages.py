"""The staff pages' frame: sign-in, sessions that are API tokens, CSRF, roles, and the
dashboard's figures."""

from __future__ import annotations

import html
import re

import pytest
from chalice.test import Client

from chalicelib.domain import staff
from tests.bench.counting import count_calls
from tests.functional.admin_fixtures import ADMIN_EMAIL, Staffroom, staff_sign_in, staffroom
from tests.functional.browsing import Browser, Page
from tests.functional.conftest import ADMIN_PASSWORD
from tests.functional.desk import Desk, MovableClock
from tests.functional.test_ratings import post_form
from tests.functional.test_stream_handler import StreamTap, invoke

pytestmark = pytest.mark.usefixtures("clock")

__all__ = ["staffroom"]


def test_the_login_page_has_the_security_headers_and_a_labelled_form(staffroom: Staffroom) -> None:
    page = staffroom.browser().get("/admin/login")

    assert page.status == 200
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["Cache-Control"] == "no-store"
    assert '<label for="email">Email</label>' in page.text
    (cookie,) = page.set_cookies
    assert cookie.startswith("__Host-hd_pre=")


def test_signing_in_sets_an_http_only_session_and_opens_the_dashboard(staffroom: Staffroom) -> None:
    browser = staffroom.browser()

    answer = staff_sign_in(browser, ADMIN_EMAIL)

    assert answer.status == 303
    assert answer.location == "/admin"
    (cookie,) = answer.set_cookies
    assert cookie.startswith("__Host-hd_admin=")
    assert "HttpOnly" in cookie
    assert "Secure" in cookie
    assert "SameSite=Lax" in cookie
    dashboard = browser.get("/admin")
    assert dashboard.status == 200
    assert "Open tickets" in dashboard.plain
    assert 'href="/admin/setup"' in dashboard.text


@pytest.mark.parametrize(
    ("email", "password"), [(ADMIN_EMAIL, "wrong password here"), ("nobody@example.com", ADMIN_PASSWORD)]
)
def test_a_failed_sign_in_is_the_same_page_for_every_cause(
    staffroom: Staffroom, email: str, password: str
) -> None:
    browser = staffroom.browser()

    page = staff_sign_in(browser, email, password)

    assert page.status == 401
    assert "Email or password is wrong." in page.plain
    assert "__Host-hd_admin" not in browser.cookies


def test_sign_in_is_throttled_per_account(staffroom: Staffroom) -> None:
    browser = staffroom.browser()
    for _ in range(staff.LOGIN_PER_ACCOUNT.attempts):
        staff_sign_in(browser, ADMIN_EMAIL, "wrong password here")

    page = staff_sign_in(browser, ADMIN_EMAIL)

    assert page.status == 429
    assert int(page.headers["Retry-After"]) > 0


def test_a_login_without_its_csrf_token_signs_nobody_in(staffroom: Staffroom) -> None:
    browser = staffroom.browser()
    browser.get("/admin/login")

    page = browser.post("/admin/login", {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}, csrf=False)

    assert page.status == 403
    assert "__Host-hd_admin" not in browser.cookies


def test_pages_need_a_session_and_come_back_after_sign_in(staffroom: Staffroom) -> None:
    browser = staffroom.browser()

    first = browser.get("/admin")
    assert first.status == 303
    assert first.location == "/admin/login?next=/admin"
    answer = staff_sign_in(browser, ADMIN_EMAIL, next_path="/admin")
    assert answer.location == "/admin"


@pytest.mark.parametrize("target", ["https://evil.example/admin", "//evil.example", "/portal", "/adminx"])
def test_next_never_leads_off_the_staff_pages(staffroom: Staffroom, target: str) -> None:
    assert staff_sign_in(staffroom.browser(), ADMIN_EMAIL, next_path=target).location == "/admin"


def test_signing_out_revokes_the_token_on_the_server(staffroom: Staffroom) -> None:
    browser = staffroom.signed_in()
    token = browser.cookies["__Host-hd_admin"]
    browser.get("/admin")

    answer = browser.post("/admin/logout")

    assert answer.status == 303
    assert "__Host-hd_admin" not in browser.cookies
    replay = Browser(staffroom.client, cookies={"__Host-hd_admin": token})
    assert replay.get("/admin").status == 303
    api = staffroom.client.http.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 401


def test_a_deactivated_staff_member_is_signed_out_of_the_pages(
    staffroom: Staffroom, desk: Desk, clock: MovableClock
) -> None:
    browser = staffroom.signed_in("agent")
    me = staffroom.agent_api.get("/api/auth/me").data
    clock.advance(seconds=1)

    desk.api.patch(f"/api/staff/{me['id']}", {"active": False, "version": me["version"]})

    assert browser.get("/admin").status == 303


def test_an_agent_sees_no_setup_link(staffroom: Staffroom) -> None:
    page = staffroom.signed_in("agent").get("/admin")

    assert page.status == 200
    assert 'href="/admin/setup"' not in page.text


def test_the_dashboard_shows_the_figures_the_stream_keeps(
    client: Client, staffroom: Staffroom, desk: Desk, clock: MovableClock
) -> None:
    tap = StreamTap()
    tap.take()
    me = staffroom.agent_api.get("/api/auth/me").data["id"]
    first = desk.ticket("cleo")["number"]
    desk.ticket("dana")
    desk.ticket("dana")
    desk.api.patch(f"/api/tickets/{first}", {"assignee_id": me, "version": 1})
    invoke(client, tap.take())
    clock.advance(hours=30)  # past Cleo's 24-hour gold target, within Dana's 72-hour ones

    page = staffroom.signed_in("agent").get("/admin")

    figures = page.plain
    assert "Open tickets 3" in figures
    assert "Unassigned 2" in figures
    assert "Mine 1" in figures
    assert "Overdue 1" in figures
    assert "New 3" in figures


def rate(client: Client, number: int, option_id: str, comment: str) -> None:
    """Rate a closed ticket as its customer does, from the link in the close notice."""
    from chalicelib.notify.links import rating_token

    response = post_form(client, rating_token(number), rating_option_id=option_id, comment=comment)
    assert response.status_code == 200, response.body


def ratings_shown(page: Page) -> list[str]:
    """The dashboard's latest ratings, top to bottom, as plain text."""
    card = page.text.split('id="ratings-heading"', 1)[1].split("</section>", 1)[0]
    items = re.findall(r"<li>(.*?)</li>", card, re.S)
    return [" ".join(html.unescape(re.sub(r"<[^>]+>", " ", item)).split()) for item in items]


def test_the_dashboard_shows_the_average_score_and_the_latest_ratings_escaped(
    client: Client, staffroom: Staffroom, desk: Desk, clock: MovableClock
) -> None:
    # GIVEN three rating options, one of them with a label that is HTML
    options = {
        label: desk.created("/api/rating-options", {"label": label, "score": score})["id"]
        for label, score in (("Great", 100), ("Okay", 50), ("<b>Poor</b>", 0))
    }
    tap = StreamTap()
    tap.take()

    # AND six closed tickets rated one after another, a comment trying to be a script
    ratings = [
        ("Great", "First and fast."),
        ("Great", ""),
        ("Okay", "Took a while."),
        ("<b>Poor</b>", '<script>alert("x")</script>'),
        ("Okay", ""),
        ("Great", "Thanks!"),
    ]
    numbers = []
    for label, comment in ratings:
        number = desk.ticket(status_id=desk.statuses["solved"])["number"]
        clock.advance(minutes=1)
        rate(client, number, options[label], comment)
        numbers.append(number)

    # WHEN the stream has counted them and an agent opens the dashboard
    assert invoke(client, tap.take()) == {"batchItemFailures": []}
    page = staffroom.signed_in("agent").get("/admin")

    # THEN the average is over all six: (100 + 100 + 50 + 0 + 50 + 100) / 6
    assert "Average score 66.67 from 6 ratings." in page.plain
    # AND the five latest are listed newest first, each linking to its ticket
    assert ratings_shown(page) == [
        f"#{numbers[5]} Great “Thanks!”",
        f"#{numbers[4]} Okay",
        f'#{numbers[3]} <b>Poor</b> “<script>alert("x")</script>”',
        f"#{numbers[2]} Okay “Took a while.”",
        f"#{numbers[1]} Great",
    ]
    for number in numbers[1:]:
        assert f'href="/admin/tickets/{number}"' in page.text
    assert f'href="/admin/tickets/{numbers[0]}"' not in page.text
    # AND the label and the comment are text, never markup
    assert "<script" not in page.text
    assert "<b>Poor</b>" not in page.text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page.text


def test_the_dashboard_says_when_there_are_no_ratings_yet(staffroom: Staffroom) -> None:
    page = staffroom.signed_in().get("/admin")

    assert "No ratings yet." in page.plain
    assert "Average score" not in page.plain


def test_the_dashboard_is_two_round_trips(staffroom: Staffroom) -> None:
    browser = staffroom.signed_in()

    with count_calls() as calls:
        page = browser.get("/admin")

    assert page.status == 200
    assert calls.by_operation == {"BatchGetItem": 1, "Query": 1}


# -- every staff page's headers ------------------------------------------------------


def admin_pages() -> list[str]:
    """Every ``/admin`` route that answers GET, as the app registers them: a page added
    later is checked without anyone listing it here."""
    from app import app

    return sorted(
        path for path, methods in app.routes.items() if path.startswith("/admin") and "GET" in methods
    )


ADMIN_PAGES = admin_pages()
PARAMETER = re.compile(r"\{(\w+)\}")
# Policies that never send a page's address to another site.
STRICT_REFERRERS = ("no-referrer", "same-origin")


@pytest.fixture
def seeded(staffroom: Staffroom, desk: Desk) -> dict[str, str]:
    """A value for each path parameter of the staff pages, from a desk with one of everything;
    ``entry_id`` by setup list."""
    option = desk.created("/api/rating-options", {"label": "Great", "score": 100})["id"]
    site = desk.created("/api/sites", {"name": "Shop", "allowed_origins": ["https://shop.example"]})["id"]
    return {
        "number": str(desk.ticket("cleo")["number"]),
        "contact_id": desk.contacts["cleo"],
        "staff_id": str(staffroom.agent_api.get("/api/auth/me").data["id"]),
        "site_id": site,
        "service-levels": desk.levels["gold"],
        "categories": desk.categories["billing"],
        "statuses": desk.statuses["waiting"],
        "rating-options": option,
    }


def filled(path: str, seeded: dict[str, str]) -> str:
    """``path`` with its parameters filled in; a parameter the fixture does not seed fails
    the test by name (a KeyError), so a new kind of page cannot slip through unchecked."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        return seeded[path.split("/")[3]] if name == "entry_id" else seeded[name]

    return PARAMETER.sub(value, path)


def assert_safe_headers_and_no_inline_code(page: Page) -> None:
    policy = page.headers["Content-Security-Policy"]
    directives = {
        name: value for name, _, value in (part.strip().partition(" ") for part in policy.split(";"))
    }
    assert directives["script-src"] == "'self'"
    assert directives["default-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in policy
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["Referrer-Policy"] in STRICT_REFERRERS
    assert page.headers["Cache-Control"] == "no-store"
    # Nothing the policy would have to block: no inline script, handler or style.
    for tag in re.findall(r"<script\b[^>]*>(.*?)</script>", page.text, re.S | re.I):
        assert tag.strip() == ""
    assert re.findall(r"<script\b(?![^>]*\bsrc=)[^>]*>", page.text, re.I) == []
    assert re.findall(r"<[^>]+\son[a-z]+\s*=", page.text, re.I) == []
    assert re.findall(r"<[^>]+\sstyle\s*=", page.text, re.I) == []


def test_the_staff_pages_are_found_in_the_app() -> None:
    assert "/admin" in ADMIN_PAGES
    assert "/admin/tickets/{number}/deliveries" in ADMIN_PAGES
    assert len(ADMIN_PAGES) >= 20


@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_every_staff_page_carries_the_security_headers_and_no_inline_code(
    staffroom: Staffroom, seeded: dict[str, str], path: str
) -> None:
    page = staffroom.signed_in().get(filled(path, seeded))

    assert page.status == 200, page.text
    assert_safe_headers_and_no_inline_code(page)


@pytest.mark.parametrize(
    ("role", "path", "status"),
    [("admin", "/admin/tickets/999999", 404), ("agent", "/admin/setup/staff", 403)],
)
def test_a_refusal_page_carries_the_same_headers(
    staffroom: Staffroom, role: str, path: str, status: int
) -> None:
    page = staffroom.signed_in(role).get(path)

    assert page.status == status
    assert_safe_headers_and_no_inline_code(page)
