"""The staff pages in a real browser: an agent works a demo ticket from the queue to the
delivery log, an admin gives a contact a service level their next ticket gets, an agent is
kept out of setup, two people edit one ticket at once, and every page is looked at (its
stylesheet, its width on a desktop and on a phone, a clean console) and saved as a
screenshot in ``build/screenshots/admin`` for a person to look at."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.services import Login
from tests.browser.staff_steps import (
    SCREENSHOTS,
    Looks,
    delivery_rows,
    demo_admin,
    demo_agent,
    detail,
    open_from_queue,
    outbox,
    reload_until,
    staff_nav,
    staff_sign_in,
    success,
    ticket_number,
    timeline,
    timeline_entry,
    wait_for_message,
)
from tests.browser.steps import Watch
from tests.smoke.test_local_stack import LocalStackProcess

CUSTOMER_EMAIL = "customer@example.com"
CUSTOMER_PHONE = "+14155550123"
PRIVATE_HINT = "Only staff see private notes."
PUBLIC_HINT = "The customer sees public replies and gets them by email."
FIGURE = re.compile(r"^\d+\+?$")
SETUP_SECTIONS = ["Service levels", "Categories", "Statuses", "Rating options", "Settings", "Staff", "Sites"]


@pytest.fixture(scope="module")
def agent(stack: LocalStackProcess) -> Login:
    return demo_agent(stack)


@pytest.fixture(scope="module")
def screenshots() -> Path:
    """The screenshot folder, emptied once before this module's tests write to it."""
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    (SCREENSHOTS / "phone").mkdir(parents=True)
    return SCREENSHOTS


@pytest.fixture
def looks(stack: LocalStackProcess, screenshots: Path) -> Looks:
    return Looks(stack.base, screenshots)


