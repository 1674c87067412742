"""The staff ticket page: details, the timeline of notes and changes, the note form, edits
under a version, claiming, the assign page and the delivery log with re-sends."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.bench.counting import count_calls
from tests.functional.admin_fixtures import Staffroom, add_failed_delivery, add_staff, staffroom
from tests.functional.browsing import Browser, Page
from tests.functional.desk import Desk, MovableClock
from tests.functional.portal_fixtures import Customers, customers

pytestmark = pytest.mark.usefixtures("clock")

__all__ = ["customers", "staffroom"]


def ticket_path(ticket: dict[str, Any]) -> str:
    return f"/admin/tickets/{ticket['number']}"


def stored(desk: Desk, ticket: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = desk.api.get(f"/api/tickets/{ticket['number']}").data
    return data


def entries(page: Page) -> list[str]:
    """The timeline's entries, each as its class attribute and its text."""
    timeline = page.text.split('<ol class="timeline"', 1)[1].split("</ol>", 1)[0]
    found = re.findall(r'<li class="([^"]*)"[^>]*>(.*?)</li>', timeline, re.S)
    return [f"{classes} | {' '.join(re.sub(r'<[^>]+>', ' ', text).split())}" for classes, text in found]


def agent_id(staffroom: Staffroom) -> str:
    return str(staffroom.agent_api.get("/api/auth/me").data["id"])


# -- reading -------------------------------------------------------------------------


def test_the_page_shows_the_ticket_its_details_and_a_link_to_the_contact(
    staffroom: Staffroom, desk: Desk
) -> None:
    ticket = desk.ticket("cleo", category_id=desk.categories["billing"])

    page = staffroom.signed_in("agent").get(ticket_path(ticket))

    assert page.status == 200, page.text
    assert f"#{ticket['number']} Printer on fire" in page.plain
    assert f'href="/admin/contacts/{desk.contacts["cleo"]}"' in page.text
    details = page.plain.split("Details", 1)[1].split("Change the ticket", 1)[0]
    for shown in (
        "Status New",
        "Category Billing",
        "Service level Gold",
        "Assignee Unassigned",
        "Source Staff",
        "Created",
        "Resolution due",
    ):
        assert shown in details, shown
    assert "Overdue" not in page.plain
    assert "could not be sent" not in page.plain
    assert f'href="/admin/tickets/{ticket["number"]}/deliveries"' in page.text


def test_an_overdue_ticket_wears_the_overdue_badge(
    staffroom: Staffroom, desk: Desk, clock: MovableClock
) -> None:
    ticket = desk.ticket("cleo")  # gold: 24 hours to resolve
    clock.advance(hours=25)

    page = staffroom.signed_in().get(ticket_path(ticket))

    assert '<span class="badge overdue">Overdue</span>' in page.text


def test_public_and_private_notes_look_different_and_say_which_they_are(
    staffroom: Staffroom, desk: Desk, clock: MovableClock
) -> None:
    ticket = desk.ticket()
    desk.api.post(f"/api/tickets/{ticket['number']}/notes", {"body": "We are on it.", "public": True})
    clock.advance(seconds=1)
    desk.api.post(
        f"/api/tickets/{ticket['number']}/notes", {"body": "Customer sounds upset.", "public": False}
    )

    page = staffroom.signed_in().get(ticket_path(ticket))

    body, public, private = entries(page)
    assert body.startswith("entry staff | Request Opened by Ada Admin")
    assert "Send help." in body
    assert public.startswith("entry staff |")
    assert "Public reply Ada Admin wrote" in public
    assert "We are on it." in public
    assert private.startswith("entry staff private |")
    assert "Private note Ada Admin wrote" in private
    assert "Customer sounds upset." in private


def test_the_timeline_shows_the_body_then_notes_and_changes_as_they_happened(
    staffroom: Staffroom, desk: Desk, clock: MovableClock
) -> None:
    ticket = desk.ticket()
    number = ticket["number"]
    clock.advance(minutes=1)
    desk.api.post(f"/api/tickets/{number}/notes", {"body": "Looking into it.", "public": False})
    clock.advance(minutes=1)
    desk.api.patch(f"/api/tickets/{number}", {"status_id": desk.statuses["waiting"], "version": 1})
    clock.advance(minutes=1)
    desk.api.post(f"/api/tickets/{number}/notes", {"body": "Asked for the model.", "public": True})

    page = staffroom.signed_in("agent").get(ticket_path(ticket))

    shown = entries(page)
    assert len(shown) == 4
    assert "Send help." in shown[0]
    assert "Looking into it." in shown[1]
    assert shown[2].startswith("entry change |")
    assert "Ada Admin changed status from New to Waiting" in shown[2]
    assert "Asked for the model." in shown[3]


