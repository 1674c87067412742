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
        return format(value, "f")

    def deserialize(self, value: Any) -> Decimal:
        return Decimal(value)


class IntegerAttribute(Attribute[int]):
    """A DynamoDB number that is always whole: ticket numbers, counts."""

    attr_type = NUMBER

    def serialize(self, value: int) -> str:
        return str(int(value))

    def deserialize(self, value: Any) -> int:
        return int(value)
