"""Signing in and out in a real browser, and the portal with JavaScript switched off."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.services import Login
from tests.browser.steps import raise_ticket, session_cookie, sign_in

LOGIN_PAGE = re.compile(r"/portal/login(\?next=.*)?$")


def test_signing_out_ends_the_session_so_back_and_reopening_the_portal_show_the_sign_in_page(
    open_context: Callable[..., BrowserContext], customer: Login
) -> None:
    # GIVEN the demo customer, signed in and reading their tickets
    context = open_context()
    page = context.new_page()
    sign_in(page, customer)
    page.get_by_role("navigation", name="Portal").get_by_role("link", name="Tickets").click()
    expect(page.get_by_role("heading", name="Your tickets")).to_be_visible()
    cookie = session_cookie(context)

    # WHEN they sign out
    page.get_by_role("button", name="Sign out").click()

    # THEN they are on the sign-in page, and neither the back button nor the portal's
    # address brings a signed-in page back
    expect(page).to_have_url(LOGIN_PAGE)
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    page.go_back()
    expect(page).to_have_url(re.compile(r"/portal/login\?next=/portal/tickets$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    page.goto("/portal")
    expect(page).to_have_url(LOGIN_PAGE)
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)

    # AND the old session cookie, put back in a browser, is dead on the server too
    replay = open_context()
    replay.add_cookies([{"name": cookie["name"], "value": cookie["value"], "url": page.url}])
    again = replay.new_page()
    again.goto("/portal/tickets")
    expect(again).to_have_url(LOGIN_PAGE)


def test_a_wrong_password_shows_the_error_on_the_sign_in_form_and_keeps_the_email(
    page: Page, customer: Login
) -> None:
    page.goto("/portal/login")
    page.get_by_label("Email").fill(customer.email)
    page.get_by_label("Password").fill("not the password at all")

    with page.expect_response(lambda answer: answer.request.method == "POST") as posted:
        page.get_by_role("button", name="Sign in").click()

    assert posted.value.status == 401
    expect(page.get_by_role("alert")).to_have_text("Email or password is wrong.")
    expect(page.get_by_label("Email")).to_have_value(customer.email)
    expect(page.get_by_label("Password")).to_have_value("")
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)


def test_without_javascript_a_customer_signs_in_and_raises_a_ticket(
    open_context: Callable[..., BrowserContext], customer: Login
) -> None:
    # GIVEN a browser that runs no page scripts at all
    page = open_context(java_script_enabled=False).new_page()
    page.set_content("<title>before</title><script>document.title = 'script ran'</script>")
    assert page.title() == "before"

    # WHEN the customer signs in and raises a ticket

    sign_in(page, customer)
    number = raise_ticket(page, "Paper invoice, please", "Could you post INV-1017 to me?", "Billing")

    # THEN the ticket is there, on its page and in their list
    expect(page.get_by_role("status")).to_contain_text(f"Your ticket #{number} is with us")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"#{number} Paper invoice, please")
    page.get_by_role("navigation", name="Portal").get_by_role("link", name="Tickets").click()
    expect(page.get_by_role("link", name="Paper invoice, please")).to_be_visible()
