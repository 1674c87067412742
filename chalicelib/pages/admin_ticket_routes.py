"""``/admin/tickets/{number}``: one ticket as staff work it. Its details and timeline (the
body, then notes and changes in the order they happened), a note form that starts private,
the edit of status, category, service level and assignee under the version read, claiming
and the assign page.

Every GET page is the sign-in batch and one query:

- the ticket page: the batch, then the conversation query (ticket, newest notes and
  changes, rating);
- an older part of its timeline: the ticket and its rating ride in the batch, then one
  query of older entries;
- the assign page: the ticket in the batch, then one page of the staff list.

The delivery log is a page of its own (``admin_delivery_routes``), linked from the
ticket, rather than a part of it: the ticket page's one query reads the partition's
``NOTE#`` to ``TICKET`` keys, and the deliveries sort before them (``DELIVERY#``), so
showing them would be a third round trip (docs/decisions.md). The ticket item counts its
failed notifications awaiting a re-send (``failed_deliveries``), so the page says how many
there are and links to the log. A staff member's re-send request is also a change on the
ticket, so the timeline tells it.

The assignee choice offers every active colleague from the staff directory, which rides
in the sign-in batch (``chalicelib.domain.staff_directory``). A table whose directory is
not built yet offers who is known without a read instead: nobody, the signed-in staff
member, the current assignee and the staff the timeline names; anyone else is then one
click away on the assign page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chalice.app import Blueprint, Request, Response

from chalicelib.api.http import keys_for_ids
from chalicelib.domain import staff, staff_directory, ticket_changes, ticket_notes, tickets
from chalicelib.domain.setup import SetupConfig
from chalicelib.domain.staff import StaffContext
from chalicelib.errors import HelpdeskError, InvalidInput, NotFound, StaleVersion
from chalicelib.observability import count, logger
from chalicelib.pages import web
from chalicelib.pages.admin_delivery_routes import CHANNELS, MESSAGES
from chalicelib.pages.admin_web import (
    PREFIX,
    admin_view,
    checked_form,
    page,
    signed_in,
    ticket_in,
)
from chalicelib.store.db import get_one
from chalicelib.store.models import Change, Note, Rating, Staff, Ticket
from chalicelib.validation import is_identifier

bp = Blueprint(__name__)

TICKETS = f"{PREFIX}/tickets"
STAFF_PAGE_SIZE = 50
# A note may hold 20,000 characters; percent-encoded, each can take up to 9 bytes.
NOTE_MAX_BYTES = 192 * 1024

NOTE_FIELDS = ("body", "visibility")
EDITED = ("status_id", "category_id", "service_level_id", "assignee_id")
EDIT_FIELDS = (*EDITED, "version")
FIELD_LABELS = {
    "status_id": "Status",
    "category_id": "Category",
    "service_level_id": "Service level",
    "assignee_id": "Assignee",
}
# The setup list each edited field names an entry of, and how an unset or gone one reads.
COLLECTIONS = {"status_id": "statuses", "category_id": "categories", "service_level_id": "service_levels"}
UNSET = {
    "status_id": "no status",
    "category_id": "no category",
    "service_level_id": "no service level",
    "assignee_id": "unassigned",
}
GONE = {
    "status_id": "a deleted status",
    "category_id": "a deleted category",
    "service_level_id": "a deleted service level",
    "assignee_id": "another staff member",
}
SOURCES = {"staff": "Staff", "portal": "Customer portal", "website": "Website form"}
# What a redirect's ``done`` says; anything else in the query shows nothing.
DONE = {
    "created": "The ticket is created.",
    "note": "Your private note is saved. Only staff see it.",
    "reply": "Your public reply is saved. The customer sees it and is told by email.",
    "saved": "The ticket is saved.",
    "unchanged": "Nothing to save: the ticket already has these values.",
    "claimed": "The ticket is assigned to you.",
}
VERSION = re.compile(r"[1-9][0-9]{0,15}")
STALE_FORM = "This form is out of date. Please reload the ticket and make your change again."


# -- the ticket page -------------------------------------------------------------------


@bp.route("/admin/tickets/{number}", methods=["GET"])
@admin_view
def ticket_page(number: str) -> Response:
    """The ticket, its newest timeline entries and its rating: the batch and one query. With
    ``cursor`` (the "older entries" link), the entries before those instead."""
    wanted = tickets.number_or_none(number)
    params = web.query(bp.current_request)
    cursor = params.get("cursor")
    done = DONE.get(params.get("done", ""))
    if cursor and wanted is not None:
        return _older_entries(wanted, cursor)
    context = signed_in(bp, [staff_directory.key()])
    if wanted is None:
        raise NotFound("No ticket has this number.")
    conversation = _conversation(wanted)
    return _ticket_page(context, Timeline.of(conversation), done=done)


def _older_entries(number: int, cursor: str) -> Response:
    """The entries before a cursor, with the ticket and rating read in the batch."""
    context = signed_in(bp, [Ticket.key(number), Rating.key(number), staff_directory.key()])
    ticket = ticket_in(context, number)
    try:
        notes, changes, older = ticket_notes.timeline_page(number, ticket_notes.NOTES_SHOWN, cursor)
    except InvalidInput:  # an altered cursor, or one of another ticket: the newest entries
        return web.redirect(f"{TICKETS}/{number}")
    rating = context.items.get(Rating.key(number))
    timeline = Timeline(
        ticket, notes, changes, older, rating if isinstance(rating, Rating) else None, older_page=True
    )
    return _ticket_page(context, timeline)


@dataclass(frozen=True)
class Timeline:
    """What the ticket page shows of a ticket's partition: one page of its entries."""

    ticket: Ticket
    notes: list[Note]
    changes: list[Change]
    older_cursor: str | None
    rating: Rating | None
    # True on a page of older entries, reached through ``older_cursor`` of a newer page.
    older_page: bool = False

    @classmethod
    def of(cls, conversation: ticket_notes.Conversation) -> Timeline:
        return cls(
            conversation.ticket,
            conversation.notes,
            conversation.changes,
            conversation.notes_cursor,
            conversation.rating,
        )


