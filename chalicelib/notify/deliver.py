"""Delivers the notifications one stream record calls for: read, plan, render, send, log.

The items the rules need come from the record itself where it carries them (a ticket's new
image, a note's new image) and from one BatchGetItem for the rest; a note record needs a
second one, since only its ticket names the contact.

Each message is sent at most once per (stream record, channel, recipient): Powertools
idempotency remembers every send in its own table for ``IDEMPOTENCY_EXPIRY`` (longer than
the 24 hours a stream keeps a record), so a batch Lambda delivers again sends nothing twice.
A message the provider does not take is logged as a failed delivery and the record still
succeeds: the shard moves on, and staff see the failure in the delivery log. The entry is
counted on its ticket (``failed_deliveries``) in the same transaction, so the ticket page
can say so without reading the log.

Environment variables
---------------------
HELPDESK_IDEMPOTENCY_TABLE
    The idempotency table (partition key ``id``, TTL attribute ``expiration``). Read on the
    first send of a cold start; unset is an error naming it, which fails the record.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from pynamodb.exceptions import PutError, TransactWriteError

from chalicelib import clock
from chalicelib.domain import account_tokens
from chalicelib.domain.deliveries import write_counted
from chalicelib.domain.setup import SetupConfig
from chalicelib.notify import rules, sender, templates
from chalicelib.notify.links import PublicLinks
from chalicelib.notify.messages import Outgoing
from chalicelib.observability import count, logger
from chalicelib.store.db import (
    Key,
    Transaction,
    condition_failed,
    get_many,
    get_one,
    set_or_remove,
    transaction,
    update_unversioned,
)
from chalicelib.store.models import (
    AccountMail,
    Config,
    ConfirmationWindow,
    Contact,
    Delivery,
    EmailClaim,
    Item,
    Note,
    Staff,
    Ticket,
)
from chalicelib.stream.events import DomainEvent, image

IDEMPOTENCY_TABLE_VARIABLE = "HELPDESK_IDEMPOTENCY_TABLE"
# Longer than the stream's 24-hour retention: no redelivery can outlive its record.
IDEMPOTENCY_EXPIRY = 48 * 3600
# The attribute holding a record's expiry, in epoch seconds: the table's TTL attribute too.
EXPIRY_ATTRIBUTE = "expiration"
# Time kept back beyond one send's worst case: the delivery log write and the answer.
SEND_MARGIN_MS = 5_000

# Events that may tell someone something; every other event tells nobody (see rules.plan).
NOTIFYING = frozenset({"ticket_created", "status_changed", "ticket_closed", "note_added"})


class DeliveryOutOfTime(Exception):
    """The invocation has too little time left to send safely: the record fails, and Lambda
    delivers it again; idempotency skips what this run already sent."""


@dataclass(frozen=True)
class Attempt:
    """What one send did, as the idempotency table remembers it."""

    id: str
    at: str
    outcome: str
    message_id: str | None
    reason: str | None


def deliver(record: dict[str, Any], events: Sequence[DomainEvent], lambda_context: Any = None) -> int:
    """Send what the record's ``events`` call for; the number of messages attempted."""
    wanted = [event for event in events if event.name in NOTIFYING]
    new = image(record, "NewImage")
    # A private note tells nobody: nothing is read, nothing rendered.
    if isinstance(new, Note) and not new.public:
        wanted = [event for event in wanted if event.name != "note_added"]
    if not wanted:
        return 0

    items = _read_items(new, wanted[0].ticket_number)
    if items is None:
        logger.warning("notification items missing", extra={"ticket_number": wanted[0].ticket_number})
        return 0
    ticket, contact, config, assignee = items

    sender_email = config.settings.get("sender_email")
    email_on = bool(config.settings.get("notify_email_enabled") and sender_email)
    if not email_on and not config.settings.get("notify_sms_enabled"):
        logger.info("notifications off", extra={"ticket_number": ticket.number})
        return 0

    planned = rules.plan(
        wanted,
        ticket=ticket,
        contact=contact,
        config=config,
        links=PublicLinks.from_env(),
        note=new if isinstance(new, Note) else None,
        assignee=assignee,
    )
    attempted = 0
    for message in planned:
        if message.channel == "email" and not sender_email:
            logger.info("no sender email, email skipped", extra={"ticket_number": ticket.number})
            continue
        if _repeated_website_confirmation(record.get("eventID", ""), message, ticket):
            count("ConfirmationsHeldBack")
            logger.info("website confirmation held back", extra={"ticket_number": ticket.number})
            continue
        _check_time(lambda_context)
        _log(_send_once(record.get("eventID", ""), message, str(sender_email or ""), ticket, lambda_context))
        attempted += 1
    return attempted


