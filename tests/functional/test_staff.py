"""Staff accounts and roles: admins manage staff and setup, agents only read setup."""

from __future__ import annotations

from typing import Any

import pytest

from tests.functional.conftest import ADMIN_PASSWORD, Api, sign_in

NEW_PASSWORD = "a brand new passphrase"


def new_staff(admin: Api, email: str, name: str, role: str = "agent") -> dict[str, Any]:
    response = admin.post(
        "/api/staff", {"email": email, "name": name, "role": role, "password": ADMIN_PASSWORD}
    )
    assert response.status_code == 201, response.body
    data: dict[str, Any] = response.data
    return data


@pytest.fixture
def setup_ids(admin: Api) -> dict[str, str]:
    """One entry of every setup list, made by the admin."""
    bodies = {
        "service-levels": {"name": "Gold", "rank": 1, "response_hours": 4, "resolution_hours": 24},
        "categories": {"name": "Billing"},
        "statuses": {"name": "New", "customer_label": "Received", "order": 1, "closed": False},
        "rating-options": {"label": "Great", "score": 5},
    }
    ids = {}
    for segment, body in bodies.items():
        response = admin.post(f"/api/{segment}", body)
        assert response.status_code == 201, response.body
        ids[segment] = response.data["id"]
    ids["staff"] = admin.get("/api/auth/me").data["id"]
    return ids


# -- roles ---------------------------------------------------------------------------

AGENT_FORBIDDEN = [
    ("POST", "/api/service-levels", {"name": "Tin", "rank": 9, "response_hours": 1, "resolution_hours": 2}),
    ("PATCH", "/api/service-levels/{service-levels}", {"name": "Platinum", "version": 1}),
    ("DELETE", "/api/service-levels/{service-levels}", None),
    ("POST", "/api/categories", {"name": "Refunds"}),
    ("PATCH", "/api/categories/{categories}", {"name": "Invoices", "version": 1}),
    ("DELETE", "/api/categories/{categories}", None),
    ("POST", "/api/statuses", {"name": "Done", "customer_label": "Done", "order": 9, "closed": True}),
    ("PATCH", "/api/statuses/{statuses}", {"closed": True, "version": 1}),
    ("DELETE", "/api/statuses/{statuses}", None),
    ("POST", "/api/rating-options", {"label": "Awful", "score": 1}),
    ("PATCH", "/api/rating-options/{rating-options}", {"score": 4, "version": 1}),
    ("DELETE", "/api/rating-options/{rating-options}", None),
    (
        "PUT",
        "/api/settings",
        {
            "portal_enabled": False,
            "registration_enabled": False,
            "default_status_id": None,
            "customer_reply_status_id": None,
            "default_service_level_id": None,
            "notify_email_enabled": False,
            "notify_sms_enabled": False,
            "sender_email": None,
            "staff_notify_email": None,
            "version": 1,
        },
    ),
    ("GET", "/api/staff", None),
    ("GET", "/api/staff/{staff}", None),
    (
        "POST",
        "/api/staff",
        {"email": "x@example.com", "name": "X", "role": "admin", "password": ADMIN_PASSWORD},
    ),
    ("PATCH", "/api/staff/{staff}", {"role": "agent", "version": 1}),
]


@pytest.mark.parametrize(("method", "path", "body"), AGENT_FORBIDDEN)
def test_an_agent_may_not_change_setup_settings_or_staff_nor_read_staff(
    admin, agent, setup_ids, method, path, body
):
    before = {segment: admin.get(f"/api/{segment}").data for segment in ("service-levels", "statuses")}

    response = agent.call(method, path.format_map(setup_ids), body)

    assert response.status_code == 403
    assert response.data["error"]["code"] == "forbidden"
    after = {segment: admin.get(f"/api/{segment}").data for segment in ("service-levels", "statuses")}
    assert after == before
    assert admin.get("/api/auth/me").data["role"] == "admin"


@pytest.mark.parametrize(
    "path",
    [
        "/api/service-levels",
        "/api/categories",
        "/api/statuses",
        "/api/rating-options",
        "/api/settings",
        "/api/statuses/{statuses}",
    ],
)
def test_an_agent_may_read_setup_and_settings(admin, agent, setup_ids, path):
    response = agent.get(path.format_map(setup_ids))

    assert response.status_code == 200
    assert response.data == admin.get(path.format_map(setup_ids)).data


