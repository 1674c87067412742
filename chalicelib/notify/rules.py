"""Which messages one change of a ticket sends, and to whom.

The rules are a pure function of the change (the events one stream record stands for) and
the items it concerns, so every row of the notifications table can be checked without AWS.
Sending, idempotency and the delivery log come after: they take the ``Outgoing`` list as is.

What a customer is told comes only from customer-visible facts: a status's
``customer_label`` (never its staff name), public notes (never private ones) and the
ticket's own number and subject. Each change tells each recipient at most once per channel.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from chalicelib.domain.setup import SetupConfig
from chalicelib.notify.messages import TEMPLATES, Channel, MessageContext, Outgoing, RatingLink
from chalicelib.store.models import Contact, Note, Staff, Ticket
from chalicelib.stream.events import DomainEvent


class Links(Protocol):
    """Builds the links a message carries; the real one signs rating tokens, so the rules
    only ask for URLs and never see a key."""

    def portal_ticket(self, number: int) -> str:
        """The customer's page of the ticket."""
        ...

    def admin_ticket(self, number: int) -> str:
        """The staff page of the ticket."""
        ...

    def rating(self, number: int, option_id: str) -> str:
        """A link that rates the ticket with one rating option, no login needed."""
        ...

    def ticket_view(self, number: int) -> str:
        """A signed link that shows just this ticket, no login needed."""
        ...


def plan(
    events: Sequence[DomainEvent],
    *,
    ticket: Ticket,
    contact: Contact,
    config: SetupConfig,
    links: Links,
    note: Note | None = None,
    assignee: Staff | None = None,
) -> list[Outgoing]:
    """The messages the events of one stream record send, in the order they should go.

    ``ticket`` is the ticket as the change left it, ``contact`` its customer, ``note`` the
    note of a ``note_added`` event and ``assignee`` the ticket's assigned staff member, if
    any. Items that do not belong together are refused with ``ValueError``: a message built
    from them could reach the wrong person.
    """
    _check_items(events, ticket, contact, note)

    names = {event.name for event in events}
    planned: list[Outgoing] = []
    for event in events:
        if event.name == "ticket_created":
            planned += _to_contact(
                "ticket_created", _contact_context(ticket, contact, links, config), contact, config
            )
        elif event.name == "ticket_closed":
            planned += _closed(ticket, contact, config, links, event.data.get("status_id"))
        elif event.name == "status_changed" and "ticket_closed" not in names:
            # A close is also a status change; the close notice alone tells the customer.
            planned += _status_changed(ticket, contact, config, links, event.data.get("to"))
        elif event.name == "note_added" and note is not None:
            planned += _note_added(ticket, contact, note, assignee, config, links)
        # Anything else (assignment, category or service level, a reopen on its own) is
        # internal: it tells nobody.

    return _once_per_channel_and_recipient(planned)


# -- one rule per row of the table ---------------------------------------------------


def _status_changed(
    ticket: Ticket, contact: Contact, config: SetupConfig, links: Links, status_id: str | None
) -> list[Outgoing]:
    status = config.entry("statuses", status_id)
    # A status unknown to the setup has no customer label to tell; a move between closed
    # statuses is no news to a customer already sent the close notice; and the status a
    # customer's own reply sets tells them only what they just did.
    if status is None or status["closed"] or status_id == config.settings.get("customer_reply_status_id"):
        return []
    context = _contact_context(ticket, contact, links, config, status_label=status["customer_label"])
    return _to_contact("status_changed", context, contact, config)


def _closed(
    ticket: Ticket, contact: Contact, config: SetupConfig, links: Links, status_id: str | None
) -> list[Outgoing]:
    status = config.entry("statuses", status_id)
    ratings = tuple(
        RatingLink(label=option["label"], url=links.rating(ticket.number, option["id"]))
        for option in config.ordered("rating_options")
    )
    context = _contact_context(
        ticket,
        contact,
        links,
        config,
        status_label=status["customer_label"] if status else None,
        rating_links=ratings,
    )
    return _to_contact("ticket_closed", context, contact, config)


