"""The staff queue (``/admin/tickets``): filters, orders, cursor pages and the find box; and
``/admin/tickets/new``: choosing or creating a contact, their default service level, the
first note, and nothing written for a bad field."""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest

from tests.bench.counting import count_calls
from tests.functional.admin_fixtures import Staffroom, add_staff, staffroom
from tests.functional.browsing import Browser, Page
from tests.functional.conftest import ADMIN_PASSWORD, transactions_refused
from tests.functional.desk import Desk, MovableClock

pytestmark = pytest.mark.usefixtures("clock")

__all__ = ["staffroom"]

ROW_NUMBER = re.compile(r'<td data-label="Number"><a href="/admin/tickets/([0-9]+)">')
NEXT_LINK = re.compile(r'<a href="([^"]+)" rel="next">More tickets</a>')


def listed(page: Page) -> list[int]:
    """The ticket numbers of the queue's rows, top to bottom."""
    assert page.status == 200, page.text
    return [int(number) for number in ROW_NUMBER.findall(page.text)]


def next_link(page: Page) -> str | None:
    found = NEXT_LINK.search(page.text)
    return html.unescape(found.group(1)) if found else None


def staff_id(api: Any) -> str:
    return str(api.get("/api/auth/me").data["id"])


def edit(desk: Desk, number: int, **fields: Any) -> None:
    current = desk.api.get(f"/api/tickets/{number}").data
    response = desk.api.patch(f"/api/tickets/{number}", {**fields, "version": current["version"]})
    assert response.status_code == 200, response.body


def all_tickets(desk: Desk) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = desk.api.get("/api/tickets?limit=100&order=newest").data["items"]
    return items


def contact_by_email(desk: Desk, address: str) -> dict[str, Any] | None:
    items = desk.api.get(f"/api/contacts?email={address}").data["items"]
    return items[0] if items else None


@pytest.fixture
def spread(staffroom: Staffroom, desk: Desk) -> dict[str, Any]:
    """Five tickets that differ in every filtered dimension.

    - billing: Cleo, billing, gold (her default), new, unassigned
    - technical: Dana, technical, standard, waiting, the agent's
    - solved: Cleo, urgent, solved (closed), unassigned
    - plain: Dana, no category, standard, new, unassigned
    - mine: Dana, urgent, new, the admin's
    """
    agent = staff_id(staffroom.agent_api)
    admin = staff_id(desk.api)
    billing = desk.ticket("cleo", category_id=desk.categories["billing"])["number"]
    technical = desk.ticket("dana", category_id=desk.categories["technical"])["number"]
    edit(desk, technical, status_id=desk.statuses["waiting"], assignee_id=agent)
    solved = desk.ticket("cleo", service_level_id=desk.levels["urgent"])["number"]
    edit(desk, solved, status_id=desk.statuses["solved"])
    plain = desk.ticket("dana")["number"]
    mine = desk.ticket("dana", service_level_id=desk.levels["urgent"])["number"]
    edit(desk, mine, assignee_id=admin)
    return {
        "billing": billing,
        "technical": technical,
        "solved": solved,
        "plain": plain,
        "mine": mine,
        "agent": agent,
        "admin": admin,
    }


# -- the queue: what a row shows -----------------------------------------------------


def test_the_queue_lists_every_ticket_with_what_a_row_shows_at_a_glance(
    staffroom: Staffroom, desk: Desk, spread: dict[str, Any]
) -> None:
    page = staffroom.signed_in().get("/admin/tickets")

    assert sorted(listed(page)) == sorted(
        [spread[name] for name in ("billing", "technical", "solved", "plain", "mine")]
    )
    row = page.text.split(f'href="/admin/tickets/{spread["technical"]}"', 1)[1].split("</tr>", 1)[0]
    plain_row = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", row)).split())
    assert "Printer on fire" in plain_row
    assert f'href="/admin/contacts/{desk.contacts["dana"]}"' in row
    assert "Technical" in plain_row
    assert "Waiting" in plain_row  # the status's staff name
    assert "Standard rank 3" in plain_row
    assert "Dana Doe" in plain_row  # the contact's name, kept on the ticket
    assert "Alan Agent" in plain_row  # another staff member's name, kept on the ticket
    assert f'href="/admin/tickets?assignee_id={spread["agent"]}"' in row
    assert "<time datetime=" in row
    mine = page.text.split(f'href="/admin/tickets/{spread["mine"]}"', 1)[1].split("</tr>", 1)[0]
    assert "You" in mine
    assert "Urgent" in mine
    plain = page.text.split(f'href="/admin/tickets/{spread["plain"]}"', 1)[1].split("</tr>", 1)[0]
    assert "Unassigned" in plain
    assert "No category" in plain


def test_an_overdue_ticket_carries_a_badge_and_a_closed_one_does_not(
    staffroom: Staffroom, desk: Desk, clock: MovableClock
) -> None:
    late = desk.ticket("cleo", service_level_id=desk.levels["urgent"])["number"]
    closed = desk.ticket("cleo", service_level_id=desk.levels["urgent"], status_id=desk.statuses["solved"])
    clock.advance(hours=3)  # past the urgent two-hour target

    page = staffroom.signed_in().get("/admin/tickets")

    rows = {number: row for number, row in zip(listed(page), page.text.split("<tr")[2:], strict=True)}
    assert 'class="badge overdue">Overdue' in rows[late]
    assert "Overdue" not in rows[closed["number"]]


