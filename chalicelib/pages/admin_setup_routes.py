"""``/admin/setup``: the setup lists, the settings and the staff accounts, for admins only.

The four setup lists (service levels, categories, statuses, rating options) differ only in
their fields, so one set of routes serves them all, driven by ``LISTS``: each names its URL
segment, its config list, its form fields and what may still refer to one of its entries.

The config rides in the session batch, so every setup page is that one read; the staff list
adds its one query. Each change is a checked form answered with a 303 to a page that says it
is done. A refused field shows the form again (422) with the field marked and nothing
written; an edit made from a stale read shows what is stored now (409), never overwrites it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chalice.app import Blueprint, Response

from chalicelib.api.http import http_status, keys_for_ids, path_id
from chalicelib.domain import contacts, setup, staff, ticket_lists
from chalicelib.domain.setup import SetupConfig
from chalicelib.domain.staff import StaffContext
from chalicelib.errors import Conflict, HelpdeskError, InvalidInput, NotFound, StaleVersion
from chalicelib.observability import logger
from chalicelib.pages import web
from chalicelib.pages.admin_web import PREFIX, admin_view, checked_form, page, signed_in
from chalicelib.store.db import first_referrer
from chalicelib.store.models import Staff

bp = Blueprint(__name__)

SETUP = f"{PREFIX}/setup"
CHECKED = "1"
STAFF_PAGE = 25
# A typed value shown again with an error is cut to this length: the form refused it anyway.
ECHO_LIMIT = 500
DONE = {"added": "{} added.", "saved": "{} saved.", "deleted": "{} deleted."}


# -- what the lists look like -------------------------------------------------------


@dataclass(frozen=True)
class FormField:
    """One field of a setup list's form. ``kind`` is ``text``, ``number`` or ``checkbox``;
    the domain checks every value, the form only offers the right input."""

    name: str
    label: str
    kind: str = "text"
    hint: str = ""


@dataclass(frozen=True)
class SetupList:
    """One setup list: where its pages live, what it is called, its fields (the first one
    names an entry) and the check that something still refers to an entry."""

    segment: str
    collection: str
    title: str
    singular: str
    fields: tuple[FormField, ...]
    in_use: Callable[[str], str | None]

    @property
    def path(self) -> str:
        return f"{SETUP}/{self.segment}"

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(item.name for item in self.fields)


# The same checks the API's deletes run: nothing that still points at an entry loses it.
def _service_level_user(level_id: str) -> str | None:
    return ticket_lists.first_user("service_level", level_id) or contacts.first_user_of_service_level(
        level_id
    )


def _rating_option_user(option_id: str) -> str | None:
    return "a rating" if first_referrer(f"RATING_OPTION#{option_id}") else None


LISTS = (
    SetupList(
        "service-levels",
        "service_levels",
        "Service levels",
        "service level",
        (
            FormField("name", "Name"),
            FormField("rank", "Rank", "number", "1 is the most urgent; the queue sorts by rank first."),
            FormField("response_hours", "Response hours", "number", "Hours until the first answer is due."),
            FormField(
                "resolution_hours", "Resolution hours", "number", "Hours until the ticket should be solved."
            ),
        ),
        _service_level_user,
    ),
    SetupList(
        "categories",
        "categories",
        "Categories",
        "category",
        (FormField("name", "Name"),),
        lambda entry_id: ticket_lists.first_user("category", entry_id),
    ),
    SetupList(
        "statuses",
        "statuses",
        "Statuses",
        "status",
        (
            FormField("name", "Name", hint="What staff see."),
            FormField(
                "customer_label",
                "Customer label",
                hint="What the customer sees, in the portal and in messages.",
            ),
            FormField("order", "Order", "number", "Statuses are listed from the lowest number up."),
            FormField("closed", "Closed", "checkbox", "A ticket in this status is done: it can be rated."),
        ),
        lambda entry_id: ticket_lists.first_user("status", entry_id),
    ),
    SetupList(
        "rating-options",
        "rating_options",
        "Rating options",
        "rating option",
        (
            FormField("label", "Label", hint="What the customer picks."),
            FormField("score", "Score", "number", "From 0 to 100; the dashboard shows the average."),
        ),
        _rating_option_user,
    ),
)

# How the lists show the entries that settings name.
SETTING_MARKS = {
    "default_status_id": "Default for new tickets",
    "customer_reply_status_id": "Set by a customer reply",
    "default_service_level_id": "Default service level",
}

SETTING_LABELS = {
    "portal_enabled": "Customer portal open",
    "registration_enabled": "Customers may register themselves",
    "default_status_id": "Status of new tickets",
    "customer_reply_status_id": "Status a customer reply sets",
    "default_service_level_id": "Service level when the contact has none",
    "notify_email_enabled": "Send email notifications",
    "notify_sms_enabled": "Send text messages (SMS)",
    "sender_email": "Sender email address",
    "staff_notify_email": "Staff notification address",
}
SETTING_BOXES = ("portal_enabled", "registration_enabled", "notify_email_enabled", "notify_sms_enabled")
SETTING_EMAILS = ("sender_email", "staff_notify_email")

STAFF_FIELDS = {"name": "Name", "role": "Role", "active": "Active"}


@dataclass(frozen=True)
class Change:
    """A field that differs between what an admin sent and what is stored now."""

    label: str
    sent: str
    stored: str


# -- the overview -------------------------------------------------------------------


@bp.route(SETUP, methods=["GET"])
@admin_view
def overview() -> Response:
    """Links to every setup page, with how many entries each list holds."""
    context = _admin()
    counts = {kind.segment: len(context.config.lists[kind.collection]) for kind in LISTS}
    return page("admin/setup.html", context, nav="setup", lists=LISTS, counts=counts, section="")


# -- the four lists, one set of routes ----------------------------------------------


def _register(kind: SetupList) -> None:
    def list_entries() -> Response:
        """The entries in their order, the settings that name any of them, and the add form."""
        context = _admin()
        return _list_page(kind, context, form=_values(kind, {}), done=_done(kind.singular))

    def add_entry() -> Response:
        """Add an entry; a refused field shows the list again with the form as typed."""
        context = _admin()
        form = checked_form(bp, context, kind.names)
        try:
            created = setup.create_entry(kind.collection, _entry_body(kind, form))
        except InvalidInput as exc:
            error = on_form(exc, kind.names)
            return _list_page(kind, context, form=_echo(kind, form), error=error, status=422)
        logger.info("setup entry added", extra={"collection": kind.collection, "entry_id": created["id"]})
        return web.redirect(f"{kind.path}?done=added")

    def edit_entry(entry_id: str) -> Response:
        """An entry's edit form, carrying the version it was read at."""
        context = _admin()
        entry = _entry(context.config, kind, entry_id)
        return _entry_page(kind, context, entry_id, _values(kind, entry), entry["version"])

    def save_entry(entry_id: str) -> Response:
        """Save an edit made at ``version``; stale, the page shows the entry as stored now."""
        context = _admin()
        form = checked_form(bp, context, (*kind.names, "version"))
        try:
            body = {**_entry_body(kind, form), "version": _whole_number("version", form.get("version", ""))}
            setup.update_entry(kind.collection, entry_id, body)
        except StaleVersion as exc:
            current = exc.current or {}
            stored = _values(kind, current)
            changes = changes_between(
                [(item.name, item.label) for item in kind.fields], _echo(kind, form), stored
            )
            return _entry_page(
                kind, context, entry_id, stored, current.get("version"), changes=changes, status=409
            )
        except (InvalidInput, Conflict) as exc:
            # Conflict: a status that customer replies go to cannot be made a closed one.
            version = form.get("version", "")[:20]
            error = on_form(exc, kind.names)
            return _entry_page(
                kind, context, entry_id, _echo(kind, form), version, error=error, status=http_status(exc)
            )
        logger.info("setup entry saved", extra={"collection": kind.collection, "entry_id": entry_id})
        return web.redirect(f"{kind.path}?done=saved")

    def confirm_delete(entry_id: str) -> Response:
        """Ask before deleting: the entry, and one button that does it."""
        context = _admin()
        entry = _entry(context.config, kind, entry_id)
        return _delete_page(kind, context, entry_id, entry)

    def delete_entry(entry_id: str) -> Response:
        """Delete an entry nothing refers to; one still in use stays, and the page says by what."""
        context = _admin()
        checked_form(bp, context, ())
        try:
            setup.delete_entry(kind.collection, entry_id, kind.in_use)
        except Conflict as exc:
            entry = _entry(context.config, kind, entry_id)
            return _delete_page(kind, context, entry_id, entry, error=exc, status=409)
        logger.info("setup entry deleted", extra={"collection": kind.collection, "entry_id": entry_id})
        return web.redirect(f"{kind.path}?done=deleted")

    # Chalice names each view by its function: one name per list keeps them apart.
    views = (list_entries, add_entry, edit_entry, save_entry, confirm_delete, delete_entry)
    for view in views:
        view.__name__ = f"{view.__name__}_{kind.collection}"
    bp.route(kind.path, methods=["GET"])(admin_view(list_entries))
    bp.route(kind.path, methods=["POST"], content_types=[web.FORM])(admin_view(add_entry))
    bp.route(f"{kind.path}/{{entry_id}}", methods=["GET"])(admin_view(edit_entry))
    bp.route(f"{kind.path}/{{entry_id}}", methods=["POST"], content_types=[web.FORM])(admin_view(save_entry))
    bp.route(f"{kind.path}/{{entry_id}}/delete", methods=["GET"])(admin_view(confirm_delete))
    bp.route(f"{kind.path}/{{entry_id}}/delete", methods=["POST"], content_types=[web.FORM])(
        admin_view(delete_entry)
    )


