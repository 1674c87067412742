"""``/portal``: sign-in, sign-out and the overview of the customer portal."""

from __future__ import annotations

from chalice.app import Blueprint, Response

from chalicelib.domain import activity, ledger, portal_auth, ticket_lists, tickets
from chalicelib.errors import InvalidInput, NotAuthenticated
from chalicelib.observability import count, logger
from chalicelib.pages import statements, web
from chalicelib.pages.portal_web import (
    PREFIX,
    SESSION_COOKIE,
    SESSION_COOKIE_AGE,
    anonymous,
    checked_form,
    client_address,
    page,
    portal_view,
    signed_in,
)
from chalicelib.store.models import ContactActivity

bp = Blueprint(__name__)

# Open tickets on the overview.
OVERVIEW_TICKETS = 10


@bp.route("/portal/login", methods=["GET"])
@portal_view
def login_page() -> Response:
    visit = anonymous(bp)
    params = web.query(bp.current_request)
    target = web.safe_next(params.get("next"), PREFIX)
    return page("portal/login.html", visit=visit, next=target, email="", error=None)


@bp.route("/portal/login", methods=["POST"], content_types=[web.FORM])
@portal_view
def login() -> Response:
    """Sign in and go where the customer was heading; the same answer for every failure."""
    visit = anonymous(bp)
    form = checked_form(bp, ("email", "password", "next"), visit.binding)
    target = web.safe_next(form.get("next"), PREFIX) or PREFIX
    try:
        credentials = {"email": form.get("email", ""), "password": form.get("password", "")}
        value, contact = portal_auth.sign_in(credentials, client_address(bp.current_request))
    except (NotAuthenticated, InvalidInput) as exc:
        count("PortalLoginsFailed")
        message = exc.message if isinstance(exc, NotAuthenticated) else portal_auth.WRONG
        return page(
            "portal/login.html",
            visit=visit,
            status=401,
            error=message,
            next=target,
            email=form.get("email", "")[:254],
        )
    logger.info("portal sign-in", extra={"contact_id": contact.id})
    return web.redirect(target, [web.set_cookie(SESSION_COOKIE, value, SESSION_COOKIE_AGE)])


@bp.route("/portal/logout", methods=["POST"], content_types=[web.FORM])
@portal_view
def logout() -> Response:
    """End the session on the server, then forget the cookie."""
    context = signed_in(bp)
    checked_form(bp, (), context.session_hash)
    portal_auth.end_session(context)
    return web.redirect(f"{PREFIX}/login", [web.clear_cookie(SESSION_COOKIE)])


@bp.route("/portal", methods=["GET"])
@portal_view
def overview() -> Response:
    """Name, what is owed, the open tickets and the recent activity: the session batch
    (with the contact and its balances, and the contact's activity item the stream keeps)
    and one query of the contact's open tickets, the most urgent first. The state leads the
    priority index's sort key, so the query reads open tickets only, however many closed
    ones the contact has."""
    claimed = portal_auth.claimed_contact_id(web.read_cookie(bp.current_request, SESSION_COOKIE))
    context = signed_in(bp, [ContactActivity.key(claimed)] if claimed else [])
    query = ticket_lists.TicketQuery(contact_id=context.contact.id, state="open", order="priority")
    # One more than shown, to know whether to link to the rest.
    found, _ = ticket_lists.list_page(query, OVERVIEW_TICKETS + 1, None)
    open_tickets = found[:OVERVIEW_TICKETS]
    # Looked up by the signed-in contact's id: the batch holds no other contact's item, since
    # a session whose cookie named another contact was refused.
    recent = activity.read(context.items.get(ContactActivity.key(context.contact.id)))
    return page(
        "portal/overview.html",
        context=context,
        nav="overview",
        outstanding={
            code: statements.grouped(amount) for code, amount in ledger.outstanding(context.contact).items()
        },
        open_tickets=open_tickets,
        more_open=len(found) > OVERVIEW_TICKETS,
        activity=recent,
        status_label=lambda ticket: tickets.customer_status(context.config, ticket),
    )
