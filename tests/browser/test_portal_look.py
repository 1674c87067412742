"""Every portal page in a real browser, on a desktop and on a phone: styled by its own
stylesheet, without a console message or script error, no wider than a phone's screen,
and saved as a full-page screenshot for a person to look at (``build/screenshots/portal``)."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import BrowserContext, Page, ViewportSize, expect

from tests.browser.services import Login, StaffApi, emailed_link
from tests.browser.steps import DESKTOP, Watch, confirm, open_confirmation, raise_ticket, register, sign_in
from tests.smoke.test_local_stack import PROJECT_DIR, LocalStackProcess

SCREENSHOTS = PROJECT_DIR / "build" / "screenshots" / "portal"
PHONE: ViewportSize = {"width": 390, "height": 844}
SIZES = {"desktop": DESKTOP, "phone": PHONE}
# The page background the stylesheet sets (--page): the browser's own default is white.
STYLED_BACKGROUND = "rgb(244, 246, 249)"
SHEETS = "[...document.styleSheets].map(sheet => [sheet.href, sheet.cssRules.length])"
WIDTHS = "[document.documentElement.scrollWidth, window.innerWidth]"
INVITED = "ivy.invite@example.com"


@dataclass
class Tour:
    """Looks at each page at both sizes and notes what is wrong, so one run shows it all."""

    page: Page
    base: str
    shots: list[Path] = field(default_factory=list)
    unstyled: dict[str, object] = field(default_factory=dict)
    too_wide: dict[str, list[int]] = field(default_factory=dict)

    def look(self, name: str) -> None:
        sheets = self.page.evaluate(SHEETS)
        background = self.page.evaluate("getComputedStyle(document.body).backgroundColor")
        if len(sheets) != 1 or sheets[0][0] != f"{self.base}/assets/helpdesk.css" or not sheets[0][1]:
            self.unstyled[name] = sheets
        elif background != STYLED_BACKGROUND:
            self.unstyled[name] = background

        for size, viewport in SIZES.items():
            self.page.set_viewport_size(viewport)
            scroll_width, inner_width = self.page.evaluate(WIDTHS)
            if scroll_width > inner_width:
                self.too_wide[f"{name} ({size})"] = [scroll_width, inner_width]
            path = SCREENSHOTS / f"{name}-{size}.png"
            self.page.screenshot(path=path, full_page=True)
            self.shots.append(path)
        self.page.set_viewport_size(DESKTOP)


@contextmanager
def portal_switched_off(staff: StaffApi) -> Iterator[None]:
    """The portal off in the settings for the block, and on again after it whatever happens:
    the stack is shared by the whole browser tier."""
    settings = staff.get("/api/settings")
    staff.send("PUT", "/api/settings", {**settings, "portal_enabled": False})
    try:
        yield
    finally:
        settings = staff.get("/api/settings")
        staff.send("PUT", "/api/settings", {**settings, "portal_enabled": True})


def test_every_portal_page_is_styled_clean_in_the_console_fits_a_phone_and_is_saved_as_a_screenshot(
    open_context: Callable[..., BrowserContext],
    stack: LocalStackProcess,
    customer: Login,
    staff: StaffApi,
    watch: Watch,
) -> None:
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    page = open_context().new_page()
    tour = Tour(page, stack.base)
    newcomer = Login("lena.look@example.com", "looking at every page")

    # WHEN a visitor goes through the pages before sign-in, registering on the way
    page.goto("/portal/login")
    tour.look("login")
    page.get_by_role("link", name="Forgotten your password?").click()
    expect(page.get_by_role("heading", name="Forgotten password")).to_be_visible()
    tour.look("password-reset")
    page.goto("/portal/register")
    tour.look("register")
    register(page, "Lena Look", newcomer)
    tour.look("check-email")
    open_confirmation(page, stack.base, newcomer)
    tour.look("confirm")
    confirm(page, "Lena Look", newcomer)

    # AND, signed in, raises a ticket that the staff close: its page asks for a rating
    number = raise_ticket(page, "Looking at a closed ticket", "Please close this one.")
    staff.close(number)
    page.reload()
    expect(page.get_by_role("heading", name="How did we do?")).to_be_visible()
    tour.look("ticket-closed")
    page.goto("/portal/tickets/987654")
    expect(page.get_by_role("heading", level=1)).to_have_text("Not found")
    tour.look("not-found")
    # A failure page shows no portal navigation: sign out from the overview.
    page.goto("/portal")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")

    # AND asks for a new password, and opens the emailed link
    page.goto("/portal/password-reset")
    page.get_by_label("Email").fill(newcomer.email)
    page.get_by_role("button", name="Send me a link").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    page.goto(emailed_link(stack.base, newcomer.email, "/portal/password-reset/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Choose a new password")
    tour.look("set-password-reset")

    # AND a contact the staff invite opens the link of their invitation
    invited = staff.send("POST", "/api/contacts", {"name": "Ivy Invite", "email": INVITED}, expect=201)
    staff.send("POST", f"/api/contacts/{invited['id']}/portal-invite", {}, expect=202)
    page.goto(emailed_link(stack.base, INVITED, "/portal/invite/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Set your password")
    tour.look("set-password-invite")

    # AND, while the portal is switched off, a visitor sees only that
    with portal_switched_off(staff):
        page.goto("/portal")
        expect(page.get_by_role("heading", level=1)).to_have_text("Portal not available")
        tour.look("portal-off")

    # AND the demo customer, who has tickets and a statement, goes through the rest
    sign_in(page, customer)
    tour.look("overview")
    portal = page.get_by_role("navigation", name="Portal")
    portal.get_by_role("link", name="Tickets").click()
    tour.look("tickets")
    page.get_by_role("table").get_by_role("link").first.click()
    expect(page.get_by_role("list", name="Conversation")).to_be_visible()
    tour.look("ticket")
    page.goto("/portal/tickets/new")
    expect(page.get_by_role("heading", name="New ticket")).to_be_visible()
    tour.look("new-ticket")
    portal.get_by_role("link", name="Account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your account")
    tour.look("account")
    portal.get_by_role("link", name="Statement").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Statement")
    tour.look("statement")

    # THEN every page had its stylesheet, fitted a phone, and left the console clean
    assert tour.unstyled == {}
    assert tour.too_wide == {}
    assert watch.problems == []

    # AND each page is saved at both sizes
    assert len(tour.shots) == 32
    assert [path.name for path in tour.shots if not path.is_file() or path.stat().st_size == 0] == []
