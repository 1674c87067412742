"""The portal's ticket pages: a customer's own tickets only, public notes only, replies,
ratings, and another contact's ticket answered exactly like one that does not exist."""

from __future__ import annotations

import re

import pytest

from tests.bench.counting import count_calls
from tests.functional.browsing import Page
from tests.functional.desk import Desk, MovableClock
from tests.functional.portal_fixtures import Customers, customers

pytestmark = pytest.mark.usefixtures("clock")

__all__ = ["customers"]


@pytest.fixture
def replying(desk: Desk) -> Desk:
    desk.put_settings(customer_reply_status_id=desk.statuses["waiting"])
    for label, score in (("Great", 5), ("Poor", 1)):
        desk.created("/api/rating-options", {"label": label, "score": score})
    return desk


def rating_option(desk: Desk, label: str) -> str:
    options = desk.api.get("/api/rating-options").data["items"]
    return str(next(option["id"] for option in options if option["label"] == label))


def close(desk: Desk, number: int) -> None:
    version = desk.api.get(f"/api/tickets/{number}").data["version"]
    changed = desk.api.patch(
        f"/api/tickets/{number}", {"status_id": desk.statuses["solved"], "version": version}
    )
    assert changed.status_code == 200, changed.body


# -- creating a ticket ---------------------------------------------------------------


def test_a_customer_creates_a_ticket_that_staff_see_with_the_contacts_defaults(
    customers: Customers, desk: Desk
) -> None:
    browser = customers.signed_in("cleo")
    form = browser.get("/portal/tickets/new")
    assert form.status == 200
    assert '<label for="subject">Subject</label>' in form.text
    assert "Billing" in form.plain

    answer = browser.post(
        "/portal/tickets/new",
        {
            "subject": "Invoice missing",
            "body": "Line one\r\nLine two",
            "category_id": desk.categories["billing"],
        },
    )

    assert answer.status == 303
    number = int(answer.location.split("/")[-1].split("?")[0])
    staff_view = desk.api.get(f"/api/tickets/{number}").data
    assert staff_view["source"] == "portal"
    assert staff_view["contact_id"] == desk.contacts["cleo"]
    assert staff_view["service_level_id"] == desk.levels["gold"]  # Cleo's own default
    assert staff_view["status_id"] == desk.statuses["new"]
    assert staff_view["body"] == "Line one\nLine two"
    page = browser.get(answer.location)
    assert f"Your ticket #{number} is with us" in page.plain


def test_fields_a_customer_may_not_set_are_ignored(customers: Customers, desk: Desk) -> None:
    browser = customers.signed_in("dana")
    browser.get("/portal/tickets/new")

    answer = browser.post(
        "/portal/tickets/new",
        {
            "subject": "Hello",
            "body": "Please help",
            "status_id": desk.statuses["solved"],
            "service_level_id": desk.levels["urgent"],
            "contact_id": desk.contacts["cleo"],
            "assignee_id": "someone",
        },
    )

    assert answer.status == 303
    number = int(answer.location.split("/")[-1].split("?")[0])
    staff_view = desk.api.get(f"/api/tickets/{number}").data
    assert staff_view["contact_id"] == desk.contacts["dana"]
    assert staff_view["status_id"] == desk.statuses["new"]
    assert staff_view["service_level_id"] == desk.levels["standard"]
    assert staff_view["assignee_id"] is None


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"subject": "", "body": "text"}, "subject"),
        ({"subject": "x" * 201, "body": "text"}, "subject"),
        ({"subject": "Hi", "body": "   "}, "body"),
        ({"subject": "Hi", "body": "text", "category_id": "no-such-category"}, "category_id"),
    ],
)
def test_a_bad_new_ticket_comes_back_with_the_field_marked_and_nothing_stored(
    customers: Customers, desk: Desk, fields: dict[str, str], field: str
) -> None:
    browser = customers.signed_in("cleo")
    browser.get("/portal/tickets/new")

    page = browser.post("/portal/tickets/new", fields)

    assert page.status == 422
    assert f'aria-describedby="{field}-error"' in page.text
    assert f'id="{field}-error"' in page.text
    assert desk.api.get("/api/tickets").data["items"] == []