def test_a_subject_with_html_is_shown_as_text(staffroom: Staffroom, desk: Desk) -> None:
    desk.ticket("cleo", subject='<script>alert("x")</script><b>bold</b>')

    page = staffroom.signed_in().get("/admin/tickets")

    assert "<script>alert" not in page.text
    assert "<b>bold</b>" not in page.text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;b&gt;bold&lt;/b&gt;" in page.text


# -- filters -------------------------------------------------------------------------


FILTERS: dict[str, tuple[str, list[str]]] = {
    # name: (query, the tickets it keeps)
    "status": ("status_id={waiting}", ["technical"]),
    "category": ("category_id={billing}", ["billing"]),
    "no category": ("category_id=none", ["solved", "plain", "mine"]),
    "service level": ("service_level_id={urgent}", ["solved", "mine"]),
    "assignee": ("assignee_id={agent}", ["technical"]),
    "mine": ("assignee_id={admin}", ["mine"]),
    "unassigned": ("assignee_id=none", ["billing", "solved", "plain"]),
    "open": ("state=open", ["billing", "technical", "plain", "mine"]),
    "closed": ("state=closed", ["solved"]),
    "contact": ("contact_id={cleo}", ["billing", "solved"]),
}


def ids(desk: Desk, spread: dict[str, Any]) -> dict[str, str]:
    return {
        **desk.statuses,
        **desk.categories,
        **desk.levels,
        **{name: desk.contacts[name] for name in desk.contacts},
        "agent": spread["agent"],
        "admin": spread["admin"],
    }


@pytest.mark.parametrize("name", list(FILTERS))
def test_each_filter_narrows_the_queue(
    staffroom: Staffroom, desk: Desk, spread: dict[str, Any], name: str
) -> None:
    query, kept = FILTERS[name]

    page = staffroom.signed_in().get(f"/admin/tickets?{query.format(**ids(desk, spread))}")

    assert sorted(listed(page)) == sorted(spread[ticket] for ticket in kept)


def test_the_overdue_filter_keeps_open_tickets_past_their_target(
    staffroom: Staffroom, desk: Desk, spread: dict[str, Any], clock: MovableClock
) -> None:
    browser = staffroom.signed_in()
    assert listed(browser.get("/admin/tickets?overdue=true")) == []

    clock.advance(hours=3)  # past the urgent target (2h), not gold (24h) or standard (72h)

    page = browser.get("/admin/tickets?overdue=true")
    assert listed(page) == [spread["mine"]]  # the urgent one that is closed is not overdue
    assert 'id="overdue" name="overdue" type="checkbox" value="true" checked' in page.text


def test_two_filters_combine(staffroom: Staffroom, desk: Desk, spread: dict[str, Any]) -> None:
    browser = staffroom.signed_in()

    assert sorted(listed(browser.get("/admin/tickets?state=open&category_id=none"))) == sorted(
        [spread["plain"], spread["mine"]]
    )
    assert listed(browser.get(f"/admin/tickets?assignee_id=none&service_level_id={desk.levels['gold']}")) == [
        spread["billing"]
    ]
    assert listed(
        browser.get(f"/admin/tickets?contact_id={desk.contacts['dana']}&status_id={desk.statuses['waiting']}")
    ) == [spread["technical"]]


def test_the_filter_form_is_labelled_and_keeps_the_chosen_values(
    staffroom: Staffroom, desk: Desk, spread: dict[str, Any]
) -> None:
    page = staffroom.signed_in().get(
        f"/admin/tickets?status_id={desk.statuses['waiting']}&assignee_id={spread['agent']}&order=newest"
    )

    for name, label in (
        ("status_id", "Status"),
        ("category_id", "Category"),
        ("service_level_id", "Service level"),
        ("assignee_id", "Assignee"),
        ("state", "Open or closed"),
        ("order", "Order"),
    ):
        assert f'<label for="{name}">{label}</label>' in page.text
        assert f'<select id="{name}" name="{name}">' in page.text
    assert f'<option value="{desk.statuses["waiting"]}" selected>Waiting</option>' in page.text
    assert f'<option value="{spread["agent"]}" selected>Alan Agent</option>' in page.text
    assert '<option value="newest" selected>Newest first</option>' in page.text
    assert f'<option value="{desk.levels["gold"]}">2 · Gold</option>' in page.text
    assert "Alan Agent" in page.plain  # the filtered assignee is named in the rows too
    assert 'method="get" action="/admin/tickets"' in page.text


def test_a_contacts_list_names_the_contact_and_links_to_their_page(
    staffroom: Staffroom, desk: Desk, spread: dict[str, Any]
) -> None:
    page = staffroom.signed_in().get(f"/admin/tickets?contact_id={desk.contacts['cleo']}")

    assert "<h1>Tickets of Cleo Customer</h1>" in page.text
    assert "cleo@example.com" in page.plain
    assert page.text.count(f'href="/admin/contacts/{desk.contacts["cleo"]}">Cleo Customer</a>') == 2


