"""Steps a customer takes in the portal, through the page as a person sees it (labels, roles
and headings), and the watch that keeps every console message and script error."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from playwright.sync_api import (
    BrowserContext,
    ConsoleMessage,
    Cookie,
    Page,
    Response,
    ViewportSize,
    WebError,
    expect,
)

from tests.browser.services import Login, emailed_link

DESKTOP: ViewportSize = {"width": 1280, "height": 800}
CREATED = re.compile(r"/portal/tickets/(\d+)\?created=1$")
# Console levels Chromium uses for hints about the markup, not for failures.
ADVICE = ("verbose", "debug")
TOKEN = re.compile(r"/[^/]{20,}$")
# What Chromium logs for a page answered with an error status; the tests assert those statuses.
FAILED_LOAD = "Failed to load resource: the server responded with a status of"


@dataclass
class Watch:
    """Console messages and uncaught script errors of every page of the contexts it watches.

    A page answered on purpose with 401 or 404 makes Chromium log a failed load of that page;
    that one line is expected. Any other error, warning or log line (a blocked stylesheet, a
    CSP violation, a missing icon, a script error) is a problem. Chromium's verbose hints
    ("[DOM] ...") are advice about the markup: kept apart, for a person to read."""

    problems: list[str] = field(default_factory=list)
    advice: set[str] = field(default_factory=set)
    documents: set[str] = field(default_factory=set)

    def attach(self, context: BrowserContext) -> None:
        context.on("response", self._response)
        context.on("console", self._console)
        context.on("weberror", self._error)

    def _response(self, response: Response) -> None:
        if response.request.resource_type == "document":
            self.documents.add(response.url)

    def _console(self, message: ConsoleMessage) -> None:
        url = message.location.get("url", "")
        if message.text.startswith(FAILED_LOAD) and url in self.documents:
            return
        if message.type in ADVICE:
            # Once per page, not per link token: /portal/register/confirm/<token> is one page.
            self.advice.add(f"{TOKEN.sub('/…', urlsplit(url).path)}: {message.text}")
            return
        self.problems.append(f"console {message.type} at {url}: {message.text}")

    def _error(self, error: WebError) -> None:
        self.problems.append(f"page error: {error.error}")


def sign_in(page: Page, login: Login) -> None:
    """Sign in from the login page and land on the overview."""
    page.goto("/portal/login")
    page.get_by_label("Email").fill(login.email)
    page.get_by_label("Password").fill(login.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"^Hello, "))


def register(page: Page, name: str, login: Login) -> None:
    """Fill in the registration form; the portal answers "check your email"."""
    page.goto("/portal/register")
    page.get_by_label("Your name").fill(name)
    page.get_by_label("Email").fill(login.email)
    page.get_by_label("Password").fill(login.password)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()


def open_confirmation(page: Page, base: str, login: Login) -> None:
    """Open the link of the confirmation email, as the customer would from their mailbox."""
    page.goto(emailed_link(base, login.email, "/portal/register/confirm/"))
    expect(page.get_by_role("heading", name="Confirm your account")).to_be_visible()


def confirm(page: Page, name: str, login: Login) -> None:
    """Confirm with the password chosen at registration: signed in, on the overview."""
    page.get_by_label("Password").fill(login.password)
    page.get_by_role("button", name="Confirm and sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Hello, {name}")


def register_and_confirm(page: Page, base: str, name: str, login: Login) -> None:
    register(page, name, login)
    open_confirmation(page, base, login)
    confirm(page, name, login)


def raise_ticket(page: Page, subject: str, body: str, category: str | None = None) -> int:
    """Send the new-ticket form; the number the portal gives the ticket."""
    page.goto("/portal/tickets/new")
    page.get_by_label("Subject").fill(subject)
    if category:
        page.get_by_label("Category").select_option(label=category)
    page.get_by_label("How can we help?").fill(body)
    page.get_by_role("button", name="Send ticket").click()
    expect(page).to_have_url(CREATED)
    found = CREATED.search(page.url)
    assert found, page.url
    return int(found.group(1))


def session_cookie(context: BrowserContext) -> Cookie:
    """The portal's session cookie as the browser keeps it (``make run`` serves plain HTTP, so
    the name has no ``__Host-`` prefix)."""
    cookies = [cookie for cookie in context.cookies() if cookie.get("name") == "hd_portal"]
    assert len(cookies) == 1, context.cookies()
    return cookies[0]