def test_an_admin_may_change_setup_settings_and_staff(admin, setup_ids):
    renamed = admin.patch(f"/api/categories/{setup_ids['categories']}", {"name": "Invoices", "version": 1})
    assert renamed.status_code == 200
    assert admin.delete(f"/api/rating-options/{setup_ids['rating-options']}").status_code == 204
    settings = admin.get("/api/settings").data
    assert admin.put("/api/settings", {**settings, "portal_enabled": False}).status_code == 200
    assert admin.get("/api/staff").status_code == 200
    new_staff(admin, "second@example.com", "Second Admin", role="admin")


def test_an_admin_cannot_demote_themself(admin):
    me = admin.get("/api/auth/me").data

    response = admin.patch(f"/api/staff/{me['id']}", {"role": "agent", "version": me["version"]})

    assert response.status_code == 422
    assert response.data["error"]["field"] == "role"
    assert admin.get("/api/auth/me").data["role"] == "admin"


def test_an_admin_cannot_deactivate_themself(admin):
    me = admin.get("/api/auth/me").data

    response = admin.patch(f"/api/staff/{me['id']}", {"active": False, "version": me["version"]})

    assert response.status_code == 422
    assert response.data["error"]["field"] == "active"
    assert admin.get("/api/auth/me").status_code == 200


def test_an_admin_can_demote_another_admin_who_then_loses_admin_rights(client, admin):
    other = new_staff(admin, "other@example.com", "Other Admin", role="admin")
    other_api = sign_in(client, "other@example.com", ADMIN_PASSWORD)
    assert other_api.get("/api/staff").status_code == 200

    demoted = admin.patch(f"/api/staff/{other['id']}", {"role": "agent", "version": other["version"]})

    assert demoted.status_code == 200
    assert demoted.data["role"] == "agent"
    # The role is read live with the token: no new sign-in needed for it to bite.
    assert other_api.get("/api/staff").status_code == 403


# -- creating staff ------------------------------------------------------------------


def test_an_admin_creates_a_staff_member_without_exposing_the_password(admin):
    response = admin.post(
        "/api/staff",
        {"email": "Bea@Example.com", "name": " Bea Agent ", "role": "agent", "password": ADMIN_PASSWORD},
    )

    assert response.status_code == 201
    assert response.data["email"] == "bea@example.com"
    assert response.data["name"] == "Bea Agent"
    assert response.data["role"] == "agent"
    assert response.data["active"] is True
    assert response.data["version"] == 1
    assert not {"password", "password_hash"} & set(response.data)
    assert admin.get(f"/api/staff/{response.data['id']}").data == response.data


def test_a_new_staff_member_can_sign_in(client, admin):
    new_staff(admin, "bea@example.com", "Bea Agent")

    bea = sign_in(client, "bea@example.com", ADMIN_PASSWORD)

    assert bea.get("/api/auth/me").data["role"] == "agent"


@pytest.mark.parametrize("email", ["agent@example.com", "AGENT@example.COM"])
def test_a_second_staff_member_with_the_same_email_is_a_conflict(admin, agent, email):
    response = admin.post(
        "/api/staff", {"email": email, "name": "Copy Cat", "role": "agent", "password": ADMIN_PASSWORD}
    )

    assert response.status_code == 409
    assert response.data["error"]["field"] == "email"
    emails = [member["email"] for member in admin.get("/api/staff").data["items"]]
    assert sorted(emails) == ["admin@example.com", "agent@example.com"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"password": "short"}, "password"),
        ({"password": 123456789012345}, "password"),
        ({"role": "owner"}, "role"),
        ({"role": None}, "role"),
        ({"email": "not an email"}, "email"),
        ({"name": ""}, "name"),
        ({"superuser": True}, "superuser"),
    ],
)
def test_a_staff_member_with_an_invalid_field_is_refused_by_name(admin, change, field):
    body = {"email": "bea@example.com", "name": "Bea", "role": "agent", "password": ADMIN_PASSWORD, **change}

    response = admin.post("/api/staff", body)

    assert response.status_code == 422
    assert response.data["error"]["field"] == field
    assert len(admin.get("/api/staff").data["items"]) == 1


def test_a_staff_member_needs_every_field(admin):
    response = admin.post("/api/staff", {"email": "bea@example.com", "name": "Bea", "role": "agent"})

    assert response.status_code == 422
    assert response.data["error"]["field"] == "password"


# -- listing -------------------------------------------------------------------------


def test_staff_are_listed_by_name_in_cursor_pages(admin):
    for email, name in [("cy@example.com", "Cy"), ("bo@example.com", "bo"), ("di@example.com", "Di")]:
        new_staff(admin, email, name)

    names, cursor, pages = [], None, 0
    while True:
        path = "/api/staff?limit=2" + (f"&cursor={cursor}" if cursor else "")
        response = admin.get(path)
        assert response.status_code == 200, response.body
        assert len(response.data["items"]) <= 2
        names += [member["name"] for member in response.data["items"]]
        cursor, pages = response.data["next_cursor"], pages + 1
        if cursor is None:
            break

    assert names == ["Ada Admin", "bo", "Cy", "Di"]
    assert pages >= 2


