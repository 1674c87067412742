"""Contacts: validation, unique emails, versioned edits, look-ups and signed cursors.

The last section tries the request rules every endpoint shares (JSON bodies, their size,
query parameters) on the contact routes and a few others: bad input is never a 500.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest

from chalicelib.domain import contacts as contacts_domain
from chalicelib.store.models import Contact
from tests.functional.conftest import Api


def created(api: Api, body: dict[str, Any]) -> dict[str, Any]:
    response = api.post("/api/contacts", body)
    assert response.status_code == 201, response.body
    data: dict[str, Any] = response.data
    return data


def contact(
    api: Api, name: str = "Cleo Customer", email: str = "cleo@example.com", **fields: Any
) -> dict[str, Any]:
    return created(api, {"name": name, "email": email, **fields})


def by_email(api: Api, address: str) -> list[dict[str, Any]]:
    response = api.get(f"/api/contacts?email={quote(address)}")
    assert response.status_code == 200, response.body
    items: list[dict[str, Any]] = response.data["items"]
    return items


def every_page(api: Api, path: str) -> tuple[list[dict[str, Any]], int]:
    """All items of a cursor-paged list, and how many pages it took."""
    items, cursor, pages = [], None, 0
    while True:
        separator = "&" if "?" in path else "?"
        response = api.get(path + (f"{separator}cursor={cursor}" if cursor else ""))
        assert response.status_code == 200, response.body
        items += response.data["items"]
        cursor, pages = response.data["next_cursor"], pages + 1
        if cursor is None:
            return items, pages


def tampered(cursor: str) -> str:
    """The cursor with one character in its middle changed."""
    middle = len(cursor) // 2
    return cursor[:middle] + ("A" if cursor[middle] != "A" else "B") + cursor[middle + 1 :]


# -- creating ------------------------------------------------------------------------


def test_a_contact_is_created_with_normalised_email_and_phone(admin, agent):
    response = agent.post(
        "/api/contacts",
        {
            "name": " Cleo Customer ",
            "email": "Cleo@Example.COM",
            "phone": "+44 20 7946 0000",
            "company": "Acme",
            "address": "1 High Street\nLondon",
            "notify_sms": True,
        },
    )

    assert response.status_code == 201
    assert response.data == {
        **response.data,
        "name": "Cleo Customer",
        "email": "Cleo@example.com",
        "phone": "+442079460000",
        "company": "Acme",
        "address": "1 High Street\nLondon",
        "service_level_id": None,
        "notify_email": True,
        "notify_sms": True,
        "portal_access": "none",
        "version": 1,
    }
    assert agent.get(f"/api/contacts/{response.data['id']}").data == response.data


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"email": "cleo@"}, "email"),
        ({"email": 7}, "email"),
        ({"phone": "020 7946 0000"}, "phone"),
        ({"phone": "+1 555"}, "phone"),
        ({"phone": 442079460000}, "phone"),
        ({"name": ""}, "name"),
        ({"name": None}, "name"),
        ({"notify_email": "yes"}, "notify_email"),
        ({"service_level_id": "0123456789abcdef"}, "service_level_id"),
        ({"portal_access": "enabled"}, "portal_access"),
        ({"password_hash": "x"}, "password_hash"),
    ],
)
def test_an_invalid_contact_is_refused_by_field(admin, change, field):
    response = admin.post("/api/contacts", {"name": "Cleo", "email": "cleo@example.com", **change})

    assert response.status_code == 422
    assert response.data["error"]["field"] == field
    assert admin.get("/api/contacts").data["items"] == []


def test_a_contact_needs_an_email(admin):
    response = admin.post("/api/contacts", {"name": "Cleo"})

    assert response.status_code == 422
    assert response.data["error"]["field"] == "email"


@pytest.mark.parametrize("email", ["cleo@example.com", "CLEO@EXAMPLE.COM", "Cleo@example.com"])
def test_a_second_contact_with_the_same_email_in_any_case_is_a_conflict(admin, email):
    contact(admin)

    response = admin.post("/api/contacts", {"name": "Copy", "email": email})

    assert response.status_code == 409
    assert response.data["error"]["field"] == "email"
    assert len(admin.get("/api/contacts").data["items"]) == 1


def test_a_contact_may_default_to_an_existing_service_level(admin):
    level = admin.post(
        "/api/service-levels", {"name": "Gold", "rank": 1, "response_hours": 4, "resolution_hours": 24}
    ).data

    created_contact = contact(admin, service_level_id=level["id"])

    assert created_contact["service_level_id"] == level["id"]


# -- reading and editing -------------------------------------------------------------


def test_an_unknown_contact_is_not_found(admin):
    assert admin.get("/api/contacts/0123456789abcdef").status_code == 404
    response = admin.patch("/api/contacts/0123456789abcdef", {"name": "X", "version": 1})
    assert response.status_code == 404
    assert response.data["error"]["code"] == "not_found"


def test_an_edit_with_the_current_version_applies_and_bumps_it(admin):
    cleo = contact(admin, phone="+442079460000")

    response = admin.patch(
        f"/api/contacts/{cleo['id']}",
        {"company": "Acme Ltd", "phone": "+1 650 253 0000", "notify_email": False, "version": 1},
    )

    assert response.status_code == 200
    assert response.data["company"] == "Acme Ltd"
    assert response.data["phone"] == "+16502530000"
    assert response.data["notify_email"] is False
    assert response.data["version"] == 2
    assert admin.get(f"/api/contacts/{cleo['id']}").data == response.data


def test_an_edit_with_a_stale_version_is_a_conflict_showing_the_current_contact(admin):
    cleo = contact(admin)
    first = admin.patch(f"/api/contacts/{cleo['id']}", {"company": "First", "version": 1})

    stale = admin.patch(f"/api/contacts/{cleo['id']}", {"company": "Second", "version": 1})

    assert stale.status_code == 409
    assert stale.data["error"]["field"] == "version"
    assert stale.data["error"]["current"] == first.data
    assert admin.get(f"/api/contacts/{cleo['id']}").data["company"] == "First"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"company": "No version"}, "version"),
        ({"email": None, "version": 1}, "email"),
        ({"phone": "12", "version": 1}, "phone"),
        ({"id": "other", "version": 1}, "id"),
    ],
)
def test_an_invalid_edit_is_refused_by_field(admin, body, field):
    cleo = contact(admin)

    response = admin.patch(f"/api/contacts/{cleo['id']}", body)

    assert response.status_code == 422
    assert response.data["error"]["field"] == field
    assert admin.get(f"/api/contacts/{cleo['id']}").data == cleo


def test_optional_details_can_be_cleared_with_null(admin):
    cleo = contact(admin, phone="+442079460000", company="Acme")

    response = admin.patch(f"/api/contacts/{cleo['id']}", {"phone": None, "company": None, "version": 1})

    assert response.status_code == 200
    assert response.data["phone"] is None
    assert response.data["company"] is None


def test_an_email_change_frees_the_old_address_and_claims_the_new_one(admin):
    cleo = contact(admin)

    changed = admin.patch(f"/api/contacts/{cleo['id']}", {"email": "cleo@new.example", "version": 1})

    assert changed.status_code == 200
    assert [found["id"] for found in by_email(admin, "cleo@new.example")] == [cleo["id"]]
    assert by_email(admin, "cleo@example.com") == []
    newcomer = contact(admin, "Cleo Two", "cleo@example.com")
    assert [found["id"] for found in by_email(admin, "cleo@example.com")] == [newcomer["id"]]
    taken = admin.post("/api/contacts", {"name": "Three", "email": "CLEO@new.example"})
    assert taken.status_code == 409


def test_an_email_change_to_a_taken_address_changes_nothing(admin):
    cleo = contact(admin)
    dana = contact(admin, "Dana Doe", "dana@example.com")

    response = admin.patch(
        f"/api/contacts/{cleo['id']}", {"email": "Dana@example.com", "company": "X", "version": 1}
    )

    assert response.status_code == 409
    assert response.data["error"]["field"] == "email"
    assert admin.get(f"/api/contacts/{cleo['id']}").data == cleo
    assert [found["id"] for found in by_email(admin, "dana@example.com")] == [dana["id"]]
    # Cleo still holds her own address.
    assert admin.post("/api/contacts", {"name": "Copy", "email": "cleo@example.com"}).status_code == 409


def test_an_edit_racing_another_is_stale_even_when_it_changes_the_email(admin, monkeypatch):
    cleo = contact(admin)
    real_transaction = contacts_domain.transaction

    def raced() -> Any:
        # GIVEN another edit lands after this one read the contact, before it writes
        Contact.get(*Contact.key(cleo["id"])).update(actions=[Contact.company.set("Racer")])
        return real_transaction()

    monkeypatch.setattr(contacts_domain, "transaction", raced)

    response = admin.patch(f"/api/contacts/{cleo['id']}", {"email": "cleo@new.example", "version": 1})

    assert response.status_code == 409
    assert response.data["error"]["code"] == "stale_version"
    assert response.data["error"]["current"]["company"] == "Racer"
    assert response.data["error"]["current"]["email"] == "cleo@example.com"
    monkeypatch.undo()
    assert by_email(admin, "cleo@new.example") == []
    assert admin.post("/api/contacts", {"name": "Other", "email": "cleo@new.example"}).status_code == 201


def test_changing_only_the_case_of_an_email_keeps_its_claim(admin):
    cleo = contact(admin)

    response = admin.patch(f"/api/contacts/{cleo['id']}", {"email": "CLEO@example.com", "version": 1})

    assert response.status_code == 200
    assert response.data["email"] == "CLEO@example.com"
    assert [found["id"] for found in by_email(admin, "cleo@example.com")] == [cleo["id"]]
    assert admin.post("/api/contacts", {"name": "Copy", "email": "cleo@example.com"}).status_code == 409


def test_portal_access_can_be_disabled_and_enabled_again(admin):
    cleo = contact(admin)

    disabled = admin.patch(f"/api/contacts/{cleo['id']}", {"portal_access": "disabled", "version": 1})
    enabled = admin.patch(f"/api/contacts/{cleo['id']}", {"portal_access": "enabled", "version": 2})

    assert disabled.status_code == 200
    assert disabled.data["portal_access"] == "disabled"
    assert enabled.status_code == 200
    # She never set a portal password, so enabling returns her to "none", not "active".
    assert enabled.data["portal_access"] == "none"


def test_portal_access_takes_only_enabled_or_disabled(admin):
    cleo = contact(admin)

    response = admin.patch(f"/api/contacts/{cleo['id']}", {"portal_access": "active", "version": 1})

    assert response.status_code == 422
    assert response.data["error"]["field"] == "portal_access"


# -- finding -------------------------------------------------------------------------


def test_a_contact_is_found_by_email_whatever_its_case(admin):
    cleo = contact(admin)
    contact(admin, "Dana Doe", "dana@example.com")

    assert [found["id"] for found in by_email(admin, "CLEO@EXAMPLE.COM")] == [cleo["id"]]
    assert by_email(admin, "nobody@example.com") == []
    assert by_email(admin, "not an address") == []


def test_contacts_are_found_by_name_prefix(admin):
    for name, email in [("Ada Lovelace", "ada@x.io"), ("Adam Smith", "adam@x.io"), ("Bob Ross", "bob@x.io")]:
        contact(admin, name, email)

    def names(prefix: str) -> list[str]:
        return [found["name"] for found in admin.get(f"/api/contacts?name={quote(prefix)}").data["items"]]

    assert names("ada") == ["Ada Lovelace", "Adam Smith"]
    assert names("ADAM") == ["Adam Smith"]
    assert names("Ada ") == ["Ada Lovelace"]
    assert names("zed") == []


def test_a_name_prefix_longer_than_any_name_is_refused(admin):
    response = admin.get("/api/contacts?name=" + "a" * 121)

    assert response.status_code == 422
    assert response.data["error"]["field"] == "name"


def test_contacts_are_listed_by_name_in_cursor_pages(admin):
    for index, name in enumerate(["Eve", "bob", "Dan", "alice", "Cat"]):
        contact(admin, name, f"person{index}@example.com")

    items, pages = every_page(admin, "/api/contacts?limit=2")

    assert [found["name"] for found in items] == ["alice", "bob", "Cat", "Dan", "Eve"]
    assert pages >= 3


def test_a_name_filtered_list_pages_within_the_filter(admin):
    for index in range(3):
        contact(admin, f"Ada {index}", f"ada{index}@example.com")
    contact(admin, "Bob", "bob@example.com")

    items, pages = every_page(admin, "/api/contacts?name=ada&limit=1")

    assert [found["name"] for found in items] == ["Ada 0", "Ada 1", "Ada 2"]
    assert pages >= 3


@pytest.fixture
def contact_cursor(admin: Api) -> str:
    contact(admin)
    contact(admin, "Dana Doe", "dana@example.com")
    cursor: str = admin.get("/api/contacts?limit=1").data["next_cursor"]
    assert cursor
    return cursor


@pytest.mark.parametrize(
    "make_bad",
    [
        tampered,
        lambda cursor: cursor + "x",
        lambda cursor: cursor[:-4],
        lambda cursor: "!!!",
        lambda cursor: "é",
    ],
    ids=["one-character-changed", "extended", "truncated", "not-base64", "non-ascii"],
)
def test_an_altered_cursor_is_refused_by_name(admin, contact_cursor, make_bad):
    response = admin.get(f"/api/contacts?limit=1&cursor={quote(make_bad(contact_cursor))}")

    assert response.status_code == 422
    assert response.data["error"]["field"] == "cursor"


def test_a_cursor_from_one_list_is_refused_by_another(admin, contact_cursor):
    other_contact_list = admin.get(f"/api/contacts?name=cleo&limit=1&cursor={contact_cursor}")
    staff_list = admin.get(f"/api/staff?limit=1&cursor={contact_cursor}")
    staff_cursor = admin.get("/api/staff?limit=1").data["next_cursor"]
    contact_list = admin.get(f"/api/contacts?limit=1&cursor={staff_cursor}")

    for refused in (other_contact_list, staff_list, contact_list):
        assert refused.status_code == 422
        assert refused.data["error"]["field"] == "cursor"


def test_the_cursor_carries_on_from_where_the_page_ended(admin, contact_cursor):
    response = admin.get(f"/api/contacts?limit=1&cursor={contact_cursor}")

    assert response.status_code == 200
    assert [found["name"] for found in response.data["items"]] == ["Dana Doe"]


# -- a contact's tickets -------------------------------------------------------------


def test_an_unknown_contacts_tickets_are_not_found(admin):
    response = admin.get("/api/contacts/0123456789abcdef/tickets")

    assert response.status_code == 404


def test_a_contacts_tickets_are_only_theirs(admin):
    cleo = contact(admin)
    dana = contact(admin, "Dana Doe", "dana@example.com")
    assert admin.get(f"/api/contacts/{cleo['id']}/tickets").data["items"] == []
    ticket = admin.post("/api/tickets", {"contact_id": cleo["id"], "subject": "Help", "body": "Please"})
    assert ticket.status_code == 201, ticket.body

    mine = admin.get(f"/api/contacts/{cleo['id']}/tickets")
    theirs = admin.get(f"/api/contacts/{dana['id']}/tickets")

    assert [found["number"] for found in mine.data["items"]] == [ticket.data["number"]]
    assert theirs.data["items"] == []


# -- request rules shared by every endpoint ------------------------------------------

WRITES = [
    ("POST", "/api/contacts"),
    ("PATCH", "/api/contacts/{contact}"),
    ("POST", "/api/contacts/{contact}/transactions"),
    ("POST", "/api/staff"),
    ("PUT", "/api/settings"),
    ("POST", "/api/statuses"),
    ("POST", "/api/auth/login"),
]


@pytest.fixture
def ids(admin: Api) -> dict[str, str]:
    return {"contact": contact(admin)["id"]}


@pytest.mark.parametrize(("method", "path"), WRITES)
@pytest.mark.parametrize("body", ['{"name": ', "{'name': 'x'}", "\xff\xfe", "NaN-ish", "{}}"])
def test_malformed_json_is_a_400(admin, ids, method, path, body):
    response = admin.call(method, path.format_map(ids), body)

    assert response.status_code == 400
    assert response.data["error"]["code"] == "malformed"


@pytest.mark.parametrize(("method", "path"), WRITES)
@pytest.mark.parametrize("body", ["[]", '"text"', "42", "null", "true", ""])
def test_a_body_that_is_not_a_json_object_is_a_400(admin, ids, method, path, body):
    response = admin.call(method, path.format_map(ids), body)

    assert response.status_code == 400
    assert response.data["error"]["code"] == "malformed"


@pytest.mark.parametrize(("method", "path"), WRITES)
def test_a_body_over_64_kib_is_a_413(admin, ids, method, path):
    body = '{"name": "' + "x" * (64 * 1024) + '"}'

    response = admin.call(method, path.format_map(ids), body)

    assert response.status_code == 413
    assert response.data["error"]["code"] == "too_large"


def test_a_body_just_under_the_limit_is_read_and_judged_on_its_fields(admin):
    body = '{"email": "cleo@example.com", "name": "' + "x" * (64 * 1024 - 50) + '"}'

    response = admin.call("POST", "/api/contacts", body)

    assert response.status_code == 422
    assert response.data["error"]["field"] == "name"


@pytest.mark.parametrize(
    "path",
    [
        "/api/contacts?page=2",
        "/api/contacts/{contact}?expand=tickets",
        "/api/contacts/{contact}/tickets?offset=10",
        "/api/contacts/{contact}/statement?currency=EUR",
        "/api/staff?sort=name",
        "/api/service-levels?limit=5",
        "/api/settings?all=1",
    ],
)
def test_an_unknown_query_parameter_is_refused_by_name(admin, ids, path):
    response = admin.get(path.format_map(ids))

    assert response.status_code == 422
    assert response.data["error"]["field"] == path.split("?")[1].split("=")[0]


@pytest.mark.parametrize(
    "path",
    [
        "/api/contacts?limit=0",
        "/api/contacts?limit=101",
        "/api/contacts?limit=-1",
        "/api/contacts?limit=ten",
    ],
)
def test_a_page_size_out_of_range_is_refused(admin, path):
    response = admin.get(path)

    assert response.status_code == 422
    assert response.data["error"]["field"] == "limit"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/contacts/{long}"),
        ("PATCH", "/api/contacts/{long}"),
        ("GET", "/api/contacts/{long}/tickets"),
        ("GET", "/api/contacts/{long}/statement"),
        ("POST", "/api/contacts/{long}/transactions"),
        ("GET", "/api/staff/{long}"),
        ("GET", "/api/statuses/{long}"),
        ("DELETE", "/api/categories/{long}"),
    ],
)
def test_an_absurdly_long_id_in_the_path_is_simply_not_found(admin, method, path):
    body = (
        {"type": "invoice", "reference": "A", "amount": "1.00", "currency": "EUR", "date": "2024-01-01"}
        if path.endswith("transactions")
        else {"name": "X", "version": 1}
        if method == "PATCH"
        else None
    )

    response = admin.call(method, path.format(long="x" * 3000), body)

    assert response.status_code == 404