# -- reading -------------------------------------------------------------------------


def test_the_ticket_page_shows_public_notes_and_the_customer_label_never_private_ones(
    customers: Customers, desk: Desk
) -> None:
    # GIVEN staff statuses whose customer label differs from the staff name
    waiting = desk.api.get("/api/statuses").data["items"]
    waiting = next(status for status in waiting if status["id"] == desk.statuses["waiting"])
    renamed = desk.api.patch(
        f"/api/statuses/{waiting['id']}",
        {"name": "Blocked on vendor", "customer_label": "In progress", "version": waiting["version"]},
    )
    assert renamed.status_code == 200, renamed.body
    number = desk.ticket("cleo", subject="Printer <b>jam</b>")["number"]
    desk.api.post(f"/api/tickets/{number}/notes", {"body": "PRIVATE: customer is difficult", "public": False})
    desk.api.post(
        f"/api/tickets/{number}/notes", {"body": "We sent a <script>new</script> part.", "public": True}
    )
    desk.api.patch(f"/api/tickets/{number}", {"status_id": desk.statuses["waiting"], "version": 1})

    page = customers.signed_in("cleo").get(f"/portal/tickets/{number}")

    assert page.status == 200
    assert "We sent a <script>new</script> part." in page.plain
    assert "&lt;script&gt;new&lt;/script&gt;" in page.text
    assert "<script>" not in page.text
    assert "Printer &lt;b&gt;jam&lt;/b&gt;" in page.text
    assert "PRIVATE" not in page.text
    assert "In progress" in page.plain
    assert "Blocked on vendor" not in page.text


def test_the_list_shows_only_the_contacts_own_tickets_filtered_and_paged(
    customers: Customers, desk: Desk, clock: MovableClock
) -> None:
    mine = []
    for index in range(22):
        clock.advance(seconds=1)
        mine.append(desk.ticket("cleo", subject=f"Cleo ticket {index}")["number"])
    desk.ticket("dana", subject="Dana's secret ticket")
    close(desk, mine[0])
    browser = customers.signed_in("cleo")

    first = browser.get("/portal/tickets")
    closed = browser.get("/portal/tickets?state=closed")

    # Open tickets first (same service level: the earliest due first), then the closed one.
    assert first.status == 200
    assert "Dana" not in first.text
    assert "Cleo ticket 1 " in first.plain
    assert "Cleo ticket 20 " in first.plain
    assert "Cleo ticket 21" not in first.plain
    assert "Cleo ticket 0 " not in first.plain
    assert 'rel="next"' in first.text
    assert "Cleo ticket 0 " in closed.plain
    assert "Cleo ticket 5 " not in closed.plain
    second = browser.get(next_link(first))
    assert second.plain.index("Cleo ticket 21") < second.plain.index("Cleo ticket 0 ")
    assert "Cleo ticket 1 " not in second.plain


def next_link(page: Page) -> str:
    """The address of the page's "older tickets" link."""
    return page.text.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")


def subjects(page: Page) -> list[str]:
    """The subjects the ticket table lists, in order."""
    return re.findall(r'<td data-label="Subject"><a href="[^"]+">([^<]*)</a>', page.text)


@pytest.fixture
def many_open(desk: Desk, clock: MovableClock) -> list[int]:
    """Cleo's tickets 0 to 22, the earliest due first; 0 and 21 are closed."""
    numbers = []
    for index in range(23):
        clock.advance(seconds=1)
        numbers.append(desk.ticket("cleo", subject=f"Cleo ticket {index}")["number"])
    close(desk, numbers[0])
    close(desk, numbers[21])
    return numbers