# A website's visitors get at most one ticket confirmation email per address in this window:
# a form sent again and again (by a person or a bot) must not flood a mailbox.
CONFIRMATION_WINDOW_SECONDS = 600


def _repeated_website_confirmation(event_id: str, message: Outgoing, ticket: Ticket) -> bool:
    """Whether this is a second website confirmation to the address within the window. The
    first one claims the window with a conditional put naming its record, so the same record
    delivered again still sends (idempotency then keeps it to one email)."""
    if ticket.source != "website" or message.template != "ticket_created" or message.channel != "email":
        return False
    window = int(clock.now().timestamp()) // CONFIRMATION_WINDOW_SECONDS
    digest = hashlib.sha256(message.to.lower().encode()).hexdigest()[:32]
    claim = ConfirmationWindow(
        f"CONFIRMED#{digest}",
        f"WINDOW#{window}",
        event_id=event_id,
        ttl=clock.now() + timedelta(seconds=2 * CONFIRMATION_WINDOW_SECONDS),
    )
    try:
        claim.save(
            condition=ConfirmationWindow.pk.does_not_exist() | (ConfirmationWindow.event_id == event_id)
        )
    except PutError as exc:
        if condition_failed(exc):
            return True
        raise
    return False


def resend(record: dict[str, Any], requested: Delivery, lambda_context: Any = None) -> str:
    """Send again what a failed delivery kept, once staff asked for it; what became of it.

    The re-send is a new entry in the delivery log (``resend_of`` names the failed one), and
    the failed one turns ``resent``, both in one transaction. It honours today's settings and
    the contact's choices: a customer message whose channel is now off, or whose recipient is
    no longer the contact's, is ``cancelled`` instead of sent.
    """
    number = requested.ticket_number
    found = get_many([Ticket.key(number), Config.key(), Delivery.key(requested.ticket_number, requested.id)])
    ticket, current = (
        found.get(Ticket.key(number)),
        found.get(Delivery.key(requested.ticket_number, requested.id)),
    )
    if not isinstance(current, Delivery) or current.outcome != "resend_requested":
        return "already_done"  # a redelivered record: its transaction has been written
    if not isinstance(ticket, Ticket) or not current.message:
        return _finish(current, "cancelled", "the ticket or the kept message is gone")

    try:
        message = Outgoing.from_json(current.message)
    except ValueError:
        return _finish(current, "cancelled", "the kept message cannot be read")
    config = SetupConfig.from_item(found.get(Config.key()))
    sender_email = str(config.settings.get("sender_email") or "")
    refusal = _resend_refusal(message, config, sender_email, ticket)
    if refusal:
        return _finish(current, "cancelled", refusal)

    _check_time(lambda_context)
    entry = _send_once(
        record.get("eventID", ""), message, sender_email, ticket, lambda_context, resend_of=current.id
    )
    return _finish(current, "resent", None, entry)


def _resend_refusal(message: Outgoing, config: SetupConfig, sender_email: str, ticket: Ticket) -> str | None:
    """Why a kept message may not go out today, if it may not."""
    if message.channel == "email" and not (config.settings.get("notify_email_enabled") and sender_email):
        return "email notifications are off"
    if message.channel == "sms" and not config.settings.get("notify_sms_enabled"):
        return "SMS notifications are off"
    if message.template == "customer_replied":
        return None
    contact = get_one(Contact.key(ticket.contact_id))
    if not isinstance(contact, Contact):
        return "the contact is gone"
    if message.channel == "email" and (
        not contact.notify_email or contact.email.lower() != message.to.lower()
    ):
        return "the contact no longer takes email at this address"
    if message.channel == "sms" and (not contact.notify_sms or contact.phone != message.to):
        return "the contact no longer takes SMS at this number"
    return None