@pytest.mark.parametrize(
    ("query", "field", "label"),
    [
        ("status_id=nosuchstatus", "status_id", "Status"),
        ("category_id=nosuchcategory", "category_id", "Category"),
        ("service_level_id=nosuchlevel", "service_level_id", "Service level"),
        ("assignee_id=0123456789abcdef0123456789abcdef", "assignee_id", "Assignee"),
        ("assignee_id=not%20an%20id", "assignee_id", "Assignee"),
        ("contact_id=0123456789abcdef0123456789abcdef", "contact_id", "Contact"),
        ("state=pending", "state", "Open or closed"),
        ("order=oldest", "order", "Order"),
        ("overdue=yes", "overdue", "Overdue only"),
        ("limit=0", "limit", "Page size"),
    ],
)
def test_a_filter_value_that_names_nothing_is_a_422_page_naming_it(
    staffroom: Staffroom, spread: dict[str, Any], query: str, field: str, label: str
) -> None:
    page = staffroom.signed_in().get(f"/admin/tickets?{query}")

    assert page.status == 422
    assert f"Please check “{label}”" in page.plain
    assert ROW_NUMBER.search(page.text) is None
    if field not in ("contact_id", "limit"):  # those two are not fields of the form
        assert f'id="{field}" name="{field}"' in page.text
        assert f'aria-invalid="true" aria-describedby="{field}-error"' in page.text


# -- the assignee filter: every colleague ---------------------------------------------


def assignee_options(page: Page) -> list[tuple[str, str, bool]]:
    """The assignee filter's choices, top to bottom: value, label, whether selected."""
    select = page.text.split('<select id="assignee_id"', 1)[1].split("</select>", 1)[0]
    found = re.findall(r'<option value="([^"]*)"( selected)?>([^<]*)</option>', select)
    return [(html.unescape(value), html.unescape(label), bool(chosen)) for value, chosen, label in found]


def test_the_assignee_filter_offers_every_colleague_and_lists_the_one_chosen(
    staffroom: Staffroom, desk: Desk, spread: dict[str, Any]
) -> None:
    # GIVEN two more colleagues, one of them deactivated, and a ticket of the other one
    bea = add_staff(desk, "bea@example.com", "Bea <Backup>")
    zed = add_staff(desk, "zed@example.com", "Zed Former")
    assert desk.api.patch(f"/api/staff/{zed['id']}", {"active": False, "version": 1}).status_code == 200
    edit(desk, spread["plain"], assignee_id=bea["id"])
    browser = staffroom.signed_in()

    # WHEN the admin opens the queue
    with count_calls() as calls:
        page = browser.get("/admin/tickets")

    # THEN the filter offers anyone, themselves, unassigned, then every colleague by name,
    # the deactivated last, all from the sign-in batch
    assert assignee_options(page) == [
        ("", "Anyone", False),
        (spread["admin"], "Me (Ada Admin)", False),
        ("none", "Unassigned", False),
        (spread["agent"], "Alan Agent", False),
        (bea["id"], "Bea <Backup>", False),
        (zed["id"], "Zed Former (deactivated)", False),
    ]
    assert "Bea <Backup>" not in page.text
    assert calls.by_operation == {"BatchGetItem": 1, "Query": 1}

    # WHEN they choose the colleague
    chosen = browser.get(f"/admin/tickets?assignee_id={bea['id']}")

    # THEN the queue lists that colleague's ticket, and the choice is kept, once
    assert listed(chosen) == [spread["plain"]]
    assert [option for option in assignee_options(chosen) if option[2]] == [(bea["id"], "Bea <Backup>", True)]


def test_a_colleague_added_or_renamed_is_offered_at_once(staffroom: Staffroom, desk: Desk) -> None:
    """No stream runs here: the directory is written with the staff member."""
    browser = staffroom.signed_in()
    browser.get("/admin/setup/staff")
    fields = {"email": "cy@example.com", "name": "Cy New", "role": "agent", "password": ADMIN_PASSWORD}
    assert browser.post("/admin/setup/staff", fields).status == 303
    (cy,) = [member for member in desk.api.get("/api/staff").data["items"] if member["name"] == "Cy New"]

    assert (cy["id"], "Cy New", False) in assignee_options(browser.get("/admin/tickets"))

    renamed = desk.api.patch(f"/api/staff/{cy['id']}", {"name": "Cy Renamed", "version": cy["version"]})
    assert renamed.status_code == 200
    after = assignee_options(browser.get("/admin/tickets"))
    assert (cy["id"], "Cy Renamed", False) in after
    assert "Cy New" not in [label for _, label, _ in after]


