"""``/admin``: staff sign-in, sign-out and the dashboard."""

from __future__ import annotations

from chalice.app import Blueprint, Response

from chalicelib.api.http import client_address
from chalicelib.domain import dashboard, staff
from chalicelib.errors import InvalidInput, NotAuthenticated
from chalicelib.observability import count, logger
from chalicelib.pages import web
from chalicelib.pages.admin_web import (
    PREFIX,
    SESSION_COOKIE,
    SESSION_COOKIE_AGE,
    admin_view,
    anonymous,
    checked_form,
    page,
    signed_in,
)
from chalicelib.store.models import Stats

bp = Blueprint(__name__)

WRONG = "Email or password is wrong."


@bp.route("/admin/login", methods=["GET"])
@admin_view
def login_page() -> Response:
    visit = anonymous(bp)
    target = web.safe_next(web.query(bp.current_request).get("next"), PREFIX)
    return page("admin/login.html", visit, next=target, email="", error=None)


@bp.route("/admin/login", methods=["POST"], content_types=[web.FORM])
@admin_view
def login() -> Response:
    """Sign in with the staff account; the same answer for every failure, throttled as the
    API's sign-in is (it is the same sign-in)."""
    visit = anonymous(bp)
    form = checked_form(bp, visit, ("email", "password", "next"))
    target = web.safe_next(form.get("next"), PREFIX) or PREFIX
    credentials = {"email": form.get("email", ""), "password": form.get("password", "")}
    try:
        signed = staff.login(credentials, client_address(bp.current_request))
    except (NotAuthenticated, InvalidInput):
        count("LoginsFailed")
        return page(
            "admin/login.html", visit, status=401, error=WRONG, next=target, email=form.get("email", "")[:254]
        )
    logger.info("staff page sign-in", extra={"staff_id": signed["staff"]["id"]})
    return web.redirect(target, [web.set_cookie(SESSION_COOKIE, signed["token"], SESSION_COOKIE_AGE)])


@bp.route("/admin/logout", methods=["POST"], content_types=[web.FORM])
@admin_view
def logout() -> Response:
    """Revoke this browser's token on the server, then forget the cookie."""
    context = signed_in(bp)
    checked_form(bp, context, ())
    staff.logout(context)
    return web.redirect(f"{PREFIX}/login", [web.clear_cookie(SESSION_COOKIE)])


@bp.route("/admin", methods=["GET"])
@admin_view
def dashboard_page() -> Response:
    """Open tickets by status, overdue, unassigned, mine, the latest ratings and the average
    score: the figures ride in the sign-in batch; overdue is one capped query."""
    context = signed_in(bp, [Stats.key()])
    figures = dashboard.Figures.from_item(context.items.get(Stats.key()))
    statuses = [
        {"entry": status, "count": figures.open_by_status.get(status["id"], 0)}
        for status in context.config.ordered("statuses")
        if not status.get("closed")
    ]
    return page(
        "admin/dashboard.html",
        context,
        nav="dashboard",
        figures=figures,
        statuses=statuses,
        mine=figures.open_by_assignee.get(context.staff.id, 0),
        overdue=dashboard.overdue(),
    )
