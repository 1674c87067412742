"""The delivery log of a ticket: every notification attempt, read back for staff, and the
failed ones staff ask to send again.

``chalicelib.notify.deliver`` writes the entries and does the re-sending, from the stream;
this module reads them and records the request, so the API loads neither the templates nor
the providers' clients and needs no right to send. A request is a staff member's change
like any other: it is recorded on the ticket's audit trail (``ticket_changes``) in the
same transaction as the entry's update, which also takes the failure off the ticket's
``failed_deliveries`` (``count_failed``; the stream handler adds each failure to it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pynamodb.exceptions import TransactWriteError

from chalicelib import clock
from chalicelib.domain.ticket_changes import new_change
from chalicelib.domain.ticket_notes import Author
from chalicelib.errors import Conflict
from chalicelib.observability import logger
from chalicelib.store.cursor import decode_cursor, encode_cursor
from chalicelib.store.db import Transaction, condition_failed, failed_conditions, transaction
from chalicelib.store.models import Change, Delivery, Item, Staff, Ticket

NOT_FAILED = "Only a failed delivery can be sent again; this one was sent or is being sent again."


def count_failed(writes: Transaction, number: int, step: int) -> None:
    """Move the ticket's count of failures awaiting a re-send by ``step`` within ``writes``,
    as its last item, without touching the ticket's version: no edit goes stale for it.

    Only on a ticket that exists (an ``ADD`` alone would make a bare item), and never below
    zero: a failure logged before tickets kept the count was never added to it.
    """
    condition = Ticket.pk.exists() if step > 0 else Ticket.failed_deliveries >= -step
    writes.update_unversioned(Ticket.key(number), [Ticket.failed_deliveries.add(step)], condition=condition)


def write_counted(number: int, step: int, fill: Callable[[Transaction], None]) -> None:
    """One transaction of the writes ``fill`` adds and the ticket's count moved by ``step``
    (``count_failed``). When that count's condition alone cancels it (the ticket is gone,
    or a failure logged before tickets kept the count has none to take off), the writes go
    in again without it. Any other cancellation raises ``TransactWriteError``."""
    try:
        with transaction() as writes:
            fill(writes)
            count_failed(writes, number, step)
        return
    except TransactWriteError as exc:
        if not _only_count_refused(exc):
            raise
    logger.warning("failed deliveries count left as it is", extra={"ticket_number": number, "step": step})
    with transaction() as writes:
        fill(writes)


def _only_count_refused(exc: TransactWriteError) -> bool:
    # The count is the transaction's last update, and updates go last (``failed_conditions``).
    flags = failed_conditions(exc)
    return bool(flags) and flags[-1] and not any(flags[:-1])


def present(delivery: Delivery) -> dict[str, Any]:
    """A delivery as the API shows it."""
    return {
        "id": delivery.id,
        "ticket_number": delivery.ticket_number,
        "channel": delivery.channel,
        "recipient": delivery.recipient,
        "template": delivery.template,
        "provider_message_id": delivery.provider_message_id,
        "outcome": delivery.outcome,
        "reason": delivery.reason,
        "attempted_at": delivery.attempted_at,
        "resend_of": delivery.resend_of,
        "resent_as": delivery.resent_as,
        "resend_requested_by": delivery.resend_requested_by,
    }


def deliveries_page(number: int, limit: int, cursor: str | None) -> tuple[list[Delivery], str | None]:
    """A ticket's deliveries, newest first, in one query of its partition's ``DELIVERY#`` keys;
    the cursor (signed for this ticket) leads to older ones."""
    scope = f"deliveries|{number}"
    pages = Item.query(
        Ticket.partition(number),
        Item.sk.startswith(Delivery.PREFIX),
        scan_index_forward=False,
        limit=limit,
        last_evaluated_key=decode_cursor(cursor, scope),
    ).page_iter
    raw_page = next(pages)
    found = [Item.from_raw_data(raw) for raw in raw_page.get("Items", [])]
    items = [item for item in found if isinstance(item, Delivery)]
    return items, encode_cursor(pages.last_evaluated_key, scope)


def failed_page(limit: int, cursor: str | None) -> tuple[list[Delivery], str | None]:
    """Every failed delivery not yet sent again, newest first: one query of the ``refs``
    index under ``FAILED_DELIVERY``."""
    scope = "deliveries|failed"
    pages = Item.refs.query(
        Delivery.FAILED_REF,
        scan_index_forward=False,
        limit=limit,
        last_evaluated_key=decode_cursor(cursor, scope),
    ).page_iter
    raw_page = next(pages)
    found = [Item.from_raw_data(raw) for raw in raw_page.get("Items", [])]
    items = [item for item in found if isinstance(item, Delivery)]
    return items, encode_cursor(pages.last_evaluated_key, scope)


def request_resend(delivery: Delivery, staff: Staff) -> Delivery:
    """Ask for a failed delivery to be sent again: one transaction of the entry's conditional
    update, which the stream handler picks up and sends, the ``Change`` that records who
    asked, on the ticket's audit trail, and one less on the ticket's ``failed_deliveries``.
    The entry leaves the failed list at once, so two staff members cannot both ask; the
    later one (or a second click) gets 409 and records nothing."""
    if delivery.outcome != "failed":
        raise Conflict(NOT_FAILED)
    actor = Author(kind="staff", id=staff.id, name=staff.name)
    change = new_change(
        delivery.ticket_number,
        actor,
        {"delivery_outcome": ("failed", "resend_requested")},
        clock.now(),
        delivery=delivery,
    )

    def fill(writes: Transaction) -> None:
        # Unversioned: a delivery has no version, and the ticket's is not touched.
        writes.update_unversioned(
            Delivery.key(delivery.ticket_number, delivery.id),
            [
                Delivery.outcome.set("resend_requested"),
                Delivery.resend_requested_by.set(staff.id),
                Delivery.ref_pk.remove(),
                Delivery.ref_sk.remove(),
            ],
            condition=Delivery.outcome == "failed",
        )
        writes.save(change, condition=Change.pk.does_not_exist())

    try:
        write_counted(delivery.ticket_number, -1, fill)
    except TransactWriteError as exc:
        if condition_failed(exc):
            raise Conflict(NOT_FAILED) from exc
        raise
    delivery.outcome = "resend_requested"
    delivery.resend_requested_by = staff.id
    delivery.ref_pk = delivery.ref_sk = None
    return delivery