for _kind in LISTS:
    _register(_kind)


def _list_page(
    kind: SetupList,
    context: StaffContext,
    *,
    form: dict[str, Any],
    error: HelpdeskError | None = None,
    status: int = 200,
    done: str | None = None,
) -> Response:
    config = context.config
    marks: dict[str, list[str]] = {}
    named = []
    for setting, collection in setup.SETTING_REFERENCES.items():
        if collection != kind.collection:
            continue
        entry_id = config.settings.get(setting)
        entry = config.entry(collection, entry_id)
        if entry_id and entry:
            marks.setdefault(entry_id, []).append(SETTING_MARKS[setting])
        named.append((SETTING_LABELS[setting], _name(kind, entry) if entry else None))
    return page(
        "admin/setup_list.html",
        context,
        nav="setup",
        status=status,
        lists=LISTS,
        section=kind.segment,
        kind=kind,
        entries=config.ordered(kind.collection),
        marks=marks,
        named=named,
        form=form,
        error=error,
        done=done,
    )


def _entry_page(
    kind: SetupList,
    context: StaffContext,
    entry_id: str,
    form: dict[str, Any],
    version: Any,
    *,
    error: HelpdeskError | None = None,
    changes: list[Change] | None = None,
    status: int = 200,
) -> Response:
    return page(
        "admin/setup_entry.html",
        context,
        nav="setup",
        status=status,
        lists=LISTS,
        section=kind.segment,
        kind=kind,
        entry_id=entry_id,
        form=form,
        version=version,
        error=error,
        changes=changes,
    )


