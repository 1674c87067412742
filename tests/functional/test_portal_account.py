"""The portal's account and statement pages: what a customer may change about themselves,
what needs their current password, how a new email waits for the link sent to it, and
their ledger as a page and as a CSV download."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import botocore.client  # type: ignore[import-untyped]
import pytest
from chalice.test import Client

from chalicelib.domain import contacts, portal_account, portal_auth, setup
from chalicelib.store.models import AccountMail, Contact, Item
from tests.bench.counting import count_calls
from tests.functional import test_notifications as notifying
from tests.functional.browsing import Browser, Page
from tests.functional.desk import Desk, MovableClock
from tests.functional.portal_fixtures import PASSWORD, Customers, customers, sign_in
from tests.functional.test_embed import Website
from tests.functional.test_notifications import Outbox
from tests.functional.test_portal_access import LINK, deliver, link_answers, link_in, mails_to
from tests.functional.test_stream_handler import StreamTap

pytestmark = pytest.mark.usefixtures("clock")

__all__ = ["customers"]

outbox = notifying.outbox
tap = notifying.tap

NEW_PASSWORD = "another long passphrase for the portal"
LABELS = {"invoice": "Invoice", "payment": "Payment", "credit_note": "Credit note"}


def account_form(**changes: str) -> dict[str, str]:
    """What the account form posts for Cleo as she is, with ``changes`` applied."""
    return {
        "email": "cleo@example.com",
        "phone": "",
        "address": "",
        "notify_email": "1",
        **changes,
    }


def staff_view(desk: Desk, name: str = "cleo") -> dict[str, Any]:
    data: dict[str, Any] = desk.api.get(f"/api/contacts/{desk.contacts[name]}").data
    return data


def stored(desk: Desk, name: str = "cleo") -> Contact:
    return Contact.get(*Contact.key(desk.contacts[name]), consistent_read=True)


def add_entry(desk: Desk, name: str, **entry: str) -> None:
    response = desk.api.post(f"/api/contacts/{desk.contacts[name]}/transactions", entry)
    assert response.status_code == 201, response.body


def session_cookie(browser: Browser) -> str:
    return browser.cookies["__Host-hd_portal"]


@contextmanager
def dynamodb_requests() -> Iterator[list[tuple[str, dict[str, Any]]]]:
    """Every DynamoDB request made inside the block: its operation and its parameters."""
    seen: list[tuple[str, dict[str, Any]]] = []
    original = botocore.client.BaseClient._make_api_call

    def recording(client: Any, operation: str, params: dict[str, Any]) -> Any:
        if client.meta.service_model.service_name == "dynamodb":
            seen.append((operation, params))
        return original(client, operation, params)

    botocore.client.BaseClient._make_api_call = recording
    try:
        yield seen
    finally:
        botocore.client.BaseClient._make_api_call = original


# -- the account page ----------------------------------------------------------------


def test_the_account_page_shows_the_details_and_choices_with_labels(customers: Customers, desk: Desk) -> None:
    # GIVEN Cleo has a phone and an address on file
    cleo = staff_view(desk)
    desk.api.patch(
        f"/api/contacts/{cleo['id']}",
        {"phone": "+442079460000", "address": "1 High Street\nLondon", "version": cleo["version"]},
    )

    page = customers.signed_in("cleo").get("/portal/account")

    assert page.status == 200
    assert page.headers["Cache-Control"] == "no-store"
    assert "unsafe-inline" not in page.headers["Content-Security-Policy"]
    assert 'aria-current="page">Account<' in page.text
    assert "Cleo Customer" in page.plain
    assert 'value="cleo@example.com"' in page.text
    assert 'value="+442079460000"' in page.text
    assert ">1 High Street\nLondon</textarea>" in page.text
    for field in ("email", "phone", "address", "new_password", "current_password"):
        assert f'<label for="{field}">' in page.text
        assert f'id="{field}"' in page.text
    assert "<legend>Tell me about my tickets by</legend>" in page.text
    assert re.search(r'name="notify_email" value="1" checked>', page.text)
    assert re.search(r'name="notify_sms" value="1">', page.text)
    assert "<script" not in page.text
    assert "style=" not in page.text


def test_a_customer_saves_phone_address_and_choices_and_is_told_so(customers: Customers, desk: Desk) -> None:
    browser = customers.signed_in("cleo")
    browser.get("/portal/account")

    answer = browser.post(
        "/portal/account",
        account_form(phone="+44 20 7946 0000", address="  1 High Street\r\nLondon  ", notify_sms="1")
        | {"notify_email": ""},
    )

    assert answer.status == 303
    assert answer.location == "/portal/account?saved=1"
    after = staff_view(desk)
    assert after["phone"] == "+442079460000"  # E.164, whatever the customer typed
    assert after["address"] == "1 High Street\nLondon"
    assert (after["notify_email"], after["notify_sms"]) == (False, True)
    page = browser.get(answer.location)
    assert "Your changes are saved." in page.plain
    assert 'value="+442079460000"' in page.text


def test_emptying_the_phone_and_address_removes_them(customers: Customers, desk: Desk) -> None:
    cleo = staff_view(desk)
    desk.api.patch(
        f"/api/contacts/{cleo['id']}",
        {"phone": "+442079460000", "address": "1 High Street", "version": cleo["version"]},
    )
    browser = customers.signed_in("cleo")
    browser.get("/portal/account")

    answer = browser.post("/portal/account", account_form(phone=" ", address=""))

    assert answer.status == 303
    after = staff_view(desk)
    assert (after["phone"], after["address"]) == (None, None)


def test_fields_a_customer_may_not_set_are_ignored(customers: Customers, desk: Desk) -> None:
    before = staff_view(desk)
    browser = customers.signed_in("cleo")
    browser.get("/portal/account")

    answer = browser.post(
        "/portal/account",
        account_form(
            phone="+442079460000",
            name="Someone Else",
            company="Evil Corp",
            service_level_id=desk.levels["urgent"],
            portal_access="disabled",
            portal_state="disabled",
            version="99",
            balances="0",
        ),
    )

    assert answer.status == 303
    after = staff_view(desk)
    assert after["phone"] == "+442079460000"
    for kept in ("name", "company", "service_level_id", "portal_access"):
        assert after[kept] == before[kept]
    assert after["version"] == before["version"] + 1


def test_an_edit_writes_only_the_changed_attributes_under_the_version_read(
    customers: Customers, desk: Desk
) -> None:
    # GIVEN a balance the ledger keeps on the contact item
    add_entry(
        desk, "cleo", type="invoice", reference="INV-1", amount="50.00", currency="EUR", date="2026-01-05"
    )
    version = staff_view(desk)["version"]
    browser = customers.signed_in("cleo")
    browser.get("/portal/account")

    with dynamodb_requests() as requests:
        answer = browser.post("/portal/account", account_form(phone="+442079460000"))

    assert answer.status == 303
    assert [operation for operation, _ in requests] == ["BatchGetItem", "UpdateItem"]
    update = requests[1][1]
    names, values = update["ExpressionAttributeNames"], update["ExpressionAttributeValues"]
    assert set(names.values()) == {"phone", "updated_at", "version"}
    checked_name, checked_value = update["ConditionExpression"].split(" = ")
    assert (names[checked_name], values[checked_value]) == ("version", {"N": str(version)})
    assert stored(desk).balances == {"EUR": 50}
    assert stored(desk).password_hash is not None


def test_an_edit_made_on_a_stale_read_changes_nothing(
    customers: Customers, desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN staff rename Cleo after her session read her contact, before her edit is written
    from chalicelib.domain import portal_account

    original = portal_account._write

    def staff_edit_first(contact: Contact, edits: dict[str, Any]) -> None:
        contacts.update(
            setup.load(), contacts.get(contact.id), {"name": "Cleo Renamed", "version": contact.version}
        )
        original(contact, edits)

    monkeypatch.setattr(portal_account, "_write", staff_edit_first)
    browser = customers.signed_in("cleo")
    browser.get("/portal/account")

    page = browser.post("/portal/account", account_form(phone="+442079460000"))

    assert page.status == 409
    after = staff_view(desk)
    assert after["name"] == "Cleo Renamed"
    assert after["phone"] is None


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"phone": "020 7946 0000"}, "phone"),
        ({"phone": "+44 12"}, "phone"),
        ({"address": "x" * 501}, "address"),
        ({"email": "not an email", "current_password": PASSWORD}, "email"),
        ({"new_password": "too short", "current_password": PASSWORD}, "new_password"),
    ],
)
def test_a_bad_value_comes_back_marked_on_its_field_and_nothing_changes(
    customers: Customers, desk: Desk, changes: dict[str, str], field: str
) -> None:
    before = staff_view(desk)
    hash_before = stored(desk).password_hash
    browser = customers.signed_in("cleo")
    browser.get("/portal/account")

    page = browser.post("/portal/account", account_form(notify_sms="1", **changes))

    assert page.status == 422
    assert f'id="{field}-error"' in page.text
    assert re.search(
        rf'id="{field}"[^>]*aria-invalid="true"[^>]*aria-describedby="[^"]*{field}-error', page.text
    )
    assert staff_view(desk) == before
    assert stored(desk).password_hash == hash_before
    # What the customer typed comes back, except any password.
    assert re.search(r'name="notify_sms" value="1" checked>', page.text)
    assert PASSWORD not in page.text


def test_a_form_without_its_csrf_token_changes_nothing(customers: Customers, desk: Desk) -> None:
    before = staff_view(desk)
    browser = customers.signed_in("cleo")

    page = browser.post("/portal/account", account_form(phone="+442079460000"), csrf=False)

    assert page.status == 403
    assert staff_view(desk) == before


def test_another_browsers_csrf_token_changes_nothing(customers: Customers, desk: Desk) -> None:
    before = staff_view(desk)
    other = customers.signed_in("cleo")
    other.get("/portal/account")
    browser = customers.signed_in("cleo")

    page = browser.post("/portal/account", account_form(phone="+442079460000", csrf_token=other.csrf))

    assert page.status == 403
    assert staff_view(desk) == before


def test_a_browser_not_signed_in_is_sent_to_sign_in_and_back(customers: Customers) -> None:
    browser = customers.browser()

    answer = browser.get("/portal/account")

    assert answer.status == 303
    assert answer.location == "/portal/login?next=/portal/account"


# -- changing the email --------------------------------------------------------------
#
# A new email only waits (``pending_email``) until the signed link sent to it is opened
# with the account's password: until then nothing of the address is the customer's.


def ask_for_email(browser: Browser, address: str, current: str = PASSWORD, **changes: str) -> Page:
    """Ask for ``address`` on the account form, with ``current`` as the current password."""
    browser.get("/portal/account")
    return browser.post("/portal/account", account_form(email=address, current_password=current, **changes))


def emailed_link(client: Client, tap: StreamTap, outbox: Outbox, address: str) -> str:
    """Run the stream, then the path of the link in the newest email to ``address``."""
    deliver(client, tap)
    subject, body = mails_to(outbox, address)[-1]
    assert subject == "Confirm your new email address", subject
    return link_in(body)


def use_link(browser: Browser, path: str, password: str = PASSWORD) -> Page:
    """Open an email link's page, then send its form with ``password``."""
    browser.get(path)
    return browser.post(path, {"password": password})


