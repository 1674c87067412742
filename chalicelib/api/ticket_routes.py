"""``/api/tickets``: the staff view of every ticket, its notes and its changes."""

from __future__ import annotations

from chalice.app import Blueprint, Response

from chalicelib.api.http import (
    choice_param,
    endpoint,
    json_body,
    json_response,
    keys_for_ids,
    no_query_params,
    page,
    page_size,
    peek_body,
    query_params,
    staff_context,
)
from chalicelib.domain import deliveries, ratings, ticket_changes, ticket_lists, ticket_notes, tickets
from chalicelib.errors import InvalidInput, NotFound
from chalicelib.observability import count, logger
from chalicelib.store.models import Contact, Delivery, Staff, Ticket
from chalicelib.validation import identifier, is_identifier

bp = Blueprint(__name__)

LIST_PARAMS = (
    "number",
    "status_id",
    "category_id",
    "service_level_id",
    "assignee_id",
    "contact_id",
    "overdue",
    "state",
    "order",
    "limit",
    "cursor",
)


def _id_param(params: dict[str, str], name: str) -> str | None:
    value = params.get(name)
    if value is None or value == "none":
        return value
    try:
        return identifier(value)
    except ValueError as exc:
        raise InvalidInput(f"'{name}' {exc}", field=name) from exc


@bp.route("/tickets", methods=["GET"])
@endpoint
def list_tickets() -> Response:
    """List tickets by the filters and order given, or find the one with a number."""
    staff_context(bp)
    params = query_params(bp.current_request, LIST_PARAMS)
    if "number" in params:
        try:
            number = tickets.parse_number(params["number"])
        except NotFound as exc:
            raise InvalidInput("'number' must be a ticket number: up to 10 digits.", field="number") from exc
        found = tickets.find_by_number(number)
        return json_response(page([tickets.present(found)] if found else [], None))

    overdue = choice_param(params, "overdue", ("true", "false"), "false") == "true"
    query = ticket_lists.TicketQuery(
        status_id=_id_param(params, "status_id"),
        category_id=_id_param(params, "category_id"),
        service_level_id=_id_param(params, "service_level_id"),
        assignee_id=_id_param(params, "assignee_id"),
        contact_id=_id_param(params, "contact_id"),
        overdue=overdue,
        state=choice_param(params, "state", ("open", "closed"), None),
        order=choice_param(params, "order", ("priority", "newest"), "priority") or "priority",
    )
    found_page, cursor = ticket_lists.list_page(query, page_size(params), params.get("cursor"))
    return json_response(page([tickets.present(ticket) for ticket in found_page], cursor))


@bp.route("/tickets", methods=["POST"])
@endpoint
def create_ticket() -> Response:
    """Open a ticket for a contact."""
    request = bp.current_request
    contact_id = peek_body(request).get("contact_id")
    context = staff_context(bp, keys_for_ids((contact_id, Contact.key)))
    no_query_params(request)
    body = json_body(request)
    contact = next((item for item in context.items.values() if isinstance(item, Contact)), None)
    ticket = tickets.create(
        context.config, contact, body, source="staff", created_by=f"staff:{context.staff.id}"
    )
    logger.append_keys(ticket_number=ticket.number)
    count("TicketsCreated")
    return json_response(tickets.present(ticket), 201, {"Location": f"/api/tickets/{ticket.number}"})


def _ticket_number(ticket_id: str) -> int | None:
    """The number in the path, or None: the route authenticates before it answers 404."""
    number = tickets.number_or_none(ticket_id)
    if number is not None:
        logger.append_keys(ticket_number=number)
    return number


@bp.route("/tickets/{ticket_id}", methods=["GET"])
@endpoint
def get_ticket(ticket_id: str) -> Response:
    """Read a ticket with its newest notes, public and private, and changes (its audit
    trail), the cursor to older ones and the customer's rating, all from one query of the
    ticket's partition."""
    staff_context(bp)
    no_query_params(bp.current_request)
    number = _ticket_number(ticket_id)
    if number is None:
        raise NotFound("No ticket has this number.")
    conversation = ticket_notes.get_with_notes(number)
    return json_response(
        {
            **tickets.present(conversation.ticket),
            "notes": [ticket_notes.present_note(note) for note in conversation.notes],
            "changes": [ticket_changes.present_change(change) for change in conversation.changes],
            "notes_cursor": conversation.notes_cursor,
            "rating": ratings.present(conversation.rating) if conversation.rating else None,
        }
    )


