"""``/admin/contacts``: find and add contacts; a contact's details, tickets and balance; their
edit, portal access, statement and ledger entries.

Every page is the sign-in batch and one query. The contact itself rides in the batch, so
its page spends its one query on the contact's tickets; the statement needs a query of
its own (the ledger lives in the contact's partition), so it is a page of its own.

Forms post every field they show, so an unticked box reads as "no" and an emptied field
removes its value. An edit carries the version it was read at: a stale one answers 409
with what is stored now, and nothing is written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from chalice.app import Blueprint, Response

from chalicelib import clock
from chalicelib.api.http import keys_for_ids
from chalicelib.domain import contacts, ledger, portal_access, ticket_lists, tickets
from chalicelib.domain.setup import SetupConfig
from chalicelib.domain.staff import StaffContext
from chalicelib.errors import Conflict, InvalidInput, NotFound, StaleVersion
from chalicelib.observability import logger
from chalicelib.pages import statements, web
from chalicelib.pages.admin_web import PREFIX, admin_view, checked_form, page, signed_in
from chalicelib.store.models import Contact, Ticket
from chalicelib.validation import email as parse_email
from chalicelib.validation import minor_units

bp = Blueprint(__name__)

CONTACTS = f"{PREFIX}/contacts"
PAGE_SIZE = 25
TICKETS_PAGE_SIZE = 20
SEARCH_MAX = 254

CONTACT_FIELDS = (
    "name",
    "email",
    "phone",
    "company",
    "address",
    "service_level_id",
    "notify_email",
    "notify_sms",
)
EDIT_FIELDS = (*CONTACT_FIELDS, "version")
ACCESS_FIELDS = ("portal_access", "version")
ENTRY_FIELDS = ("type", "reference", "amount", "currency", "date", "due_date")
CHECKBOXES = ("notify_email", "notify_sms")
# Emptied, these are removed from the contact rather than stored as empty text.
OPTIONAL = ("phone", "company", "address", "service_level_id")
CHECKED = "1"
# Longest value a form field is shown again with after an error.
ECHO_MAX = {"address": 500, "email": 254}

PORTAL_STATES = {
    "none": ("No access", "The contact has never had a portal password."),
    "invited": ("Invited", "An invite was sent; the contact has not set a password yet."),
    "pending": ("Pending", "The contact registered and has not confirmed their email yet."),
    "active": ("Active", "The contact signs in to the portal."),
    "disabled": ("Disabled", "Staff shut this contact out of the portal."),
}
INVITABLE = ("none", "invited", "pending")
FIELD_LABELS = {
    "name": "Name",
    "email": "Email",
    "phone": "Phone",
    "company": "Company",
    "address": "Address",
    "service_level_id": "Default service level",
    "notify_email": "Email notifications",
    "notify_sms": "Text message notifications",
}
# What a redirect's ``done`` says; a fixed list, so no link can put words on the page.
DONE = {
    "created": "The contact is added.",
    "saved": "Your changes are saved.",
    "invited": "An invitation email is on its way to {email}.",
    "disabled": "Portal access is disabled; any portal sessions of this contact have ended.",
    "enabled": "Portal access is enabled again.",
    "entry": "The ledger entry is added.",
}
STALE_FORM = "This form is out of date or incomplete; reload the page and try again."


# -- the list and a new contact ------------------------------------------------------


@bp.route("/admin/contacts", methods=["GET"])
@admin_view
def contact_list() -> Response:
    """Contacts by name, those whose name starts with the search, or the one with the
    searched email address: the sign-in batch and one query."""
    context = signed_in(bp)
    params = web.query(bp.current_request)
    return _list_page(context, params.get("q", ""), params.get("cursor"), _blank_contact())


@bp.route("/admin/contacts", methods=["POST"], content_types=[web.FORM])
@admin_view
def create_contact() -> Response:
    """Add a contact, then open its page; a bad field or a taken email shows the form again."""
    context = signed_in(bp)
    form = checked_form(bp, context, CONTACT_FIELDS)
    try:
        contact = contacts.create(context.config, _contact_body(form))
    except (InvalidInput, Conflict) as exc:
        return _list_page(context, "", None, _echo(form), error=exc, status=422)

    logger.info("contact created", extra={"contact_id": contact.id})
    return web.redirect(f"{CONTACTS}/{contact.id}?done=created")


@dataclass
class Search:
    """What the list shows: the contacts found, how they were looked for, the next page."""

    q: str
    by_email: bool
    found: list[Contact]
    next_cursor: str | None = None
    invalid_email: bool = False


def _search(q: str, cursor: str | None) -> Search:
    """An ``@`` makes the search an exact email look-up; anything else is a name prefix. A
    name longer than any contact's finds nothing without asking the table."""
    if "@" in q:
        try:
            address = parse_email(q)
        except ValueError:
            return Search(q, True, [], invalid_email=True)
        found = contacts.find_by_email(address)
        return Search(q, True, [found] if found else [])
    if len(q) > contacts.NAME_MAX:
        return Search(q, False, [])
    try:
        page_of, next_cursor = contacts.list_page(q or None, PAGE_SIZE, cursor)
    except InvalidInput:  # a cursor altered or from another search: from the top again
        page_of, next_cursor = contacts.list_page(q or None, PAGE_SIZE, None)
    return Search(q, False, page_of, next_cursor)