def test_asking_for_an_address_takes_nothing_of_it_until_its_link_is_used(
    client: Client, customers: Customers, desk: Desk, clock: MovableClock
) -> None:
    # GIVEN Cleo asks, with her own password, for an address she cannot read mail at
    cleo = customers.signed_in("cleo")
    cleo.get("/portal/account")

    with dynamodb_requests() as requests:
        answer = cleo.post(
            "/portal/account", account_form(email="vic@example.com", current_password=PASSWORD)
        )

    # THEN her email, and the address's claim, are as they were: one versioned update of the
    # pending address, no transaction
    assert answer.status == 303
    assert answer.location == "/portal/account?email=sent"
    updates = [params for operation, params in requests if operation == "UpdateItem"]
    contact_update = [p for p in updates if p["Key"]["pk"]["S"].startswith("CONTACT#")]
    assert [set(p["ExpressionAttributeNames"].values()) for p in contact_update] == [
        {"pending_email", "updated_at", "version"}
    ]
    assert "TransactWriteItems" not in [operation for operation, _ in requests]
    assert stored(desk).pending_email == "vic@example.com"
    assert staff_view(desk)["email"] == "cleo@example.com"
    assert desk.api.get("/api/contacts?email=vic@example.com").data["items"] == []
    assert sign_in(customers.browser(), "vic@example.com", PASSWORD).status == 401

    # WHEN Vic, who owns the address, raises a ticket on a website
    website = Website(client, desk, clock)
    raised = website.post(website.fields(subject="Vic's private order", email="vic@example.com"))
    assert raised.status_code == 201, raised.body
    number = raised.data["number"]

    # THEN it is his own new contact's, and Cleo's portal knows nothing of it
    ticket = desk.api.get(f"/api/tickets/{number}").data
    assert ticket["contact_id"] != desk.contacts["cleo"]
    assert desk.api.get(f"/api/contacts/{ticket['contact_id']}").data["email"] == "vic@example.com"
    assert "Vic's private order" not in cleo.get("/portal/tickets").plain
    assert cleo.get(f"/portal/tickets/{number}").status == 404