def _delete_page(
    kind: SetupList,
    context: StaffContext,
    entry_id: str,
    entry: dict[str, Any],
    *,
    error: HelpdeskError | None = None,
    status: int = 200,
) -> Response:
    return page(
        "admin/setup_delete.html",
        context,
        nav="setup",
        status=status,
        lists=LISTS,
        section=kind.segment,
        kind=kind,
        entry_id=entry_id,
        entry=_values(kind, entry),
        title=_name(kind, entry),
        error=error,
    )


def _entry(config: SetupConfig, kind: SetupList, entry_id: str) -> dict[str, Any]:
    found = config.entry(kind.collection, entry_id)
    if found is None:
        raise NotFound(f"No {kind.singular} has this id.")
    return found


def _name(kind: SetupList, entry: dict[str, Any]) -> str:
    return str(entry[kind.fields[0].name])


def _entry_body(kind: SetupList, form: dict[str, str]) -> dict[str, Any]:
    """The form as the domain's fields: an unticked box is not sent, so it reads as false;
    numbers are whole ASCII numbers, anything else goes on for the domain to name."""
    body: dict[str, Any] = {}
    for item in kind.fields:
        raw = form.get(item.name, "")
        if item.kind == "checkbox":
            body[item.name] = raw == CHECKED
        elif item.kind == "number":
            body[item.name] = _whole_number(item.name, raw)
        else:
            body[item.name] = raw
    return body