def test_the_open_filter_pages_through_open_tickets_only(customers: Customers, many_open: list[int]) -> None:
    browser = customers.signed_in("cleo")

    first = browser.get("/portal/tickets?state=open")
    second = browser.get(next_link(first))

    # 21 open tickets: a full page of 20 in due order, then the last one; never a closed one.
    assert subjects(first) == [f"Cleo ticket {index}" for index in range(1, 21)]
    assert "state=open&" in next_link(first)
    assert subjects(second) == ["Cleo ticket 22"]
    assert 'rel="next"' not in second.text


def test_an_altered_cursor_starts_the_list_again_from_the_top(
    customers: Customers, many_open: list[int]
) -> None:
    browser = customers.signed_in("cleo")
    first = browser.get("/portal/tickets?state=open")
    link = next_link(first)
    cursor = link.split("cursor=", 1)[1]
    altered = cursor[:-3] + ("AAA" if not cursor.endswith("AAA") else "BBB")
    closed_cursor = next_link(browser.get("/portal/tickets")).split("cursor=", 1)[1]

    answers = [
        browser.get(f"/portal/tickets?state=open&cursor={altered}"),
        browser.get("/portal/tickets?state=open&cursor=not-a-cursor"),
        # A cursor of another list (all tickets) does not move this one on either.
        browser.get(f"/portal/tickets?state=open&cursor={closed_cursor}"),
    ]

    for page in answers:
        assert page.status == 200
        assert subjects(page) == subjects(first)


def test_the_overview_shows_the_balance_open_tickets_and_recent_activity(
    customers: Customers, desk: Desk
) -> None:
    contact = desk.contacts["cleo"]
    for entry in (
        {
            "type": "invoice",
            "reference": "INV-1",
            "amount": "120.00",
            "currency": "EUR",
            "date": "2026-11-01",
        },
        {"type": "payment", "reference": "PAY-1", "amount": "20.50", "currency": "EUR", "date": "2026-11-02"},
    ):
        assert desk.api.post(f"/api/contacts/{contact}/transactions", entry).status_code == 201
    open_number = desk.ticket("cleo", subject="Still open")["number"]
    closed_number = desk.ticket("cleo", subject="All done")["number"]
    close(desk, closed_number)

    page = customers.signed_in("cleo").get("/portal")

    assert "99.50 EUR" in page.plain
    open_section = page.plain.split("Open tickets", 1)[1].split("Recent activity", 1)[0]
    assert f"#{open_number} Still open" in open_section
    # The recent activity is the stream's to keep (test_portal_activity.py); none ran here.
    assert "No recent activity." in page.plain.split("Recent activity", 1)[1]
    # The closed ticket is not among the open ones; its list is one link away.
    assert "All done" not in page.plain
    assert 'href="/portal/tickets?state=closed"' in page.text


def test_an_old_open_ticket_is_on_the_overview_however_many_newer_ones_are_closed(
    customers: Customers, desk: Desk, clock: MovableClock
) -> None:
    old = desk.ticket("cleo", subject="Old but open")["number"]
    for index in range(11):
        clock.advance(minutes=1)
        number = desk.ticket("cleo", subject=f"Newer {index}")["number"]
        close(desk, number)
    browser = customers.signed_in("cleo")

    with count_calls() as calls:
        page = browser.get("/portal")

    assert "You have no open tickets" not in page.plain
    open_section = page.plain.split("Open tickets", 1)[1].split("Recent activity", 1)[0]
    assert f"#{old} Old but open" in open_section
    assert "Newer" not in page.plain
    assert calls.by_operation == {"BatchGetItem": 1, "Query": 1}


def test_the_overview_lists_ten_open_tickets_the_most_urgent_first_and_links_to_the_rest(
    customers: Customers, desk: Desk, clock: MovableClock
) -> None:
    for index in range(10):
        clock.advance(minutes=1)
        desk.ticket("cleo", subject=f"Routine {index}")
    desk.ticket("cleo", subject="Urgent one", service_level_id=desk.levels["urgent"])
    browser = customers.signed_in("cleo")

    page = browser.get("/portal")

    open_section = page.plain.split("Open tickets", 1)[1].split("Recent activity", 1)[0]
    shown = re.findall(r"#\d+ (Urgent one|Routine \d)", open_section)
    assert shown == ["Urgent one", *[f"Routine {index}" for index in range(9)]]
    assert 'href="/portal/tickets?state=open"' in page.text
    assert "See all your open tickets" in open_section


