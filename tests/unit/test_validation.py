"""Field parsers and ``parse_fields``: every failure names its field, nothing needs AWS."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from chalicelib import validation
from chalicelib.errors import InvalidInput
from chalicelib.validation import Field, parse_fields

SPEC = {
    "name": Field(validation.text(20), required=True),
    "nickname": Field(validation.text(20), nullable=True),
    "parent_id": Field(validation.identifier, required=True, nullable=True),
    "age": Field(validation.integer(0, 150)),
}


def rejected(parse: validation.Parser, value: Any) -> str:
    """The message a parser gives for ``value``; fails the test if it accepts it."""
    with pytest.raises(ValueError, match=r".+") as caught:
        parse(value)
    return str(caught.value)


# -- parse_fields --------------------------------------------------------------------


def test_a_valid_body_is_parsed_field_by_field():
    parsed = parse_fields({"name": "  Ada ", "parent_id": "p-1", "age": 36}, SPEC)

    assert parsed == {"name": "Ada", "parent_id": "p-1", "age": 36}


def test_an_unknown_field_is_rejected_by_name():
    with pytest.raises(InvalidInput) as caught:
        parse_fields({"name": "Ada", "parent_id": None, "colour": "red"}, SPEC)

    assert caught.value.field == "colour"
    assert "colour" in caught.value.message


def test_a_missing_required_field_is_named():
    with pytest.raises(InvalidInput) as caught:
        parse_fields({"parent_id": None}, SPEC)

    assert caught.value.field == "name"
    assert "required" in caught.value.message


def test_a_required_nullable_field_accepts_an_explicit_null():
    parsed = parse_fields({"name": "Ada", "parent_id": None}, SPEC)

    assert parsed["parent_id"] is None


def test_a_required_nullable_field_must_still_be_present():
    with pytest.raises(InvalidInput) as caught:
        parse_fields({"name": "Ada"}, SPEC)

    assert caught.value.field == "parent_id"


def test_null_is_refused_for_a_field_that_is_not_nullable():
    with pytest.raises(InvalidInput) as caught:
        parse_fields({"name": "Ada", "parent_id": None, "age": None}, SPEC)

    assert caught.value.field == "age"
    assert "null" in caught.value.message


def test_null_is_refused_for_a_required_field_in_a_partial_edit():
    with pytest.raises(InvalidInput) as caught:
        parse_fields({"name": None}, SPEC, partial=True)

    assert caught.value.field == "name"


def test_a_partial_edit_needs_no_required_field():
    assert parse_fields({"age": 7}, SPEC, partial=True) == {"age": 7}


def test_a_parser_failure_names_the_field_and_says_why():
    with pytest.raises(InvalidInput) as caught:
        parse_fields({"name": "Ada", "parent_id": None, "age": 200}, SPEC)

    assert caught.value.field == "age"
    assert caught.value.message == "'age': must be between 0 and 150."


# -- text ----------------------------------------------------------------------------


def test_text_is_trimmed():
    assert validation.text(10)("  hello  ") == "hello"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (42, "must be a string"),
        ("   ", "must not be empty"),
        ("x" * 11, "at most 10"),
        ("two\nlines", "single line"),
        ("bell\x07", "control characters"),
    ],
)
def test_text_refuses_what_is_not_a_short_clean_line(value, reason):
    assert reason in rejected(validation.text(10), value)


def test_multiline_text_keeps_its_line_breaks():
    assert validation.text(50, multiline=True)("first\nsecond") == "first\nsecond"


def test_text_can_demand_a_minimum_length():
    assert "at least 3" in rejected(validation.text(10, min_length=3), "ab")


# -- booleans, integers, choices, ids ------------------------------------------------


@pytest.mark.parametrize("value", ["true", 1, 0, None])
def test_boolean_accepts_only_true_or_false(value):
    rejected(validation.boolean, value)


def test_boolean_keeps_the_value():
    assert validation.boolean(False) is False


@pytest.mark.parametrize("value", [True, 1.0, "3", None])
def test_integer_refuses_anything_but_a_whole_json_number(value):
    assert "whole number" in rejected(validation.integer(0, 10), value)


@pytest.mark.parametrize("value", [-1, 11])
def test_integer_refuses_values_out_of_range(value):
    assert "between 0 and 10" in rejected(validation.integer(0, 10), value)


def test_choice_lists_the_options_when_refusing():
    assert rejected(validation.choice("admin", "agent"), "owner") == "must be one of admin, agent."


@pytest.mark.parametrize("value", ["", "has space", "x" * 65, "dot.ted", 5])
def test_identifier_refuses_what_cannot_be_an_id(value):
    rejected(validation.identifier, value)
    assert validation.is_identifier(value) is False


def test_identifier_accepts_generated_ids():
    assert validation.identifier("0f3a_b-9") == "0f3a_b-9"
    assert validation.is_identifier("0f3a_b-9") is True


# -- email and phone -----------------------------------------------------------------


def test_email_lower_cases_the_domain_and_keeps_the_local_part():
    assert validation.email(" Ada@Example.COM ") == "Ada@example.com"


@pytest.mark.parametrize(
    "value", ["not-an-email", "ada@", "@example.com", "a@b@c.com", 7, "a" * 250 + "@x.io"]
)
def test_email_refuses_what_is_not_an_address(value):
    rejected(validation.email, value)


@pytest.mark.parametrize(
    ("value", "normalised"),
    [
        ("+44 20 7946 0000", "+442079460000"),
        ("+1 (650) 253-0000", "+16502530000"),
        ("+49-30-901820", "+4930901820"),
    ],
)
def test_phone_numbers_come_out_in_e164_form(value, normalised):
    assert validation.phone(value) == normalised


@pytest.mark.parametrize("value", ["020 7946 0000", "+1 555", "call me", 442079460000])
def test_phone_refuses_national_invalid_or_non_text_numbers(value):
    rejected(validation.phone, value)


# -- money, currency, dates, passwords -----------------------------------------------


@pytest.mark.parametrize(
    ("value", "amount"), [("0.10", Decimal("0.10")), ("12", Decimal(12)), ("7.5", Decimal("7.5"))]
)
def test_money_keeps_the_exact_decimal_value(value, amount):
    parsed = validation.money(value)

    assert isinstance(parsed, Decimal)
    assert parsed == amount


@pytest.mark.parametrize(
    "value", [0.1, 10, "-1.00", "1.2345", "0", "0.00", "1e3", "NaN", "1,50", "", "\u0661\u0662", "\uff11"]
)
def test_money_refuses_floats_negatives_zero_other_digits_and_more_than_three_decimals(value):
    rejected(validation.money, value)


@pytest.mark.parametrize("value", ["EUR", "USD"])
def test_currency_accepts_iso_codes(value):
    assert validation.currency(value) == value


@pytest.mark.parametrize("value", ["eur", "EURO", "E1R", None])
def test_currency_refuses_anything_but_three_capitals(value):
    rejected(validation.currency, value)


def test_iso_date_accepts_a_leap_day():
    assert validation.iso_date("2024-02-29") == "2024-02-29"


@pytest.mark.parametrize("value", ["2023-02-29", "29/02/2024", "", 20240229])
def test_iso_date_refuses_impossible_or_foreign_dates(value):
    assert "YYYY-MM-DD" in rejected(validation.iso_date, value)


def test_password_needs_twelve_characters():
    assert "between 12 and 256" in rejected(validation.password, "x" * 11)
    assert validation.password("x" * 12) == "x" * 12


def test_password_is_kept_exactly_as_typed():
    assert validation.password("  spaced out secret  ") == "  spaced out secret  "


@pytest.mark.parametrize("value", [None, 123456789012, "x" * 257])
def test_password_refuses_non_text_and_overlong_values(value):
    rejected(validation.password, value)


def test_a_sign_in_secret_is_kept_exactly_as_typed():
    assert validation.secret(256)("  padded  ") == "  padded  "


@pytest.mark.parametrize("value", ["", None, 42, "x" * 257])
def test_a_sign_in_secret_must_be_non_empty_text_of_bounded_length(value):
    rejected(validation.secret(256), value)


@pytest.mark.parametrize(("code", "places"), [("EUR", 2), ("USD", 2), ("JPY", 0), ("KWD", 3), ("XAU", None)])
def test_minor_units_come_from_iso_4217(code, places):
    assert validation.minor_units(code) == places


@pytest.mark.parametrize("code", ["XAU", "ZZZ"])
def test_currency_refuses_codes_without_minor_units_or_unknown(code):
    with pytest.raises(ValueError, match="ISO 4217 currency"):
        validation.currency(code)
