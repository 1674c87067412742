"""The single-table layout: one base model, one subclass per entity.

``docs/data-model.md`` lists every key and index with the access pattern it serves;
keep the two in step. The CloudFormation table in ``infra/`` is checked against the
indexes declared here by ``tests/infra/test_template.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    DiscriminatorAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.settings import region_from_env, table_name_from_env
from chalicelib.store.attributes import DecimalAttribute, DecimalMapAttribute, IntegerAttribute


@dataclass(frozen=True)
class ListDimension:
    """One way the staff lists cut the tickets: the one place that names its field, index
    attribute and key prefix, so the keys a ticket is written with and the keys a list, a
    usage check or a realignment queries can never drift apart."""

    name: str
    # The ticket attribute whose value picks the index partition; None: one partition for all.
    field: str | None
    # The index partition key attribute (on ``Item``) that holds the partition value.
    attribute: str
    prefix: str

    def value_of(self, ticket: Any) -> str | None:
        """The ticket's value in this dimension (None for the dimension of all tickets)."""
        return getattr(ticket, self.field) if self.field else None

    def partition(self, value: str | None = None) -> str:
        """The index partition of tickets whose ``field`` holds ``value`` (``none`` for unset)."""
        if self.field is None:
            return self.prefix
        return f"{self.prefix}{value or 'none'}"


ALL_TICKETS = ListDimension("all", None, "all_pk", "TICKETS")
# The filterable dimensions, most selective first: a list with several filters queries the
# index of the first one it uses and filters by the others while reading.
TICKET_DIMENSIONS = (
    ListDimension("contact", "contact_id", "contact_pk", "CONTACT#"),
    ListDimension("assignee", "assignee_id", "assignee_pk", "ASSIGNEE#"),
    ListDimension("status", "status_id", "status_pk", "STATUS#"),
    ListDimension("category", "category_id", "category_pk", "CATEGORY#"),
    ListDimension("service_level", "service_level_id", "sl_pk", "SERVICE_LEVEL#"),
)
DIMENSIONS = {dimension.name: dimension for dimension in (ALL_TICKETS, *TICKET_DIMENSIONS)}
# Ticket list orders: the attribute holding the sort value of each one.
TICKET_ORDERS = {"priority": "prio_sk", "newest": "new_sk"}


def _index(name: str, hash_attr: str, range_attr: str | None = None) -> GlobalSecondaryIndex:
    """A global index with every attribute projected, so one query answers a page."""
    meta = type("Meta", (), {"index_name": name, "projection": AllProjection()})
    fields: dict[str, Any] = {"Meta": meta, hash_attr: UnicodeAttribute(hash_key=True)}
    if range_attr:
        fields[range_attr] = UnicodeAttribute(range_key=True)
    index_class = type(f"Index_{name.replace('-', '_')}", (GlobalSecondaryIndex,), fields)
    return index_class()


def ticket_index(dimension: str, order: str) -> GlobalSecondaryIndex:
    """The index that lists tickets of one dimension (a ``DIMENSIONS`` name) in one order
    (a ``TICKET_ORDERS`` name); ``tests/unit/test_ticket_keys.py`` checks that each has one."""
    index: GlobalSecondaryIndex = getattr(Item, f"{dimension}_by_{order}")
    return index


