"""The sites page under ``/admin/setup/sites``: the websites that embed the support form,
their keys, origins and snippets, for admins only. Every change is a checked form answered
with a 303; a refused field re-renders with 422 and writes nothing; a stale edit or delete
shows what is stored now."""

from __future__ import annotations

import html
import json
import re
from typing import Any

import pytest

from chalicelib.domain import embed, setup, sites
from chalicelib.pages import admin_site_routes
from tests.bench.counting import count_calls
from tests.functional.admin_fixtures import Staffroom, staffroom
from tests.functional.browsing import Page
from tests.functional.conftest import Api
from tests.functional.desk import MovableClock

pytestmark = pytest.mark.usefixtures("clock")

__all__ = ["staffroom"]

SITES = "/admin/setup/sites"
SHOP = "https://shop.example"
NASTY = '<script>alert("x")</script>'


def site_fields(**overrides: str) -> dict[str, str]:
    """The add form as an admin fills it in."""
    return {
        "name": "Main shop",
        "allowed_origins": f"{SHOP}\nhttp://localhost:8001",
        "enabled": "1",
        **overrides,
    }


def api_sites(api: Api) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = api.get("/api/sites").data["items"]
    return items


def new_site(api: Api, **fields: Any) -> dict[str, Any]:
    answer = api.post("/api/sites", {"name": "Shop", "allowed_origins": [SHOP], **fields})
    assert answer.status_code == 201, answer.body
    data: dict[str, Any] = answer.data
    return data


def version_on(page: Page) -> str:
    found = re.search(r'name="version" value="([^"]*)"', page.text)
    assert found, "the form carries no version"
    return found.group(1)


def marked(page: Page, field: str) -> bool:
    """Whether the page marks ``field`` as invalid and ties its error message to it."""
    tag = re.search(rf'<(?:input|select|textarea)[^>]*\bname="{field}"[^>]*>', page.text)
    return bool(
        tag
        and 'aria-invalid="true"' in tag.group(0)
        and f"{field}-error" in tag.group(0)
        and f'id="{field}-error"' in page.text
    )


def error_text(page: Page, field: str) -> str:
    found = re.search(rf'<p class="field-error" id="{field}-error">([^<]*)</p>', page.text)
    assert found, f"no error for {field}"
    return html.unescape(found.group(1))


def edit_form(site: dict[str, Any], **overrides: str) -> dict[str, str]:
    """The edit form as it stands for ``site``, with ``overrides``."""
    fields = {
        "name": site["name"],
        "allowed_origins": "\n".join(site["allowed_origins"]),
        "default_category_id": site["default_category_id"] or "",
        "version": str(site["version"]),
    }
    if site["enabled"]:
        fields["enabled"] = "1"
    return {**fields, **overrides}


# -- the list and adding ------------------------------------------------------------


def test_the_setup_overview_and_its_section_links_lead_to_the_sites(staffroom: Staffroom) -> None:
    browser = staffroom.signed_in()

    overview = browser.get("/admin/setup")
    sites_page = browser.get(SITES)

    assert f'<a href="{SITES}">Sites</a>' in overview.text
    assert f'<a href="{SITES}" aria-current="page">Sites</a>' in sites_page.text
    assert "No sites yet." in sites_page.plain


def test_the_list_shows_each_sites_name_key_origins_state_and_default_category(staffroom: Staffroom) -> None:
    desk = staffroom.desk
    shop = new_site(
        desk.api,
        name="Main shop",
        allowed_origins=[SHOP, "https://www.shop.example"],
        default_category_id=desk.categories["billing"],
    )
    outlet = new_site(desk.api, name="Outlet", allowed_origins=["https://outlet.example"], enabled=False)

    page = staffroom.signed_in().get(SITES)

    assert page.status == 200
    rows = page.text.split("<tbody>", 1)[1].split("</tbody>", 1)[0].split("<tr>")[1:]
    assert [re.findall(r">([^<]+)</a></td>", row) for row in rows] == [["Main shop"], ["Outlet"]]
    assert shop["public_key"] in rows[0]
    assert outlet["public_key"] in rows[1]
    assert "<li>https://shop.example</li><li>https://www.shop.example</li>" in rows[0]
    assert ">Yes</td>" in rows[0]
    assert "Disabled" in rows[1]
    assert ">Billing</td>" in rows[0]
    assert ">(none)</td>" in rows[1]
    assert f'href="{SITES}/{shop["id"]}"' in rows[0]
    assert f'href="{SITES}/{outlet["id"]}/delete"' in rows[1]


