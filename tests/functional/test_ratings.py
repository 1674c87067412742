"""Rating a closed ticket from the link in its close notice: no login, GET only shows the
choice, POST records it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import boto3
import pytest
from boto3.dynamodb.conditions import Key
from chalice.test import Client

from chalicelib.notify.links import PublicLinks, rating_token
from tests.functional.desk import Desk, MovableClock
from tests.functional.portal_fixtures import Customers, customers
from tests.functional.test_openapi import Checker, Documented

TABLE = "helpdesk-test"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}

pytestmark = pytest.mark.usefixtures("clock")

__all__ = ["customers"]


@dataclass
class Rated:
    """A desk with rating options and one closed and one open ticket."""

    desk: Desk
    options: dict[str, str]
    closed: dict[str, Any]
    open: dict[str, Any]


@pytest.fixture
def rated(desk: Desk) -> Rated:
    options = {
        name: desk.created("/api/rating-options", {"label": label, "score": score})["id"]
        for name, label, score in (("great", "Great", 100), ("okay", "Okay", 50), ("poor", "Poor", 0))
    }
    closed = desk.ticket(status_id=desk.statuses["solved"], subject="Printer on fire")
    still_open = desk.ticket()
    return Rated(desk, options, closed, still_open)


def partition_items(number: int) -> list[dict[str, Any]]:
    """Everything stored under one ticket's partition, read straight from the table."""
    table = boto3.resource("dynamodb").Table(TABLE)
    items: list[dict[str, Any]] = table.query(KeyConditionExpression=Key("pk").eq(f"TICKET#{number:010d}"))[
        "Items"
    ]
    return items


def stored_rating(number: int) -> dict[str, Any] | None:
    return next((item for item in partition_items(number) if item["sk"] == "RATING"), None)


def get_page(client: Client, token: str, option: str | None = None) -> Any:
    query = f"?{urlencode({'option': option})}" if option else ""
    return client.http.get(f"/rate/{token}{query}")


def post_form(client: Client, token: str, **fields: str) -> Any:
    return client.http.post(f"/rate/{token}", headers=FORM, body=urlencode(fields))


def html(response: Any) -> str:
    return response.body.decode() if isinstance(response.body, bytes) else str(response.body)


def checked_option(page: str) -> str | None:
    found = re.search(r'value="([^"]+)" required checked', page)
    return found.group(1) if found else None


# -- the confirmation page -----------------------------------------------------------


def test_opening_a_link_shows_every_option_with_the_linked_one_selected(client: Client, rated: Rated) -> None:
    token = rating_token(rated.closed["number"])

    response = get_page(client, token, option=rated.options["okay"])

    assert response.status_code == 200
    page = html(response)
    for label in ("Great", "Okay", "Poor"):
        assert f"{label}\n" in page
    assert page.count('type="radio" name="rating_option_id"') == 3
    assert checked_option(page) == rated.options["okay"]
    assert '<textarea id="comment" name="comment"' in page
    assert '<button type="submit">' in page
    assert f'<form method="post" action="{token}">' in page
    assert f"ticket {rated.closed['number']}" in page


def test_opening_a_link_changes_nothing(client: Client, rated: Rated) -> None:
    number = rated.closed["number"]
    before = partition_items(number)

    for _ in range(2):
        assert get_page(client, rating_token(number), option=rated.options["great"]).status_code == 200

    assert partition_items(number) == before
    assert stored_rating(number) is None


