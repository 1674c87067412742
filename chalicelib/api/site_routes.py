"""``/api/sites``: the websites that may raise tickets through ``/embed/v1`` (admins only)."""

from __future__ import annotations

from chalice.app import Blueprint, Response

from chalicelib.api.http import (
    admin_context,
    endpoint,
    json_body,
    json_response,
    keys_for_ids,
    no_query_params,
    page,
    page_size,
    query_params,
)
from chalicelib.domain import sites
from chalicelib.errors import NotFound
from chalicelib.store.db import Key
from chalicelib.store.models import Item, Site

bp = Blueprint(__name__)


def _site(items: dict[Key, Item], site_id: str) -> Site:
    found = items.get(Site.key(site_id))
    if not isinstance(found, Site):
        raise NotFound("No site has this id.")
    return found


@bp.route("/sites", methods=["GET"])
@endpoint
def list_sites() -> Response:
    """The sites by name, a page at a time."""
    admin_context(bp)
    params = query_params(bp.current_request, ("limit", "cursor"))
    found, cursor = sites.list_page(page_size(params), params.get("cursor"))
    return json_response(page([sites.present(site) for site in found], cursor))


@bp.route("/sites", methods=["POST"])
@endpoint
def create_site() -> Response:
    """Add a site; its public key is made here and shown in the answer."""
    context = admin_context(bp)
    no_query_params(bp.current_request)
    site = sites.create(context.config, json_body(bp.current_request))
    return json_response(sites.present(site), 201)


@bp.route("/sites/{site_id}", methods=["GET"])
@endpoint
def get_site(site_id: str) -> Response:
    context = admin_context(bp, keys_for_ids((site_id, Site.key)))
    no_query_params(bp.current_request)
    return json_response(sites.present(_site(context.items, site_id)))


@bp.route("/sites/{site_id}", methods=["PATCH"])
@endpoint
def update_site(site_id: str) -> Response:
    """Change a site under the version read; ``new_key: true`` replaces its public key."""
    context = admin_context(bp, keys_for_ids((site_id, Site.key)))
    no_query_params(bp.current_request)
    body = json_body(bp.current_request)
    return json_response(sites.present(sites.update(context.config, _site(context.items, site_id), body)))


@bp.route("/sites/{site_id}", methods=["DELETE"])
@endpoint
def delete_site(site_id: str) -> Response:
    """Remove a site and its origins; its key stops working at once."""
    context = admin_context(bp, keys_for_ids((site_id, Site.key)))
    no_query_params(bp.current_request)
    sites.delete(_site(context.items, site_id))
    return Response(body="", status_code=204)
