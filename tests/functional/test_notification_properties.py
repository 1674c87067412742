"""Notifications as a property over random ticket histories, end to end: staff change
tickets through the API, the stream handler reads the changes off moto's stream, and moto's
SES and SNS hold what went out.

Whatever the history, no private note's text ever leaves the desk, a change the customer
can see tells its contact at most once per channel, and an internal change tells nobody.
"""

from __future__ import annotations

import copy
import itertools
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pytest
from chalice.test import Client
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.notify import sender
from tests.functional import test_notifications as notifications
from tests.functional.conftest import Api
from tests.functional.desk import Desk
from tests.functional.test_stream_handler import StreamTap, invoke

pytestmark = pytest.mark.usefixtures("clock")

# The example-based tests' fixtures: a sending desk (Cleo opted in to SMS, Dana not) and a
# stream reader positioned after its setup.
outbox = notifications.outbox
tap = notifications.tap

CONTACT_EMAILS = {"cleo": "cleo@example.com", "dana": "dana@example.com"}
CONTACT_PHONES = {"cleo": notifications.CLEO_PHONE}

# Private texts carry a serial number: unique, and made of letters and digits only, so no
# template's escaping can hide one. It sits at both ends, so a leaked prefix or suffix shows.
_serials = itertools.count(1)


# -- random histories ----------------------------------------------------------------

# Anything the validators accept: no control characters except line breaks in bodies.
_line = st.text(st.characters(codec="utf-8", exclude_categories=["Cc"]), max_size=30)
_lines = st.text(st.characters(codec="utf-8", exclude_categories=["Cc"]) | st.just("\n"), max_size=60)
# Which of this example's tickets an action concerns: an index taken modulo their count.
_which = st.integers(min_value=0, max_value=2)

_create = st.tuples(st.just("create"), st.sampled_from(["cleo", "dana"]), _line, _lines)
_public_note = st.tuples(st.just("public_note"), _which, _lines)
_private_note = st.tuples(st.just("private_note"), _which, _lines)
_status = st.sampled_from(["new", "waiting", "solved"])
_assignee = st.sampled_from(["admin", "agent", None])
_category = st.sampled_from(["billing", "technical", None])
_level = st.sampled_from(["urgent", "gold", "standard", None])


def _edit_of(**fields: st.SearchStrategy[Any]) -> st.SearchStrategy[tuple[Any, ...]]:
    return st.tuples(st.just("edit"), _which, st.fixed_dictionaries(fields))


_any_fields = st.fixed_dictionaries(
    {}, optional={"status": _status, "assignee": _assignee, "category": _category, "level": _level}
)

# Every kind of change, and how often each comes up: notes, closes and reopens twice as often
# as the rest, so that most histories hold a private note and something sent after it, and
# many a close followed by a reopen. A free edit of any subset of the fields lets a close
# come with an assignment.
_changes = {
    "create": _create,
    "public_note": _public_note,
    "private_note": _private_note,
    "status": _edit_of(status=_status),
    "close": _edit_of(status=st.just("solved")),
    "reopen": _edit_of(status=st.sampled_from(["new", "waiting"])),
    "assign": _edit_of(assignee=_assignee),
    "category": _edit_of(category=_category),
    "level": _edit_of(level=_level),
    "edit": st.tuples(st.just("edit"), _which, _any_fields),
}
_weighted = [*_changes, "public_note", "private_note", "close", "reopen"]
histories = st.lists(st.sampled_from(_weighted).flatmap(_changes.__getitem__), min_size=1, max_size=6)


# -- what went out -------------------------------------------------------------------


@dataclass
class Wire:
    """Every SendEmail request as the app made it. moto keeps only the HTML part of a
    message that has both, so the plain text part is checked here."""

    requests: list[dict[str, Any]] = field(default_factory=list)

    def __call__(self, params: dict[str, Any], **_: Any) -> None:
        self.requests.append(copy.deepcopy(params))


@dataclass(frozen=True)
class Mark:
    """How much each channel had sent at one moment."""

    emails: int
    sms: int
    requests: int


@dataclass(frozen=True)
class Sent:
    """What one change sent: recipients per channel, and every text that went out."""

    emails: list[str]
    sms: list[str]
    texts: list[str]


def mark(outbox: notifications.Outbox, wire: Wire) -> Mark:
    return Mark(len(outbox.emails()), len(outbox.sms()), len(wire.requests))


def sent_since(before: Mark, outbox: notifications.Outbox, wire: Wire) -> Sent:
    emails = outbox.emails()[before.emails :]
    sms = outbox.sms()[before.sms :]
    requests = wire.requests[before.requests :]
    texts = [f"{subject}\n{body}" for _, subject, body in emails] + [text for _, text in sms]
    for request in requests:
        message = request["Message"]
        texts.append(message["Subject"]["Data"])
        texts += [part["Data"] for part in message["Body"].values()]
    return Sent([to for to, _, _ in emails], [number for number, _ in sms], texts)


# -- the property --------------------------------------------------------------------


@dataclass
class Ticket:
    """This example's view of one of its tickets."""

    number: int
    contact: str
    version: int
    status_id: str
    closed: bool