def test_an_agent_works_a_ticket_from_the_queue_and_only_the_public_reply_and_status_reach_the_customer(
    page: Page, stack: LocalStackProcess, agent: Login, looks: Looks
) -> None:
    # GIVEN the agent, signed in: the dashboard shows its figures
    staff_sign_in(page, agent)
    for figure in ("Open tickets", "Overdue", "Unassigned", "Mine"):
        expect(page.get_by_role("region", name=figure).locator(".amount")).to_have_text(FIGURE)
    expect(page.get_by_role("table", name="Open tickets by status")).to_contain_text("New")

    # WHEN they open a demo ticket from the queue and glance at its delivery log so far
    number = open_from_queue(page, "Order 1042 arrived damaged")
    page.get_by_role("link", name="Delivery log of notifications").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Delivery log of #{number}")
    rows = page.get_by_role("table").get_by_role("row")
    replies_before = delivery_rows(page, "Public reply", f"Email: {CUSTOMER_EMAIL}").count()
    status_mails_before = delivery_rows(page, "Status changed", f"Email: {CUSTOMER_EMAIL}").count()
    rows_before = rows.count()
    page.get_by_role("link", name=re.compile(rf"^#{number} ")).click()

    # THEN the note form starts private, and says who will see each kind of note
    private = page.get_by_label("Private note", exact=True)
    public = page.get_by_label("Public reply", exact=True)
    expect(page.get_by_role("group", name="Who sees it")).to_be_visible()
    expect(private).to_be_checked()
    expect(public).not_to_be_checked()
    expect(private).to_have_accessible_description(PRIVATE_HINT)
    expect(public).to_have_accessible_description(PUBLIC_HINT)
    expect(page.get_by_text(PRIVATE_HINT)).to_be_visible()

    # WHEN they add a private note as the form offers it
    page.get_by_label("Note", exact=True).fill("Carrier confirmed the claim CLM-88: internal only.")
    page.get_by_role("button", name="Add note").click()

    # THEN the page says only staff see it, and the form is private again
    expect(success(page)).to_have_text("Your private note is saved. Only staff see it.")
    expect(private).to_be_checked()

    # WHEN they choose a public reply and send it
    public.check()
    page.get_by_label("Note", exact=True).fill("Your new shade is on its way: tracking RS-4471.")
    page.get_by_role("button", name="Add note").click()
    expect(success(page)).to_have_text(
        "Your public reply is saved. The customer sees it and is told by email."
    )
    expect(private).to_be_checked()

    # AND change the status with the edit form
    page.get_by_label("Status", exact=True).select_option(label="Waiting on customer")
    page.get_by_role("button", name="Save changes").click()

    # THEN the ticket shows the new status
    expect(success(page)).to_have_text("The ticket is saved.")
    expect(detail(page, "Status")).to_have_text("Waiting on customer")
    expect(page.get_by_label("Status", exact=True).locator("option:checked")).to_have_text(
        "Waiting on customer"
    )

    # AND the timeline shows the two notes under different visible labels, looking different
    private_entry = timeline_entry(page, "CLM-88: internal only")
    public_entry = timeline_entry(page, "tracking RS-4471")
    expect(private_entry).to_have_count(1)
    expect(public_entry).to_have_count(1)
    expect(private_entry.locator(".author")).to_contain_text(
        re.compile(r"^\s*Private note\s+Alan Agent wrote")
    )
    expect(public_entry.locator(".author")).to_contain_text(
        re.compile(r"^\s*Public reply\s+Alan Agent wrote")
    )
    expect(private_entry.get_by_text("Private note", exact=True)).to_be_visible()
    expect(public_entry.get_by_text("Public reply", exact=True)).to_be_visible()
    backgrounds = [
        entry.evaluate("element => getComputedStyle(element).backgroundColor")
        for entry in (private_entry, public_entry)
    ]
    assert backgrounds[0] != backgrounds[1], backgrounds

    # AND the status change is the newest line, naming who made it
    expect(timeline(page).get_by_role("listitem").last).to_contain_text(
        "Alan Agent changed status from New to Waiting on customer"
    )
    looks.look(page, "ticket-worked")

    # WHEN they open the delivery log
    page.get_by_role("link", name="Delivery log of notifications").click()

    # THEN within seconds it lists the public reply's and the status change's email
    replies = delivery_rows(page, "Public reply", f"Email: {CUSTOMER_EMAIL}")
    status_mails = delivery_rows(page, "Status changed", f"Email: {CUSTOMER_EMAIL}")
    reload_until(page, replies, replies_before + 1)
    reload_until(page, status_mails, status_mails_before + 1)
    expect(replies.first.get_by_role("cell", name="Sent", exact=True)).to_be_visible()
    expect(delivery_rows(page, "Public reply", f"Text message: {CUSTOMER_PHONE}")).to_have_count(
        replies_before + 1
    )
    looks.look(page, "delivery-log-worked")

    # AND nothing else: the stream handles a ticket's changes in order, so once the later
    # reply and status change are logged the private note was handled, and it sent nothing
    expect(rows).to_have_count(rows_before + 4)

    # AND the outbox has the reply's email to the customer, and nothing with the private note
    wait_for_message(stack.base, "email", CUSTOMER_EMAIL, "tracking RS-4471")
    assert [message for message in outbox(stack.base) if "CLM-88: internal only" in message["body"]] == []