class Item(Model):
    """Every item of the table. Index attributes live here: PynamoDB needs them on the base."""

    class Meta:
        """PynamoDB's table settings; name and region come from the environment at import."""

        table_name = table_name_from_env()
        region = region_from_env()
        billing_mode = "PAY_PER_REQUEST"
        stream_view_type = "NEW_AND_OLD_IMAGES"
        max_retry_attempts = 3
        connect_timeout_seconds = 2
        read_timeout_seconds = 5

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    kind = DiscriminatorAttribute()
    ttl = TTLAttribute(null=True)

    all_pk = UnicodeAttribute(null=True)
    status_pk = UnicodeAttribute(null=True)
    category_pk = UnicodeAttribute(null=True)
    sl_pk = UnicodeAttribute(null=True)
    assignee_pk = UnicodeAttribute(null=True)
    contact_pk = UnicodeAttribute(null=True)
    prio_sk = UnicodeAttribute(null=True)
    new_sk = UnicodeAttribute(null=True)
    open_pk = UnicodeAttribute(null=True)
    due_sk = UnicodeAttribute(null=True)
    lookup_pk = UnicodeAttribute(null=True)
    list_pk = UnicodeAttribute(null=True)
    list_sk = UnicodeAttribute(null=True)
    ref_pk = UnicodeAttribute(null=True)
    ref_sk = UnicodeAttribute(null=True)

    # Ticket lists: one index per (dimension, order); see DIMENSIONS and TICKET_ORDERS.
    all_by_priority = _index("all-priority", "all_pk", "prio_sk")
    all_by_newest = _index("all-newest", "all_pk", "new_sk")
    status_by_priority = _index("status-priority", "status_pk", "prio_sk")
    status_by_newest = _index("status-newest", "status_pk", "new_sk")
    category_by_priority = _index("category-priority", "category_pk", "prio_sk")
    category_by_newest = _index("category-newest", "category_pk", "new_sk")
    service_level_by_priority = _index("service_level-priority", "sl_pk", "prio_sk")
    service_level_by_newest = _index("service_level-newest", "sl_pk", "new_sk")
    assignee_by_priority = _index("assignee-priority", "assignee_pk", "prio_sk")
    assignee_by_newest = _index("assignee-newest", "assignee_pk", "new_sk")
    contact_by_priority = _index("contact-priority", "contact_pk", "prio_sk")
    contact_by_newest = _index("contact-newest", "contact_pk", "new_sk")
    open_due = _index("open-due", "open_pk", "due_sk")
    lookup = _index("lookup", "lookup_pk")
    listing = _index("listing", "list_pk", "list_sk")
    refs = _index("refs", "ref_pk", "ref_sk")


# -- setup ---------------------------------------------------------------------------


class Config(Item, discriminator="config"):
    """Settings and every setup list in one item: one read serves any request.

    ``data`` holds JSON (see ``chalicelib.domain.setup``); edits are version-checked.
    """

    data = UnicodeAttribute()
    version = VersionAttribute()

    @staticmethod
    def key() -> tuple[str, str]:
        """The one config item's key: fixed, so any read can include it without a look-up."""
        return ("SETUP", "CONFIG")


class Stats(Item, discriminator="stats"):
    """The staff dashboard's figures, kept up to date by the stream handler from each ticket
    and rating change, so the dashboard never reads the tickets. ``data`` holds JSON (see
    ``chalicelib.domain.dashboard``); every update is version-checked."""

    data = UnicodeAttribute()
    version = VersionAttribute()

    @staticmethod
    def key() -> tuple[str, str]:
        return ("STATS", "DASHBOARD")


class Applied(Item, discriminator="applied"):
    """A stream record already counted into ``Stats``: written in the same transaction as
    the figures, so a record delivered again is never counted twice. TTL removes it after
    the stream's retention."""

    @staticmethod
    def key(event_id: str) -> tuple[str, str]:
        return (f"APPLIED#{event_id}", "STATS")


class Counter(Item, discriminator="counter"):
    """A number raised with an atomic ``ADD``, so concurrent writers never get the same value."""

    value = IntegerAttribute(default=0)

    @staticmethod
    def ticket_number_key() -> tuple[str, str]:
        """The counter that ticket numbers come from."""
        return ("COUNTER", "TICKET_NUMBER")


# -- people --------------------------------------------------------------------------


class EmailClaim(Item, discriminator="email_claim"):
    """Holds an address for one owner: a conditional put makes emails unique."""

    owner_id = UnicodeAttribute()

    @staticmethod
    def key(scope: str, email: str) -> tuple[str, str]:
        """A claim per scope (``contact``, ``staff``): a contact and a staff member may share an
        address. Callers pass the address lower-cased, so case does not make it another one."""
        return (f"EMAIL#{scope}#{email}", "CLAIM")


class Contact(Item, discriminator="contact"):
    """A customer of the merchant: the profile item of a partition that also holds its ledger."""

    id = UnicodeAttribute()
    name = UnicodeAttribute()
    email = UnicodeAttribute()
    phone = UnicodeAttribute(null=True)
    company = UnicodeAttribute(null=True)
    address = UnicodeAttribute(null=True)
    service_level_id = UnicodeAttribute(null=True)
    notify_email = BooleanAttribute(default=True)
    notify_sms = BooleanAttribute(default=False)
    # none (never had a password) | invited | pending (registered, not confirmed) | active
    # | disabled (shut out by staff)
    portal_state = UnicodeAttribute(default="none")
    password_hash = UnicodeAttribute(null=True)
    # Portal sessions begun before this moment are refused (password change, staff shut-out).
    sessions_valid_from = UTCDateTimeAttribute(null=True)
    # The address the customer asked to change to; it becomes ``email`` only through the
    # signed link sent to it (``portal_account.confirm_email``), and claims nothing until then.
    pending_email = UnicodeAttribute(null=True)
    # What the ledger adds up to per currency, kept with each entry so the portal's overview
    # needs no ledger read; the statement recomputes it from the entries.
    balances = DecimalMapAttribute(default=dict)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    version = VersionAttribute()

    @staticmethod
    def key(contact_id: str) -> tuple[str, str]:
        """The profile item; the ledger entries share its partition, so a statement is one query."""
        return (f"CONTACT#{contact_id}", "PROFILE")