def test_the_overview_without_open_tickets_says_so_and_links_to_nothing_more(
    customers: Customers, desk: Desk
) -> None:
    close(desk, desk.ticket("cleo", subject="Long done")["number"])

    page = customers.signed_in("cleo").get("/portal")

    assert "You have no open tickets." in page.plain
    assert "No recent activity." in page.plain
    assert "See all your open tickets" not in page.plain


# -- another contact's ticket --------------------------------------------------------


def test_another_contacts_ticket_is_a_404_with_nothing_of_it_for_every_action(
    customers: Customers, replying: Desk
) -> None:
    desk = replying
    theirs = desk.ticket("cleo", subject="Cleo private matter")["number"]
    close(desk, theirs)
    dana = customers.signed_in("dana")
    dana.get("/portal")
    missing = dana.get("/portal/tickets/999999")

    answers = [
        dana.get(f"/portal/tickets/{theirs}"),
        dana.post(f"/portal/tickets/{theirs}/reply", {"body": "I am not Cleo"}),
        dana.post(f"/portal/tickets/{theirs}/rating", {"rating_option_id": rating_option(desk, "Poor")}),
    ]

    for answer in answers:
        assert answer.status == 404
        assert "Cleo private matter" not in answer.text
        assert answer.plain == missing.plain
    detail = desk.api.get(f"/api/tickets/{theirs}").data
    assert detail["notes"] == []
    assert detail["status_id"] == desk.statuses["solved"]
    assert detail["rating"] is None


@pytest.mark.parametrize("number", ["0001000", "abc", "1e3", "-1", "99999999999"])
def test_a_number_that_is_not_a_ticket_number_is_a_404(customers: Customers, number: str) -> None:
    assert customers.signed_in("cleo").get(f"/portal/tickets/{number}").status == 404


# -- replying ------------------------------------------------------------------------


def test_a_reply_is_added_and_sets_the_customer_reply_status(customers: Customers, replying: Desk) -> None:
    number = replying.ticket("cleo")["number"]
    browser = customers.signed_in("cleo")
    browser.get(f"/portal/tickets/{number}")

    answer = browser.post(f"/portal/tickets/{number}/reply", {"body": "Any news?", "status_id": "ignored"})

    assert answer.status == 303
    assert answer.location == f"/portal/tickets/{number}#latest"
    page = browser.get(f"/portal/tickets/{number}")
    assert "You wrote" in page.plain
    assert "Any news?" in page.plain
    detail = replying.api.get(f"/api/tickets/{number}").data
    assert detail["status_id"] == replying.statuses["waiting"]
    assert detail["notes"][0]["author"] == {
        "type": "contact",
        "id": replying.contacts["cleo"],
        "name": "Cleo Customer",
    }


def test_an_empty_reply_comes_back_marked_and_adds_nothing(customers: Customers, replying: Desk) -> None:
    number = replying.ticket("cleo")["number"]
    browser = customers.signed_in("cleo")
    browser.get(f"/portal/tickets/{number}")

    page = browser.post(f"/portal/tickets/{number}/reply", {"body": "  "})

    assert page.status == 422
    assert 'aria-describedby="body-error"' in page.text
    assert replying.api.get(f"/api/tickets/{number}").data["notes"] == []


def test_a_reply_without_the_csrf_token_adds_nothing(customers: Customers, replying: Desk) -> None:
    number = replying.ticket("cleo")["number"]
    browser = customers.signed_in("cleo")

    page = browser.post(f"/portal/tickets/{number}/reply", {"body": "Sneaky"}, csrf=False)

    assert page.status == 403
    assert replying.api.get(f"/api/tickets/{number}").data["notes"] == []


