"""``/embed/v1``: the public ticket endpoint websites use, with its CORS, abuse limits and
idempotency, and the widget script."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import pytest
from chalice.test import Client

from chalicelib.domain import embed
from tests.functional.conftest import transactions_refused
from tests.functional.desk import Desk, MovableClock

pytestmark = pytest.mark.usefixtures("clock")

SHOP = "https://shop.example"
OTHER = "https://other.example"


class Website:
    """A site set up by the admin, and a visitor's browser on its page."""

    def __init__(self, client: Client, desk: Desk, clock: MovableClock) -> None:
        self.client, self.desk, self.clock = client, desk, clock
        answer = desk.api.post(
            "/api/sites",
            {"name": "Shop", "allowed_origins": [SHOP], "default_category_id": desk.categories["technical"]},
        )
        assert answer.status_code == 201, answer.body
        self.site = answer.data
        self.key = self.site["public_key"]

    def token(self, origin: str = SHOP) -> str:
        answer = self.client.http.get(f"/embed/v1/form-token?site_key={self.key}", headers={"Origin": origin})
        assert answer.status_code == 200, answer.body
        token: str = json.loads(answer.body)["form_token"]
        return token

    def fields(self, **overrides: Any) -> dict[str, Any]:
        token = self.token()
        self.clock.advance(seconds=embed.MIN_FILL_SECONDS + 1)
        return {
            "name": "Vic Visitor",
            "email": "vic@example.com",
            "subject": "Where is my order?",
            "body": "Ordered last week.",
            "form_token": token,
            **overrides,
        }

    def post(self, body: Any, origin: str | None = SHOP, key: str | None = "default", **headers: str) -> Any:
        sent = {"Content-Type": "application/json", **headers}
        if origin is not None:
            sent["Origin"] = origin
        if key is not None:
            sent["X-Helpdesk-Site-Key"] = self.key if key == "default" else key
        payload = body if isinstance(body, str) else json.dumps(body)
        answer = self.client.http.post("/embed/v1/tickets", headers=sent, body=payload)
        answer.data = json.loads(answer.body) if answer.body else None
        return answer


@pytest.fixture
def website(client: Client, desk: Desk, clock: MovableClock) -> Website:
    return Website(client, desk, clock)


def tickets_of(desk: Desk) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = desk.api.get("/api/tickets?order=newest").data["items"]
    return items


def post_form(website: Website, fields: dict[str, Any], **headers: str) -> Any:
    """A plain HTML form's post: URL-encoded, every field sent, one left untouched as empty;
    the site's key a field unless a header carries it."""
    form = {"Content-Type": "application/x-www-form-urlencoded", **headers}
    return website.post(urlencode(fields), key=None, **form)


def start_of_window(clock: MovableClock, limit: Any) -> None:
    """Move the clock to the start of the limit's next fixed window, so that every attempt
    of the test counts in one window however long the test moves the clock."""
    window = limit.window_seconds
    clock.advance(seconds=window - clock.moment.timestamp() % window)


# -- CORS ----------------------------------------------------------------------------


def test_a_preflight_from_an_allowed_origin_is_answered_with_that_origin_only(website: Website) -> None:
    answer = website.client.http.options(
        "/embed/v1/tickets",
        headers={
            "Origin": SHOP,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,x-helpdesk-site-key",
        },
    )

    assert answer.status_code == 204
    assert answer.headers["Access-Control-Allow-Origin"] == SHOP
    assert "POST" in answer.headers["Access-Control-Allow-Methods"]
    assert "X-Helpdesk-Site-Key" in answer.headers["Access-Control-Allow-Headers"]
    assert "Access-Control-Allow-Credentials" not in answer.headers
    assert answer.headers["Vary"] == "Origin"


@pytest.mark.parametrize(
    "origin", [OTHER, "null", "https://shop.example.evil.example", "http://shop.example", SHOP + "/"]
)
def test_a_preflight_from_any_other_origin_gets_no_cors_headers(website: Website, origin: str) -> None:
    answer = website.client.http.options("/embed/v1/tickets", headers={"Origin": origin})

    assert not any(name.lower().startswith("access-control-") for name in answer.headers)


