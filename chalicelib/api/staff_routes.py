"""``/api/staff``: staff accounts, for admins only."""

from __future__ import annotations

from chalice.app import Blueprint, Response

from chalicelib.api.http import (
    admin_context,
    endpoint,
    json_body,
    json_response,
    no_query_params,
    page,
    page_size,
    path_id,
    query_params,
)
from chalicelib.domain import staff

bp = Blueprint(__name__)


@bp.route("/staff", methods=["GET"])
@endpoint
def list_staff() -> Response:
    """List staff members by name."""
    admin_context(bp)
    params = query_params(bp.current_request, ["limit", "cursor"])
    members, cursor = staff.list_page(page_size(params), params.get("cursor"))
    return json_response(page([staff.present(member) for member in members], cursor))


@bp.route("/staff", methods=["POST"])
@endpoint
def create_staff() -> Response:
    """Create a staff member with a role and a first password."""
    admin_context(bp)
    no_query_params(bp.current_request)
    member = staff.create(json_body(bp.current_request))
    return json_response(staff.present(member), 201)


@bp.route("/staff/{staff_id}", methods=["GET"])
@endpoint
def get_staff(staff_id: str) -> Response:
    """Read one staff member."""
    admin_context(bp)
    no_query_params(bp.current_request)
    return json_response(staff.present(staff.get(path_id(staff_id, "staff member"))))


@bp.route("/staff/{staff_id}", methods=["PATCH"])
@endpoint
def update_staff(staff_id: str) -> Response:
    """Change a staff member's name, role, password or active flag, under their version."""
    context = admin_context(bp)
    no_query_params(bp.current_request)
    member = staff.update(context, path_id(staff_id, "staff member"), json_body(bp.current_request))
    return json_response(staff.present(member))
