"""``/admin/setup/sites``: the websites that raise tickets through ``/embed/v1``, for admins only.

A site is a name, a public key, the origins its pages are served from, whether it is enabled
and the category its tickets get. The list is the session batch and one query of the
``listing`` index, a page at a time; a site's own pages read the site in the session batch,
so they are that one read. Each site's page shows the snippet its owner pastes into their
pages, with the helpdesk's address taken from this request (see ``widget_base``).

Changes follow the other setup pages: a checked form, a 303 to a page that says it is done,
a refused field shown again (422) with nothing written, and an edit or delete made from a
stale read answered with what is stored now (409), never applied over it.
"""

from __future__ import annotations

import os
import re
from typing import Any

from chalice.app import Blueprint, Request, Response

from chalicelib.api.http import keys_for_ids
from chalicelib.domain import sites
from chalicelib.domain.setup import SetupConfig
from chalicelib.domain.staff import StaffContext
from chalicelib.errors import HelpdeskError, InvalidInput, NotFound, StaleVersion
from chalicelib.observability import logger
from chalicelib.pages import web
from chalicelib.pages.admin_setup_routes import LISTS, Change, changes_between, on_form
from chalicelib.pages.admin_web import PREFIX, admin_view, checked_form, page, signed_in
from chalicelib.store.models import Site

bp = Blueprint(__name__)

SITES = f"{PREFIX}/setup/sites"
SECTION = "sites"
SITES_PAGE = 25
CHECKED = "1"
# What an admin typed is shown again with an error up to this length: the form refused it anyway.
ECHO_LIMIT = 5_000
FORM_FIELDS = ("name", "allowed_origins", "enabled", "default_category_id")
EDIT_FIELDS = (*FORM_FIELDS, "new_key", "version")
DONE = {
    "added": "Site added. Paste the snippet below into the pages where the form should appear.",
    "saved": "Site saved.",
    "rekeyed": "Site saved with a new key: the old one no longer works. Paste the new snippet below.",
    "deleted": "Site deleted.",
}
LABELS = {
    "name": "Name",
    "allowed_origins": "Allowed origins",
    "enabled": "Enabled",
    "default_category_id": "Default category",
}
# A Host header as browsers send it: a DNS name or an IP literal, and maybe a port.
HOST = re.compile(
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?|\[[0-9A-Fa-f:.]{2,45}\])"  # name or [IPv6]
    r"(?::[0-9]{1,5})?"
)


# -- the list and the add form -------------------------------------------------------


@bp.route(SITES, methods=["GET"])
@admin_view
def sites_page() -> Response:
    """A page of sites by name, with the form to add one: the session batch and one query."""
    context = _admin()
    cursor = web.query(bp.current_request).get("cursor")
    return _list_page(context, _blank(), cursor=cursor, done=_done())


@bp.route(SITES, methods=["POST"], content_types=[web.FORM])
@admin_view
def add_site() -> Response:
    """Add a site with a fresh key; its page, with the snippet to paste, comes next."""
    context = _admin()
    form = checked_form(bp, context, FORM_FIELDS)
    try:
        site = sites.create(context.config, _body(form))
    except InvalidInput as exc:
        return _list_page(context, _echo(form), error=on_form(exc, FORM_FIELDS), status=422)
    logger.info("site added", extra={"site_id": site.id})
    return web.redirect(f"{SITES}/{site.id}?done=added")


# -- one site ------------------------------------------------------------------------


@bp.route(f"{SITES}/{{site_id}}", methods=["GET"])
@admin_view
def site_page(site_id: str) -> Response:
    """A site's key, its snippet and its edit form, carrying the version it was read at."""
    context, site = _admin_and_site(site_id)
    shown = sites.present(site)
    return _site_page(context, shown, _values(shown), site.version, done=_done())


@bp.route(f"{SITES}/{{site_id}}", methods=["POST"], content_types=[web.FORM])
@admin_view
def save_site(site_id: str) -> Response:
    """Save an edit made at ``version``, replacing the key when asked; stale, the page shows
    the site as stored now and saves nothing."""
    context, site = _admin_and_site(site_id)
    form = checked_form(bp, context, EDIT_FIELDS)
    shown = sites.present(site)
    rekey = form.get("new_key") == CHECKED
    try:
        body = {**_body(form), "version": _whole_number("version", form.get("version", ""))}
        if rekey:
            body["new_key"] = True
        sites.update(context.config, site, body)
    except StaleVersion as exc:
        current = exc.current
        if current is None:  # deleted meanwhile
            raise NotFound("No site has this id.") from exc
        stored = _values(current)
        changes = _changes(context.config, _echo(form), stored)
        return _site_page(context, current, stored, current["version"], changes=changes, status=409)
    except InvalidInput as exc:
        version = form.get("version", "")[:20]
        return _site_page(context, shown, _echo(form), version, error=on_form(exc, FORM_FIELDS), status=422)
    logger.info("site saved", extra={"site_id": site.id, "new_key": rekey})
    return web.redirect(f"{SITES}/{site.id}?done={'rekeyed' if rekey else 'saved'}")