@bp.route("/tickets/{ticket_id}", methods=["PATCH"])
@endpoint
def update_ticket(ticket_id: str) -> Response:
    """Change a ticket's status, category, service level or assignee, under its version."""
    request = bp.current_request
    number = _ticket_number(ticket_id)
    assignee_id = peek_body(request).get("assignee_id")
    extra = keys_for_ids((assignee_id, Staff.key))
    if number is not None:
        extra.append(Ticket.key(number))
    context = staff_context(bp, extra)
    no_query_params(request)
    body = json_body(request)

    ticket = context.items.get(Ticket.key(number)) if number is not None else None
    if not isinstance(ticket, Ticket):
        raise NotFound("No ticket has this number.")
    assignee = next(
        (item for item in context.items.values() if isinstance(item, Staff) and item.id == assignee_id),
        None,
    )
    actor = ticket_notes.Author(kind="staff", id=context.staff.id, name=context.staff.name)
    updated, _ = tickets.update(context.config, ticket, body, assignee, actor=actor)
    return json_response(tickets.present(updated))


@bp.route("/tickets/{ticket_id}/notes", methods=["POST"])
@endpoint
def add_note(ticket_id: str) -> Response:
    """Add a public or private note to a ticket."""
    context = staff_context(bp)
    number = _ticket_number(ticket_id)
    no_query_params(bp.current_request)
    body = json_body(bp.current_request)
    if number is None:
        raise NotFound("No ticket has this number.")
    author = ticket_notes.Author(kind="staff", id=context.staff.id, name=context.staff.name)
    note = ticket_notes.add_note(number, body, author)
    return json_response(ticket_notes.present_note(note), 201)


def _existing_ticket_page(ticket_id: str) -> tuple[int, dict[str, str]]:
    """The number of an existing ticket and the page parameters, for a list under it.

    The ticket rides in the auth batch: an unknown ticket is a 404, not an empty page,
    without a third round trip.
    """
    number = _ticket_number(ticket_id)
    context = staff_context(bp, [Ticket.key(number)] if number is not None else [])
    params = query_params(bp.current_request, ("limit", "cursor"))
    if number is None or not isinstance(context.items.get(Ticket.key(number)), Ticket):
        raise NotFound("No ticket has this number.")
    return number, params


@bp.route("/tickets/{ticket_id}/notes", methods=["GET"])
@endpoint
def list_notes(ticket_id: str) -> Response:
    """Page back through a ticket's notes, from the newest."""
    number, params = _existing_ticket_page(ticket_id)
    notes, cursor = ticket_notes.notes_page(number, page_size(params), params.get("cursor"))
    return json_response(page([ticket_notes.present_note(note) for note in notes], cursor))


@bp.route("/tickets/{ticket_id}/deliveries", methods=["GET"])
@endpoint
def list_deliveries(ticket_id: str) -> Response:
    """The ticket's notification attempts, newest first, failures with their reason: what
    staff look at when a customer says they heard nothing."""
    number, params = _existing_ticket_page(ticket_id)
    found, cursor = deliveries.deliveries_page(number, page_size(params), params.get("cursor"))
    return json_response(page([deliveries.present(item) for item in found], cursor))


@bp.route("/tickets/{ticket_id}/deliveries/{delivery_id}/resend", methods=["POST"])
@endpoint
def resend_delivery(ticket_id: str, delivery_id: str) -> Response:
    """Ask for a failed notification to be sent again. The stream handler sends it, so the
    answer is 202 with the entry now ``resend_requested``; the ticket's delivery log shows
    the new attempt (``resent_as``) a moment later. Two round trips: the auth batch carries
    the ticket and the entry, then one transaction (a third only for a failure logged
    before tickets counted them; see ``deliveries.request_resend``)."""
    number = _ticket_number(ticket_id)
    key = Delivery.key(number, delivery_id) if number is not None and is_identifier(delivery_id) else None
    context = staff_context(bp, [key] if key else [])
    no_query_params(bp.current_request)
    found = context.items.get(key) if key else None
    if not isinstance(found, Delivery):
        raise NotFound("This ticket has no delivery with this id.")
    requested = deliveries.request_resend(found, context.staff)
    count("ResendsRequested")
    logger.info("delivery re-send requested", extra={"ticket_number": number, "delivery_id": found.id})
    return json_response(deliveries.present(requested), 202)


@bp.route("/deliveries/failed", methods=["GET"])
@endpoint
def list_failed_deliveries() -> Response:
    """Every failed notification not yet sent again, newest first, across all tickets."""
    staff_context(bp)
    params = query_params(bp.current_request, ("limit", "cursor"))
    found, cursor = deliveries.failed_page(page_size(params), params.get("cursor"))
    return json_response(page([deliveries.present(item) for item in found], cursor))