class ContactActivity(Item, discriminator="contact_activity"):
    """What the portal's overview lists as a contact's recent activity, kept by the stream
    handler from the customer-visible events of their tickets, so the overview reads it in
    its sign-in batch. ``data`` is a JSON list of the newest entries first (see
    ``chalicelib.domain.activity``); every update is version-checked."""

    data = UnicodeAttribute()
    version = VersionAttribute()

    @staticmethod
    def key(contact_id: str) -> tuple[str, str]:
        """In the contact's partition: ``ACTIVITY`` sorts before ``LEDGER#`` and ``PROFILE``,
        and the statement's read of the partition keeps only ledger entries."""
        return (f"CONTACT#{contact_id}", "ACTIVITY")


class LedgerEntry(Item, discriminator="ledger"):
    """One invoice, payment or credit note, in its contact's partition."""

    contact_id = UnicodeAttribute()
    id = UnicodeAttribute()
    type = UnicodeAttribute()
    reference = UnicodeAttribute()
    amount = DecimalAttribute()
    currency = UnicodeAttribute()
    date = UnicodeAttribute()
    due_date = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    created_by = UnicodeAttribute()

    @staticmethod
    def sort_key(date: str, entry_id: str) -> str:
        """The entry's date first, so reading the partition gives a statement in date order."""
        return f"LEDGER#{date}#{entry_id}"


class Staff(Item, discriminator="staff"):
    """A staff user, admin or agent, who signs in with email and password."""

    id = UnicodeAttribute()
    email = UnicodeAttribute()
    name = UnicodeAttribute()
    role = UnicodeAttribute()
    active = BooleanAttribute(default=True)
    password_hash = UnicodeAttribute()
    # Tokens issued before this moment are refused (set on password change, deactivation).
    sessions_valid_from = UTCDateTimeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    version = VersionAttribute()

    @staticmethod
    def key(staff_id: str) -> tuple[str, str]:
        """Made from the id alone, which a token carries: authentication reads it in its batch."""
        return (f"STAFF#{staff_id}", "PROFILE")


class PortalSession(Item, discriminator="portal_session"):
    """A customer's signed-in browser, stored under the SHA-256 of the whole cookie value
    ``<contact id>.<secret>``: the id lets one batch read fetch the session and the contact."""

    contact_id = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    expires_at = UTCDateTimeAttribute()

    @staticmethod
    def key(session_hash: str) -> tuple[str, str]:
        return (f"PSESSION#{session_hash}", "SESSION")


class AccountMail(Item, discriminator="account_mail"):
    """An email about a contact's portal account to send: a registration to confirm, a
    password reset, an invite, an email change. The stream handler sends it, building the
    signed link then (the table never holds a usable link), and records what happened; TTL
    removes it."""

    contact_id = UnicodeAttribute()
    template = UnicodeAttribute()
    # Where it goes when that is not the contact's email as stored at sending time: the
    # address an email change is for, or the one it replaces.
    recipient = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    outcome = UnicodeAttribute(null=True)
    reason = UnicodeAttribute(null=True)
    provider_message_id = UnicodeAttribute(null=True)

    @staticmethod
    def key(mail_id: str) -> tuple[str, str]:
        return (f"ACCOUNT_MAIL#{mail_id}", "MAIL")


class StaffDirectory(Item, discriminator="staff_directory"):
    """Every staff member's name and active flag in one item beside the config, so a page
    can offer or name any colleague from its sign-in batch instead of a query of the staff
    list. ``data`` is JSON ``{staff id: {"name": ..., "active": ...}}`` (see
    ``chalicelib.domain.staff_directory``); it is written under its version in the same
    transaction as each staff write."""

    data = UnicodeAttribute()
    version = VersionAttribute()

    @staticmethod
    def key() -> tuple[str, str]:
        return ("SETUP", "STAFF")


