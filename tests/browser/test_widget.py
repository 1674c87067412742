"""The website widget in a real browser, embedded in a merchant's page served from another
local port (another origin than the helpdesk's), as a website owner pastes the snippet.

A visitor on a page whose origin the site lists raises a ticket that staff then see, and is
emailed a confirmation; a page from an origin the site does not list is refused and raises
nothing. The floating button opens and closes the form, and a host page's heavy-handed CSS
does not reach the form. Screenshots go to ``build/screenshots/widget``.
"""

from __future__ import annotations

import re
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from chalicelib.domain import embed
from tests.browser.services import StaffApi, emailed_link
from tests.browser.steps import FAILED_LOAD, Watch
from tests.smoke.test_local_stack import EVENT_TIMEOUT, PROJECT_DIR, LocalStackProcess, call

SCREENSHOTS = PROJECT_DIR / "build" / "screenshots" / "widget"
WIDGET_TITLE = "Contact support"
INK = "rgb(29, 36, 48)"  # the widget's text colour (#1d2430)
# A host page that styles everything, hard: none of it may reach the widget's form.
HOSTILE_CSS = """
* { color: red !important; font-size: 40px !important; font-family: serif !important; }
html { font-size: 62.5% !important; }
input, textarea, label, button { display: none !important; }
div { padding: 30px !important; border: 5px dashed red !important; }
h2 { text-transform: uppercase !important; }
"""
# What Chromium logs when a page's fetch is refused for want of CORS headers.
CORS_REFUSAL = re.compile(r"blocked by CORS policy|Failed to load resource: net::ERR_FAILED")


# -- the merchant's website: a tiny server on its own port --------------------------


class _Server(ThreadingHTTPServer):
    pages: dict[str, str]


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        body = self.server.pages.get(self.path.split("?", 1)[0])
        status = HTTPStatus.OK if body is not None else HTTPStatus.NOT_FOUND
        data = (body or "not found").encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: pytest shows the test's own output, not every request."""


class Website:
    """A merchant's website on 127.0.0.1 and a port of its own: to the browser, an origin
    other than the helpdesk's, as a real shop's domain would be."""

    def __init__(self) -> None:
        self.server = _Server(("127.0.0.1", 0), _Handler)
        self.server.pages = {}
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def publish(self, path: str, html: str) -> str:
        """Serve ``html`` at ``path``; the page's address."""
        self.server.pages[path] = html
        return f"{self.origin}{path}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(5)


def shop_page(
    stack: LocalStackProcess, site_key: str, *, mode: str = "", css: str = "", category: str = ""
) -> str:
    """A shop's help page carrying the snippet from the admin's sites page."""
    mode_attribute = f' data-mode="{mode}"' if mode else ""
    mode_attribute += f' data-category="{category}"' if category else ""
    style = f"<style>{css}</style>" if css else ""
    return f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Corner shop · help</title>
  <link rel="icon" href="data:,">
  {style}
</head>
<body>
  <h1>Corner shop</h1>
  <h2 id="shop-heading">Questions about your order?</h2>
  <p id="shop-text">Our team answers within a day.</p>
  <script src="{stack.base}/embed/v1/widget.js" data-site-key="{site_key}"{mode_attribute} async></script>
  <p>Thank you for shopping with us.</p>
</body>
</html>"""


@pytest.fixture(scope="module")
def shop() -> Iterator[Website]:
    """The website the site lists as an allowed origin."""
    website = Website()
    yield website
    website.stop()


@pytest.fixture(scope="module")
def stranger() -> Iterator[Website]:
    """Another website, on another port, that the site does not list."""
    website = Website()
    yield website
    website.stop()


@pytest.fixture(scope="module")
def site(staff: StaffApi, shop: Website) -> dict[str, Any]:
    """The shop's site, added by the admin through ``/api/sites`` with the shop's origin."""
    body = {"name": "Corner shop", "allowed_origins": [shop.origin]}
    created: dict[str, Any] = staff.send("POST", "/api/sites", body, expect=201)
    return created


@pytest.fixture(scope="module", autouse=True)
def screenshots() -> None:
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    SCREENSHOTS.mkdir(parents=True)


# -- steps ------------------------------------------------------------------------


def open_shop_page(page: Page, url: str, stack: LocalStackProcess) -> float:
    """Open the page and wait for the widget to fetch its form token; when it came."""
    with page.expect_response(lambda answer: answer.url.startswith(f"{stack.base}/embed/v1/form-token")):
        page.goto(url)
    return time.monotonic()


def fill_in(page: Page, name: str, email: str, subject: str, body: str) -> None:
    page.get_by_label("Your name").fill(name)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Subject").fill(subject)
    page.get_by_label("How can we help?").fill(body)


def wait_like_a_person(page: Page, since: float) -> None:
    """Wait until the form has been open just past the widget's minimum fill time."""
    left = embed.MIN_FILL_SECONDS + 0.2 - (time.monotonic() - since)
    if left > 0:
        page.wait_for_timeout(left * 1000)


