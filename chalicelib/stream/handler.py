"""The stream handler: every batch goes through Powertools' BatchProcessor.

A record that fails is reported back by sequence number (partial batch response), so
Lambda retries from it without re-running the records before it; one that cannot be
decoded is logged and counted, then reported failed so the event source's on-failure
destination receives it after its retries.
"""

from __future__ import annotations

from typing import Any

from chalicelib.domain import tickets
from chalicelib.observability import count, logger
from chalicelib.stream import events


def handle_record(record: Any) -> None:
    """Decode one record and act on its events. Raises to mark the record failed."""
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

    setup_change = events.decode_setup_change(raw)
    if setup_change is not None:
        realigned = tickets.realign_with_setup(setup_change.old, setup_change.new)
        if realigned:
            logger.info("tickets realigned with setup", extra={"tickets": realigned})


def handle_batch(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Process a Lambda DynamoDB stream event; answer with the failed items."""
    from aws_lambda_powertools.utilities.batch import (
        BatchProcessor,
        EventType,
        process_partial_response,
    )

    processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
    response = process_partial_response(
        event=event, record_handler=handle_record, processor=processor, context=context
    )
    return dict(response)
