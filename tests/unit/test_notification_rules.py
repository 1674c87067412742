"""``chalicelib.notify.rules.plan``: which messages each ticket change sends, and to whom.

One test (or parametrized group) per row of the notifications table, the rows that send
nothing included, then the gates, phone numbers, the staff fallback and the rating links,
and last a table-driven sweep over many changes and settings. No AWS involved.
"""

from __future__ import annotations

import dataclasses
import itertools
from datetime import UTC, datetime
from typing import Any

import pytest

from chalicelib.domain.setup import SetupConfig
from chalicelib.notify.messages import TEMPLATES, MessageContext, Outgoing
from chalicelib.notify.rules import e164, plan
from chalicelib.store.models import Contact, Item, Note, Staff, Ticket
from chalicelib.stream.events import DomainEvent, decode
from tests.events import load_record, load_records

NUMBER = 1001
CONTACT_ID = "contact-1"
CONTACT_EMAIL = "grace@customer.example"
CONTACT_PHONE = "+442079460000"
ASSIGNEE_EMAIL = "alan@merchant.example"
STAFF_FALLBACK = "support@merchant.example"

OPEN, WAITING, SOLVED, DECLINED = "st-open", "st-waiting", "st-solved", "st-declined"
# Staff-only words: status names and the private note text must never reach a message.
INTERNAL_WORDS = ("INTERNAL-open", "INTERNAL-waiting", "INTERNAL-solved", "INTERNAL-declined")
PRIVATE_TEXT = "PRIVATE: customer is a pain, refund denied"
MOMENT = datetime(2026, 12, 3, 16, 24, 5, tzinfo=UTC)


class FakeLinks:
    """Plain, predictable URLs; the real builder signs rating tokens."""

    def portal_ticket(self, number: int) -> str:
        return f"https://help.example/portal/tickets/{number}"

    def admin_ticket(self, number: int) -> str:
        return f"https://help.example/admin/tickets/{number}"

    def rating(self, number: int, option_id: str) -> str:
        return f"https://help.example/rate/{number}/{option_id}"

    def ticket_view(self, number: int) -> str:
        return f"https://help.example/t/{number}"


LINKS = FakeLinks()


def make_config(**settings: Any) -> SetupConfig:
    config = SetupConfig()
    config.settings.update({"notify_email_enabled": True, "notify_sms_enabled": True})
    config.settings.update(settings)
    config.lists["statuses"] = {
        OPEN: {"name": "INTERNAL-open", "customer_label": "We are on it", "order": 1, "closed": False},
        WAITING: {
            "name": "INTERNAL-waiting",
            "customer_label": "Waiting for you",
            "order": 2,
            "closed": False,
        },
        SOLVED: {"name": "INTERNAL-solved", "customer_label": "Solved", "order": 3, "closed": True},
        DECLINED: {"name": "INTERNAL-declined", "customer_label": "Closed", "order": 4, "closed": True},
    }
    # Stored out of display order on purpose: links must follow ``ordered`` (best score first).
    config.lists["rating_options"] = {
        "r-poor": {"label": "Poor", "score": 1},
        "r-great": {"label": "Great", "score": 5},
        "r-okay": {"label": "Okay", "score": 3},
    }
    return config


def make_ticket(status_id: str = OPEN, closed: bool = False) -> Ticket:
    return Ticket(
        *Ticket.key(NUMBER),
        number=NUMBER,
        subject="Printer on fire",
        body="Send help.",
        source="portal",
        contact_id=CONTACT_ID,
        status_id=status_id,
        closed=closed,
        category_id="cat-INTERNAL",
        created_by=f"contact:{CONTACT_ID}",
        created_at=MOMENT,
        updated_at=MOMENT,
    )


def make_contact(
    *,
    notify_email: bool = True,
    notify_sms: bool = True,
    phone: str | None = CONTACT_PHONE,
    portal_state: str = "active",
) -> Contact:
    return Contact(
        *Contact.key(CONTACT_ID),
        id=CONTACT_ID,
        name="Grace Customer",
        email=CONTACT_EMAIL,
        phone=phone,
        notify_email=notify_email,
        notify_sms=notify_sms,
        portal_state=portal_state,
        created_at=MOMENT,
        updated_at=MOMENT,
    )


