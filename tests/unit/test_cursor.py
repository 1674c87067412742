"""Signed page cursors: they round-trip, and any change or misuse is refused."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from chalicelib.errors import InvalidInput
from chalicelib.settings import get_settings
from chalicelib.store.cursor import decode_cursor, encode_cursor

SCOPE = "tickets|status-priority|STATUS#abc|TicketQuery(status_id='abc')"
LAST_KEY: dict[str, Any] = {
    "pk": {"S": "TICKET#0000001042"},
    "sk": {"S": "TICKET"},
    "status_pk": {"S": "STATUS#abc"},
    "prio_sk": {"S": "0#0002#2026-01-05T09:00:00.000000Z#0000001042"},
}


def raw_bytes(cursor: str) -> bytes:
    return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))


def as_cursor(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def refused(cursor: str, scope: str = SCOPE) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        decode_cursor(cursor, scope)
    return caught.value


def test_a_cursor_round_trips_to_the_same_key() -> None:
    cursor = encode_cursor(LAST_KEY, SCOPE)

    assert cursor is not None
    assert decode_cursor(cursor, SCOPE) == LAST_KEY


def test_a_cursor_uses_only_url_safe_characters() -> None:
    cursor = encode_cursor(LAST_KEY, SCOPE)

    assert cursor is not None
    assert set(cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def test_no_last_key_means_no_cursor_and_no_cursor_means_the_first_page() -> None:
    assert encode_cursor(None, SCOPE) is None
    assert encode_cursor({}, SCOPE) is None
    assert decode_cursor(None, SCOPE) is None
    assert decode_cursor("", SCOPE) is None


def test_every_flipped_byte_is_refused() -> None:
    cursor = encode_cursor(LAST_KEY, SCOPE)
    assert cursor is not None
    raw = raw_bytes(cursor)

    for position in range(len(raw)):
        for mask in (0x01, 0x80):
            changed = bytearray(raw)
            changed[position] ^= mask
            error = refused(as_cursor(bytes(changed)))
            assert error.field == "cursor", (position, mask)


def test_a_truncated_or_extended_cursor_is_refused() -> None:
    cursor = encode_cursor(LAST_KEY, SCOPE)
    assert cursor is not None
    raw = raw_bytes(cursor)

    assert refused(as_cursor(raw[:-1])).field == "cursor"
    assert refused(as_cursor(raw[:16])).field == "cursor"
    assert refused(as_cursor(raw + b" ")).field == "cursor"


@pytest.mark.parametrize(
    "other_scope",
    [
        "tickets|status-priority|STATUS#abd|TicketQuery(status_id='abd')",
        "tickets|status-newest|STATUS#abc|TicketQuery(status_id='abc')",
        "staff",
        "",
        SCOPE + " ",
    ],
)
def test_a_cursor_for_another_scope_is_refused(other_scope: str) -> None:
    cursor = encode_cursor(LAST_KEY, SCOPE)
    assert cursor is not None

    assert refused(cursor, other_scope).field == "cursor"


def test_a_cursor_signed_with_another_key_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    cursor = encode_cursor(LAST_KEY, SCOPE)
    assert cursor is not None
    get_settings.cache_clear()
    monkeypatch.setenv("HELPDESK_SECRET_KEY", "a-different-secret-key-that-is-long-enough-42")
    try:
        assert refused(cursor).field == "cursor"
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    assert decode_cursor(cursor, SCOPE) == LAST_KEY


def test_an_unsigned_key_is_refused() -> None:
    # A client that knows the format still cannot pick its own start key.
    forged = as_cursor(b"\x00" * 16 + b'{"pk":{"S":"STAFF#x"},"sk":{"S":"PROFILE"}}')

    assert refused(forged).field == "cursor"


@pytest.mark.parametrize(
    "garbage",
    ["garbage", "A", "AAAA", "====", "%%%", "-_-_", "é", "x" * 500, "abc.def", " ", "\x00"],
)
def test_garbage_is_refused_naming_the_cursor(garbage: str) -> None:
    error = refused(garbage)

    assert error.field == "cursor"
    assert error.code == "invalid"