def test_a_taken_and_a_free_address_get_the_same_answer(
    client: Client, customers: Customers, desk: Desk, tap: StreamTap, outbox: Outbox
) -> None:
    cleo = customers.signed_in("cleo")

    taken = ask_for_email(cleo, "dana@example.com", phone="+442079460000")
    taken_page = cleo.get(taken.location)
    deliver(client, tap)  # before the next request replaces the pending address
    free = ask_for_email(cleo, "cleo.new@example.com", phone="+442079460001")
    free_page = cleo.get(free.location)
    deliver(client, tap)

    # THEN the same answer and the same page, but for the address typed
    assert (
        (taken.status, taken.location)
        == (free.status, free.location)
        == (303, "/portal/account?saved=1&email=sent")
    )
    assert taken_page.status == free_page.status == 200
    assert "We sent a link to dana@example.com." in taken_page.plain
    assert (
        taken_page.plain.replace("dana@example.com", "cleo.new@example.com").replace(
            "+442079460000", "+442079460001"
        )
        == free_page.plain
    )
    assert "cannot be used" not in taken_page.plain
    # AND the taken address's owner hears nothing, while the free one gets its link
    assert mails_to(outbox, "dana@example.com") == []
    assert "/portal/email/" in link_in(mails_to(outbox, "cleo.new@example.com")[0][1])
    # AND the old address gets the same word both times, with a way to stop the change
    notices = mails_to(outbox, "cleo@example.com")
    assert [subject for subject, _ in notices] == ["Someone asked to change your support account's email"] * 2
    assert len({LINK.sub("<link>", body) for _, body in notices}) == 1
    assert all("/portal/password-reset/" in link_in(body) for _, body in notices)
    # AND Dana's account is untouched
    assert staff_view(desk, "dana")["email"] == "dana@example.com"
    assert sign_in(customers.browser(), "dana@example.com", PASSWORD).status == 303
    skipped = [m for m in Item.scan() if isinstance(m, AccountMail) and m.recipient == "dana@example.com"]
    assert [(m.outcome, m.reason) for m in skipped] == [("skipped", "the address belongs to another contact")]