def make_note(
    *, public: bool, author_type: str = "staff", body: str | None = None, note_id: str = "n-1"
) -> Note:
    if body is None:
        body = "Here is the fix." if public else PRIVATE_TEXT
    return Note(
        Ticket.partition(NUMBER),
        Note.sort_key("2026-12-03T16:24:05.000000Z", note_id),
        ticket_number=NUMBER,
        id=note_id,
        body=body,
        public=public,
        author_type=author_type,
        author_id="author-1",
        author_name="INTERNAL Agent Alan" if author_type == "staff" else "Grace Customer",
        created_at=MOMENT,
    )


def make_staff(*, active: bool = True) -> Staff:
    return Staff(
        *Staff.key("staff-1"),
        id="staff-1",
        email=ASSIGNEE_EMAIL,
        name="INTERNAL Agent Alan",
        role="agent",
        active=active,
        password_hash="not-used",
        created_at=MOMENT,
        updated_at=MOMENT,
    )


def note_added(note: Note, *, public: bool | None = None) -> DomainEvent:
    return DomainEvent(
        "note_added",
        NUMBER,
        {
            "note_id": note.id,
            "public": note.public if public is None else public,
            "author_type": note.author_type,
        },
    )


def status_changed(before: str, after: str) -> DomainEvent:
    return DomainEvent("status_changed", NUMBER, {"from": before, "to": after})


def sent(messages: list[Outgoing]) -> list[tuple[str, str, str]]:
    return [(message.channel, message.to, message.template) for message in messages]


def portal_context(**fields: Any) -> MessageContext:
    return MessageContext(
        ticket_number=NUMBER,
        ticket_subject="Printer on fire",
        contact_name="Grace Customer",
        ticket_url=f"https://help.example/portal/tickets/{NUMBER}",
        **fields,
    )


# -- rows that tell the contact --------------------------------------------------------


@pytest.mark.parametrize("source", ["portal", "website", "staff"])
def test_a_new_ticket_from_any_source_confirms_to_the_contact_by_email_and_sms(source: str) -> None:
    event = DomainEvent(
        "ticket_created", NUMBER, {"contact_id": CONTACT_ID, "source": source, "status_id": OPEN}
    )

    messages = plan([event], ticket=make_ticket(), contact=make_contact(), config=make_config(), links=LINKS)

    assert messages == [
        Outgoing("email", CONTACT_EMAIL, "ticket_created", portal_context()),
        Outgoing("sms", CONTACT_PHONE, "ticket_created", portal_context()),
    ]


def test_a_public_staff_note_sends_its_text_and_portal_link_but_not_the_staff_name() -> None:
    note = make_note(public=True)

    messages = plan(
        [note_added(note)],
        ticket=make_ticket(),
        contact=make_contact(),
        note=note,
        config=make_config(),
        links=LINKS,
    )

    expected = portal_context(note_body="Here is the fix.")
    assert messages == [
        Outgoing("email", CONTACT_EMAIL, "public_reply", expected),
        Outgoing("sms", CONTACT_PHONE, "public_reply", expected),
    ]


def test_a_change_to_an_open_status_tells_its_customer_label_never_its_staff_name() -> None:
    messages = plan(
        [status_changed(OPEN, WAITING)],
        ticket=make_ticket(WAITING),
        contact=make_contact(),
        config=make_config(),
        links=LINKS,
    )

    expected = portal_context(status_label="Waiting for you")
    assert messages == [
        Outgoing("email", CONTACT_EMAIL, "status_changed", expected),
        Outgoing("sms", CONTACT_PHONE, "status_changed", expected),
    ]


