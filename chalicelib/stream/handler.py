"""The stream handler: every batch goes through Powertools' BatchProcessor.

A record that fails is reported back by sequence number (partial batch response), so
Lambda retries from it without re-running the records before it; one that cannot be
decoded is logged and counted, then reported failed so the event source's on-failure
destination receives it after its retries. A setup edit whose realignment runs out of
time fails the same way, to be delivered again and carry on. Ticket events go on to
``chalicelib.notify.deliver``; a record whose sends would outlast the invocation fails too.
A failed delivery that staff asked to send again, and an email about a portal account
(registration, reset, invite), go to the same module. Ticket and rating changes also keep
the staff dashboard's figures (``chalicelib.domain.dashboard``), counted once per record,
and the customer-visible ones the contact's recent activity (``chalicelib.domain.activity``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalicelib.domain import activity, dashboard, ticket_keys, ticket_names
from chalicelib.observability import count, logger
from chalicelib.stream import events

# Realigning stops when the invocation has less time left than this: enough to finish the
# ticket write under way (PynamoDB retries a slow call) and to answer with the failed record.
REALIGN_MARGIN_MS = 10_000


def handle_record(record: Any, lambda_context: Any = None) -> None:
    """Decode one record and act on its events. Raises to mark the record failed.

    Powertools passes ``lambda_context`` because this signature names it; it is None when
    the batch runs without one (the local poller may), and then realigning has no deadline.
    """
    raw = record.raw_event
    try:
        decoded = events.decode(raw)
    except events.MalformedRecord as exc:
        count("MalformedRecords")
        logger.error("malformed stream record", extra={"reason": str(exc), "event_id": raw.get("eventID")})
        raise
    for event in decoded:
        count("TicketEvents")
        logger.info(
            "ticket event",
            extra={"event": event.name, "ticket_number": event.ticket_number, **event.data},
        )

    if dashboard.counts(raw):
        dashboard.apply(raw)

    if decoded:
        # Before notifying: a send that runs out of time fails the record, and the activity
        # is then already kept (a redelivery adds nothing to it twice).
        activity.keep(raw, decoded)
        _notify(raw, decoded, lambda_context)

    setup_change = events.decode_setup_change(raw)
    if setup_change is not None:
        _realign(setup_change, lambda_context)

    rename = ticket_names.renamed(raw)
    if rename is not None:
        _rename(*rename, lambda_context)

    resend = events.decode_resend_request(raw)
    if resend is not None:
        from chalicelib.notify import deliver

        deliver.resend(raw, resend, lambda_context)

    account_mail = events.decode_account_mail(raw)
    if account_mail is not None:
        from chalicelib.notify import deliver

        deliver.account_mail(raw, account_mail, lambda_context)


def _notify(raw: dict[str, Any], decoded: list[events.DomainEvent], lambda_context: Any) -> None:
    from chalicelib.notify import deliver  # lazy: a batch without ticket events never loads it

    # DeliveryOutOfTime propagates: the record fails like a realignment out of time, is
    # delivered again, and idempotency skips what this run already sent.
    deliver.deliver(raw, decoded, lambda_context)


def _realign(change: events.SetupChange, lambda_context: Any) -> None:
    try:
        realigned = ticket_keys.realign_with_setup(
            change.old, change.new, out_of_time=_deadline(lambda_context)
        )
    except ticket_keys.RealignIncomplete as exc:
        count("RealignIncomplete")
        logger.warning("tickets realign stopped at deadline", extra={"tickets": exc.changed})
        raise
    if realigned:
        logger.info("tickets realigned with setup", extra={"tickets": realigned})


def _rename(kind: str, person_id: str, name: str, lambda_context: Any) -> None:
    try:
        changed = ticket_names.follow(kind, person_id, name, _deadline(lambda_context))
    except ticket_names.RenameIncomplete:
        count("RenameIncomplete")
        logger.warning("ticket names stopped at deadline", extra={"kind": kind})
        raise
    if changed:
        logger.info("ticket names followed a rename", extra={"kind": kind, "tickets": changed})


def _deadline(lambda_context: Any) -> Callable[[], bool]:
    """Whether the invocation is too close to its timeout to start on another ticket."""
    if lambda_context is None:
        return lambda: False
    return lambda: lambda_context.get_remaining_time_in_millis() < REALIGN_MARGIN_MS


def handle_batch(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Process a Lambda DynamoDB stream event; answer with the failed items."""
    from aws_lambda_powertools.utilities.batch import (
        BatchProcessor,
        EventType,
        process_partial_response,
    )

    # A batch whose every record failed answers like any other, record by record, instead of
    # raising: Lambda retries from the first failed record either way, and a lone setup edit
    # that ran out of time is no crash of the function (nor a reason to bisect its batch).
    processor = BatchProcessor(event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False)
    response = process_partial_response(
        event=event, record_handler=handle_record, processor=processor, context=context
    )
    return dict(response)