def test_a_customer_reply_shows_as_theirs_with_the_status_it_set(
    customers: Customers, staffroom: Staffroom, desk: Desk, clock: MovableClock
) -> None:
    desk.put_settings(customer_reply_status_id=desk.statuses["waiting"])
    ticket = desk.ticket("cleo", status_id=desk.statuses["solved"])
    clock.advance(minutes=1)
    portal = customers.signed_in("cleo")
    portal.get(f"/portal/tickets/{ticket['number']}")
    portal.post(f"/portal/tickets/{ticket['number']}/reply", {"body": "It is smoking again."})

    page = staffroom.signed_in().get(ticket_path(ticket))

    _, reply, change = entries(page)
    assert reply.startswith("entry customer |")
    assert "Customer reply Cleo Customer wrote" in reply
    assert change.startswith("entry change | Cleo Customer changed status from Solved to Waiting")
    assert f'<a href="/admin/contacts/{desk.contacts["cleo"]}">Cleo Customer</a>' in page.text


def test_a_long_timeline_links_to_its_older_entries_and_back(
    staffroom: Staffroom, desk: Desk, clock: MovableClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.domain import ticket_notes

    monkeypatch.setattr(ticket_notes, "NOTES_SHOWN", 3)
    ticket = desk.ticket()
    number = ticket["number"]
    for position in range(4):
        clock.advance(minutes=1)
        desk.api.post(f"/api/tickets/{number}/notes", {"body": f"Note {position}", "public": True})
    clock.advance(minutes=1)
    desk.api.patch(f"/api/tickets/{number}", {"status_id": desk.statuses["waiting"], "version": 1})
    browser = staffroom.signed_in()

    newest = browser.get(ticket_path(ticket))
    link = re.search(r'href="(/admin/tickets/\d+\?cursor=[^"]+)">Show older entries', newest.text)
    assert link is not None
    older = browser.get(link.group(1).replace("&amp;", "&"))

    # THEN the newest page holds the body, then the three newest entries (a change among them)
    assert [entry.split(" | ")[1][:28] for entry in entries(newest)[2:]] == [
        "Public reply Ada Admin wrote",
        "Public reply Ada Admin wrote",
        "Ada Admin changed status fro",
    ]
    assert "Note 2" in newest.plain
    assert "Note 3" in newest.plain
    assert "Note 1" not in newest.plain
    # AND the older page holds the two before them, with the way back and no further link
    assert older.status == 200
    assert "Note 0" in older.plain
    assert "Note 1" in older.plain
    assert "Note 2" not in older.plain
    assert "Show older entries" not in older.text
    assert f'href="/admin/tickets/{number}">Show the newest entries' in older.text


def test_an_altered_older_entries_link_shows_the_newest_entries(staffroom: Staffroom, desk: Desk) -> None:
    ticket = desk.ticket()

    answer = staffroom.signed_in().get(f"{ticket_path(ticket)}?cursor=forged")

    assert answer.status == 303
    assert answer.location == ticket_path(ticket)


def test_the_page_shows_the_customers_rating(staffroom: Staffroom, desk: Desk) -> None:
    from chalicelib.domain import ratings, setup

    option = desk.created("/api/rating-options", {"label": "Great", "score": 100})["id"]
    ticket = desk.ticket(status_id=desk.statuses["solved"])
    ratings.rate(ticket["number"], setup.load(), {"rating_option_id": option, "comment": "Fast <and> kind"})

    page = staffroom.signed_in().get(ticket_path(ticket))

    assert "Customer\N{RIGHT SINGLE QUOTATION MARK}s rating" in page.plain
    assert "Great score 100" in page.plain
    assert "Fast &lt;and&gt; kind" in page.text


@pytest.mark.parametrize("number", ["999999", "abc", "01001"])
def test_a_ticket_that_does_not_exist_is_a_404_page(staffroom: Staffroom, desk: Desk, number: str) -> None:
    desk.ticket()

    page = staffroom.signed_in().get(f"/admin/tickets/{number}")

    assert page.status == 404
    assert "No ticket has this number." in page.plain


def test_the_page_needs_a_session(staffroom: Staffroom, desk: Desk) -> None:
    ticket = desk.ticket()

    page = staffroom.browser().get(ticket_path(ticket))

    assert page.status == 303
    assert page.location == f"/admin/login?next={ticket_path(ticket)}"


def test_everything_staff_and_customers_wrote_is_escaped(staffroom: Staffroom, desk: Desk) -> None:
    ticket = desk.ticket(subject="<script>alert(1)</script>", body="<img src=x onerror=alert(2)>")
    desk.api.post(f"/api/tickets/{ticket['number']}/notes", {"body": "<b>bold</b>", "public": False})

    page = staffroom.signed_in().get(ticket_path(ticket))

    assert "<script>alert(1)" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "<img src=x" not in page.text
    assert "<b>bold</b>" not in page.text
    assert "&lt;b&gt;bold&lt;/b&gt;" in page.text


# -- round trips ---------------------------------------------------------------------


def test_every_page_of_a_ticket_is_two_round_trips(
    staffroom: Staffroom, desk: Desk, clock: MovableClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.domain import ticket_notes

    monkeypatch.setattr(ticket_notes, "NOTES_SHOWN", 2)
    ticket = desk.ticket()
    for position in range(3):
        clock.advance(seconds=1)
        desk.api.post(f"/api/tickets/{ticket['number']}/notes", {"body": f"Note {position}", "public": False})
    desk.api.patch(f"/api/tickets/{ticket['number']}", {"status_id": desk.statuses["waiting"], "version": 1})
    add_failed_delivery(ticket["number"])
    browser = staffroom.signed_in()
    first = browser.get(ticket_path(ticket))
    older = re.search(r'href="(/admin/tickets/\d+\?cursor=[^"]+)"', first.text)
    assert older is not None

    for path in (
        ticket_path(ticket),
        older.group(1),
        f"{ticket_path(ticket)}/assign",
        f"{ticket_path(ticket)}/deliveries",
    ):
        with count_calls() as calls:
            page = browser.get(path)
        assert page.status == 200, (path, page.text)
        assert calls.by_operation == {"BatchGetItem": 1, "Query": 1}, path
        if path == ticket_path(ticket):
            assert "1 notification about this ticket could not be sent." in page.plain


# -- notes ---------------------------------------------------------------------------


def test_the_note_form_starts_private_and_says_who_sees_each_kind(staffroom: Staffroom, desk: Desk) -> None:
    ticket = desk.ticket()

    page = staffroom.signed_in().get(ticket_path(ticket))

    assert re.search(r'name="visibility" value="private"[^>]*checked', page.text)
    assert not re.search(r'name="visibility" value="public"[^>]*checked', page.text)
    assert "Only staff see private notes." in page.plain
    assert "The customer sees public replies and gets them by email." in page.plain
    assert '<label for="body">Note</label>' in page.text


def test_a_note_posted_without_a_choice_is_private(staffroom: Staffroom, desk: Desk) -> None:
    ticket = desk.ticket()
    browser = staffroom.signed_in("agent")
    browser.get(ticket_path(ticket))

    answer = browser.post(f"{ticket_path(ticket)}/notes", {"body": "Checked the logs."})

    assert answer.status == 303
    assert answer.location == f"{ticket_path(ticket)}?done=note#latest"
    (note,) = stored(desk, ticket)["notes"]
    assert (note["body"], note["public"], note["author"]["name"]) == (
        "Checked the logs.",
        False,
        "Alan Agent",
    )
    shown = browser.get(answer.location.split("#")[0])
    assert "Your private note is saved. Only staff see it." in shown.plain


def test_a_public_reply_is_saved_public_with_its_message(staffroom: Staffroom, desk: Desk) -> None:
    ticket = desk.ticket()
    browser = staffroom.signed_in()
    browser.get(ticket_path(ticket))

    answer = browser.post(
        f"{ticket_path(ticket)}/notes", {"body": "A new one is on its way.", "visibility": "public"}
    )

    assert answer.location == f"{ticket_path(ticket)}?done=reply#latest"
    (note,) = stored(desk, ticket)["notes"]
    assert note["public"] is True
    shown = browser.get(answer.location.split("#")[0])
    assert "The customer sees it" in shown.plain


@pytest.mark.parametrize(
    ("fields", "field"),
    [({"body": "   "}, "body"), ({"body": "Fine.", "visibility": "everyone"}, "visibility")],
)
def test_a_bad_note_is_422_with_its_field_marked_and_nothing_written(
    staffroom: Staffroom, desk: Desk, fields: dict[str, str], field: str
) -> None:
    ticket = desk.ticket()
    browser = staffroom.signed_in()
    browser.get(ticket_path(ticket))

    page = browser.post(f"{ticket_path(ticket)}/notes", fields)

    assert page.status == 422
    assert f'aria-invalid="true" aria-describedby="{field}-error"' in page.text
    assert f'id="{field}-error"' in page.text
    assert stored(desk, ticket)["note_count"] == 0


# -- edits and claiming --------------------------------------------------------------


def edit_fields(desk: Desk, ticket: dict[str, Any], **changes: str) -> dict[str, str]:
    """The edit form as the page sends it: every select, with the version it was read at."""
    fields = {
        "status_id": ticket["status_id"] or "",
        "category_id": ticket["category_id"] or "",
        "service_level_id": ticket["service_level_id"] or "",
        "assignee_id": ticket["assignee_id"] or "",
        "version": str(ticket["version"]),
    }
    return {**fields, **changes}


def test_the_edit_form_carries_the_version_and_offers_the_setup_lists(
    staffroom: Staffroom, desk: Desk
) -> None:
    ticket = desk.ticket()

    page = staffroom.signed_in().get(ticket_path(ticket))

    form = page.text.split(f'action="/admin/tickets/{ticket["number"]}">', 1)[1].split("</form>", 1)[0]
    assert '<input type="hidden" name="version" value="1">' in form
    for label in ("Status", "Category", "Service level", "Assignee"):
        assert f">{label}</label>" in form
    assert f'<option value="{desk.statuses["new"]}" selected>New</option>' in form
    assert f'<option value="{desk.statuses["solved"]}">Solved</option>' in form
    assert '<option value="" selected>No category</option>' in form
    assert '<option value="" selected>Unassigned</option>' in form
    assert "Me (Ada Admin)" in form


def test_an_edit_saves_and_the_timeline_tells_who_changed_what(staffroom: Staffroom, desk: Desk) -> None:
    ticket = desk.ticket()
    browser = staffroom.signed_in()
    browser.get(ticket_path(ticket))

    answer = browser.post(
        ticket_path(ticket),
        edit_fields(desk, ticket, status_id=desk.statuses["waiting"], category_id=desk.categories["billing"]),
    )

    assert answer.status == 303
    assert answer.location == f"{ticket_path(ticket)}?done=saved"
    after = stored(desk, ticket)
    assert (after["status_id"], after["category_id"], after["version"]) == (
        desk.statuses["waiting"],
        desk.categories["billing"],
        2,
    )
    page = browser.get(answer.location)
    assert "The ticket is saved." in page.plain
    assert (
        "Ada Admin changed status from New to Waiting, and category from no category to Billing" in page.plain
    )


def test_an_edit_that_changes_nothing_writes_nothing(staffroom: Staffroom, desk: Desk) -> None:
    ticket = desk.ticket()
    browser = staffroom.signed_in()
    browser.get(ticket_path(ticket))

    with count_calls() as calls:
        answer = browser.post(ticket_path(ticket), edit_fields(desk, ticket))

    assert answer.location == f"{ticket_path(ticket)}?done=unchanged"
    assert calls.writes == 0
    assert stored(desk, ticket)["changes"] == []


def test_an_edit_naming_an_unknown_entry_is_422_with_the_field_marked(
    staffroom: Staffroom, desk: Desk
) -> None:
    ticket = desk.ticket()
    browser = staffroom.signed_in()
    browser.get(ticket_path(ticket))

    page = browser.post(ticket_path(ticket), edit_fields(desk, ticket, category_id="doesnotexist"))

    assert page.status == 422
    assert 'id="category_id" name="category_id" aria-invalid="true"' in page.text
    assert '<option value="doesnotexist"' not in page.text
    assert '<input type="hidden" name="version" value="1">' in page.text
    assert stored(desk, ticket)["version"] == 1


def test_claiming_assigns_the_ticket_to_me_and_the_timeline_says_so(staffroom: Staffroom, desk: Desk) -> None:
    ticket = desk.ticket()
    browser = staffroom.signed_in("agent")
    first = browser.get(ticket_path(ticket))
    assert "Claim: assign to me" in first.plain

    answer = browser.post(f"{ticket_path(ticket)}/claim", {"version": "1"})

    assert answer.location == f"{ticket_path(ticket)}?done=claimed"
    assert stored(desk, ticket)["assignee_id"] == agent_id(staffroom)
    page = browser.get(answer.location)
    assert "The ticket is assigned to you." in page.plain
    assert "Assignee You" in page.plain
    assert "Claim: assign to me" not in page.plain
    assert "Alan Agent changed assignee from unassigned to Alan Agent" in page.plain


def test_a_stale_edit_shows_the_current_values_beside_the_sent_ones_and_can_be_redone(
    staffroom: Staffroom, desk: Desk
) -> None:
    # GIVEN the admin opened the ticket at version 1
    ticket = desk.ticket()
    browser = staffroom.signed_in()
    browser.get(ticket_path(ticket))
    # AND the agent then moved it to Waiting
    staffroom.agent_api.patch(
        f"/api/tickets/{ticket['number']}", {"status_id": desk.statuses["waiting"], "version": 1}
    )

    # WHEN the admin saves Solved from the version they read
    page = browser.post(ticket_path(ticket), edit_fields(desk, ticket, status_id=desk.statuses["solved"]))

    # THEN nothing of theirs is saved, and the page says what the ticket holds now
    assert page.status == 409
    assert "This ticket was changed by someone else" in page.plain
    assert "Status Waiting Solved" in page.plain
    after = stored(desk, ticket)
    assert (after["status_id"], after["version"]) == (desk.statuses["waiting"], 2)
    assert [change["actor"]["name"] for change in after["changes"]] == ["Alan Agent"]
    # AND the offered form saves their values over the current version
    again = browser.post(ticket_path(ticket), dict(re.findall(r'name="(\w+)" value="([^"]*)"', page.text)))
    assert again.location == f"{ticket_path(ticket)}?done=saved"
    assert stored(desk, ticket)["status_id"] == desk.statuses["solved"]


def test_a_stale_claim_names_who_holds_the_ticket_now(staffroom: Staffroom, desk: Desk) -> None:
    ticket = desk.ticket()
    browser = staffroom.signed_in()
    browser.get(ticket_path(ticket))
    staffroom.agent_api.patch(
        f"/api/tickets/{ticket['number']}", {"assignee_id": agent_id(staffroom), "version": 1}
    )

    page = browser.post(f"{ticket_path(ticket)}/claim", {"version": "1"})

    assert page.status == 409
    assert "Assignee Alan Agent Ada Admin" in page.plain
    assert stored(desk, ticket)["assignee_id"] == agent_id(staffroom)


def test_the_edit_form_offers_every_active_colleague_from_the_staff_directory(
    staffroom: Staffroom, desk: Desk
) -> None:
    # GIVEN two colleagues the ticket's timeline never names, one of them deactivated
    bea = add_staff(desk, "bea@example.com", "Bea <Backup>")
    zed = add_staff(desk, "zed@example.com", "Zed Former")
    desk.api.patch(f"/api/staff/{zed['id']}", {"active": False, "version": zed["version"]})
    ticket = desk.ticket()

    # WHEN an admin opens the ticket
    page = staffroom.signed_in().get(ticket_path(ticket))

    # THEN the assignee choice lists the active ones by name, escaped, and not the other
    form = page.text.split(f'action="/admin/tickets/{ticket["number"]}">', 1)[1].split("</form>", 1)[0]
    select = form.split('name="assignee_id"', 1)[1].split("</select>", 1)[0]
    offered = re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', select)
    assert offered == [
        ("", "Unassigned"),
        (desk.api.get("/api/auth/me").data["id"], "Me (Ada Admin)"),
        (agent_id(staffroom), "Alan Agent"),
        (bea["id"], "Bea &lt;Backup&gt;"),
    ]
    assert zed["id"] not in page.text


def test_the_assign_page_lists_active_staff_and_assigns_only_the_assignee(
    staffroom: Staffroom, desk: Desk
) -> None:
    ticket = desk.ticket(category_id=desk.categories["billing"])
    browser = staffroom.signed_in()

    page = browser.get(f"{ticket_path(ticket)}/assign")
    assert page.status == 200
    assert "Alan Agent" in page.plain
    assert "Ada Admin (you)" in page.plain
    assert '<input type="hidden" name="version" value="1">' in page.text

    answer = browser.post(ticket_path(ticket), {"assignee_id": agent_id(staffroom), "version": "1"})

    assert answer.location == f"{ticket_path(ticket)}?done=saved"
    after = stored(desk, ticket)
    assert (after["assignee_id"], after["category_id"]) == (agent_id(staffroom), desk.categories["billing"])
    # The change recorded the assignee's name: the agent's own page names them without a read
    agent_page = staffroom.signed_in("agent").get(ticket_path(ticket))
    assert "Ada Admin changed assignee from unassigned to Alan Agent" in agent_page.plain


def test_assigning_a_deactivated_staff_member_is_422_naming_the_assignee(
    staffroom: Staffroom, desk: Desk
) -> None:
    ticket = desk.ticket()
    member = staffroom.agent_api.get("/api/auth/me").data
    desk.api.patch(f"/api/staff/{member['id']}", {"active": False, "version": member["version"]})
    browser = staffroom.signed_in()
    browser.get(ticket_path(ticket))

    page = browser.post(ticket_path(ticket), edit_fields(desk, ticket, assignee_id=member["id"]))

    assert page.status == 422
    assert 'id="assignee_id" name="assignee_id" aria-invalid="true"' in page.text
    assert stored(desk, ticket)["assignee_id"] is None


# -- the delivery log ----------------------------------------------------------------


def test_the_delivery_log_shows_a_failure_and_sends_it_again_once(staffroom: Staffroom, desk: Desk) -> None:
    ticket = desk.ticket()
    delivery_id = add_failed_delivery(ticket["number"])
    browser = staffroom.signed_in("agent")

    log = browser.get(f"{ticket_path(ticket)}/deliveries")
    assert log.status == 200
    assert "Ticket received" in log.plain
    assert "Email: cleo@example.com" in log.plain
    assert "Failed" in log.plain
    assert "Throttling: &lt;Maximum&gt; sending rate exceeded." in log.text
    resend_path = f"{ticket_path(ticket)}/deliveries/{delivery_id}/resend"
    assert f'action="{resend_path}"' in log.text

    answer = browser.post(resend_path)
    assert answer.location == f"{ticket_path(ticket)}/deliveries?done=resend"
    items = desk.api.get(f"/api/tickets/{ticket['number']}/deliveries").data["items"]
    assert [item["outcome"] for item in items] == ["resend_requested"]
    after = browser.get(answer.location)
    assert "The message will be sent again in a moment" in after.plain
    assert f'action="{resend_path}"' not in after.text

    twice = browser.post(resend_path)
    assert twice.location == f"{ticket_path(ticket)}/deliveries?done=already"


def test_the_page_says_how_many_notifications_failed_until_each_is_asked_again(
    staffroom: Staffroom, desk: Desk
) -> None:
    # GIVEN a ticket two of whose notifications failed
    ticket = desk.ticket()
    failed = [add_failed_delivery(ticket["number"]) for _ in range(2)]
    browser = staffroom.signed_in("agent")
    log = f"{ticket_path(ticket)}/deliveries"

    # THEN its page says so beside the details, with a link to the log
    page = browser.get(ticket_path(ticket))
    details = page.plain.split("Details", 1)[1].split("Change the ticket", 1)[0]
    assert "2 notifications about this ticket could not be sent." in details
    assert f'<a href="{log}">Send them again from the delivery log</a>' in page.text

    # WHEN staff ask for one, then the other, again
    browser.get(log)
    assert browser.post(f"{log}/{failed[0]}/resend").status == 303
    one_left = browser.get(ticket_path(ticket))
    assert browser.post(f"{log}/{failed[1]}/resend").status == 303
    none_left = browser.get(ticket_path(ticket))

    # THEN the page counts down, and says nothing once none waits
    assert "1 notification about this ticket could not be sent." in one_left.plain
    assert f'<a href="{log}">Send it again from the delivery log</a>' in one_left.text
    assert "could not be sent" not in none_left.plain
    assert stored(desk, ticket)["failed_deliveries"] == 0


def test_a_resend_shows_in_the_timeline_and_the_log_names_who_asked_for_it(
    staffroom: Staffroom, desk: Desk, clock: MovableClock
) -> None:
    # GIVEN a ticket whose confirmation email failed, and the agent on its delivery log
    ticket = desk.ticket()
    delivery_id = add_failed_delivery(ticket["number"])
    agent = staffroom.signed_in("agent")
    agent.get(f"{ticket_path(ticket)}/deliveries")
    clock.advance(minutes=2)

    # WHEN the agent asks for it again
    answer = agent.post(f"{ticket_path(ticket)}/deliveries/{delivery_id}/resend")
    assert answer.status == 303

    # THEN the ticket's timeline tells who asked for which message, as its newest entry
    admin = staffroom.signed_in()
    page = admin.get(ticket_path(ticket))
    assert entries(page)[-1].startswith(
        "entry change | Alan Agent asked to send the failed email “Ticket received”"
        " to cleo@example.com again,"
    )
    assert f'href="{ticket_path(ticket)}/deliveries">delivery log</a>' in page.text

    # AND the delivery log, as another staff member reads it, names who asked, in two round trips
    with count_calls() as calls:
        log = admin.get(f"{ticket_path(ticket)}/deliveries")
    assert calls.by_operation == {"BatchGetItem": 1, "Query": 1}
    row = log.plain.split("Ticket received", 1)[1]
    assert row.startswith(" Email: cleo@example.com Re-send requested")
    assert "Re-send asked for by Alan Agent" in row


def test_the_log_names_a_renamed_requester_by_their_name_now_and_the_timeline_as_then(
    staffroom: Staffroom, desk: Desk
) -> None:
    ticket = desk.ticket()
    delivery_id = add_failed_delivery(ticket["number"])
    browser = staffroom.signed_in("agent")
    browser.get(f"{ticket_path(ticket)}/deliveries")
    browser.post(f"{ticket_path(ticket)}/deliveries/{delivery_id}/resend")
    me = staffroom.agent_api.get("/api/auth/me").data
    renamed = {"name": "Alan <Renamed>", "version": me["version"]}
    assert desk.api.patch(f"/api/staff/{me['id']}", renamed).status_code == 200

    log = staffroom.signed_in().get(f"{ticket_path(ticket)}/deliveries")
    page = staffroom.signed_in().get(ticket_path(ticket))

    assert "Re-send asked for by Alan &lt;Renamed&gt;" in log.text
    assert "<Renamed>" not in log.text
    assert "Alan Agent asked to send the failed email" in page.plain


def test_a_delivery_of_another_ticket_cannot_be_sent_again_from_this_one(
    staffroom: Staffroom, desk: Desk
) -> None:
    first, second = desk.ticket(), desk.ticket()
    delivery_id = add_failed_delivery(first["number"])
    browser = staffroom.signed_in()
    browser.get(f"{ticket_path(second)}/deliveries")

    page = browser.post(f"{ticket_path(second)}/deliveries/{delivery_id}/resend")

    assert page.status == 404
    items = desk.api.get(f"/api/tickets/{first['number']}/deliveries").data["items"]
    assert [item["outcome"] for item in items] == ["failed"]


# -- forms need their token ----------------------------------------------------------


def test_no_form_of_the_page_does_anything_without_its_csrf_token(staffroom: Staffroom, desk: Desk) -> None:
    ticket = desk.ticket()
    delivery_id = add_failed_delivery(ticket["number"])
    browser: Browser = staffroom.signed_in()
    browser.get(ticket_path(ticket))

    answers = [
        browser.post(f"{ticket_path(ticket)}/notes", {"body": "Hello", "csrf_token": "forged"}),
        browser.post(
            ticket_path(ticket), edit_fields(desk, ticket, status_id=desk.statuses["solved"]), csrf=False
        ),
        browser.post(f"{ticket_path(ticket)}/claim", {"version": "1"}, csrf=False),
        browser.post(f"{ticket_path(ticket)}/deliveries/{delivery_id}/resend", csrf=False),
        browser.post(
            f"{ticket_path(ticket)}/notes", {"body": "Hello"}, headers={"Origin": "https://evil.example"}
        ),
    ]

    assert [answer.status for answer in answers] == [403] * 5
    after = stored(desk, ticket)
    assert (after["note_count"], after["version"], after["assignee_id"], after["changes"]) == (0, 1, None, [])
    items = desk.api.get(f"/api/tickets/{ticket['number']}/deliveries").data["items"]
    assert [item["outcome"] for item in items] == ["failed"]