def _whole_number(name: str, raw: str) -> Any:
    """``raw`` as an int when it is one; an empty field is missing; other text passes through
    unchanged, so the domain refuses it with its own words."""
    raw = raw.strip()
    if not raw:
        raise InvalidInput(f"The field '{name}' is required.", field=name)
    return int(raw) if re.fullmatch(r"-?[0-9]{1,16}", raw) else raw


def _values(kind: SetupList, entry: dict[str, Any]) -> dict[str, Any]:
    """An entry's fields as its form shows them (an empty form for a missing entry)."""
    return {
        item.name: bool(entry.get(item.name)) if item.kind == "checkbox" else entry.get(item.name, "")
        for item in kind.fields
    }


def _echo(kind: SetupList, form: dict[str, str]) -> dict[str, Any]:
    """What the admin typed, to show again with an error."""
    return {
        item.name: form.get(item.name) == CHECKED
        if item.kind == "checkbox"
        else form.get(item.name, "")[:ECHO_LIMIT]
        for item in kind.fields
    }


# -- settings -----------------------------------------------------------------------


@bp.route(f"{SETUP}/settings", methods=["GET"])
@admin_view
def settings_page() -> Response:
    """Every setting, with the version they were read at."""
    context = _admin()
    config = context.config
    return _settings_page(context, config, _settings_values(config.settings), config.settings_version)


@bp.route(f"{SETUP}/settings", methods=["POST"], content_types=[web.FORM])
@admin_view
def save_settings() -> Response:
    """Replace every setting under the version read; stale, show them as stored now."""
    context = _admin()
    form = checked_form(bp, context, (*setup.SETTINGS_SPEC, "version"))
    try:
        setup.replace_settings(_settings_body(form))
    except StaleVersion as exc:
        # The lists may have moved on too: show the config as it is now.
        config = setup.load()
        current = exc.current or config.present_settings()
        stored = _settings_values(current)
        changes = changes_between(list(SETTING_LABELS.items()), _settings_echo(form), stored, _naming(config))
        return _settings_page(context, config, stored, current["version"], changes=changes, status=409)
    except InvalidInput as exc:
        error = on_form(exc, tuple(setup.SETTINGS_SPEC))
        version = form.get("version", "")[:20]
        return _settings_page(context, context.config, _settings_echo(form), version, error=error, status=422)
    logger.info("settings saved")
    return web.redirect(f"{SETUP}/settings?done=saved")


def _settings_page(
    context: StaffContext,
    config: SetupConfig,
    form: dict[str, Any],
    version: Any,
    *,
    error: HelpdeskError | None = None,
    changes: list[Change] | None = None,
    status: int = 200,
) -> Response:
    return page(
        "admin/setup_settings.html",
        context,
        nav="setup",
        status=status,
        lists=LISTS,
        section="settings",
        form=form,
        version=version,
        labels=SETTING_LABELS,
        statuses=config.ordered("statuses"),
        service_levels=config.ordered("service_levels"),
        error=error,
        changes=changes,
        done=_done("settings") if status == 200 else None,
    )


