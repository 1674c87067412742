"""``/api/sites``: admins manage the websites that embed the ticket form, and each allowed
origin is findable by a CORS preflight that carries nothing but its origin."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.domain import sites
from tests.functional.conftest import Api
from tests.functional.desk import Desk

SHOP = "https://shop.example"


def new_site(api: Api, **fields: Any) -> dict[str, Any]:
    body = {"name": "Shop", "allowed_origins": [SHOP], **fields}
    answer = api.post("/api/sites", body)
    assert answer.status_code == 201, answer.body
    data: dict[str, Any] = answer.data
    return data


def test_an_admin_adds_a_site_with_a_key_that_names_it(desk: Desk) -> None:
    site = new_site(
        desk.api,
        default_category_id=desk.categories["billing"],
        allowed_origins=["HTTPS://Shop.Example:443/"],
    )

    assert site["allowed_origins"] == [SHOP]
    assert site["enabled"] is True
    assert site["version"] == 1
    assert sites.site_id_of(site["public_key"]) == site["id"]
    assert desk.api.get(f"/api/sites/{site['id']}").data == site
    assert [item["id"] for item in desk.api.get("/api/sites").data["items"]] == [site["id"]]
    assert sites.origin_allowed(SHOP)
    assert not sites.origin_allowed("https://elsewhere.example")


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": ""}, "name"),
        ({"allowed_origins": ["ftp://shop.example"]}, "allowed_origins"),
        ({"allowed_origins": ["https://shop.example/path"]}, "allowed_origins"),
        ({"allowed_origins": ["https://user@shop.example"]}, "allowed_origins"),
        ({"allowed_origins": ["null"]}, "allowed_origins"),
        ({"allowed_origins": "https://shop.example"}, "allowed_origins"),
        ({"allowed_origins": [f"https://s{n}.example" for n in range(21)]}, "allowed_origins"),
        ({"default_category_id": "no-such-category"}, "default_category_id"),
    ],
)
def test_a_bad_site_is_refused_naming_the_field(desk: Desk, fields: dict[str, Any], field: str) -> None:
    answer = desk.api.post("/api/sites", {"name": "Shop", "allowed_origins": [SHOP], **fields})

    assert answer.status_code == 422
    assert answer.data["error"]["field"] == field
    assert desk.api.get("/api/sites").data["items"] == []


def test_editing_origins_moves_the_origin_items_with_them(desk: Desk) -> None:
    site = new_site(desk.api, allowed_origins=[SHOP, "https://old.example"])

    edited = desk.api.patch(
        f"/api/sites/{site['id']}",
        {"allowed_origins": [SHOP, "http://localhost:8001"], "version": site["version"]},
    )

    assert edited.status_code == 200, edited.body
    assert edited.data["allowed_origins"] == [SHOP, "http://localhost:8001"]
    assert sites.origin_allowed("http://localhost:8001")
    assert not sites.origin_allowed("https://old.example")
    assert sites.origin_allowed(SHOP)


def test_a_disabled_site_allows_no_origin_and_a_new_key_retires_the_old(desk: Desk) -> None:
    site = new_site(desk.api)

    disabled = desk.api.patch(
        f"/api/sites/{site['id']}", {"enabled": False, "new_key": True, "version": 1}
    ).data

    assert not sites.origin_allowed(SHOP)
    assert disabled["public_key"] != site["public_key"]
    assert sites.site_id_of(disabled["public_key"]) == site["id"]


def test_a_stale_edit_is_refused_with_the_current_site(desk: Desk) -> None:
    site = new_site(desk.api)
    desk.api.patch(f"/api/sites/{site['id']}", {"name": "Shop two", "version": 1})

    stale = desk.api.patch(f"/api/sites/{site['id']}", {"name": "Shop three", "version": 1})

    assert stale.status_code == 409
    assert stale.data["error"]["current"]["name"] == "Shop two"


def test_deleting_a_site_removes_its_origins(desk: Desk) -> None:
    site = new_site(desk.api)

    assert desk.api.delete(f"/api/sites/{site['id']}").status_code == 204

    assert desk.api.get(f"/api/sites/{site['id']}").status_code == 404
    assert not sites.origin_allowed(SHOP)


def test_two_sites_may_share_an_origin(desk: Desk) -> None:
    first = new_site(desk.api, name="Shop")
    new_site(desk.api, name="Shop support")

    desk.api.patch(f"/api/sites/{first['id']}", {"enabled": False, "version": 1})

    assert sites.origin_allowed(SHOP)


def test_agents_cannot_see_or_manage_sites(desk: Desk, agent: Api, anonymous: Api) -> None:
    site = new_site(desk.api)

    assert agent.get("/api/sites").status_code == 403
    assert agent.post("/api/sites", {"name": "X", "allowed_origins": [SHOP]}).status_code == 403
    assert agent.patch(f"/api/sites/{site['id']}", {"name": "X", "version": 1}).status_code == 403
    assert agent.delete(f"/api/sites/{site['id']}").status_code == 403
    assert anonymous.get("/api/sites").status_code == 401


@pytest.mark.parametrize("key", ["", "hd_", "hd__x", "xx_abc_def", "hd_" + "a" * 200 + "_x", "hd_bad id_x"])
def test_a_malformed_key_names_no_site(key: str) -> None:
    assert sites.site_id_of(key) is None
