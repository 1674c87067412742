"""Notes on a ticket: adding one, and reading a conversation a bounded page at a time.

Notes live in their ticket's partition under ``NOTE#<created>#<id>``, so a conversation is
one query; the ticket item's sort key ``TICKET`` follows every note, so reading backwards
meets the ticket first and then the newest notes. The ticket's changes (its audit trail,
``ticket_changes``) share those keys: staff read them with the notes, in the same pages,
and the customer's view drops them with the private notes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pynamodb.exceptions import PutError, TransactWriteError

from chalicelib import clock
from chalicelib.domain.setup import SetupConfig
from chalicelib.domain.ticket_changes import new_change
from chalicelib.domain.ticket_keys import index_keys, key_actions, sync_closed
from chalicelib.errors import Conflict, NotFound
from chalicelib.store.cursor import decode_cursor, encode_cursor
from chalicelib.store.db import condition_failed, get_one, set_or_remove, transaction
from chalicelib.store.models import Change, Item, Note, Rating, Ticket
from chalicelib.validation import Field, boolean, parse_fields, text

# How many of the newest entries (notes and changes) a ticket is read with; older ones come
# a page at a time.
NOTES_SHOWN = 50
NOTE_PREFIX = "NOTE#"  # how every note's and change's sort key begins (``Note.sort_key``)
NOTE_SPEC = {
    "body": Field(text(20_000, multiline=True), required=True),
    "public": Field(boolean, required=True),
}


@dataclass(frozen=True)
class Author:
    """Who wrote a note, copied onto it: the note keeps the name it was written under."""

    kind: str  # "staff" or "contact"
    id: str
    name: str


def present_note(note: Note) -> dict[str, Any]:
    """A note as the API shows it, its author as recorded when it was written."""
    return {
        "id": note.id,
        "body": note.body,
        "public": note.public,
        "author": {"type": note.author_type, "id": note.author_id, "name": note.author_name},
        "created_at": note.created_at,
    }


# -- reading -------------------------------------------------------------------------


@dataclass(frozen=True)
class Conversation:
    """A ticket with its newest notes and changes (oldest of them first) and where older
    ones begin."""

    ticket: Ticket
    notes: list[Note]
    # Leads to the entries before these (see ``notes_page``); None when there are none.
    notes_cursor: str | None
    # The customer's rating; its sort key ``RATING`` falls inside the same read.
    rating: Rating | None = None
    # The changes among the newest entries, oldest first; always empty in the public view.
    changes: list[Change] = field(default_factory=list)

    def timeline(self) -> list[Note | Change]:
        """Notes and changes together, in the order they happened."""
        return merge_timeline(self.notes, self.changes)


def merge_timeline(notes: list[Note], changes: list[Change]) -> list[Note | Change]:
    """Notes and changes of one page in the order they happened; a note and the change it
    brought (a customer's reply that reopens the ticket) share a moment: the note first."""
    entries: list[Note | Change] = [*notes, *changes]
    return sorted(entries, key=lambda entry: (entry.created_at, isinstance(entry, Change), entry.sk))


def get_with_notes(number: int, *, public_only: bool = False, limit: int = NOTES_SHOWN) -> Conversation:
    """The ticket and its newest ``limit`` entries (notes and changes), in one query.

    A partition holds any number of notes, but one answer has to stay within a query page
    (1 MB) and a Lambda response (6 MB): the query reads the partition backwards from the
    ticket item (its sort key ``TICKET`` follows every ``NOTE#...``) and stops after the
    newest entries; ``notes_cursor`` leads to older ones. The rating, if any, comes with
    them. With ``public_only`` (the customer's view) private notes and every change are
    dropped after reading, before anything is returned, so a page may hold fewer than
    ``limit`` notes while older ones exist.
    """
    ticket_sk = Ticket.key(number)[1]
    # The ticket, then its rating if it has one (``RATING`` sorts between the notes and
    # ``TICKET``), then the notes and changes: one entry more than the page holds tells
    # whether older ones exist, whether or not the rating took a place in the read.
    found, last_key = _read_backwards(number, Item.sk.between(NOTE_PREFIX, ticket_sk), limit + 3, None)
    ticket = found[0] if found else None
    if not isinstance(ticket, Ticket):
        raise NotFound("No ticket has this number.")
    rating = next((item for item in found[1:2] if isinstance(item, Rating)), None)
    notes, changes, cursor = _page_of_entries(number, found[1:], limit, last_key, public_only)
    return Conversation(ticket, notes, cursor, rating, changes)


def notes_page(
    number: int, limit: int, cursor: str | None, *, public_only: bool = False
) -> tuple[list[Note], str | None]:
    """A page of a ticket's notes going back in time, and the cursor of the page before it.

    Without a cursor, the newest ``limit`` entries; with the ``notes_cursor`` of
    ``get_with_notes`` or a previous page, the ones before. Each page lists its notes oldest
    first, as a conversation reads. Changes take their place in a page like notes but are
    left out of this one (``timeline_page`` keeps them), so a page may hold fewer than
    ``limit`` notes while older ones exist. The cursor is signed for this ticket and this
    view, so it can neither be replayed on another ticket nor turn a customer's view into
    the staff's. The caller has made sure the ticket exists (the API reads it in its auth
    batch).
    """
    notes, _, next_cursor = _entries_page(number, limit, cursor, public_only)
    return notes, next_cursor


def timeline_page(number: int, limit: int, cursor: str | None) -> tuple[list[Note], list[Change], str | None]:
    """The staff's page of a ticket's notes and changes going back in time (as ``notes_page``,
    changes kept), each list oldest first, and the cursor of the page before it."""
    return _entries_page(number, limit, cursor, False)


def _entries_page(
    number: int, limit: int, cursor: str | None, public_only: bool
) -> tuple[list[Note], list[Change], str | None]:
    start = decode_cursor(cursor, _notes_scope(number, public_only))
    found, last_key = _read_backwards(number, Item.sk.startswith(NOTE_PREFIX), limit + 1, start)
    return _page_of_entries(number, found, limit, last_key, public_only)


def _notes_scope(number: int, public_only: bool) -> str:
    return f"notes|{number}|{'public' if public_only else 'all'}"


def _read_backwards(
    number: int, condition: Any, count: int, start: dict[str, Any] | None
) -> tuple[list[Item], dict[str, Any] | None]:
    """One query page of a ticket's partition, highest sort key first, at most ``count`` items."""
    pages = Item.query(
        Ticket.partition(number),
        condition,
        scan_index_forward=False,
        limit=count,
        last_evaluated_key=start,
    ).page_iter
    raw_page = next(pages)
    found = [Item.from_raw_data(raw) for raw in raw_page.get("Items", [])]
    return found, pages.last_evaluated_key


def _page_of_entries(
    number: int, found: list[Item], limit: int, last_key: dict[str, Any] | None, public_only: bool
) -> tuple[list[Note], list[Change], str | None]:
    """The newest ``limit`` entries of ``found`` (read newest first) split into notes and
    changes, each oldest first, and the cursor of the older ones.

    ``found`` holds one entry more than the page when older ones exist: DynamoDB's own last
    key is also set when a read ends exactly on the oldest entry, and would leave a cursor
    to an empty page. Fewer entries with a last key means the 1 MB page limit ended the
    read. The public view keeps public notes only: never a private note, never a change.
    """
    entries = [item for item in found if isinstance(item, (Note, Change))]
    if len(entries) > limit:
        entries = entries[:limit]
        last_key = {Item.pk.attr_name: {"S": entries[-1].pk}, Item.sk.attr_name: {"S": entries[-1].sk}}
    oldest_first = list(reversed(entries))
    notes = [entry for entry in oldest_first if isinstance(entry, Note) and (entry.public or not public_only)]
    changes = [] if public_only else [entry for entry in oldest_first if isinstance(entry, Change)]
    return notes, changes, encode_cursor(last_key, _notes_scope(number, public_only))


# -- writing -------------------------------------------------------------------------


def add_note(number: int, body: dict[str, Any], author: Author, *, public: bool | None = None) -> Note:
    """Add a note and touch the ticket, in one transaction. ``public`` overrides the body.

    The ticket's ``note_count`` and ``updated_at`` move with the note or not at all, and a
    note on a ticket that does not exist is refused rather than left orphaned.
    """
    values = parse_fields(body, NOTE_SPEC if public is None else {"body": NOTE_SPEC["body"]})
    moment = clock.now()
    note = _new_note(number, values["body"], values["public"] if public is None else public, author, moment)
    try:
        with transaction() as writes:
            writes.save(note, condition=Note.pk.does_not_exist())
            # Notes leave the version alone: an edit of status or assignee still applies.
            writes.update_unversioned(
                Ticket.key(number),
                actions=[Ticket.updated_at.set(moment), Ticket.note_count.add(1)],
                condition=Ticket.pk.exists(),
            )
    except (TransactWriteError, PutError) as exc:
        if condition_failed(exc):
            raise NotFound("No ticket has this number.") from exc
        raise
    return note


# Staff edits that race a customer's reply: the reply reads the ticket again this often.
REPLY_ATTEMPTS = 3


def add_customer_reply(ticket: Ticket, author: Author, body: dict[str, Any], config: SetupConfig) -> Note:
    """A customer's public reply on their own ``ticket``, which moves to the status the
    settings name for customer replies (reopening it if it was closed): note, ticket and the
    record of that status change (by the contact, for the staff's timeline) in one
    transaction.

    The status change is conditional on the version read, and bumps it, so a staff edit
    made meanwhile is neither overwritten nor applied over a status it did not see; the
    reply then reads the ticket again and retries. The caller has checked that ``author``
    is the ticket's contact.
    """
    values = parse_fields(body, {"body": NOTE_SPEC["body"]})
    for _ in range(REPLY_ATTEMPTS):
        moment = clock.now()
        note = _new_note(ticket.number, values["body"], True, author, moment)
        actions: list[Any] = [Ticket.updated_at.set(moment), Ticket.note_count.add(1)]
        condition = Ticket.pk.exists()
        change = None
        status_id = config.settings.get("customer_reply_status_id")
        if status_id and status_id != ticket.status_id and config.entry("statuses", status_id):
            condition = condition & (Ticket.version == ticket.version)
            change = new_change(ticket.number, author, {"status_id": (ticket.status_id, status_id)}, moment)
            ticket.status_id = status_id
            sync_closed(ticket, config, moment)
            actions += [
                set_or_remove(attribute, getattr(ticket, attribute.attr_name))
                for attribute in (Ticket.status_id, Ticket.closed, Ticket.closed_at)
            ]
            actions += [*key_actions(index_keys(ticket, config)), Ticket.version.add(1)]
        try:
            with transaction() as writes:
                writes.save(note, condition=Note.pk.does_not_exist())
                if change is not None:
                    writes.save(change, condition=Change.pk.does_not_exist())
                writes.update_unversioned(Ticket.key(ticket.number), actions=actions, condition=condition)
            return note
        except (TransactWriteError, PutError) as exc:
            if not condition_failed(exc):
                raise
        current = get_one(Ticket.key(ticket.number))
        if not isinstance(current, Ticket) or current.contact_id != ticket.contact_id:
            raise NotFound("No ticket has this number.")
        ticket = current
    raise Conflict("The ticket kept changing while your reply was saved; please send it again.")


@dataclass(frozen=True)
class NoteDraft:
    """A checked note not yet written: a new ticket's first note, which
    ``tickets.open_ticket`` writes in one transaction with the ticket."""

    body: str
    public: bool
    author: Author

    def to_note(self, number: int, moment: Any) -> Note:
        return _new_note(number, self.body, self.public, self.author, moment)


def draft_note(body: dict[str, Any], author: Author) -> NoteDraft:
    """Check a note's fields (``body``, ``public``) before anything is written."""
    values = parse_fields(body, NOTE_SPEC)
    return NoteDraft(values["body"], values["public"], author)


def _new_note(number: int, body: str, public: bool, author: Author, moment: Any) -> Note:
    note_id = clock.new_id()
    return Note(
        Ticket.partition(number),
        Note.sort_key(clock.iso(moment), note_id),
        ticket_number=number,
        id=note_id,
        body=body,
        public=public,
        author_type=author.kind,
        author_id=author.id,
        author_name=author.name,
        created_at=moment,
    )
