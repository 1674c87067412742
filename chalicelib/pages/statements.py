"""A contact's ledger as the statement pages show it, to staff and to the customer alike.

``ledger.statement`` gives the entries and balances; this turns them into one table per
currency, entries in date order, each amount signed (an invoice adds to what is owed, a
payment or credit note takes away) with the balance after it and thousands grouped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

ENTRY_LABELS = {"invoice": "Invoice", "payment": "Payment", "credit_note": "Credit note"}


@dataclass
class Line:
    """One ledger entry as the statement shows it: what it added (signed), the balance after."""

    date: str
    day: str
    label: str
    reference: str
    due_date: str | None
    due_day: str | None
    amount: str
    balance: str


@dataclass
class Account:
    """The entries of one currency, in date order, and where their balance stands."""

    currency: str
    balance: str
    in_credit: bool
    lines: list[Line] = field(default_factory=list)


def accounts(statement: dict[str, Any]) -> list[Account]:
    """The statement's entries as one account a currency, each line with its balance after."""
    found = {
        code: Account(code, grouped(balance), Decimal(balance) < 0)
        for code, balance in statement["balances"].items()
    }
    for entry in statement["entries"]:
        found[entry["currency"]].lines.append(
            Line(
                date=entry["date"],
                day=_day(entry["date"]),
                label=ENTRY_LABELS.get(entry["type"], entry["type"]),
                reference=entry["reference"],
                due_date=entry["due_date"],
                due_day=_day(entry["due_date"]) if entry["due_date"] else None,
                amount=grouped(signed(entry)),
                balance=grouped(entry["balance"]),
            )
        )
    return list(found.values())


def outstanding(statement: dict[str, Any]) -> dict[str, str]:
    """What is owed per currency, thousands grouped."""
    return {code: grouped(amount) for code, amount in statement["outstanding"].items()}


def grouped(amount: str) -> str:
    """An amount as the ledger formats it (its currency's decimals), thousands grouped."""
    return f"{Decimal(amount):,f}"


def signed(entry: dict[str, Any]) -> str:
    """The entry's amount as it counts towards the balance: a payment or credit note negative."""
    return str(entry["amount"]) if entry["type"] == "invoice" else f"-{entry['amount']}"


def _day(value: str) -> str:
    moment = date.fromisoformat(value)
    return f"{moment.day} {moment:%b %Y}"
