"""Bench data: a helpdesk holding N tickets, loaded straight into moto's DynamoDB.

Items are built the way the app builds them (its PynamoDB models, the domain's index
keys and due dates) and stored through moto's in-process backend, skipping HTTP and the
25-item batches of BatchWriteItem: 100,000 tickets load in about half a minute here.

A fixed core is the same at every scale: the setup, two staff members, a focus contact
with 40 tickets and 12 ledger entries, a quiet contact with none, and a focus ticket with
6 notes. A request about the core should read the same items however many tickets
surround it. The dashboard's figures are stored as the stream handler would have kept
them, so the dashboard reads a real ``Stats`` item at every scale.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from chalicelib import clock
from chalicelib.domain import contacts, dashboard, setup, staff, ticket_keys, tickets
from chalicelib.domain.setup import SetupConfig
from chalicelib.settings import region_from_env, table_name_from_env
from chalicelib.store.models import Contact, Counter, EmailClaim, Item, LedgerEntry, Note, Stats, Ticket

ADMIN_EMAIL = "admin@bench.example.com"
AGENT_EMAIL = "agent@bench.example.com"
STAFF_PASSWORD = "bench password that is long enough"

FOCUS_CONTACT_TICKETS = 40
FOCUS_CONTACT_ENTRIES = 12
FOCUS_TICKET_NOTES = 6
# Enough contacts for two full pages of the contact list at the smallest scale.
MIN_CONTACTS = 60
TICKETS_PER_CONTACT = 10
# Tickets spread over this many days before now, oldest first.
HISTORY_DAYS = 400

SERVICE_LEVELS = (("Gold", 1, 4, 24), ("Silver", 2, 8, 48), ("Bronze", 3, 24, 72))
CATEGORIES = ("Billing", "Technical", "Shipping", "Returns")
# name, customer label, order, closed, weight among tickets
STATUSES = (
    ("New", "Received", 1, False, 30),
    ("In progress", "In progress", 2, False, 25),
    ("Waiting", "Waiting for you", 3, False, 20),
    ("Solved", "Solved", 4, True, 25),
)
RATING_OPTIONS = (("Great", 100), ("Fine", 50), ("Poor", 0))
# Where tickets come from, as the API documents them.
SOURCES = ("staff", "portal", "website")


@dataclass(frozen=True)
class Dataset:
    """What was loaded, and the ids the benchmark's requests name."""

    tickets: int
    contacts: int
    items: int
    admin_id: str
    agent_id: str
    focus_contact_id: str
    focus_contact_email: str
    quiet_contact_id: str
    focus_ticket_number: int
    status_ids: dict[str, str]
    category_ids: dict[str, str]
    service_level_ids: dict[str, str]


class _TableWriter:
    """Stores serialized items in moto's table object, as moto's own PutItem does.

    It skips what a put costs in moto and the app does not need here: request parsing,
    a stream record per item (the bench never reads the stream), and moto's item-size
    check, which is quadratic in an item's attribute count and dominated a 100k load.
    """

    def __init__(self) -> None:
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.dynamodb.models import dynamodb_backends

        backend = dynamodb_backends[DEFAULT_ACCOUNT_ID][region_from_env()]
        self.table = backend.get_table(table_name_from_env())
        self.count = 0

    def put(self, item: Item) -> None:
        from moto.dynamodb.models.dynamo_type import DynamoType
        from moto.dynamodb.models.dynamo_type import Item as StoredItem

        attributes = item.serialize()
        hash_key = DynamoType(attributes[self.table.hash_key_attr])
        range_key = DynamoType(attributes[self.table.range_key_attr])
        stored = StoredItem(hash_key, range_key, {})
        stored.attrs.update({name: DynamoType(value) for name, value in attributes.items()})
        self.table.items[hash_key][range_key] = stored
        self.count += 1