def _finish(requested: Delivery, outcome: str, reason: str | None, entry: Delivery | None = None) -> str:
    """Close the request: the failed entry says what became of it, with the new attempt's
    entry when there is one, in one transaction; a request closed meanwhile changes nothing.
    A new attempt that failed too is a new failure, counted on the ticket in the same
    transaction (not when the ticket is gone)."""
    actions = [Delivery.outcome.set(outcome)]
    if reason:
        actions.append(Delivery.reason.set(reason))
    if entry is not None:
        actions.append(Delivery.resent_as.set(entry.id))

    def fill(writes: Transaction) -> None:
        writes.update_unversioned(
            Delivery.key(requested.ticket_number, requested.id),
            actions,
            condition=Delivery.outcome == "resend_requested",
        )
        if entry is not None:
            writes.save(entry)

    try:
        if entry is not None and entry.outcome == "failed":
            write_counted(requested.ticket_number, 1, fill)
        else:
            with transaction() as writes:
                fill(writes)
    except TransactWriteError as exc:
        if condition_failed(exc):
            return "already_done"
        raise
    logger.info(
        "delivery re-send " + outcome,
        extra={"ticket_number": requested.ticket_number, "delivery_id": requested.id, "reason": reason},
    )
    return outcome


# The account email whose link makes its recipient the contact's email.
EMAIL_CHANGE_LINK = "email_change_confirm"


def account_mail(record: dict[str, Any], mail: AccountMail, lambda_context: Any = None) -> str:
    """Send an email about a contact's portal account, with its signed link made now from
    the contact as stored now; record the outcome on the ``AccountMail`` item.

    Account emails need a sender address but not the ticket notification switch: a customer
    who cannot get in must still be able to. The link is in the email only; logs and the
    idempotency table never hold it. It goes to the mail's own recipient when it names one
    (an email change), else to the contact's email.
    """
    changes_email = mail.template == EMAIL_CHANGE_LINK
    # An email change's link also needs to know who holds its address: in the same batch.
    claim_key = EmailClaim.key("contact", (mail.recipient or "").lower())
    found = get_many([Contact.key(mail.contact_id), Config.key(), *([claim_key] if changes_email else [])])
    contact = found.get(Contact.key(mail.contact_id))
    config = SetupConfig.from_item(found.get(Config.key()))
    sender_email = str(config.settings.get("sender_email") or "")
    if not isinstance(contact, Contact):
        return _account_outcome(mail, "skipped", "the contact is gone")
    if not sender_email:
        return _account_outcome(mail, "skipped", "no sender email is set")
    if changes_email:
        refusal = _email_change_refusal(mail, contact, found.get(claim_key))
        if refusal:
            return _account_outcome(mail, "skipped", refusal)
    recipient = mail.recipient or contact.email

    purpose = account_tokens.PURPOSES[mail.template]
    token = account_tokens.make(contact, purpose, issued_at=mail.created_at)
    link = PublicLinks.from_env().account(purpose, token)
    rendered = templates.render_account_email(
        mail.template,
        contact_name=contact.name,
        link=link,
        valid_for=templates.duration_text(account_tokens.LIFETIMES[purpose]),
    )
    _check_time(lambda_context)
    idempotency, send_once = _idempotent_account_send()
    if lambda_context is not None:
        idempotency.register_lambda_context(lambda_context)
    key = {"event_id": record.get("eventID", ""), "channel": "email", "to": recipient.lower()}
    attempt = Attempt(
        **send_once(sender_email, recipient, rendered.subject, rendered.text, rendered.html, key=key)
    )
    count("EmailFailed" if attempt.outcome == "failed" else "EmailSent")
    return _account_outcome(mail, attempt.outcome, attempt.reason, attempt.message_id)


