"""``/api/contacts``: contacts, their tickets, ledger and statement."""

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
    path_id,
    query_params,
    staff_context,
)
from chalicelib.domain import contacts, ledger, portal_access, ticket_lists, tickets
from chalicelib.errors import NotFound
from chalicelib.store.db import Key
from chalicelib.store.models import Contact, Item
from chalicelib.validation import email as parse_email

bp = Blueprint(__name__)


@bp.route("/contacts", methods=["GET"])
@endpoint
def list_contacts() -> Response:
    """List contacts by name (optionally a name prefix), or find the one with an email."""
    staff_context(bp)
    params = query_params(bp.current_request, ["email", "name", "limit", "cursor"])
    if "email" in params:
        try:
            address = parse_email(params["email"])
        except ValueError:
            return json_response(page([], None))
        found = contacts.find_by_email(address)
        return json_response(page([contacts.present(found)] if found else [], None))
    found_page, cursor = contacts.list_page(params.get("name"), page_size(params), params.get("cursor"))
    return json_response(page([contacts.present(contact) for contact in found_page], cursor))


@bp.route("/contacts", methods=["POST"])
@endpoint
def create_contact() -> Response:
    """Create a contact."""
    context = staff_context(bp)
    no_query_params(bp.current_request)
    contact = contacts.create(context.config, json_body(bp.current_request))
    return json_response(contacts.present(contact), 201)


def _contact(context_items: dict[Key, Item], contact_id: str) -> Contact:
    found = context_items.get(Contact.key(contact_id))
    if not isinstance(found, Contact):
        raise NotFound("No contact has this id.")
    return found


@bp.route("/contacts/{contact_id}", methods=["GET"])
@endpoint
def get_contact(contact_id: str) -> Response:
    """Read one contact."""
    context = staff_context(bp, keys_for_ids((contact_id, Contact.key)))
    no_query_params(bp.current_request)
    return json_response(contacts.present(_contact(context.items, contact_id)))


@bp.route("/contacts/{contact_id}", methods=["PATCH"])
@endpoint
def update_contact(contact_id: str) -> Response:
    """Change some of a contact's fields, under the version they were read at."""
    context = staff_context(bp, keys_for_ids((contact_id, Contact.key)))
    no_query_params(bp.current_request)
    body = json_body(bp.current_request)
    contact = contacts.update(context.config, _contact(context.items, contact_id), body)
    return json_response(contacts.present(contact))


@bp.route("/contacts/{contact_id}/portal-invite", methods=["POST"])
@endpoint
def invite_contact(contact_id: str) -> Response:
    """Invite the contact to the portal: an email with a link to set a password follows
    (through the stream), so the answer is 202 with the contact now ``invited``. Sending it
    again sends a new link; a contact already using the portal, or shut out, is a 409."""
    context = staff_context(bp, keys_for_ids((contact_id, Contact.key)))
    no_query_params(bp.current_request)
    contact = portal_access.invite(_contact(context.items, contact_id))
    return json_response(contacts.present(contact), 202)


@bp.route("/contacts/{contact_id}/tickets", methods=["GET"])
@endpoint
def contact_tickets(contact_id: str) -> Response:
    """List a contact's tickets, newest first unless asked for priority order."""
    # The contact rides along in the auth batch: an unknown contact is a 404, not an empty
    # list, without a third round trip.
    context = staff_context(bp, keys_for_ids((contact_id, Contact.key)))
    params = query_params(bp.current_request, ["order", "state", "limit", "cursor"])
    query = ticket_lists.TicketQuery(
        contact_id=contact_id,
        order=choice_param(params, "order", ("newest", "priority"), "newest") or "newest",
        state=choice_param(params, "state", ("open", "closed"), None),
    )
    _contact(context.items, contact_id)
    found, cursor = ticket_lists.list_page(query, page_size(params), params.get("cursor"))
    return json_response(page([tickets.present(ticket) for ticket in found], cursor))


@bp.route("/contacts/{contact_id}/transactions", methods=["POST"])
@endpoint
def add_transaction(contact_id: str) -> Response:
    """Add an invoice, payment or credit note to a contact's ledger."""
    context = staff_context(bp)
    no_query_params(bp.current_request)
    path_id(contact_id, "contact")
    entry = ledger.add_entry(contact_id, json_body(bp.current_request), f"staff:{context.staff.id}")
    return json_response(ledger.present(entry), 201)


@bp.route("/contacts/{contact_id}/statement", methods=["GET"])
@endpoint
def statement(contact_id: str) -> Response:
    """A contact's ledger in date order, with running and outstanding balances per currency."""
    staff_context(bp)
    no_query_params(bp.current_request)
    path_id(contact_id, "contact")
    return json_response(ledger.statement(contact_id))
