"""A customer's whole way through the portal in a real browser, with the staff answering
through the JSON API; and another customer who tries every path on a ticket not theirs."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.services import Login, StaffApi
from tests.browser.steps import raise_ticket, register_and_confirm, sign_in
from tests.smoke.test_local_stack import LocalStackProcess

NOT_YOURS = "No ticket of yours has this number."


def test_a_new_customer_registers_raises_a_ticket_sees_public_notes_only_replies_and_rates_it_once_closed(
    page: Page, stack: LocalStackProcess, staff: StaffApi
) -> None:
    # GIVEN a visitor who registers and confirms from the link the portal emailed
    login = Login("wendy.walker@example.com", "a long walk in the portal")
    register_and_confirm(page, stack.base, "Wendy Walker", login)

    # WHEN they raise a ticket from the overview
    page.get_by_role("link", name="New ticket").click()
    number = raise_ticket(page, "Blender will not start", "It hums but the blade never turns.", "Technical")

    # THEN the ticket page thanks them and shows what they wrote, as received
    expect(page.get_by_role("status")).to_contain_text(f"Your ticket #{number} is with us")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"#{number} Blender will not start")
    expect(page.get_by_text("Received", exact=True)).to_be_visible()
    conversation = page.get_by_role("list", name="Conversation")
    expect(conversation).to_contain_text("It hums but the blade never turns.")

    # WHEN the staff add a public and a private note
    staff.add_note(number, "Please hold the reset button for five seconds.", public=True)
    staff.add_note(number, "Known fault in batch 7; replace if the reset fails.", public=False)
    page.reload()

    # THEN the customer sees the public one only
    expect(conversation.get_by_role("listitem")).to_have_count(2)
    expect(conversation).to_contain_text("Support team wrote")
    expect(conversation).to_contain_text("Please hold the reset button for five seconds.")
    assert "batch 7" not in page.content()

    # WHEN they reply
    page.get_by_label("Your message").fill("The reset worked, thank you!")
    page.get_by_role("button", name="Send reply").click()

    # THEN the reply is the latest entry and the ticket shows the reply was received
    expect(conversation.get_by_role("listitem").last).to_contain_text("You wrote")
    expect(conversation.get_by_role("listitem").last).to_contain_text("The reset worked, thank you!")
    expect(page.get_by_text("Reply received", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="How did we do?")).to_have_count(0)

    # WHEN the staff close the ticket
    closed = staff.close(number)
    page.reload()

    # THEN the customer sees it closed and can rate it
    expect(page.get_by_text(closed["customer_label"], exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="How did we do?")).to_be_visible()
    page.get_by_label("Good", exact=True).check()
    page.get_by_label("Comment").fill("Quick and friendly.")
    page.get_by_role("button", name="Send my rating").click()

    # THEN they are thanked, the page remembers their choice, and the staff see the rating
    expect(page.get_by_role("status")).to_have_text("Thank you for your rating.")
    expect(page.get_by_text("You rated this ticket “Good”.")).to_be_visible()
    expect(page.get_by_label("Good", exact=True)).to_be_checked()
    rating = staff.get(f"/api/tickets/{number}")["rating"]
    assert (rating["label"], rating["comment"]) == ("Good", "Quick and friendly.")


def test_another_customer_gets_not_found_and_nothing_of_a_ticket_that_is_not_theirs(
    open_context: Callable[..., BrowserContext],
    stack: LocalStackProcess,
    staff: StaffApi,
    customer: Login,
) -> None:
    # GIVEN a customer's closed ticket with a public note from the staff
    owner = open_context().new_page()
    olga = Login("olga.owner@example.com", "my own ticket only")
    register_and_confirm(owner, stack.base, "Olga Owner", olga)
    number = raise_ticket(owner, "Refund for order 77", "My bank details are DE89 3704 0044 0532 0130 00.")
    staff.add_note(number, "Refund of 45.00 approved for Olga.", public=True)
    staff.close(number)
    option = staff.get("/api/rating-options")["items"][0]
    before = staff.get(f"/api/tickets/{number}")
    secrets_of_the_ticket = ("Refund for order 77", "DE89", "45.00 approved")

    # AND the demo customer, signed in in another browser
    intruder = open_context().new_page()
    sign_in(intruder, customer)

    # WHEN they open the ticket's page
    response = intruder.goto(f"/portal/tickets/{number}")

    # THEN it is not found, exactly as a number that does not exist, and shows nothing of it
    assert response is not None
    assert response.status == 404
    expect(intruder.get_by_role("heading", level=1)).to_have_text("Not found")
    expect(intruder.get_by_text(NOT_YOURS)).to_be_visible()
    assert not [part for part in secrets_of_the_ticket if part in intruder.content()]
    unknown = intruder.request.get("/portal/tickets/987654")
    assert unknown.status == 404
    assert intruder.request.get(f"/portal/tickets/{number}").text() == unknown.text()

    # WHEN they send their own ticket's reply form, pointed at that ticket
    intruder.goto("/portal/tickets")
    intruder.get_by_role("table").get_by_role("link").first.click()
    intruder.get_by_label("Your message").fill("I can write on your ticket")
    send = intruder.get_by_role("button", name="Send reply")
    send.evaluate("(button, number) => { button.form.action = `/portal/tickets/${number}/reply`; }", number)
    with intruder.expect_response(lambda answer: answer.request.method == "POST") as posted:
        send.click()

    # THEN the reply is refused as not found, with nothing of the ticket
    assert (posted.value.url, posted.value.status) == (f"{stack.base}/portal/tickets/{number}/reply", 404)
    expect(intruder.get_by_role("heading", level=1)).to_have_text("Not found")
    assert not [part for part in secrets_of_the_ticket if part in intruder.content()]

    # WHEN they post a rating with the CSRF token of a page of their own
    intruder.goto("/portal")
    token = intruder.locator("input[name=csrf_token]").first.input_value()
    rating = intruder.request.post(
        f"/portal/tickets/{number}/rating",
        form={"csrf_token": token, "rating_option_id": option["id"], "comment": "Terrible!"},
        max_redirects=0,
    )

    # THEN that is not found too (a token refused would be 403), with nothing of the ticket
    assert rating.status == 404
    assert rating.text() == unknown.text()

    # AND the ticket is exactly as it was: no note, no rating, no change of status
    assert staff.get(f"/api/tickets/{number}") == before
    assert before["rating"] is None