def newest_ticket(staff: StaffApi) -> dict[str, Any] | None:
    items = staff.get("/api/tickets?order=newest&limit=1")["items"]
    return items[0] if items else None


def newest_number(staff: StaffApi) -> int | None:
    newest = newest_ticket(staff)
    return int(newest["number"]) if newest else None


def outbox_message(base: str, to: str, timeout: float = EVENT_TIMEOUT) -> dict[str, Any]:
    """The first email to ``to`` in the local outbox, polling until it comes."""
    deadline = time.monotonic() + timeout
    while True:
        status, _, outbox = call("GET", f"{base}/dev/outbox.json")
        assert status == 200, outbox
        found = [item for item in outbox["items"] if item["channel"] == "email" and item["to"] == to]
        if found:
            return dict(found[0])
        assert time.monotonic() < deadline, f"no email to {to} within {timeout}s"
        time.sleep(0.2)


def forgive_refused_posts(watch: Watch, base: str, status: int) -> list[str]:
    """Take Chromium's notes of the widget's posts answered ``status`` (a refusal the test
    expects) out of the problems the console showed, leaving any other problem in place."""
    notes = [
        problem
        for problem in watch.problems
        if f"at {base}/embed/v1/tickets:" in problem and f"{FAILED_LOAD} {status}" in problem
    ]
    watch.problems[:] = [problem for problem in watch.problems if problem not in notes]
    return notes


def forgive_cors_refusals(watch: Watch, base: str) -> list[str]:
    """Take the CORS refusals of the widget's calls to ``base`` out of the problems the
    console showed (the test expects them), leaving any other problem in place."""
    refusals = [
        problem
        for problem in watch.problems
        if CORS_REFUSAL.search(problem) and f"{base}/embed/v1/" in problem
    ]
    watch.problems[:] = [problem for problem in watch.problems if problem not in refusals]
    return refusals


# -- the tests --------------------------------------------------------------------


def test_a_visitor_on_a_listed_site_raises_a_ticket_that_staff_see_and_is_emailed_a_confirmation(
    page: Page, stack: LocalStackProcess, staff: StaffApi, shop: Website, site: dict[str, Any]
) -> None:
    # GIVEN the shop's page with the snippet, on the origin the site lists
    url = shop.publish("/help", shop_page(stack, site["public_key"]))
    opened = open_shop_page(page, url, stack)
    expect(page.get_by_role("heading", name=WIDGET_TITLE)).to_be_visible()
    expect(page.get_by_label("Phone (optional)")).to_be_visible()
    page.screenshot(path=SCREENSHOTS / "inline-form.png", full_page=True)

    # WHEN a visitor fills in the form, taking the time a person takes, and sends it
    fill_in(page, "Wanda Widget", "wanda.widget@example.com", "Parcel never came", "Order 4411, sent May 2.")
    wait_like_a_person(page, opened)
    page.get_by_role("button", name="Send").click()

    # THEN the widget thanks them with their ticket's number, and the form is gone
    status = page.get_by_role("status")
    expect(status).to_contain_text(re.compile(r"Your ticket number is \d+\."))
    expect(status).to_contain_text(embed.THANKS)
    expect(page.get_by_label("Your name")).to_be_hidden()
    page.screenshot(path=SCREENSHOTS / "inline-success.png", full_page=True)
    found = re.search(r"Your ticket number is (\d+)\.", status.inner_text())
    assert found
    number = int(found.group(1))

    # AND staff see the ticket at the top of the queue, raised from the website
    ticket = newest_ticket(staff)
    assert ticket is not None
    assert (ticket["number"], ticket["source"], ticket["subject"]) == (number, "website", "Parcel never came")
    assert ticket["created_by"] == f"site:{site['id']}"
    contact = staff.get(f"/api/contacts/{ticket['contact_id']}")
    assert (contact["name"], contact["email"]) == ("Wanda Widget", "wanda.widget@example.com")

    # AND the confirmation is in the outbox, with a link that shows just that ticket
    message = outbox_message(stack.base, "wanda.widget@example.com")
    assert f"[Ticket {number}]" in message["subject"]
    page.goto(emailed_link(stack.base, "wanda.widget@example.com", "/t/"))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"#{number} Parcel never came")