def test_closing_sends_only_the_close_email_with_one_rating_link_per_option_best_first() -> None:
    # GIVEN a contact opted in to SMS too, WHEN the status change closes the ticket
    events = [status_changed(OPEN, SOLVED), DomainEvent("ticket_closed", NUMBER, {"status_id": SOLVED})]

    messages = plan(
        events,
        ticket=make_ticket(SOLVED, closed=True),
        contact=make_contact(),
        config=make_config(),
        links=LINKS,
    )

    # THEN one email, no status_changed message and no SMS
    assert sent(messages) == [("email", CONTACT_EMAIL, "ticket_closed")]
    context = messages[0].context
    assert context.status_label == "Solved"
    assert [(link.label, link.url) for link in context.rating_links] == [
        ("Great", f"https://help.example/rate/{NUMBER}/r-great"),
        ("Okay", f"https://help.example/rate/{NUMBER}/r-okay"),
        ("Poor", f"https://help.example/rate/{NUMBER}/r-poor"),
    ]


def test_a_close_sends_the_close_notice_alone_even_if_setup_has_since_made_its_status_open() -> None:
    # GIVEN the record says the ticket closed, but an admin has since made that status open
    config = make_config()
    config.lists["statuses"][SOLVED]["closed"] = False
    events = [status_changed(OPEN, SOLVED), DomainEvent("ticket_closed", NUMBER, {"status_id": SOLVED})]

    messages = plan(
        events, ticket=make_ticket(SOLVED, closed=True), contact=make_contact(), config=config, links=LINKS
    )

    # THEN the record decides: the close notice, and no status_changed email or SMS beside it
    assert sent(messages) == [("email", CONTACT_EMAIL, "ticket_closed")]


def test_closing_without_rating_options_still_sends_the_close_notice() -> None:
    config = make_config()
    config.lists["rating_options"] = {}
    events = [status_changed(OPEN, SOLVED), DomainEvent("ticket_closed", NUMBER, {"status_id": SOLVED})]

    messages = plan(
        events, ticket=make_ticket(SOLVED, closed=True), contact=make_contact(), config=config, links=LINKS
    )

    assert sent(messages) == [("email", CONTACT_EMAIL, "ticket_closed")]
    assert messages[0].context.rating_links == ()


def test_the_closed_sample_record_decodes_and_plans_to_the_close_email_alone() -> None:
    record = load_record("ticket_closed")
    ticket = Item.from_raw_data(record["dynamodb"]["NewImage"])
    assert isinstance(ticket, Ticket)
    old = Item.from_raw_data(record["dynamodb"]["OldImage"])
    assert isinstance(old, Ticket)
    old_status = old.status_id
    assert old_status is not None
    assert ticket.status_id is not None
    config = make_config()
    config.lists["statuses"][old_status] = {
        "name": "x",
        "customer_label": "Open",
        "order": 0,
        "closed": False,
    }
    config.lists["statuses"][ticket.status_id] = {
        "name": "x",
        "customer_label": "Done",
        "order": 9,
        "closed": True,
    }
    contact = make_contact()
    contact.id = ticket.contact_id

    messages = plan(decode(record), ticket=ticket, contact=contact, config=config, links=LINKS)

    assert sent(messages) == [("email", CONTACT_EMAIL, "ticket_closed")]
    assert messages[0].context.status_label == "Done"


# -- customer replies tell staff -------------------------------------------------------


def test_a_customer_reply_emails_the_assignee_with_the_admin_link() -> None:
    note = make_note(public=True, author_type="contact", body="Still burning.")

    messages = plan(
        [note_added(note)],
        ticket=make_ticket(),
        contact=make_contact(),
        note=note,
        assignee=make_staff(),
        config=make_config(staff_notify_email=STAFF_FALLBACK),
        links=LINKS,
    )

    assert messages == [
        Outgoing(
            "email",
            ASSIGNEE_EMAIL,
            "customer_replied",
            MessageContext(
                ticket_number=NUMBER,
                ticket_subject="Printer on fire",
                contact_name="Grace Customer",
                ticket_url=f"https://help.example/admin/tickets/{NUMBER}",
                note_body="Still burning.",
                note_author="Grace Customer",
            ),
        )
    ]