def test_the_link_moves_the_email_and_its_claim_once_and_signs_in_afresh(
    client: Client, customers: Customers, desk: Desk, tap: StreamTap, outbox: Outbox, clock: MovableClock
) -> None:
    laptop = customers.signed_in("cleo")
    ask_for_email(laptop, "cleo.new@example.com")
    path = emailed_link(client, tap, outbox, "cleo.new@example.com")
    assert path.startswith("/portal/email/")
    assert "24 hours" in mails_to(outbox, "cleo.new@example.com")[0][1]
    clock.advance(seconds=1)

    # WHEN the link is opened on a phone: a page with a form, that changes nothing
    phone = customers.browser()
    before = staff_view(desk)
    with count_calls() as calls:
        opened = phone.get(path)
    assert opened.status == 200
    assert "cleo.new@example.com" in opened.plain
    assert 'type="password"' in opened.text
    assert "cleo@example.com" not in opened.text  # the new mailbox learns nothing of the old
    assert calls.writes == 0
    assert staff_view(desk) == before
    # AND a wrong password changes nothing either
    wrong = phone.post(path, {"password": "not my password at all"})
    assert wrong.status == 422
    assert 'id="password-error"' in wrong.text
    assert staff_view(desk) == before

    with dynamodb_requests() as requests:
        used = phone.post(path, {"password": PASSWORD})

    # THEN one transaction moves the email and the claim, and the phone is signed in
    assert used.status == 303
    assert used.location == "/portal/account?email=changed"
    (transaction,) = [params for operation, params in requests if operation == "TransactWriteItems"]
    assert sorted(next(iter(action)) for action in transaction["TransactItems"]) == [
        "Delete",
        "Put",
        "Update",
    ]
    assert "Your email is now cleo.new@example.com." in phone.get(used.location).plain
    after = stored(desk)
    assert (after.email, after.pending_email) == ("cleo.new@example.com", None)
    found = desk.api.get("/api/contacts?email=cleo.new@example.com").data["items"]
    assert [contact["id"] for contact in found] == [desk.contacts["cleo"]]
    # AND the old address is free, the new one taken
    assert (
        desk.api.post("/api/contacts", {"name": "New Cleo", "email": "cleo@example.com"}).status_code == 201
    )
    taken = desk.api.post("/api/contacts", {"name": "Copy", "email": "cleo.new@example.com"})
    assert taken.status_code == 409
    # AND other browsers sign in again, with the new address only
    assert laptop.get("/portal").status == 303
    assert sign_in(customers.browser(), "cleo@example.com", PASSWORD).status == 401
    assert sign_in(customers.browser(), "cleo.new@example.com", PASSWORD).status == 303
    # AND the link has done its work
    opened_again, posted_again = link_answers(customers.browser(), path, PASSWORD)
    assert (opened_again.status, posted_again.status) == (404, 404)


def test_once_the_email_has_moved_the_word_to_the_old_address_opens_nothing(
    client: Client, customers: Customers, tap: StreamTap, outbox: Outbox
) -> None:
    # GIVEN Cleo moved to a new address, and her old mailbox still holds the notice's link
    ask_for_email(customers.signed_in("cleo"), "cleo.new@example.com")
    link = emailed_link(client, tap, outbox, "cleo.new@example.com")
    ((_, notice),) = mails_to(outbox, "cleo@example.com")
    assert use_link(customers.browser(), link).status == 303

    # WHEN whoever reads the old mailbox follows that link
    reset = link_in(notice)
    assert reset.startswith("/portal/password-reset/")
    opened, posted = link_answers(customers.browser(), reset, NEW_PASSWORD)

    # THEN the link no longer works, and the password is still Cleo's
    assert (opened.status, posted.status) == (404, 404)
    assert sign_in(customers.browser(), "cleo.new@example.com", PASSWORD).status == 303