# -- a ticket from a website ---------------------------------------------------------


def test_a_visitor_raises_a_ticket_that_staff_see_with_the_sites_category(
    website: Website, desk: Desk
) -> None:
    answer = website.post(website.fields())

    assert answer.status_code == 201, answer.body
    assert set(answer.data) == {"number", "message"}
    assert answer.headers["Access-Control-Allow-Origin"] == SHOP
    (ticket,) = tickets_of(desk)
    assert ticket["number"] == answer.data["number"]
    assert ticket["source"] == "website"
    assert ticket["category_id"] == desk.categories["technical"]
    contact = desk.api.get(f"/api/contacts/{ticket['contact_id']}").data
    assert (contact["name"], contact["email"]) == ("Vic Visitor", "vic@example.com")


def test_a_new_visitors_contact_and_ticket_are_one_write_or_none(website: Website, desk: Desk) -> None:
    from tests.bench.counting import count_calls

    fields = website.fields()
    with transactions_refused():
        failed = website.post(fields)

    assert failed.status_code == 500
    assert desk.api.get("/api/contacts?email=vic@example.com").data["items"] == []
    with count_calls() as calls:
        answer = website.post(fields)  # the visitor sends the form again
    assert answer.status_code == 201, answer.body
    assert calls.by_operation.get("TransactWriteItems") == 1
    assert "PutItem" not in calls.by_operation  # neither the contact nor the ticket alone
    (contact,) = desk.api.get("/api/contacts?email=vic@example.com").data["items"]
    assert [ticket["contact_id"] for ticket in tickets_of(desk)] == [contact["id"]]


def test_a_known_email_gets_the_same_answer_and_its_contact_is_not_changed(
    website: Website, desk: Desk
) -> None:
    new = website.post(website.fields(email="new@example.com"))
    known = website.post(website.fields(email="Cleo@Example.com", name="Someone Else", phone="+14155550100"))

    assert (new.status_code, set(new.data), new.data["message"]) == (
        known.status_code,
        set(known.data),
        known.data["message"],
    )
    cleo = desk.api.get(f"/api/contacts/{desk.contacts['cleo']}").data
    assert (cleo["name"], cleo["phone"]) == ("Cleo Customer", None)
    assert tickets_of(desk)[0]["contact_id"] == desk.contacts["cleo"]


def test_a_form_post_with_the_key_as_a_field_works_too(website: Website, desk: Desk) -> None:
    fields = {**website.fields(), "site_key": website.key}

    answer = post_form(website, fields)

    assert answer.status_code == 201, answer.body
    assert len(tickets_of(desk)) == 1


def test_a_json_post_may_carry_the_key_as_a_field_too(website: Website, desk: Desk) -> None:
    answer = website.post({**website.fields(), "site_key": website.key}, key=None)

    assert answer.status_code == 201, answer.body
    assert answer.headers["Access-Control-Allow-Origin"] == SHOP
    assert [ticket["number"] for ticket in tickets_of(desk)] == [answer.data["number"]]


def test_a_plain_html_form_with_its_optional_fields_left_empty_raises_a_ticket(
    website: Website, desk: Desk
) -> None:
    fields = {**website.fields(), "phone": "", "category_id": "", "website": "", "site_key": website.key}

    answer = post_form(website, fields)

    assert answer.status_code == 201, answer.body
    (ticket,) = tickets_of(desk)
    assert ticket["number"] == answer.data["number"]
    assert ticket["category_id"] == desk.categories["technical"]  # the site's default
    assert desk.api.get(f"/api/contacts/{ticket['contact_id']}").data["phone"] is None


