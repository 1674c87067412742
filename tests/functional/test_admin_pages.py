"""The staff pages' frame: sign-in, sessions that are API tokens, CSRF, roles, and the
dashboard's figures."""

from __future__ import annotations

import pytest
from chalice.test import Client

from chalicelib.domain import staff
from tests.bench.counting import count_calls
from tests.functional.admin_fixtures import ADMIN_EMAIL, Staffroom, staff_sign_in, staffroom
from tests.functional.browsing import Browser
from tests.functional.conftest import ADMIN_PASSWORD
from tests.functional.desk import Desk, MovableClock
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


def test_the_dashboard_is_two_round_trips(staffroom: Staffroom) -> None:
    browser = staffroom.signed_in()

    with count_calls() as calls:
        page = browser.get("/admin")

    assert page.status == 200
    assert calls.by_operation == {"BatchGetItem": 1, "Query": 1}