@dataclass(frozen=True)
class Entry:
    """One line of the timeline as the page shows it."""

    kind: str  # "note", "change" or "resend"
    created_at: datetime
    who: str
    # Notes: the text, and whether the customer sees it or wrote it.
    body: str = ""
    public: bool = False
    from_customer: bool = False
    # Changes: "status from New to Waiting", one part per changed field.
    parts: tuple[str, ...] = ()
    # Re-send requests: which message, how and to whom, as the delivery log names them.
    message: str = ""
    channel: str = ""
    recipient: str = ""


def _ticket_page(
    context: StaffContext,
    timeline: Timeline,
    *,
    status: int = 200,
    done: str | None = None,
    **values: Any,
) -> Response:
    ticket = timeline.ticket
    config = context.config
    known = _known_staff(context, ticket, timeline.notes, timeline.changes)
    entries = [
        _entry(config, known, item) for item in ticket_notes.merge_timeline(timeline.notes, timeline.changes)
    ]
    return page(
        "admin/ticket.html",
        context,
        nav="tickets",
        status=status,
        ticket=ticket,
        done=done,
        entries=entries,
        older_cursor=timeline.older_cursor,
        older_page=timeline.older_page,
        rating=timeline.rating,
        overdue=tickets.is_overdue(ticket),
        failed_deliveries=ticket.failed_deliveries or 0,
        contact_name=_contact_name(ticket, timeline.notes, timeline.changes),
        opened_by=_opened_by(ticket, known),
        source=SOURCES.get(ticket.source, ticket.source),
        names={
            name: _upper_first(_value_name(config, known, name, getattr(ticket, name))) for name in EDITED
        },
        options=_options(config, known, ticket, context.staff, staff_directory.of(context.items)),
        mine=ticket.assignee_id == context.staff.id,
        **{
            "note_error": None,
            "note_body": "",
            "note_public": False,
            "edit_error": None,
            "edit_form": {name: getattr(ticket, name) or "" for name in EDITED},
            "edit_version": None,
            **values,
        },
    )


