"""A contact's ledger: invoices raise what they owe, payments and credit notes lower it.

Amounts are ``Decimal`` from the request string to the stored number and back. Balances
are kept per currency; nothing converts between currencies.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.operand import Path, Value

from chalicelib import clock
from chalicelib.errors import InvalidInput, NotFound
from chalicelib.store.attributes import DecimalAttribute
from chalicelib.store.db import condition_failed, transaction
from chalicelib.store.models import Contact, Item, LedgerEntry
from chalicelib.validation import Field, choice, currency, iso_date, minor_units, money, parse_fields, text

SIGN = {"invoice": Decimal(1), "payment": Decimal(-1), "credit_note": Decimal(-1)}

ENTRY_SPEC = {
    "type": Field(choice(*SIGN), required=True),
    "reference": Field(text(80), required=True),
    "amount": Field(money, required=True),
    "currency": Field(currency, required=True),
    "date": Field(iso_date, required=True),
    "due_date": Field(iso_date, nullable=True),
}


def _money(value: Decimal, code: str) -> str:
    """The amount with exactly the currency's decimal places."""
    places = minor_units(code) or 0
    return format(value.quantize(Decimal(1).scaleb(-places)), "f")


def present(entry: LedgerEntry) -> dict[str, Any]:
    """An entry as the API shows it, the amount with exactly its currency's decimal places."""
    return {
        "id": entry.id,
        "type": entry.type,
        "reference": entry.reference,
        "amount": _money(entry.amount, entry.currency),
        "currency": entry.currency,
        "date": entry.date,
        "due_date": entry.due_date,
        "created_at": entry.created_at,
        "created_by": entry.created_by,
    }


def add_entry(contact_id: str, body: dict[str, Any], actor: str) -> LedgerEntry:
    """Record an invoice, payment or credit note for a contact; ``actor`` is who recorded it.

    The amount may have no more decimals than its currency. The same transaction adds it
    to the contact's balance in that currency, on condition the contact exists: no read of
    its own, no entry for a contact that does not exist, and a balance that never misses an
    entry.
    """
    values = parse_fields(body, ENTRY_SPEC)
    places = minor_units(values["currency"]) or 0
    if values["amount"] != values["amount"].quantize(Decimal(1).scaleb(-places)):
        raise InvalidInput(
            f"'amount': {values['currency']} has {places} decimal places at most.", field="amount"
        )
    if values.get("due_date") and values["type"] != "invoice":
        raise InvalidInput("Only an invoice has a due date.", field="due_date")
    if values.get("due_date") and values["due_date"] < values["date"]:
        raise InvalidInput("The due date cannot be before the date.", field="due_date")

    entry_id = clock.new_id()
    moment = clock.now()
    entry = LedgerEntry(
        f"CONTACT#{contact_id}",
        # The creation time keeps entries of one day in the order they were added.
        LedgerEntry.sort_key(values["date"], f"{clock.iso(moment)}#{entry_id}"),
        contact_id=contact_id,
        id=entry_id,
        type=values["type"],
        reference=values["reference"],
        amount=values["amount"],
        currency=values["currency"],
        date=values["date"],
        due_date=values.get("due_date"),
        created_at=moment,
        created_by=actor,
    )
    try:
        with transaction() as writes:
            writes.update_unversioned(
                Contact.key(contact_id),
                [_add_to_balance(values["currency"], SIGN[values["type"]] * values["amount"])],
                condition=Contact.pk.exists(),
            )
            writes.save(entry, condition=LedgerEntry.pk.does_not_exist())
    except TransactWriteError as exc:
        if condition_failed(exc):
            raise NotFound("No contact has this id.") from exc
        raise
    return entry


def _add_to_balance(code: str, amount: Decimal) -> Any:
    """``balances.<code> = if_not_exists(balances.<code>, 0) + amount``; the contact's version
    stays as it is, since a ledger entry is no edit of the contact."""
    entry = Path(["balances", code])
    zero = Value(Decimal(0), attribute=DecimalAttribute())
    return entry.set((entry | zero) + Value(amount, attribute=DecimalAttribute()))


def outstanding(contact: Contact) -> dict[str, str]:
    """What the contact owes per currency (positive balances only), from the kept balances."""
    return {code: _money(amount, code) for code, amount in sorted(contact.balances.items()) if amount > 0}


def statement(contact_id: str) -> dict[str, Any]:
    """Every entry in date order with a running balance per currency; one query."""
    items: list[Item] = list(Item.query(f"CONTACT#{contact_id}"))
    if not any(isinstance(item, Contact) for item in items):
        raise NotFound("No contact has this id.")

    balances: dict[str, Decimal] = defaultdict(Decimal)
    lines = []
    for entry in items:
        if not isinstance(entry, LedgerEntry):
            continue
        balances[entry.currency] += SIGN[entry.type] * entry.amount
        lines.append({**present(entry), "balance": _money(balances[entry.currency], entry.currency)})
    return {
        "contact_id": contact_id,
        "entries": lines,
        "balances": {code: _money(amount, code) for code, amount in sorted(balances.items())},
        "outstanding": {
            code: _money(amount, code) for code, amount in sorted(balances.items()) if amount > 0
        },
    }
