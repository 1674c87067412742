"""``/api/auth``: staff sign-in and sign-out."""

from __future__ import annotations

from chalice.app import Blueprint, Response

from chalicelib.api.http import (
    client_address,
    endpoint,
    json_body,
    json_response,
    no_query_params,
    staff_context,
)
from chalicelib.domain import staff
from chalicelib.errors import NotAuthenticated, Throttled
from chalicelib.observability import count

bp = Blueprint(__name__)


@bp.route("/auth/login", methods=["POST"])
@endpoint
def login() -> Response:
    """Sign in with email and password; answers a bearer token and when it expires."""
    request = bp.current_request
    no_query_params(request)
    try:
        result = staff.login(json_body(request), client_address(request))
    except Throttled:
        count("LoginsThrottled")
        raise
    except NotAuthenticated:
        count("LoginFailures")
        raise
    return json_response(
        {"token": result["token"], "expires_at": result["expires_at"], "staff": result["staff"]}
    )


@bp.route("/auth/logout", methods=["POST"])
@endpoint
def logout() -> Response:
    """Revoke the bearer token this request carries."""
    context = staff_context(bp)
    no_query_params(bp.current_request)
    staff.logout(context)
    return Response(body="", status_code=204)


@bp.route("/auth/me", methods=["GET"])
@endpoint
def me() -> Response:
    """The staff member the bearer token belongs to."""
    context = staff_context(bp)
    no_query_params(bp.current_request)
    return json_response(staff.present(context.staff))