def test_a_site_added_on_the_page_is_stored_and_its_page_shows_the_snippet(staffroom: Staffroom) -> None:
    desk = staffroom.desk
    browser = staffroom.signed_in()
    browser.get(SITES)

    answer = browser.post(
        SITES,
        site_fields(allowed_origins="HTTPS://Shop.Example:443/\r\n\r\n  http://localhost:8001  \n"),
    )

    [site] = api_sites(desk.api)
    assert answer.status == 303
    assert answer.location == f"{SITES}/{site['id']}?done=added"
    assert site["name"] == "Main shop"
    assert site["allowed_origins"] == [SHOP, "http://localhost:8001"]
    assert site["enabled"] is True
    assert site["default_category_id"] is None
    assert sites.origin_allowed("http://localhost:8001")

    landed = browser.get(answer.location)
    assert "Site added. Paste the snippet below" in landed.plain
    assert site["public_key"] in landed.plain


def test_an_unticked_enabled_box_and_a_category_are_stored(staffroom: Staffroom) -> None:
    desk = staffroom.desk
    browser = staffroom.signed_in()
    browser.get(SITES)
    fields = site_fields(default_category_id=desk.categories["technical"])
    del fields["enabled"]

    assert browser.post(SITES, fields).status == 303

    [site] = api_sites(desk.api)
    assert site["enabled"] is False
    assert site["default_category_id"] == desk.categories["technical"]
    assert not sites.origin_allowed(SHOP)


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"name": ""}, "name", "This field must not be empty."),
        ({"name": "x" * 121}, "name", "This field must be at most 120 characters."),
        ({"allowed_origins": " \n \n"}, "allowed_origins", "Give at least one origin"),
        (
            {"allowed_origins": f"{SHOP}\nhttps://shop.example/contact"},
            "allowed_origins",
            "Line 2 (https://shop.example/contact) must be an origin only",
        ),
        ({"allowed_origins": "ftp://shop.example"}, "allowed_origins", "Line 1 (ftp://shop.example) must be"),
        ({"allowed_origins": "null"}, "allowed_origins", "Line 1 (null) must be an origin"),
        (
            {"allowed_origins": "\n".join(f"https://s{n}.example" for n in range(21))},
            "allowed_origins",
            "at most 20 origins",
        ),
        ({"default_category_id": "no-such-category"}, "default_category_id", "names no existing entry"),
    ],
)
def test_a_refused_new_site_is_marked_shown_as_typed_and_not_added(
    staffroom: Staffroom, overrides: dict[str, str], field: str, message: str
) -> None:
    browser = staffroom.signed_in()
    browser.get(SITES)

    page = browser.post(SITES, site_fields(**overrides))

    assert page.status == 422
    assert marked(page, field)
    assert message in error_text(page, field)
    assert "Please check the field marked below." in page.plain
    if field != "default_category_id":  # a select offers only the categories there are
        assert html.escape(overrides[field], quote=False)[:40] in page.text
    assert api_sites(staffroom.desk.api) == []


# -- one site -----------------------------------------------------------------------


def test_the_snippet_is_built_from_the_host_and_forwarded_scheme_of_the_request(staffroom: Staffroom) -> None:
    site = new_site(staffroom.desk.api)
    browser = staffroom.signed_in()
    browser.headers = {"Host": "Help.Example.com", "X-Forwarded-Proto": "https"}

    page = browser.get(f"{SITES}/{site['id']}")

    expected = (
        f'<script src="https://help.example.com/embed/v1/widget.js" data-site-key="{site["public_key"]}" '
        "async></script>"
    )
    assert page.status == 200
    escaped = expected.replace("<", "&lt;").replace(">", "&gt;").replace('"', "&#34;")
    assert f'<pre class="snippet"><code>{escaped}</code></pre>' in page.text
    assert expected in page.plain


@pytest.mark.parametrize(
    ("headers", "base"),
    [
        ({"Host": "127.0.0.1:8000"}, "https://127.0.0.1:8000"),  # no proxy header, not make run
        ({"Host": "127.0.0.1:8000", "X-Forwarded-Proto": "http"}, "http://127.0.0.1:8000"),
        ({"Host": "[::1]:8000", "X-Forwarded-Proto": "HTTP, https"}, "http://[::1]:8000"),
        ({"Host": "help.example.com", "X-Forwarded-Proto": "gopher"}, "https://help.example.com"),
    ],
)
def test_the_snippets_address_follows_the_request(
    staffroom: Staffroom, headers: dict[str, str], base: str
) -> None:
    site = new_site(staffroom.desk.api)
    browser = staffroom.signed_in()
    browser.headers = headers

    page = browser.get(f"{SITES}/{site['id']}")

    assert f'<script src="{base}/embed/v1/widget.js"' in page.plain


