"""The setup pages under ``/admin/setup``: the four lists, the settings and the staff
accounts, for admins only. Every change is a checked form answered with a 303; a refused
field re-renders with 422 and writes nothing; a stale edit shows what is stored now."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pytest
from chalice.test import Client

from chalicelib.domain import setup
from chalicelib.notify.links import rating_token
from chalicelib.pages import admin_setup_routes
from tests.bench.counting import count_calls
from tests.functional.admin_fixtures import AGENT_EMAIL, Staffroom, staff_sign_in, staffroom
from tests.functional.browsing import Browser, Page
from tests.functional.conftest import ADMIN_PASSWORD, Api
from tests.functional.desk import Desk, MovableClock

pytestmark = pytest.mark.usefixtures("clock")

__all__ = ["staffroom"]

NEW_PASSWORD = "a brand new passphrase"


@dataclass(frozen=True)
class Sample:
    """A list's forms as an admin fills them in, and what the edit reads back as."""

    segment: str
    added: dict[str, str]
    edited: dict[str, str]
    stored: dict[str, Any]

    @property
    def path(self) -> str:
        return f"/admin/setup/{self.segment}"

    @property
    def name_field(self) -> str:
        return next(iter(self.added))


SAMPLES = [
    Sample(
        "service-levels",
        {"name": "Platinum", "rank": "4", "response_hours": "2", "resolution_hours": "8"},
        {"name": "Platinum plus", "rank": "5", "response_hours": "1", "resolution_hours": "6"},
        {"name": "Platinum plus", "rank": 5, "response_hours": 1, "resolution_hours": 6},
    ),
    Sample("categories", {"name": "Shipping"}, {"name": "Deliveries"}, {"name": "Deliveries"}),
    Sample(
        "statuses",
        {"name": "On hold", "customer_label": "Waiting for parts", "order": "5"},
        {"name": "Parked", "customer_label": "Paused", "order": "6", "closed": "1"},
        {"name": "Parked", "customer_label": "Paused", "order": 6, "closed": True},
    ),
    Sample(
        "rating-options", {"label": "Superb", "score": "100"}, {"label": "Fine", "score": "60"}, {"score": 60}
    ),
]
SAMPLE_IDS = [sample.segment for sample in SAMPLES]


def entry_named(api: Api, segment: str, name: str) -> dict[str, Any] | None:
    field = "label" if segment == "rating-options" else "name"
    items = api.get(f"/api/{segment}").data["items"]
    return next((item for item in items if item[field] == name), None)


def added(browser: Browser, api: Api, sample: Sample) -> dict[str, Any]:
    """Add the sample's entry through its page; the entry as the API reads it back."""
    browser.get(sample.path)
    assert browser.post(sample.path, sample.added).status == 303
    entry = entry_named(api, sample.segment, sample.added[sample.name_field])
    assert entry is not None
    return entry


def version_on(page: Page) -> str:
    found = re.search(r'name="version" value="([^"]*)"', page.text)
    assert found, "the form carries no version"
    return found.group(1)


def config_text() -> str:
    return setup.load().to_json()


def marked(page: Page, field: str) -> bool:
    """Whether the page marks ``field`` as invalid and ties its error message to it."""
    tag = re.search(rf'<(?:input|select)[^>]*\bname="{field}"[^>]*>', page.text)
    return bool(
        tag
        and 'aria-invalid="true"' in tag.group(0)
        and f"{field}-error" in tag.group(0)
        and f'id="{field}-error"' in page.text
    )


# -- the overview -------------------------------------------------------------------


def test_the_overview_links_every_setup_page_with_the_size_of_each_list(staffroom: Staffroom) -> None:
    page = staffroom.signed_in().get("/admin/setup")

    assert page.status == 200
    for path in (
        "/admin/setup/service-levels",
        "/admin/setup/categories",
        "/admin/setup/statuses",
        "/admin/setup/rating-options",
        "/admin/setup/settings",
        "/admin/setup/staff",
    ):
        assert f'href="{path}"' in page.text
    assert "Service levels (3 entries)" in page.plain
    assert "Rating options (0 entries)" in page.plain
    assert '<a href="/admin/setup" aria-current="page">Setup</a>' in page.text


def test_setup_pages_need_a_session(staffroom: Staffroom) -> None:
    page = staffroom.browser().get("/admin/setup/statuses")

    assert page.status == 303
    assert page.location == "/admin/login?next=/admin/setup/statuses"


# -- the four lists -----------------------------------------------------------------