def _settings_body(form: dict[str, str]) -> dict[str, Any]:
    """The form as the settings: unticked boxes are false, an empty choice or address is none."""
    body: dict[str, Any] = {name: form.get(name) == CHECKED for name in SETTING_BOXES}
    for name in setup.SETTING_REFERENCES:
        body[name] = form.get(name) or None
    for name in SETTING_EMAILS:
        body[name] = form.get(name, "").strip() or None
    body["version"] = _whole_number("version", form.get("version", ""))
    return body


def _settings_values(settings: dict[str, Any]) -> dict[str, Any]:
    return {
        name: bool(settings.get(name)) if name in SETTING_BOXES else settings.get(name) or ""
        for name in SETTING_LABELS
    }


def _settings_echo(form: dict[str, str]) -> dict[str, Any]:
    return {
        name: form.get(name) == CHECKED if name in SETTING_BOXES else form.get(name, "")[:ECHO_LIMIT]
        for name in SETTING_LABELS
    }


def _naming(config: SetupConfig) -> Callable[[str, Any], str]:
    """How a changed setting reads: an entry by its name rather than its id."""

    def name(setting: str, value: Any) -> str:
        collection = setup.SETTING_REFERENCES.get(setting)
        entry = config.entry(collection, value or None) if collection else None
        if collection and value:
            return str(entry["name"]) if entry else "an entry deleted since"
        return _shown(value)

    return name


# -- staff --------------------------------------------------------------------------


@bp.route(f"{SETUP}/staff", methods=["GET"])
@admin_view
def staff_page() -> Response:
    """A page of staff by name, with the form to add one: the session batch and one query."""
    context = _admin()
    cursor = web.query(bp.current_request).get("cursor")
    return _staff_page(context, _blank_member(), cursor=cursor, done=_done("staff member"))


@bp.route(f"{SETUP}/staff", methods=["POST"], content_types=[web.FORM])
@admin_view
def add_staff() -> Response:
    """Add a staff member with a role and a first password."""
    context = _admin()
    form = checked_form(bp, context, ("email", "name", "role", "password"))
    body = {name: form.get(name, "") for name in ("email", "name", "role", "password")}
    try:
        member = staff.create(body)
    except (InvalidInput, Conflict) as exc:
        # Conflict: the email is taken. The password is never shown again.
        echo = {name: form.get(name, "")[:ECHO_LIMIT] for name in ("email", "name", "role")}
        error = on_form(exc, ("email", "name", "role", "password"))
        return _staff_page(context, echo, error=error, status=http_status(exc))
    logger.info("staff member added", extra={"member_id": member.id, "role": member.role})
    return web.redirect(f"{SETUP}/staff?done=added")


@bp.route(f"{SETUP}/staff/{{staff_id}}", methods=["GET"])
@admin_view
def member_page(staff_id: str) -> Response:
    """One staff member's edit form; the member rides in the session batch."""
    keys = keys_for_ids((staff_id, Staff.key))
    context = _admin(keys)
    member = context.items.get(keys[0]) if keys else None
    if not isinstance(member, Staff):
        raise NotFound("No staff member has this id.")
    shown = staff.present(member)
    return _member_page(context, shown, _member_values(shown), member.version)