class StaffToken(Item, discriminator="staff_token"):
    """An API token, stored under the SHA-256 of the whole token."""

    staff_id = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    expires_at = UTCDateTimeAttribute()

    @staticmethod
    def key(token_hash: str) -> tuple[str, str]:
        """Keyed by the hash, so the table never holds a token that could be used."""
        return (f"TOKEN#{token_hash}", "TOKEN")


class Throttle(Item, discriminator="throttle"):
    """Failed attempts of one scope and key within one fixed window."""

    attempts = IntegerAttribute(default=0)

    @staticmethod
    def key(scope: str, subject_hash: str, window: int) -> tuple[str, str]:
        """One item per window: a new window starts from zero, and TTL removes the old ones."""
        return (f"THROTTLE#{scope}#{subject_hash}", f"WINDOW#{window}")


# -- tickets -------------------------------------------------------------------------


class Ticket(Item, discriminator="ticket"):
    """A customer's request: the ``TICKET`` item of a partition that also holds its notes."""

    number = IntegerAttribute()
    subject = UnicodeAttribute()
    body = UnicodeAttribute()
    source = UnicodeAttribute()
    contact_id = UnicodeAttribute()
    # Copies of the contact's and the assignee's names, so a list of tickets can name them
    # without reading each one; the stream handler follows renames (``ticket_names``).
    contact_name = UnicodeAttribute(null=True)
    category_id = UnicodeAttribute(null=True)
    service_level_id = UnicodeAttribute(null=True)
    status_id = UnicodeAttribute(null=True)
    assignee_id = UnicodeAttribute(null=True)
    assignee_name = UnicodeAttribute(null=True)
    closed = BooleanAttribute(default=False)
    created_by = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    closed_at = UTCDateTimeAttribute(null=True)
    response_due_at = UTCDateTimeAttribute(null=True)
    resolution_due_at = UTCDateTimeAttribute(null=True)
    note_count = IntegerAttribute(default=0)
    # Failed notifications about the ticket not yet asked to be sent again, so its page can
    # say so from the item it reads anyway. Kept by unversioned ``ADD``s that move with the
    # delivery log (``notify.deliver``, ``deliveries.request_resend``); unset reads as none.
    failed_deliveries = IntegerAttribute(null=True)
    version = VersionAttribute()

    @staticmethod
    def partition(number: int) -> str:
        """Where a ticket and all its notes live, so a conversation is one query."""
        return f"TICKET#{number:010d}"

    @classmethod
    def key(cls, number: int) -> tuple[str, str]:
        """The ticket item: ``TICKET`` sorts after every ``NOTE#``, so a backwards read meets it first."""
        return (cls.partition(number), "TICKET")


class Note(Item, discriminator="note"):
    """A public or private note on a ticket, in the ticket's partition."""

    ticket_number = IntegerAttribute()
    id = UnicodeAttribute()
    body = UnicodeAttribute()
    public = BooleanAttribute()
    author_type = UnicodeAttribute()
    author_id = UnicodeAttribute()
    author_name = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()

    @staticmethod
    def sort_key(created_iso: str, note_id: str) -> str:
        """Creation time first, so notes read in the order they were written; the id keeps two
        notes of the same instant apart."""
        return f"NOTE#{created_iso}#{note_id}"


class Change(Item, discriminator="change"):
    """What one edit changed on a ticket, who made it and when: the ticket's audit trail.

    It shares the notes' time-ordered keys (``NOTE#<created>#<id>``), so the conversation
    read returns notes and changes interleaved by time in one query; readers tell them apart
    by type, and the customer's view drops every change. ``changes`` is JSON
    ``{field: [before, after]}`` with the ids the ticket stores (``status_id``...), or for
    a staff member's re-send request the delivery's ``delivery_outcome``; ``names``
    is JSON ``{staff id: name}`` for the staff ids in it whose name was known at the time
    (the new assignee), so the trail reads the same after a rename.
    """

    ticket_number = IntegerAttribute()
    id = UnicodeAttribute()
    # staff | contact | system
    actor_type = UnicodeAttribute()
    actor_id = UnicodeAttribute()
    actor_name = UnicodeAttribute()
    changes = UnicodeAttribute()
    names = UnicodeAttribute(null=True)
    # On a re-send request (``changes`` holds ``delivery_outcome``): JSON of the delivery it
    # names, ``{"id", "channel", "recipient", "template"}``, so the timeline tells it unread.
    delivery = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()

    @staticmethod
    def sort_key(created_iso: str, change_id: str) -> str:
        """The notes' own form (``Note.sort_key``): one timeline, in the order things happened."""
        return Note.sort_key(created_iso, change_id)