def test_blank_optional_fields_in_json_count_as_absent_too(website: Website, desk: Desk) -> None:
    answer = website.post(website.fields(phone="  ", category_id="", website=""))

    assert answer.status_code == 201, answer.body
    (ticket,) = tickets_of(desk)
    assert ticket["number"] == answer.data["number"]
    assert ticket["category_id"] == desk.categories["technical"]
    assert desk.api.get(f"/api/contacts/{ticket['contact_id']}").data["phone"] is None


@pytest.mark.parametrize("encoding", ["form", "json"])
def test_a_blank_required_field_is_still_422_naming_it(website: Website, desk: Desk, encoding: str) -> None:
    fields = website.fields(subject=" ", phone="")

    if encoding == "form":
        answer = post_form(website, fields, **{"X-Helpdesk-Site-Key": website.key})
    else:
        answer = website.post(fields)

    assert answer.status_code == 422
    assert answer.data["error"]["field"] == "subject"
    assert tickets_of(desk) == []


def test_a_portal_session_cookie_never_attaches_the_ticket_to_its_account(
    website: Website, desk: Desk
) -> None:
    from tests.functional.browsing import Browser
    from tests.functional.portal_fixtures import PASSWORD, give_password, sign_in

    give_password(desk.contacts["cleo"])
    browser = Browser(website.client)
    sign_in(browser, "cleo@example.com", PASSWORD)
    cookie = "; ".join(f"{name}={value}" for name, value in browser.cookies.items())

    answer = website.post(website.fields(email="vic@example.com"), Cookie=cookie)

    assert answer.status_code == 201
    assert tickets_of(desk)[0]["contact_id"] != desk.contacts["cleo"]


# -- refusals ------------------------------------------------------------------------


@pytest.mark.parametrize("key", [None, "", "hd_nosuchsite_abc", "not a key"])
def test_an_unknown_key_is_403(website: Website, key: str | None) -> None:
    answer = website.post(website.fields(), key=key)

    assert answer.status_code == 403
    assert answer.data["error"]["code"] == "forbidden"


def test_a_disabled_site_or_a_replaced_key_is_403(website: Website, desk: Desk) -> None:
    old_key = website.key
    filled_in = website.fields()
    desk.api.patch(f"/api/sites/{website.site['id']}", {"new_key": True, "version": 1})

    replaced = website.post(filled_in, key=old_key)
    website.key = desk.api.get(f"/api/sites/{website.site['id']}").data["public_key"]
    fields = website.fields()
    desk.api.patch(f"/api/sites/{website.site['id']}", {"enabled": False, "version": 2})
    disabled = website.post(fields)

    assert (replaced.status_code, disabled.status_code) == (403, 403)
    assert tickets_of(desk) == []


def test_a_page_from_an_origin_the_site_does_not_allow_is_refused_without_cors(
    website: Website, desk: Desk
) -> None:
    desk.api.post("/api/sites", {"name": "Other", "allowed_origins": [OTHER]})

    answer = website.post(website.fields(), origin=OTHER)

    assert answer.status_code == 403
    assert "Access-Control-Allow-Origin" not in answer.headers
    assert tickets_of(desk) == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"name": ""}, "name"),
        ({"subject": "x" * 201}, "subject"),
        ({"phone": "12"}, "phone"),
        ({"status_id": "x"}, "status_id"),
    ],
)
def test_a_bad_field_is_422_naming_it_and_readable_by_the_page(
    website: Website, desk: Desk, change: dict[str, Any], field: str
) -> None:
    answer = website.post(website.fields(**change))

    assert answer.status_code == 422
    assert answer.data["error"]["field"] == field
    assert answer.headers["Access-Control-Allow-Origin"] == SHOP
    assert tickets_of(desk) == []