def test_a_staff_list_cursor_that_was_altered_is_refused(admin, agent):
    cursor = admin.get("/api/staff?limit=1").data["next_cursor"]
    altered = cursor[:-3] + ("AAA" if not cursor.endswith("AAA") else "BBB")

    response = admin.get(f"/api/staff?limit=1&cursor={altered}")

    assert response.status_code == 422
    assert response.data["error"]["field"] == "cursor"


@pytest.mark.parametrize(("query", "field"), [("limit=0", "limit"), ("limit=x", "limit"), ("page=2", "page")])
def test_a_bad_staff_list_query_is_refused_by_name(admin, query, field):
    response = admin.get(f"/api/staff?{query}")

    assert response.status_code == 422
    assert response.data["error"]["field"] == field


def test_an_unknown_staff_member_is_not_found(admin):
    assert admin.get("/api/staff/0123456789abcdef").status_code == 404
    assert admin.patch("/api/staff/0123456789abcdef", {"name": "Nobody", "version": 1}).status_code == 404


# -- editing -------------------------------------------------------------------------


def test_an_edit_with_the_current_version_applies_and_bumps_it(admin, agent):
    member = agent.get("/api/auth/me").data

    response = admin.patch(
        f"/api/staff/{member['id']}", {"name": "Alan Turing", "version": member["version"]}
    )

    assert response.status_code == 200
    assert response.data["name"] == "Alan Turing"
    assert response.data["version"] == member["version"] + 1
    assert admin.get(f"/api/staff/{member['id']}").data["name"] == "Alan Turing"


def test_an_edit_with_a_stale_version_is_a_conflict_showing_the_current_record(admin, agent):
    member = agent.get("/api/auth/me").data
    first = admin.patch(f"/api/staff/{member['id']}", {"name": "First Edit", "version": member["version"]})
    assert first.status_code == 200

    stale = admin.patch(f"/api/staff/{member['id']}", {"name": "Second Edit", "version": member["version"]})

    assert stale.status_code == 409
    assert stale.data["error"]["code"] == "stale_version"
    assert stale.data["error"]["field"] == "version"
    assert stale.data["error"]["current"]["name"] == "First Edit"
    assert stale.data["error"]["current"]["version"] == first.data["version"]
    assert admin.get(f"/api/staff/{member['id']}").data["name"] == "First Edit"


def test_an_edit_without_a_version_is_refused(admin, agent):
    member_id = agent.get("/api/auth/me").data["id"]

    response = admin.patch(f"/api/staff/{member_id}", {"name": "No Version"})

    assert response.status_code == 422
    assert response.data["error"]["field"] == "version"


def test_email_cannot_be_changed_by_an_edit(admin, agent):
    member = agent.get("/api/auth/me").data

    response = admin.patch(
        f"/api/staff/{member['id']}", {"email": "new@example.com", "version": member["version"]}
    )

    assert response.status_code == 422
    assert response.data["error"]["field"] == "email"


def test_a_changed_password_signs_in_and_the_old_one_no_longer_does(client, admin, agent, anonymous):
    member = agent.get("/api/auth/me").data

    changed = admin.patch(
        f"/api/staff/{member['id']}", {"password": NEW_PASSWORD, "version": member["version"]}
    )

    assert changed.status_code == 200
    assert sign_in(client, "agent@example.com", NEW_PASSWORD).get("/api/auth/me").status_code == 200
    old = anonymous.post("/api/auth/login", {"email": "agent@example.com", "password": ADMIN_PASSWORD})
    assert old.status_code == 401


def test_a_weak_new_password_is_refused(admin, agent):
    member = agent.get("/api/auth/me").data

    response = admin.patch(f"/api/staff/{member['id']}", {"password": "tiny", "version": member["version"]})

    assert response.status_code == 422
    assert response.data["error"]["field"] == "password"


def test_a_reactivated_staff_member_can_sign_in_again(client, admin, agent):
    member = agent.get("/api/auth/me").data
    off = admin.patch(f"/api/staff/{member['id']}", {"active": False, "version": member["version"]})

    on = admin.patch(f"/api/staff/{member['id']}", {"active": True, "version": off.data["version"]})

    assert on.status_code == 200
    assert sign_in(client, "agent@example.com", ADMIN_PASSWORD).get("/api/auth/me").status_code == 200