def test_a_newer_request_retires_the_older_link(
    client: Client, customers: Customers, desk: Desk, tap: StreamTap, outbox: Outbox
) -> None:
    cleo = customers.signed_in("cleo")
    ask_for_email(cleo, "first@example.com")
    first = emailed_link(client, tap, outbox, "first@example.com")
    ask_for_email(cleo, "second@example.com")
    second = emailed_link(client, tap, outbox, "second@example.com")

    opened, posted = link_answers(customers.browser(), first, PASSWORD)
    assert (opened.status, posted.status) == (404, 404)
    assert use_link(customers.browser(), second).status == 303
    assert staff_view(desk)["email"] == "second@example.com"
    assert desk.api.post("/api/contacts", {"name": "F", "email": "first@example.com"}).status_code == 201


def test_a_new_password_from_the_word_to_the_old_address_stops_the_change(
    client: Client, customers: Customers, desk: Desk, tap: StreamTap, outbox: Outbox
) -> None:
    ask_for_email(customers.signed_in("cleo"), "thief@example.com")
    link = emailed_link(client, tap, outbox, "thief@example.com")
    ((_, notice),) = mails_to(outbox, "cleo@example.com")

    assert use_link(customers.browser(), link_in(notice), NEW_PASSWORD).status == 303

    assert customers.browser().get(link).status == 404
    assert staff_view(desk)["email"] == "cleo@example.com"


def test_the_link_expires_after_24_hours(
    client: Client, customers: Customers, desk: Desk, tap: StreamTap, outbox: Outbox, clock: MovableClock
) -> None:
    ask_for_email(customers.signed_in("cleo"), "cleo.new@example.com")
    path = emailed_link(client, tap, outbox, "cleo.new@example.com")

    clock.advance(hours=24, seconds=1)

    page = customers.browser().get(path)
    assert page.status == 404
    assert "not valid or has expired" in page.plain
    assert stored(desk).email == "cleo@example.com"


def test_an_address_claimed_since_the_request_is_not_taken_and_nothing_changes(
    client: Client, customers: Customers, desk: Desk, tap: StreamTap, outbox: Outbox
) -> None:
    laptop = customers.signed_in("cleo")
    ask_for_email(laptop, "vic@example.com")
    path = emailed_link(client, tap, outbox, "vic@example.com")
    vic = desk.created("/api/contacts", {"name": "Vic", "email": "vic@example.com"})
    before = stored(desk)

    page = use_link(customers.browser(), path)

    assert page.status == 409
    assert "belong to another account" in page.plain
    assert "hd_portal" not in " ".join(page.set_cookies)
    after = stored(desk)
    assert (after.email, after.version, after.sessions_valid_from) == (
        "cleo@example.com",
        before.version,
        before.sessions_valid_from,
    )
    assert desk.api.get(f"/api/contacts/{vic['id']}").data["email"] == "vic@example.com"
    found = desk.api.get("/api/contacts?email=vic@example.com").data["items"]
    assert [contact["id"] for contact in found] == [vic["id"]]
    assert laptop.get("/portal").status == 200


def test_passwords_tried_on_the_link_are_limited(
    client: Client, customers: Customers, desk: Desk, tap: StreamTap, outbox: Outbox
) -> None:
    ask_for_email(customers.signed_in("cleo"), "cleo.new@example.com")
    path = emailed_link(client, tap, outbox, "cleo.new@example.com")
    browser = customers.browser()
    browser.get(path)
    limit = portal_account.EMAIL_CONFIRM.attempts

    wrong = [browser.post(path, {"password": f"guess number {n}"}).status for n in range(limit)]
    right = browser.post(path, {"password": PASSWORD})

    assert wrong == [422] * limit
    assert right.status == 429
    assert stored(desk).email == "cleo@example.com"


def test_changing_only_the_case_of_the_email_keeps_the_claim(customers: Customers, desk: Desk) -> None:
    browser = customers.signed_in("cleo")
    browser.get("/portal/account")

    answer = browser.post(
        "/portal/account", account_form(email="Cleo@example.com", current_password=PASSWORD)
    )

    assert answer.status == 303
    assert staff_view(desk)["email"] == "Cleo@example.com"
    taken = desk.api.post("/api/contacts", {"name": "Copy", "email": "cleo@example.com"})
    assert taken.status_code == 409
    assert sign_in(customers.browser(), "cleo@example.com", PASSWORD).status == 303