@pytest.mark.parametrize(
    ("content_type", "body", "status", "field"),
    [
        ("application/json", "x" * (embed.MAX_BODY_BYTES + 1), 413, None),
        ("application/json", '{"name": "Vic", ', 400, None),
        ("application/json", '["not", "an", "object"]', 400, None),
        ("application/x-www-form-urlencoded", "name=Vic&colour=blue", 422, "colour"),
    ],
    ids=["too-large", "bad-json", "not-an-object", "unknown-form-field"],
)
def test_an_error_answered_to_an_allowed_origin_carries_its_cors_headers(
    website: Website, desk: Desk, content_type: str, body: str, status: int, field: str | None
) -> None:
    answer = website.post(body, **{"Content-Type": content_type})

    assert answer.status_code == status
    assert answer.data["error"]["field"] == field
    # Echoed, so the widget on that page can read the error and show it.
    assert answer.headers["Access-Control-Allow-Origin"] == SHOP
    assert answer.headers["Vary"] == "Origin"
    assert "Access-Control-Allow-Credentials" not in answer.headers
    assert tickets_of(desk) == []


@pytest.mark.parametrize(
    "body", ['{"name": ', "x" * (embed.MAX_BODY_BYTES + 1), json.dumps({"colour": "blue"})]
)
def test_a_bad_key_in_the_header_is_403_whatever_the_body(website: Website, body: str) -> None:
    answer = website.post(body, key="hd_nosuchsite_abc")

    assert answer.status_code == 403
    assert answer.data["error"]["code"] == "forbidden"
    assert "Access-Control-Allow-Origin" not in answer.headers


def test_a_foreign_origin_gets_403_without_cors_headers_whatever_the_body(website: Website) -> None:
    answer = website.post("x" * (embed.MAX_BODY_BYTES + 1), origin=OTHER)

    assert answer.status_code == 403
    assert not any(name.lower().startswith("access-control-") for name in answer.headers)


def test_a_form_sent_at_once_or_with_a_forged_token_is_refused(website: Website, desk: Desk) -> None:
    quick = website.post({**website.fields(), "form_token": website.token()})
    forged = website.post(website.fields(form_token="1700000000.deadbeefdeadbeefdeadbeefdeadbeef"))

    assert quick.status_code == 422
    assert quick.data["error"]["field"] == "form_token"
    assert "too quickly" in quick.data["error"]["message"]
    assert forged.status_code == 422
    assert tickets_of(desk) == []


@pytest.mark.parametrize("token", ["\u00b2.deadbeef", "9" * 40 + ".deadbeef", ".deadbeef", "12"])
def test_a_form_token_that_is_no_number_and_signature_is_a_422_not_a_500(
    website: Website, desk: Desk, token: str
) -> None:
    answer = website.post(website.fields(form_token=token))

    assert answer.status_code == 422, answer.body
    assert answer.data["error"]["field"] == "form_token"
    assert tickets_of(desk) == []


def test_a_form_token_is_good_for_its_lifetime_and_then_asks_for_a_reload(
    website: Website, desk: Desk, clock: MovableClock
) -> None:
    fields = website.fields()  # the token is MIN_FILL_SECONDS + 1 old now
    clock.advance(seconds=embed.FORM_TOKEN_LIFETIME - embed.MIN_FILL_SECONDS - 1)
    at_the_end = website.post(fields)
    stale = website.fields(subject="Still there?")
    clock.advance(seconds=embed.FORM_TOKEN_LIFETIME - embed.MIN_FILL_SECONDS)

    refused = website.post(stale)

    assert at_the_end.status_code == 201, at_the_end.body
    assert refused.status_code == 422
    assert refused.data["error"]["field"] == "form_token"
    assert refused.data["error"]["message"] == embed.STALE_FORM
    assert refused.headers["Access-Control-Allow-Origin"] == SHOP
    assert [ticket["subject"] for ticket in tickets_of(desk)] == ["Where is my order?"]


def test_a_form_token_issued_in_the_future_is_refused_asking_for_a_reload(
    website: Website, desk: Desk, clock: MovableClock
) -> None:
    from chalicelib.domain import sites

    # Signed with the right key, so only its time can give it away.
    later = embed.form_token(sites.get(website.site["id"]), now=clock.moment.timestamp() + 3600)

    answer = website.post(website.fields(form_token=later))

    assert answer.status_code == 422
    assert answer.data["error"]["field"] == "form_token"
    assert answer.data["error"]["message"] == embed.STALE_FORM
    assert tickets_of(desk) == []