def test_no_history_of_changes_leaks_a_private_note_or_tells_a_contact_twice(
    client: Client, desk: Desk, agent: Api, tap: StreamTap, outbox: notifications.Outbox
) -> None:
    # GIVEN a sending desk, built once: each example works on tickets of its own and looks
    # only at what its own changes sent, so examples do not depend on each other
    members = {member["role"]: member["id"] for member in desk.api.get("/api/staff").data["items"]}
    staff = {"admin": members["admin"], "agent": members["agent"], None: None}
    wire = Wire()
    sender.ses_client().meta.events.register("before-parameter-build.ses.SendEmail", wire)
    seen: Counter[str] = Counter()

    def change(action: tuple[Any, ...], tickets: list[Ticket], private: list[str]) -> tuple[Ticket, str]:
        """Make one change through the API; the ticket it changed, and whether the change is
        ``visible`` to the customer or ``internal``."""
        kind = action[0]

        if kind == "create":
            _, contact, subject, opening = action
            made = desk.ticket(contact, subject=f"Order {subject}", body=f"Help: {opening}")
            tickets.append(
                Ticket(made["number"], contact, made["version"], made["status_id"], made["closed"])
            )
            return tickets[-1], "visible"

        ticket = tickets[action[1] % len(tickets)]
        if kind in ("public_note", "private_note"):
            public = kind == "public_note"
            text = f"Reply: {action[2]}"
            if not public:
                marker = f"PRIVATE{next(_serials):06d}NOTE"
                private.append(marker)
                text = f"{marker} {action[2]} {marker}"
            added = desk.api.post(f"/api/tickets/{ticket.number}/notes", {"body": text, "public": public})
            assert added.status_code == 201, added.body
            return ticket, "visible" if public else "internal"

        fields = action[2]
        body: dict[str, Any] = {"version": ticket.version}
        for name, ids, key in (
            ("status", desk.statuses, "status_id"),
            ("category", desk.categories, "category_id"),
            ("level", desk.levels, "service_level_id"),
        ):
            if name in fields:
                body[key] = ids[fields[name]] if fields[name] else None
        if "assignee" in fields:
            body["assignee_id"] = staff[fields["assignee"]]
        edited = desk.api.patch(f"/api/tickets/{ticket.number}", body)
        assert edited.status_code == 200, edited.body

        moved = edited.data["status_id"] != ticket.status_id
        if moved:
            seen["reopen" if ticket.closed and not edited.data["closed"] else "status"] += 1
            if edited.data["closed"] and not ticket.closed:
                seen["close"] += 1
        ticket.version, ticket.status_id, ticket.closed = (
            edited.data["version"],
            edited.data["status_id"],
            edited.data["closed"],
        )
        return ticket, "visible" if moved else "internal"

    # derandomize: CI and every local run try the same 30 histories, so a red is the same red
    # everywhere, and with no example database an old failure is not replayed on one machine
    # only; the price is never meeting a new history. 30 histories of up to 7 changes take
    # about 15 s of CPU: moto copies every table on each transaction (a note, a new ticket,
    # the dashboard figures of a ticket record), so each example costs more than the last.
    # The fixtures belong to the outer test and the examples take none, so Hypothesis's
    # function-scoped-fixture health check has nothing to suppress.
    @settings(max_examples=30, deadline=None, derandomize=True, database=None)
    @given(histories)
    def any_history(actions: list[tuple[Any, ...]]) -> None:
        tickets: list[Ticket] = []
        private: list[str] = []

        for action in [("create", "cleo", "first", ""), *actions]:
            # WHEN one change is made and the stream handler gets its records
            before = mark(outbox, wire)
            ticket, kind = change(action, tickets, private)
            records = tap.take()
            # Lambda never calls with an empty batch; an edit that changed nothing writes nothing.
            if records:
                assert invoke(client, records) == {"batchItemFailures": []}
            sent = sent_since(before, outbox, wire)
            seen[action[0]] += 1
            seen["sent after a private note"] += bool(private and sent.emails)

            # THEN no private text so far went out, in any part of any message
            leaked = [marker for marker in private for text in sent.texts if marker in text]
            assert leaked == [], f"{action[0]} sent private note text"

            # AND only the ticket's contact heard, at most once per channel
            assert set(sent.emails) <= {CONTACT_EMAILS[ticket.contact]}
            assert set(sent.sms) <= {CONTACT_PHONES.get(ticket.contact)}
            assert len(sent.emails) <= 1, f"{action} emailed {len(sent.emails)} times"
            assert len(sent.sms) <= 1, f"{action} texted {len(sent.sms)} times"

            # AND an internal change told nobody; news the customer is always owed was sent
            if kind == "internal":
                assert (sent.emails, sent.sms) == ([], []), f"{action} is internal but sent"
            if action[0] in ("create", "public_note"):
                assert len(sent.emails) == 1, f"{action} sent no email"

    any_history()

    # The histories tried did cover what the property is about.
    kinds = ("create", "public_note", "private_note", "edit", "status", "close", "reopen")
    for kind in (*kinds, "sent after a private note"):
        assert seen[kind] > 0, f"no history had a {kind}"