def _email_change_refusal(mail: AccountMail, contact: Contact, claim: Item | None) -> str | None:
    """Why an email change's link must not go out, if it must not. An address another contact
    holds gets nothing: the customer who asked was answered as for a free one, and the
    holder is not to be pestered by someone else's requests."""
    if not mail.recipient or contact.pending_email != mail.recipient:
        return "the email change was replaced or is done"
    if isinstance(claim, EmailClaim) and claim.owner_id != contact.id:
        return "the address belongs to another contact"
    return None


def _account_outcome(
    mail: AccountMail, outcome: str, reason: str | None, message_id: str | None = None
) -> str:
    update_unversioned(
        (mail.pk, mail.sk),
        [
            AccountMail.outcome.set(outcome),
            set_or_remove(AccountMail.reason, reason),
            set_or_remove(AccountMail.provider_message_id, message_id),
        ],
    )
    log = logger.warning if outcome != "sent" else logger.info
    log(
        "account email " + outcome,
        extra={"template": mail.template, "contact_id": mail.contact_id, "reason": reason},
    )
    return outcome


# -- reading -------------------------------------------------------------------------


def _read_items(new: Item | None, number: int) -> tuple[Ticket, Contact, SetupConfig, Staff | None] | None:
    """The ticket, its contact, the config and the assignee: one BatchGetItem for a ticket
    record, two for a note record (the ticket names the contact)."""
    found: dict[Key, Item] = {}
    ticket = new if isinstance(new, Ticket) else None
    if ticket is None:
        found = get_many([Ticket.key(number), Config.key()])
        read = found.get(Ticket.key(number))
        ticket = read if isinstance(read, Ticket) else None
        if ticket is None:
            return None

    keys = [Contact.key(ticket.contact_id)]
    if ticket.assignee_id:
        keys.append(Staff.key(ticket.assignee_id))
    if Config.key() not in found:
        keys.append(Config.key())
    found.update(get_many(keys))

    contact = found.get(Contact.key(ticket.contact_id))
    if not isinstance(contact, Contact):
        return None
    assignee = found.get(Staff.key(ticket.assignee_id)) if ticket.assignee_id else None
    config = SetupConfig.from_item(found.get(Config.key()))
    return ticket, contact, config, assignee if isinstance(assignee, Staff) else None


# -- sending -------------------------------------------------------------------------


def _check_time(lambda_context: Any) -> None:
    if lambda_context is None:
        return
    left = lambda_context.get_remaining_time_in_millis()
    if left < sender.WORST_CASE_SECONDS * 1000 + SEND_MARGIN_MS:
        count("DeliveryOutOfTime")
        logger.warning("too little time left to send", extra={"remaining_ms": left})
        raise DeliveryOutOfTime(f"{left} ms left, a send may take {sender.WORST_CASE_SECONDS} s")


def _log(entry: Delivery) -> None:
    """Write one entry of the delivery log. A failed one goes in only if it is new, with one
    more on its ticket's ``failed_deliveries``, in one transaction: a redelivered record
    gets its attempt back from idempotency, so the same key, and neither logs nor counts it
    twice. A ticket gone meanwhile still gets its entry logged, uncounted."""
    if entry.outcome != "failed":
        entry.save()  # the same attempt rewrites the same entry
        return
    try:
        write_counted(
            entry.ticket_number, 1, lambda writes: writes.save(entry, condition=Delivery.pk.does_not_exist())
        )
    except TransactWriteError as exc:
        if not condition_failed(exc):
            raise
        # Already logged and counted, by this record's earlier delivery.