@pytest.mark.parametrize(
    ("assignee", "fallback", "expected"),
    [
        (None, STAFF_FALLBACK, [("email", STAFF_FALLBACK, "customer_replied")]),
        ("inactive", STAFF_FALLBACK, [("email", STAFF_FALLBACK, "customer_replied")]),
        (None, None, []),
        ("inactive", None, []),
    ],
    ids=["unassigned", "assignee-deactivated", "unassigned-no-fallback", "deactivated-no-fallback"],
)
def test_a_customer_reply_without_an_active_assignee_goes_to_the_staff_address_or_nobody(
    assignee: str | None, fallback: str | None, expected: list[tuple[str, str, str]]
) -> None:
    note = make_note(public=True, author_type="contact", body="Hello?")

    messages = plan(
        [note_added(note)],
        ticket=make_ticket(),
        contact=make_contact(),
        note=note,
        assignee=make_staff(active=False) if assignee else None,
        config=make_config(staff_notify_email=fallback),
        links=LINKS,
    )

    assert sent(messages) == expected


def test_a_customer_reply_sends_no_staff_email_when_email_is_disabled_in_settings() -> None:
    note = make_note(public=True, author_type="contact", body="Hello?")

    messages = plan(
        [note_added(note)],
        ticket=make_ticket(),
        contact=make_contact(),
        note=note,
        assignee=make_staff(),
        config=make_config(notify_email_enabled=False, staff_notify_email=STAFF_FALLBACK),
        links=LINKS,
    )

    assert messages == []


def test_a_customer_reply_reaches_staff_even_when_the_contact_declines_email_for_themselves() -> None:
    note = make_note(public=True, author_type="contact", body="Hello?")

    messages = plan(
        [note_added(note)],
        ticket=make_ticket(),
        contact=make_contact(notify_email=False, notify_sms=False),
        note=note,
        assignee=make_staff(),
        config=make_config(),
        links=LINKS,
    )

    assert sent(messages) == [("email", ASSIGNEE_EMAIL, "customer_replied")]


# -- rows that tell nobody ---------------------------------------------------------------


@pytest.mark.parametrize(
    "events",
    [
        [DomainEvent("assignee_changed", NUMBER, {"from": None, "to": "staff-1"})],
        [DomainEvent("category_changed", NUMBER, {"from": None, "to": "cat-INTERNAL"})],
        [DomainEvent("service_level_changed", NUMBER, {"from": "sl-1", "to": "sl-2"})],
        [DomainEvent("ticket_reopened", NUMBER, {"status_id": OPEN})],
        [status_changed(SOLVED, DECLINED)],
        [status_changed(OPEN, "st-deleted-since")],
    ],
    ids=[
        "assignment",
        "category",
        "service-level",
        "reopen-alone",
        "closed-to-closed",
        "unknown-status",
    ],
)
def test_internal_changes_tell_nobody(events: list[DomainEvent]) -> None:
    messages = plan(
        events,
        ticket=make_ticket(),
        contact=make_contact(),
        assignee=make_staff(),
        config=make_config(staff_notify_email=STAFF_FALLBACK),
        links=LINKS,
    )

    assert messages == []


@pytest.mark.parametrize("event_says_public", [False, True])
def test_a_private_note_tells_nobody_even_if_its_event_claims_it_is_public(event_says_public: bool) -> None:
    note = make_note(public=False)

    messages = plan(
        [note_added(note, public=event_says_public)],
        ticket=make_ticket(),
        contact=make_contact(),
        note=note,
        assignee=make_staff(),
        config=make_config(staff_notify_email=STAFF_FALLBACK),
        links=LINKS,
    )

    assert messages == []


def test_a_private_contact_note_tells_nobody() -> None:
    note = make_note(public=False, author_type="contact", body=PRIVATE_TEXT)

    messages = plan(
        [note_added(note)],
        ticket=make_ticket(),
        contact=make_contact(),
        note=note,
        assignee=make_staff(),
        config=make_config(),
        links=LINKS,
    )

    assert messages == []


