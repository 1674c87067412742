"""The delivery log of a ticket: every notification attempt, read back for staff.

``chalicelib.notify.deliver`` writes the entries; this module only reads them, so the API
loads neither the templates nor the providers' clients.
"""

from __future__ import annotations

from typing import Any

from chalicelib.store.cursor import decode_cursor, encode_cursor
from chalicelib.store.models import Delivery, Item, Ticket


def present(delivery: Delivery) -> dict[str, Any]:
    """A delivery as the API shows it."""
    return {
        "id": delivery.id,
        "channel": delivery.channel,
        "recipient": delivery.recipient,
        "template": delivery.template,
        "provider_message_id": delivery.provider_message_id,
        "outcome": delivery.outcome,
        "reason": delivery.reason,
        "attempted_at": delivery.attempted_at,
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
