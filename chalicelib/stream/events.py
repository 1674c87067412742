"""Domain events decoded from DynamoDB stream records.

Only ticket and note changes make events. A TTL deletion (the service itself removing an
expired item) makes none.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from chalicelib.domain.setup import SetupConfig
from chalicelib.store.models import AccountMail, Config, Delivery, Item, Note, Ticket

# Fields whose change staff or customers care about, in the order they are reported.
WATCHED_TICKET_FIELDS = ("status_id", "assignee_id", "category_id", "service_level_id")


@dataclass(frozen=True)
class DomainEvent:
    """Something that happened to a ticket, as staff and customers would tell it: ``name`` says
    what (``ticket_created``, ``status_changed``...), ``data`` the details."""

    name: str
    ticket_number: int
    data: dict[str, Any] = field(default_factory=dict)


class MalformedRecord(ValueError):
    """A stream record that cannot be read as an item of this table."""


def image(record: dict[str, Any], which: str) -> Item | None:
    """The item a stream record's ``NewImage`` or ``OldImage`` holds, if any; a ticket or note
    missing an attribute is a ``MalformedRecord``."""
    raw = record.get("dynamodb", {}).get(which)
    if not raw:
        return None
    try:
        item = Item.from_raw_data(raw)
        if isinstance(item, (Ticket, Note)):
            # Reading an image does not check for missing attributes; an event needs them all.
            item.serialize(null_check=True)
    except (KeyError, ValueError, TypeError, AttributeError) as exc:
        raise MalformedRecord(f"cannot decode {which}") from exc
    return item


def _is_ttl_expiry(record: dict[str, Any]) -> bool:
    identity = record.get("userIdentity") or {}
    return identity.get("type") == "Service" and identity.get("principalId") == "dynamodb.amazonaws.com"


def decode(record: dict[str, Any]) -> list[DomainEvent]:
    """The events one stream record stands for (often none)."""
    name = record.get("eventName")
    if name not in ("INSERT", "MODIFY", "REMOVE"):
        raise MalformedRecord(f"unknown eventName {name!r}")
    if name == "REMOVE" or _is_ttl_expiry(record):
        return []
    new = image(record, "NewImage")
    old = image(record, "OldImage")

    if isinstance(new, Ticket) and name == "INSERT":
        return [
            DomainEvent(
                "ticket_created",
                new.number,
                {"contact_id": new.contact_id, "source": new.source, "status_id": new.status_id},
            )
        ]
    if isinstance(new, Ticket) and isinstance(old, Ticket):
        events = []
        for attribute in WATCHED_TICKET_FIELDS:
            before, after = getattr(old, attribute), getattr(new, attribute)
            if before != after:
                events.append(
                    DomainEvent(
                        f"{attribute.removesuffix('_id')}_changed", new.number, {"from": before, "to": after}
                    )
                )
        # Closing or reopening is a status change; a setup edit that realigns a ticket's
        # closed flag (see ticket_keys.realign_with_setup) tells nobody anything.
        if new.status_id != old.status_id and new.closed and not old.closed:
            events.append(DomainEvent("ticket_closed", new.number, {"status_id": new.status_id}))
        if new.status_id != old.status_id and old.closed and not new.closed:
            events.append(DomainEvent("ticket_reopened", new.number, {"status_id": new.status_id}))
        return events
    if isinstance(new, Note) and name == "INSERT":
        return [
            DomainEvent(
                "note_added",
                new.ticket_number,
                {"note_id": new.id, "public": new.public, "author_type": new.author_type},
            )
        ]
    return []


@dataclass(frozen=True)
class SetupChange:
    """The config item before and after an edit."""

    old: SetupConfig
    new: SetupConfig


def decode_setup_change(record: dict[str, Any]) -> SetupChange | None:
    """The setup edit a record stands for, if it is a change of the config item."""
    if record.get("eventName") != "MODIFY":
        return None
    new = image(record, "NewImage")
    old = image(record, "OldImage")
    if not isinstance(new, Config) or not isinstance(old, Config):
        return None
    return SetupChange(SetupConfig.from_item(old), SetupConfig.from_item(new))


def decode_resend_request(record: dict[str, Any]) -> Delivery | None:
    """The failed delivery staff asked to send again, if the record is that request."""
    if record.get("eventName") != "MODIFY":
        return None
    new = image(record, "NewImage")
    old = image(record, "OldImage")
    if not isinstance(new, Delivery) or not isinstance(old, Delivery):
        return None
    if old.outcome == "failed" and new.outcome == "resend_requested":
        return new
    return None


def decode_account_mail(record: dict[str, Any]) -> AccountMail | None:
    """The account email a new ``AccountMail`` item asks for, if the record is one."""
    if record.get("eventName") != "INSERT":
        return None
    new = image(record, "NewImage")
    return new if isinstance(new, AccountMail) else None
