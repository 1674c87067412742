"""The staff contact pages: finding and adding contacts, a contact's details, tickets and
balance, edits under a version, portal access, and the statement with its ledger form."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest

from chalicelib.domain import passwords
from chalicelib.pages import admin_contact_routes
from chalicelib.store.db import update_unversioned
from chalicelib.store.models import AccountMail, Contact, Item
from tests.bench.counting import count_calls
from tests.functional.admin_fixtures import Staffroom, staffroom
from tests.functional.browsing import Browser, Page
from tests.functional.desk import Desk, MovableClock
from tests.functional.portal_fixtures import PASSWORD, Customers, customers, sign_in

pytestmark = pytest.mark.usefixtures("clock")

__all__ = ["customers", "staffroom"]


def contact_path(desk: Desk, name: str) -> str:
    return f"/admin/contacts/{desk.contacts[name]}"


def stored(desk: Desk, name: str) -> dict[str, Any]:
    data: dict[str, Any] = desk.api.get(f"/api/contacts/{desk.contacts[name]}").data
    return data


def edit_fields(contact: dict[str, Any], **changes: str) -> dict[str, str]:
    """The edit form as the page fills it in for ``contact``, with ``changes`` typed over it;
    a box is sent only when ticked, as a browser does."""
    fields = {
        "name": contact["name"],
        "email": contact["email"],
        "phone": contact["phone"] or "",
        "company": contact["company"] or "",
        "address": contact["address"] or "",
        "service_level_id": contact["service_level_id"] or "",
        "version": str(contact["version"]),
    }
    fields.update({name: "1" for name in ("notify_email", "notify_sms") if contact[name]})
    fields.update(changes)
    return {name: value for name, value in fields.items() if value != "off"}


def entry_fields(**changes: str) -> dict[str, str]:
    fields = {
        "type": "invoice",
        "reference": "INV-1",
        "amount": "120.50",
        "currency": "EUR",
        "date": "2030-01-15",
        "due_date": "2030-02-14",
    }
    return {**fields, **changes}


def invites_for(contact_id: str) -> list[AccountMail]:
    # A scan is fine in a test: the page writes the mail under a fresh id it does not show.
    return [
        item
        for item in Item.scan()
        if isinstance(item, AccountMail)
        and item.contact_id == contact_id
        and item.template == "portal_invite"
    ]


def set_portal_state(contact_id: str, state: str) -> None:
    update_unversioned(Contact.key(contact_id), [Contact.portal_state.set(state)])


def hidden_fields(page: Page, action: str) -> dict[str, str]:
    """The hidden fields of the page's form that posts to ``action``, as a browser sends them."""
    form = re.search(rf'<form method="post" action="{re.escape(action)}">(.*?)</form>', page.text, re.S)
    assert form is not None, f"no form posts to {action}"
    pairs = re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)">', form.group(1))
    return {name: html.unescape(value) for name, value in pairs}


def marked(page: Page, field: str) -> bool:
    """Whether the page marks ``field`` as the one to fix, tied to its message."""
    tag = re.search(rf'<(input|select|textarea)[^>]*name="{field}"[^>]*>', page.text)
    return bool(
        tag
        and 'aria-invalid="true"' in tag.group(0)
        and f"{field}-error" in tag.group(0)
        and f'id="{field}-error"' in page.text
    )


# -- the list and search -------------------------------------------------------------


def test_the_list_shows_every_contact_by_name_with_a_link_to_each(staffroom: Staffroom, desk: Desk) -> None:
    page = staffroom.signed_in().get("/admin/contacts")

    assert page.status == 200
    assert page.plain.index("Cleo Customer") < page.plain.index("Dana Doe")
    assert f'href="{contact_path(desk, "cleo")}"' in page.text
    assert f'href="{contact_path(desk, "dana")}"' in page.text
    assert '<label for="q">Find a contact</label>' in page.text


def test_a_search_by_the_start_of_a_name_finds_only_those_names(staffroom: Staffroom, desk: Desk) -> None:
    page = staffroom.signed_in().get("/admin/contacts?q=cle")

    assert "Cleo Customer" in page.plain
    assert "Dana Doe" not in page.plain
    assert 'value="cle"' in page.text


