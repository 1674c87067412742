"""The staff dashboard's figures: open tickets by status and by assignee, unassigned,
overdue, the latest ratings and the average score.

Counting tickets on every dashboard view would read the whole table. Instead the stream
handler keeps the figures in one ``Stats`` item: each ticket or rating record adds what
its new image counts and takes away what its old image counted. The item is read and
written back under its version, together with an ``Applied`` marker for the record in one
transaction, so concurrent handlers never lose an update and a record delivered twice
counts once. The dashboard then reads the item in its sign-in batch.

Overdue is the one figure that changes with the clock alone; it comes from one query of
the ``open-due`` index, capped at ``OVERDUE_CAP`` so its cost does not grow with the
backlog.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from pynamodb.exceptions import PutError, TransactWriteError

from chalicelib import clock
from chalicelib.store.db import condition_failed, get_many, transaction
from chalicelib.store.models import Applied, Item, Rating, Stats, Ticket
from chalicelib.stream.events import image

RECENT_RATINGS = 5
OVERDUE_CAP = 100
APPLIED_LIFETIME = timedelta(hours=48)  # longer than the stream keeps a record
ATTEMPTS = 5
UNASSIGNED = ""


@dataclass
class Figures:
    """What the dashboard shows, as kept in the ``Stats`` item."""

    open_by_status: Counter[str] = field(default_factory=Counter)
    open_by_assignee: Counter[str] = field(default_factory=Counter)  # "" counts the unassigned
    ratings_count: int = 0
    ratings_score_sum: int = 0
    recent_ratings: list[dict[str, Any]] = field(default_factory=list)

    @property
    def open_total(self) -> int:
        return sum(self.open_by_status.values())

    @property
    def unassigned(self) -> int:
        return self.open_by_assignee.get(UNASSIGNED, 0)

    @property
    def average_score(self) -> float | None:
        return round(self.ratings_score_sum / self.ratings_count, 2) if self.ratings_count else None

    @classmethod
    def from_item(cls, item: Item | None) -> Figures:
        if not isinstance(item, Stats):
            return cls()
        data = json.loads(item.data)
        return cls(
            Counter(data.get("open_by_status", {})),
            Counter(data.get("open_by_assignee", {})),
            int(data.get("ratings_count", 0)),
            int(data.get("ratings_score_sum", 0)),
            list(data.get("recent_ratings", [])),
        )

    def to_json(self) -> str:
        return json.dumps(
            {
                # Zero counts go: a status or staff member no longer in use leaves no key behind.
                "open_by_status": {key: value for key, value in self.open_by_status.items() if value},
                "open_by_assignee": {key: value for key, value in self.open_by_assignee.items() if value},
                "ratings_count": self.ratings_count,
                "ratings_score_sum": self.ratings_score_sum,
                "recent_ratings": self.recent_ratings,
            },
            separators=(",", ":"),
            sort_keys=True,
        )


# -- keeping the figures -------------------------------------------------------------


def _open_counts(ticket: Item | None) -> tuple[Counter[str], Counter[str]]:
    """What one ticket image counts: itself under its status and its assignee, if open."""
    if not isinstance(ticket, Ticket) or ticket.closed:
        return Counter(), Counter()
    return Counter({ticket.status_id or UNASSIGNED: 1}), Counter({ticket.assignee_id or UNASSIGNED: 1})


def _change(figures: Figures, old: Item | None, new: Item | None) -> bool:
    """Apply one record's images to ``figures``; whether anything changed."""
    if isinstance(old, Ticket) or isinstance(new, Ticket):
        old_status, old_assignee = _open_counts(old)
        new_status, new_assignee = _open_counts(new)
        if (old_status, old_assignee) == (new_status, new_assignee):
            return False
        figures.open_by_status.update(new_status)
        figures.open_by_status.subtract(old_status)
        figures.open_by_assignee.update(new_assignee)
        figures.open_by_assignee.subtract(old_assignee)
        return True
    if isinstance(new, Rating):
        before = old if isinstance(old, Rating) else None
        if before is not None and (before.score, before.label, before.comment) == (
            new.score,
            new.label,
            new.comment,
        ):
            return False
        figures.ratings_count += 0 if before else 1
        figures.ratings_score_sum += new.score - (before.score if before else 0)
        entry = {
            "ticket_number": new.ticket_number,
            "label": new.label,
            "score": new.score,
            "comment": (new.comment or "")[:200],
            "rated_at": clock.iso(new.rated_at),
        }
        kept = [item for item in figures.recent_ratings if item["ticket_number"] != new.ticket_number]
        figures.recent_ratings = sorted([entry, *kept], key=lambda item: item["rated_at"], reverse=True)[
            :RECENT_RATINGS
        ]
        return True
    return False


def counts(record: dict[str, Any]) -> bool:
    """Whether a stream record can change the figures (a ticket or a rating, not a TTL removal)."""
    identity = record.get("userIdentity") or {}
    if identity.get("principalId") == "dynamodb.amazonaws.com":
        return False
    return any(isinstance(image(record, which), (Ticket, Rating)) for which in ("NewImage", "OldImage"))


def apply(record: dict[str, Any]) -> bool:
    """Count one stream record into the figures, once; whether it was applied now.

    Reads the figures and the record's marker in one consistent batch, and writes both in
    one transaction: the figures under their version, the marker only if it is new. A
    concurrent update makes the transaction fail; the read and the change are then tried
    again, at most ``ATTEMPTS`` times (the record fails after that and Lambda retries it).
    """
    event_id = str(record.get("eventID") or "")
    old, new = image(record, "OldImage"), image(record, "NewImage")
    if not _change(Figures(), old, new):
        return False  # a note's touch of its ticket, an edit of its category: nothing to read
    for _ in range(ATTEMPTS):
        found = get_many([Stats.key(), Applied.key(event_id)])
        if Applied.key(event_id) in found:
            return False
        stored = found.get(Stats.key())
        figures = Figures.from_item(stored)
        if not _change(figures, old, new):
            return False
        item = stored if isinstance(stored, Stats) else Stats(*Stats.key())
        item.data = figures.to_json()
        marker = Applied(*Applied.key(event_id), ttl=clock.now() + APPLIED_LIFETIME)
        try:
            with transaction() as writes:
                writes.save(marker, condition=Applied.pk.does_not_exist())
                writes.save(item)
            return True
        except (TransactWriteError, PutError) as exc:
            if not condition_failed(exc):
                raise
    raise RuntimeError("the dashboard figures kept changing; the record will be retried")


# -- reading -------------------------------------------------------------------------


@dataclass(frozen=True)
class Overdue:
    """How many open tickets are past their due time, counted up to a cap."""

    count: int
    capped: bool


def overdue() -> Overdue:
    """Open tickets past due: one query of the ``open-due`` index, at most ``OVERDUE_CAP + 1``
    keys read (the index holds only open tickets with a due time)."""
    condition = Item.due_sk < clock.iso(clock.now())
    found = list(Item.open_due.query("OPEN", condition, limit=OVERDUE_CAP + 1))
    return Overdue(min(len(found), OVERDUE_CAP), len(found) > OVERDUE_CAP)