@bp.route(f"{SETUP}/staff/{{staff_id}}", methods=["POST"], content_types=[web.FORM])
@admin_view
def save_member(staff_id: str) -> Response:
    """Save an edit of a staff member under the version read. A blank password keeps theirs;
    the domain refuses an admin's own demotion or deactivation, and the form says so."""
    context = _admin()
    member_id = path_id(staff_id, "staff member")
    form = checked_form(bp, context, ("name", "role", "active", "password", "version"))
    active = form.get("active") == CHECKED
    echo = {"name": form.get("name", "")[:ECHO_LIMIT], "role": form.get("role", "")[:20], "active": active}
    try:
        body: dict[str, Any] = {
            "name": form.get("name", ""),
            "role": form.get("role", ""),
            "active": active,
            "version": _whole_number("version", form.get("version", "")),
        }
        if form.get("password"):
            body["password"] = form["password"]
        staff.update(context, member_id, body)
    except StaleVersion as exc:
        current = exc.current or {}
        stored = _member_values(current)
        changes = changes_between(list(STAFF_FIELDS.items()), echo, stored)
        return _member_page(context, current, stored, current.get("version"), changes=changes, status=409)
    except InvalidInput as exc:
        shown = staff.present(staff.get(member_id))
        error = on_form(exc, ("name", "role", "active", "password"))
        return _member_page(context, shown, echo, form.get("version", "")[:20], error=error, status=422)
    logger.info("staff member saved", extra={"member_id": member_id})
    return web.redirect(f"{SETUP}/staff?done=saved")


def _staff_page(
    context: StaffContext,
    form: dict[str, Any],
    *,
    cursor: str | None = None,
    error: HelpdeskError | None = None,
    status: int = 200,
    done: str | None = None,
) -> Response:
    try:
        members, next_cursor = staff.list_page(STAFF_PAGE, cursor)
    except InvalidInput:  # a cursor altered, or made for another list: start from the top
        members, next_cursor = staff.list_page(STAFF_PAGE, None)
    return page(
        "admin/setup_staff.html",
        context,
        nav="setup",
        status=status,
        lists=LISTS,
        section="staff",
        members=[staff.present(member) for member in members],
        next_cursor=next_cursor,
        roles=staff.ROLES,
        form=form,
        error=error,
        done=done,
    )


def _member_page(
    context: StaffContext,
    member: dict[str, Any],
    form: dict[str, Any],
    version: Any,
    *,
    error: HelpdeskError | None = None,
    changes: list[Change] | None = None,
    status: int = 200,
) -> Response:
    return page(
        "admin/setup_staff_member.html",
        context,
        nav="setup",
        status=status,
        lists=LISTS,
        section="staff",
        member=member,
        is_me=member.get("id") == context.staff.id,
        roles=staff.ROLES,
        form=form,
        version=version,
        error=error,
        changes=changes,
    )


def _blank_member() -> dict[str, Any]:
    return {"email": "", "name": "", "role": "agent"}


def _member_values(member: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": member.get("name", ""),
        "role": member.get("role", ""),
        "active": bool(member.get("active")),
    }


# -- shared -------------------------------------------------------------------------
# ``Change``, ``on_form`` and ``changes_between`` serve the site pages (``admin_site_routes``) too.


def _admin(extra_keys: list[Any] | None = None) -> StaffContext:
    """The signed-in admin of this request; an agent is refused (403) before anything else."""
    context = signed_in(bp, extra_keys or ())
    context.require_admin()
    return context


def _done(what: str) -> str | None:
    """The note a page shows after a change: a fixed phrase picked by ``?done=``, never text
    from the URL itself."""
    key = web.query(bp.current_request).get("done", "")
    return DONE[key].format(what.capitalize()) if key in DONE else None


def on_form(exc: HelpdeskError, shown: tuple[str, ...]) -> HelpdeskError:
    """``exc`` as the form shows it: tied to its field when the form shows that field, else
    a message above the form (a refused ``version``, say, has no input to mark)."""
    return exc if exc.field in shown else HelpdeskError(exc.message)


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "Yes" if value else "No"
    return "(none)" if value in (None, "") else str(value)


def changes_between(
    fields: list[tuple[str, str]],
    sent: dict[str, Any],
    stored: dict[str, Any],
    naming: Callable[[str, Any], str] | None = None,
) -> list[Change]:
    """The fields where what was sent differs from what is stored now, as text to show."""
    show = naming or (lambda _name, value: _shown(value))
    changes = []
    for name, label in fields:
        sent_text, stored_text = show(name, sent.get(name)), show(name, stored.get(name))
        if sent_text != stored_text:
            changes.append(Change(label, sent_text, stored_text))
    return changes
