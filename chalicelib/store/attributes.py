"""Attribute types PynamoDB lacks."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pynamodb.attributes import Attribute
from pynamodb.constants import NUMBER


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