def _configure() -> tuple[SetupConfig, dict[str, dict[str, str]]]:
    """Setup lists and settings, made through the domain as an admin would."""
    ids: dict[str, dict[str, str]] = {"service_levels": {}, "categories": {}, "statuses": {}}
    for name, rank, response, resolution in SERVICE_LEVELS:
        body = {"name": name, "rank": rank, "response_hours": response, "resolution_hours": resolution}
        ids["service_levels"][name] = setup.create_entry("service_levels", body)["id"]
    for name in CATEGORIES:
        ids["categories"][name] = setup.create_entry("categories", {"name": name})["id"]
    for name, label, order, closed, _ in STATUSES:
        body = {"name": name, "customer_label": label, "order": order, "closed": closed}
        ids["statuses"][name] = setup.create_entry("statuses", body)["id"]
    for label, score in RATING_OPTIONS:
        setup.create_entry("rating_options", {"label": label, "score": score})

    setup.replace_settings(
        {
            **setup.DEFAULT_SETTINGS,
            "version": setup.load().settings_version,
            "default_status_id": ids["statuses"]["New"],
            "customer_reply_status_id": ids["statuses"]["In progress"],
            "default_service_level_id": ids["service_levels"]["Bronze"],
            "sender_email": "help@bench.example.com",
        }
    )
    return setup.load(), ids


def _contact(rng: random.Random, position: int, level_ids: list[str | None]) -> Contact:
    contact_id = f"{rng.getrandbits(128):032x}"
    name = f"Customer {position:06d}"
    address = f"customer{position:06d}@example.com"
    level = rng.choice(level_ids)
    moment = clock.now() - timedelta(days=HISTORY_DAYS + 1)
    return Contact(
        *Contact.key(contact_id),
        id=contact_id,
        name=name,
        email=address,
        company=f"Company {position % 97}",
        service_level_id=level,
        notify_email=True,
        notify_sms=False,
        portal_state="none",
        created_at=moment,
        updated_at=moment,
        version=1,
        **contacts.index_keys(contact_id, name, address, level),
    )


def _ledger(rng: random.Random, contact: Contact, count: int) -> Iterator[LedgerEntry]:
    start = clock.now() - timedelta(days=HISTORY_DAYS)
    for position in range(count):
        kind = ("invoice", "payment", "credit_note")[position % 3]
        day = (start + timedelta(days=position * 7)).date().isoformat()
        entry_id = f"{rng.getrandbits(128):032x}"
        moment = clock.now()
        yield LedgerEntry(
            contact.pk,
            LedgerEntry.sort_key(day, f"{clock.iso(moment)}#{entry_id}"),
            contact_id=contact.id,
            id=entry_id,
            type=kind,
            reference=f"DOC-{position:05d}",
            amount=Decimal(rng.randrange(1_000, 100_000)) / 100,
            currency="EUR",
            date=day,
            due_date=day if kind == "invoice" else None,
            created_at=moment,
            created_by="staff:bench",
        )


def _ticket(
    rng: random.Random,
    number: int,
    contact: Contact,
    config: SetupConfig,
    ids: dict[str, dict[str, str]],
    staff_ids: list[str | None],
    created_at: Any,
) -> Ticket:
    status_names = [status[0] for status in STATUSES]
    status_id = ids["statuses"][rng.choices(status_names, weights=[s[4] for s in STATUSES])[0]]
    closed = config.is_closed(status_id)
    ticket = Ticket(
        *Ticket.key(number),
        number=number,
        subject=f"Question about order {number}",
        body="Where is my parcel? It should have arrived last week.",
        source=rng.choice(SOURCES),
        contact_id=contact.id,
        category_id=rng.choice([*ids["categories"].values(), None]),
        service_level_id=rng.choice([*ids["service_levels"].values(), None]),
        status_id=status_id,
        assignee_id=rng.choice(staff_ids),
        closed=closed,
        created_by=f"contact:{contact.id}",
        created_at=created_at,
        updated_at=created_at,
        closed_at=created_at + timedelta(days=1) if closed else None,
        note_count=0,
        version=1,
    )
    tickets.apply_service_level(ticket, config)
    return ticket


