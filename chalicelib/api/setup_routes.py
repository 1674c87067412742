"""``/api/service-levels``, ``/api/categories``, ``/api/statuses``, ``/api/rating-options``
and ``/api/settings``. Anyone on staff reads them; only admins change them.

Each entry and the settings carry a ``version``: a change names the one it read, and a
stale one answers 409 ``stale_version`` with what is stored now. Deleting takes no version.
"""

from __future__ import annotations

from collections.abc import Callable

from chalice.app import Blueprint, Response

from chalicelib.api.http import (
    admin_context,
    endpoint,
    json_body,
    json_response,
    no_query_params,
    staff_context,
)
from chalicelib.domain import contacts, setup, ticket_lists
from chalicelib.errors import NotFound
from chalicelib.store.db import first_referrer

bp = Blueprint(__name__)


def _rating_option_user(option_id: str) -> str | None:
    # A rating names its option in the refs index, like a contact its service level.
    return "a rating" if first_referrer(f"RATING_OPTION#{option_id}") else None


def _service_level_user(level_id: str) -> str | None:
    return ticket_lists.first_user("service_level", level_id) or contacts.first_user_of_service_level(
        level_id
    )


# URL segment -> (config list, what refers to an entry of it)
_COLLECTIONS: dict[str, tuple[str, Callable[[str], str | None]]] = {
    "service-levels": ("service_levels", _service_level_user),
    "categories": ("categories", lambda entry_id: ticket_lists.first_user("category", entry_id)),
    "statuses": ("statuses", lambda entry_id: ticket_lists.first_user("status", entry_id)),
    "rating-options": ("rating_options", _rating_option_user),
}


def _register(segment: str, collection: str, in_use: Callable[[str], str | None]) -> None:
    name = collection

    def list_entries() -> Response:
        """List the entries, in the order the list is shown."""
        context = staff_context(bp)
        no_query_params(bp.current_request)
        return json_response({"items": context.config.ordered(collection)})

    def create_entry() -> Response:
        """Add an entry (admins only)."""
        admin_context(bp)
        no_query_params(bp.current_request)
        return json_response(setup.create_entry(collection, json_body(bp.current_request)), 201)

    def get_entry(entry_id: str) -> Response:
        """Read one entry with its version."""
        context = staff_context(bp)
        no_query_params(bp.current_request)
        entry = context.config.entry(collection, entry_id)
        if entry is None:
            raise NotFound()
        return json_response({"id": entry_id, **entry})

    def update_entry(entry_id: str) -> Response:
        """Change some of an entry's fields, under the version they were read at (admins only)."""
        admin_context(bp)
        no_query_params(bp.current_request)
        return json_response(setup.update_entry(collection, entry_id, json_body(bp.current_request)))

    def delete_entry(entry_id: str) -> Response:
        """Delete an entry that nothing refers to (admins only)."""
        admin_context(bp)
        no_query_params(bp.current_request)
        setup.delete_entry(collection, entry_id, in_use)
        return Response(body="", status_code=204)

    for view in (list_entries, create_entry, get_entry, update_entry, delete_entry):
        view.__name__ = f"{view.__name__}_{name}"
    bp.route(f"/{segment}", methods=["GET"])(endpoint(list_entries))
    bp.route(f"/{segment}", methods=["POST"])(endpoint(create_entry))
    bp.route(f"/{segment}/{{entry_id}}", methods=["GET"])(endpoint(get_entry))
    bp.route(f"/{segment}/{{entry_id}}", methods=["PATCH"])(endpoint(update_entry))
    bp.route(f"/{segment}/{{entry_id}}", methods=["DELETE"])(endpoint(delete_entry))


for _segment, (_collection, _in_use) in _COLLECTIONS.items():
    _register(_segment, _collection, _in_use)


@bp.route("/settings", methods=["GET"])
@endpoint
def get_settings() -> Response:
    """Read the settings with their version."""
    context = staff_context(bp)
    no_query_params(bp.current_request)
    return json_response(context.config.present_settings())


@bp.route("/settings", methods=["PUT"])
@endpoint
def put_settings() -> Response:
    """Replace every setting, under the version they were read at (admins only)."""
    admin_context(bp)
    no_query_params(bp.current_request)
    return json_response(setup.replace_settings(json_body(bp.current_request)))