def _list_page(
    context: StaffContext,
    q: str,
    cursor: str | None,
    form: dict[str, Any],
    *,
    error: InvalidInput | Conflict | None = None,
    status: int = 200,
) -> Response:
    q = q.strip()[:SEARCH_MAX]
    return page(
        "admin/contacts.html",
        context,
        status=status,
        nav="contacts",
        search=_search(q, cursor),
        form=form,
        error=error,
        levels=context.config.ordered("service_levels"),
        default_level=_default_level(context.config),
        level_name=lambda level_id: _level_name(context.config, level_id),
        portal_label=lambda state: PORTAL_STATES.get(state, (state, ""))[0],
    )


# -- one contact -----------------------------------------------------------------------


@bp.route("/admin/contacts/{contact_id}", methods=["GET"])
@admin_view
def contact_page(contact_id: str) -> Response:
    """Details, portal access, balance and tickets: the contact rides in the sign-in batch,
    the tickets are one query."""
    context = signed_in(bp, keys_for_ids((contact_id, Contact.key)))
    contact = _contact(context, contact_id)
    params = web.query(bp.current_request)
    return _contact_page(
        context,
        contact,
        cursor=params.get("cursor"),
        done=_done(params.get("done"), contact),
    )


@bp.route("/admin/contacts/{contact_id}", methods=["POST"], content_types=[web.FORM])
@admin_view
def save_contact(contact_id: str) -> Response:
    """Save an edit of the details, default service level and notification choices, under
    the version the form was read at."""
    context = signed_in(bp, keys_for_ids((contact_id, Contact.key)))
    form = checked_form(bp, context, EDIT_FIELDS)
    contact = _contact(context, contact_id)
    shown = contacts.present(contact)  # before the edit: a refused edit leaves it as stored
    try:
        contacts.update(context.config, contact, {**_contact_body(form), "version": _version(form)})
    except StaleVersion as exc:
        return _stale_page(context, contact, exc, yours=_echo(form))
    except (InvalidInput, Conflict) as exc:
        return _contact_page(context, contact, shown=shown, form=_echo(form), error=exc, status=422)

    logger.info("contact saved", extra={"contact_id": contact.id})
    return web.redirect(f"{CONTACTS}/{contact.id}?done=saved")


