"""Request field parsing: every failure names its field.

A spec maps field names to ``Field``s. ``parse_fields`` rejects unknown fields, reports
missing required ones and runs each parser; parsers raise ``ValueError`` with a message
for a person, which becomes ``InvalidInput`` carrying the field name.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from chalicelib.errors import InvalidInput

Parser = Callable[[Any], Any]


@dataclass(frozen=True)
class Field:
    """How one request field is read: its parser, whether it must be given, whether it may be null."""

    parse: Parser
    required: bool = False
    nullable: bool = False


def parse_fields(
    body: Mapping[str, Any], spec: Mapping[str, Field], *, partial: bool = False
) -> dict[str, Any]:
    """Validate ``body`` against ``spec``; with ``partial`` no field is required."""
    for name in body:
        if name not in spec:
            raise InvalidInput(f"Unknown field '{name}'.", field=name)
    if not partial:
        for name, field in spec.items():
            # A required nullable field must be present, and may be null.
            if field.required and (name not in body or (body[name] is None and not field.nullable)):
                raise InvalidInput(f"The field '{name}' is required.", field=name)
    parsed: dict[str, Any] = {}
    for name, value in body.items():
        field = spec[name]
        if value is None:
            if not field.nullable:
                raise InvalidInput(f"The field '{name}' cannot be null.", field=name)
            parsed[name] = None
            continue
        try:
            parsed[name] = field.parse(value)
        except ValueError as exc:
            raise InvalidInput(f"'{name}': {exc}", field=name) from exc
    return parsed


# -- parsers -------------------------------------------------------------------------


def text(max_length: int, *, min_length: int = 1, multiline: bool = False) -> Parser:
    """A parser for trimmed text of bounded length, one line unless ``multiline``. Control
    characters are refused: they would end up in logs, mail headers and pages."""

    def parse(value: Any) -> str:
        if not isinstance(value, str):
            raise ValueError("must be a string.")
        cleaned = value.strip()
        if len(cleaned) < min_length:
            raise ValueError(
                "must not be empty." if min_length == 1 else f"needs at least {min_length} characters."
            )
        if len(cleaned) > max_length:
            raise ValueError(f"must be at most {max_length} characters.")
        if not multiline and re.search(r"[\r\n]", cleaned):
            raise ValueError("must be a single line.")
        if re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", cleaned):
            raise ValueError("contains control characters.")
        return cleaned

    return parse


def boolean(value: Any) -> bool:
    """JSON true or false only; ``"false"`` or ``0`` is refused rather than guessed at."""
    if not isinstance(value, bool):
        raise ValueError("must be true or false.")
    return value


def integer(minimum: int, maximum: int) -> Parser:
    """A parser for a whole number within bounds; ``true`` is refused, though Python counts it as 1."""

    def parse(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError("must be a whole number.")
        if not minimum <= value <= maximum:
            raise ValueError(f"must be between {minimum} and {maximum}.")
        return value

    return parse


def choice(*options: str) -> Parser:
    """A parser for one of ``options``, exactly as written (no case folding)."""

    def parse(value: Any) -> str:
        if value not in options:
            raise ValueError("must be one of " + ", ".join(options) + ".")
        return str(value)

    return parse


def email(value: Any) -> str:
    """A deliverable-looking address, normalised (lower-case domain); no DNS lookup."""
    from email_validator import EmailNotValidError, validate_email

    if not isinstance(value, str) or len(value) > 254:
        raise ValueError("must be an email address.")
    try:
        result = validate_email(value.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValueError(f"is not a valid email address ({exc}).") from exc
    return str(result.normalized)


def phone(value: Any) -> str:
    """An international number, returned in E.164 form."""
    import phonenumbers

    if not isinstance(value, str):
        raise ValueError("must be a phone number in international form, like +4420 7946 0000.")
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException as exc:
        raise ValueError("must be a phone number in international form, starting with +.") from exc
    if not phonenumbers.is_valid_number(number):
        raise ValueError("is not a valid phone number.")
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def money(value: Any) -> Decimal:
    """A positive amount given as a decimal string (ASCII digits, up to three decimals;
    the currency decides how many it may really have, see ``minor_units``)."""
    if not isinstance(value, str):
        raise ValueError('must be a decimal string such as "12.50".')
    if not re.fullmatch(r"[0-9]{1,12}(\.[0-9]{1,3})?", value.strip()):
        raise ValueError('must be a positive decimal string such as "12.50".')
    try:
        amount = Decimal(value.strip())
    except InvalidOperation as exc:
        raise ValueError("is not a number.") from exc
    if amount <= 0:
        raise ValueError("must be greater than zero.")
    return amount


def currency(value: Any) -> str:
    """An ISO 4217 code of a currency with minor units (EUR, JPY, KWD; not XAU)."""
    if not isinstance(value, str) or not re.fullmatch(r"[A-Z]{3}", value):
        raise ValueError("must be a three-letter ISO 4217 code such as EUR.")
    if minor_units(value) is None:
        raise ValueError("is not an ISO 4217 currency with minor units.")
    return value


def minor_units(code: str) -> int | None:
    """Decimal places of a currency (2 for EUR, 0 for JPY, 3 for KWD); None if unknown."""
    from iso4217 import Currency

    try:
        exponent = Currency(code).exponent
    except ValueError:
        return None
    return int(exponent) if exponent is not None else None


def iso_date(value: Any) -> str:
    """A calendar date, returned as ``YYYY-MM-DD`` whatever ISO form came in, so stored dates
    compare and sort as text."""
    if not isinstance(value, str):
        raise ValueError("must be a date as YYYY-MM-DD.")
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError as exc:
        raise ValueError("must be a date as YYYY-MM-DD.") from exc


def identifier(value: Any) -> str:
    """An id as this app makes them: up to 64 ASCII letters, digits, ``_`` or ``-``. Checked
    before an id goes into a key, so no input can make a key DynamoDB refuses."""
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", value):
        raise ValueError("is not a valid id.")
    return value


def is_identifier(value: Any) -> bool:
    """Whether ``value`` passes ``identifier``: a path or form value checked before it goes
    into a key, where a bad one simply finds nothing."""
    try:
        identifier(value)
    except ValueError:
        return False
    return True


def secret(max_length: int) -> Parser:
    """A password as typed at sign-in: kept verbatim, since spaces around it are part of it."""

    def parse(value: Any) -> str:
        if not isinstance(value, str) or not value:
            raise ValueError("must be a non-empty string.")
        if len(value) > max_length:
            raise ValueError(f"must be at most {max_length} characters.")
        return value

    return parse


def password(value: Any) -> str:
    """A new password, kept verbatim: at least 12 characters, and at most 256 so no request can
    make hashing costly."""
    if not isinstance(value, str):
        raise ValueError("must be a string.")
    if not 12 <= len(value) <= 256:
        raise ValueError("must be between 12 and 256 characters.")
    return value