def test_the_link_a_notification_carries_opens_the_page(
    client: Client, rated: Rated, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HELPDESK_PUBLIC_URL", "https://help.example.com")
    url = PublicLinks.from_env().rating(rated.closed["number"], rated.options["poor"])

    response = client.http.get(url.removeprefix("https://help.example.com"))

    assert response.status_code == 200
    assert checked_option(html(response)) == rated.options["poor"]


def test_the_page_carries_the_security_headers_and_no_script(client: Client, rated: Rated) -> None:
    response = get_page(client, rating_token(rated.closed["number"]))

    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
    assert "<script" not in html(response)
    assert " on" not in re.sub(r">[^<]*<", "><", html(response))  # no inline event handler attributes


def test_option_labels_and_the_subject_are_escaped(client: Client, desk: Desk) -> None:
    desk.created("/api/rating-options", {"label": '<img src=x onerror="alert(1)">', "score": 10})
    ticket = desk.ticket(status_id=desk.statuses["solved"], subject="<script>alert(2)</script>")

    page = html(get_page(client, rating_token(ticket["number"])))

    assert "<img" not in page
    assert "<script" not in page
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in page
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in page


def test_an_open_ticket_shows_that_it_cannot_be_rated_yet(client: Client, rated: Rated) -> None:
    response = get_page(client, rating_token(rated.open["number"]))

    assert response.status_code == 409
    assert "once it is closed" in html(response)
    assert "<form" not in html(response)


# -- recording -----------------------------------------------------------------------


def test_posting_the_form_records_the_rating(client: Client, rated: Rated, clock: MovableClock) -> None:
    number = rated.closed["number"]

    response = post_form(
        client,
        rating_token(number),
        rating_option_id=rated.options["great"],
        comment="  Fast and kind.\r\nThanks ",
    )

    assert response.status_code == 200, html(response)
    assert "Thank you" in html(response)
    assert "Great" in html(response)
    stored = stored_rating(number)
    assert stored is not None
    assert stored["option_id"] == rated.options["great"]
    assert (stored["score"], stored["label"]) == (100, "Great")
    assert stored["comment"] == "Fast and kind.\nThanks"
    assert stored["ref_pk"] == f"RATING_OPTION#{rated.options['great']}"
    assert stored["ref_sk"] == f"TICKET#{number:010d}"
    assert stored["rated_at"].startswith(clock.now().strftime("%Y-%m-%dT%H:%M:%S"))


def test_rating_again_changes_the_one_rating(client: Client, rated: Rated, clock: MovableClock) -> None:
    number = rated.closed["number"]
    token = rating_token(number)
    post_form(client, token, rating_option_id=rated.options["poor"], comment="Slow.")
    clock.advance(hours=1)

    response = post_form(client, token, rating_option_id=rated.options["okay"], comment="")

    assert response.status_code == 200
    ratings = [item for item in partition_items(number) if item["kind"] == "rating"]
    assert len(ratings) == 1
    assert (ratings[0]["option_id"], ratings[0]["label"], ratings[0]["score"]) == (
        rated.options["okay"],
        "Okay",
        50,
    )
    assert "comment" not in ratings[0] or ratings[0]["comment"] is None
    assert ratings[0]["rated_at"].startswith(clock.now().strftime("%Y-%m-%dT%H:%M:%S"))


def test_reopening_the_link_after_rating_selects_the_earlier_choice(client: Client, rated: Rated) -> None:
    token = rating_token(rated.closed["number"])
    post_form(client, token, rating_option_id=rated.options["poor"], comment="Slow & <late>.")

    page = html(get_page(client, token))

    assert checked_option(page) == rated.options["poor"]
    assert "Slow &amp; &lt;late&gt;.</textarea>" in page
    assert "You rated this ticket “Poor”" in page


def test_the_rating_keeps_the_label_it_was_given_under(client: Client, rated: Rated) -> None:
    number = rated.closed["number"]
    post_form(client, rating_token(number), rating_option_id=rated.options["great"])
    option = rated.desk.api.get(f"/api/rating-options/{rated.options['great']}").data

    renamed = rated.desk.api.patch(
        f"/api/rating-options/{rated.options['great']}", {"label": "Superb", "version": option["version"]}
    )

    assert renamed.status_code == 200
    stored = stored_rating(number)
    assert stored is not None
    assert stored["label"] == "Great"


def test_an_open_ticket_cannot_be_rated(client: Client, rated: Rated) -> None:
    number = rated.open["number"]

    response = post_form(client, rating_token(number), rating_option_id=rated.options["great"])

    assert response.status_code == 409
    assert "once it is closed" in html(response)
    assert stored_rating(number) is None


@pytest.mark.parametrize("option", ["0123456789abcdef0123456789abcdef", "", "not an id!"])
def test_an_unknown_option_shows_the_form_again_naming_the_field(
    client: Client, rated: Rated, option: str
) -> None:
    number = rated.closed["number"]

    response = post_form(client, rating_token(number), rating_option_id=option, comment="Kept <as> typed")

    assert response.status_code == 422
    page = html(response)
    assert 'role="alert"' in page
    assert "rating_option_id" in page
    assert page.count('type="radio" name="rating_option_id"') == 3
    assert "Kept &lt;as&gt; typed</textarea>" in page
    assert stored_rating(number) is None


def test_a_form_without_an_option_names_the_field(client: Client, rated: Rated) -> None:
    response = post_form(client, rating_token(rated.closed["number"]), comment="No choice")

    assert response.status_code == 422
    assert 'data-field="rating_option_id"' in html(response)


def test_a_comment_over_two_thousand_characters_is_refused(client: Client, rated: Rated) -> None:
    number = rated.closed["number"]

    response = post_form(
        client, rating_token(number), rating_option_id=rated.options["okay"], comment="x" * 2001
    )

    assert response.status_code == 422
    assert 'data-field="comment"' in html(response)
    assert stored_rating(number) is None


def test_an_unknown_form_field_is_named(client: Client, rated: Rated) -> None:
    response = post_form(
        client, rating_token(rated.closed["number"]), rating_option_id=rated.options["okay"], score="100"
    )

    assert response.status_code == 422
    assert 'data-field="score"' in html(response)


def test_a_form_that_is_not_utf8_is_refused_without_a_server_error(client: Client, rated: Rated) -> None:
    response = client.http.post(
        f"/rate/{rating_token(rated.closed['number'])}", headers=FORM, body=b"rating_option_id=%ff%fe"
    )

    assert response.status_code == 400
    assert stored_rating(rated.closed["number"]) is None


def test_posting_json_to_the_page_is_refused(client: Client, rated: Rated) -> None:
    response = client.http.post(
        f"/rate/{rating_token(rated.closed['number'])}",
        headers={"Content-Type": "application/json"},
        body='{"rating_option_id": "x"}',
    )

    assert response.status_code == 415
    assert stored_rating(rated.closed["number"]) is None


# -- bad links -----------------------------------------------------------------------


def bad_tokens(number: int, clock: MovableClock) -> list[str]:
    good = rating_token(number)
    tampered = good[:10] + ("A" if good[10] != "A" else "B") + good[11:]
    expired = rating_token(number)
    clock.advance(days=31)
    # A valid token for a ticket that does not exist must look no different.
    return [tampered, expired, "garbage", "A" * 44, rating_token(999_999)]


def test_a_bad_link_shows_one_plain_not_found_page(client: Client, rated: Rated, clock: MovableClock) -> None:
    number = rated.closed["number"]
    pages = set()

    for token in bad_tokens(number, clock):
        for response in (
            get_page(client, token),
            post_form(client, token, rating_option_id=rated.options["great"]),
        ):
            assert response.status_code == 404
            assert "X-Frame-Options" in response.headers
            pages.add(html(response))

    assert len(pages) == 1
    page = pages.pop()
    assert str(number) not in page
    assert "Printer" not in page
    assert "<form" not in page
    assert stored_rating(number) is None


# -- what the rating touches elsewhere -----------------------------------------------


def test_a_rating_option_in_use_cannot_be_deleted(client: Client, rated: Rated) -> None:
    post_form(client, rating_token(rated.closed["number"]), rating_option_id=rated.options["okay"])

    in_use = rated.desk.api.delete(f"/api/rating-options/{rated.options['okay']}")
    unused = rated.desk.api.delete(f"/api/rating-options/{rated.options['poor']}")

    assert in_use.status_code == 409, in_use.body
    assert in_use.data["error"]["code"] == "conflict"
    assert unused.status_code == 204


def add_notes(rated: Rated, clock: MovableClock, number: int, *public: bool) -> None:
    """Notes ``note 0``, ``note 1``, ... a minute apart, so they have an order."""
    for index, is_public in enumerate(public):
        clock.advance(minutes=1)
        response = rated.desk.api.post(
            f"/api/tickets/{number}/notes", {"body": f"note {index}", "public": is_public}
        )
        assert response.status_code == 201, response.body


def test_a_rating_leaves_the_ticket_and_its_notes_as_they_were(
    client: Client, rated: Rated, clock: MovableClock
) -> None:
    number = rated.closed["number"]
    api = rated.desk.api
    add_notes(rated, clock, number, True, False, True)
    before = api.get(f"/api/tickets/{number}").data
    notes_before = api.get(f"/api/tickets/{number}/notes?limit=2").data

    post_form(client, rating_token(number), rating_option_id=rated.options["great"])
    after = api.get(f"/api/tickets/{number}").data
    notes_after = api.get(f"/api/tickets/{number}/notes?limit=2").data

    assert [note["body"] for note in after["notes"]] == ["note 0", "note 1", "note 2"]
    assert after["notes_cursor"] is None
    assert before["rating"] is None
    assert after["rating"]["label"] == "Great"
    assert {key: value for key, value in after.items() if key != "rating"} == {
        key: value for key, value in before.items() if key != "rating"
    }
    assert [note["body"] for note in notes_after["items"]] == ["note 1", "note 2"]
    assert notes_after["items"] == notes_before["items"]


@pytest.fixture
def limit_ends_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make ticket reads end as DynamoDB's do: DynamoDB returns a ``LastEvaluatedKey``
    whenever a query's ``Limit`` is reached, even on the partition's last item; moto leaves
    it out then, which would hide a read that stops one item short."""
    from chalicelib.domain import ticket_notes

    original = ticket_notes._read_backwards

    def read(number: int, condition: Any, count: int, start: Any) -> Any:
        found, last_key = original(number, condition, count, start)
        if last_key is None and len(found) == count:
            last_key = {"pk": {"S": found[-1].pk}, "sk": {"S": found[-1].sk}}
        return found, last_key

    monkeypatch.setattr(ticket_notes, "_read_backwards", read)


@pytest.mark.usefixtures("limit_ends_pages")
def test_with_a_rating_the_newest_notes_end_exactly_where_the_notes_do(
    client: Client, rated: Rated, clock: MovableClock
) -> None:
    """GIVEN a rated ticket with exactly as many notes as a page shows (its rating sorts
    among them), WHEN it is read, THEN the page holds every note and no cursor leads to an
    empty page of older ones."""
    from chalicelib.domain import ticket_notes

    number = rated.closed["number"]
    add_notes(rated, clock, number, True, True, True)
    post_form(client, rating_token(number), rating_option_id=rated.options["great"])

    exact = ticket_notes.get_with_notes(number, limit=3)
    short = ticket_notes.get_with_notes(number, limit=2)
    older, end = ticket_notes.notes_page(number, 2, short.notes_cursor)

    assert [note.body for note in exact.notes] == ["note 0", "note 1", "note 2"]
    assert exact.notes_cursor is None
    assert exact.rating is not None
    assert exact.rating.label == "Great"
    assert [note.body for note in short.notes] == ["note 1", "note 2"]
    assert [note.body for note in older] == ["note 0"]
    assert end is None


def test_the_staff_api_shows_the_rating_with_the_ticket_as_documented(
    client: Client, rated: Rated, clock: MovableClock
) -> None:
    number = rated.closed["number"]
    documented = Documented(client, Checker(), rated.desk.api.token)
    post_form(client, rating_token(number), rating_option_id=rated.options["okay"], comment="Fine <really>")

    detail = documented.get(f"/api/tickets/{number}")
    unrated = documented.get(f"/api/tickets/{rated.open['number']}")

    assert detail.status_code == 200
    assert detail.data["rating"] == {
        "rating_option_id": rated.options["okay"],
        "score": 50,
        "label": "Okay",
        "comment": "Fine <really>",
        "rated_at": clock.now().strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
    }
    assert unrated.data["rating"] is None


def test_a_rating_made_through_the_link_is_the_one_the_portal_ticket_page_shows(
    client: Client, rated: Rated, customers: Customers, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN Cleo's closed ticket, not rated yet on her portal page
    monkeypatch.setenv("HELPDESK_PUBLIC_URL", "https://help.example.com")
    number = rated.closed["number"]
    browser = customers.signed_in("cleo")
    before = browser.get(f"/portal/tickets/{number}")
    assert before.status == 200
    assert "You rated this ticket" not in before.plain

    # WHEN she rates it through the link of a close notice (no login)
    link = PublicLinks.from_env().rating(number, rated.options["okay"])
    token = link.removeprefix("https://help.example.com/rate/").split("?")[0]
    answer = post_form(client, token, rating_option_id=rated.options["okay"], comment="Took a while <3")
    assert answer.status_code == 200, html(answer)

    # THEN her portal page shows that rating: its label, its option chosen, its comment
    page = browser.get(f"/portal/tickets/{number}")
    assert page.status == 200
    assert "You rated this ticket “Okay”" in page.plain
    assert checked_option(page.text) == rated.options["okay"]
    assert "Took a while &lt;3</textarea>" in page.text
    assert "Change my rating" in page.plain