def test_a_field_the_helpdesk_refuses_is_marked_and_the_corrected_ticket_takes_the_snippets_category(
    page: Page, watch: Watch, stack: LocalStackProcess, staff: StaffApi, shop: Website, site: dict[str, Any]
) -> None:
    # GIVEN a shop page whose snippet names a category (the site itself has no default one)
    billing = next(item for item in staff.get("/api/categories")["items"] if item["name"] == "Billing")
    url = shop.publish("/help-billing", shop_page(stack, site["public_key"], category=billing["id"]))
    opened = open_shop_page(page, url, stack)

    # WHEN a visitor sends a phone number that the helpdesk cannot read
    fill_in(
        page, "Bea Billing", "bea.billing@example.com", "Charged twice", "Invoice 7781 was charged twice."
    )
    phone = page.get_by_label("Phone (optional)")
    phone.fill("12")
    wait_like_a_person(page, opened)
    page.get_by_role("button", name="Send").click()

    # THEN the widget reads the helpdesk's refusal and marks that field with its message
    expect(page.get_by_role("status")).to_have_text("Please check the marked field.")
    expect(phone).to_have_attribute("aria-invalid", "true")
    expect(phone).to_have_accessible_description(re.compile(r"^Must be .*international form"))
    expect(phone).to_be_focused()
    page.screenshot(path=SCREENSHOTS / "field-refused.png", full_page=True)

    # WHEN they correct it and send again
    phone.fill("+1 415 555 0188")
    page.get_by_role("button", name="Send").click()

    # THEN the ticket is raised, in the category the snippet names, with the phone number
    status = page.get_by_role("status")
    expect(status).to_contain_text(re.compile(r"Your ticket number is \d+\."))
    found = re.search(r"Your ticket number is (\d+)\.", status.inner_text())
    assert found
    ticket = staff.get(f"/api/tickets/{found.group(1)}")
    assert (ticket["subject"], ticket["category_id"]) == ("Charged twice", billing["id"])
    assert staff.get(f"/api/contacts/{ticket['contact_id']}")["phone"] == "+14155550188"

    # AND the only console line is Chromium's note of the refused post
    assert len(forgive_refused_posts(watch, stack.base, 422)) == 1


def test_the_local_demo_page_embeds_a_working_form_with_the_demo_sites_key(
    page: Page, stack: LocalStackProcess, staff: StaffApi, site: dict[str, Any]
) -> None:
    # GIVEN the seeded demo site, and a site an admin added whose name sorts before it
    demo = next(item for item in staff.get("/api/sites")["items"] if item["name"] == "Demo shop")
    assert site["name"] < demo["name"]

    # WHEN someone opens the demo page of the local stack
    with page.expect_response(lambda answer: "/embed/v1/form-token" in answer.url) as token:
        page.goto(f"{stack.base}/embed/v1/demo")

    # THEN it embeds the demo site's key, not the admin's site's, and the form is ready
    assert token.value.status == 200
    assert page.locator("script[data-site-key]").get_attribute("data-site-key") == demo["public_key"]
    expect(page.get_by_role("heading", name=WIDGET_TITLE)).to_be_visible()
    expect(page.get_by_role("button", name="Send")).to_be_visible()
    expect(page.get_by_role("status")).to_have_text("")


