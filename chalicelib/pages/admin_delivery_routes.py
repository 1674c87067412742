"""The notifications staff look after: a ticket's delivery log, every failed notification
across tickets, and asking for a failed one to be sent again.

Each GET page is the sign-in batch and one query:

- a ticket's delivery log (``/admin/tickets/{number}/deliveries``): the ticket and the staff
  directory (who asked for each re-send) in the batch, then one page of its deliveries;
- failed notifications (``/admin/deliveries/failed``): the staff directory in the batch,
  then one page of the ``refs`` index under ``FAILED_DELIVERY``, newest first.

A re-send is recorded by ``chalicelib.domain.deliveries`` and sent by the stream handler,
so these pages load neither the templates nor the providers' clients.
"""

from __future__ import annotations

from typing import Any

from chalice.app import Blueprint, Response

from chalicelib.domain import deliveries, staff_directory, tickets
from chalicelib.domain.staff import StaffContext
from chalicelib.errors import Conflict, InvalidInput, NotFound
from chalicelib.observability import count, logger
from chalicelib.pages import web
from chalicelib.pages.admin_web import (
    PREFIX,
    admin_view,
    checked_form,
    page,
    signed_in,
    ticket_in,
)
from chalicelib.store.models import Delivery, Ticket
from chalicelib.validation import is_identifier

bp = Blueprint(__name__)

FAILED = f"{PREFIX}/deliveries/failed"
PAGE_SIZE = 25
OUTCOMES = {
    "sent": "Sent",
    "failed": "Failed",
    "resend_requested": "Re-send requested",
    "resent": "Sent again",
    "cancelled": "Cancelled",
}
MESSAGES = {
    "ticket_created": "Ticket received",
    "public_reply": "Public reply",
    "status_changed": "Status changed",
    "ticket_closed": "Ticket closed",
    "customer_replied": "Customer replied",
}
CHANNELS = {"email": "Email", "sms": "Text message"}
DONE = {
    "resend": "The message will be sent again in a moment; the new attempt appears in the ticket's log.",
    "already": "This message was already sent again, or is being sent again.",
}
# Where the re-send form came from, and so where its answer goes back to.
RETURN_FIELD = "back"


def _log_path(number: int) -> str:
    return f"{PREFIX}/tickets/{number}/deliveries"


@bp.route("/admin/tickets/{number}/deliveries", methods=["GET"])
@admin_view
def ticket_log(number: str) -> Response:
    """The notifications sent about the ticket, newest first, with re-send for failed ones
    and who asked for each re-send (named from the staff directory in the batch)."""
    wanted = tickets.number_or_none(number)
    context = signed_in(bp, [*([Ticket.key(wanted)] if wanted is not None else []), staff_directory.key()])
    ticket = ticket_in(context, wanted)
    params = web.query(bp.current_request)
    cursor = params.get("cursor")
    try:
        found, next_cursor = deliveries.deliveries_page(ticket.number, PAGE_SIZE, cursor)
    except InvalidInput:  # an altered cursor, or another ticket's: the newest
        found, next_cursor = deliveries.deliveries_page(ticket.number, PAGE_SIZE, None)
        cursor = None
    return _page(
        "admin/ticket_deliveries.html",
        context,
        found,
        ticket=ticket,
        nav="tickets",
        next_cursor=next_cursor,
        first_page=not cursor,
    )


@bp.route("/admin/deliveries/failed", methods=["GET"])
@admin_view
def failed_list() -> Response:
    """Every failed notification not yet sent again, newest first, across all tickets."""
    context = signed_in(bp, [staff_directory.key()])
    params = web.query(bp.current_request)
    cursor = params.get("cursor")
    try:
        found, next_cursor = deliveries.failed_page(PAGE_SIZE, cursor)
    except InvalidInput:  # an altered cursor: the newest
        found, next_cursor = deliveries.failed_page(PAGE_SIZE, None)
        cursor = None
    return _page(
        "admin/deliveries_failed.html",
        context,
        found,
        nav="dashboard",
        next_cursor=next_cursor,
        first_page=not cursor,
    )


def _page(template: str, context: StaffContext, found: list[Delivery], **values: Any) -> Response:
    params = web.query(bp.current_request)
    return page(
        template,
        context,
        deliveries=found,
        done=DONE.get(params.get("done", "")),
        outcomes=OUTCOMES,
        messages=MESSAGES,
        channels=CHANNELS,
        requested_by=_requesters(context, found),
        **values,
    )


def _requesters(context: StaffContext, found: list[Delivery]) -> dict[str, str]:
    """Who asked for each re-send on the page, by delivery id: their name as the directory
    has it now, else as the signed-in staff member's own, else unnamed."""
    directory = staff_directory.of(context.items)
    names: dict[str, str] = {}
    for delivery in found:
        staff_id = delivery.resend_requested_by
        if not staff_id:
            continue
        name = directory.name_of(staff_id) if directory else None
        if name is None and staff_id == context.staff.id:
            name = context.staff.name
        names[delivery.id] = name or "a staff member"
    return names


@bp.route(
    "/admin/tickets/{number}/deliveries/{delivery_id}/resend", methods=["POST"], content_types=[web.FORM]
)
@admin_view
def resend(number: str, delivery_id: str) -> Response:
    """Ask for a failed notification to be sent again; the stream handler sends it. The answer
    goes back to the page the form was on: the ticket's log, or the failed list."""
    wanted = tickets.number_or_none(number)
    key = Delivery.key(wanted, delivery_id) if wanted is not None and is_identifier(delivery_id) else None
    context = signed_in(bp, [key] if key else [])
    form = checked_form(bp, context, (RETURN_FIELD,))
    found = context.items.get(key) if key else None
    if not isinstance(found, Delivery):
        raise NotFound("This ticket has no delivery with this id.")

    back = FAILED if form.get(RETURN_FIELD) == "failed" else _log_path(found.ticket_number)
    try:
        deliveries.request_resend(found, context.staff)
    except Conflict:
        return web.redirect(f"{back}?done=already")
    count("ResendsRequested")
    logger.info("delivery re-send requested", extra={"ticket_number": wanted, "delivery_id": found.id})
    return web.redirect(f"{back}?done=resend")
