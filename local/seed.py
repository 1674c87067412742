"""Demo data for the local stack, written through the domain functions the API uses.

Going through the domain (not raw item writes) keeps every index key, email claim and
counter exactly as real use would leave them, and proves the seed data valid.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from chalicelib import clock
from chalicelib.domain import contacts, ledger, portal_auth, setup, sites, staff, ticket_notes, tickets
from chalicelib.store.models import Staff

SENDER_EMAIL = "helpdesk@example.com"
STAFF_NOTIFY_EMAIL = "support-team@example.com"
DEFAULT_ADMIN_EMAIL = "admin@example.com"
AGENT_EMAIL = "agent@example.com"
CUSTOMER_EMAIL = "customer@example.com"

SERVICE_LEVELS = [
    {"name": "Urgent", "rank": 1, "response_hours": 1, "resolution_hours": 8},
    {"name": "Priority", "rank": 2, "response_hours": 4, "resolution_hours": 24},
    {"name": "Standard", "rank": 3, "response_hours": 24, "resolution_hours": 72},
]
CATEGORIES = [
    {"name": "Billing"},
    {"name": "Orders and delivery"},
    {"name": "Technical"},
    {"name": "General"},
]
STATUSES = [
    {"name": "New", "customer_label": "Received", "order": 10, "closed": False},
    {"name": "In progress", "customer_label": "In progress", "order": 20, "closed": False},
    {"name": "Waiting on customer", "customer_label": "Waiting for your reply", "order": 30, "closed": False},
    {"name": "Customer replied", "customer_label": "Reply received", "order": 40, "closed": False},
    {"name": "Resolved", "customer_label": "Resolved", "order": 50, "closed": True},
    {"name": "Closed", "customer_label": "Closed", "order": 60, "closed": True},
]
RATING_OPTIONS = [
    {"label": "Excellent", "score": 100},
    {"label": "Good", "score": 75},
    {"label": "Fair", "score": 50},
    {"label": "Poor", "score": 0},
]
# The demo customer's tickets: what they wrote, the notes that followed (who wrote each, and
# whether the customer sees it) and, where it moved on, its status now (the agent then has it).
DEMO_TICKETS: list[dict[str, Any]] = [
    {
        "subject": "Order 1042 arrived damaged",
        "body": "The lamp in order 1042 arrived with a cracked shade. Can you send a new one?",
        "category": "Orders and delivery",
        "notes": [
            ("agent", "Sorry about that! A replacement shade ships today.", True),
            ("agent", "Courier claim opened with the carrier, ref CLM-88.", False),
        ],
    },
    {
        "subject": "Question about invoice INV-1001",
        "body": "INV-1001 shows 249.00 but I already paid 100.00. What is left to pay?",
        "category": "Billing",
        "notes": [
            ("agent", "149.00 is still open on INV-1001; a statement is attached to your portal.", True),
            ("customer", "Thanks, I will pay the rest this week.", True),
        ],
        "status": "Customer replied",
    },
]


@dataclass(frozen=True)
class Login:
    """A demo login for the banner; ``source`` names where the password came from when the
    banner must not print it."""

    role: str
    email: str
    password: str
    source: str | None = None


@dataclass
class DemoData:
    """What seeding made that the runner needs next: logins to print, ticket numbers to log,
    the sender address SES must verify, and the demo website the demo page embeds."""

    logins: list[Login] = field(default_factory=list)
    ticket_numbers: list[int] = field(default_factory=list)
    sender_email: str = SENDER_EMAIL
    site_id: str | None = None
    site_key: str | None = None


def new_password() -> str:
    """A random password that passes the staff password rule (12+ characters)."""
    return secrets.token_urlsafe(15)


def _ids_by_name(collection: str, entries: list[dict[str, Any]]) -> dict[str, str]:
    key = "label" if collection == "rating_options" else "name"
    return {entry[key]: setup.create_entry(collection, entry)["id"] for entry in entries}


def _hand_to(config: setup.SetupConfig, number: int, status_id: str, agent: Staff) -> None:
    """Give a demo ticket a status and assign it to ``agent``, as an agent would: an edit under
    the version of the ticket as stored now."""
    current = tickets.find_by_number(number)
    if current is not None:
        tickets.update(
            config,
            current,
            {"status_id": status_id, "assignee_id": agent.id, "version": current.version},
            agent,
            actor=ticket_notes.Author(kind="staff", id=agent.id, name=agent.name),
        )


def seed(
    admin_email: str | None = None, admin_password: str | None = None, site_origins: Sequence[str] = ()
) -> DemoData:
    """Create the demo helpdesk. Raises ``InvalidInput`` naming the field a given login breaks.
    With ``site_origins``, also a demo website whose pages there may embed the ticket form."""
    data = DemoData()

    password = new_password() if admin_password is None else admin_password
    admin = staff.create(
        {
            "email": admin_email or DEFAULT_ADMIN_EMAIL,
            "name": "Ada Admin",
            "role": "admin",
            "password": password,
        }
    )
    source = None if admin_password is None else "HELPDESK_ADMIN_PASSWORD"
    data.logins.append(Login("admin", admin.email, password, source))
    agent_password = new_password()
    agent = staff.create(
        {"email": AGENT_EMAIL, "name": "Alan Agent", "role": "agent", "password": agent_password}
    )
    data.logins.append(Login("agent", agent.email, agent_password))

    levels = _ids_by_name("service_levels", SERVICE_LEVELS)
    categories = _ids_by_name("categories", CATEGORIES)
    statuses = _ids_by_name("statuses", STATUSES)
    _ids_by_name("rating_options", RATING_OPTIONS)
    setup.replace_settings(
        {
            # Replaced under the version they have now, as an admin who just read them would.
            "version": setup.load().settings_version,
            "portal_enabled": True,
            "registration_enabled": True,
            "default_status_id": statuses["New"],
            "customer_reply_status_id": statuses["Customer replied"],
            "default_service_level_id": levels["Standard"],
            "notify_email_enabled": True,
            "notify_sms_enabled": True,
            "sender_email": SENDER_EMAIL,
            "staff_notify_email": STAFF_NOTIFY_EMAIL,
        }
    )
    config = setup.load()
    data.sender_email = config.settings["sender_email"]
    if site_origins:
        site = sites.create(
            config,
            {
                "name": "Demo shop",
                "allowed_origins": list(site_origins),
                "default_category_id": categories["Orders and delivery"],
            },
        )
        data.site_id, data.site_key = site.id, site.public_key

    customer_password = new_password()
    customer = contacts.create(
        config,
        {
            "name": "Cleo Customer",
            "email": CUSTOMER_EMAIL,
            "phone": "+14155550123",
            "company": "Example Trading Co",
            "address": "1 Market Street\nSan Francisco, CA 94105",
            "service_level_id": levels["Priority"],
            "notify_email": True,
            "notify_sms": True,
        },
    )
    # The password a customer would set from an invite; staff cannot set it.
    portal_auth.set_password(customer, customer_password)
    data.logins.append(Login("customer", customer.email, customer_password))
    contacts.create(
        config,
        {"name": "Dev Developer", "email": "dev@example.com", "company": "Example Labs", "notify_sms": False},
    )

    actor = f"staff:{admin.id}"
    today = clock.now().date()
    for body in (
        {
            "type": "invoice",
            "reference": "INV-1001",
            "amount": "249.00",
            "currency": "USD",
            "date": (today - timedelta(days=30)).isoformat(),
            "due_date": (today - timedelta(days=16)).isoformat(),
        },
        {
            "type": "payment",
            "reference": "PAY-5521",
            "amount": "100.00",
            "currency": "USD",
            "date": (today - timedelta(days=12)).isoformat(),
        },
        {
            "type": "invoice",
            "reference": "INV-1017",
            "amount": "89.50",
            "currency": "USD",
            "date": (today - timedelta(days=3)).isoformat(),
            "due_date": (today + timedelta(days=11)).isoformat(),
        },
    ):
        ledger.add_entry(customer.id, body, actor)

    authors = {
        "agent": ticket_notes.Author(kind="staff", id=agent.id, name=agent.name),
        "customer": ticket_notes.Author(kind="contact", id=customer.id, name=customer.name),
    }
    for demo in DEMO_TICKETS:
        ticket = tickets.create(
            config,
            customer,
            {
                "contact_id": customer.id,
                "subject": demo["subject"],
                "body": demo["body"],
                "category_id": categories[demo["category"]],
            },
            source="staff",
            created_by=actor,
        )
        for writer, text, public in demo["notes"]:
            ticket_notes.add_note(ticket.number, {"body": text, "public": public}, authors[writer])
        if "status" in demo:
            _hand_to(config, ticket.number, statuses[demo["status"]], agent)
        data.ticket_numbers.append(ticket.number)
    return data
