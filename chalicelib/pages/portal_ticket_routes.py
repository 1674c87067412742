"""``/portal/tickets``: a customer's own tickets, a new one, the conversation, replies and
the rating.

Every route reads the ticket and then checks it belongs to the signed-in contact; another
contact's ticket number answers exactly as a number that does not exist (404, nothing of
it shown), for reading, replying and rating alike. Fields a customer may not set, such as
status or service level, are not form fields at all.
"""

from __future__ import annotations

from typing import Any

from chalice.app import Blueprint, Response

from chalicelib.domain import ratings, ticket_lists, ticket_notes, tickets
from chalicelib.domain.portal_auth import PortalContext
from chalicelib.errors import InvalidInput, NotFound
from chalicelib.observability import count, logger
from chalicelib.pages import web
from chalicelib.pages.portal_web import PREFIX, checked_form, page, portal_view, signed_in
from chalicelib.store.models import Rating, Ticket
from chalicelib.validation import Field, identifier, parse_fields, text

bp = Blueprint(__name__)

PAGE_SIZE = 20
NEW_TICKET_SPEC = {
    "subject": Field(text(200), required=True),
    "body": Field(text(20_000, multiline=True), required=True),
    "category_id": Field(identifier, nullable=True),
}
NOT_YOURS = "No ticket of yours has this number."


def _signed_in_with_own(number: str) -> tuple[PortalContext, Ticket]:
    """The signed-in contact and their ticket of this number, read in the session batch. An
    impossible number is not refused before: the portal's gate and the sign-in answer
    first, and it then reads as a ticket that is not the contact's."""
    wanted = tickets.number_or_none(number)
    context = signed_in(bp, [Ticket.key(wanted)] if wanted is not None else [])
    return context, _own(context, context.items.get(Ticket.key(wanted)) if wanted is not None else None)


def _own(context: PortalContext, ticket: Any) -> Ticket:
    """The ticket if it is the signed-in contact's; otherwise not found, as if it did not exist."""
    if not isinstance(ticket, Ticket) or ticket.contact_id != context.contact.id:
        raise NotFound(NOT_YOURS)
    logger.append_keys(ticket_number=ticket.number)
    return ticket


# -- the list ------------------------------------------------------------------------


@bp.route("/portal/tickets", methods=["GET"])
@portal_view
def ticket_list() -> Response:
    """The contact's tickets, a page at a time: open ones first (the most urgent, then the
    earliest due), then closed ones; or only the open or the closed ones. The priority index
    keeps the state first in its key, so every page is full and read in one query."""
    context = signed_in(bp)
    params = web.query(bp.current_request)
    state = params.get("state") if params.get("state") in ("open", "closed") else None
    query = ticket_lists.TicketQuery(contact_id=context.contact.id, state=state, order="priority")
    try:
        found, cursor = ticket_lists.list_page(query, PAGE_SIZE, params.get("cursor"))
    except InvalidInput:  # a cursor altered or from another list: start from the top
        found, cursor = ticket_lists.list_page(query, PAGE_SIZE, None)
    return page(
        "portal/tickets.html",
        context=context,
        nav="tickets",
        tickets=found,
        state=state,
        next_cursor=cursor,
        status_label=lambda ticket: tickets.customer_status(context.config, ticket),
    )


# -- a new ticket --------------------------------------------------------------------


@bp.route("/portal/tickets/new", methods=["GET"])
@portal_view
def new_ticket_page() -> Response:
    context = signed_in(bp)
    return _new_ticket_form(context, {})


@bp.route("/portal/tickets/new", methods=["POST"], content_types=[web.FORM])
@portal_view
def create_ticket() -> Response:
    """Open a ticket for the signed-in contact: their own default service level and the
    setup's default status apply, as for a ticket staff add."""
    context = signed_in(bp)
    form = checked_form(bp, ("subject", "body", "category_id"), context.session_hash)
    try:
        values = parse_fields({**form, "category_id": form.get("category_id") or None}, NEW_TICKET_SPEC)
        ticket = tickets.open_ticket(
            context.config,
            context.contact,
            values,
            source="portal",
            created_by=f"contact:{context.contact.id}",
        )
    except InvalidInput as exc:
        return _new_ticket_form(context, form, exc, 422)
    count("TicketsCreated")
    logger.info("ticket created", extra={"ticket_number": ticket.number, "source": "portal"})
    return web.redirect(f"{PREFIX}/tickets/{ticket.number}?created=1")