def test_without_the_directory_the_filter_offers_what_it_knows_and_the_next_staff_write_builds_it(
    staffroom: Staffroom, desk: Desk, spread: dict[str, Any]
) -> None:
    # GIVEN a table whose staff predate the directory
    boto3.resource("dynamodb").Table("helpdesk-test").delete_item(Key={"pk": "SETUP", "sk": "STAFF"})
    browser = staffroom.signed_in()

    # THEN the queue still works, offering itself, unassigned and the filtered colleague
    page = browser.get(f"/admin/tickets?assignee_id={spread['agent']}")
    assert listed(page) == [spread["technical"]]
    assert assignee_options(page) == [
        ("", "Anyone", False),
        (spread["admin"], "Me (Ada Admin)", False),
        ("none", "Unassigned", False),
        (spread["agent"], "Alan Agent", True),
    ]

    # WHEN an admin saves any staff member, even with nothing the directory shows
    agent = desk.api.get(f"/api/staff/{spread['agent']}").data
    new_password = {"password": "another long passphrase", "version": agent["version"]}
    assert desk.api.patch(f"/api/staff/{spread['agent']}", new_password).status_code == 200

    # THEN the directory is built again from the staff list, and every colleague is offered
    assert assignee_options(browser.get("/admin/tickets"))[3:] == [(spread["agent"], "Alan Agent", False)]