def _send_once(
    event_id: str,
    message: Outgoing,
    sender_email: str,
    ticket: Ticket,
    lambda_context: Any,
    *,
    resend_of: str | None = None,
) -> Delivery:
    """Send once per (record, channel, recipient); the log entry for the caller to write."""
    config, send_once = _idempotent_send()
    if lambda_context is not None:
        config.register_lambda_context(lambda_context)
    key = {"event_id": event_id, "channel": message.channel, "to": message.to.lower()}
    attempt = Attempt(**send_once(message, sender_email, key=key))

    failed = attempt.outcome == "failed"
    # The same attempt gives the same key: a redelivered record rewrites its own log entry.
    entry = Delivery(
        *Delivery.key(ticket.number, attempt.id),
        ticket_number=ticket.number,
        id=attempt.id,
        event_id=event_id,
        channel=message.channel,
        recipient=message.to,
        template=message.template,
        provider_message_id=attempt.message_id,
        outcome=attempt.outcome,
        reason=attempt.reason,
        attempted_at=datetime.fromisoformat(attempt.at),
        message=message.to_json() if failed else None,
        resend_of=resend_of,
        ref_pk=Delivery.FAILED_REF if failed else None,
        ref_sk=f"{attempt.at}#{ticket.number:010d}" if failed else None,
    )

    count(f"{message.channel.title()}{'Failed' if failed else 'Sent'}")
    log = logger.warning if failed else logger.info
    log(
        "notification " + attempt.outcome,
        extra={
            "ticket_number": ticket.number,
            "channel": message.channel,
            "template": message.template,
            "delivery_id": attempt.id,
            "reason": attempt.reason,
        },
    )
    return entry


def _send_account(
    sender_email: str, to: str, subject: str, text: str, html: str, *, key: dict[str, str]
) -> dict[str, Any]:
    """Send one rendered account email; what happened, as ``_send`` reports it."""
    moment = clock.now()
    attempt = {"id": clock.sortable_id(moment), "at": clock.iso(moment), "message_id": None, "reason": None}
    try:
        message_id = sender.send_email(sender_email, to, templates.RenderedEmail(subject, text, html))
    except sender.DeliveryFailed as exc:
        return {**attempt, "outcome": "failed", "reason": exc.reason}
    return {**attempt, "outcome": "sent", "message_id": message_id}


def _send(message: Outgoing, sender_email: str, *, key: dict[str, str]) -> dict[str, Any]:
    """Render and send one message; what happened, never an exception for a refusal, so the
    idempotency table keeps failures too and a redelivery does not try again."""
    moment = clock.now()
    attempt = {"id": clock.sortable_id(moment), "at": clock.iso(moment), "message_id": None, "reason": None}
    try:
        if message.channel == "email":
            rendered = templates.render_email(message.template, message.context)
            message_id = sender.send_email(sender_email, message.to, rendered)
        else:
            message_id = sender.send_sms(message.to, templates.render_sms(message.template, message.context))
    except sender.DeliveryFailed as exc:
        return {**attempt, "outcome": "failed", "reason": exc.reason}
    return {**attempt, "outcome": "sent", "message_id": message_id}


def _idempotent_send() -> tuple[Any, Any]:
    """``_send`` wrapped once per (record, channel, recipient)."""
    return _idempotent(_send)


def _idempotent_account_send() -> tuple[Any, Any]:
    """``_send_account`` wrapped once per (record, channel, recipient)."""
    return _idempotent(_send_account)


@lru_cache(maxsize=2)
def _idempotent(function: Any) -> tuple[Any, Any]:
    """``function`` wrapped by Powertools idempotency, built on first use: importing the app
    does not load Powertools idempotency (nor boto3 through it)."""
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
        idempotent_function,
    )

    table = os.environ.get(IDEMPOTENCY_TABLE_VARIABLE, "").strip()
    if not table:
        raise RuntimeError(f"{IDEMPOTENCY_TABLE_VARIABLE} must name the idempotency table")
    persistence = DynamoDBPersistenceLayer(table_name=table, key_attr="id", expiry_attr=EXPIRY_ATTRIBUTE)
    config = IdempotencyConfig(expires_after_seconds=IDEMPOTENCY_EXPIRY)
    wrapped = idempotent_function(data_keyword_argument="key", persistence_store=persistence, config=config)(
        function
    )
    return config, wrapped