def _entry(config: SetupConfig, known: dict[str, str], item: Note | Change) -> Entry:
    if isinstance(item, Note):
        return Entry(
            "note",
            item.created_at,
            item.author_name,
            body=item.body,
            public=item.public,
            from_customer=item.author_type == "contact",
        )
    delivery = ticket_changes.delivery_of(item)
    if delivery is not None:
        return Entry(
            "resend",
            item.created_at,
            item.actor_name,
            message=MESSAGES.get(delivery["template"], delivery["template"]),
            channel=CHANNELS.get(delivery["channel"], delivery["channel"]).lower(),
            recipient=delivery["recipient"],
        )
    parts = tuple(
        f"{FIELD_LABELS[name].lower()} from {_value_name(config, known, name, before)}"
        f" to {_value_name(config, known, name, after)}"
        for name, (before, after) in ticket_changes.fields_of(item).items()
        if name in FIELD_LABELS
    )
    return Entry("change", item.created_at, item.actor_name, parts=parts)


def _value_name(config: SetupConfig, known: dict[str, str], name: str, value: str | None) -> str:
    """What a staff member reads for a field's id: the entry's or the person's name."""
    if value is None:
        return UNSET[name]
    if name == "assignee_id":
        return known.get(value, GONE[name])
    entry = config.entry(COLLECTIONS[name], value)
    return str(entry["name"]) if entry else GONE[name]


def _upper_first(text: str) -> str:
    """``text`` to start a line: its first letter upper-case, the rest as written."""
    return text[:1].upper() + text[1:]


def _known_staff(
    context: StaffContext, ticket: Ticket, notes: list[Note], changes: list[Change]
) -> dict[str, str]:
    """Staff names known without a read: those the timeline recorded (the latest wins) and
    the signed-in staff member's own."""
    known: dict[str, str] = {}
    for item in ticket_notes.merge_timeline(notes, changes):
        if isinstance(item, Change):
            known.update(ticket_changes.names_of(item))
        elif item.author_type == "staff":
            known[item.author_id] = item.author_name
    if ticket.assignee_id and ticket.assignee_name:
        known[ticket.assignee_id] = ticket.assignee_name  # the ticket keeps its assignee's name
    known[context.staff.id] = context.staff.name
    return known


def _opened_by(ticket: Ticket, known: dict[str, str]) -> str | None:
    """Who of the staff opened the ticket, by name when known; None when the customer did."""
    kind, _, actor_id = ticket.created_by.partition(":")
    if kind != "staff":
        return None
    return known.get(actor_id, "a staff member")


def _contact_name(ticket: Ticket, notes: list[Note], changes: list[Change]) -> str | None:
    """The customer's name as the ticket keeps it, else as their latest reply or change on
    the page recorded it."""
    name = ticket.contact_name
    for item in ticket_notes.merge_timeline(notes, changes):
        if isinstance(item, Note) and item.author_type == "contact" and item.author_id == ticket.contact_id:
            name = item.author_name
        if isinstance(item, Change) and item.actor_type == "contact" and item.actor_id == ticket.contact_id:
            name = item.actor_name
    return name


@dataclass(frozen=True)
class Option:
    value: str
    label: str


def _options(
    config: SetupConfig,
    known: dict[str, str],
    ticket: Ticket,
    me: Staff,
    directory: staff_directory.Directory | None,
) -> dict[str, list[Option]]:
    """The choices of the edit form's selects. A current value whose entry was deleted stays
    a choice, so saving another field does not change it."""
    options: dict[str, list[Option]] = {}
    for name, collection in COLLECTIONS.items():
        choices = [Option(entry["id"], str(entry["name"])) for entry in config.ordered(collection)]
        current = getattr(ticket, name)
        if name != "status_id" or current is None:
            choices.insert(0, Option("", _upper_first(UNSET[name])))
        if current is not None and config.entry(collection, current) is None:
            choices.append(Option(current, _upper_first(GONE[name])))
        options[name] = choices

    people = [Option("", "Unassigned"), Option(me.id, f"Me ({me.name})")]
    if ticket.assignee_id and ticket.assignee_id != me.id:
        people.append(Option(ticket.assignee_id, known.get(ticket.assignee_id, "The current assignee")))
    if directory is not None:
        others = [
            Option(member.id, member.name)
            for member in directory.ordered()
            if member.active and member.id not in (me.id, ticket.assignee_id)
        ]
    else:
        others = sorted(
            (
                Option(staff_id, name)
                for staff_id, name in known.items()
                if staff_id not in (me.id, ticket.assignee_id)
            ),
            key=lambda option: option.label.lower(),
        )
    options["assignee_id"] = people + others
    return options