def test_two_colleagues_added_at_the_same_moment_are_both_offered(
    staffroom: Staffroom, desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.domain import staff, staff_directory

    # GIVEN another staff write that saves the directory between this one's read and write
    staged = staff_directory.staged
    raced: list[str] = []

    def staged_then_raced(*args: Any) -> Any:
        result = staged(*args)
        if not raced:
            raced.append("racing")  # the rival's own write goes straight through
            raced[0] = staff.create_staff("eve@example.com", "Eve Rival", "agent", ADMIN_PASSWORD).id
        return result

    monkeypatch.setattr(staff_directory, "staged", staged_then_raced)

    # WHEN a staff member is added
    dan = add_staff(desk, "dan@example.com", "Dan Parallel")

    # THEN the first write's directory was not overwritten: both are offered
    options = assignee_options(staffroom.signed_in().get("/admin/tickets"))
    assert (raced[0], "Eve Rival", False) in options
    assert (dan["id"], "Dan Parallel", False) in options


# -- order and pages -----------------------------------------------------------------


def test_the_default_order_is_priority_then_due_date_and_newest_is_by_creation(
    staffroom: Staffroom, desk: Desk, clock: MovableClock
) -> None:
    standard = desk.ticket("dana")["number"]
    clock.advance(minutes=1)
    gold_later = desk.ticket("cleo")["number"]
    clock.advance(hours=-2)
    gold_sooner = desk.ticket("cleo")["number"]
    clock.advance(hours=3)
    closed = desk.ticket("cleo", service_level_id=desk.levels["urgent"], status_id=desk.statuses["solved"])
    urgent = desk.ticket("dana", service_level_id=desk.levels["urgent"])["number"]
    browser = staffroom.signed_in()

    by_priority = listed(browser.get("/admin/tickets"))
    newest = listed(browser.get("/admin/tickets?order=newest"))

    assert by_priority == [urgent, gold_sooner, gold_later, standard, closed["number"]]
    assert newest == [urgent, closed["number"], gold_later, standard, gold_sooner]


def test_cursor_pages_walk_the_whole_list_and_keep_the_filters(
    staffroom: Staffroom, desk: Desk, clock: MovableClock
) -> None:
    created = []
    for _ in range(5):
        created.append(desk.ticket("cleo")["number"])
        clock.advance(minutes=1)
    desk.ticket("cleo", status_id=desk.statuses["solved"])  # closed: not in the open list
    browser = staffroom.signed_in()

    seen: list[int] = []
    path: str | None = "/admin/tickets?state=open&order=newest&limit=2"
    pages = 0
    while path:
        page = browser.get(path)
        rows = listed(page)
        assert len(rows) <= 2
        seen += rows
        pages += 1
        path = next_link(page)
        if path:
            params = parse_qs(urlsplit(path).query)
            assert params["state"] == ["open"]
            assert params["order"] == ["newest"]
            assert params["limit"] == ["2"]
            assert "cursor" in params
        if pages > 1:
            assert 'href="/admin/tickets?state=open&amp;order=newest&amp;limit=2">First page</a>' in page.text
        assert pages < 10, "the cursor never ran out"

    assert seen == list(reversed(created))
    assert pages == 3


def test_a_cursor_that_was_altered_or_made_for_another_list_starts_again_with_a_notice(
    staffroom: Staffroom, desk: Desk, clock: MovableClock
) -> None:
    for _ in range(3):
        desk.ticket("cleo")
        clock.advance(minutes=1)
    browser = staffroom.signed_in()
    first = browser.get("/admin/tickets?order=newest&limit=1")
    link = next_link(first)
    assert link is not None
    cursor = parse_qs(urlsplit(link).query)["cursor"][0]

    altered = browser.get(f"/admin/tickets?order=newest&limit=1&cursor={cursor[:-2]}xy")
    elsewhere = browser.get(f"/admin/tickets?order=priority&limit=1&cursor={cursor}")

    for page in (altered, elsewhere):
        assert page.status == 200
        assert "no longer fits this list, so here is its first page" in page.plain
        assert len(listed(page)) == 1
    assert listed(altered) == listed(first)


# -- the find box --------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["{number}", "#{number}", " {number} "])
def test_finding_a_ticket_number_goes_straight_to_the_ticket(
    staffroom: Staffroom, desk: Desk, typed: str
) -> None:
    number = desk.ticket("cleo")["number"]

    page = staffroom.signed_in().get(f"/admin/tickets?q={typed.format(number=number).replace('#', '%23')}")

    assert page.status == 303
    assert page.location == f"/admin/tickets/{number}"


def test_finding_an_email_lists_that_contacts_tickets(
    staffroom: Staffroom, desk: Desk, spread: dict[str, Any]
) -> None:
    browser = staffroom.signed_in()

    answer = browser.get("/admin/tickets?q=CLEO%40Example.com")

    assert answer.status == 303
    assert answer.location == f"/admin/tickets?contact_id={desk.contacts['cleo']}"
    page = browser.get(answer.location)
    assert "<h1>Tickets of Cleo Customer</h1>" in page.text
    assert sorted(listed(page)) == sorted([spread["billing"], spread["solved"]])


@pytest.mark.parametrize(
    ("typed", "message"),
    [("99999", "No ticket has the number 99999."), ("nobody@example.com", "No contact has the email")],
)
def test_finding_something_unknown_says_nothing_was_found(
    staffroom: Staffroom, desk: Desk, typed: str, message: str
) -> None:
    desk.ticket("cleo")

    page = staffroom.signed_in().get(f"/admin/tickets?q={typed}")

    assert page.status == 200
    assert "Nothing found" in page.plain
    assert message in page.plain
    assert f'value="{typed}"' in page.text
    assert ROW_NUMBER.search(page.text) is None


@pytest.mark.parametrize("typed", ["printer", "half@", "<b>x</b>"])
def test_finding_text_that_is_neither_a_number_nor_an_email_is_a_422_on_the_find_box(
    staffroom: Staffroom, typed: str
) -> None:
    page = staffroom.signed_in().get(f"/admin/tickets?q={typed}")

    assert page.status == 422
    assert 'id="q" name="q"' in page.text
    assert 'aria-invalid="true" aria-describedby="q-error"' in page.text
    assert "<b>x</b>" not in page.text


# -- who may, and what it costs ------------------------------------------------------


@pytest.mark.parametrize("role", ["admin", "agent"])
def test_admins_and_agents_both_work_the_queue(
    staffroom: Staffroom, spread: dict[str, Any], role: str
) -> None:
    browser = staffroom.signed_in(role)

    queue = browser.get("/admin/tickets")
    form = browser.get("/admin/tickets/new")

    assert len(listed(queue)) == 5
    assert form.status == 200
    assert 'aria-current="page">Tickets</a>' in queue.text


def test_the_queue_needs_a_session_and_comes_back_after_sign_in(staffroom: Staffroom) -> None:
    page = staffroom.browser().get("/admin/tickets?state=open")

    assert page.status == 303
    assert page.location == "/admin/login?next=/admin/tickets%3Fstate%3Dopen"


@pytest.mark.parametrize(
    "query",
    [
        "",
        "order=newest&state=open",
        "overdue=true",
        "contact_id={cleo}&assignee_id={agent}&category_id={billing}",
        "cursor=garbage",
    ],
)
def test_a_queue_page_is_two_round_trips(
    staffroom: Staffroom, desk: Desk, spread: dict[str, Any], query: str
) -> None:
    browser = staffroom.signed_in()
    path = f"/admin/tickets?{query.format(**ids(desk, spread))}"

    with count_calls() as calls:
        page = browser.get(path)

    assert page.status == 200
    assert calls.by_operation == {"BatchGetItem": 1, "Query": 1}


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("{number}", {"BatchGetItem": 1}),
        ("99999", {"BatchGetItem": 1}),
        ("cleo@example.com", {"BatchGetItem": 1, "Query": 1}),
        ("nobody@example.com", {"BatchGetItem": 1, "Query": 1}),
    ],
)
def test_finding_is_at_most_two_round_trips(
    staffroom: Staffroom, desk: Desk, typed: str, expected: dict[str, int]
) -> None:
    number = desk.ticket("cleo")["number"]
    browser = staffroom.signed_in()

    with count_calls() as calls:
        browser.get(f"/admin/tickets?q={typed.format(number=number)}")

    assert calls.by_operation == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", {"BatchGetItem": 1}),
        ("contact_id={cleo}", {"BatchGetItem": 1}),
        ("contact_id={cleo}&find=Da", {"BatchGetItem": 1, "Query": 1}),
        ("find=dana%40example.com", {"BatchGetItem": 1, "Query": 1}),
    ],
)
def test_the_new_ticket_page_is_at_most_two_round_trips(
    staffroom: Staffroom, desk: Desk, query: str, expected: dict[str, int]
) -> None:
    browser = staffroom.signed_in()

    with count_calls() as calls:
        page = browser.get(f"/admin/tickets/new?{query.format(**desk.contacts)}")

    assert page.status == 200
    assert calls.by_operation == expected


# -- a new ticket: the form ----------------------------------------------------------