def test_a_contacts_new_default_service_level_is_given_to_their_next_ticket(page: Page, looks: Looks) -> None:
    # GIVEN the admin on the page of a demo contact without a service level of their own
    staff_sign_in(page, demo_admin())
    staff_nav(page).get_by_role("link", name="Contacts").click()
    page.get_by_role("table").get_by_role("link", name="Dev Developer").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Dev Developer")
    expect(detail(page, "Service level")).to_have_text("None of their own (new tickets get Standard)")

    # WHEN they make Urgent the contact's default service level
    page.get_by_label("Default service level").select_option(label="Urgent")
    page.get_by_role("button", name="Save changes").click()

    # THEN the contact page says so
    expect(success(page)).to_have_text("Your changes are saved.")
    expect(detail(page, "Service level")).to_have_text("Urgent")

    # WHEN they start a new ticket and choose the contact from a search
    staff_nav(page).get_by_role("link", name="New ticket").click()
    page.get_by_label("Find a contact by email or the start of their name").fill("dev@example.com")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("list", name="Contacts found").get_by_role("link", name="Choose Dev Developer").click()

    # THEN the form names the contact and comes pre-filled with their service level
    expect(page.get_by_text("whose default service level is Urgent")).to_be_visible()
    level = page.get_by_label("Service level", exact=True)
    expect(level.locator("option:checked")).to_have_text(re.compile(r"^1 · Urgent "))
    expect(level).to_have_accessible_description(
        "Pre-filled with Dev Developer\N{RIGHT SINGLE QUOTATION MARK}s default service level. "
        "Rank 1 comes first in the queue."
    )
    looks.look(page, "new-ticket-for-contact")

    # WHEN they create the ticket
    page.get_by_label("Subject").fill("Staging server certificate expired")
    page.get_by_label("First message").fill("The certificate on staging expired this morning.")
    page.get_by_role("button", name="Create ticket").click()

    # THEN the new ticket has the contact's service level
    expect(page.get_by_role("heading", level=1)).to_have_text(
        re.compile(r"^#\d+ Staging server certificate expired$")
    )
    number = ticket_number(page)
    expect(detail(page, "Service level")).to_have_text("Urgent")

    # AND the contact's page lists it with that level
    detail(page, "Customer").get_by_role("link", name="Dev Developer").click()
    row = page.get_by_role("table").get_by_role("row").filter(has_text=f"#{number}")
    expect(row.get_by_role("cell", name="Urgent", exact=True)).to_be_visible()


def test_an_agent_sees_no_setup_link_and_is_refused_every_setup_page(
    page: Page, agent: Login, looks: Looks
) -> None:
    # GIVEN the agent, signed in
    staff_sign_in(page, agent)

    # THEN the navigation has no Setup link
    expect(staff_nav(page).get_by_role("link", name="Contacts")).to_be_visible()
    expect(staff_nav(page).get_by_role("link", name="Setup")).to_have_count(0)

    # WHEN they open the setup pages by their addresses
    for path in ("/admin/setup", "/admin/setup/settings", "/admin/setup/staff", "/admin/setup/statuses"):
        response = page.goto(path)

        # THEN each is refused with the "not allowed" page and nothing of the setup
        assert response is not None
        assert response.status == 403, path
        expect(page.get_by_role("heading", level=1)).to_have_text("Not allowed")
        expect(page.get_by_role("navigation", name="Setup sections")).to_have_count(0)
    looks.look(page, "setup-refused-to-an-agent")


def test_an_edit_from_a_page_someone_else_saved_meanwhile_shows_the_current_values_and_saves_nothing(
    open_context: Callable[..., BrowserContext], agent: Login, looks: Looks
) -> None:
    # GIVEN the agent and the admin, each in their own browser, on the same ticket
    agents = open_context().new_page()
    admins = open_context().new_page()
    staff_sign_in(agents, agent)
    staff_sign_in(admins, demo_admin())
    number = open_from_queue(agents, "Question about invoice INV-1001")
    admins.goto(f"/admin/tickets/{number}")
    expect(detail(admins, "Status")).to_have_text("Customer replied")

    # WHEN the agent moves it on
    agents.get_by_label("Status", exact=True).select_option(label="In progress")
    agents.get_by_role("button", name="Save changes").click()
    expect(success(agents)).to_have_text("The ticket is saved.")

    # AND the admin, from the page they opened before, sends another status
    admins.get_by_label("Status", exact=True).select_option(label="Waiting on customer")
    with admins.expect_response(lambda answer: answer.request.method == "POST") as posted:
        admins.get_by_role("button", name="Save changes").click()

    # THEN the admin gets the "changed by someone else" page with the value now and theirs
    assert posted.value.status == 409
    expect(admins.get_by_role("heading", level=1)).to_have_text("This ticket was changed by someone else")
    expect(admins.get_by_role("alert")).to_contain_text("your change was not saved")
    status_row = admins.get_by_role("row").filter(has=admins.get_by_role("rowheader", name="Status"))
    expect(status_row.get_by_role("cell")).to_have_text(["In progress", "Waiting on customer"])
    looks.look(admins, "ticket-changed-by-someone-else")

    # AND the ticket holds the agent's status
    admins.get_by_role("link", name="Back to the ticket, keep theirs").click()
    expect(detail(admins, "Status")).to_have_text("In progress")
    expect(timeline(admins).get_by_role("listitem").last).to_contain_text(
        "Alan Agent changed status from Customer replied to In progress"
    )