@pytest.mark.parametrize("sample", SAMPLES, ids=SAMPLE_IDS)
def test_an_entry_added_on_its_page_is_stored_and_listed_with_a_note(
    staffroom: Staffroom, sample: Sample
) -> None:
    browser = staffroom.signed_in()
    browser.get(sample.path)

    answer = browser.post(sample.path, sample.added)

    assert answer.status == 303
    assert answer.location == f"{sample.path}?done=added"
    entry = entry_named(staffroom.desk.api, sample.segment, sample.added[sample.name_field])
    assert entry is not None
    assert entry["version"] == 1
    listed = browser.get(answer.location)
    assert 'class="alert success" role="status"' in listed.text
    assert " added." in listed.plain
    assert sample.added[sample.name_field] in listed.plain
    assert f'href="{sample.path}/{entry["id"]}"' in listed.text


@pytest.mark.parametrize("sample", SAMPLES, ids=SAMPLE_IDS)
def test_an_entry_edited_on_its_page_is_saved_under_the_version_it_was_read_at(
    staffroom: Staffroom, sample: Sample
) -> None:
    browser = staffroom.signed_in()
    entry = added(browser, staffroom.desk.api, sample)
    form = browser.get(f"{sample.path}/{entry['id']}")
    assert form.status == 200
    assert version_on(form) == "1"

    answer = browser.post(f"{sample.path}/{entry['id']}", {**sample.edited, "version": version_on(form)})

    assert answer.status == 303
    assert answer.location == f"{sample.path}?done=saved"
    stored = staffroom.desk.api.get(f"/api/{sample.segment}/{entry['id']}").data
    assert {name: stored[name] for name in sample.stored} == sample.stored
    assert stored["version"] == 2
    assert " saved." in browser.get(answer.location).plain


@pytest.mark.parametrize("sample", SAMPLES, ids=SAMPLE_IDS)
def test_an_entry_is_deleted_after_its_confirmation_page(staffroom: Staffroom, sample: Sample) -> None:
    browser = staffroom.signed_in()
    entry = added(browser, staffroom.desk.api, sample)
    confirm = browser.get(f"{sample.path}/{entry['id']}/delete")
    assert confirm.status == 200
    assert "Delete the" in confirm.plain
    assert sample.added[sample.name_field] in confirm.plain

    answer = browser.post(f"{sample.path}/{entry['id']}/delete")

    assert answer.status == 303
    assert answer.location == f"{sample.path}?done=deleted"
    assert staffroom.desk.api.get(f"/api/{sample.segment}/{entry['id']}").status_code == 404
    assert " deleted." in browser.get(answer.location).plain


def test_opening_the_confirmation_page_deletes_nothing(staffroom: Staffroom) -> None:
    browser = staffroom.signed_in()
    billing = staffroom.desk.categories["billing"]

    browser.get(f"/admin/setup/categories/{billing}/delete")

    assert staffroom.desk.api.get(f"/api/categories/{billing}").status_code == 200


@pytest.mark.parametrize(
    ("sample", "field", "value", "message"),
    [
        (SAMPLES[0], "rank", "", "This field is required."),
        (SAMPLES[0], "response_hours", "two", "This field must be a whole number."),
        (SAMPLES[0], "rank", "0", "This field must be between 1 and 999."),
        (SAMPLES[1], "name", "   ", "This field must not be empty."),
        (SAMPLES[1], "name", "x" * 81, "This field must be at most 80 characters."),
        (SAMPLES[2], "customer_label", "", "This field must not be empty."),
        (SAMPLES[3], "score", "101", "This field must be between 0 and 100."),
    ],
    ids=[
        "rank-missing",
        "hours-not-a-number",
        "rank-out-of-range",
        "blank-name",
        "long-name",
        "no-label",
        "score",
    ],
)
def test_a_refused_field_shows_the_form_again_marked_and_writes_nothing(
    staffroom: Staffroom, sample: Sample, field: str, value: str, message: str
) -> None:
    browser = staffroom.signed_in()
    browser.get(sample.path)
    before = config_text()

    page = browser.post(sample.path, {**sample.added, field: value})

    assert page.status == 422
    assert marked(page, field)
    assert message in page.plain
    assert "Please check the field marked below." in page.plain
    assert config_text() == before
    # What was typed is kept, so the admin fixes the one field rather than all of them.
    typed = {**sample.added, field: value}
    for name, text in typed.items():
        assert re.search(rf'name="{name}"[^>]*value="{re.escape(text)}"', page.text), name


def test_a_refused_edit_keeps_the_version_it_was_read_at(staffroom: Staffroom) -> None:
    browser = staffroom.signed_in()
    gold = staffroom.desk.levels["gold"]
    form = browser.get(f"/admin/setup/service-levels/{gold}")
    fields = {"name": "Gold", "rank": "2", "response_hours": "4", "resolution_hours": "9999"}
    before = config_text()

    page = browser.post(f"/admin/setup/service-levels/{gold}", {**fields, "version": version_on(form)})

    assert page.status == 422
    assert marked(page, "resolution_hours")
    assert version_on(page) == "1"
    assert config_text() == before