def test_a_page_from_an_origin_the_site_does_not_list_is_refused_and_raises_no_ticket(
    page: Page,
    watch: Watch,
    stack: LocalStackProcess,
    staff: StaffApi,
    stranger: Website,
    site: dict[str, Any],
) -> None:
    # GIVEN the same snippet, copied onto a page of a website the site does not list
    before = newest_number(staff)
    url = stranger.publish("/copied", shop_page(stack, site["public_key"]))

    # WHEN a visitor opens it
    page.goto(url)

    # THEN the form says it is not available (the helpdesk gave that origin no form token)
    status = page.get_by_role("status")
    expect(status).to_have_text("The support form is not available right now.")

    # AND it offers no form that could only fail
    expect(page.get_by_role("button", name="Send")).to_be_hidden()
    page.screenshot(path=SCREENSHOTS / "refused-origin.png", full_page=True)

    # WHEN a script on that page posts a ticket anyway, with the key from the snippet
    outcome = page.evaluate(
        """async ([endpoint, key]) => {
            try {
                const answer = await fetch(endpoint, {
                    method: "POST",
                    headers: {"Content-Type": "application/json", "X-Helpdesk-Site-Key": key},
                    body: JSON.stringify({name: "Ivan Intruder", email: "ivan@example.com",
                                          subject: "From a copied page", body: "Should not arrive.",
                                          form_token: "0.0"}),
                });
                return "answered " + answer.status;
            } catch (refused) {
                return "refused";
            }
        }""",
        [f"{stack.base}/embed/v1/tickets", site["public_key"]],
    )

    # THEN the browser refuses it (no CORS answer for that origin), and no ticket was raised
    assert outcome == "refused"
    assert newest_number(staff) == before

    # AND the only console messages are the browser's CORS refusals of the helpdesk's answers
    refusals = forgive_cors_refusals(watch, stack.base)
    assert any("/embed/v1/form-token" in refusal for refusal in refusals), refusals
    assert any("/embed/v1/tickets" in refusal for refusal in refusals), refusals


def test_the_floating_button_opens_the_form_and_escape_closes_it_keeping_aria_expanded_right(
    page: Page, stack: LocalStackProcess, shop: Website, site: dict[str, Any]
) -> None:
    # GIVEN the shop's page with the snippet in button mode
    url = shop.publish("/help-button", shop_page(stack, site["public_key"], mode="button"))
    open_shop_page(page, url, stack)
    opener = page.get_by_role("button", name=WIDGET_TITLE)
    name = page.get_by_label("Your name")

    # THEN only the button shows, closed
    expect(opener).to_have_attribute("aria-expanded", "false")
    expect(name).to_be_hidden()
    page.screenshot(path=SCREENSHOTS / "button-closed.png")

    # WHEN the visitor presses it, THEN the form opens with the first field focused
    opener.click()
    expect(opener).to_have_attribute("aria-expanded", "true")
    expect(name).to_be_visible()
    expect(name).to_be_focused()
    page.screenshot(path=SCREENSHOTS / "button-open.png")

    # WHEN they press Escape in the form, THEN it closes and the focus is back on the button
    page.keyboard.press("Escape")
    expect(opener).to_have_attribute("aria-expanded", "false")
    expect(name).to_be_hidden()
    expect(opener).to_be_focused()

    # WHEN they press the button twice, THEN it opens and closes again
    page.keyboard.press("Enter")
    expect(opener).to_have_attribute("aria-expanded", "true")
    expect(name).to_be_visible()
    opener.click()
    expect(opener).to_have_attribute("aria-expanded", "false")
    expect(name).to_be_hidden()


def test_the_host_pages_aggressive_css_does_not_reach_the_widget(
    open_context: Callable[..., BrowserContext], stack: LocalStackProcess, shop: Website, site: dict[str, Any]
) -> None:
    # GIVEN a host page whose stylesheet restyles everything with !important
    page = open_context().new_page()
    url = shop.publish("/loud", shop_page(stack, site["public_key"], css=HOSTILE_CSS))
    open_shop_page(page, url, stack)
    name = page.get_by_label("Your name")

    # THEN the page's own text takes that styling
    shop_text = page.locator("#shop-text")
    expect(shop_text).to_have_css("color", "rgb(255, 0, 0)")
    expect(shop_text).to_have_css("font-size", "40px")

    # AND the widget's fields, labels, heading and button keep the widget's own
    expect(name).to_be_visible()
    expect(name).to_have_css("display", "block")
    expect(name).to_have_css("font-size", "16px")
    expect(name).to_have_css("color", INK)
    label = page.get_by_text("Your name", exact=True)
    expect(label).to_have_css("color", INK)
    expect(label).to_have_css("font-size", "16px")
    heading = page.get_by_role("heading", name=WIDGET_TITLE)
    expect(heading).to_have_css("font-size", "18.4px")  # 1.15 times the widget's 16px
    expect(heading).to_have_css("text-transform", "none")
    expect(page.get_by_role("button", name="Send")).to_have_css("background-color", "rgb(31, 95, 191)")
    expect(page.get_by_label("How can we help?")).to_be_visible()
    page.screenshot(path=SCREENSHOTS / "hostile-css.png", full_page=True)

    # AND the widget's styles do not reach the page: the page's heading keeps the page's look
    expect(page.locator("#shop-heading")).to_have_css("font-size", "40px")
    expect(page.locator("#shop-heading")).to_have_css("text-transform", "uppercase")