@bp.route(f"{SITES}/{{site_id}}/delete", methods=["GET"])
@admin_view
def confirm_delete(site_id: str) -> Response:
    """Ask before deleting: what the site is, and one button that does it."""
    context, site = _admin_and_site(site_id)
    return _delete_page(context, sites.present(site), site.version)


@bp.route(f"{SITES}/{{site_id}}/delete", methods=["POST"], content_types=[web.FORM])
@admin_view
def delete_site(site_id: str) -> Response:
    """Delete the site as it was confirmed; changed since, ask again with what it is now."""
    context, site = _admin_and_site(site_id)
    form = checked_form(bp, context, ("version",))
    shown = sites.present(site)
    if form.get("version") != str(site.version):
        return _delete_page(context, shown, site.version, stale=True, status=409)
    try:
        sites.delete(site)
    except StaleVersion:
        # Changed between this request's read and its write: read it again for the page.
        site = sites.get(site.id)
        return _delete_page(context, sites.present(site), site.version, stale=True, status=409)
    logger.info("site deleted", extra={"site_id": site.id})
    return web.redirect(f"{SITES}?done=deleted")


# -- pages ---------------------------------------------------------------------------


def _list_page(
    context: StaffContext,
    form: dict[str, Any],
    *,
    cursor: str | None = None,
    error: HelpdeskError | None = None,
    status: int = 200,
    done: str | None = None,
) -> Response:
    try:
        found, next_cursor = sites.list_page(SITES_PAGE, cursor)
    except InvalidInput:  # a cursor altered, or made for another list: start from the top
        found, next_cursor = sites.list_page(SITES_PAGE, None)
    return page(
        "admin/setup_sites.html",
        context,
        nav="setup",
        status=status,
        lists=LISTS,
        section=SECTION,
        sites=[sites.present(site) for site in found],
        next_cursor=next_cursor,
        category_names=_category_names(context.config),
        categories=context.config.ordered("categories"),
        form=form,
        error=error,
        done=done,
    )


def _site_page(
    context: StaffContext,
    site: dict[str, Any],
    form: dict[str, Any],
    version: Any,
    *,
    error: HelpdeskError | None = None,
    changes: list[Change] | None = None,
    status: int = 200,
    done: str | None = None,
) -> Response:
    return page(
        "admin/setup_site.html",
        context,
        nav="setup",
        status=status,
        lists=LISTS,
        section=SECTION,
        site=site,
        snippet=snippet(widget_base(bp.current_request), site["public_key"]),
        category_names=_category_names(context.config),
        categories=context.config.ordered("categories"),
        form=form,
        version=version,
        error=error,
        changes=changes,
        done=done,
    )


def _delete_page(
    context: StaffContext, site: dict[str, Any], version: int, *, stale: bool = False, status: int = 200
) -> Response:
    return page(
        "admin/setup_site_delete.html",
        context,
        nav="setup",
        status=status,
        lists=LISTS,
        section=SECTION,
        site=site,
        version=version,
        stale=stale,
        category_names=_category_names(context.config),
    )


# -- the snippet ---------------------------------------------------------------------


def widget_base(request: Request) -> str:
    """The address a website loads the widget from: this request's ``Host`` and
    ``X-Forwarded-Proto``, which is the address the admin reached this page by.

    Why the request rather than ``HELPDESK_PUBLIC_URL``: the page that shows the snippet is
    served by the same deployment that serves the widget, so the address in the admin's
    address bar is one that works, custom domain or not, even when ``PublicUrl`` is left
    empty. API Gateway always sets ``X-Forwarded-Proto`` (https); ``make run`` sets none and
    serves plain http. A Host that is not a plain host name (a forged header) is not shown:
    ``HELPDESK_PUBLIC_URL`` stands in, else the scheme-relative form is left to the reader.
    """
    host = request.headers.get("host", "").strip()
    forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    scheme = forwarded if forwarded in ("http", "https") else ("http" if web.local_http() else "https")
    if HOST.fullmatch(host):
        return f"{scheme}://{host.lower()}"
    public = os.environ.get("HELPDESK_PUBLIC_URL", "").strip().rstrip("/")
    return public if re.fullmatch(r"https?://[^\s/?#\"'<>]+", public) else ""