def _note_added(
    ticket: Ticket, contact: Contact, note: Note, assignee: Staff | None, config: SetupConfig, links: Links
) -> list[Outgoing]:
    # Only the note item itself decides whether it is public: a private note's text must
    # never reach a message, whatever the event says.
    if not note.public:
        return []

    if note.author_type == "staff":
        # The staff author's name stays out: whether customers see who answered is the
        # portal's decision, and a name is easier to add later than to take back.
        context = _contact_context(ticket, contact, links, config, note_body=note.body)
        return _to_contact("public_reply", context, contact, config)

    if note.author_type == "contact":
        to = _staff_recipient(assignee, config)
        if to is None or not config.settings.get("notify_email_enabled"):
            return []
        context = MessageContext(
            ticket_number=ticket.number,
            ticket_subject=ticket.subject,
            contact_name=contact.name,
            ticket_url=links.admin_ticket(ticket.number),
            note_body=note.body,
            note_author=contact.name,
        )
        return [Outgoing("email", to, "customer_replied", context)]

    return []


# -- recipients and gates ------------------------------------------------------------


def _to_contact(
    template: str, context: MessageContext, contact: Contact, config: SetupConfig
) -> list[Outgoing]:
    """The template on each channel it has that the settings enable and the contact chose."""
    channels = TEMPLATES[template]
    messages: list[Outgoing] = []

    if (
        "email" in channels
        and config.settings.get("notify_email_enabled")
        and contact.notify_email
        and contact.email
    ):
        messages.append(Outgoing("email", contact.email, template, context))

    if "sms" in channels and config.settings.get("notify_sms_enabled") and contact.notify_sms:
        number = e164(contact.phone)
        if number is not None:
            messages.append(Outgoing("sms", number, template, context))

    return messages


def _staff_recipient(assignee: Staff | None, config: SetupConfig) -> str | None:
    """The assignee, if still active; else the shared staff address; else nobody."""
    if assignee is not None and assignee.active and assignee.email:
        return str(assignee.email)
    fallback = config.settings.get("staff_notify_email")
    return str(fallback) if fallback else None


def e164(phone: str | None) -> str | None:
    """The number in E.164 form if it is a valid international number; None otherwise.

    Stored numbers were validated when saved, but SNS must never be handed something it
    would read as another number, so each send checks again.
    """
    if not phone:
        return None

    import phonenumbers  # lazy: only changes that may text someone pay for it

    try:
        # No default region: only a number written with its country code is accepted.
        number = phonenumbers.parse(phone, None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


# -- helpers -------------------------------------------------------------------------


def _contact_context(
    ticket: Ticket,
    contact: Contact,
    links: Links,
    config: SetupConfig,
    *,
    status_label: str | None = None,
    note_body: str | None = None,
    rating_links: tuple[RatingLink, ...] = (),
) -> MessageContext:
    return MessageContext(
        ticket_number=ticket.number,
        ticket_subject=ticket.subject,
        contact_name=contact.name,
        ticket_url=_customer_link(ticket, contact, links, config),
        status_label=status_label,
        note_body=note_body,
        rating_links=rating_links,
    )


def _customer_link(ticket: Ticket, contact: Contact, links: Links, config: SetupConfig) -> str:
    """The portal's page of the ticket for a customer who can sign in there; otherwise (the
    portal is off, or they never set a password, as after a website form) a signed link
    that shows just this ticket."""
    if config.settings.get("portal_enabled") and contact.portal_state == "active":
        return links.portal_ticket(ticket.number)
    return links.ticket_view(ticket.number)


def _once_per_channel_and_recipient(messages: list[Outgoing]) -> list[Outgoing]:
    """The first message for each (channel, recipient): one change never texts or mails the
    same person twice."""
    seen: set[tuple[Channel, str]] = set()
    kept: list[Outgoing] = []
    for message in messages:
        key = (message.channel, message.to.lower())
        if key not in seen:
            seen.add(key)
            kept.append(message)
    return kept


def _check_items(events: Sequence[DomainEvent], ticket: Ticket, contact: Contact, note: Note | None) -> None:
    if ticket.contact_id != contact.id:
        raise ValueError("the contact is not the ticket's")
    for event in events:
        if event.ticket_number != ticket.number:
            raise ValueError("an event is about another ticket")
        if event.name == "note_added" and (note is None or note.id != event.data.get("note_id")):
            raise ValueError("a note_added event needs its own note")
    if note is not None and note.ticket_number != ticket.number:
        raise ValueError("the note is on another ticket")