def _new_ticket_form(
    context: PortalContext, form: dict[str, str], error: InvalidInput | None = None, status: int = 200
) -> Response:
    return page(
        "portal/new_ticket.html",
        context=context,
        nav="tickets",
        status=status,
        categories=context.config.ordered("categories"),
        form=form,
        error=error,
    )


# -- one ticket ----------------------------------------------------------------------


@bp.route("/portal/tickets/{number}", methods=["GET"])
@portal_view
def ticket_page(number: str) -> Response:
    """The ticket, its customer-facing status, its public notes (never a private one), the
    reply form, and the rating form once it is closed: the session batch and one query."""
    wanted = tickets.number_or_none(number)
    context = signed_in(bp)
    if wanted is None:
        raise NotFound(NOT_YOURS)
    conversation = _conversation(context, wanted)
    params = web.query(bp.current_request)
    return _conversation_page(context, conversation, created=params.get("created") == "1")


@bp.route("/portal/tickets/{number}/reply", methods=["POST"], content_types=[web.FORM])
@portal_view
def reply(number: str) -> Response:
    """Add the customer's reply; the ticket moves to the status set for customer replies."""
    context, ticket = _signed_in_with_own(number)
    form = checked_form(bp, ("body",), context.session_hash)
    author = ticket_notes.Author(kind="contact", id=context.contact.id, name=context.contact.name)
    try:
        ticket_notes.add_customer_reply(ticket, author, form, context.config)
    except InvalidInput as exc:
        conversation = _conversation(context, ticket.number)
        return _conversation_page(context, conversation, reply_error=exc, reply_body=form.get("body", ""))
    count("CustomerReplies")
    return web.redirect(f"{PREFIX}/tickets/{ticket.number}#latest")


@bp.route("/portal/tickets/{number}/rating", methods=["POST"], content_types=[web.FORM])
@portal_view
def rate(number: str) -> Response:
    """Record the customer's rating of a closed ticket, or change it."""
    context, ticket = _signed_in_with_own(number)
    form = checked_form(bp, ("rating_option_id", "comment"), context.session_hash)
    try:
        ratings.rate(ticket.number, context.config, form)
    except InvalidInput as exc:
        conversation = _conversation(context, ticket.number)
        return _conversation_page(context, conversation, rating_error=exc, rating_form=form)
    count("TicketsRated")
    return web.redirect(f"{PREFIX}/tickets/{ticket.number}?rated=1#rating")


def _conversation(context: PortalContext, number: int) -> ticket_notes.Conversation:
    """The ticket with its public notes, if it is the contact's; one query."""
    try:
        conversation = ticket_notes.get_with_notes(number, public_only=True)
    except NotFound as exc:
        raise NotFound(NOT_YOURS) from exc
    _own(context, conversation.ticket)
    return conversation


def _conversation_page(
    context: PortalContext,
    conversation: ticket_notes.Conversation,
    *,
    status: int | None = None,
    **values: Any,
) -> Response:
    ticket = conversation.ticket
    errors = [values.get("reply_error"), values.get("rating_error")]
    rating: Rating | None = conversation.rating
    return page(
        "portal/ticket.html",
        context=context,
        nav="tickets",
        status=status or (422 if any(errors) else 200),
        ticket=ticket,
        status_label=tickets.customer_status(context.config, ticket),
        category=context.config.entry("categories", ticket.category_id),
        notes=conversation.notes,
        rating=rating,
        rating_options=context.config.ordered("rating_options"),
        comment_max=ratings.COMMENT_MAX,
        rated=web.query(bp.current_request).get("rated") == "1",
        **{
            "created": False,
            "reply_error": None,
            "reply_body": "",
            "rating_error": None,
            "rating_form": {},
            **values,
        },
    )