class Rating(Item, discriminator="rating"):
    """The customer's rating of a closed ticket, in the ticket's partition: one per ticket,
    replaced when the customer rates again.

    The option's score and label are copied at rating time, so the rating reads the same after
    the option is renamed; ``ref_pk``/``ref_sk`` put it in the ``refs`` index, where deleting
    the option finds it in use.
    """

    ticket_number = IntegerAttribute()
    option_id = UnicodeAttribute()
    score = IntegerAttribute()
    label = UnicodeAttribute()
    comment = UnicodeAttribute(null=True)
    rated_at = UTCDateTimeAttribute()

    @staticmethod
    def key(number: int) -> tuple[str, str]:
        """The one rating of a ticket. ``RATING`` sorts between ``NOTE#...`` and ``TICKET``,
        so readers of the notes go by key prefix or by type, never by position."""
        return (Ticket.partition(number), "RATING")

    @staticmethod
    def option_ref(option_id: str) -> str:
        """The ``refs`` partition of the ratings that use one rating option."""
        return f"RATING_OPTION#{option_id}"


class Delivery(Item, discriminator="delivery"):
    """One attempt to send a notification, in its ticket's partition: the delivery log.

    ``DELIVERY#`` sorts before ``NOTE#``, so the ticket's conversation read (sort keys from
    ``NOTE#`` to ``TICKET``) never meets it. The id starts with the attempt's time
    (``clock.sortable_id``), so the log reads newest first and the id alone makes the key.
    A failed one also sits in the ``refs`` index under ``FAILED_DELIVERY``, where staff find
    every failed message without reading each ticket, and keeps what it would have said in
    ``message`` (JSON), so a re-send says the same.
    """

    ticket_number = IntegerAttribute()
    id = UnicodeAttribute()
    event_id = UnicodeAttribute()
    channel = UnicodeAttribute()
    recipient = UnicodeAttribute()
    template = UnicodeAttribute()
    provider_message_id = UnicodeAttribute(null=True)
    # sent | failed | resend_requested | resent
    outcome = UnicodeAttribute()
    reason = UnicodeAttribute(null=True)
    attempted_at = UTCDateTimeAttribute()
    message = UnicodeAttribute(null=True)
    resend_of = UnicodeAttribute(null=True)
    resent_as = UnicodeAttribute(null=True)
    resend_requested_by = UnicodeAttribute(null=True)

    PREFIX = "DELIVERY#"
    FAILED_REF = "FAILED_DELIVERY"

    @staticmethod
    def sort_key(delivery_id: str) -> str:
        return f"DELIVERY#{delivery_id}"

    @classmethod
    def key(cls, number: int, delivery_id: str) -> tuple[str, str]:
        return Ticket.partition(number), cls.sort_key(delivery_id)


# -- website embedding ---------------------------------------------------------------


class Site(Item, discriminator="site"):
    """A merchant's website that may raise tickets through ``/embed/v1``: its public key
    (``hd_<site id>_<random>``, so the key alone finds the site), the origins its pages are
    served from, and the category its tickets get unless the visitor picks one."""

    id = UnicodeAttribute()
    name = UnicodeAttribute()
    public_key = UnicodeAttribute()
    # JSON list of origins such as "https://shop.example"; each is also a SiteOrigin item.
    allowed_origins = UnicodeAttribute()
    enabled = BooleanAttribute(default=True)
    default_category_id = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    version = VersionAttribute()

    @staticmethod
    def key(site_id: str) -> tuple[str, str]:
        return (f"SITE#{site_id}", "SITE")


class SiteOrigin(Item, discriminator="site_origin"):
    """One allowed origin of one site, keyed by the origin: a CORS preflight carries only its
    origin (no site key), so it finds the enabled sites that allow it in one query."""

    site_id = UnicodeAttribute()
    enabled = BooleanAttribute(default=True)

    @staticmethod
    def key(origin: str, site_id: str) -> tuple[str, str]:
        return (f"ORIGIN#{origin}", f"SITE#{site_id}")


class ConfirmationWindow(Item, discriminator="confirmation_window"):
    """Claims an email address's window for one website ticket confirmation (see
    ``chalicelib.notify.deliver``); ``event_id`` names the stream record that claimed it."""

    event_id = UnicodeAttribute()
