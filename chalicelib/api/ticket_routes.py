"""``/api/tickets``: the staff view of every ticket, its notes and its changes."""

from __future__ import annotations

from chalice.app import Blueprint, Response

from chalicelib.api.http import (
    choice_param,
    endpoint,
    json_body,
    json_response,
    page,
    page_size,
    query_params,
    staff_context,
)
from chalicelib.domain import tickets
from chalicelib.errors import InvalidInput, NotFound
from chalicelib.store.db import Key
from chalicelib.store.models import Contact, Staff, Ticket
from chalicelib.validation import identifier

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
    query = tickets.TicketQuery(
        status_id=_id_param(params, "status_id"),
        category_id=_id_param(params, "category_id"),
        service_level_id=_id_param(params, "service_level_id"),
        assignee_id=_id_param(params, "assignee_id"),
        contact_id=_id_param(params, "contact_id"),
        overdue=overdue,
        state=choice_param(params, "state", ("open", "closed"), None),
        order=choice_param(params, "order", ("priority", "newest"), "priority") or "priority",
    )
    found_page, cursor = tickets.list_page(query, page_size(params), params.get("cursor"))
    return json_response(page([tickets.present(ticket) for ticket in found_page], cursor))


@bp.route("/tickets", methods=["POST"])
@endpoint
def create_ticket() -> Response:
    body = json_body(bp.current_request)
    contact_id = body.get("contact_id")
    contact_key = Contact.key(contact_id) if isinstance(contact_id, str) and contact_id else None
    context = staff_context(bp, [contact_key] if contact_key else [])
    contact = context.items.get(contact_key) if contact_key else None
    ticket = tickets.create(
        context.config,
        contact if isinstance(contact, Contact) else None,
        body,
        source="staff",
        created_by=f"staff:{context.staff.id}",
    )
    return json_response(tickets.present(ticket), 201, {"Location": f"/api/tickets/{ticket.number}"})


@bp.route("/tickets/{ticket_id}", methods=["GET"])
@endpoint
def get_ticket(ticket_id: str) -> Response:
    staff_context(bp)
    ticket, notes = tickets.get_with_notes(tickets.parse_number(ticket_id))
    return json_response({**tickets.present(ticket), "notes": [tickets.present_note(note) for note in notes]})


@bp.route("/tickets/{ticket_id}", methods=["PATCH"])
@endpoint
def update_ticket(ticket_id: str) -> Response:
    number = tickets.parse_number(ticket_id)
    body = json_body(bp.current_request)
    assignee_id = body.get("assignee_id")
    extra: list[Key] = [Ticket.key(number)]
    if isinstance(assignee_id, str) and assignee_id:
        extra.append(Staff.key(assignee_id))
    context = staff_context(bp, extra)
    ticket = context.items.get(Ticket.key(number))
    if not isinstance(ticket, Ticket):
        raise NotFound("No ticket has this number.")
    assignee = (
        context.items.get(Staff.key(assignee_id)) if isinstance(assignee_id, str) and assignee_id else None
    )
    updated, _ = tickets.update(
        context.config, ticket, body, assignee if isinstance(assignee, Staff) else None
    )
    return json_response(tickets.present(updated))


@bp.route("/tickets/{ticket_id}/notes", methods=["POST"])
@endpoint
def add_note(ticket_id: str) -> Response:
    number = tickets.parse_number(ticket_id)
    context = staff_context(bp)
    author = tickets.Author(kind="staff", id=context.staff.id, name=context.staff.name)
    note = tickets.add_note(number, json_body(bp.current_request), author)
    return json_response(tickets.present_note(note), 201)