def _notes(rng: random.Random, ticket: Ticket, count: int, author_id: str) -> Iterator[Note]:
    for position in range(count):
        moment = ticket.created_at + timedelta(minutes=10 * (position + 1))
        note_id = f"{rng.getrandbits(128):032x}"
        yield Note(
            ticket.pk,
            Note.sort_key(clock.iso(moment), note_id),
            ticket_number=ticket.number,
            id=note_id,
            body=f"Reply {position + 1}: we are looking into it.",
            public=position % 2 == 0,
            author_type="staff",
            author_id=author_id,
            author_name="Ada Admin",
            created_at=moment,
        )


def load(ticket_count: int, seed: int = 2) -> Dataset:
    """Fill the (empty, mocked) table with a helpdesk of ``ticket_count`` tickets."""
    rng = random.Random(seed)
    config, ids = _configure()
    admin = staff.create_staff(ADMIN_EMAIL, "Ada Admin", "admin", STAFF_PASSWORD)
    agent = staff.create_staff(AGENT_EMAIL, "Alan Agent", "agent", STAFF_PASSWORD)
    writer = _TableWriter()

    level_ids: list[str | None] = [*ids["service_levels"].values(), None]
    people = [
        _contact(rng, position, level_ids)
        for position in range(max(MIN_CONTACTS, ticket_count // TICKETS_PER_CONTACT))
    ]
    focus, quiet = people[0], people[1]
    for contact in people:
        writer.put(contact)
        writer.put(EmailClaim(*EmailClaim.key("contact", contact.email), owner_id=contact.id))
    for entry in _ledger(rng, focus, FOCUS_CONTACT_ENTRIES):
        writer.put(entry)
    for contact in people[1::10]:
        for entry in _ledger(rng, contact, 2):
            writer.put(entry)

    # The focus contact's tickets are spread evenly through the history.
    step = ticket_count / FOCUS_CONTACT_TICKETS
    focus_positions = {int(index * step) for index in range(FOCUS_CONTACT_TICKETS)}
    start = clock.now() - timedelta(days=HISTORY_DAYS)
    spacing = timedelta(days=HISTORY_DAYS) / ticket_count
    focus_number = tickets.FIRST_NUMBER + 1
    staff_ids: list[str | None] = [admin.id, agent.id, None]
    figures = dashboard.Figures()
    for position in range(ticket_count):
        number = tickets.FIRST_NUMBER + 1 + position
        owner = focus if position in focus_positions else people[rng.randrange(2, len(people))]
        ticket = _ticket(rng, number, owner, config, ids, staff_ids, start + spacing * position)
        note_count = FOCUS_TICKET_NOTES if number == focus_number else (2 if position % 10 == 5 else 0)
        for note in _notes(rng, ticket, note_count, admin.id):
            writer.put(note)
        ticket.note_count = note_count
        for name, value in ticket_keys.index_keys(ticket, config).items():
            setattr(ticket, name, value)
        writer.put(ticket)
        if not ticket.closed:
            figures.open_by_status[ticket.status_id] += 1
            figures.open_by_assignee[ticket.assignee_id or dashboard.UNASSIGNED] += 1

    writer.put(Stats(*Stats.key(), data=figures.to_json(), version=1))

    # The next ticket created through the API follows the loaded ones.
    writer.put(Counter(*Counter.ticket_number_key(), value=ticket_count))

    return Dataset(
        tickets=ticket_count,
        contacts=len(people),
        items=writer.count,
        admin_id=admin.id,
        agent_id=agent.id,
        focus_contact_id=focus.id,
        focus_contact_email=focus.email,
        quiet_contact_id=quiet.id,
        focus_ticket_number=focus_number,
        status_ids=ids["statuses"],
        category_ids=ids["categories"],
        service_level_ids=ids["service_levels"],
    )