def test_an_edit_without_a_version_says_so_above_the_form(staffroom: Staffroom) -> None:
    browser = staffroom.signed_in()
    billing = staffroom.desk.categories["billing"]
    browser.get(f"/admin/setup/categories/{billing}")

    page = browser.post(f"/admin/setup/categories/{billing}", {"name": "Invoices"})

    assert page.status == 422
    assert "The field 'version' is required." in page.plain
    assert staffroom.desk.api.get(f"/api/categories/{billing}").data["name"] == "Billing"


def test_an_unknown_entry_is_not_found(staffroom: Staffroom) -> None:
    browser = staffroom.signed_in()

    assert browser.get("/admin/setup/statuses/no-such-id").status == 404
    assert browser.get("/admin/setup/statuses/no-such-id/delete").status == 404
    browser.get("/admin/setup/statuses")
    answer = browser.post(
        "/admin/setup/statuses/no-such-id", {"name": "X", "customer_label": "X", "order": "1", "version": "1"}
    )
    assert answer.status == 404


# -- stale edits --------------------------------------------------------------------


def test_an_edit_from_a_stale_read_shows_what_is_stored_now_and_saves_nothing(staffroom: Staffroom) -> None:
    desk = staffroom.desk
    browser = staffroom.signed_in()
    gold = desk.levels["gold"]
    form = browser.get(f"/admin/setup/service-levels/{gold}")
    moved = desk.api.patch(f"/api/service-levels/{gold}", {"name": "Gold (other admin)", "version": 1})
    assert moved.status_code == 200
    mine = {"name": "Gold (mine)", "rank": "2", "response_hours": "4", "resolution_hours": "24"}

    page = browser.post(f"/admin/setup/service-levels/{gold}", {**mine, "version": version_on(form)})

    assert page.status == 409
    assert "Someone else changed this service level since you opened it, so nothing was saved." in page.plain
    assert "Name Gold (mine) Gold (other admin)" in page.plain
    assert 'value="Gold (other admin)"' in page.text
    assert version_on(page) == "2"
    assert desk.api.get(f"/api/service-levels/{gold}").data["name"] == "Gold (other admin)"


def test_a_stale_form_shown_again_saves_on_the_next_try(staffroom: Staffroom) -> None:
    desk = staffroom.desk
    browser = staffroom.signed_in()
    billing = desk.categories["billing"]
    browser.get(f"/admin/setup/categories/{billing}")
    desk.api.patch(f"/api/categories/{billing}", {"name": "Invoices", "version": 1})
    stale = browser.post(f"/admin/setup/categories/{billing}", {"name": "Payments", "version": "1"})

    again = browser.post(
        f"/admin/setup/categories/{billing}", {"name": "Payments", "version": version_on(stale)}
    )

    assert again.status == 303
    assert desk.api.get(f"/api/categories/{billing}").data == {
        "id": billing,
        "name": "Payments",
        "version": 3,
    }


# -- in use -------------------------------------------------------------------------


def in_use_cases(desk: Desk, client: Client) -> dict[str, tuple[str, str]]:
    """segment -> (an entry something still uses, the words that say what uses it)."""
    waiting = desk.ticket(status_id=desk.statuses["waiting"], category_id=desk.categories["technical"])
    option = desk.created("/api/rating-options", {"label": "Okay", "score": 50})["id"]
    solved = desk.ticket(status_id=desk.statuses["solved"])
    rated = client.http.post(
        f"/rate/{rating_token(solved['number'])}",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        body=urlencode({"rating_option_id": option}),
    )
    assert rated.status_code in (200, 303), rated.body
    return {
        "statuses": (desk.statuses["waiting"], f"It is still used by ticket {waiting['number']}."),
        "categories": (desk.categories["technical"], f"It is still used by ticket {waiting['number']}."),
        "service-levels": (desk.levels["gold"], "It is still used by"),
        "rating-options": (option, "It is still used by a rating."),
    }


@pytest.mark.parametrize("segment", SAMPLE_IDS)
def test_an_entry_still_in_use_is_kept_and_the_page_says_by_what(
    staffroom: Staffroom, client: Client, segment: str
) -> None:
    entry_id, words = in_use_cases(staffroom.desk, client)[segment]
    browser = staffroom.signed_in()
    browser.get(f"/admin/setup/{segment}/{entry_id}/delete")

    page = browser.post(f"/admin/setup/{segment}/{entry_id}/delete")

    assert page.status == 409
    assert 'class="alert error" role="alert"' in page.text
    assert words in page.plain
    assert staffroom.desk.api.get(f"/api/{segment}/{entry_id}").status_code == 200