def test_the_private_note_sample_records_plan_to_nothing() -> None:
    note_record, touch_record = load_records("note_added_private")
    note = Item.from_raw_data(note_record["dynamodb"]["NewImage"])
    ticket = Item.from_raw_data(touch_record["dynamodb"]["NewImage"])
    assert isinstance(note, Note)
    assert isinstance(ticket, Ticket)
    contact = make_contact()
    contact.id = ticket.contact_id

    for record, item in ((note_record, note), (touch_record, None)):
        messages = plan(
            decode(record), ticket=ticket, contact=contact, note=item, config=make_config(), links=LINKS
        )

        assert messages == []


def test_a_ttl_expiry_record_plans_to_nothing() -> None:
    events = decode(load_record("token_expired_ttl"))

    assert plan(events, ticket=make_ticket(), contact=make_contact(), config=make_config(), links=LINKS) == []


def test_reopening_to_an_open_status_tells_the_new_status_once() -> None:
    events = [
        status_changed(SOLVED, OPEN),
        DomainEvent("assignee_changed", NUMBER, {"from": None, "to": "staff-1"}),
        DomainEvent("ticket_reopened", NUMBER, {"status_id": OPEN}),
    ]

    messages = plan(
        events, ticket=make_ticket(OPEN), contact=make_contact(), config=make_config(), links=LINKS
    )

    assert sent(messages) == [
        ("email", CONTACT_EMAIL, "status_changed"),
        ("sms", CONTACT_PHONE, "status_changed"),
    ]
    assert messages[0].context.status_label == "We are on it"


# -- gates ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "contact_choice", "expected_channels"),
    [
        ({}, {}, ["email", "sms"]),
        ({"notify_email_enabled": False}, {}, ["sms"]),
        ({"notify_sms_enabled": False}, {}, ["email"]),
        ({}, {"notify_email": False}, ["sms"]),
        ({}, {"notify_sms": False}, ["email"]),
        ({"notify_email_enabled": False, "notify_sms_enabled": False}, {}, []),
        ({}, {"notify_email": False, "notify_sms": False}, []),
        ({"notify_sms_enabled": False}, {"notify_email": False}, []),
    ],
    ids=[
        "all-on",
        "email-off-in-settings",
        "sms-off-in-settings",
        "contact-declines-email",
        "contact-declines-sms",
        "both-off-in-settings",
        "contact-declines-both",
        "sms-off-and-contact-declines-email",
    ],
)
@pytest.mark.parametrize("template", ["ticket_created", "public_reply", "status_changed"])
def test_settings_gate_each_channel_and_the_contact_chooses_within_them(
    template: str, settings: dict[str, bool], contact_choice: dict[str, bool], expected_channels: list[str]
) -> None:
    note = make_note(public=True)
    events = {
        "ticket_created": [DomainEvent("ticket_created", NUMBER, {"source": "portal"})],
        "public_reply": [note_added(note)],
        "status_changed": [status_changed(OPEN, WAITING)],
    }[template]

    messages = plan(
        events,
        ticket=make_ticket(),
        contact=make_contact(
            notify_email=contact_choice.get("notify_email", True),
            notify_sms=contact_choice.get("notify_sms", True),
        ),
        note=note if template == "public_reply" else None,
        config=make_config(**settings),
        links=LINKS,
    )

    assert [message.channel for message in messages] == expected_channels
    assert {message.template for message in messages} <= {template}


@pytest.mark.parametrize(
    ("settings", "contact_choice"),
    [({"notify_email_enabled": False}, {}), ({}, {"notify_email": False})],
    ids=["email-off-in-settings", "contact-declines-email"],
)
def test_the_close_notice_follows_the_email_gates(
    settings: dict[str, bool], contact_choice: dict[str, bool]
) -> None:
    events = [status_changed(OPEN, SOLVED), DomainEvent("ticket_closed", NUMBER, {"status_id": SOLVED})]

    messages = plan(
        events,
        ticket=make_ticket(SOLVED, closed=True),
        contact=make_contact(
            notify_email=contact_choice.get("notify_email", True),
            notify_sms=contact_choice.get("notify_sms", True),
        ),
        config=make_config(**settings),
        links=LINKS,
    )

    assert messages == []


