"""Attribute types PynamoDB lacks."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pynamodb.attributes import Attribute
from pynamodb.constants import MAP, NUMBER


class DecimalAttribute(Attribute[Decimal]):
    """A DynamoDB number read and written as ``Decimal``, never through float."""

    attr_type = NUMBER

    def serialize(self, value: Decimal) -> str:
        """Plain positional digits: ``str()`` could give exponent form, such as ``1E+2``."""
        return format(value, "f")

    def deserialize(self, value: Any) -> Decimal:
        """Straight from DynamoDB's number text, exact to the last digit."""
        return Decimal(value)


class IntegerAttribute(Attribute[int]):
    """A DynamoDB number that is always whole: ticket numbers, counts."""

    attr_type = NUMBER

    def serialize(self, value: int) -> str:
        """Whole-number text, whichever numeric type the value comes as."""
        return str(int(value))

    def deserialize(self, value: Any) -> int:
        """An ``int`` for DynamoDB's number text, so callers never see a Decimal or a float."""
        return int(value)


class DecimalMapAttribute(Attribute[dict[str, Decimal]]):
    """A DynamoDB map of numbers read and written as ``Decimal``: a balance per currency.

    An update adds to one entry with ``SET name.code = if_not_exists(name.code, 0) + amount``,
    which needs the map itself to exist: items are written with an empty map."""

    attr_type = MAP

    def serialize(self, value: dict[str, Decimal]) -> dict[str, Any]:
        return {code: {NUMBER: format(amount, "f")} for code, amount in value.items()}

    def deserialize(self, value: dict[str, Any]) -> dict[str, Decimal]:
        return {code: Decimal(number[NUMBER]) for code, number in value.items()}