@bp.route("/admin/contacts/{contact_id}/portal-access", methods=["POST"], content_types=[web.FORM])
@admin_view
def set_portal_access(contact_id: str) -> Response:
    """Shut a contact out of the portal (their portal sessions end) or let them back in."""
    context = signed_in(bp, keys_for_ids((contact_id, Contact.key)))
    form = checked_form(bp, context, ACCESS_FIELDS)
    contact = _contact(context, contact_id)
    shown = contacts.present(contact)
    access = form.get("portal_access", "")
    try:
        contacts.update(context.config, contact, {"portal_access": access, "version": _version(form)})
    except StaleVersion as exc:
        return _stale_page(context, contact, exc)
    except InvalidInput as exc:
        return _contact_page(context, contact, shown=shown, problem=exc.message, status=422)

    logger.info("contact portal access set", extra={"contact_id": contact.id, "portal_access": access})
    return web.redirect(f"{CONTACTS}/{contact.id}?done={access}")


@bp.route("/admin/contacts/{contact_id}/invite", methods=["POST"], content_types=[web.FORM])
@admin_view
def invite(contact_id: str) -> Response:
    """Invite the contact to the portal: an email with a link to set a password follows.
    A contact who already uses the portal, or was shut out of it, cannot be invited (409)."""
    context = signed_in(bp, keys_for_ids((contact_id, Contact.key)))
    checked_form(bp, context, ())
    contact = _contact(context, contact_id)
    try:
        portal_access.invite(contact)
    except Conflict as exc:
        return _contact_page(context, contact, problem=exc.message, status=409)

    logger.info("contact invited", extra={"contact_id": contact.id})
    return web.redirect(f"{CONTACTS}/{contact.id}?done=invited")


def _contact(context: StaffContext, contact_id: str) -> Contact:
    found = context.items.get(Contact.key(contact_id))
    if not isinstance(found, Contact):
        raise NotFound("No contact has this id.")
    logger.append_keys(contact_id=found.id)
    return found


@dataclass
class TicketRow:
    """A ticket as the contact's list shows it."""

    number: int
    subject: str
    status: str
    closed: bool
    level: str
    overdue: bool
    updated_at: Any


@dataclass
class Balance:
    """Where the contact's account stands in one currency."""

    currency: str
    amount: str
    state: str  # "owes", "in credit" or "settled"


@dataclass
class Difference:
    """A field someone else changed, or that this edit would have changed, side by side."""

    label: str
    current: str
    yours: str


def _contact_page(
    context: StaffContext,
    contact: Contact,
    *,
    shown: dict[str, Any] | None = None,
    form: dict[str, Any] | None = None,
    cursor: str | None = None,
    error: InvalidInput | Conflict | None = None,
    problem: str | None = None,
    stale: bool = False,
    differences: list[Difference] | None = None,
    done: str | None = None,
    status: int = 200,
) -> Response:
    """The contact page; ``shown`` is what the details say (the stored contact unless
    given), ``form`` what the edit form holds (the details unless given)."""
    details = shown or contacts.present(contact)
    rows, next_cursor = _tickets(context.config, contact.id, cursor)
    label, description = PORTAL_STATES.get(details["portal_access"], (details["portal_access"], ""))
    return page(
        "admin/contact.html",
        context,
        status=status,
        nav="contacts",
        details=details,
        form=form or _form_of(details),
        error=error,
        problem=problem,
        stale=stale,
        differences=differences,
        done=done,
        tickets=rows,
        next_cursor=next_cursor,
        balances=_balances(contact),
        levels=context.config.ordered("service_levels"),
        level_name=_level_name(context.config, details["service_level_id"]),
        default_level=_default_level(context.config),
        portal_label=label,
        portal_description=description,
        invitable=details["portal_access"] in INVITABLE,
    )


def _stale_page(
    context: StaffContext, contact: Contact, exc: StaleVersion, yours: dict[str, Any] | None = None
) -> Response:
    """409: someone else saved first. The page shows the stored values (and the form holds
    them, under their version) and, for an edit, what this one would have changed."""
    current = exc.current or contacts.present(contacts.get(contact.id))
    differences = _differences(context.config, current, yours) if yours else None
    return _contact_page(context, contact, shown=current, stale=True, differences=differences, status=409)