# -- phone numbers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("phone", "expected"),
    [
        ("+442079460000", "+442079460000"),
        ("+44 20 7946 0000", "+442079460000"),
        ("+1 (202) 555-0143", "+12025550143"),
        ("020 7946 0000", None),  # national form: no country code, so no way to be sure
        ("+44 20 7946", None),  # too short to be a number
        ("+999 1234 5678", None),  # no such country code
        ("call me maybe", None),
        ("", None),
        (None, None),
    ],
)
def test_only_valid_international_numbers_become_e164(phone: str | None, expected: str | None) -> None:
    assert e164(phone) == expected


@pytest.mark.parametrize("phone", ["020 7946 0000", "+44 20 7946", None])
def test_a_contact_without_a_valid_international_number_gets_email_but_no_sms(phone: str | None) -> None:
    event = DomainEvent("ticket_created", NUMBER, {"source": "portal"})

    messages = plan(
        [event], ticket=make_ticket(), contact=make_contact(phone=phone), config=make_config(), links=LINKS
    )

    assert sent(messages) == [("email", CONTACT_EMAIL, "ticket_created")]


def test_an_sms_goes_to_the_number_in_e164_form() -> None:
    event = DomainEvent("ticket_created", NUMBER, {"source": "portal"})

    messages = plan(
        [event],
        ticket=make_ticket(),
        contact=make_contact(phone="+44 20 7946 0000"),
        config=make_config(),
        links=LINKS,
    )

    assert [message.to for message in messages if message.channel == "sms"] == ["+442079460000"]


# -- items that do not belong together ---------------------------------------------------


def test_a_contact_that_is_not_the_tickets_is_refused() -> None:
    contact = make_contact()
    contact.id = "someone-else"

    with pytest.raises(ValueError, match="contact"):
        plan([], ticket=make_ticket(), contact=contact, config=make_config(), links=LINKS)


def test_an_event_about_another_ticket_is_refused() -> None:
    event = DomainEvent("ticket_created", NUMBER + 1, {"source": "portal"})

    with pytest.raises(ValueError, match="another ticket"):
        plan([event], ticket=make_ticket(), contact=make_contact(), config=make_config(), links=LINKS)


@pytest.mark.parametrize("given", ["missing", "other-note"])
def test_a_note_event_needs_the_very_note_it_names(given: str) -> None:
    event = note_added(make_note(public=True, note_id="n-1"))
    note = None if given == "missing" else make_note(public=True, note_id="n-2")

    with pytest.raises(ValueError, match="note"):
        plan(
            [event],
            ticket=make_ticket(),
            contact=make_contact(),
            note=note,
            config=make_config(),
            links=LINKS,
        )


# -- every combination: nothing private, never twice --------------------------------------

PRIVATE_NOTE = make_note(public=False, note_id="n-private")
PUBLIC_NOTE = make_note(public=True, note_id="n-public")
CUSTOMER_NOTE = make_note(public=True, author_type="contact", body="Any news?", note_id="n-customer")
CLOSE = [status_changed(OPEN, SOLVED), DomainEvent("ticket_closed", NUMBER, {"status_id": SOLVED})]

