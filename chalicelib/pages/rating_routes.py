"""``/rate/{token}``: the page a rating link in a close notice opens.

No login: the signed token (``chalicelib.notify.links``) is the only credential, and it
names one ticket. ``GET`` only shows the choice, so a mail scanner or a link preview that
follows the link records nothing; the form's ``POST`` records or changes the rating. The
pages are plain HTML forms, no script, and a bad token gets one page that tells nothing
about any ticket.
"""

from __future__ import annotations

from typing import Any

from chalice.app import Blueprint, Response

from chalicelib.domain import ratings
from chalicelib.errors import Conflict, HelpdeskError, InvalidInput, MalformedRequest, NotFound, TooLarge
from chalicelib.notify.links import verify_rating_token
from chalicelib.observability import count, logger
from chalicelib.pages.web import FORM, form_fields
from chalicelib.rendering import html_response, render

bp = Blueprint(__name__)

MAX_FORM_BYTES = 16 * 1024  # a 2,000-character comment, percent-encoded, fits many times over
FORM_FIELDS = ("rating_option_id", "comment")

_MESSAGE_PAGES: dict[type[HelpdeskError], tuple[int, str]] = {
    NotFound: (404, "Link not valid"),
    Conflict: (409, "Not ready for a rating"),
    TooLarge: (413, "Too much text"),
    MalformedRequest: (400, "Something went wrong"),
}


@bp.route("/rate/{token}", methods=["GET"])
def rating_page(token: str) -> Response:
    """The rating form of the token's ticket, with the option the link named (or the
    customer's earlier choice) selected. Reads only."""
    try:
        number = verify_rating_token(token)
        view = ratings.read(number)
        if not view.ticket.closed:
            raise Conflict(ratings.NOT_CLOSED)
    except HelpdeskError as exc:
        return _message_page(exc)

    logger.append_keys(ticket_number=number)
    params: dict[str, str] = dict(bp.current_request.query_params or {})
    linked = params.get("option")
    earlier = view.rating
    selected = linked if linked else (earlier.option_id if earlier else None)
    comment = earlier.comment if earlier and earlier.comment else ""
    return _form_page(token, view, selected=selected, comment=comment)


@bp.route("/rate/{token}", methods=["POST"], content_types=[FORM])
def submit_rating(token: str) -> Response:
    """Record the rating the form sends, or change the earlier one, and say thank you."""
    try:
        number = verify_rating_token(token)
        view = ratings.read(number)
    except HelpdeskError as exc:
        return _message_page(exc)

    logger.append_keys(ticket_number=number)
    form: dict[str, str] = {}
    try:
        form = form_fields(bp.current_request, FORM_FIELDS, MAX_FORM_BYTES)
        rating = ratings.rate(number, view.config, dict(form))
    except InvalidInput as exc:
        # The form again, as the customer filled it in, with what to correct.
        return _form_page(
            token,
            view,
            selected=form.get("rating_option_id"),
            comment=form.get("comment", ""),
            error=exc,
            status=422,
        )
    except HelpdeskError as exc:
        return _message_page(exc)

    logger.info("ticket rated", extra={"score": rating.score, "changed": view.rating is not None})
    count("TicketsRated")
    return html_response(render("rating/thanks.html", number=number, rating=rating, token=token))


def _form_page(
    token: str,
    view: ratings.RatingView,
    *,
    selected: str | None,
    comment: str,
    error: InvalidInput | None = None,
    status: int = 200,
) -> Response:
    body = render(
        "rating/confirm.html",
        token=token,
        number=view.ticket.number,
        subject=view.ticket.subject,
        options=view.config.ordered("rating_options"),
        selected=selected,
        comment=comment,
        comment_max=ratings.COMMENT_MAX,
        current=view.rating,
        error=error,
    )
    return html_response(body, status)


def _message_page(exc: HelpdeskError) -> Response:
    """A page with only a heading and the error's message. For a bad token that message is
    the same whatever was wrong with it."""
    status, heading = next(
        (page for kind, page in _MESSAGE_PAGES.items() if isinstance(exc, kind)),
        (400, "Something went wrong"),
    )
    context: dict[str, Any] = {"heading": heading, "message": exc.message}
    if isinstance(exc, NotFound):
        # Also for a valid token whose ticket is gone: the page must not tell the two apart.
        context["message"] = "This link is not valid or has expired."
    return html_response(render("rating/message.html", **context), status)