@pytest.mark.parametrize("current", ["", "not my password"])
def test_an_email_change_without_the_right_current_password_changes_nothing(
    customers: Customers, desk: Desk, current: str
) -> None:
    before = staff_view(desk)
    browser = customers.signed_in("cleo")
    browser.get("/portal/account")

    page = browser.post(
        "/portal/account",
        account_form(email="cleo.new@example.com", phone="+442079460000", current_password=current),
    )

    assert page.status == 422
    assert 'id="current_password-error"' in page.text
    assert 'aria-describedby="current_password-hint current_password-error"' in page.text
    assert staff_view(desk) == before
    assert stored(desk).pending_email is None
    assert not [item for item in Item.scan() if isinstance(item, AccountMail)]


def test_email_change_requests_are_limited_per_account_even_with_the_right_password(
    customers: Customers, desk: Desk
) -> None:
    browser = customers.signed_in("cleo")
    limit = portal_account.EMAIL_CHANGES.attempts

    allowed = [ask_for_email(browser, f"try{n}@example.com").status for n in range(limit)]
    # Another browser of the same account shares the count.
    refused = ask_for_email(customers.signed_in("cleo"), "one.more@example.com")

    assert allowed == [303] * limit
    assert refused.status == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert stored(desk).pending_email == f"try{limit - 1}@example.com"
    # Other edits, a new password included, are not held back by it.
    browser.get("/portal/account")
    password = browser.post(
        "/portal/account", account_form(current_password=PASSWORD, new_password=NEW_PASSWORD)
    )
    assert password.status == 303


def test_current_password_checks_are_throttled_per_account(customers: Customers, desk: Desk) -> None:
    hash_before = stored(desk).password_hash
    browser = customers.signed_in("cleo")
    browser.get("/portal/account")
    change = account_form(new_password=NEW_PASSWORD)

    wrong = [browser.post("/portal/account", change | {"current_password": f"guess {n}"}) for n in range(5)]
    # Another browser of the same account shares the count.
    other = customers.signed_in("cleo")
    other.get("/portal/account")
    right = other.post("/portal/account", change | {"current_password": PASSWORD})

    assert [page.status for page in wrong] == [422] * 5
    assert right.status == 429
    assert int(right.headers["Retry-After"]) > 0
    assert stored(desk).password_hash == hash_before


def test_a_right_current_password_clears_the_count(customers: Customers, desk: Desk) -> None:
    browser = customers.signed_in("cleo")
    browser.get("/portal/account")
    for n in range(4):
        browser.post(
            "/portal/account", account_form(current_password=f"guess {n}", new_password=NEW_PASSWORD)
        )

    changed = browser.post(
        "/portal/account", account_form(current_password=PASSWORD, new_password=NEW_PASSWORD)
    )
    browser.get("/portal/account")
    answers = [
        browser.post(
            "/portal/account",
            account_form(current_password=f"again {n}", new_password="yet another passphrase"),
        )
        for n in range(4)
    ]

    assert changed.status == 303
    assert [page.status for page in answers] == [422] * 4
    assert sign_in(customers.browser(), "cleo@example.com", NEW_PASSWORD).status == 303


# -- changing the password -----------------------------------------------------------


def test_a_password_change_ends_other_sessions_and_keeps_this_browser_signed_in(
    customers: Customers, desk: Desk, clock: MovableClock
) -> None:
    # GIVEN Cleo signed in on two browsers a while ago
    browser, elsewhere = customers.signed_in("cleo"), customers.signed_in("cleo")
    old_cookie = session_cookie(browser)
    clock.advance(seconds=1)
    browser.get("/portal/account")

    answer = browser.post(
        "/portal/account", account_form(current_password=PASSWORD, new_password=NEW_PASSWORD)
    )

    # THEN this browser has a fresh session, begun in the very instant the change took effect
    assert answer.status == 303
    assert answer.location == "/portal/account?saved=1"
    (cookie,) = answer.set_cookies
    assert cookie.startswith("__Host-hd_portal=")
    assert "HttpOnly" in cookie
    assert session_cookie(browser) != old_cookie
    assert portal_auth.authenticate(session_cookie(browser)).contact.id == desk.contacts["cleo"]
    assert "Your changes are saved." in browser.get(answer.location).plain
    # AND the other browser, and the old cookie, are signed out
    assert elsewhere.get("/portal").status == 303
    replay = customers.browser()
    replay.cookies["__Host-hd_portal"] = old_cookie
    assert replay.get("/portal").status == 303
    # AND only the new password signs in
    assert sign_in(customers.browser(), "cleo@example.com", PASSWORD).status == 401
    assert sign_in(customers.browser(), "cleo@example.com", NEW_PASSWORD).status == 303