def test_a_status_a_setting_names_is_kept_until_the_setting_changes(staffroom: Staffroom) -> None:
    browser = staffroom.signed_in()
    new = staffroom.desk.statuses["new"]
    browser.get(f"/admin/setup/statuses/{new}/delete")

    page = browser.post(f"/admin/setup/statuses/{new}/delete")

    assert page.status == 409
    assert "It is the setting 'default_status_id'; change that first." in page.plain
    assert 'href="/admin/setup/settings"' in page.text


def test_the_status_customer_replies_go_to_cannot_be_made_a_closed_one(staffroom: Staffroom) -> None:
    desk = staffroom.desk
    desk.put_settings(customer_reply_status_id=desk.statuses["waiting"])
    browser = staffroom.signed_in()
    waiting = desk.statuses["waiting"]
    form = browser.get(f"/admin/setup/statuses/{waiting}")

    page = browser.post(
        f"/admin/setup/statuses/{waiting}",
        {
            "name": "Waiting",
            "customer_label": "Waiting",
            "order": "1",
            "closed": "1",
            "version": version_on(form),
        },
    )

    assert page.status == 409
    assert marked(page, "closed")
    assert "customer_reply_status_id" in page.plain
    assert desk.api.get(f"/api/statuses/{waiting}").data["closed"] is False


def test_the_statuses_page_shows_the_default_and_the_customer_reply_status(staffroom: Staffroom) -> None:
    desk = staffroom.desk
    desk.put_settings(customer_reply_status_id=desk.statuses["waiting"])

    page = staffroom.signed_in().get("/admin/setup/statuses")

    assert "New Default for new tickets" in page.plain
    assert "Waiting Set by a customer reply" in page.plain
    assert "Status of new tickets New Status a customer reply sets Waiting" in page.plain
    assert "Solved Solved 2 Yes" in page.plain


# -- settings -----------------------------------------------------------------------


def settings_form(desk: Desk, **changes: str) -> dict[str, str]:
    """The settings form as the page would post it for the desk's settings, with ``changes``."""
    current = desk.api.get("/api/settings").data
    form = {name: "1" for name in admin_setup_routes.SETTING_BOXES if current[name]}
    for name in (*setup.SETTING_REFERENCES, *admin_setup_routes.SETTING_EMAILS):
        form[name] = current[name] or ""
    form["version"] = str(current["version"])
    form.update(changes)
    return {name: value for name, value in form.items() if value != "off"}


def test_the_settings_page_shows_every_setting_as_stored(staffroom: Staffroom) -> None:
    desk = staffroom.desk

    page = staffroom.signed_in().get("/admin/setup/settings")

    assert page.status == 200
    assert version_on(page) == str(desk.api.get("/api/settings").data["version"])
    assert re.search(rf'<option value="{desk.levels["standard"]}" selected>Standard</option>', page.text)
    assert re.search(rf'<option value="{desk.statuses["new"]}" selected>New</option>', page.text)
    assert re.search(r'name="portal_enabled" value="1" checked', page.text)
    assert not re.search(r'name="registration_enabled" value="1" checked', page.text)
    # A customer reply never closes a ticket, so closed statuses are not offered for it.
    reply_select = page.text.split('name="customer_reply_status_id"', 1)[1].split("</select>", 1)[0]
    assert "Solved" not in reply_select


def test_the_default_service_level_saved_here_applies_to_the_next_ticket_of_a_contact_without_one(
    staffroom: Staffroom,
) -> None:
    desk = staffroom.desk
    browser = staffroom.signed_in()
    browser.get("/admin/setup/settings")

    answer = browser.post(
        "/admin/setup/settings", settings_form(desk, default_service_level_id=desk.levels["urgent"])
    )

    assert answer.status == 303
    assert answer.location == "/admin/setup/settings?done=saved"
    assert "Settings saved." in browser.get(answer.location).plain
    ticket = desk.api.post(
        "/api/tickets", {"contact_id": desk.contacts["dana"], "subject": "Help", "body": "Please."}
    )
    assert ticket.status_code == 201
    assert ticket.data["service_level_id"] == desk.levels["urgent"]


