"""Rating links: signed, expiring, single-ticket tokens, and the URLs built around them."""

from __future__ import annotations

import base64
import struct
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from chalicelib.notify import links
from chalicelib.notify.links import (
    RATING_TOKEN_LIFETIME,
    InvalidRatingLink,
    PublicLinks,
    rating_token,
    verify_rating_token,
)
from chalicelib.store import cursor
from tests.functional.desk import MovableClock

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> MovableClock:
    from chalicelib import clock as clock_module

    movable = MovableClock(datetime(2026, 3, 1, 12, 0, tzinfo=UTC))
    monkeypatch.setattr(clock_module, "now", movable.now)
    return movable


# -- tokens --------------------------------------------------------------------------


def test_a_token_verifies_to_the_ticket_it_was_made_for(clock: MovableClock) -> None:
    assert verify_rating_token(rating_token(1042)) == 1042
    assert verify_rating_token(rating_token(9_999_999_999)) == 9_999_999_999


def test_tokens_of_different_tickets_differ(clock: MovableClock) -> None:
    assert rating_token(1001) != rating_token(1002)


def test_a_token_is_url_safe_text_without_padding(clock: MovableClock) -> None:
    token = rating_token(1001)

    assert len(token) == 44
    assert set(token) <= set(ALPHABET)


def test_changing_any_character_of_a_token_makes_it_invalid(clock: MovableClock) -> None:
    token = rating_token(1001)

    for position, original in enumerate(token):
        for replacement in (
            ALPHABET[(ALPHABET.index(original) + 1) % 64],
            ALPHABET[(ALPHABET.index(original) + 33) % 64],
        ):
            tampered = token[:position] + replacement + token[position + 1 :]
            with pytest.raises(InvalidRatingLink):
                verify_rating_token(tampered)


def test_a_token_naming_another_ticket_under_the_original_signature_is_refused(clock: MovableClock) -> None:
    raw = base64.urlsafe_b64decode(rating_token(1001))
    version, _, expires = struct.unpack(">BQQ", raw[:17])
    forged = struct.pack(">BQQ", version, 1002, expires) + raw[17:]

    with pytest.raises(InvalidRatingLink):
        verify_rating_token(base64.urlsafe_b64encode(forged).decode())


def test_a_token_is_good_until_its_lifetime_ends(clock: MovableClock) -> None:
    token = rating_token(1001)

    clock.advance(seconds=RATING_TOKEN_LIFETIME.total_seconds() - 1)
    assert verify_rating_token(token) == 1001

    clock.advance(seconds=1)
    with pytest.raises(InvalidRatingLink):
        verify_rating_token(token)


def test_a_later_expiry_cannot_be_written_into_a_token(clock: MovableClock) -> None:
    raw = base64.urlsafe_b64decode(rating_token(1001))
    version, number, expires = struct.unpack(">BQQ", raw[:17])
    extended = struct.pack(">BQQ", version, number, expires + 365 * 86_400) + raw[17:]
    clock.advance(days=31)

    with pytest.raises(InvalidRatingLink):
        verify_rating_token(base64.urlsafe_b64encode(extended).decode())


def test_a_page_cursor_never_passes_as_a_rating_token(clock: MovableClock) -> None:
    """GIVEN the same key signs cursors WHEN a cursor, or a token MAC'd the way cursors are
    MAC'd, is offered as a rating token THEN it is refused: the purposes are kept apart."""
    a_cursor = cursor.encode_cursor({"pk": {"S": "TICKET#0000001001"}, "sk": {"S": "TICKET"}}, "rating")
    assert a_cursor is not None

    payload = base64.urlsafe_b64decode(rating_token(1001))[:17]
    signed_as_cursor = payload + cursor._signature(payload, "rating")

    for candidate in (a_cursor, a_cursor[:44], base64.urlsafe_b64encode(signed_as_cursor).decode()):
        with pytest.raises(InvalidRatingLink):
            verify_rating_token(candidate)


def test_a_token_signed_with_another_key_is_refused(
    clock: MovableClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.settings import Settings

    monkeypatch.setattr(links, "get_settings", lambda: Settings(secret_key=b"another-key-" * 4))
    foreign = rating_token(1001)
    monkeypatch.undo()

    with pytest.raises(InvalidRatingLink):
        verify_rating_token(foreign)


@pytest.mark.parametrize(
    "garbage",
    ["", "x", "not a token", "A" * 44, "A" * 43 + "=", "A" * 45, "%00" * 15, "../" * 15, "é" * 44, "\n" * 44],
)
def test_garbage_is_refused_as_an_invalid_link(clock: MovableClock, garbage: str) -> None:
    with pytest.raises(InvalidRatingLink) as raised:
        verify_rating_token(garbage)

    assert raised.value.message == "This rating link is not valid or has expired."


def test_every_bad_token_gets_the_same_message(clock: MovableClock) -> None:
    token = rating_token(1001)
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    clock.advance(days=31)

    messages = set()
    for bad in (token, tampered, "garbage"):
        with pytest.raises(InvalidRatingLink) as raised:
            verify_rating_token(bad)
        messages.add(raised.value.message)

    assert len(messages) == 1


# -- URLs ----------------------------------------------------------------------------


def test_links_are_built_under_the_public_url(clock: MovableClock, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HELPDESK_PUBLIC_URL", "https://help.example.com/")
    built = PublicLinks.from_env()

    assert built.portal_ticket(1042) == "https://help.example.com/portal/tickets/1042"
    assert built.admin_ticket(1042) == "https://help.example.com/admin/tickets/1042"

    rating = urlsplit(built.rating(1042, "opt_good-1"))
    assert (rating.scheme, rating.netloc) == ("https", "help.example.com")
    assert rating.path.startswith("/rate/")
    assert verify_rating_token(rating.path.removeprefix("/rate/")) == 1042
    assert parse_qs(rating.query) == {"option": ["opt_good-1"]}


def test_a_rating_link_expires_after_thirty_days(clock: MovableClock) -> None:
    url = PublicLinks("https://help.example.com").rating(1042, "good")
    token = urlsplit(url).path.removeprefix("/rate/")

    clock.advance(days=30)

    assert timedelta(days=30) == RATING_TOKEN_LIFETIME
    with pytest.raises(InvalidRatingLink):
        verify_rating_token(token)


@pytest.mark.parametrize("value", [None, "", "   "])
def test_an_unset_public_url_is_an_error_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, value: str | None
) -> None:
    if value is None:
        monkeypatch.delenv("HELPDESK_PUBLIC_URL", raising=False)
    else:
        monkeypatch.setenv("HELPDESK_PUBLIC_URL", value)

    with pytest.raises(RuntimeError, match="HELPDESK_PUBLIC_URL"):
        PublicLinks.from_env()


@pytest.mark.parametrize("value", ["help.example.com", "javascript:alert(1)", "ftp://help.example.com"])
def test_a_public_url_that_is_not_absolute_http_is_refused(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("HELPDESK_PUBLIC_URL", value)

    with pytest.raises(RuntimeError, match="HELPDESK_PUBLIC_URL"):
        PublicLinks.from_env()