def test_a_password_change_with_a_wrong_current_password_changes_nothing(
    customers: Customers, desk: Desk
) -> None:
    hash_before = stored(desk).password_hash
    browser, elsewhere = customers.signed_in("cleo"), customers.signed_in("cleo")
    browser.get("/portal/account")

    page = browser.post(
        "/portal/account", account_form(current_password="not my password", new_password=NEW_PASSWORD)
    )

    assert page.status == 422
    assert "The current password is wrong." in page.plain
    assert stored(desk).password_hash == hash_before
    assert elsewhere.get("/portal").status == 200
    assert NEW_PASSWORD not in page.text


def test_other_edits_need_no_password_and_keep_every_session(customers: Customers, desk: Desk) -> None:
    browser, elsewhere = customers.signed_in("cleo"), customers.signed_in("cleo")
    browser.get("/portal/account")

    answer = browser.post("/portal/account", account_form(phone="+442079460000"))

    assert answer.status == 303
    assert answer.set_cookies == []
    assert elsewhere.get("/portal").status == 200


# -- the statement -------------------------------------------------------------------


@pytest.fixture
def ledger(desk: Desk) -> Desk:
    """Cleo owes in EUR and is in credit in USD; her entries arrive out of date order.
    Dana has an entry of her own."""
    entries = [
        {
            "type": "invoice",
            "reference": "INV-2",
            "amount": "1234.50",
            "currency": "EUR",
            "date": "2026-03-01",
            "due_date": "2026-03-31",
        },
        {
            "type": "invoice",
            "reference": "INV-1",
            "amount": "100.00",
            "currency": "EUR",
            "date": "2026-02-01",
        },
        {
            "type": "payment",
            "reference": "PAY-1",
            "amount": "100.00",
            "currency": "EUR",
            "date": "2026-02-15",
        },
        {
            "type": "credit_note",
            "reference": "CN-1",
            "amount": "34.50",
            "currency": "EUR",
            "date": "2026-03-05",
        },
        {
            "type": "payment",
            "reference": "PAY-USD",
            "amount": "10.00",
            "currency": "USD",
            "date": "2026-01-10",
        },
        {
            "type": "invoice",
            "reference": "INV-JPY",
            "amount": "5000",
            "currency": "JPY",
            "date": "2026-01-20",
        },
    ]
    for entry in entries:
        add_entry(desk, "cleo", **entry)
    add_entry(
        desk,
        "dana",
        type="invoice",
        reference="DANA-SECRET",
        amount="9.99",
        currency="EUR",
        date="2026-01-01",
    )
    return desk


def rows(page: Page, currency: str) -> list[list[str]]:
    """The cells of the statement table for ``currency``, as text, row by row."""
    section = page.text.split(f'id="ledger-{currency}"', 1)[1].split("</tbody>", 1)[0]
    found = []
    for row in re.findall(r"<tr>(.*?)</tr>", section, re.S):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        if cells:
            found.append([" ".join(re.sub(r"<[^>]+>", " ", cell).split()) for cell in cells])
    return found


def closing_balance(page: Page, currency: str) -> str:
    section = page.text.split(f'id="ledger-{currency}"', 1)[1].split("</tfoot>", 1)[0]
    found = re.search(r'<td[^>]*class="number total">([^<]*)</td>', section)
    assert found, section
    return found.group(1)


def test_the_statement_figures_equal_the_apis(customers: Customers, ledger: Desk) -> None:
    api = ledger.api.get(f"/api/contacts/{ledger.contacts['cleo']}/statement").data

    page = customers.signed_in("cleo").get("/portal/statement")

    assert page.status == 200
    assert 'aria-current="page">Statement<' in page.text
    for currency in api["balances"]:
        expected = [
            [
                f"{LABELS[entry['type']]} {entry['reference']}",
                entry["amount"] if entry["type"] == "invoice" else f"-{entry['amount']}",
                entry["balance"],
            ]
            for entry in api["entries"]
            if entry["currency"] == currency
        ]
        shown = [
            [cells[1].split(" due ")[0], cells[2].replace(",", ""), cells[3].replace(",", "")]
            for cells in rows(page, currency)
        ]
        assert shown == expected
        assert closing_balance(page, currency).replace(",", "") == api["balances"][currency]
    outstanding = page.plain.split("Outstanding balance", 1)[1].split("Entries in", 1)[0]
    shown = {
        code: amount.replace(",", "") for amount, code in re.findall(r"([0-9,.]+) ([A-Z]{3})", outstanding)
    }
    assert shown == api["outstanding"] == {"EUR": "1200.00", "JPY": "5000"}


