"""``Outgoing`` as a failed delivery keeps it: what is read back is what was planned."""

from __future__ import annotations

import json

import pytest

from chalicelib.notify.messages import MessageContext, Outgoing, RatingLink


def closing_message() -> Outgoing:
    context = MessageContext(
        ticket_number=1001,
        ticket_subject="Printer on fire <b>now</b>",
        contact_name="Cleo Ng",
        ticket_url="https://help.example.com/portal/tickets/1001",
        status_label="Solved",
        note_body="Line one\nLine two",
        note_author=None,
        rating_links=(
            RatingLink("Great", "https://help.example.com/rate/a"),
            RatingLink("Poor", "https://help.example.com/rate/b"),
        ),
    )
    return Outgoing(channel="email", to="cleo@example.com", template="ticket_closed", context=context)


def test_a_kept_message_reads_back_equal_with_its_rating_links_in_order() -> None:
    message = closing_message()

    assert Outgoing.from_json(message.to_json()) == message


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "[]",
        json.dumps({"channel": "fax", "to": "x", "template": "ticket_closed", "context": {}}),
        json.dumps({"channel": "email", "to": "x", "template": "unknown", "context": {}}),
        json.dumps({"channel": "email", "to": "x", "template": "ticket_closed", "context": {"bogus": 1}}),
    ],
)
def test_anything_else_is_a_value_error(text: str) -> None:
    with pytest.raises(ValueError, match=r"kept message|unknown channel"):
        Outgoing.from_json(text)
