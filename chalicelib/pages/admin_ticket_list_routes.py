"""``/admin/tickets`` and ``/admin/tickets/new``: the staff queue, finding a ticket, and
opening a ticket for a contact.

The queue is the API's ticket list as a page: the sign-in batch, then one query of the
index that ``ticket_lists`` picks for the filters. A row shows only what the ticket item
holds, or what the batch could fetch before the query. The contact and the assignee of a row
are ids on the ticket: reading their names would take a third round trip once the query has
named them. So a row links to its contact's page, and names its assignee when that is the
signed-in staff member or the one the list is filtered by (read in the batch, since the
filter names them before the query); the list filtered by a contact names that contact.

The assignee filter offers every colleague: the staff directory (``staff_directory``), one
item beside the config, rides in the same batch. A table whose directory is not built yet
offers what the batch knows without it (me, unassigned, the filtered one).

The find box is a look-up, not a list: a ticket number rides in the sign-in batch and
leads straight to the ticket; an email costs one query and leads to the list of that
contact's tickets, whose page then reads the contact in its own batch.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from chalice.app import Blueprint, Request, Response

from chalicelib.api.http import choice_param, http_status, keys_for_ids, page_size
from chalicelib.domain import contacts, staff_directory, ticket_lists, ticket_notes, tickets
from chalicelib.domain.staff import StaffContext
from chalicelib.errors import Conflict, HelpdeskError, InvalidInput
from chalicelib.observability import count, logger
from chalicelib.pages import web
from chalicelib.pages.admin_web import PREFIX, admin_view, checked_form, page, signed_in
from chalicelib.store.db import Key
from chalicelib.store.models import Contact, Item, Staff, Ticket
from chalicelib.validation import Field, is_identifier, parse_fields
from chalicelib.validation import email as parse_email

bp = Blueprint(__name__)

QUEUE = f"{PREFIX}/tickets"
NEW_TICKET = f"{PREFIX}/tickets/new"

# The queue's filters as URL parameters, in the order a link writes them.
FILTERS = (
    "status_id",
    "category_id",
    "service_level_id",
    "assignee_id",
    "contact_id",
    "state",
    "overdue",
    "order",
    "limit",
)
# How the page names each parameter when one of them is wrong.
FILTER_LABELS = {
    "status_id": "Status",
    "category_id": "Category",
    "service_level_id": "Service level",
    "assignee_id": "Assignee",
    "contact_id": "Contact",
    "state": "Open or closed",
    "overdue": "Overdue only",
    "order": "Order",
    "limit": "Page size",
    "q": "Find",
}
# Filters that can ask for tickets without a value ("none"); a ticket always has a status.
NONE_ALLOWED = ("category_id", "service_level_id", "assignee_id")
# Up to ten digits, as ticket numbers are; a leading "#" as the pages write them.
TICKET_NUMBER = re.compile(r"#?([0-9]{1,10})")
# How much of another staff member's id a row shows when it cannot show their name.
SHORT_ID = 6
STALE_CURSOR = "The link to that page no longer fits this list, so here is its first page."

# Contacts offered per search on the new-ticket page.
CONTACT_RESULTS = 10
NEW_TICKET_FIELDS = (
    "contact_id",
    "contact_name",
    "contact_email",
    "contact_phone",
    "subject",
    "body",
    "category_id",
    "service_level_id",
    "status_id",
    "note",
    "note_visibility",
)
# A first message and a first note of 20,000 characters each, in any script, URL-encoded.
NEW_TICKET_MAX_BYTES = 512 * 1024
# The inline contact's form fields, by the contact field each one fills.
CONTACT_FORM_FIELDS = {"name": "contact_name", "email": "contact_email", "phone": "contact_phone"}
NEW_CONTACT_SPEC = {name: contacts.CONTACT_SPEC[name] for name in CONTACT_FORM_FIELDS}
NOTE_FORM_FIELDS = {"body": "note", "public": "note_visibility"}
TICKET_SPEC: dict[str, Field] = {
    name: field for name, field in tickets.CREATE_SPEC.items() if name != "contact_id"
}
VISIBILITIES = ("private", "public")


# -- small helpers -------------------------------------------------------------------


def _found(context: StaffContext, key: Key, kind: type[Item]) -> Any:
    """The item of ``kind`` the sign-in batch read under ``key``, or None."""
    item = context.items.get(key)
    return item if isinstance(item, kind) else None


def _link(params: dict[str, str]) -> str:
    return f"{QUEUE}?{urlencode(params)}" if params else QUEUE


def _renamed(exc: HelpdeskError, names: dict[str, str]) -> HelpdeskError:
    """``exc`` again, naming the form's field rather than the domain's (a note's ``body`` is
    the form's ``note``), so the page marks the field the person typed into."""
    field = names.get(exc.field, exc.field) if exc.field else None
    return type(exc)(exc.message, field=field)


# -- the queue -----------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One ticket of the queue, with the names the page can give without another read."""

    ticket: Ticket
    status: str
    category: str | None
    level: dict[str, Any] | None
    assignee: str
    # Set when the row can only show a short id: the link that lists that person's tickets.
    assignee_link: str | None
    contact_name: str | None
    overdue: bool


@dataclass(frozen=True)
class Queue:
    """The list the filters ask for, and the items the batch read for them."""

    query: ticket_lists.TicketQuery
    limit: int
    contact: Contact | None
    assignee: Staff | None


def _filters(params: dict[str, str]) -> dict[str, str]:
    """The filters that are set: an empty select means any value."""
    return {name: params[name].strip() for name in FILTERS if params.get(name, "").strip()}


def _filter_keys(filters: dict[str, str]) -> list[Key]:
    """What the batch reads for the filters: the contact and the assignee they name, and the
    staff directory the assignee filter offers."""
    assignee_id = filters.get("assignee_id")
    named = keys_for_ids(
        (filters.get("contact_id"), Contact.key),
        (assignee_id if assignee_id != "none" else None, Staff.key),
    )
    return [*named, staff_directory.key()]


def _queue(context: StaffContext, filters: dict[str, str]) -> Queue:
    """The query for ``filters``; ``InvalidInput`` naming the first one that names nothing."""
    config = context.config
    for name, collection in tickets.SETUP_REFERENCES.items():
        value = filters.get(name)
        if value and not (value == "none" and name in NONE_ALLOWED):
            config.require(collection, value, name)

    contact = None
    contact_id = filters.get("contact_id")
    if contact_id:
        contact = _found(context, Contact.key(contact_id), Contact) if is_identifier(contact_id) else None
        if contact is None:
            raise InvalidInput("'contact_id' names no contact.", field="contact_id")
    assignee = None
    assignee_id = filters.get("assignee_id")
    if assignee_id and assignee_id not in ("none", context.staff.id):
        assignee = _found(context, Staff.key(assignee_id), Staff) if is_identifier(assignee_id) else None
        if assignee is None:
            raise InvalidInput("'assignee_id' names no staff member.", field="assignee_id")

    query = ticket_lists.TicketQuery(
        status_id=filters.get("status_id"),
        category_id=filters.get("category_id"),
        service_level_id=filters.get("service_level_id"),
        assignee_id=assignee_id,
        contact_id=contact_id,
        overdue=choice_param(filters, "overdue", ("true", "false"), "false") == "true",
        state=choice_param(filters, "state", ("open", "closed"), None),
        order=choice_param(filters, "order", ("priority", "newest"), "priority") or "priority",
    )
    return Queue(query, page_size(filters), contact, assignee)


def _row(context: StaffContext, queue: Queue, ticket: Ticket) -> Row:
    config = context.config
    status = config.entry("statuses", ticket.status_id)
    category = config.entry("categories", ticket.category_id)
    assignee_link = None
    if ticket.assignee_id is None:
        assignee = "Unassigned"
    elif ticket.assignee_id == context.staff.id:
        assignee = "You"
    elif queue.assignee is not None and ticket.assignee_id == queue.assignee.id:
        assignee = queue.assignee.name
    else:
        # The ticket keeps its assignee's name; one saved before it did shows the id's start.
        assignee = ticket.assignee_name or f"Staff {ticket.assignee_id[:SHORT_ID]}"
        assignee_link = _link({"assignee_id": ticket.assignee_id})
    return Row(
        ticket=ticket,
        status=str(status["name"]) if status else "No status",
        category=str(category["name"]) if category else None,
        level=config.entry("service_levels", ticket.service_level_id),
        assignee=assignee,
        assignee_link=assignee_link,
        contact_name=queue.contact.name if queue.contact is not None else ticket.contact_name,
        overdue=tickets.is_overdue(ticket),
    )


def _views(context: StaffContext) -> list[tuple[str, dict[str, str]]]:
    """The lists staff open most, as links: the same ones the dashboard's figures lead to."""
    return [
        ("All tickets", {}),
        ("Open", {"state": "open"}),
        ("Mine", {"assignee_id": context.staff.id, "state": "open"}),
        ("Unassigned", {"assignee_id": "none", "state": "open"}),
        ("Overdue", {"overdue": "true"}),
    ]


def _queue_page(
    context: StaffContext,
    filters: dict[str, str],
    *,
    queue: Queue | None = None,
    rows: list[Row] | None = None,
    status: int = 200,
    **values: Any,
) -> Response:
    """The queue page; without ``rows`` it shows the filters and the find box only."""
    config = context.config
    views = [(label, _link(params), params == filters) for label, params in _views(context)]
    directory = staff_directory.of(context.items)
    colleagues = [
        member for member in (directory.ordered() if directory else []) if member.id != context.staff.id
    ]
    return page(
        "admin/tickets.html",
        context,
        nav="tickets",
        status=status,
        # Every filter, "" when not set: the form shows each one.
        filters={name: filters.get(name, "") for name in FILTERS},
        filtered=bool(filters),
        rows=rows,
        contact=queue.contact if queue else None,
        assignee=queue.assignee if queue else None,
        colleagues=colleagues,
        statuses=config.ordered("statuses"),
        categories=config.ordered("categories"),
        levels=config.ordered("service_levels"),
        views=views,
        **{
            "q": "",
            "error": None,
            "notice": None,
            "nothing_found": None,
            "next_link": None,
            "paged": False,
            "first_link": QUEUE,
            "labels": FILTER_LABELS,
            **values,
        },
    )


@bp.route("/admin/tickets", methods=["GET"])
@admin_view
def queue_page() -> Response:
    """The queue: filtered, in priority order (open first, then service level rank, then due
    date) or newest first, a page at a time. The sign-in batch and one query."""
    params = web.query(bp.current_request)
    wanted = params.get("q", "").strip()
    if wanted:
        return _find(wanted)

    filters = _filters(params)
    context = signed_in(bp, _filter_keys(filters))
    try:
        queue = _queue(context, filters)
    except InvalidInput as exc:
        return _queue_page(context, filters, status=422, error=exc)

    cursor = params.get("cursor") or None
    notice = None
    try:
        found, next_cursor = ticket_lists.list_page(queue.query, queue.limit, cursor)
    except InvalidInput:
        # A cursor altered, or made for other filters: the signature fails before any read.
        found, next_cursor = ticket_lists.list_page(queue.query, queue.limit, None)
        cursor, notice = None, STALE_CURSOR
    return _queue_page(
        context,
        filters,
        queue=queue,
        rows=[_row(context, queue, ticket) for ticket in found],
        notice=notice,
        paged=cursor is not None,
        first_link=_link(filters),
        next_link=_link({**filters, "cursor": next_cursor}) if next_cursor else None,
    )


def _find(wanted: str) -> Response:
    """Go to the ticket with this number, or list the tickets of the contact with this email;
    otherwise say that nothing was found. Staff may see every ticket and contact, so saying
    which numbers and addresses exist tells them nothing they could not list."""
    number_match = TICKET_NUMBER.fullmatch(wanted)
    number = int(number_match.group(1)) if number_match else None
    wanted_ticket = [Ticket.key(number)] if number is not None else []
    # The directory too: a page that says nothing was found shows the filters again.
    context = signed_in(bp, [*wanted_ticket, staff_directory.key()])
    if number is not None:
        if _found(context, Ticket.key(number), Ticket) is not None:
            return web.redirect(f"{QUEUE}/{number}")
        return _queue_page(context, {}, q=wanted, nothing_found=f"No ticket has the number {number}.")

    if "@" not in wanted:
        error = InvalidInput("Enter a ticket number, such as 1042, or a contact's email address.", field="q")
        return _queue_page(context, {}, status=422, q=wanted, error=error)
    try:
        address = parse_email(wanted)
    except ValueError:
        error = InvalidInput("This is not an email address a contact could have.", field="q")
        return _queue_page(context, {}, status=422, q=wanted, error=error)
    contact = contacts.find_by_email(address)
    if contact is None:
        return _queue_page(
            context, {}, q=wanted, nothing_found=f"No contact has the email address {address}."
        )
    return web.redirect(_link({"contact_id": contact.id}))


# -- a new ticket --------------------------------------------------------------------


@dataclass(frozen=True)
class Search:
    """A contact search on the new-ticket page: what was typed and the contacts found."""

    text: str = ""
    # None when nothing was searched for; a list (maybe empty) otherwise.
    found: list[Contact] | None = None
    more_link: str | None = None


@dataclass(frozen=True)
class NewTicket:
    """A new-ticket form checked through: everything the writes need, nothing written yet."""

    contact: Contact | None  # None: create ``new_contact`` first
    new_contact: dict[str, Any]
    ticket: dict[str, Any]  # the body ``tickets.create`` takes, less the contact
    note: dict[str, Any] | None


def _chosen(context: StaffContext, contact_id: str) -> Contact | None:
    return _found(context, Contact.key(contact_id), Contact) if is_identifier(contact_id) else None


def _search(text: str, cursor: str | None) -> Search:
    """Contacts with this email, or whose name starts with this text: one query."""
    if not text:
        return Search()
    if "@" in text:
        try:
            address = parse_email(text)
        except ValueError as exc:
            raise InvalidInput("Enter a whole email address, or the start of a name.", field="find") from exc
        found = contacts.find_by_email(address)
        return Search(text, [found] if found else [])
    if len(text) > contacts.NAME_MAX:
        raise InvalidInput(f"A name has at most {contacts.NAME_MAX} characters.", field="find")
    try:
        matches, next_cursor = contacts.list_page(text, CONTACT_RESULTS, cursor)
    except InvalidInput:  # a cursor altered or from another search: from the first match
        matches, next_cursor = contacts.list_page(text, CONTACT_RESULTS, None)
    more = f"{NEW_TICKET}?{urlencode({'find': text, 'cursor': next_cursor})}" if next_cursor else None
    return Search(text, matches, more)


def _defaults(context: StaffContext, contact: Contact | None) -> dict[str, str]:
    """The form's first values: the default status, and the contact's own service level or
    else the helpdesk's default (what ``tickets.open_ticket`` applies to an empty choice)."""
    config = context.config
    settings = config.settings
    level = settings.get("default_service_level_id")
    if contact is not None and config.entry("service_levels", contact.service_level_id):
        level = contact.service_level_id
    status = settings.get("default_status_id")
    return {
        "service_level_id": str(level) if config.entry("service_levels", level) else "",
        "status_id": str(status) if config.entry("statuses", status) else "",
        "note_visibility": "private",
    }


def _form_page(
    context: StaffContext,
    form: dict[str, str],
    contact: Contact | None,
    *,
    search: Search | None = None,
    error: HelpdeskError | None = None,
    status: int = 200,
) -> Response:
    config = context.config
    level = config.entry("service_levels", contact.service_level_id) if contact else None
    return page(
        "admin/new_ticket.html",
        context,
        nav="new",
        status=status,
        form=form,
        contact=contact,
        contact_level=level,
        search=search or Search(),
        error=error,
        statuses=config.ordered("statuses"),
        categories=config.ordered("categories"),
        levels=config.ordered("service_levels"),
    )


@bp.route("/admin/tickets/new", methods=["GET"])
@admin_view
def new_ticket_page() -> Response:
    """The new-ticket form: a contact search (by email or the start of a name), the chosen
    contact with their default service level pre-filled, or fields for a new contact. The
    chosen contact rides in the sign-in batch; a search is the one query."""
    params = web.query(bp.current_request)
    contact_id = params.get("contact_id", "").strip()
    context = signed_in(bp, keys_for_ids((contact_id or None, Contact.key)))
    contact = _chosen(context, contact_id) if contact_id else None
    form = {**_defaults(context, contact), "contact_id": contact.id if contact else ""}

    error: HelpdeskError | None = None
    if contact_id and contact is None:
        error = InvalidInput("No contact has this id any more; search for the contact again.", field="find")
    text = params.get("find", "").strip()
    try:
        search = _search(text, params.get("cursor") or None)
    except InvalidInput as exc:
        search, error = Search(text), exc
    return _form_page(context, form, contact, search=search, error=error, status=422 if error else 200)


def _peek_contact_id(request: Request) -> str | None:
    """The form's ``contact_id``, read before the session only to choose what the batch
    fetches; the form is read again, with its CSRF token checked, once signed in."""
    try:
        return web.form_fields(request, ("contact_id",), NEW_TICKET_MAX_BYTES, ignore_unknown=True).get(
            "contact_id"
        )
    except HelpdeskError:
        return None


def _checked(context: StaffContext, form: dict[str, str], chosen: Contact | None) -> NewTicket:
    """Every field of the form checked, before anything is written: a bad field leaves no
    contact without its ticket behind. ``InvalidInput`` names the form's field."""
    new_contact: dict[str, Any] = {}
    if form.get("contact_id", "").strip():
        if chosen is None:
            raise InvalidInput("No contact has this id any more; search for the contact again.", field="find")
    else:
        phone = form.get("contact_phone", "").strip()
        new_contact = {
            "name": form.get("contact_name", ""),
            "email": form.get("contact_email", ""),
            **({"phone": phone} if phone else {}),
        }
        try:
            parse_fields(new_contact, NEW_CONTACT_SPEC)
        except InvalidInput as exc:
            raise _renamed(exc, CONTACT_FORM_FIELDS) from exc

    ticket: dict[str, Any] = {
        "subject": form.get("subject", ""),
        "body": form.get("body", ""),
        **{name: form.get(name, "").strip() or None for name in tickets.SETUP_REFERENCES},
    }
    parse_fields(ticket, TICKET_SPEC)
    for name, collection in tickets.SETUP_REFERENCES.items():
        if ticket[name]:
            context.config.require(collection, ticket[name], name)

    visibility = form.get("note_visibility") or "private"
    if visibility not in VISIBILITIES:
        raise InvalidInput("Choose who may see the note.", field="note_visibility")
    note = None
    if form.get("note", "").strip():
        note = {"body": form["note"], "public": visibility == "public"}
        try:
            parse_fields(note, ticket_notes.NOTE_SPEC)
        except InvalidInput as exc:
            raise _renamed(exc, NOTE_FORM_FIELDS) from exc
    return NewTicket(chosen, new_contact, ticket, note)


def _contact_refused(context: StaffContext, form: dict[str, str], exc: HelpdeskError) -> Response:
    """The form again, with the new contact's refused field marked."""
    error = _renamed(exc, CONTACT_FORM_FIELDS)
    logger.info("new ticket refused", extra={"field": error.field})
    return _form_page(context, form, None, error=error, status=http_status(error))


@bp.route("/admin/tickets/new", methods=["POST"], content_types=[web.FORM])
@admin_view
def create_ticket() -> Response:
    """Open a ticket as the API does (``created_by`` the staff member), with its first note
    and, if the form asks for one, a new contact, all in one transaction.

    The whole form is checked before the first write, so a bad field writes nothing. The
    one check that needs the table, an email another contact has, is the first write's own
    condition, so it too fails before anything is written.
    """
    request = bp.current_request
    context = signed_in(bp, keys_for_ids((_peek_contact_id(request), Contact.key)))
    form = checked_form(bp, context, NEW_TICKET_FIELDS, NEW_TICKET_MAX_BYTES)
    chosen = _chosen(context, form.get("contact_id", "").strip())
    try:
        plan = _checked(context, form, chosen)
    except InvalidInput as exc:
        return _form_page(context, form, chosen, error=exc, status=422)

    contact, new_contact = plan.contact, None
    if contact is None:
        try:
            new_contact = contacts.build(context.config, plan.new_contact)
        except InvalidInput as exc:
            return _contact_refused(context, form, exc)
        contact = new_contact.contact
    author = ticket_notes.Author(kind="staff", id=context.staff.id, name=context.staff.name)
    try:
        # A new contact, the ticket and its first note: one transaction after the number.
        ticket = tickets.create(
            context.config,
            contact,
            {"contact_id": contact.id, **plan.ticket},
            source="staff",
            created_by=f"staff:{context.staff.id}",
            first_note=ticket_notes.draft_note(plan.note, author) if plan.note is not None else None,
            new_contact=new_contact,
        )
    except Conflict as exc:  # a new contact's email, claimed since the form was checked
        return _contact_refused(context, form, exc)
    if new_contact is not None:
        logger.info("contact created", extra={"contact_id": contact.id, "source": "staff page"})
    logger.append_keys(ticket_number=ticket.number)
    count("TicketsCreated")
    logger.info("ticket created", extra={"ticket_number": ticket.number, "source": "staff page"})
    return web.redirect(f"{QUEUE}/{ticket.number}?done=created")