def test_the_statement_is_in_date_order_per_currency_and_formatted_per_currency(
    customers: Customers, ledger: Desk
) -> None:
    page = customers.signed_in("cleo").get("/portal/statement")

    eur = rows(page, "EUR")
    assert [cells[0] for cells in eur] == ["1 Feb 2026", "15 Feb 2026", "1 Mar 2026", "5 Mar 2026"]
    assert eur[2] == ["1 Mar 2026", "Invoice INV-2 due 31 Mar 2026", "1,234.50", "1,234.50"]
    assert eur[3][1:] == ["Credit note CN-1", "-34.50", "1,200.00"]
    assert rows(page, "JPY") == [["20 Jan 2026", "Invoice INV-JPY", "5,000", "5,000"]]
    assert rows(page, "USD") == [["10 Jan 2026", "Payment PAY-USD", "-10.00", "-10.00"]]
    assert "Balance in USD (in credit) -10.00" in page.plain
    assert "Outstanding balance 1,200.00 EUR 5,000 JPY" in page.plain
    assert "DANA-SECRET" not in page.text
    # The overview shows what is owed exactly as the statement does.
    overview = customers.signed_in("cleo").get("/portal")
    assert "Outstanding balance 1,200.00 EUR 5,000 JPY" in overview.plain
    assert 'href="/portal/statement.csv"' in page.text


def test_an_empty_statement_says_so(customers: Customers) -> None:
    page = customers.signed_in("cleo").get("/portal/statement")

    assert page.status == 200
    assert "Nothing to pay" in page.plain
    assert "There is nothing on your statement yet." in page.plain
    assert "statement.csv" not in page.text


def test_statement_text_is_escaped(customers: Customers, desk: Desk) -> None:
    add_entry(
        desk, "cleo", type="invoice", reference="<b>INV</b>", amount="1.00", currency="EUR", date="2026-01-01"
    )

    page = customers.signed_in("cleo").get("/portal/statement")

    assert "&lt;b&gt;INV&lt;/b&gt;" in page.text
    assert "<b>INV" not in page.text


def test_the_csv_download_has_every_entry_in_date_order(customers: Customers, ledger: Desk) -> None:
    api = ledger.api.get(f"/api/contacts/{ledger.contacts['cleo']}/statement").data

    download = customers.signed_in("cleo").get("/portal/statement.csv")

    assert download.status == 200
    assert download.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert download.headers["Content-Disposition"] == 'attachment; filename="statement.csv"'
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.headers["Cache-Control"] == "no-store"
    table = list(csv.reader(io.StringIO(download.text)))
    assert table[0] == ["Date", "Type", "Reference", "Due date", "Currency", "Amount", "Balance"]
    assert [row[2] for row in table[1:]] == [entry["reference"] for entry in api["entries"]]
    assert [row[6] for row in table[1:]] == [entry["balance"] for entry in api["entries"]]
    assert ["2026-03-01", "Invoice", "INV-2", "2026-03-31", "EUR", "1234.50", "1234.50"] in table
    assert ["2026-01-10", "Payment", "PAY-USD", "", "USD", "-10.00", "-10.00"] in table
    assert "DANA-SECRET" not in download.text
    assert download.text.endswith("\r\n")


@pytest.mark.parametrize(
    "reference",
    ['=HYPERLINK("http://evil.example","Click")', "+1+cmd", "-2+3", "@SUM(A1)", "=1+1"],
)
def test_a_csv_cell_that_starts_like_a_formula_is_made_text(
    customers: Customers, desk: Desk, reference: str
) -> None:
    add_entry(
        desk, "cleo", type="invoice", reference=reference, amount="5.00", currency="EUR", date="2026-01-01"
    )
    add_entry(
        desk, "cleo", type="payment", reference="PAY", amount="15.00", currency="EUR", date="2026-01-02"
    )

    download = customers.signed_in("cleo").get("/portal/statement.csv")

    table = list(csv.reader(io.StringIO(download.text)))
    assert table[1][2] == f"'{reference}"
    # A negative number is a number, not a formula: it stays one.
    assert table[2][5:] == ["-15.00", "-10.00"]


def test_the_csv_needs_a_session(customers: Customers) -> None:
    answer = customers.browser().get("/portal/statement.csv")

    assert answer.status == 303
    assert answer.location == "/portal/login?next=/portal/statement.csv"


# -- cost ----------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/portal/account", "/portal/statement", "/portal/statement.csv"])
def test_each_page_takes_at_most_two_round_trips(customers: Customers, ledger: Desk, path: str) -> None:
    browser = customers.signed_in("cleo")

    with count_calls() as calls:
        page = browser.get(path)

    assert page.status == 200
    assert calls.round_trips <= 2
    assert calls.scans == 0


def test_the_statement_is_the_session_batch_and_one_query(customers: Customers, ledger: Desk) -> None:
    browser = customers.signed_in("cleo")

    with count_calls() as calls:
        browser.get("/portal/statement")

    assert calls.by_operation == {"BatchGetItem": 1, "Query": 1}
