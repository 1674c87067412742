"""``/t/{token}``: one ticket, read only, for a customer who has no portal login.

The link in a customer's message leads here when they cannot sign in to the portal (it is
off, or they raised the ticket from a website and never set a password). The signed token
(``chalicelib.notify.links``) names one ticket and is the only credential; the page shows
what the portal would (the customer's status label and the public replies, never a private
note or a staff-only name) and changes nothing.
"""

from __future__ import annotations

from chalice.app import Blueprint, Response

from chalicelib.domain import setup, ticket_notes, tickets
from chalicelib.errors import NotFound
from chalicelib.notify.links import verify_ticket_view_token
from chalicelib.observability import logger
from chalicelib.rendering import html_response, render

bp = Blueprint(__name__)


@bp.route("/t/{token}", methods=["GET"])
def ticket_view(token: str) -> Response:
    """The ticket the token names; one page for every kind of bad link."""
    try:
        number = verify_ticket_view_token(token)
        conversation = ticket_notes.get_with_notes(number, public_only=True)
    except NotFound:
        body = render("ticket_link/invalid.html")
        return html_response(body, 404)
    logger.append_keys(ticket_number=number)
    config = setup.load()
    ticket = conversation.ticket
    return html_response(
        render(
            "ticket_link/ticket.html",
            ticket=ticket,
            status_label=tickets.customer_status(config, ticket),
            notes=conversation.notes,
            portal_enabled=bool(config.settings.get("portal_enabled")),
        )
    )