def _tickets(config: SetupConfig, contact_id: str, cursor: str | None) -> tuple[list[TicketRow], str | None]:
    """A page of the contact's tickets, newest first; one query (an altered cursor starts
    from the top: it is refused before the table is asked)."""
    query = ticket_lists.TicketQuery(contact_id=contact_id, order="newest")
    try:
        found, next_cursor = ticket_lists.list_page(query, TICKETS_PAGE_SIZE, cursor)
    except InvalidInput:
        found, next_cursor = ticket_lists.list_page(query, TICKETS_PAGE_SIZE, None)
    return [_ticket_row(config, ticket) for ticket in found], next_cursor


def _ticket_row(config: SetupConfig, ticket: Ticket) -> TicketRow:
    status = config.entry("statuses", ticket.status_id)
    level = config.entry("service_levels", ticket.service_level_id)
    return TicketRow(
        number=ticket.number,
        subject=ticket.subject,
        status=str(status["name"]) if status else ("Closed" if ticket.closed else "Open"),
        closed=ticket.closed,
        level=str(level["name"]) if level else "",
        overdue=tickets.is_overdue(ticket),
        updated_at=ticket.updated_at,
    )


def _balances(contact: Contact) -> list[Balance]:
    """The balances the ledger keeps on the contact, by currency, each with its currency's
    decimal places; what is owed (``ledger.outstanding``) and what is in credit alike."""
    owed = ledger.outstanding(contact)
    rows = []
    for code, amount in sorted(contact.balances.items()):
        if code in owed:
            rows.append(Balance(code, statements.grouped(owed[code]), "owes"))
            continue
        places = minor_units(code) or 0
        text = format(abs(amount).quantize(Decimal(1).scaleb(-places)), "f")
        rows.append(Balance(code, statements.grouped(text), "in credit" if amount < 0 else "settled"))
    return rows


def _done(key: str | None, contact: Contact) -> str | None:
    message = DONE.get(key or "")
    return message.format(email=contact.email) if message else None


def _level_name(config: SetupConfig, level_id: str | None) -> str:
    level = config.entry("service_levels", level_id)
    return str(level["name"]) if level else ""


def _default_level(config: SetupConfig) -> str:
    """The service level a ticket gets when its contact has none of their own."""
    return _level_name(config, config.settings.get("default_service_level_id"))


def _differences(config: SetupConfig, current: dict[str, Any], yours: dict[str, Any]) -> list[Difference]:
    """The fields where what is stored now and what this edit sent differ."""
    stored = _form_of(current)
    return [
        Difference(label, _readable(config, name, stored[name]), _readable(config, name, yours[name]))
        for name, label in FIELD_LABELS.items()
        if stored[name] != yours[name]
    ]


def _readable(config: SetupConfig, name: str, value: Any) -> str:
    if name in CHECKBOXES:
        return "Yes" if value else "No"
    if name == "service_level_id":
        return _level_name(config, value) or "None"
    return str(value) if value else "(empty)"


# -- form values -----------------------------------------------------------------------


def _contact_body(form: dict[str, str]) -> dict[str, Any]:
    """The form as a contact's fields: a box not ticked is not sent, so it reads as false;
    an emptied optional field removes it."""
    body: dict[str, Any] = {name: form.get(name) == CHECKED for name in CHECKBOXES}
    body["name"] = form.get("name", "")
    body["email"] = form.get("email", "")
    for name in OPTIONAL:
        body[name] = form.get(name, "").strip() or None
    return body


def _version(form: dict[str, str]) -> int:
    """The hidden version, which the page wrote: anything else is a form to reload."""
    raw = form.get("version", "")
    if not re.fullmatch(r"[1-9][0-9]{0,15}", raw):
        raise InvalidInput(STALE_FORM)
    return int(raw)