# -- rating --------------------------------------------------------------------------


def test_the_rating_form_appears_once_closed_and_the_rating_can_be_changed(
    customers: Customers, replying: Desk
) -> None:
    desk = replying
    number = desk.ticket("cleo")["number"]
    browser = customers.signed_in("cleo")
    assert "How did we do?" not in browser.get(f"/portal/tickets/{number}").plain

    close(desk, number)
    page = browser.get(f"/portal/tickets/{number}")
    assert "How did we do?" in page.plain
    first = browser.post(
        f"/portal/tickets/{number}/rating", {"rating_option_id": rating_option(desk, "Poor")}
    )
    second = browser.post(
        f"/portal/tickets/{number}/rating",
        {"rating_option_id": rating_option(desk, "Great"), "comment": "Sorted quickly"},
    )

    assert (first.status, second.status) == (303, 303)
    rated = browser.get(second.location)
    assert "Thank you for your rating." in rated.plain
    assert "You rated this ticket “Great”" in rated.plain
    stored = desk.api.get(f"/api/tickets/{number}").data["rating"]
    assert (stored["label"], stored["comment"]) == ("Great", "Sorted quickly")


def test_an_open_ticket_cannot_be_rated(customers: Customers, replying: Desk) -> None:
    number = replying.ticket("cleo")["number"]
    browser = customers.signed_in("cleo")
    browser.get(f"/portal/tickets/{number}")

    page = browser.post(
        f"/portal/tickets/{number}/rating", {"rating_option_id": rating_option(replying, "Great")}
    )

    assert page.status == 409
    assert replying.api.get(f"/api/tickets/{number}").data["rating"] is None


def test_a_rating_without_an_option_comes_back_marked(customers: Customers, replying: Desk) -> None:
    number = replying.ticket("cleo")["number"]
    close(replying, number)
    browser = customers.signed_in("cleo")
    browser.get(f"/portal/tickets/{number}")

    page = browser.post(f"/portal/tickets/{number}/rating", {"comment": "no choice"})

    assert page.status == 422
    assert 'id="rating_option_id-error"' in page.text


# -- cost ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/portal", "/portal/tickets", "/portal/tickets/new", "/portal/tickets/{number}"]
)
def test_each_portal_page_takes_at_most_two_round_trips(customers: Customers, desk: Desk, path: str) -> None:
    number = desk.ticket("cleo")["number"]
    desk.api.post(f"/api/tickets/{number}/notes", {"body": "Hello", "public": True})
    browser = customers.signed_in("cleo")

    with count_calls() as calls:
        page = browser.get(path.format(number=number))

    assert page.status == 200
    assert calls.round_trips <= 2
    assert calls.scans == 0


def test_a_ticket_page_is_one_batch_read_and_one_query(customers: Customers, desk: Desk) -> None:
    number = desk.ticket("cleo")["number"]
    browser = customers.signed_in("cleo")

    with count_calls() as calls:
        browser.get(f"/portal/tickets/{number}")

    assert calls.by_operation == {"BatchGetItem": 1, "Query": 1}


def test_escaping_covers_the_contacts_own_name(customers: Customers, desk: Desk) -> None:
    cleo = desk.api.get(f"/api/contacts/{desk.contacts['cleo']}").data
    desk.api.patch(
        f"/api/contacts/{cleo['id']}", {"name": "<img src=x onerror=alert(1)>", "version": cleo["version"]}
    )

    page = customers.signed_in("cleo").get("/portal")

    assert "<img src=x" not in page.text
    assert "&lt;img src=x onerror=alert(1)&gt;" in page.text


def test_two_customers_signed_in_at_once_each_see_their_own_overview(customers: Customers) -> None:
    cleo, dana = customers.signed_in("cleo"), customers.signed_in("dana")

    assert "Hello, Cleo Customer" in cleo.get("/portal").plain
    assert "Hello, Dana Doe" in dana.get("/portal").plain