def test_a_filled_honeypot_is_thanked_and_dropped(website: Website, desk: Desk) -> None:
    answer = website.post(website.fields(website="http://spam.example"))

    assert answer.status_code == 201
    assert answer.data["number"] is None
    assert tickets_of(desk) == []


def test_submissions_are_limited_per_client_address_with_retry_after(
    website: Website, desk: Desk, clock: MovableClock
) -> None:
    start_of_window(clock, embed.PER_ADDRESS)
    answers = [
        website.post(website.fields(email=f"v{n}@example.com")).status_code
        for n in range(embed.PER_ADDRESS.attempts + 1)
    ]

    assert answers == [201] * embed.PER_ADDRESS.attempts + [429]
    limited = website.post(website.fields(email="late@example.com"))
    assert int(limited.headers["Retry-After"]) > 0
    assert limited.headers["Access-Control-Allow-Origin"] == SHOP


def test_submissions_are_limited_per_email(
    website: Website, clock: MovableClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(embed, "PER_ADDRESS", embed.throttle.Limit("embed-address-test", 100, 3600))
    start_of_window(clock, embed.PER_EMAIL)
    answers = [website.post(website.fields()).status_code for _ in range(embed.PER_EMAIL.attempts + 1)]

    assert answers[-1] == 429
    assert answers[:-1] == [201] * embed.PER_EMAIL.attempts


def test_a_body_over_the_limit_is_413(website: Website) -> None:
    answer = website.post(website.fields(body="x" * (embed.MAX_BODY_BYTES + 1)))

    assert answer.status_code == 413


# -- double submits ------------------------------------------------------------------


def test_the_same_idempotency_key_gets_the_first_answer_and_one_ticket(website: Website, desk: Desk) -> None:
    fields = website.fields()

    first = website.post(fields, **{"Idempotency-Key": "attempt-1"})
    second = website.post(fields, **{"Idempotency-Key": "attempt-1"})

    assert first.status_code == second.status_code == 201
    assert first.data == second.data
    assert len(tickets_of(desk)) == 1


def test_replays_of_an_idempotency_key_use_no_allowance_and_answer_even_at_the_limit(
    website: Website, desk: Desk, clock: MovableClock
) -> None:
    start_of_window(clock, embed.PER_ADDRESS)
    fields = website.fields()
    double_submit = {"Idempotency-Key": "attempt-3"}
    first = website.post(fields, **double_submit)

    # More replays than either limit allows submissions (per address, and per email: theirs).
    replays = [website.post(fields, **double_submit) for _ in range(embed.PER_ADDRESS.attempts)]
    # The replays took nothing: the rest of the address's allowance still raises tickets.
    others = [
        website.post(website.fields(email=f"v{n}@example.com")).status_code
        for n in range(embed.PER_ADDRESS.attempts - 1)
    ]
    over = website.post(website.fields(email="late@example.com"))
    at_the_limit = website.post(fields, **double_submit)

    assert first.status_code == 201, first.body
    assert [(replay.status_code, replay.data) for replay in replays] == [(201, first.data)] * len(replays)
    assert others == [201] * (embed.PER_ADDRESS.attempts - 1)
    assert over.status_code == 429
    assert (at_the_limit.status_code, at_the_limit.data) == (201, first.data)
    assert at_the_limit.headers["Access-Control-Allow-Origin"] == SHOP
    assert len(tickets_of(desk)) == embed.PER_ADDRESS.attempts


def test_a_key_whose_first_attempt_was_throttled_is_tried_again_later(
    website: Website, desk: Desk, clock: MovableClock
) -> None:
    start_of_window(clock, embed.PER_EMAIL)
    for _ in range(embed.PER_EMAIL.attempts):
        assert website.post(website.fields()).status_code == 201
    fields = website.fields(subject="One more")
    throttled = website.post(fields, **{"Idempotency-Key": "attempt-4"})
    clock.advance(seconds=embed.PER_EMAIL.window_seconds)

    later = website.post(fields, **{"Idempotency-Key": "attempt-4"})

    assert throttled.status_code == 429
    # Not left "in progress" by the refused attempt: the next window raises the ticket.
    assert later.status_code == 201, later.body
    assert tickets_of(desk)[0]["number"] == later.data["number"]
    assert len(tickets_of(desk)) == embed.PER_EMAIL.attempts + 1


def test_an_idempotency_key_reused_with_another_body_is_refused(website: Website, desk: Desk) -> None:
    website.post(website.fields(), **{"Idempotency-Key": "attempt-2"})

    other = website.post(website.fields(subject="Something else"), **{"Idempotency-Key": "attempt-2"})

    assert other.status_code == 422
    assert other.data["error"]["field"] == "Idempotency-Key"
    assert len(tickets_of(desk)) == 1


# -- the widget ----------------------------------------------------------------------


def test_the_widget_script_is_served_for_any_page_to_load(client: Client) -> None:
    answer = client.http.get("/embed/v1/widget.js")

    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert answer.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
    script = answer.body.decode()
    assert "attachShadow" in script
    assert "innerHTML" not in script
    assert 'credentials: "omit"' in script


# -- the confirmation ----------------------------------------------------------------


def test_the_confirmation_links_to_a_page_of_just_that_ticket(
    website: Website, desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    import re

    import boto3
    from moto.backends import get_backend
    from moto.core import DEFAULT_ACCOUNT_ID

    from tests.functional.test_stream_handler import StreamTap, invoke

    monkeypatch.setenv("HELPDESK_PUBLIC_URL", "https://help.example.com")
    boto3.client("ses", region_name="us-east-1").verify_email_identity(EmailAddress="desk@shop.example")
    desk.put_settings(sender_email="desk@shop.example")
    tap = StreamTap()
    tap.take()

    number = website.post(website.fields(subject="Broken <b>lid</b>")).data["number"]
    invoke(website.client, tap.take())

    (sent,) = get_backend("ses")[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages
    assert sent.destinations["ToAddresses"] == ["vic@example.com"]
    path = re.search(r"https://help\.example\.com(/t/[A-Za-z0-9_-]+)", sent.body).group(1)
    page = website.client.http.get(path)
    text = page.body.decode()
    assert page.status_code == 200
    assert f"#{number} Broken &lt;b&gt;lid&lt;/b&gt;" in text
    assert "Ordered last week." in text
    altered = website.client.http.get(path[:-2] + ("AA" if not path.endswith("AA") else "BB"))
    assert altered.status_code == 404


def test_a_flood_of_forms_from_one_address_confirms_once_per_window(
    website: Website, desk: Desk, clock: MovableClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    import boto3
    from moto.backends import get_backend
    from moto.core import DEFAULT_ACCOUNT_ID

    from chalicelib.notify import deliver
    from tests.functional.test_stream_handler import StreamTap, invoke

    monkeypatch.setenv("HELPDESK_PUBLIC_URL", "https://help.example.com")
    boto3.client("ses", region_name="us-east-1").verify_email_identity(EmailAddress="desk@shop.example")
    desk.put_settings(sender_email="desk@shop.example")
    tap = StreamTap()
    tap.take()
    outbox = get_backend("ses")[DEFAULT_ACCOUNT_ID]["us-east-1"]
    # Start at the beginning of a window, so the three forms below share one.
    window = deliver.CONFIRMATION_WINDOW_SECONDS
    clock.advance(seconds=window - clock.moment.timestamp() % window)

    for _ in range(3):
        assert website.post(website.fields()).status_code == 201
    records = tap.take()
    invoke(website.client, records)
    invoke(website.client, records)  # the same batch again: still one email
    first_window = len(outbox.sent_messages)
    clock.advance(seconds=deliver.CONFIRMATION_WINDOW_SECONDS)
    website.post(website.fields())
    invoke(website.client, tap.take())

    assert first_window == 1
    assert len(outbox.sent_messages) == 2
    assert len(tickets_of(desk)) == 4


def test_an_unknown_category_from_the_snippet_falls_back_to_the_sites_default(
    website: Website, desk: Desk
) -> None:
    answer = website.post(website.fields(category_id="deleted-category"))

    assert answer.status_code == 201
    assert tickets_of(desk)[0]["category_id"] == desk.categories["technical"]


def test_deleting_a_site_changed_since_it_was_read_is_a_conflict(website: Website, desk: Desk) -> None:
    from chalicelib.domain import sites
    from chalicelib.errors import StaleVersion

    read = sites.get(website.site["id"])
    desk.api.patch(f"/api/sites/{website.site['id']}", {"allowed_origins": [SHOP, OTHER], "version": 1})

    with pytest.raises(StaleVersion):
        sites.delete(read)

    assert desk.api.get(f"/api/sites/{website.site['id']}").status_code == 200


# -- the local demo page -------------------------------------------------------------


def demo_client() -> Client:
    """The runner's development routes on an app of their own, as ``make run`` adds them."""
    from chalice.app import Chalice
    from moto.core import DEFAULT_ACCOUNT_ID

    from local.dev_routes import create_blueprint
    from local.outbox import Outbox

    app = Chalice("demo-test")
    app.register_blueprint(create_blueprint(Outbox(DEFAULT_ACCOUNT_ID, "us-east-1")))
    return Client(app)


def test_the_demo_page_embeds_the_widget_with_the_seeded_demo_sites_key(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    import re

    from chalicelib.domain import setup, sites
    from local.dev_routes import DEMO_SITE_VARIABLE
    from local.seed import seed

    demo = seed(site_origins=["http://127.0.0.1:8000"])
    # An admin's own site, whose name sorts before the demo site's: never taken for it.
    sites.create(setup.load(), {"name": "Acme", "allowed_origins": ["https://acme.example"]})
    monkeypatch.setenv(DEMO_SITE_VARIABLE, demo.site_id or "")

    with demo_client() as client:
        inline = client.http.get("/embed/v1/demo")
        button = client.http.get("/embed/v1/demo?mode=button")

    assert inline.status_code == 200
    assert inline.headers["Content-Type"] == "text/html; charset=utf-8"
    scripts = re.findall(r"<script [^>]*>", inline.body.decode())
    assert scripts == [f'<script src="/embed/v1/widget.js" data-site-key="{demo.site_key}" async>']
    assert f'data-site-key="{demo.site_key}" data-mode="button"' in button.body.decode()
    assert sites.get(demo.site_id or "").name == "Demo shop"


def test_the_demo_page_follows_a_replaced_key_and_is_404_without_a_demo_site(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.domain import setup, sites
    from local.dev_routes import DEMO_SITE_VARIABLE

    site = sites.create(setup.load(), {"name": "Demo shop", "allowed_origins": ["http://127.0.0.1:8000"]})
    replaced = sites.update(setup.load(), site, {"new_key": True, "version": 1})

    with demo_client() as client:
        monkeypatch.setenv(DEMO_SITE_VARIABLE, site.id)
        current = client.http.get("/embed/v1/demo")
        monkeypatch.delenv(DEMO_SITE_VARIABLE)
        unseeded = client.http.get("/embed/v1/demo")
        monkeypatch.setenv(DEMO_SITE_VARIABLE, "deleted-site")
        deleted = client.http.get("/embed/v1/demo")

    assert current.status_code == 200
    assert f'data-site-key="{replaced.public_key}"' in current.body.decode()
    assert (unseeded.status_code, deleted.status_code) == (404, 404)


def test_the_deployed_app_has_no_demo_page() -> None:
    from app import app

    assert "/embed/v1/tickets" in app.routes
    assert "/embed/v1/demo" not in app.routes