def test_every_setting_is_saved_from_the_form(staffroom: Staffroom) -> None:
    desk = staffroom.desk
    browser = staffroom.signed_in()
    browser.get("/admin/setup/settings")
    form = settings_form(
        desk,
        portal_enabled="off",
        registration_enabled="1",
        notify_sms_enabled="1",
        default_status_id=desk.statuses["waiting"],
        customer_reply_status_id=desk.statuses["waiting"],
        default_service_level_id="",
        sender_email="desk@example.com",
        staff_notify_email="team@example.com",
    )

    assert browser.post("/admin/setup/settings", form).status == 303

    stored = desk.api.get("/api/settings").data
    assert stored == {
        "portal_enabled": False,
        "registration_enabled": True,
        "default_status_id": desk.statuses["waiting"],
        "customer_reply_status_id": desk.statuses["waiting"],
        "default_service_level_id": None,
        "notify_email_enabled": True,
        "notify_sms_enabled": True,
        "sender_email": "desk@example.com",
        "staff_notify_email": "team@example.com",
        "version": int(form["version"]) + 1,
    }


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("sender_email", "not an address", "This is not a valid email address"),
        ("default_status_id", "no-such-status", "names no existing entry"),
        ("customer_reply_status_id", "SOLVED", "A customer reply must not close the ticket"),
    ],
)
def test_a_refused_setting_is_marked_and_nothing_is_saved(
    staffroom: Staffroom, field: str, value: str, message: str
) -> None:
    desk = staffroom.desk
    browser = staffroom.signed_in()
    browser.get("/admin/setup/settings")
    before = config_text()
    value = desk.statuses["solved"] if value == "SOLVED" else value

    page = browser.post(
        "/admin/setup/settings", settings_form(desk, registration_enabled="1", **{field: value})
    )

    assert page.status == 422
    assert marked(page, field)
    assert message in page.plain
    assert config_text() == before
    # The rest of the form is shown as it was sent.
    assert re.search(r'name="registration_enabled" value="1" checked', page.text)


def test_settings_saved_from_a_stale_read_show_the_settings_as_stored_now(staffroom: Staffroom) -> None:
    desk = staffroom.desk
    browser = staffroom.signed_in()
    browser.get("/admin/setup/settings")
    form = settings_form(desk, sender_email="mine@example.com")
    desk.put_settings(sender_email="theirs@example.com")

    page = browser.post("/admin/setup/settings", form)

    assert page.status == 409
    assert "Someone else changed the settings since you opened it, so nothing was saved." in page.plain
    assert "Sender email address mine@example.com theirs@example.com" in page.plain
    assert 'value="theirs@example.com"' in page.text
    assert version_on(page) == str(int(form["version"]) + 1)
    assert desk.api.get("/api/settings").data["sender_email"] == "theirs@example.com"


# -- staff --------------------------------------------------------------------------


def staff_id(api: Api, email: str) -> str:
    members = api.get("/api/staff").data["items"]
    return str(next(member["id"] for member in members if member["email"] == email))


def test_the_staff_page_lists_everyone_by_name(staffroom: Staffroom) -> None:
    page = staffroom.signed_in().get("/admin/setup/staff")

    assert page.status == 200
    assert "Ada Admin You admin@example.com Admin Active" in page.plain
    assert "Alan Agent agent@example.com Agent Active" in page.plain
    assert page.plain.index("Ada Admin") < page.plain.index("Alan Agent")


def test_a_staff_member_added_here_can_sign_in(staffroom: Staffroom) -> None:
    browser = staffroom.signed_in()
    browser.get("/admin/setup/staff")

    answer = browser.post(
        "/admin/setup/staff",
        {"email": "Bea@Example.com", "name": "Bea Agent", "role": "agent", "password": NEW_PASSWORD},
    )

    assert answer.status == 303
    assert answer.location == "/admin/setup/staff?done=added"
    assert "Staff member added." in browser.get(answer.location).plain
    signed = staff_sign_in(staffroom.browser(), "bea@example.com", NEW_PASSWORD)
    assert signed.status == 303


@pytest.mark.parametrize(
    ("field", "value", "status", "message"),
    [
        ("password", "short", 422, "This field must be between 12 and 256 characters."),
        ("email", "nobody", 422, "This is not a valid email address"),
        ("role", "owner", 422, "This field must be one of admin, agent."),
        ("email", AGENT_EMAIL, 409, "A staff member with this email already exists."),
    ],
    ids=["short-password", "bad-email", "unknown-role", "taken-email"],
)
def test_a_refused_new_staff_member_is_marked_and_not_added(
    staffroom: Staffroom, field: str, value: str, status: int, message: str
) -> None:
    browser = staffroom.signed_in()
    browser.get("/admin/setup/staff")
    fields = {"email": "bea@example.com", "name": "Bea Agent", "role": "agent", "password": NEW_PASSWORD}

    page = browser.post("/admin/setup/staff", {**fields, field: value})

    assert page.status == status
    assert marked(page, field)
    assert message in page.plain
    assert NEW_PASSWORD not in page.text
    assert len(staffroom.desk.api.get("/api/staff").data["items"]) == 2


