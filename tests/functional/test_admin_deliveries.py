"""The failed notifications page: every failed delivery across tickets, and re-sending one
from there."""

from __future__ import annotations

import re

import pytest

from tests.bench.counting import count_calls
from tests.functional.admin_fixtures import Staffroom, add_failed_delivery, staffroom
from tests.functional.browsing import Browser, Page
from tests.functional.desk import Desk, MovableClock

pytestmark = pytest.mark.usefixtures("clock")

__all__ = ["staffroom"]

FAILED = "/admin/deliveries/failed"


def rows(page: Page) -> list[str]:
    """The list's rows as plain text."""
    body = page.text.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in page.text else ""
    found = re.findall(r"<tr>(.*?)</tr>", body, re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", row).split()) for row in found]


def outcomes(desk: Desk, number: int) -> list[str]:
    return [item["outcome"] for item in desk.api.get(f"/api/tickets/{number}/deliveries").data["items"]]


def on_the_list_with_one_failure(staffroom: Staffroom, desk: Desk) -> tuple[Browser, Page, int, str]:
    """An admin's browser on the list, which shows one failed delivery: the browser, the page,
    the delivery's ticket number and the path that asks for it again."""
    number = desk.ticket()["number"]
    delivery_id = add_failed_delivery(number)
    browser = staffroom.signed_in()
    return browser, browser.get(FAILED), number, f"/admin/tickets/{number}/deliveries/{delivery_id}/resend"


def test_every_failed_notification_is_listed_newest_first_with_why_in_two_round_trips(
    staffroom: Staffroom, desk: Desk, clock: MovableClock
) -> None:
    # GIVEN failed confirmations of two tickets, the second a minute later
    first, second = desk.ticket(), desk.ticket()
    add_failed_delivery(first["number"])
    clock.advance(minutes=1)
    add_failed_delivery(second["number"])
    agent = staffroom.signed_in("agent")

    # WHEN an agent opens the list
    with count_calls() as calls:
        page = agent.get(FAILED)

    # THEN both are there, newest first, each linking to its ticket's log, the reason escaped
    assert page.status == 200
    assert calls.by_operation == {"BatchGetItem": 1, "Query": 1}
    listed = rows(page)
    assert [re.findall(r"#\d+", row) for row in listed] == [[f"#{second['number']}"], [f"#{first['number']}"]]
    assert all("Ticket received Email: cleo@example.com" in row for row in listed)
    assert f'href="/admin/tickets/{first["number"]}/deliveries"' in page.text
    assert "Throttling: &lt;Maximum&gt; sending rate exceeded." in page.text
    assert "<Maximum>" not in page.text


def test_sending_one_again_from_the_list_takes_it_off_and_comes_back_to_the_list(
    staffroom: Staffroom, desk: Desk
) -> None:
    browser, page, number, resend_path = on_the_list_with_one_failure(staffroom, desk)
    form = page.text.split(f'action="{resend_path}"', 1)[1].split("</form>", 1)[0]
    assert '<input type="hidden" name="back" value="failed">' in form

    answer = browser.post(resend_path, {"back": "failed"})

    assert answer.location == f"{FAILED}?done=resend"
    assert outcomes(desk, number) == ["resend_requested"]
    after = browser.get(answer.location)
    assert "The message will be sent again in a moment" in after.plain
    assert rows(after) == []
    assert "No notification has failed." in after.plain
    # A second click, from a page still showing it, is told so and changes nothing.
    again = browser.post(resend_path, {"back": "failed"})
    assert again.location == f"{FAILED}?done=already"


def test_the_return_field_chooses_between_two_fixed_pages_only(staffroom: Staffroom, desk: Desk) -> None:
    browser, _, number, resend_path = on_the_list_with_one_failure(staffroom, desk)

    answer = browser.post(resend_path, {"back": "https://evil.example/"})

    assert answer.location == f"/admin/tickets/{number}/deliveries?done=resend"


def test_a_resend_without_the_forms_token_is_refused_and_changes_nothing(
    staffroom: Staffroom, desk: Desk
) -> None:
    browser, _, number, resend_path = on_the_list_with_one_failure(staffroom, desk)

    answer = browser.post(resend_path, {"back": "failed", "csrf_token": "forged"})

    assert answer.status == 403
    assert outcomes(desk, number) == ["failed"]


def test_an_altered_page_link_shows_the_newest_failures(staffroom: Staffroom, desk: Desk) -> None:
    ticket = desk.ticket()
    add_failed_delivery(ticket["number"])

    page = staffroom.signed_in().get(f"{FAILED}?cursor=not-a-cursor")

    assert page.status == 200
    assert len(rows(page)) == 1


def test_the_list_needs_a_session_and_the_dashboard_links_to_it(staffroom: Staffroom) -> None:
    signed_out = staffroom.browser().get(FAILED)
    assert signed_out.status == 303
    assert signed_out.location.startswith("/admin/login")

    dashboard = staffroom.signed_in("agent").get("/admin")
    assert f'href="{FAILED}"' in dashboard.text
