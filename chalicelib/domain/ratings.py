"""A customer's rating of a closed ticket: one per ticket, which a later rating replaces.

The rating lives in the ticket's partition under ``RATING`` and copies the option's score
and label, so it keeps reading the same after the option is renamed. Its ``ref_pk`` names
the option in the ``refs`` index, where deleting the option finds it in use.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pynamodb.exceptions import TransactWriteError

from chalicelib import clock
from chalicelib.domain.setup import SetupConfig
from chalicelib.errors import Conflict, NotFound
from chalicelib.store.db import condition_failed, get_many, transaction
from chalicelib.store.models import Config, Rating, Ticket
from chalicelib.validation import Field, identifier, parse_fields, text

COMMENT_MAX = 2_000
RATING_SPEC = {
    "rating_option_id": Field(identifier, required=True),
    "comment": Field(text(COMMENT_MAX, multiline=True), nullable=True),
}
NOT_CLOSED = "This ticket is open; it can be rated once it is closed."


@dataclass(frozen=True)
class RatingView:
    """What the rating page needs, read in one batch: the ticket, the setup and the rating
    the customer gave before, if any."""

    ticket: Ticket
    config: SetupConfig
    rating: Rating | None


def read(number: int) -> RatingView:
    """The ticket, the config and the current rating in one ``BatchGetItem``; ``NotFound``
    without a ticket."""
    items = get_many([Ticket.key(number), Config.key(), Rating.key(number)])
    ticket = items.get(Ticket.key(number))
    if not isinstance(ticket, Ticket):
        raise NotFound("No ticket has this number.")
    rating = items.get(Rating.key(number))
    return RatingView(
        ticket, SetupConfig.from_item(items.get(Config.key())), rating if isinstance(rating, Rating) else None
    )


def rate(number: int, config: SetupConfig, body: dict[str, Any]) -> Rating:
    """Record the customer's rating of ticket ``number``, replacing any earlier one.

    ``body`` holds ``rating_option_id`` and an optional ``comment`` (blank counts as none).
    The option must exist (``InvalidInput`` on ``rating_option_id``). Only a closed ticket
    can be rated: the write is conditioned on the ticket being closed at that moment, so a
    reopen racing the rating still wins (``Conflict``).
    """
    comment = body.get("comment")
    if isinstance(comment, str) and not comment.strip():
        # A form always sends its comment box, empty or not: empty means no comment.
        body = {**body, "comment": None}
    values = parse_fields(body, RATING_SPEC)
    option_id = values["rating_option_id"]
    option = config.require("rating_options", option_id, "rating_option_id")

    rating = Rating(
        *Rating.key(number),
        ticket_number=number,
        option_id=option_id,
        score=int(option["score"]),
        label=str(option["label"]),
        comment=values.get("comment"),
        rated_at=clock.now(),
        ref_pk=Rating.option_ref(option_id),
        ref_sk=Ticket.partition(number),
    )
    try:
        with transaction() as writes:
            writes.condition_check(Ticket, *Ticket.key(number), condition=Ticket.closed == True)  # noqa: E712
            writes.save(rating)
    except TransactWriteError as exc:
        if condition_failed(exc):
            raise Conflict(NOT_CLOSED) from exc
        raise
    return rating


def present(rating: Rating) -> dict[str, Any]:
    """A rating as the API shows it: the option as it was when the customer chose it."""
    return {
        "rating_option_id": rating.option_id,
        "score": rating.score,
        "label": rating.label,
        "comment": rating.comment,
        "rated_at": rating.rated_at,
    }