def test_a_staff_member_is_renamed_and_promoted_under_their_version(staffroom: Staffroom) -> None:
    api = staffroom.desk.api
    agent = staff_id(api, AGENT_EMAIL)
    browser = staffroom.signed_in()
    form = browser.get(f"/admin/setup/staff/{agent}")
    assert form.status == 200
    assert 'value="Alan Agent"' in form.text

    answer = browser.post(
        f"/admin/setup/staff/{agent}",
        {"name": "Alan Lead", "role": "admin", "active": "1", "password": "", "version": version_on(form)},
    )

    assert answer.status == 303
    assert answer.location == "/admin/setup/staff?done=saved"
    stored = api.get(f"/api/staff/{agent}").data
    assert (stored["name"], stored["role"], stored["active"]) == ("Alan Lead", "admin", True)
    promoted = staffroom.signed_in("agent").get("/admin/setup")
    assert promoted.status == 200


def test_a_deactivated_staff_member_is_signed_out_at_once(staffroom: Staffroom, clock: MovableClock) -> None:
    api = staffroom.desk.api
    agent = staff_id(api, AGENT_EMAIL)
    agent_browser = staffroom.signed_in("agent")
    browser = staffroom.signed_in()
    form = browser.get(f"/admin/setup/staff/{agent}")
    clock.advance(seconds=1)

    answer = browser.post(
        f"/admin/setup/staff/{agent}", {"name": "Alan Agent", "role": "agent", "version": version_on(form)}
    )

    assert answer.status == 303
    assert api.get(f"/api/staff/{agent}").data["active"] is False
    assert agent_browser.get("/admin").status == 303
    assert staff_sign_in(staffroom.browser(), AGENT_EMAIL).status == 401
    assert "Deactivated" in browser.get("/admin/setup/staff").plain


def test_a_new_password_set_here_replaces_the_old_one(staffroom: Staffroom, clock: MovableClock) -> None:
    agent = staff_id(staffroom.desk.api, AGENT_EMAIL)
    browser = staffroom.signed_in()
    form = browser.get(f"/admin/setup/staff/{agent}")
    clock.advance(seconds=1)

    answer = browser.post(
        f"/admin/setup/staff/{agent}",
        {
            "name": "Alan Agent",
            "role": "agent",
            "active": "1",
            "password": NEW_PASSWORD,
            "version": version_on(form),
        },
    )

    assert answer.status == 303
    assert staff_sign_in(staffroom.browser(), AGENT_EMAIL, ADMIN_PASSWORD).status == 401
    assert staff_sign_in(staffroom.browser(), AGENT_EMAIL, NEW_PASSWORD).status == 303


@pytest.mark.parametrize(
    ("change", "field"), [({"role": "agent", "active": "1"}, "role"), ({"role": "admin"}, "active")]
)
def test_an_admin_cannot_demote_or_deactivate_themself(
    staffroom: Staffroom, change: dict[str, str], field: str
) -> None:
    api = staffroom.desk.api
    me = api.get("/api/auth/me").data
    browser = staffroom.signed_in()
    form = browser.get(f"/admin/setup/staff/{me['id']}")
    assert "You cannot demote yourself; another admin can." in form.plain

    page = browser.post(
        f"/admin/setup/staff/{me['id']}", {"name": "Ada Admin", **change, "version": version_on(form)}
    )

    assert page.status == 422
    assert marked(page, field)
    assert "You cannot demote or deactivate yourself." in page.plain
    stored = api.get(f"/api/staff/{me['id']}").data
    assert (stored["role"], stored["active"], stored["version"]) == ("admin", True, me["version"])


def test_a_staff_edit_from_a_stale_read_shows_the_member_as_stored_now(staffroom: Staffroom) -> None:
    api = staffroom.desk.api
    agent = staff_id(api, AGENT_EMAIL)
    browser = staffroom.signed_in()
    form = browser.get(f"/admin/setup/staff/{agent}")
    api.patch(f"/api/staff/{agent}", {"name": "Alan Renamed", "version": int(version_on(form))})

    page = browser.post(
        f"/admin/setup/staff/{agent}",
        {"name": "Alan Mine", "role": "agent", "active": "1", "version": version_on(form)},
    )

    assert page.status == 409
    assert "Someone else changed this staff member since you opened it, so nothing was saved." in page.plain
    assert "Name Alan Mine Alan Renamed" in page.plain
    assert 'value="Alan Renamed"' in page.text
    assert version_on(page) == str(int(version_on(form)) + 1)
    assert api.get(f"/api/staff/{agent}").data["name"] == "Alan Renamed"


def test_a_refused_staff_edit_changes_nothing(staffroom: Staffroom) -> None:
    api = staffroom.desk.api
    agent = staff_id(api, AGENT_EMAIL)
    browser = staffroom.signed_in()
    form = browser.get(f"/admin/setup/staff/{agent}")

    page = browser.post(
        f"/admin/setup/staff/{agent}",
        {
            "name": "Alan New",
            "role": "agent",
            "active": "1",
            "password": "short",
            "version": version_on(form),
        },
    )

    assert page.status == 422
    assert marked(page, "password")
    assert 'value="Alan New"' in page.text
    assert api.get(f"/api/staff/{agent}").data["name"] == "Alan Agent"


