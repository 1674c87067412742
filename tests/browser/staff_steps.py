"""Steps a staff member takes on the ``/admin`` pages, through the page as a person sees it
(labels, roles and headings), and how the staff tests look at a page: its stylesheet, its
width on a desktop and on a phone, and a full-page screenshot for a person to look at."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.sync_api import Locator, Page, ViewportSize, expect

from tests.browser.services import Login
from tests.browser.steps import DESKTOP
from tests.smoke.test_local_stack import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    EVENT_TIMEOUT,
    PROJECT_DIR,
    LocalStackProcess,
    call,
)

SCREENSHOTS = PROJECT_DIR / "build" / "screenshots" / "admin"
PHONE: ViewportSize = {"width": 390, "height": 844}
# The banner's line for the demo agent: role, email, the password it was given.
AGENT_LINE = re.compile(r"^\s+agent\s+(?P<email>\S+@\S+)\s+(?P<password>\S+)$")
TICKET_PAGE = re.compile(r"/admin/tickets/(\d+)(?:\?[^#]*)?(?:#latest)?$")
# The page background the stylesheet sets (--page): the browser's own default is white.
STYLED_BACKGROUND = "rgb(244, 246, 249)"
SHEETS = "[...document.styleSheets].map(sheet => [sheet.href, sheet.cssRules.length])"
WIDTHS = "[document.documentElement.scrollWidth, window.innerWidth]"


def demo_admin() -> Login:
    """The admin the stack was started with (the conftest passes the login in its env)."""
    return Login(ADMIN_EMAIL, ADMIN_PASSWORD)


def demo_agent(stack: LocalStackProcess) -> Login:
    """The demo agent's login, read from the banner the stack printed."""
    for line in stack.lines:
        found = AGENT_LINE.match(line)
        if found:
            return Login(found["email"], found["password"])
    raise AssertionError("the banner names no demo agent:\n" + stack.output())


def staff_sign_in(page: Page, login: Login) -> None:
    """Sign in on the staff sign-in page and land on the dashboard."""
    page.goto("/admin/login")
    page.get_by_label("Email").fill(login.email)
    page.get_by_label("Password").fill(login.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")


def staff_nav(page: Page) -> Locator:
    return page.get_by_role("navigation", name="Staff")


def open_from_queue(page: Page, subject: str) -> int:
    """Open the queue from the navigation and the ticket with ``subject`` from it; its number."""
    staff_nav(page).get_by_role("link", name="Tickets").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Tickets")
    page.get_by_role("table").get_by_role("link", name=subject, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(rf"^#\d+ {re.escape(subject)}$"))
    return ticket_number(page)


def ticket_number(page: Page) -> int:
    """The number of the ticket page the browser is on."""
    found = TICKET_PAGE.search(page.url)
    assert found, page.url
    return int(found.group(1))


def detail(page: Page, term: str) -> Locator:
    """The value a page's details list gives for ``term`` (the ``dd`` after its ``dt``)."""
    return page.locator("dl.details dt", has_text=re.compile(rf"^{re.escape(term)}$")).locator("+ dd")


def timeline(page: Page) -> Locator:
    return page.get_by_role("list", name="Timeline of the ticket")


def timeline_entry(page: Page, text: str) -> Locator:
    """The one timeline entry holding ``text``."""
    return timeline(page).get_by_role("listitem").filter(has_text=text)


def success(page: Page) -> Locator:
    """The note a page shows after a change went through."""
    return page.get_by_role("status")


def delivery_rows(page: Page, message: str, to: str) -> Locator:
    """Rows of the delivery log for one kind of message to one address ("Email: a@b.c")."""
    rows = page.get_by_role("table").get_by_role("row")
    return rows.filter(has=page.get_by_role("cell", name=message, exact=True)).filter(
        has=page.get_by_role("cell", name=to, exact=True)
    )


def reload_until(page: Page, rows: Locator, count: int, timeout: float = EVENT_TIMEOUT) -> None:
    """Reload the page until ``rows`` has ``count`` elements: the stream handler writes the
    delivery log a moment after the change, and the page is server-rendered."""
    deadline = time.monotonic() + timeout
    while rows.count() != count:
        if time.monotonic() > deadline:
            raise AssertionError(f"{rows} had {rows.count()} rows, not {count}, after {timeout}s")
        time.sleep(0.25)
        page.reload()


def outbox(base: str) -> list[dict[str, Any]]:
    """Every email and text message the local SES and SNS have sent, newest first."""
    status, _, body = call("GET", f"{base}/dev/outbox.json")
    assert status == 200, body
    return list(body["items"])


def wait_for_message(base: str, channel: str, to: str, text: str, timeout: float = EVENT_TIMEOUT) -> None:
    """Poll the outbox until a message on ``channel`` to ``to`` holds ``text``."""
    deadline = time.monotonic() + timeout
    while not [
        message
        for message in outbox(base)
        if (message["channel"], message["to"]) == (channel, to) and text in message["body"]
    ]:
        if time.monotonic() > deadline:
            raise AssertionError(f"no {channel} to {to} with {text!r} within {timeout}s")
        time.sleep(0.25)


@dataclass
class Looks:
    """Looks at staff pages and notes what is wrong, so one run shows it all: a page without
    its stylesheet, or wider than the screen (on a desktop, and on a phone where asked).
    Each page is saved as a full-page desktop screenshot in ``build/screenshots/admin``."""

    base: str
    folder: Path = SCREENSHOTS
    shots: dict[str, Path] = field(default_factory=dict)
    unstyled: dict[str, object] = field(default_factory=dict)
    too_wide: dict[str, list[int]] = field(default_factory=dict)

    def look(self, page: Page, name: str, *, phone: bool = False) -> Path:
        sheets = page.evaluate(SHEETS)
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        if len(sheets) != 1 or sheets[0][0] != f"{self.base}/assets/helpdesk.css" or not sheets[0][1]:
            self.unstyled[name] = sheets
        elif background != STYLED_BACKGROUND:
            self.unstyled[name] = background

        for size, viewport in (("desktop", DESKTOP), ("phone", PHONE)) if phone else (("desktop", DESKTOP),):
            page.set_viewport_size(viewport)
            scroll_width, inner_width = page.evaluate(WIDTHS)
            if scroll_width > inner_width:
                self.too_wide[f"{name} ({size})"] = [scroll_width, inner_width]
            if phone:
                page.screenshot(path=self.folder / "phone" / f"{name}.png", full_page=True)
        page.set_viewport_size(DESKTOP)

        path = self.folder / f"{name}.png"
        page.screenshot(path=path, full_page=True)
        self.shots[name] = path
        return path