def selected(page: Page, select: str) -> str | None:
    """The value of the option preselected in the select ``select``, if any."""
    block = page.text.split(f'<select id="{select}"', 1)[1].split("</select>", 1)[0]
    found = re.search(r'<option value="([^"]*)" selected>', block)
    return found.group(1) if found else None


def test_choosing_a_contact_prefills_their_default_service_level_and_the_default_status(
    staffroom: Staffroom, desk: Desk
) -> None:
    browser = staffroom.signed_in()

    cleo = browser.get(f"/admin/tickets/new?contact_id={desk.contacts['cleo']}")
    dana = browser.get(f"/admin/tickets/new?contact_id={desk.contacts['dana']}")

    assert selected(cleo, "service_level_id") == desk.levels["gold"]
    assert "Pre-filled with Cleo Customer\u2019s default service level." in cleo.plain
    assert "For Cleo Customer (cleo@example.com), whose default service level is Gold." in cleo.plain
    assert f'<input type="hidden" name="contact_id" value="{desk.contacts["cleo"]}">' in cleo.text
    assert 'name="contact_email"' not in cleo.text
    # Dana has no level of her own: the helpdesk's default is pre-filled.
    assert selected(dana, "service_level_id") == desk.levels["standard"]
    assert "Pre-filled with the helpdesk\u2019s default service level." in dana.plain
    for page in (cleo, dana):
        assert selected(page, "status_id") == desk.statuses["new"]
        assert selected(page, "category_id") is None
        assert 'id="note_private" name="note_visibility" type="radio" value="private" checked' in page.text


def test_without_a_contact_the_form_offers_a_new_one_inline(staffroom: Staffroom, desk: Desk) -> None:
    page = staffroom.signed_in().get("/admin/tickets/new")

    for name, label in (("contact_name", "Name"), ("contact_email", "Email"), ("subject", "Subject")):
        assert f'<label for="{name}">{label}</label>' in page.text
    assert '<label for="contact_phone">Phone' in page.text
    assert 'name="contact_id"' not in page.text
    assert selected(page, "service_level_id") == desk.levels["standard"]


@pytest.mark.parametrize("typed", ["cle", "CLEO", "cleo@example.com"])
def test_searching_offers_the_contacts_found_as_choices(staffroom: Staffroom, desk: Desk, typed: str) -> None:
    page = staffroom.signed_in().get(f"/admin/tickets/new?find={typed}")

    assert f'href="/admin/tickets/new?contact_id={desk.contacts["cleo"]}"' in page.text
    assert f'href="/admin/tickets/new?contact_id={desk.contacts["dana"]}"' not in page.text
    assert "Cleo Customer" in page.plain
    assert f'value="{typed}"' in page.text


def test_a_search_that_finds_nobody_says_so(staffroom: Staffroom, desk: Desk) -> None:
    page = staffroom.signed_in().get("/admin/tickets/new?find=Zed")

    assert page.status == 200
    assert "No contact found for “Zed”. Enter a new contact below." in page.plain


def test_a_chosen_contact_that_does_not_exist_is_a_422_asking_to_search_again(staffroom: Staffroom) -> None:
    page = staffroom.signed_in().get("/admin/tickets/new?contact_id=0123456789abcdef0123456789abcdef")

    assert page.status == 422
    assert "search for the contact again" in page.plain
    assert 'name="contact_id"' not in page.text


# -- a new ticket: creating it -------------------------------------------------------


def ticket_fields(**changes: str) -> dict[str, str]:
    fields = {
        "subject": "Invoice missing",
        "body": "Where is my March invoice?",
        "category_id": "",
        "service_level_id": "",
        "status_id": "",
        "note": "",
        "note_visibility": "private",
    }
    return {**fields, **changes}


def created_number(page: Page) -> int:
    assert page.status == 303, page.text
    found = re.fullmatch(r"/admin/tickets/([0-9]+)\?done=created", page.location)
    assert found, page.location
    return int(found.group(1))


@pytest.mark.parametrize("role", ["admin", "agent"])
def test_staff_open_a_ticket_for_a_chosen_contact_with_a_private_first_note(
    staffroom: Staffroom, desk: Desk, role: str
) -> None:
    browser = staffroom.signed_in(role)
    me = staff_id(desk.api if role == "admin" else staffroom.agent_api)
    browser.get(f"/admin/tickets/new?contact_id={desk.contacts['cleo']}")

    answer = browser.post(
        "/admin/tickets/new",
        ticket_fields(
            contact_id=desk.contacts["cleo"],
            category_id=desk.categories["billing"],
            service_level_id=desk.levels["gold"],
            status_id=desk.statuses["waiting"],
            note="Checked the ledger: invoice was never sent.",
        ),
    )

    number = created_number(answer)
    assert "The ticket is created." in browser.get(answer.location).plain
    ticket = desk.api.get(f"/api/tickets/{number}").data
    assert ticket["contact_id"] == desk.contacts["cleo"]
    assert ticket["subject"] == "Invoice missing"
    assert ticket["body"] == "Where is my March invoice?"
    assert ticket["category_id"] == desk.categories["billing"]
    assert ticket["service_level_id"] == desk.levels["gold"]
    assert ticket["status_id"] == desk.statuses["waiting"]
    assert ticket["source"] == "staff"
    assert ticket["created_by"] == f"staff:{me}"
    (note,) = ticket["notes"]
    assert note["body"] == "Checked the ledger: invoice was never sent."
    assert note["public"] is False
    assert note["author"] == {
        "type": "staff",
        "id": me,
        "name": "Ada Admin" if role == "admin" else "Alan Agent",
    }


