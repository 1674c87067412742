"""Setup lists (service levels, categories, statuses, rating options) and settings."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.functional.conftest import Api

# segment -> (three valid bodies given out of order, the key that shows the list order,
#             that key's values in list order, a valid partial edit)
COLLECTIONS: dict[str, tuple[list[dict[str, Any]], str, list[Any], dict[str, Any]]] = {
    "service-levels": (
        [
            {"name": "Standard", "rank": 3, "response_hours": 8, "resolution_hours": 72},
            {"name": "Urgent", "rank": 1, "response_hours": 1, "resolution_hours": 4},
            {"name": "Gold", "rank": 2, "response_hours": 4, "resolution_hours": 24},
        ],
        "name",
        ["Urgent", "Gold", "Standard"],
        {"response_hours": 2, "name": "Urgent+"},
    ),
    "categories": (
        [{"name": "technical"}, {"name": "Billing"}, {"name": "accounts"}],
        "name",
        ["accounts", "Billing", "technical"],
        {"name": "Tech"},
    ),
    "statuses": (
        [
            {"name": "Solved", "customer_label": "Done", "order": 9, "closed": True},
            {"name": "New", "customer_label": "Received", "order": 1, "closed": False},
            {"name": "Waiting", "customer_label": "In progress", "order": 5, "closed": False},
        ],
        "name",
        ["New", "Waiting", "Solved"],
        {"customer_label": "Finished", "order": 10},
    ),
    "rating-options": (
        [{"label": "Fine", "score": 3}, {"label": "Great", "score": 5}, {"label": "Poor", "score": 1}],
        "label",
        ["Great", "Fine", "Poor"],
        {"label": "Okay"},
    ),
}

# segment -> (a field, a value of the wrong type for it)
WRONG_TYPES = {
    "service-levels": ("rank", "1"),
    "categories": ("name", 42),
    "statuses": ("closed", "yes"),
    "rating-options": ("score", 4.5),
}

SEGMENTS = list(COLLECTIONS)


def created(api: Api, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = api.post(path, body)
    assert response.status_code == 201, response.body
    data: dict[str, Any] = response.data
    return data


def first_body(segment: str) -> dict[str, Any]:
    return dict(COLLECTIONS[segment][0][0])


def full_settings(**overrides: Any) -> dict[str, Any]:
    """A whole settings body: the defaults, at the version settings have before any change."""
    settings = {
        "portal_enabled": True,
        "registration_enabled": False,
        "default_status_id": None,
        "customer_reply_status_id": None,
        "default_service_level_id": None,
        "notify_email_enabled": True,
        "notify_sms_enabled": False,
        "sender_email": None,
        "staff_notify_email": None,
        "version": 1,
    }
    return {**settings, **overrides}


def replace_settings(api: Api, **overrides: Any) -> Any:
    """PUT settings under the version they have now, as a client that just read them would."""
    version = api.get("/api/settings").data["version"]
    return api.put("/api/settings", full_settings(version=version, **overrides))


@pytest.fixture
def contact_id(admin: Api) -> str:
    return created(admin, "/api/contacts", {"name": "Cleo Customer", "email": "cleo@example.com"})["id"]


def open_ticket(admin: Api, contact_id: str, **fields: Any) -> dict[str, Any]:
    return created(
        admin, "/api/tickets", {"contact_id": contact_id, "subject": "Help", "body": "Please"} | fields
    )


# -- every list alike ----------------------------------------------------------------


@pytest.mark.parametrize("segment", SEGMENTS)
def test_entries_are_listed_in_their_own_order(admin, segment):
    bodies, key, expected, _ = COLLECTIONS[segment]
    for body in bodies:
        created(admin, f"/api/{segment}", body)

    listed = admin.get(f"/api/{segment}")

    assert listed.status_code == 200
    assert [entry[key] for entry in listed.data["items"]] == expected


@pytest.mark.parametrize("segment", SEGMENTS)
def test_a_created_entry_is_answered_with_its_id_and_can_be_read_back(admin, segment):
    body = first_body(segment)

    entry = created(admin, f"/api/{segment}", body)

    assert entry == {"id": entry["id"], **body, "version": 1}
    assert admin.get(f"/api/{segment}/{entry['id']}").data == entry


@pytest.mark.parametrize("segment", SEGMENTS)
def test_an_entry_edit_changes_only_the_fields_given(admin, segment):
    entry = created(admin, f"/api/{segment}", first_body(segment))
    change = COLLECTIONS[segment][3]

    edited = admin.patch(f"/api/{segment}/{entry['id']}", {**change, "version": entry["version"]})

    assert edited.status_code == 200
    assert edited.data == {**entry, **change, "version": 2}
    assert admin.get(f"/api/{segment}/{entry['id']}").data == {**entry, **change, "version": 2}


@pytest.mark.parametrize("segment", SEGMENTS)
def test_a_deleted_entry_is_gone(admin, segment):
    entry = created(admin, f"/api/{segment}", first_body(segment))

    deleted = admin.delete(f"/api/{segment}/{entry['id']}")

    assert deleted.status_code == 204
    assert admin.get(f"/api/{segment}/{entry['id']}").status_code == 404
    assert admin.get(f"/api/{segment}").data["items"] == []


@pytest.mark.parametrize("segment", SEGMENTS)
@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
def test_an_unknown_entry_is_not_found(admin, segment, method):
    body = {**COLLECTIONS[segment][3], "version": 1} if method == "PATCH" else None

    response = admin.call(method, f"/api/{segment}/0123456789abcdef", body)

    assert response.status_code == 404
    assert response.data["error"]["code"] == "not_found"


@pytest.mark.parametrize("segment", SEGMENTS)
@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_an_unknown_field_is_refused_by_name(admin, segment, method):
    entry = created(admin, f"/api/{segment}", first_body(segment))
    path = f"/api/{segment}" if method == "POST" else f"/api/{segment}/{entry['id']}"
    version = {"version": entry["version"]} if method == "PATCH" else {}

    response = admin.call(method, path, {**first_body(segment), **version, "colour": "red"})

    assert response.status_code == 422
    assert response.data["error"]["field"] == "colour"
    assert admin.get(f"/api/{segment}/{entry['id']}").data == entry


@pytest.mark.parametrize("segment", SEGMENTS)
def test_a_missing_required_field_is_refused_by_name(admin, segment):
    body = first_body(segment)
    missing = list(body)[-1]
    del body[missing]

    response = admin.post(f"/api/{segment}", body)

    assert response.status_code == 422
    assert response.data["error"]["field"] == missing
    assert admin.get(f"/api/{segment}").data["items"] == []


@pytest.mark.parametrize("segment", SEGMENTS)
@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_a_value_of_the_wrong_type_is_refused_by_name(admin, segment, method):
    entry = created(admin, f"/api/{segment}", first_body(segment))
    field, value = WRONG_TYPES[segment]
    path = f"/api/{segment}" if method == "POST" else f"/api/{segment}/{entry['id']}"
    version = {"version": entry["version"]} if method == "PATCH" else {}

    response = admin.call(method, path, {**first_body(segment), **version, field: value})

    assert response.status_code == 422
    assert response.data["error"]["field"] == field
    assert admin.get(f"/api/{segment}/{entry['id']}").data == entry


@pytest.mark.parametrize("segment", SEGMENTS)
def test_a_required_field_cannot_be_nulled_by_an_edit(admin, segment):
    entry = created(admin, f"/api/{segment}", first_body(segment))
    field = next(iter(first_body(segment)))

    response = admin.patch(f"/api/{segment}/{entry['id']}", {field: None, "version": entry["version"]})

    assert response.status_code == 422
    assert response.data["error"]["field"] == field
    assert admin.get(f"/api/{segment}/{entry['id']}").data == entry


@pytest.mark.parametrize(
    ("segment", "field", "value"),
    [
        ("service-levels", "rank", 0),
        ("service-levels", "response_hours", 8761),
        ("statuses", "order", -1),
        ("rating-options", "score", 101),
        ("categories", "name", "x" * 81),
    ],
)
def test_a_value_out_of_range_is_refused_by_name(admin, segment, field, value):
    response = admin.post(f"/api/{segment}", {**first_body(segment), field: value})

    assert response.status_code == 422
    assert response.data["error"]["field"] == field


# -- deleting what is in use ---------------------------------------------------------


def test_a_status_used_by_a_ticket_cannot_be_deleted_until_the_ticket_moves_on(admin, contact_id):
    new = created(
        admin, "/api/statuses", {"name": "New", "customer_label": "New", "order": 1, "closed": False}
    )
    done = created(
        admin, "/api/statuses", {"name": "Done", "customer_label": "Done", "order": 2, "closed": True}
    )
    ticket = open_ticket(admin, contact_id, status_id=new["id"])

    refused = admin.delete(f"/api/statuses/{new['id']}")

    assert refused.status_code == 409
    assert f"ticket {ticket['number']}" in refused.data["error"]["message"]
    assert admin.get(f"/api/statuses/{new['id']}").status_code == 200

    moved = admin.patch(
        f"/api/tickets/{ticket['id']}", {"status_id": done["id"], "version": ticket["version"]}
    )
    assert moved.status_code == 200, moved.body
    assert admin.delete(f"/api/statuses/{new['id']}").status_code == 204


def test_a_category_used_by_a_ticket_cannot_be_deleted(admin, contact_id):
    billing = created(admin, "/api/categories", {"name": "Billing"})
    open_ticket(admin, contact_id, category_id=billing["id"])

    refused = admin.delete(f"/api/categories/{billing['id']}")

    assert refused.status_code == 409
    assert refused.data["error"]["code"] == "conflict"
    assert admin.get(f"/api/categories/{billing['id']}").status_code == 200


def test_a_service_level_used_by_a_ticket_cannot_be_deleted(admin, contact_id):
    gold = created(admin, "/api/service-levels", first_body("service-levels"))
    open_ticket(admin, contact_id, service_level_id=gold["id"])

    refused = admin.delete(f"/api/service-levels/{gold['id']}")

    assert refused.status_code == 409
    assert admin.get(f"/api/service-levels/{gold['id']}").status_code == 200


def test_a_service_level_that_is_a_contacts_default_cannot_be_deleted_until_cleared(admin):
    gold = created(admin, "/api/service-levels", first_body("service-levels"))
    contact = created(
        admin, "/api/contacts", {"name": "Cleo", "email": "cleo@example.com", "service_level_id": gold["id"]}
    )

    refused = admin.delete(f"/api/service-levels/{gold['id']}")

    assert refused.status_code == 409
    assert f"contact {contact['id']}" in refused.data["error"]["message"]

    cleared = admin.patch(
        f"/api/contacts/{contact['id']}", {"service_level_id": None, "version": contact["version"]}
    )
    assert cleared.status_code == 200, cleared.body
    assert admin.delete(f"/api/service-levels/{gold['id']}").status_code == 204


@pytest.mark.parametrize(
    ("segment", "setting"),
    [
        ("service-levels", "default_service_level_id"),
        ("statuses", "default_status_id"),
        ("statuses", "customer_reply_status_id"),
    ],
)
def test_an_entry_named_by_a_setting_cannot_be_deleted_until_the_setting_changes(admin, segment, setting):
    entry = created(admin, f"/api/{segment}", COLLECTIONS[segment][0][1])  # an open status
    assert replace_settings(admin, **{setting: entry["id"]}).status_code == 200

    refused = admin.delete(f"/api/{segment}/{entry['id']}")

    assert refused.status_code == 409
    assert setting in refused.data["error"]["message"]
    assert replace_settings(admin).status_code == 200
    assert admin.delete(f"/api/{segment}/{entry['id']}").status_code == 204


def test_a_rating_option_nothing_uses_can_be_deleted_and_others_stay(admin):
    great = created(admin, "/api/rating-options", {"label": "Great", "score": 5})
    poor = created(admin, "/api/rating-options", {"label": "Poor", "score": 1})

    assert admin.delete(f"/api/rating-options/{poor['id']}").status_code == 204

    assert admin.get("/api/rating-options").data["items"] == [great]


# -- settings ------------------------------------------------------------------------


@pytest.fixture
def entries(admin: Api) -> dict[str, str]:
    """An open status, a closed status and a service level."""
    return {
        "open": created(
            admin, "/api/statuses", {"name": "New", "customer_label": "New", "order": 1, "closed": False}
        )["id"],
        "closed": created(
            admin, "/api/statuses", {"name": "Done", "customer_label": "Done", "order": 2, "closed": True}
        )["id"],
        "level": created(admin, "/api/service-levels", first_body("service-levels"))["id"],
    }


def test_settings_start_from_safe_defaults(admin):
    response = admin.get("/api/settings")

    assert response.status_code == 200
    assert response.data == full_settings()


def test_settings_are_replaced_whole_and_read_back(admin, agent, entries):
    wanted = full_settings(
        portal_enabled=False,
        registration_enabled=True,
        default_status_id=entries["open"],
        customer_reply_status_id=entries["open"],
        default_service_level_id=entries["level"],
        notify_sms_enabled=True,
        sender_email="help@Example.com",
        staff_notify_email="team@example.com",
    )

    response = admin.put("/api/settings", wanted)

    assert response.status_code == 200
    assert response.data == {**wanted, "sender_email": "help@example.com", "version": 2}
    assert agent.get("/api/settings").data == response.data


def test_references_in_settings_can_be_cleared_with_null(admin, entries):
    assert replace_settings(admin, default_status_id=entries["open"]).status_code == 200

    response = replace_settings(admin, default_status_id=None)

    assert response.status_code == 200
    assert admin.get("/api/settings").data["default_status_id"] is None


@pytest.mark.parametrize("missing", list(full_settings()))
def test_settings_need_every_field(admin, missing):
    body = full_settings(portal_enabled=False)
    del body[missing]

    response = admin.put("/api/settings", body)

    assert response.status_code == 422
    assert response.data["error"]["field"] == missing
    assert admin.get("/api/settings").data == full_settings()


@pytest.mark.parametrize(
    "setting", ["default_status_id", "customer_reply_status_id", "default_service_level_id"]
)
def test_a_setting_naming_no_existing_entry_is_refused_by_name(admin, entries, setting):
    response = admin.put("/api/settings", full_settings(**{setting: "0123456789abcdef"}))

    assert response.status_code == 422
    assert response.data["error"]["field"] == setting


def test_a_setting_naming_an_entry_of_the_wrong_list_is_refused(admin, entries):
    response = admin.put("/api/settings", full_settings(default_status_id=entries["level"]))

    assert response.status_code == 422
    assert response.data["error"]["field"] == "default_status_id"


def test_a_closed_status_cannot_be_where_customer_replies_go(admin, entries):
    response = admin.put("/api/settings", full_settings(customer_reply_status_id=entries["closed"]))

    assert response.status_code == 422
    assert response.data["error"]["field"] == "customer_reply_status_id"
    assert admin.get("/api/settings").data["customer_reply_status_id"] is None


def test_the_customer_reply_status_cannot_be_edited_into_a_closed_one(admin, entries):
    assert replace_settings(admin, customer_reply_status_id=entries["open"]).status_code == 200

    response = admin.patch(f"/api/statuses/{entries['open']}", {"closed": True, "version": 1})

    assert response.status_code == 409
    assert response.data["error"]["field"] == "closed"
    assert admin.get(f"/api/statuses/{entries['open']}").data["closed"] is False


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"portal_enabled": "yes"}, "portal_enabled"),
        ({"sender_email": "not-an-email"}, "sender_email"),
        ({"default_status_id": "has spaces"}, "default_status_id"),
        ({"notify_sms_enabled": None}, "notify_sms_enabled"),
        ({"theme": "dark"}, "theme"),
        ({"version": "1"}, "version"),
        ({"version": 0}, "version"),
    ],
)
def test_a_bad_setting_value_is_refused_by_name(admin, change, field):
    response = admin.put("/api/settings", full_settings(**change))

    assert response.status_code == 422
    assert response.data["error"]["field"] == field
    assert admin.get("/api/settings").data == full_settings()


# -- versions ------------------------------------------------------------------------


@pytest.mark.parametrize("segment", SEGMENTS)
def test_each_edit_of_an_entry_raises_its_version_by_one_everywhere_it_is_shown(admin, segment):
    entry = created(admin, f"/api/{segment}", first_body(segment))
    change = COLLECTIONS[segment][3]

    for expected in (2, 3):
        edited = admin.patch(f"/api/{segment}/{entry['id']}", {**change, "version": expected - 1})
        assert edited.status_code == 200, edited.body
        assert edited.data["version"] == expected

    assert admin.get(f"/api/{segment}/{entry['id']}").data["version"] == 3
    assert [listed["version"] for listed in admin.get(f"/api/{segment}").data["items"]] == [3]


@pytest.mark.parametrize("segment", SEGMENTS)
def test_an_entry_edit_without_a_version_is_refused_by_name(admin, segment):
    entry = created(admin, f"/api/{segment}", first_body(segment))

    response = admin.patch(f"/api/{segment}/{entry['id']}", COLLECTIONS[segment][3])

    assert response.status_code == 422
    assert response.data["error"]["field"] == "version"
    assert admin.get(f"/api/{segment}/{entry['id']}").data == entry


@pytest.mark.parametrize("segment", SEGMENTS)
def test_an_entry_edit_from_a_stale_read_is_refused_with_the_entry_as_stored(admin, segment):
    # GIVEN two admins who read the entry at version 1, and the first one's edit saved
    entry = created(admin, f"/api/{segment}", first_body(segment))
    change = COLLECTIONS[segment][3]
    first = admin.patch(f"/api/{segment}/{entry['id']}", {**change, "version": 1})
    assert first.status_code == 200, first.body

    # WHEN the second one saves an edit of their own under version 1
    second = admin.patch(f"/api/{segment}/{entry['id']}", {**first_body(segment), "version": 1})

    # THEN it is refused with what is stored now, and the first edit stands
    assert second.status_code == 409
    assert second.data["error"]["code"] == "stale_version"
    assert second.data["error"]["field"] == "version"
    assert second.data["error"]["current"] == first.data
    assert admin.get(f"/api/{segment}/{entry['id']}").data == first.data


def test_edits_of_different_entries_read_at_the_same_time_both_apply(admin):
    billing = created(admin, "/api/categories", {"name": "Billing"})
    technical = created(admin, "/api/categories", {"name": "Technical"})

    renamed = admin.patch(f"/api/categories/{billing['id']}", {"name": "Invoices", "version": 1})
    retitled = admin.patch(f"/api/categories/{technical['id']}", {"name": "Tech", "version": 1})

    assert (renamed.status_code, retitled.status_code) == (200, 200)
    assert admin.get("/api/categories").data["items"] == [
        {"id": billing["id"], "name": "Invoices", "version": 2},
        {"id": technical["id"], "name": "Tech", "version": 2},
    ]


@pytest.fixture
def racing_edit(admin: Api, monkeypatch: pytest.MonkeyPatch) -> Callable[[str, dict[str, Any]], list[str]]:
    """Make another admin's category edit land between the next edit's read and its save.

    Returns the list of config reads, so a test can see the raced edit read again.
    """
    from chalicelib.domain import setup

    real_load = setup.load

    def arrange(entry_id: str, body: dict[str, Any]) -> list[str]:
        reads: list[str] = []

        def load_then_race() -> setup.SetupConfig:
            config = real_load()
            reads.append("read")
            if len(reads) == 1:
                setup.update_entry("categories", entry_id, body)
            return config

        monkeypatch.setattr(setup, "load", load_then_race)
        return reads

    return arrange


def test_an_edit_raced_by_an_edit_of_another_entry_is_retried_and_both_apply(admin, racing_edit):
    # GIVEN another admin renames Technical while this edit of Billing is between read and save
    billing = created(admin, "/api/categories", {"name": "Billing"})
    technical = created(admin, "/api/categories", {"name": "Technical"})
    reads = racing_edit(technical["id"], {"name": "Tech", "version": 1})

    # WHEN the Billing edit saves
    renamed = admin.patch(f"/api/categories/{billing['id']}", {"name": "Invoices", "version": 1})

    # THEN its save lost the race once, was redone on the fresh config, and both edits stand
    assert renamed.status_code == 200, renamed.body
    assert len(reads) == 3  # this edit, the racing edit, this edit again
    assert admin.get("/api/categories").data["items"] == [
        {"id": billing["id"], "name": "Invoices", "version": 2},
        {"id": technical["id"], "name": "Tech", "version": 2},
    ]


def test_an_edit_raced_by_an_edit_of_the_same_entry_is_refused_as_stale(admin, racing_edit):
    # GIVEN another admin renames Billing while this edit of Billing is between read and save
    billing = created(admin, "/api/categories", {"name": "Billing"})
    racing_edit(billing["id"], {"name": "Accounts", "version": 1})

    # WHEN this edit saves under the version both read
    renamed = admin.patch(f"/api/categories/{billing['id']}", {"name": "Invoices", "version": 1})

    # THEN the retry sees the other edit and refuses, rather than overwriting it
    assert renamed.status_code == 409
    assert renamed.data["error"]["code"] == "stale_version"
    assert renamed.data["error"]["current"] == {"id": billing["id"], "name": "Accounts", "version": 2}
    assert admin.get(f"/api/categories/{billing['id']}").data["name"] == "Accounts"


@pytest.mark.parametrize("segment", SEGMENTS)
def test_a_delete_needs_no_version_and_applies_after_another_admins_edit(admin, segment):
    entry = created(admin, f"/api/{segment}", first_body(segment))
    edited = admin.patch(f"/api/{segment}/{entry['id']}", {**COLLECTIONS[segment][3], "version": 1})
    assert edited.status_code == 200, edited.body

    deleted = admin.delete(f"/api/{segment}/{entry['id']}")

    assert deleted.status_code == 204
    assert admin.get(f"/api/{segment}/{entry['id']}").status_code == 404


def test_a_delete_refuses_a_version_in_the_query(admin):
    billing = created(admin, "/api/categories", {"name": "Billing"})

    response = admin.delete(f"/api/categories/{billing['id']}?version=1")

    assert response.status_code == 422
    assert response.data["error"]["field"] == "version"
    assert admin.get(f"/api/categories/{billing['id']}").status_code == 200


def test_each_replacement_of_the_settings_raises_their_version_by_one(admin):
    assert admin.get("/api/settings").data["version"] == 1

    first = replace_settings(admin, portal_enabled=False)
    second = replace_settings(admin, portal_enabled=True)

    assert (first.data["version"], second.data["version"]) == (2, 3)
    assert admin.get("/api/settings").data == full_settings(version=3)


def test_settings_replaced_from_a_stale_read_are_refused_with_the_settings_as_stored(admin):
    # GIVEN two admins who read the settings at version 1, and the first one's change saved
    first = admin.put("/api/settings", full_settings(portal_enabled=False, version=1))
    assert first.status_code == 200, first.body

    # WHEN the second one replaces them under version 1
    second = admin.put("/api/settings", full_settings(notify_sms_enabled=True, version=1))

    # THEN it is refused with the settings as they are, and the first change stands
    assert second.status_code == 409
    assert second.data["error"]["code"] == "stale_version"
    assert second.data["error"]["field"] == "version"
    assert second.data["error"]["current"] == full_settings(portal_enabled=False, version=2)
    assert admin.get("/api/settings").data == first.data


def test_entries_and_settings_saved_before_they_had_versions_read_as_version_one(admin):
    from chalicelib.store.models import Config

    # GIVEN a config item written before entries and settings carried a version
    settings = {
        name: value for name, value in full_settings(portal_enabled=False).items() if name != "version"
    }
    legacy = {
        "settings": settings,
        "categories": {"billing-1": {"name": "Billing"}},
        "service_levels": {},
        "statuses": {},
        "rating_options": {},
    }
    Config(*Config.key(), data=json.dumps(legacy)).save()

    # WHEN staff read them THEN each reads as version 1
    assert admin.get("/api/categories").data["items"] == [
        {"id": "billing-1", "name": "Billing", "version": 1}
    ]
    assert admin.get("/api/settings").data == {**settings, "version": 1}

    # AND edits under version 1 apply and move them to version 2
    edited = admin.patch("/api/categories/billing-1", {"name": "Invoices", "version": 1})
    assert edited.data == {"id": "billing-1", "name": "Invoices", "version": 2}
    replaced = admin.put("/api/settings", {**settings, "portal_enabled": True, "version": 1})
    assert replaced.data == {**settings, "portal_enabled": True, "version": 2}