def test_every_staff_page_is_styled_clean_in_the_console_not_too_wide_and_saved_as_a_screenshot(
    page: Page, stack: LocalStackProcess, looks: Looks, watch: Watch
) -> None:
    # WHEN the admin goes through every staff page, from the sign-in page on
    page.goto("/admin/login")
    looks.look(page, "login")
    staff_sign_in(page, demo_admin())
    looks.look(page, "dashboard", phone=True)
    page.get_by_role("link", name="failed notifications").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Failed notifications")
    looks.look(page, "failed-notifications")
    page.get_by_role("link", name="Dashboard", exact=True).first.click()

    open_from_queue(page, "Order 1042 arrived damaged")
    looks.look(page, "ticket", phone=True)
    page.get_by_role("link", name="Assign to someone else…").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"^Assign #\d+$"))
    looks.look(page, "assign")
    page.get_by_role("link", name="Cancel").click()
    page.get_by_role("link", name="Delivery log of notifications").click()
    looks.look(page, "delivery-log")
    staff_nav(page).get_by_role("link", name="Tickets").click()
    looks.look(page, "queue", phone=True)
    staff_nav(page).get_by_role("link", name="New ticket").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("New ticket")
    looks.look(page, "new-ticket")

    staff_nav(page).get_by_role("link", name="Contacts").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Contacts")
    looks.look(page, "contacts")
    page.get_by_role("table").get_by_role("link", name="Cleo Customer").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Cleo Customer")
    looks.look(page, "contact", phone=True)
    page.get_by_role("link", name="Statement and ledger", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Statement of Cleo Customer")
    looks.look(page, "statement")

    staff_nav(page).get_by_role("link", name="Setup").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Setup")
    looks.look(page, "setup")
    sections = page.get_by_role("navigation", name="Setup sections")
    names = [name for name in sections.get_by_role("link").all_inner_texts() if name != "Overview"]
    for name in names:
        sections.get_by_role("link", name=name, exact=True).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(name)
        looks.look(page, f"setup-{name.lower().replace(' ', '-')}")

    # AND the pages behind the setup lists: a site, an entry's edit and delete pages, a
    # staff member (the setup sections lead back from each)
    page.get_by_role("table").get_by_role("link", name="Demo shop", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Site \N{LEFT DOUBLE QUOTATION MARK}Demo shop\N{RIGHT DOUBLE QUOTATION MARK}"
    )
    looks.look(page, "setup-site")
    sections.get_by_role("link", name="Service levels", exact=True).click()
    page.get_by_role("link", name="Edit Urgent", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Edit service level")
    looks.look(page, "setup-entry-edit")
    page.get_by_role("link", name="Delete this service level").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Delete the service level \N{LEFT DOUBLE QUOTATION MARK}Urgent\N{RIGHT DOUBLE QUOTATION MARK}?"
    )
    looks.look(page, "setup-entry-delete")
    sections.get_by_role("link", name="Staff", exact=True).click()
    page.get_by_role("table").get_by_role("link", name="Alan Agent", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Edit staff member")
    looks.look(page, "setup-staff-member")

    # THEN every page had its stylesheet, fitted the screen, and left the console clean
    assert looks.unstyled == {}
    assert looks.too_wide == {}
    assert watch.problems == []

    # AND each page is saved as a screenshot
    assert names == SETUP_SECTIONS
    assert sorted(looks.shots) == sorted(
        [
            "login",
            "dashboard",
            "failed-notifications",
            "ticket",
            "assign",
            "delivery-log",
            "queue",
            "new-ticket",
            "contacts",
            "contact",
            "statement",
            "setup",
            *(f"setup-{name.lower().replace(' ', '-')}" for name in names),
            "setup-site",
            "setup-entry-edit",
            "setup-entry-delete",
            "setup-staff-member",
        ]
    )
    empty = [name for name, path in looks.shots.items() if not path.is_file() or not path.stat().st_size]
    assert empty == []