def test_a_forged_host_never_reaches_the_snippet(
    staffroom: Staffroom, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HELPDESK_PUBLIC_URL", "https://help.example.com/")
    site = new_site(staffroom.desk.api)
    browser = staffroom.signed_in()
    browser.headers = {"Host": 'evil.example"><script>alert(1)</script>'}

    page = browser.get(f"{SITES}/{site['id']}")

    assert page.status == 200
    assert "<script>alert(1)" not in page.text
    assert "evil.example" not in page.text
    assert '<script src="https://help.example.com/embed/v1/widget.js"' in page.plain


def test_a_site_edited_on_its_page_is_saved_under_the_version_it_was_read_at(staffroom: Staffroom) -> None:
    desk = staffroom.desk
    site = new_site(desk.api, allowed_origins=[SHOP, "https://old.example"])
    browser = staffroom.signed_in()
    form = browser.get(f"{SITES}/{site['id']}")
    assert version_on(form) == "1"
    assert 'id="allowed_origins"' in form.text
    assert ">https://shop.example\nhttps://old.example</textarea>" in form.text

    answer = browser.post(
        f"{SITES}/{site['id']}",
        {
            "name": "Renamed shop",
            "allowed_origins": f"{SHOP}\nhttp://localhost:9000",
            "default_category_id": desk.categories["billing"],
            "version": version_on(form),
        },
    )

    stored = desk.api.get(f"/api/sites/{site['id']}").data
    assert answer.status == 303
    assert answer.location == f"{SITES}/{site['id']}?done=saved"
    assert stored["name"] == "Renamed shop"
    assert stored["allowed_origins"] == [SHOP, "http://localhost:9000"]
    assert stored["enabled"] is False  # the box was not ticked
    assert stored["default_category_id"] == desk.categories["billing"]
    assert stored["public_key"] == site["public_key"]
    assert stored["version"] == 2
    assert not sites.origin_allowed("https://old.example")
    assert "Site saved." in browser.get(answer.location).plain


def test_replacing_the_key_retires_the_old_one_and_the_page_shows_the_new_snippet(
    staffroom: Staffroom,
) -> None:
    desk = staffroom.desk
    site = new_site(desk.api)
    browser = staffroom.signed_in()
    browser.get(f"{SITES}/{site['id']}")

    answer = browser.post(f"{SITES}/{site['id']}", edit_form(site, new_key="1"))

    stored = desk.api.get(f"/api/sites/{site['id']}").data
    page = browser.get(answer.location)
    old = staffroom.client.http.get(f"/embed/v1/form-token?site_key={site['public_key']}")
    new = staffroom.client.http.get(f"/embed/v1/form-token?site_key={stored['public_key']}")
    assert answer.location == f"{SITES}/{site['id']}?done=rekeyed"
    assert stored["public_key"] != site["public_key"]
    assert f'data-site-key="{stored["public_key"]}"' in page.plain
    assert site["public_key"] not in page.text
    assert "the old one no longer works" in page.plain
    assert (old.status_code, new.status_code) == (403, 200)


def test_a_refused_edit_is_marked_keeps_its_version_and_saves_nothing(staffroom: Staffroom) -> None:
    desk = staffroom.desk
    site = new_site(desk.api)
    browser = staffroom.signed_in()
    browser.get(f"{SITES}/{site['id']}")

    page = browser.post(
        f"{SITES}/{site['id']}",
        edit_form(site, name="Kept as typed", allowed_origins=f"{SHOP}\nshop.example", new_key="1"),
    )

    assert page.status == 422
    assert marked(page, "allowed_origins")
    assert "Line 2 (shop.example)" in error_text(page, "allowed_origins")
    assert 'value="Kept as typed"' in page.text
    assert re.search(r'<input type="checkbox" id="new_key" name="new_key" value="1" checked', page.text)
    assert version_on(page) == "1"
    assert desk.api.get(f"/api/sites/{site['id']}").data == site


def test_an_edit_without_a_version_says_so_above_the_form(staffroom: Staffroom) -> None:
    site = new_site(staffroom.desk.api)
    browser = staffroom.signed_in()
    browser.get(f"{SITES}/{site['id']}")
    fields = edit_form(site, name="No version")
    del fields["version"]

    page = browser.post(f"{SITES}/{site['id']}", fields)

    assert page.status == 422
    assert "The field 'version' is required." in page.plain
    assert staffroom.desk.api.get(f"/api/sites/{site['id']}").data["name"] == "Shop"


def test_an_edit_from_a_stale_read_shows_what_is_stored_now_and_saves_nothing(staffroom: Staffroom) -> None:
    desk = staffroom.desk
    site = new_site(desk.api)
    browser = staffroom.signed_in()
    form = browser.get(f"{SITES}/{site['id']}")
    moved = desk.api.patch(
        f"/api/sites/{site['id']}",
        {"name": "Shop (other admin)", "allowed_origins": ["https://moved.example"], "version": 1},
    )
    assert moved.status_code == 200

    page = browser.post(
        f"{SITES}/{site['id']}", edit_form(site, name="Shop (mine)", version=version_on(form), new_key="1")
    )

    assert page.status == 409
    assert "Someone else changed this site since you opened it, so nothing was saved." in page.plain
    assert "Name Shop (mine) Shop (other admin)" in page.plain
    assert "Allowed origins https://shop.example https://moved.example" in page.plain
    assert 'value="Shop (other admin)"' in page.text
    assert ">https://moved.example</textarea>" in page.text
    assert 'name="new_key" value="1" checked' not in page.text
    assert version_on(page) == "2"
    stored = desk.api.get(f"/api/sites/{site['id']}").data
    assert (stored["name"], stored["public_key"]) == ("Shop (other admin)", site["public_key"])


def test_a_stale_form_shown_again_saves_on_the_next_try(staffroom: Staffroom) -> None:
    desk = staffroom.desk
    site = new_site(desk.api)
    browser = staffroom.signed_in()
    browser.get(f"{SITES}/{site['id']}")
    desk.api.patch(f"/api/sites/{site['id']}", {"enabled": False, "version": 1})
    stale = browser.post(f"{SITES}/{site['id']}", edit_form(site, name="Mine"))
    assert stale.status == 409

    again = browser.post(f"{SITES}/{site['id']}", edit_form(site, name="Mine", version=version_on(stale)))

    assert again.status == 303
    assert desk.api.get(f"/api/sites/{site['id']}").data["name"] == "Mine"


@pytest.mark.parametrize("site_id", ["no-such-site", "x" * 300])
def test_an_unknown_site_is_not_found(staffroom: Staffroom, site_id: str) -> None:
    browser = staffroom.signed_in()

    assert browser.get(f"{SITES}/{site_id}").status == 404
    assert browser.get(f"{SITES}/{site_id}/delete").status == 404
    assert browser.post(f"{SITES}/{site_id}", {"name": "X", "version": "1"}).status == 404


def test_a_site_whose_default_category_was_deleted_says_so_and_still_takes_tickets(
    staffroom: Staffroom, clock: MovableClock
) -> None:
    # GIVEN a site whose default category is deleted afterwards (no ticket used it yet)
    desk = staffroom.desk
    spare = desk.created("/api/categories", {"name": "Spare"})["id"]
    site = new_site(desk.api, default_category_id=spare)
    assert desk.api.delete(f"/api/categories/{spare}").status_code == 204

    # WHEN the admin opens the list and the site's page
    browser = staffroom.signed_in()
    listed = browser.get(SITES)
    own = browser.get(f"{SITES}/{site['id']}")

    # THEN both say the category is gone, and the form offers none to keep
    assert ">(a deleted category)</td>" in listed.text
    assert "The category it had was deleted since: choose another, or none." in own.plain
    assert '<option value="" selected>(none)</option>' in own.text

    # AND a visitor's ticket from the site still arrives, without a category
    headers = {"Origin": SHOP}
    token = staffroom.client.http.get(f"/embed/v1/form-token?site_key={site['public_key']}", headers=headers)
    clock.advance(seconds=embed.MIN_FILL_SECONDS + 1)
    fields = {
        "name": "Vic Visitor",
        "email": "vic@example.com",
        "subject": "Late parcel",
        "body": "Still waiting.",
        "form_token": json.loads(token.body)["form_token"],
    }
    answer = staffroom.client.http.post(
        "/embed/v1/tickets",
        headers={**headers, "Content-Type": "application/json", "X-Helpdesk-Site-Key": site["public_key"]},
        body=json.dumps(fields),
    )
    assert answer.status_code == 201, answer.body
    ticket = desk.api.get(f"/api/tickets/{json.loads(answer.body)['number']}").data
    assert (ticket["source"], ticket["category_id"]) == ("website", None)


# -- deleting -----------------------------------------------------------------------


def test_a_site_is_deleted_after_its_confirmation_page(staffroom: Staffroom) -> None:
    desk = staffroom.desk
    site = new_site(desk.api)
    browser = staffroom.signed_in()

    confirm = browser.get(f"{SITES}/{site['id']}/delete")
    assert confirm.status == 200
    assert "Delete the site “Shop”?" in confirm.plain
    assert desk.api.get(f"/api/sites/{site['id']}").status_code == 200  # opening it deleted nothing

    answer = browser.post(f"{SITES}/{site['id']}/delete", {"version": version_on(confirm)})

    assert answer.status == 303
    assert answer.location == f"{SITES}?done=deleted"
    assert api_sites(desk.api) == []
    assert not sites.origin_allowed(SHOP)
    assert "Site deleted." in browser.get(answer.location).plain


def test_a_site_changed_since_its_confirmation_page_is_kept_and_shown_as_it_is_now(
    staffroom: Staffroom,
) -> None:
    desk = staffroom.desk
    site = new_site(desk.api)
    browser = staffroom.signed_in()
    confirm = browser.get(f"{SITES}/{site['id']}/delete")
    desk.api.patch(f"/api/sites/{site['id']}", {"name": "Renamed meanwhile", "version": 1})

    page = browser.post(f"{SITES}/{site['id']}/delete", {"version": version_on(confirm)})

    assert page.status == 409
    assert "Someone else changed this site since you opened this page, so nothing was deleted." in page.plain
    assert "Delete the site “Renamed meanwhile”?" in page.plain
    assert version_on(page) == "2"
    assert [item["name"] for item in api_sites(desk.api)] == ["Renamed meanwhile"]


def test_a_site_changed_between_the_read_and_the_delete_is_kept(
    staffroom: Staffroom, monkeypatch: pytest.MonkeyPatch
) -> None:
    desk = staffroom.desk
    site = new_site(desk.api)
    browser = staffroom.signed_in()
    confirm = browser.get(f"{SITES}/{site['id']}/delete")
    delete = sites.delete

    def after_another_admins_edit(read: Any) -> None:
        sites.update(setup.load(), sites.get(read.id), {"name": "Edited just now", "version": 1})
        delete(read)

    monkeypatch.setattr(sites, "delete", after_another_admins_edit)

    page = browser.post(f"{SITES}/{site['id']}/delete", {"version": version_on(confirm)})

    assert page.status == 409
    assert "Delete the site “Edited just now”?" in page.plain
    assert version_on(page) == "2"
    assert [item["name"] for item in api_sites(desk.api)] == ["Edited just now"]
    assert sites.origin_allowed(SHOP)


# -- paging -------------------------------------------------------------------------


def test_the_list_pages_by_cursor_and_restarts_at_a_bad_one(
    staffroom: Staffroom, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(admin_site_routes, "SITES_PAGE", 1)
    new_site(staffroom.desk.api, name="Alpha")
    new_site(staffroom.desk.api, name="Beta")
    browser = staffroom.signed_in()

    first = browser.get(SITES)
    found = re.search(r'href="(/admin/setup/sites\?cursor=[^"]+)" rel="next"', first.text)
    assert found
    second = browser.get(html.unescape(found.group(1)))
    broken = browser.get(f"{SITES}?cursor=forged")

    assert ">Alpha</a>" in first.text
    assert ">Beta</a>" not in first.text
    assert ">Beta</a>" in second.text
    assert ">Alpha</a>" not in second.text
    assert broken.status == 200
    assert ">Alpha</a>" in broken.text


# -- who may ------------------------------------------------------------------------

GETS = [SITES, f"{SITES}/{{site}}", f"{SITES}/{{site}}/delete"]
POSTS: list[tuple[str, dict[str, str]]] = [
    (SITES, site_fields()),
    (f"{SITES}/{{site}}", {**site_fields(name="Taken over"), "version": "1", "new_key": "1"}),
    (f"{SITES}/{{site}}/delete", {"version": "1"}),
]


def test_the_sites_pages_need_a_session(staffroom: Staffroom) -> None:
    page = staffroom.browser().get(SITES)

    assert page.status == 303
    assert page.location == f"/admin/login?next={SITES}"


@pytest.mark.parametrize("path", GETS)
def test_an_agent_cannot_open_a_sites_page(staffroom: Staffroom, path: str) -> None:
    site = new_site(staffroom.desk.api)

    page = staffroom.signed_in("agent").get(path.format(site=site["id"]))

    assert page.status == 403
    assert "Only an admin may change setup, settings or staff." in page.plain
    assert site["public_key"] not in page.text
    assert "<form" not in page.text.split("<main", 1)[1]


@pytest.mark.parametrize(("path", "fields"), POSTS, ids=[path for path, _ in POSTS])
def test_an_agent_cannot_post_a_sites_form(staffroom: Staffroom, path: str, fields: dict[str, str]) -> None:
    site = new_site(staffroom.desk.api)
    browser = staffroom.signed_in("agent")
    browser.get("/admin")  # a page an agent may open: its CSRF token is a valid one

    page = browser.post(path.format(site=site["id"]), fields)

    assert page.status == 403
    assert api_sites(staffroom.desk.api) == [site]


@pytest.mark.parametrize(("path", "fields"), POSTS, ids=[path for path, _ in POSTS])
def test_a_sites_form_without_its_csrf_token_changes_nothing(
    staffroom: Staffroom, path: str, fields: dict[str, str]
) -> None:
    site = new_site(staffroom.desk.api)
    target = path.format(site=site["id"])
    browser = staffroom.signed_in()
    browser.get(SITES)

    missing = browser.post(target, fields, csrf=False)
    forged = browser.post(target, {**fields, "csrf_token": "0" * 40}, csrf=False)
    elsewhere = browser.post(target, fields, headers={"Origin": "https://evil.example"})

    assert (missing.status, forged.status, elsewhere.status) == (403, 403, 403)
    assert api_sites(staffroom.desk.api) == [site]


# -- the pages themselves -----------------------------------------------------------


def test_a_site_name_with_html_is_escaped_on_every_page(staffroom: Staffroom) -> None:
    desk = staffroom.desk
    browser = staffroom.signed_in()
    browser.get(SITES)
    browser.post(SITES, site_fields(name=NASTY))
    [site] = api_sites(desk.api)
    refused = browser.post(SITES, site_fields(name=NASTY, allowed_origins=NASTY))
    stale = browser.post(f"{SITES}/{site['id']}", edit_form(site, version="7"))

    pages = [
        browser.get(SITES),
        browser.get(f"{SITES}/{site['id']}"),
        browser.get(f"{SITES}/{site['id']}/delete"),
        refused,
        stale,
    ]

    assert site["name"] == NASTY
    assert (refused.status, stale.status) == (422, 409)
    for page in pages:
        main = page.text.split("<main", 1)[1]
        assert "<script>" not in main
        assert "&lt;script&gt;" in main
        assert "script-src 'self'" in page.headers["Content-Security-Policy"]


def test_the_sites_pages_carry_no_inline_script_or_style_and_label_every_field(staffroom: Staffroom) -> None:
    site = new_site(staffroom.desk.api)
    browser = staffroom.signed_in()

    for path in (SITES, f"{SITES}/{site['id']}", f"{SITES}/{site['id']}/delete"):
        page = browser.get(path)
        main = page.text.split("<main", 1)[1]
        assert "<style" not in page.text
        assert " style=" not in page.text
        assert "<script" not in page.text.replace("&lt;script", "")
        for field_id in re.findall(
            r'<(?:input|select|textarea)(?![^>]*type="hidden")[^>]*\bid="([^"]+)"', main
        ):
            label = f'<label for="{field_id}">' in main or re.search(
                rf'<label><input[^>]*id="{field_id}"', main
            )
            assert label, f"{path}: {field_id} has no label"


# -- round trips --------------------------------------------------------------------


def test_the_sites_list_is_two_round_trips(staffroom: Staffroom) -> None:
    new_site(staffroom.desk.api)
    browser = staffroom.signed_in()

    with count_calls() as calls:
        page = browser.get(SITES)

    assert page.status == 200
    assert calls.by_operation == {"BatchGetItem": 1, "Query": 1}


@pytest.mark.parametrize("path", [f"{SITES}/{{site}}", f"{SITES}/{{site}}/delete"])
def test_a_sites_own_pages_are_one_round_trip(staffroom: Staffroom, path: str) -> None:
    site = new_site(staffroom.desk.api)
    browser = staffroom.signed_in()

    with count_calls() as calls:
        page = browser.get(path.format(site=site["id"]))

    assert page.status == 200
    assert calls.by_operation == {"BatchGetItem": 1}