def test_a_search_by_email_finds_that_contact_whatever_the_case(staffroom: Staffroom, desk: Desk) -> None:
    page = staffroom.signed_in().get("/admin/contacts?q=DANA%40Example.com")

    assert f'href="{contact_path(desk, "dana")}"' in page.text
    assert "Cleo Customer" not in page.plain


def test_a_search_for_an_unknown_email_says_no_contact_has_it(staffroom: Staffroom) -> None:
    page = staffroom.signed_in().get("/admin/contacts?q=nobody%40example.com")

    assert page.status == 200
    assert "No contact has this email address." in page.plain


def test_the_list_comes_in_cursor_pages(
    staffroom: Staffroom, desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(admin_contact_routes, "PAGE_SIZE", 1)
    browser = staffroom.signed_in()

    first = browser.get("/admin/contacts")
    link = re.search(r'href="(/admin/contacts\?cursor=[^"]+)" rel="next"', first.text)
    assert link is not None
    second = browser.get(link.group(1).replace("&amp;", "&"))

    assert "Cleo Customer" in first.plain
    assert "Dana Doe" not in first.plain
    assert "Dana Doe" in second.plain
    assert "Cleo Customer" not in second.plain


def test_an_altered_cursor_starts_the_list_from_the_top(staffroom: Staffroom) -> None:
    page = staffroom.signed_in().get("/admin/contacts?cursor=forged")

    assert page.status == 200
    assert "Cleo Customer" in page.plain


# -- a new contact -------------------------------------------------------------------


def test_a_new_contact_is_added_and_its_page_opens_with_a_message(staffroom: Staffroom, desk: Desk) -> None:
    browser = staffroom.signed_in()
    browser.get("/admin/contacts")

    answer = browser.post(
        "/admin/contacts",
        {
            "name": "Nina New",
            "email": "nina@example.com",
            "phone": "+44 20 7946 0000",
            "company": "Nina Ltd",
            "service_level_id": desk.levels["gold"],
            "notify_email": "1",
        },
    )

    assert answer.status == 303
    contact_id = answer.location.removeprefix("/admin/contacts/").removesuffix("?done=created")
    created = desk.api.get(f"/api/contacts/{contact_id}").data
    assert created["email"] == "nina@example.com"
    assert created["phone"] == "+442079460000"
    assert created["service_level_id"] == desk.levels["gold"]
    assert created["notify_email"] is True
    assert created["notify_sms"] is False
    page = browser.get(answer.location)
    assert "The contact is added." in page.plain
    assert "Nina Ltd" in page.plain


def test_a_new_contact_with_a_bad_email_is_shown_again_with_the_field_marked(
    staffroom: Staffroom, desk: Desk
) -> None:
    browser = staffroom.signed_in()
    browser.get("/admin/contacts")

    page = browser.post("/admin/contacts", {"name": "Nina New", "email": "not an address"})

    assert page.status == 422
    assert marked(page, "email")
    assert 'value="Nina New"' in page.text
    assert len(desk.api.get("/api/contacts").data["items"]) == 2


def test_a_new_contact_with_a_taken_email_is_refused_on_the_email(staffroom: Staffroom, desk: Desk) -> None:
    browser = staffroom.signed_in()
    browser.get("/admin/contacts")

    page = browser.post("/admin/contacts", {"name": "Cleo Again", "email": "CLEO@example.com"})

    assert page.status == 422
    assert marked(page, "email")
    assert "A contact with this email already exists." in page.plain
    assert len(desk.api.get("/api/contacts").data["items"]) == 2


# -- a contact's page ----------------------------------------------------------------


def test_the_contact_page_shows_the_details_and_choices(staffroom: Staffroom, desk: Desk) -> None:
    cleo = stored(desk, "cleo")
    desk.api.patch(
        f"/api/contacts/{cleo['id']}",
        {
            "phone": "+44 20 7946 0000",
            "company": "Cleo & Co",
            "address": "1 High Street\nTown",
            "notify_sms": True,
            "version": cleo["version"],
        },
    )

    page = staffroom.signed_in().get(contact_path(desk, "cleo"))

    assert page.status == 200
    text = page.plain
    assert "Email cleo@example.com" in text
    assert "Phone +442079460000" in text
    assert "Company Cleo & Co" in text
    assert "1 High Street Town" in text
    assert "Service level Gold" in text
    assert "Notifications Email and text message" in text
    assert "No access" in text


@pytest.mark.parametrize(("state", "label"), [("pending", "Pending"), ("invited", "Invited")])
def test_the_contact_page_shows_a_portal_access_on_its_way(
    staffroom: Staffroom, desk: Desk, state: str, label: str
) -> None:
    set_portal_state(desk.contacts["dana"], state)

    page = staffroom.signed_in().get(contact_path(desk, "dana"))

    assert f"Portal access {label}" in page.plain
    assert f'action="{contact_path(desk, "dana")}/invite"' in page.text


def test_the_contact_page_lists_their_tickets_newest_first_with_links(
    staffroom: Staffroom, desk: Desk, clock: MovableClock
) -> None:
    older = desk.ticket("cleo", subject="Older trouble")["number"]
    clock.advance(minutes=5)
    newer = desk.ticket("cleo", subject="Newer trouble")["number"]
    desk.ticket("dana", subject="Not Cleo's")

    page = staffroom.signed_in().get(contact_path(desk, "cleo"))

    assert page.plain.index("Newer trouble") < page.plain.index("Older trouble")
    assert "Not Cleo's" not in page.plain
    assert f'href="/admin/tickets/{older}"' in page.text
    assert f'href="/admin/tickets/{newer}"' in page.text


def test_the_contact_page_shows_the_balance_per_currency(staffroom: Staffroom, desk: Desk) -> None:
    path = f"/api/contacts/{desk.contacts['cleo']}/transactions"
    desk.created(path, {**entry_fields(amount="1200.50"), "due_date": None})
    desk.created(path, {**entry_fields(currency="USD", amount="30.00", type="payment"), "due_date": None})

    page = staffroom.signed_in().get(contact_path(desk, "cleo"))

    assert "1,200.50 EUR" in page.plain
    assert "30.00 USD in credit" in page.plain
    assert f'href="{contact_path(desk, "cleo")}/statement"' in page.text


def test_an_unknown_contact_is_a_not_found_page(staffroom: Staffroom) -> None:
    browser = staffroom.signed_in()

    assert browser.get("/admin/contacts/nobody").status == 404
    assert browser.get(f"/admin/contacts/{'x' * 300}").status == 404
    assert browser.get("/admin/contacts/nobody/statement").status == 404


def test_the_contact_pages_need_a_session(staffroom: Staffroom, desk: Desk) -> None:
    page = staffroom.browser().get(contact_path(desk, "cleo"))

    assert page.status == 303
    assert page.location == f"/admin/login?next={contact_path(desk, 'cleo')}"


# -- edits -----------------------------------------------------------------------------


def test_an_edit_is_saved_and_the_new_default_service_level_applies_to_the_next_ticket(
    staffroom: Staffroom, desk: Desk
) -> None:
    browser = staffroom.signed_in()
    browser.get(contact_path(desk, "dana"))
    dana = stored(desk, "dana")

    answer = browser.post(
        contact_path(desk, "dana"),
        edit_fields(dana, company="Doe Holdings", service_level_id=desk.levels["urgent"], notify_sms="1"),
    )

    assert answer.status == 303
    assert answer.location == f"{contact_path(desk, 'dana')}?done=saved"
    saved = stored(desk, "dana")
    assert saved["company"] == "Doe Holdings"
    assert saved["notify_sms"] is True
    assert saved["version"] == dana["version"] + 1
    page = browser.get(answer.location)
    assert "Your changes are saved." in page.plain
    assert "Service level Urgent" in page.plain
    ticket = desk.ticket("dana")
    assert ticket["service_level_id"] == desk.levels["urgent"]


def test_an_emptied_field_and_an_unticked_box_are_removed(staffroom: Staffroom, desk: Desk) -> None:
    browser = staffroom.signed_in()
    browser.get(contact_path(desk, "cleo"))

    answer = browser.post(
        contact_path(desk, "cleo"), edit_fields(stored(desk, "cleo"), service_level_id="", notify_email="off")
    )

    assert answer.status == 303
    saved = stored(desk, "cleo")
    assert saved["service_level_id"] is None
    assert saved["notify_email"] is False


def test_an_edit_with_a_bad_phone_is_shown_again_and_writes_nothing(staffroom: Staffroom, desk: Desk) -> None:
    browser = staffroom.signed_in()
    browser.get(contact_path(desk, "cleo"))
    cleo = stored(desk, "cleo")

    page = browser.post(contact_path(desk, "cleo"), edit_fields(cleo, name="Cleo Renamed", phone="12"))

    assert page.status == 422
    assert marked(page, "phone")
    assert 'value="Cleo Renamed"' in page.text
    assert stored(desk, "cleo") == cleo


def test_an_edit_to_a_taken_email_is_refused_on_the_email(staffroom: Staffroom, desk: Desk) -> None:
    browser = staffroom.signed_in()
    browser.get(contact_path(desk, "cleo"))
    cleo = stored(desk, "cleo")

    page = browser.post(contact_path(desk, "cleo"), edit_fields(cleo, email="dana@example.com"))

    assert page.status == 422
    assert marked(page, "email")
    assert stored(desk, "cleo") == cleo


def test_a_stale_edit_shows_the_current_values_and_what_differs(staffroom: Staffroom, desk: Desk) -> None:
    browser = staffroom.signed_in()
    browser.get(contact_path(desk, "cleo"))
    read = stored(desk, "cleo")
    desk.api.patch(f"/api/contacts/{read['id']}", {"company": "Theirs Ltd", "version": read["version"]})

    page = browser.post(contact_path(desk, "cleo"), edit_fields(read, company="Mine Ltd"))

    assert page.status == 409
    assert "Someone else changed this contact" in page.plain
    assert "Company Theirs Ltd Mine Ltd" in page.plain
    assert 'value="Theirs Ltd"' in page.text
    assert f'name="version" value="{read["version"] + 1}"' in page.text
    assert stored(desk, "cleo")["company"] == "Theirs Ltd"


def test_an_edit_without_a_readable_version_asks_for_a_reload(staffroom: Staffroom, desk: Desk) -> None:
    browser = staffroom.signed_in()
    browser.get(contact_path(desk, "cleo"))
    cleo = stored(desk, "cleo")

    page = browser.post(contact_path(desk, "cleo"), edit_fields(cleo, company="Mine Ltd", version="one"))

    assert page.status == 422
    assert "reload the page" in page.plain
    assert stored(desk, "cleo") == cleo


# -- portal access ---------------------------------------------------------------------


def test_an_invite_queues_the_invite_email_and_says_so(staffroom: Staffroom, desk: Desk) -> None:
    browser = staffroom.signed_in()
    browser.get(contact_path(desk, "dana"))

    answer = browser.post(f"{contact_path(desk, 'dana')}/invite")

    assert answer.status == 303
    assert len(invites_for(desk.contacts["dana"])) == 1
    page = browser.get(answer.location)
    assert "An invitation email is on its way to dana@example.com." in page.plain
    assert "Portal access Invited" in page.plain
    assert "Send the invite again" in page.plain


def test_a_contact_already_using_the_portal_cannot_be_invited(
    staffroom: Staffroom, customers: Customers, desk: Desk
) -> None:
    browser = staffroom.signed_in()
    browser.get(contact_path(desk, "cleo"))

    page = browser.post(f"{contact_path(desk, 'cleo')}/invite")

    assert page.status == 409
    assert "This contact already uses the portal." in page.plain
    assert invites_for(desk.contacts["cleo"]) == []


def test_disabling_portal_access_signs_the_contact_out_and_enabling_lets_them_back(
    staffroom: Staffroom, customers: Customers, desk: Desk, clock: MovableClock
) -> None:
    portal = customers.signed_in("cleo")
    clock.advance(seconds=1)
    browser = staffroom.signed_in()
    access = f"{contact_path(desk, 'cleo')}/portal-access"
    shown = browser.get(contact_path(desk, "cleo"))

    disabled = browser.post(access, hidden_fields(shown, access), follow=True)

    assert "Portal access is disabled" in disabled.plain
    assert "Portal access Disabled" in disabled.plain
    assert stored(desk, "cleo")["portal_access"] == "disabled"
    assert portal.get("/portal").status == 303
    refused = browser.post(f"{contact_path(desk, 'cleo')}/invite")
    assert refused.status == 409
    shown = browser.get(contact_path(desk, "cleo"))
    assert hidden_fields(shown, access)["portal_access"] == "enabled"
    enabled = browser.post(access, hidden_fields(shown, access), follow=True)
    assert "Portal access is enabled again." in enabled.plain
    assert stored(desk, "cleo")["portal_access"] == "active"


def test_letting_back_a_contact_whose_registration_was_never_confirmed_gives_no_access(
    staffroom: Staffroom, customers: Customers, desk: Desk
) -> None:
    # GIVEN Dana registered with a password but never confirmed her address
    update_unversioned(
        Contact.key(desk.contacts["dana"]),
        [Contact.portal_state.set("pending"), Contact.password_hash.set(passwords.hash_password(PASSWORD))],
    )
    browser = staffroom.signed_in()
    access = f"{contact_path(desk, 'dana')}/portal-access"

    # WHEN staff disable her portal access, then enable it again, on her page
    browser.post(access, hidden_fields(browser.get(contact_path(desk, "dana")), access))
    shown = browser.get(contact_path(desk, "dana"))
    enabled = browser.post(access, hidden_fields(shown, access), follow=True)

    # THEN she is back where a contact without a password is: an invite away, not signed in
    assert "Portal access is enabled again." in enabled.plain
    assert stored(desk, "dana")["portal_access"] == "none"
    assert "No access" in enabled.plain
    assert f'action="{contact_path(desk, "dana")}/invite"' in enabled.text
    assert sign_in(customers.browser(), "dana@example.com", PASSWORD).status == 401


def test_a_portal_access_change_on_a_stale_page_changes_nothing(staffroom: Staffroom, desk: Desk) -> None:
    browser = staffroom.signed_in()
    access = f"{contact_path(desk, 'dana')}/portal-access"
    shown = browser.get(contact_path(desk, "dana"))
    dana = stored(desk, "dana")
    desk.api.patch(f"/api/contacts/{dana['id']}", {"company": "Theirs Ltd", "version": dana["version"]})

    page = browser.post(access, hidden_fields(shown, access))

    assert page.status == 409
    assert "Someone else changed this contact" in page.plain
    assert stored(desk, "dana")["portal_access"] == "none"


def test_a_portal_access_other_than_enabled_or_disabled_is_refused(staffroom: Staffroom, desk: Desk) -> None:
    browser = staffroom.signed_in()
    access = f"{contact_path(desk, 'dana')}/portal-access"
    fields = {**hidden_fields(browser.get(contact_path(desk, "dana")), access), "portal_access": "active"}

    page = browser.post(access, fields)

    assert page.status == 422
    assert "must be one of enabled, disabled" in page.plain
    assert stored(desk, "dana")["portal_access"] == "none"


# -- the statement and ledger entries ------------------------------------------------


def test_a_ledger_entry_is_added_and_shown_with_the_running_balance(staffroom: Staffroom, desk: Desk) -> None:
    browser = staffroom.signed_in()
    statement_path = f"{contact_path(desk, 'cleo')}/statement"
    assert "There are no ledger entries yet." in browser.get(statement_path).plain

    first = browser.post(f"{contact_path(desk, 'cleo')}/transactions", entry_fields())
    browser.get(statement_path)
    second = browser.post(
        f"{contact_path(desk, 'cleo')}/transactions",
        entry_fields(type="payment", reference="PAY-1", amount="20.50", date="2030-01-20", due_date=""),
    )

    assert first.status == second.status == 303
    assert first.location == f"{statement_path}?done=entry"
    page = browser.get(first.location)
    assert "The ledger entry is added." in page.plain
    assert "Invoice INV-1 due 14 Feb 2030 120.50 120.50" in page.plain
    assert "Payment PAY-1 -20.50 100.00" in page.plain
    assert "Outstanding balance 100.00 EUR" in page.plain
    statement = desk.api.get(f"/api/contacts/{desk.contacts['cleo']}/statement").data
    me = staffroom.desk.api.get("/api/auth/me").data["id"]
    assert [entry["created_by"] for entry in statement["entries"]] == [f"staff:{me}"] * 2


@pytest.mark.parametrize("amount", ["-5", "12.345", "twelve", ""])
def test_a_ledger_entry_with_a_bad_amount_is_shown_again_naming_the_amount(
    staffroom: Staffroom, desk: Desk, amount: str
) -> None:
    browser = staffroom.signed_in()
    browser.get(f"{contact_path(desk, 'cleo')}/statement")

    page = browser.post(f"{contact_path(desk, 'cleo')}/transactions", entry_fields(amount=amount))

    assert page.status == 422
    assert marked(page, "amount")
    assert 'value="INV-1"' in page.text
    assert desk.api.get(f"/api/contacts/{desk.contacts['cleo']}/statement").data["entries"] == []


# -- roles, round trips, CSRF, escaping --------------------------------------------


@pytest.mark.parametrize("role", ["admin", "agent"])
def test_both_roles_may_open_and_change_contacts(staffroom: Staffroom, desk: Desk, role: str) -> None:
    browser = staffroom.signed_in(role)

    for path in ("/admin/contacts", contact_path(desk, "cleo"), f"{contact_path(desk, 'cleo')}/statement"):
        assert browser.get(path).status == 200, path
    browser.get(contact_path(desk, "cleo"))
    answer = browser.post(contact_path(desk, "cleo"), edit_fields(stored(desk, "cleo"), company=role))
    assert answer.status == 303
    assert stored(desk, "cleo")["company"] == role


@pytest.mark.parametrize(
    "path",
    [
        "/admin/contacts",
        "/admin/contacts?q=cle",
        "/admin/contacts?q=cleo%40example.com",
        "/admin/contacts/{cleo}",
        "/admin/contacts/{cleo}/statement",
    ],
)
def test_each_contact_page_is_two_round_trips(staffroom: Staffroom, desk: Desk, path: str) -> None:
    desk.ticket("cleo")
    desk.created(f"/api/contacts/{desk.contacts['cleo']}/transactions", entry_fields())
    browser = staffroom.signed_in("agent")

    with count_calls() as calls:
        page = browser.get(path.format(cleo=desk.contacts["cleo"]))

    assert page.status == 200
    assert calls.by_operation == {"BatchGetItem": 1, "Query": 1}


@pytest.mark.parametrize("action", ["", "/invite", "/portal-access", "/transactions"])
def test_a_contact_form_without_its_csrf_token_changes_nothing(
    staffroom: Staffroom, desk: Desk, action: str
) -> None:
    browser = staffroom.signed_in()
    browser.get(contact_path(desk, "dana"))
    dana = stored(desk, "dana")
    fields = {**edit_fields(dana, company="Forged"), **entry_fields(), "portal_access": "disabled"}

    page = browser.post(f"{contact_path(desk, 'dana')}{action}", fields, csrf=False)

    assert page.status == 403
    assert stored(desk, "dana") == dana
    assert invites_for(dana["id"]) == []
    assert desk.api.get(f"/api/contacts/{dana['id']}/statement").data["entries"] == []


def test_a_new_contact_from_another_site_is_refused(staffroom: Staffroom, desk: Desk) -> None:
    browser = staffroom.signed_in()
    browser.get("/admin/contacts")

    page = browser.post(
        "/admin/contacts",
        {"name": "Eve", "email": "eve@example.com"},
        headers={"Origin": "https://evil.example"},
    )

    assert page.status == 403
    assert len(desk.api.get("/api/contacts").data["items"]) == 2


def test_what_contacts_typed_is_shown_as_text_never_as_markup(staffroom: Staffroom, desk: Desk) -> None:
    hostile = '<script>alert("x")</script>'
    created = desk.created(
        "/api/contacts",
        {"name": f"Mal {hostile}", "email": "mal@example.com", "company": "<b>Bold</b>", "address": hostile},
    )
    desk.created(f"/api/contacts/{created['id']}/transactions", entry_fields(reference="<i>ref</i>"))
    browser: Browser = staffroom.signed_in()

    pages = [
        browser.get("/admin/contacts"),
        browser.get("/admin/contacts?q=mal"),
        browser.get(f"/admin/contacts/{created['id']}"),
        browser.get(f"/admin/contacts/{created['id']}/statement"),
    ]

    for page in pages:
        assert page.status == 200
        assert "<script>alert" not in page.text
        assert "<b>Bold</b>" not in page.text
        assert "<i>ref</i>" not in page.text
    assert "&lt;script&gt;" in pages[2].text
    assert "&lt;b&gt;Bold&lt;/b&gt;" in pages[2].text
    assert "&lt;i&gt;ref&lt;/i&gt;" in pages[3].text