def _blank_contact() -> dict[str, Any]:
    return {
        **{name: "" for name in CONTACT_FIELDS if name not in CHECKBOXES},
        "notify_email": True,
        "notify_sms": False,
    }


def _echo(form: dict[str, str]) -> dict[str, Any]:
    """What was typed, to show again with the error (cut to what a field can hold)."""
    echoed: dict[str, Any] = {
        name: form.get(name, "").strip()[: ECHO_MAX.get(name, 200)]
        for name in CONTACT_FIELDS
        if name not in CHECKBOXES
    }
    echoed.update({name: form.get(name) == CHECKED for name in CHECKBOXES})
    echoed["version"] = form.get("version", "")[:20]
    return echoed


def _form_of(details: dict[str, Any]) -> dict[str, Any]:
    """A stored contact (as ``contacts.present`` gives it) as the edit form's values."""
    values: dict[str, Any] = {name: details.get(name) or "" for name in CONTACT_FIELDS}
    values.update({name: bool(details.get(name)) for name in CHECKBOXES})
    values["version"] = str(details["version"])
    return values


# -- the statement and ledger entries ---------------------------------------------------


@bp.route("/admin/contacts/{contact_id}/statement", methods=["GET"])
@admin_view
def statement_page(contact_id: str) -> Response:
    """Every ledger entry with the running balance per currency, and the form to add one:
    the sign-in batch (with the contact) and one query of the contact's partition."""
    context = signed_in(bp, keys_for_ids((contact_id, Contact.key)))
    contact = _contact(context, contact_id)
    params = web.query(bp.current_request)
    return _statement_page(context, contact, _blank_entry(contact), done=_done(params.get("done"), contact))


@bp.route("/admin/contacts/{contact_id}/transactions", methods=["POST"], content_types=[web.FORM])
@admin_view
def add_entry(contact_id: str) -> Response:
    """Add an invoice, payment or credit note; it counts towards the balance at once."""
    context = signed_in(bp, keys_for_ids((contact_id, Contact.key)))
    form = checked_form(bp, context, ENTRY_FIELDS)
    contact = _contact(context, contact_id)
    try:
        entry = ledger.add_entry(contact.id, _entry_body(form), actor=f"staff:{context.staff.id}")
    except InvalidInput as exc:
        echoed = {name: form.get(name, "")[:80] for name in ENTRY_FIELDS}
        return _statement_page(context, contact, echoed, error=exc, status=422)

    logger.info("ledger entry added", extra={"contact_id": contact.id, "entry_id": entry.id})
    return web.redirect(f"{CONTACTS}/{contact.id}/statement?done=entry")


def _entry_body(form: dict[str, str]) -> dict[str, Any]:
    """The form as a ledger entry: the currency read in capitals, no due date when empty."""
    return {
        "type": form.get("type", ""),
        "reference": form.get("reference", ""),
        "amount": form.get("amount", "").strip(),
        "currency": form.get("currency", "").strip().upper(),
        "date": form.get("date", "").strip(),
        "due_date": form.get("due_date", "").strip() or None,
    }


def _blank_entry(contact: Contact) -> dict[str, str]:
    """A new entry dated today, in the contact's currency when they have only one."""
    codes = sorted(contact.balances)
    return {
        "type": "invoice",
        "reference": "",
        "amount": "",
        "currency": codes[0] if len(codes) == 1 else "",
        "date": clock.now().date().isoformat(),
        "due_date": "",
    }


def _statement_page(
    context: StaffContext,
    contact: Contact,
    form: dict[str, str],
    *,
    error: InvalidInput | None = None,
    done: str | None = None,
    status: int = 200,
) -> Response:
    statement = ledger.statement(contact.id)
    return page(
        "admin/contact_statement.html",
        context,
        status=status,
        nav="contacts",
        contact=contact,
        accounts=statements.accounts(statement),
        outstanding=statements.outstanding(statement),
        form=form,
        error=error,
        done=done,
        entry_types=statements.ENTRY_LABELS,
    )