def snippet(base: str, public_key: str) -> str:
    """The tag a website pastes where the form should appear (escaped by the template)."""
    return f'<script src="{base}/embed/v1/widget.js" data-site-key="{public_key}" async></script>'


# -- forms ---------------------------------------------------------------------------


def _body(form: dict[str, str]) -> dict[str, Any]:
    """The form as the domain's fields: one origin a line (each checked here, so the error
    names the line), an unticked box as false, no category as none."""
    return {
        "name": form.get("name", ""),
        "allowed_origins": _origins(form.get("allowed_origins", "")),
        "enabled": form.get("enabled") == CHECKED,
        "default_category_id": form.get("default_category_id") or None,
    }


def _origins(raw: str) -> list[str]:
    lines = [line.strip() for line in raw.splitlines()]
    found = [line for line in lines if line]
    if not found:
        raise InvalidInput("Give at least one origin, such as https://shop.example.", field="allowed_origins")
    for number, line in enumerate(lines, start=1):
        if not line:
            continue
        try:
            sites.origin(line)
        except ValueError as exc:
            shown = line if len(line) <= 60 else line[:59] + "…"
            raise InvalidInput(f"Line {number} ({shown}) {exc}", field="allowed_origins") from exc
    return found


def _whole_number(name: str, raw: str) -> Any:
    """``raw`` as an int when it is one; anything else goes on for the domain to refuse."""
    raw = raw.strip()
    if not raw:
        raise InvalidInput(f"The field '{name}' is required.", field=name)
    return int(raw) if re.fullmatch(r"[0-9]{1,16}", raw) else raw


def _blank() -> dict[str, Any]:
    return {"name": "", "allowed_origins": "", "enabled": True, "default_category_id": ""}


def _values(site: dict[str, Any]) -> dict[str, Any]:
    """A site's fields as its form shows them."""
    return {
        "name": site.get("name", ""),
        "allowed_origins": "\n".join(site.get("allowed_origins") or []),
        "enabled": bool(site.get("enabled")),
        "default_category_id": site.get("default_category_id") or "",
    }


def _echo(form: dict[str, str]) -> dict[str, Any]:
    """What the admin typed, to show again with an error."""
    return {
        "name": form.get("name", "")[:ECHO_LIMIT],
        "allowed_origins": form.get("allowed_origins", "")[:ECHO_LIMIT],
        "enabled": form.get("enabled") == CHECKED,
        "default_category_id": form.get("default_category_id", "")[:100],
        "new_key": form.get("new_key") == CHECKED,
    }


def _changes(config: SetupConfig, sent: dict[str, Any], stored: dict[str, Any]) -> list[Change]:
    """The fields where what was sent differs from what is stored now, as text to show."""
    names = _category_names(config)

    def shown(name: str, value: Any) -> str:
        if name == "enabled":
            return "Yes" if value else "No"
        if name == "default_category_id":
            return names.get(value, "a deleted category") if value else "(none)"
        if name == "allowed_origins":
            return ", ".join(line.strip() for line in str(value).splitlines() if line.strip()) or "(none)"
        return str(value) if value not in (None, "") else "(none)"

    return changes_between(list(LABELS.items()), sent, stored, shown)


# -- shared --------------------------------------------------------------------------


def _admin(extra_keys: list[Any] | None = None) -> StaffContext:
    """The signed-in admin of this request; an agent is refused (403) before anything else."""
    context = signed_in(bp, extra_keys or ())
    context.require_admin()
    return context


def _admin_and_site(site_id: str) -> tuple[StaffContext, Site]:
    """The admin and the site, read together in the session batch."""
    keys = keys_for_ids((site_id, Site.key))
    context = _admin(keys)
    found = context.items.get(keys[0]) if keys else None
    if not isinstance(found, Site):
        raise NotFound("No site has this id.")
    return context, found


def _category_names(config: SetupConfig) -> dict[str, str]:
    return {entry["id"]: str(entry["name"]) for entry in config.ordered("categories")}


def _done() -> str | None:
    """The note a page shows after a change: a fixed phrase picked by ``?done=``."""
    key = web.query(bp.current_request).get("done", "")
    return DONE.get(key)
