"""Setup lists (service levels, categories, statuses, rating options) and settings."""

from __future__ import annotations

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
    }
    return {**settings, **overrides}


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

    assert entry == {"id": entry["id"], **body}
    assert admin.get(f"/api/{segment}/{entry['id']}").data == entry


@pytest.mark.parametrize("segment", SEGMENTS)
def test_an_entry_edit_changes_only_the_fields_given(admin, segment):
    entry = created(admin, f"/api/{segment}", first_body(segment))
    change = COLLECTIONS[segment][3]

    edited = admin.patch(f"/api/{segment}/{entry['id']}", change)

    assert edited.status_code == 200
    assert edited.data == {**entry, **change}
    assert admin.get(f"/api/{segment}/{entry['id']}").data == {**entry, **change}


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
    body = COLLECTIONS[segment][3] if method == "PATCH" else None

    response = admin.call(method, f"/api/{segment}/0123456789abcdef", body)

    assert response.status_code == 404
    assert response.data["error"]["code"] == "not_found"


@pytest.mark.parametrize("segment", SEGMENTS)
@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_an_unknown_field_is_refused_by_name(admin, segment, method):
    entry = created(admin, f"/api/{segment}", first_body(segment))
    path = f"/api/{segment}" if method == "POST" else f"/api/{segment}/{entry['id']}"

    response = admin.call(method, path, {**first_body(segment), "colour": "red"})

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

    response = admin.call(method, path, {**first_body(segment), field: value})

    assert response.status_code == 422
    assert response.data["error"]["field"] == field
    assert admin.get(f"/api/{segment}/{entry['id']}").data == entry


@pytest.mark.parametrize("segment", SEGMENTS)
def test_a_required_field_cannot_be_nulled_by_an_edit(admin, segment):
    entry = created(admin, f"/api/{segment}", first_body(segment))
    field = next(iter(first_body(segment)))

    response = admin.patch(f"/api/{segment}/{entry['id']}", {field: None})

    assert response.status_code == 422
    assert response.data["error"]["field"] == field


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
    assert admin.put("/api/settings", full_settings(**{setting: entry["id"]})).status_code == 200

    refused = admin.delete(f"/api/{segment}/{entry['id']}")

    assert refused.status_code == 409
    assert setting in refused.data["error"]["message"]
    assert admin.put("/api/settings", full_settings()).status_code == 200
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
    assert response.data == {**wanted, "sender_email": "help@example.com"}
    assert agent.get("/api/settings").data == response.data


def test_references_in_settings_can_be_cleared_with_null(admin, entries):
    admin.put("/api/settings", full_settings(default_status_id=entries["open"]))

    response = admin.put("/api/settings", full_settings(default_status_id=None))

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
    admin.put("/api/settings", full_settings(customer_reply_status_id=entries["open"]))

    response = admin.patch(f"/api/statuses/{entries['open']}", {"closed": True})

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
    ],
)
def test_a_bad_setting_value_is_refused_by_name(admin, change, field):
    response = admin.put("/api/settings", full_settings(**change))

    assert response.status_code == 422
    assert response.data["error"]["field"] == field