def test_the_ticket_and_its_first_note_are_written_together_or_not_at_all(
    staffroom: Staffroom, desk: Desk
) -> None:
    browser = staffroom.signed_in()
    browser.get("/admin/tickets/new")
    fields = ticket_fields(contact_id=desk.contacts["cleo"], note="Called the courier.")

    # The number, then one transaction of ticket and note: no write of the note alone.
    with count_calls() as calls:
        number = created_number(browser.post("/admin/tickets/new", fields))
    writes = {name: n for name, n in calls.by_operation.items() if name not in ("BatchGetItem", "Query")}
    assert writes == {"UpdateItem": 1, "TransactWriteItems": 1}
    assert desk.api.get(f"/api/tickets/{number}").data["note_count"] == 1

    # When that transaction fails, neither the ticket nor its note is left behind.
    with transactions_refused():
        failed = browser.post("/admin/tickets/new", fields)
    assert failed.status == 500
    assert "Traceback" not in failed.text
    assert desk.api.get(f"/api/tickets/{number + 1}").status_code == 404
    from chalicelib.store.models import Item, Ticket

    assert list(Item.query(Ticket.partition(number + 1))) == []  # no note left on its own


def test_a_first_note_can_be_public_and_no_note_adds_none(staffroom: Staffroom, desk: Desk) -> None:
    browser = staffroom.signed_in()
    browser.get("/admin/tickets/new")

    public = created_number(
        browser.post(
            "/admin/tickets/new",
            ticket_fields(contact_id=desk.contacts["dana"], note="We are on it.", note_visibility="public"),
        )
    )
    without = created_number(
        browser.post("/admin/tickets/new", ticket_fields(contact_id=desk.contacts["dana"]))
    )

    (note,) = desk.api.get(f"/api/tickets/{public}").data["notes"]
    assert note["public"] is True
    assert desk.api.get(f"/api/tickets/{without}").data["notes"] == []


def test_empty_choices_take_the_contacts_default_service_level_and_the_default_status(
    staffroom: Staffroom, desk: Desk
) -> None:
    browser = staffroom.signed_in()
    browser.get("/admin/tickets/new")

    number = created_number(
        browser.post("/admin/tickets/new", ticket_fields(contact_id=desk.contacts["cleo"]))
    )

    ticket = desk.api.get(f"/api/tickets/{number}").data
    assert ticket["service_level_id"] == desk.levels["gold"]
    assert ticket["status_id"] == desk.statuses["new"]
    assert ticket["category_id"] is None


def test_a_new_contact_is_created_inline_with_the_ticket(staffroom: Staffroom, desk: Desk) -> None:
    browser = staffroom.signed_in()
    browser.get("/admin/tickets/new")

    answer = browser.post(
        "/admin/tickets/new",
        ticket_fields(
            contact_name="Erin Example", contact_email="Erin@Example.com", contact_phone="+44 20 7946 0000"
        ),
    )

    number = created_number(answer)
    contact = contact_by_email(desk, "erin@example.com")
    assert contact is not None
    assert contact["name"] == "Erin Example"
    assert contact["phone"] == "+442079460000"
    ticket = desk.api.get(f"/api/tickets/{number}").data
    assert ticket["contact_id"] == contact["id"]
    assert ticket["service_level_id"] == desk.levels["standard"]  # the helpdesk's default


def test_a_new_contact_and_its_ticket_are_written_together_or_not_at_all(
    staffroom: Staffroom, desk: Desk
) -> None:
    browser = staffroom.signed_in()
    browser.get("/admin/tickets/new")
    fields = ticket_fields(contact_name="Gus Gone", contact_email="gus@example.com", note="First call.")

    # WHEN the one transaction of contact, claim, ticket and note cannot be written
    with transactions_refused():
        failed = browser.post("/admin/tickets/new", fields)

    # THEN nothing of the contact is left, and the same form then works whole
    assert failed.status == 500
    assert contact_by_email(desk, "gus@example.com") is None
    with count_calls() as calls:
        number = created_number(browser.post("/admin/tickets/new", fields))
    writes = {name: n for name, n in calls.by_operation.items() if name not in ("BatchGetItem", "Query")}
    assert writes == {"UpdateItem": 1, "TransactWriteItems": 1}
    ticket = desk.api.get(f"/api/tickets/{number}").data
    assert ticket["contact_id"] == contact_by_email(desk, "gus@example.com")["id"]
    assert [note["body"] for note in ticket["notes"]] == ["First call."]