# -- notes -------------------------------------------------------------------------------


@bp.route("/admin/tickets/{number}/notes", methods=["POST"], content_types=[web.FORM])
@admin_view
def add_note(number: str) -> Response:
    """Add a note: private unless the form says public, which the customer then sees."""
    wanted = tickets.number_or_none(number)
    context = signed_in(bp)
    form = checked_form(bp, context, NOTE_FIELDS, NOTE_MAX_BYTES)
    if wanted is None:
        raise NotFound("No ticket has this number.")
    public = form.get("visibility", "private") == "public"
    author = ticket_notes.Author(kind="staff", id=context.staff.id, name=context.staff.name)
    try:
        if form.get("visibility", "private") not in ("private", "public"):
            raise InvalidInput(
                "Choose who sees the note: staff only, or the customer too.", field="visibility"
            )
        ticket_notes.add_note(wanted, {"body": form.get("body", ""), "public": public}, author)
    except InvalidInput as exc:
        conversation = _conversation(wanted)
        return _ticket_page(
            context,
            Timeline.of(conversation),
            status=422,
            note_error=exc,
            note_body=form.get("body", "")[:20_000],
            note_public=public,
        )
    count("NotesAdded")
    logger.info("staff note added", extra={"ticket_number": wanted, "public": public})
    return web.redirect(f"{TICKETS}/{wanted}?done={'reply' if public else 'note'}#latest")


# -- edits and claiming ------------------------------------------------------------------


@bp.route("/admin/tickets/{number}", methods=["POST"], content_types=[web.FORM])
@admin_view
def save(number: str) -> Response:
    """Change status, category, service level or assignee under the version the form was
    read at; the edit and its record in the timeline are one write. Fields the form does
    not send (the assign page sends only the assignee) stay as they are."""
    request = bp.current_request
    wanted = tickets.number_or_none(number)
    extra = keys_for_ids((_peek(request, "assignee_id"), Staff.key))
    context = signed_in(bp, ([Ticket.key(wanted)] if wanted is not None else []) + extra)
    ticket = ticket_in(context, wanted)
    form = checked_form(bp, context, EDIT_FIELDS)
    sent = {name: form[name].strip() or None for name in EDITED if name in form}
    assignee = _staff_in(context, sent.get("assignee_id"))
    return _apply(context, ticket, sent, form.get("version", ""), assignee, done="saved")


@bp.route("/admin/tickets/{number}/claim", methods=["POST"], content_types=[web.FORM])
@admin_view
def claim(number: str) -> Response:
    """Assign the ticket to the signed-in staff member, under the version the page showed:
    a ticket someone else assigned meanwhile is not taken from them unseen."""
    wanted = tickets.number_or_none(number)
    context = signed_in(bp, [Ticket.key(wanted)] if wanted is not None else [])
    ticket = ticket_in(context, wanted)
    form = checked_form(bp, context, ("version",))
    sent: dict[str, str | None] = {"assignee_id": context.staff.id}
    return _apply(context, ticket, sent, form.get("version", ""), context.staff, done="claimed")


def _apply(
    context: StaffContext,
    ticket: Ticket,
    sent: dict[str, str | None],
    version: str,
    assignee: Staff | None,
    *,
    done: str,
) -> Response:
    """Save the fields ``sent`` that differ from the stored ticket. Values equal to what is
    stored need no write, so a form with nothing new is done whatever its version; one that
    would change something is checked against the version, and a stale one shows the 409
    page with the current values beside the sent ones."""
    wanted = {name: value for name, value in sent.items() if value != getattr(ticket, name)}
    if not wanted:
        return web.redirect(
            f"{TICKETS}/{ticket.number}?done={'claimed' if done == 'claimed' else 'unchanged'}"
        )
    actor = ticket_notes.Author(kind="staff", id=context.staff.id, name=context.staff.name)
    try:
        tickets.update(
            context.config, ticket, {**wanted, "version": _version(version)}, assignee, actor=actor
        )
    except StaleVersion as exc:
        return _stale_page(context, ticket.number, exc, sent, assignee)
    except InvalidInput as exc:
        conversation = _conversation(ticket.number)
        form = {name: getattr(conversation.ticket, name) or "" for name in EDITED}
        form.update({name: (value or "")[:64] for name, value in sent.items()})
        # The form keeps the version it was read at: fixing the field must not save over a
        # change someone made since.
        kept = version if VERSION.fullmatch(version) else None
        return _ticket_page(
            context, Timeline.of(conversation), status=422, edit_error=exc, edit_form=form, edit_version=kept
        )
    logger.info("ticket edited on page", extra={"ticket_number": ticket.number, "fields": sorted(wanted)})
    return web.redirect(f"{TICKETS}/{ticket.number}?done={done}")