# (events of one record, its note, status the ticket is left in)
CHANGES: list[tuple[list[DomainEvent], Note | None, str]] = [
    ([DomainEvent("ticket_created", NUMBER, {"source": "website"})], None, OPEN),
    ([note_added(PRIVATE_NOTE)], PRIVATE_NOTE, OPEN),
    ([note_added(PRIVATE_NOTE, public=True)], PRIVATE_NOTE, OPEN),
    ([note_added(PUBLIC_NOTE)], PUBLIC_NOTE, OPEN),
    ([note_added(CUSTOMER_NOTE)], CUSTOMER_NOTE, OPEN),
    ([status_changed(OPEN, WAITING)], None, WAITING),
    (CLOSE, None, SOLVED),
    ([*CLOSE, DomainEvent("assignee_changed", NUMBER, {"from": None, "to": "staff-1"})], None, SOLVED),
    ([status_changed(SOLVED, DECLINED)], None, DECLINED),
    ([status_changed(SOLVED, OPEN), DomainEvent("ticket_reopened", NUMBER, {"status_id": OPEN})], None, OPEN),
    ([status_changed(OPEN, WAITING), status_changed(WAITING, OPEN)], None, OPEN),
    ([DomainEvent("category_changed", NUMBER, {"from": None, "to": "cat-INTERNAL"})], None, OPEN),
    ([], None, OPEN),
]


# Settings email and SMS on, contact wants email and SMS, ticket assigned, fallback address set.
SWITCHES = list(itertools.product([True, False], repeat=6))


def context_text(context: MessageContext) -> str:
    """Every value a template could show, as one string."""
    values = [getattr(context, field.name) for field in dataclasses.fields(context)]
    values += [f"{link.label} {link.url}" for link in context.rating_links]
    return " | ".join(str(value) for value in values)


def test_no_combination_leaks_private_text_or_sends_twice_on_a_channel() -> None:
    checked = 0
    for (events, note, status), switches in itertools.product(CHANGES, SWITCHES):
        email_on, sms_on, wants_email, wants_sms, assigned, fallback = switches
        messages = plan(
            events,
            ticket=make_ticket(status, closed=status in (SOLVED, DECLINED)),
            contact=make_contact(notify_email=wants_email, notify_sms=wants_sms),
            note=note,
            assignee=make_staff() if assigned else None,
            config=make_config(
                notify_email_enabled=email_on,
                notify_sms_enabled=sms_on,
                staff_notify_email=STAFF_FALLBACK if fallback else None,
            ),
            links=LINKS,
        )

        recipients = [(message.channel, message.to) for message in messages]
        assert len(recipients) == len(set(recipients)), (events, recipients)
        for message in messages:
            text = context_text(message.context)
            assert PRIVATE_TEXT not in text
            assert not any(word in text for word in INTERNAL_WORDS), text
            assert "INTERNAL Agent Alan" not in text
            assert "cat-INTERNAL" not in text
            assert message.channel in TEMPLATES[message.template]
            assert message.channel != "email" or email_on
            assert message.channel != "sms" or (sms_on and wants_sms)
        checked += len(messages)

    # The sweep must have produced messages to check, or it proves nothing.
    assert checked > 100


def test_the_status_a_customers_own_reply_sets_tells_that_customer_nothing() -> None:
    # GIVEN "waiting" is the status a customer reply sets
    config = make_config(customer_reply_status_id=WAITING)

    # WHEN the customer's reply moves the ticket there
    messages = plan(
        [status_changed(OPEN, WAITING)],
        ticket=make_ticket(WAITING),
        contact=make_contact(),
        config=config,
        links=LINKS,
    )

    # THEN the customer hears nothing about their own action
    assert messages == []


@pytest.mark.parametrize(
    ("portal_enabled", "portal_state", "link"),
    [
        (True, "active", "https://help.example/portal/tickets/"),
        (True, "none", "https://help.example/t/"),
        (True, "invited", "https://help.example/t/"),
        (True, "disabled", "https://help.example/t/"),
        (False, "active", "https://help.example/t/"),
    ],
)
def test_the_customer_link_is_the_portal_page_only_for_a_customer_who_can_sign_in(
    portal_enabled: bool, portal_state: str, link: str
) -> None:
    ticket = make_ticket()
    created = DomainEvent("ticket_created", ticket.number, {})

    planned = plan(
        [created],
        ticket=ticket,
        contact=make_contact(portal_state=portal_state),
        config=make_config(portal_enabled=portal_enabled),
        links=LINKS,
    )

    assert planned
    assert {message.context.ticket_url for message in planned} == {f"{link}{ticket.number}"}