def test_an_email_claimed_since_the_form_was_checked_is_a_409_on_it_and_writes_no_ticket(
    staffroom: Staffroom, desk: Desk
) -> None:
    browser = staffroom.signed_in()
    browser.get("/admin/tickets/new")
    before = all_tickets(desk)
    desk.created("/api/contacts", {"name": "Hal First", "email": "hal@example.com"})

    page = browser.post(
        "/admin/tickets/new", ticket_fields(contact_name="Hal Second", contact_email="HAL@example.com")
    )

    assert page.status == 409
    assert 'id="contact_email-error"' in page.text
    assert all_tickets(desk) == before
    assert contact_by_email(desk, "hal@example.com")["name"] == "Hal First"


BAD_FIELDS: dict[str, tuple[dict[str, str], str]] = {
    # case: (fields typed over a valid new-contact form, the field marked)
    "no subject": ({"subject": "  "}, "subject"),
    "no first message": ({"body": ""}, "body"),
    "a subject of two lines": ({"subject": "one\ntwo"}, "subject"),
    "an unknown category": ({"category_id": "nosuchcategory"}, "category_id"),
    "an unknown service level": ({"service_level_id": "nosuchlevel"}, "service_level_id"),
    "an unknown status": ({"status_id": "nosuchstatus"}, "status_id"),
    "no contact name": ({"contact_name": ""}, "contact_name"),
    "a bad contact email": ({"contact_email": "not-an-email"}, "contact_email"),
    "a bad phone": ({"contact_phone": "12"}, "contact_phone"),
    "a note too long": ({"note": "x" * 20_001}, "note"),
    "an unknown note visibility": ({"note": "hi", "note_visibility": "everyone"}, "note_visibility"),
}


@pytest.mark.parametrize("case", list(BAD_FIELDS))
def test_a_bad_field_re_renders_the_form_with_422_and_writes_nothing(
    staffroom: Staffroom, desk: Desk, case: str
) -> None:
    changes, field = BAD_FIELDS[case]
    browser = staffroom.signed_in()
    browser.get("/admin/tickets/new")
    before = all_tickets(desk)
    fields = {**ticket_fields(contact_name="Fay <b>Fields</b>", contact_email="fay@example.com"), **changes}

    page = browser.post("/admin/tickets/new", fields)

    assert page.status == 422
    assert "Please check the field marked below." in page.plain
    assert f'{field}-error"' in page.text
    assert f'id="{field}-error"' in page.text
    assert contact_by_email(desk, "fay@example.com") is None
    assert all_tickets(desk) == before
    if field != "contact_name":  # what was typed is kept, escaped
        assert 'value="Fay &lt;b&gt;Fields&lt;/b&gt;"' in page.text


def test_neither_a_chosen_nor_a_new_contact_is_a_422_on_the_contact_name(
    staffroom: Staffroom, desk: Desk
) -> None:
    browser = staffroom.signed_in()
    browser.get("/admin/tickets/new")

    page = browser.post("/admin/tickets/new", ticket_fields())

    assert page.status == 422
    assert 'aria-invalid="true" aria-describedby="contact_name-error"' in page.text
    assert all_tickets(desk) == []


def test_a_new_contact_with_a_taken_email_is_refused_and_nothing_is_written(
    staffroom: Staffroom, desk: Desk
) -> None:
    browser = staffroom.signed_in()
    browser.get("/admin/tickets/new")

    page = browser.post(
        "/admin/tickets/new", ticket_fields(contact_name="Cleo Again", contact_email="CLEO@example.com")
    )

    assert page.status == 409
    assert 'aria-invalid="true" aria-describedby="contact_email-error"' in page.text
    assert "A contact with this email already exists." in page.plain
    assert all_tickets(desk) == []


def test_a_new_ticket_without_its_csrf_token_writes_nothing(staffroom: Staffroom, desk: Desk) -> None:
    browser = staffroom.signed_in()
    browser.get("/admin/tickets/new")

    forged = browser.post(
        "/admin/tickets/new",
        ticket_fields(contact_name="Gus Guest", contact_email="gus@example.com"),
        csrf=False,
    )
    other_site = browser.post(
        "/admin/tickets/new",
        ticket_fields(contact_id=desk.contacts["cleo"]),
        headers={"Origin": "https://evil.example"},
    )

    assert forged.status == 403
    assert other_site.status == 403
    assert contact_by_email(desk, "gus@example.com") is None
    assert all_tickets(desk) == []


def test_a_chosen_contact_that_vanished_is_a_422_and_writes_nothing(staffroom: Staffroom, desk: Desk) -> None:
    browser = staffroom.signed_in()
    browser.get("/admin/tickets/new")

    page = browser.post("/admin/tickets/new", ticket_fields(contact_id="0123456789abcdef0123456789abcdef"))

    assert page.status == 422
    assert "search for the contact again" in page.plain
    assert all_tickets(desk) == []


def test_the_new_ticket_form_is_signed_in_only(staffroom: Staffroom, desk: Desk) -> None:
    browser: Browser = staffroom.browser()

    page = browser.get(f"/admin/tickets/new?contact_id={desk.contacts['cleo']}")

    assert page.status == 303
    assert page.location == f"/admin/login?next=/admin/tickets/new%3Fcontact_id%3D{desk.contacts['cleo']}"