@dataclass(frozen=True)
class Difference:
    label: str
    current: str
    yours: str


def _stale_page(
    context: StaffContext,
    number: int,
    exc: StaleVersion,
    sent: dict[str, str | None],
    assignee: Staff | None,
) -> Response:
    """409: someone saved the ticket after this form was read. Nothing was written; the page
    shows each sent field's current value beside the sent one, and offers to save the sent
    values again over the current version."""
    current = exc.current
    if current is None:
        raise NotFound("No ticket has this number.")
    known = {context.staff.id: context.staff.name}
    if assignee is not None:
        known[assignee.id] = assignee.name
    holder = current.get("assignee_id")
    if holder and holder not in known:
        # The one read this rare page adds: the name of whoever holds the ticket now.
        found = get_one(Staff.key(holder))
        if isinstance(found, Staff):
            known[found.id] = found.name
    differences = [
        Difference(
            FIELD_LABELS[name],
            _value_name(context.config, known, name, current.get(name)),
            _value_name(context.config, known, name, value),
        )
        for name, value in sent.items()
    ]
    logger.info("ticket edit refused as stale", extra={"ticket_number": number})
    return page(
        "admin/ticket_stale.html",
        context,
        nav="tickets",
        status=409,
        number=number,
        subject=str(current.get("subject", "")),
        differences=differences,
        same=all(current.get(name) == value for name, value in sent.items()),
        sent={name: value or "" for name, value in sent.items()},
        version=current.get("version"),
    )


# -- the assign page ---------------------------------------------------------------------


@bp.route("/admin/tickets/{number}/assign", methods=["GET"])
@admin_view
def assign_page(number: str) -> Response:
    """Every active staff member to assign the ticket to, a page at a time: the ticket rides
    in the batch, the staff list is the one query."""
    wanted = tickets.number_or_none(number)
    context = signed_in(bp, [Ticket.key(wanted)] if wanted is not None else [])
    ticket = ticket_in(context, wanted)
    cursor = web.query(bp.current_request).get("cursor")
    try:
        members, next_cursor = staff.list_page(STAFF_PAGE_SIZE, cursor)
    except InvalidInput:  # an altered cursor: from the top
        members, next_cursor = staff.list_page(STAFF_PAGE_SIZE, None)
    return page(
        "admin/ticket_assign.html",
        context,
        nav="tickets",
        ticket=ticket,
        members=[member for member in members if member.active],
        next_cursor=next_cursor,
        first_page=not cursor,
    )


# -- helpers -----------------------------------------------------------------------------


def _conversation(number: int) -> ticket_notes.Conversation:
    """The ticket with its newest entries: one query (the page size read when called)."""
    return ticket_notes.get_with_notes(number, limit=ticket_notes.NOTES_SHOWN)


def _staff_in(context: StaffContext, staff_id: str | None) -> Staff | None:
    if staff_id is None:
        return None
    found = context.items.get(Staff.key(staff_id)) if is_identifier(staff_id) else None
    return found if isinstance(found, Staff) else None


def _peek(request: Request, name: str) -> str | None:
    """One field of the form, read before sign-in only to choose what the batch fetches; the
    form is read again, its CSRF token checked, once signed in."""
    try:
        return web.form_fields(request, EDIT_FIELDS, ignore_unknown=True).get(name)
    except HelpdeskError:
        return None


def _version(raw: str) -> int:
    """The hidden version the page wrote; anything else is a form to reload."""
    if not VERSION.fullmatch(raw):
        raise InvalidInput(STALE_FORM)
    return int(raw)
