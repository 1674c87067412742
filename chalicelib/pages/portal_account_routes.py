"""``/portal/account`` and ``/portal/statement``: the customer's own details, notification
choices, email and password; their ledger as a page and as a CSV download.

The account form posts every field it shows; a field it does not show (name, service
level, portal state) is dropped unread. The statement is the session batch and one query
of the contact's partition, which holds its ledger; ``/portal/statement.csv`` is the same
statement as a spreadsheet.
"""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from chalice.app import Blueprint, Response

from chalicelib.domain import ledger, portal_account
from chalicelib.domain.portal_auth import PortalContext
from chalicelib.errors import InvalidInput
from chalicelib.observability import count, logger
from chalicelib.pages import statements, web
from chalicelib.pages.portal_web import (
    PREFIX,
    SESSION_COOKIE,
    SESSION_COOKIE_AGE,
    checked_form,
    page,
    portal_view,
    signed_in,
)
from chalicelib.rendering import HTML_HEADERS

bp = Blueprint(__name__)

ACCOUNT_FIELDS = (
    "email",
    "phone",
    "address",
    "notify_email",
    "notify_sms",
    "current_password",
    "new_password",
)
CHECKBOXES = ("notify_email", "notify_sms")
CHECKED = "1"
CSV_HEADER = ("Date", "Type", "Reference", "Due date", "Currency", "Amount", "Balance")
# A spreadsheet runs a cell that starts with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")


# -- the account ---------------------------------------------------------------------


@bp.route("/portal/account", methods=["GET"])
@portal_view
def account_page() -> Response:
    """The contact's details and choices, from the session batch alone."""
    context = signed_in(bp)
    query = web.query(bp.current_request)
    # After an email change is asked for, the address its link went to (while it waits).
    sent_to = context.contact.pending_email if query.get("email") == "sent" else None
    return _account_form(
        context,
        _shown(context),
        saved=query.get("saved") == "1",
        email_sent_to=sent_to,
        email_changed=query.get("email") == "changed",
    )


@bp.route("/portal/account", methods=["POST"], content_types=[web.FORM])
@portal_view
def save_account() -> Response:
    """Save the customer's edit, then show the page again with a note that it is saved. A
    new password signs out every other browser; this one gets a fresh session cookie. A new
    email gets a note that a link went to it: the same note whether or not the address is
    free, so the form tells nobody which addresses have an account."""
    context = signed_in(bp)
    form = checked_form(bp, ACCOUNT_FIELDS, context.session_hash)
    try:
        saved = portal_account.save(context, _body(form))
    except InvalidInput as exc:
        return _account_form(context, _echo(form), error=exc, status=422)

    count("PortalAccountsSaved")
    logger.info(
        "portal account saved",
        extra={"fields": ",".join(saved.changed), "password_changed": saved.password_changed},
    )
    cookies = [web.set_cookie(SESSION_COOKIE, saved.session, SESSION_COOKIE_AGE)] if saved.session else []
    notes = [] if saved.email_requested and not saved.changed and not saved.password_changed else ["saved=1"]
    if saved.email_requested:
        notes.append("email=sent")
    return web.redirect(f"{PREFIX}/account?{'&'.join(notes)}", cookies)


def _body(form: dict[str, str]) -> dict[str, Any]:
    """The form as the account's fields: an unticked box is not sent at all, so it reads as
    false; an emptied phone or address removes it; a blank password field is not a change."""
    body: dict[str, Any] = {name: form.get(name) == CHECKED for name in CHECKBOXES}
    if "email" in form:
        body["email"] = form["email"]
    for name in ("phone", "address"):
        if name in form:
            body[name] = form[name].strip() or None
    for name in ("current_password", "new_password"):
        if form.get(name):
            body[name] = form[name]
    return body


def _shown(context: PortalContext) -> dict[str, Any]:
    contact = context.contact
    return {
        "email": contact.email,
        "phone": contact.phone or "",
        "address": contact.address or "",
        "notify_email": contact.notify_email,
        "notify_sms": contact.notify_sms,
    }


def _echo(form: dict[str, str]) -> dict[str, Any]:
    """What the customer typed, to show again with the error; never a password."""
    return {
        "email": form.get("email", "")[:254],
        "phone": form.get("phone", "")[:64],
        "address": form.get("address", "")[:500],
        **{name: form.get(name) == CHECKED for name in CHECKBOXES},
    }


def _account_form(
    context: PortalContext,
    form: dict[str, Any],
    *,
    error: InvalidInput | None = None,
    status: int = 200,
    saved: bool = False,
    email_sent_to: str | None = None,
    email_changed: bool = False,
) -> Response:
    return page(
        "portal/account.html",
        context=context,
        nav="account",
        status=status,
        form=form,
        error=error,
        saved=saved,
        email_sent_to=email_sent_to,
        email_changed=email_changed,
    )


# -- the statement -------------------------------------------------------------------


@bp.route("/portal/statement", methods=["GET"])
@portal_view
def statement_page() -> Response:
    """The ledger, one table per currency, with the running and outstanding balances."""
    context = signed_in(bp)
    statement = ledger.statement(context.contact.id)
    return page(
        "portal/statement.html",
        context=context,
        nav="statement",
        accounts=statements.accounts(statement),
        outstanding=statements.outstanding(statement),
    )


@bp.route("/portal/statement.csv", methods=["GET"])
@portal_view
def statement_csv() -> Response:
    """The statement as a CSV download: every entry in date order, amounts signed (what the
    customer owes goes up, payments and credit notes go down) and the balance after each."""
    context = signed_in(bp)
    statement = ledger.statement(context.contact.id)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_HEADER)
    for entry in statement["entries"]:
        writer.writerow(
            [
                safe_cell(value)
                for value in (
                    entry["date"],
                    statements.ENTRY_LABELS.get(entry["type"], entry["type"]),
                    entry["reference"],
                    entry["due_date"] or "",
                    entry["currency"],
                    statements.signed(entry),
                    entry["balance"],
                )
            ]
        )
    headers: dict[str, str | list[str]] = {
        **HTML_HEADERS,
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": 'attachment; filename="statement.csv"',
    }
    return Response(body=buffer.getvalue(), status_code=200, headers=headers)


def safe_cell(value: str) -> str:
    """A cell a spreadsheet shows as text, never runs: one that starts like a formula gets a
    leading ``'``. A plain number, such as a negative balance, is no formula and stays one."""
    if PLAIN_NUMBER.fullmatch(value):
        return value
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value