@pytest.mark.parametrize("member", ["no-such-member", "x" * 300])
def test_an_unknown_staff_member_is_not_found(staffroom: Staffroom, member: str) -> None:
    assert staffroom.signed_in().get(f"/admin/setup/staff/{member}").status == 404


def test_the_staff_list_pages_by_cursor_and_restarts_at_a_bad_one(
    staffroom: Staffroom, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(admin_setup_routes, "STAFF_PAGE", 1)
    browser = staffroom.signed_in()

    first = browser.get("/admin/setup/staff")
    found = re.search(r'href="(/admin/setup/staff\?cursor=[^"]+)" rel="next"', first.text)
    assert found
    second = browser.get(found.group(1).replace("&amp;", "&"))
    broken = browser.get("/admin/setup/staff?cursor=forged")

    assert ">Ada Admin</a>" in first.text
    assert ">Alan Agent</a>" not in first.text
    assert ">Alan Agent</a>" in second.text
    assert ">Ada Admin</a>" not in second.text
    assert broken.status == 200
    assert ">Ada Admin</a>" in broken.text


# -- who may ------------------------------------------------------------------------

SETUP_GETS = [
    "/admin/setup",
    "/admin/setup/service-levels",
    "/admin/setup/service-levels/{level}",
    "/admin/setup/service-levels/{level}/delete",
    "/admin/setup/categories",
    "/admin/setup/categories/{category}",
    "/admin/setup/categories/{category}/delete",
    "/admin/setup/statuses",
    "/admin/setup/statuses/{status}",
    "/admin/setup/statuses/{status}/delete",
    "/admin/setup/rating-options",
    "/admin/setup/rating-options/{option}",
    "/admin/setup/rating-options/{option}/delete",
    "/admin/setup/settings",
    "/admin/setup/staff",
    "/admin/setup/staff/{staff}",
]

SETUP_POSTS: list[tuple[str, dict[str, str]]] = [
    (
        "/admin/setup/service-levels",
        {"name": "P", "rank": "9", "response_hours": "1", "resolution_hours": "2"},
    ),
    (
        "/admin/setup/service-levels/{level}",
        {"name": "P", "rank": "9", "response_hours": "1", "resolution_hours": "2", "version": "1"},
    ),
    ("/admin/setup/service-levels/{level}/delete", {}),
    ("/admin/setup/categories", {"name": "Agents' own"}),
    ("/admin/setup/categories/{category}", {"name": "Renamed", "version": "1"}),
    ("/admin/setup/categories/{category}/delete", {}),
    ("/admin/setup/statuses", {"name": "S", "customer_label": "S", "order": "3"}),
    ("/admin/setup/statuses/{status}", {"name": "S", "customer_label": "S", "order": "3", "version": "1"}),
    ("/admin/setup/statuses/{status}/delete", {}),
    ("/admin/setup/rating-options", {"label": "Meh", "score": "10"}),
    ("/admin/setup/rating-options/{option}", {"label": "Meh", "score": "10", "version": "1"}),
    ("/admin/setup/rating-options/{option}/delete", {}),
    ("/admin/setup/settings", {"portal_enabled": "1", "version": "2"}),
    (
        "/admin/setup/staff",
        {"email": "x@example.com", "name": "X", "role": "admin", "password": NEW_PASSWORD},
    ),
    ("/admin/setup/staff/{staff}", {"name": "Ada", "role": "agent", "version": "1"}),
]


def ids_for(staffroom: Staffroom) -> dict[str, str]:
    desk = staffroom.desk
    option = desk.created("/api/rating-options", {"label": "Unused", "score": 1})["id"]
    return {
        # Entries nothing uses, so only the role check can stop a delete.
        "level": desk.created(
            "/api/service-levels", {"name": "Spare", "rank": 9, "response_hours": 1, "resolution_hours": 2}
        )["id"],
        "category": desk.categories["billing"],
        "status": desk.created(
            "/api/statuses", {"name": "Spare", "customer_label": "S", "order": 8, "closed": False}
        )["id"],
        "option": option,
        "staff": staff_id(desk.api, "admin@example.com"),
    }


@pytest.mark.parametrize("path", SETUP_GETS)
def test_an_agent_cannot_open_a_setup_page(staffroom: Staffroom, path: str) -> None:
    target = path.format(**ids_for(staffroom))

    page = staffroom.signed_in("agent").get(target)

    assert page.status == 403
    assert "Only an admin may change setup, settings or staff." in page.plain
    assert "<form" not in page.text.split("<main", 1)[1]


@pytest.mark.parametrize(("path", "fields"), SETUP_POSTS, ids=[path for path, _ in SETUP_POSTS])
def test_an_agent_cannot_post_a_setup_form(staffroom: Staffroom, path: str, fields: dict[str, str]) -> None:
    target = path.format(**ids_for(staffroom))
    browser = staffroom.signed_in("agent")
    browser.get("/admin")  # a page an agent may open: its CSRF token is a valid one
    before = (config_text(), staffroom.desk.api.get("/api/staff").data)

    page = browser.post(target, fields)

    assert page.status == 403
    assert (config_text(), staffroom.desk.api.get("/api/staff").data) == before


@pytest.mark.parametrize(("path", "fields"), SETUP_POSTS, ids=[path for path, _ in SETUP_POSTS])
def test_a_setup_form_without_its_csrf_token_changes_nothing(
    staffroom: Staffroom, path: str, fields: dict[str, str]
) -> None:
    target = path.format(**ids_for(staffroom))
    browser = staffroom.signed_in()
    browser.get("/admin/setup")
    before = (config_text(), staffroom.desk.api.get("/api/staff").data)

    missing = browser.post(target, fields, csrf=False)
    forged = browser.post(target, {**fields, "csrf_token": "0" * 40}, csrf=False)
    elsewhere = browser.post(target, fields, headers={"Origin": "https://evil.example"})

    assert (missing.status, forged.status, elsewhere.status) == (403, 403, 403)
    assert (config_text(), staffroom.desk.api.get("/api/staff").data) == before


# -- escaping -----------------------------------------------------------------------

NASTY = '<script>alert("x")</script>'


def test_names_from_setup_and_staff_are_escaped_on_every_page(staffroom: Staffroom) -> None:
    desk = staffroom.desk
    browser = staffroom.signed_in()
    browser.get("/admin/setup/categories")
    browser.post("/admin/setup/categories", {"name": NASTY})
    category = entry_named(desk.api, "categories", NASTY)
    assert category is not None
    browser.get("/admin/setup/staff")
    browser.post(
        "/admin/setup/staff",
        {"email": "eve@example.com", "name": NASTY, "role": "agent", "password": NEW_PASSWORD},
    )
    refused = browser.post("/admin/setup/categories", {"name": NASTY + "x" * 80})

    pages = [
        browser.get("/admin/setup/categories"),
        browser.get(f"/admin/setup/categories/{category['id']}"),
        browser.get(f"/admin/setup/categories/{category['id']}/delete"),
        browser.get("/admin/setup/staff"),
        browser.get(f"/admin/setup/staff/{staff_id(desk.api, 'eve@example.com')}"),
        refused,
    ]

    for page in pages:
        assert "<script>" not in page.text
        assert "&lt;script&gt;" in page.text
        assert "script-src 'self'" in page.headers["Content-Security-Policy"]


def test_setup_pages_carry_no_inline_script_or_style(staffroom: Staffroom) -> None:
    browser = staffroom.signed_in()

    for path in ("/admin/setup", "/admin/setup/statuses", "/admin/setup/settings", "/admin/setup/staff"):
        page = browser.get(path)
        assert "<script" not in page.text
        assert "<style" not in page.text
        assert " style=" not in page.text


def test_every_field_of_a_setup_form_has_a_label(staffroom: Staffroom) -> None:
    browser = staffroom.signed_in()
    status = staffroom.desk.statuses["new"]

    for path in (
        "/admin/setup/statuses",
        f"/admin/setup/statuses/{status}",
        "/admin/setup/settings",
        "/admin/setup/staff",
    ):
        page = browser.get(path)
        main = page.text.split("<main", 1)[1]
        for field_id in re.findall(r'<(?:input|select)(?![^>]*type="hidden")[^>]*\bid="([^"]+)"', main):
            label = f'<label for="{field_id}">' in main or re.search(
                rf'<label><input[^>]*id="{field_id}"', main
            )
            assert label, f"{path}: {field_id} has no label"


# -- round trips --------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/admin/setup",
        "/admin/setup/service-levels",
        "/admin/setup/categories",
        "/admin/setup/statuses",
        "/admin/setup/rating-options",
        "/admin/setup/statuses/{status}",
        "/admin/setup/statuses/{status}/delete",
        "/admin/setup/settings",
        "/admin/setup/staff/{staff}",
    ],
)
def test_a_setup_page_is_one_round_trip(staffroom: Staffroom, path: str) -> None:
    target = path.format(**ids_for(staffroom))
    browser = staffroom.signed_in()

    with count_calls() as calls:
        page = browser.get(target)

    assert page.status == 200
    assert calls.by_operation == {"BatchGetItem": 1}


def test_the_staff_list_is_two_round_trips(staffroom: Staffroom) -> None:
    browser = staffroom.signed_in()

    with count_calls() as calls:
        page = browser.get("/admin/setup/staff")

    assert page.status == 200
    assert calls.by_operation == {"BatchGetItem": 1, "Query": 1}
