"""A contact's ledger and statement: exact decimal money, date order, balances per currency."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from tests.functional.conftest import Api


@pytest.fixture
def cleo(admin: Api) -> str:
    response = admin.post("/api/contacts", {"name": "Cleo Customer", "email": "cleo@example.com"})
    assert response.status_code == 201, response.body
    contact_id: str = response.data["id"]
    return contact_id


def entry(**fields: Any) -> dict[str, Any]:
    return {
        "type": "invoice",
        "reference": "INV-1",
        "amount": "10.00",
        "currency": "EUR",
        "date": "2024-03-01",
        **fields,
    }


def add(api: Api, contact_id: str, **fields: Any) -> dict[str, Any]:
    response = api.post(f"/api/contacts/{contact_id}/transactions", entry(**fields))
    assert response.status_code == 201, response.body
    data: dict[str, Any] = response.data
    return data


def statement(api: Api, contact_id: str) -> dict[str, Any]:
    response = api.get(f"/api/contacts/{contact_id}/statement")
    assert response.status_code == 200, response.body
    data: dict[str, Any] = response.data
    return data


# -- recording -----------------------------------------------------------------------


def test_an_entry_is_answered_as_recorded(agent, cleo):
    response = agent.post(
        f"/api/contacts/{cleo}/transactions",
        entry(reference="INV-7", amount="123.45", due_date="2024-03-31"),
    )

    assert response.status_code == 201
    assert response.data == {
        **response.data,
        "type": "invoice",
        "reference": "INV-7",
        "amount": "123.45",
        "currency": "EUR",
        "date": "2024-03-01",
        "due_date": "2024-03-31",
    }
    assert response.data["created_by"].startswith("staff:")


def test_amounts_add_up_exactly_as_decimals(admin, cleo):
    add(admin, cleo, reference="A", amount="0.10")
    add(admin, cleo, reference="B", amount="0.20")

    result = statement(admin, cleo)

    assert [line["amount"] for line in result["entries"]] == ["0.10", "0.20"]
    assert result["balances"] == {"EUR": "0.30"}
    assert result["outstanding"] == {"EUR": "0.30"}


def test_the_amount_is_stored_as_a_number_not_a_float_or_text(admin, cleo):
    add(admin, cleo, amount="1234567890.99")

    query = boto3.client("dynamodb").query(
        TableName="helpdesk-test",
        KeyConditionExpression="pk = :pk AND begins_with(sk, :ledger)",
        ExpressionAttributeValues={":pk": {"S": f"CONTACT#{cleo}"}, ":ledger": {"S": "LEDGER#"}},
    )

    assert query["Items"][0]["amount"] == {"N": "1234567890.99"}
    assert statement(admin, cleo)["balances"] == {"EUR": "1234567890.99"}


@pytest.mark.parametrize(
    "amount", [0.1, 10, "-5.00", "1.234", "0", "0.00", "1e3", "ten", "", None, "12,50", "1234567890123"]
)
def test_an_amount_that_is_not_a_positive_two_place_decimal_string_is_refused(admin, cleo, amount):
    response = admin.post(f"/api/contacts/{cleo}/transactions", entry(amount=amount))

    assert response.status_code == 422
    assert response.data["error"]["field"] == "amount"
    assert statement(admin, cleo)["entries"] == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"type": "refund"}, "type"),
        ({"reference": ""}, "reference"),
        ({"currency": "eur"}, "currency"),
        ({"currency": "EURO"}, "currency"),
        ({"date": "2023-02-29"}, "date"),
        ({"date": "01/03/2024"}, "date"),
        ({"due_date": "soon"}, "due_date"),
        ({"paid": True}, "paid"),
    ],
)
def test_an_invalid_entry_is_refused_by_field(admin, cleo, change, field):
    response = admin.post(f"/api/contacts/{cleo}/transactions", entry(**change))

    assert response.status_code == 422
    assert response.data["error"]["field"] == field


@pytest.mark.parametrize("missing", ["type", "reference", "amount", "currency", "date"])
def test_an_entry_needs_every_required_field(admin, cleo, missing):
    body = entry()
    del body[missing]

    response = admin.post(f"/api/contacts/{cleo}/transactions", body)

    assert response.status_code == 422
    assert response.data["error"]["field"] == missing


@pytest.mark.parametrize("kind", ["payment", "credit_note"])
def test_only_an_invoice_has_a_due_date(admin, cleo, kind):
    response = admin.post(f"/api/contacts/{cleo}/transactions", entry(type=kind, due_date="2024-04-01"))

    assert response.status_code == 422
    assert response.data["error"]["field"] == "due_date"


def test_a_payment_may_say_it_has_no_due_date(admin, cleo):
    recorded = add(admin, cleo, type="payment", due_date=None)

    assert recorded["due_date"] is None


def test_a_due_date_cannot_come_before_the_invoice(admin, cleo):
    response = admin.post(
        f"/api/contacts/{cleo}/transactions", entry(date="2024-03-01", due_date="2024-02-28")
    )

    assert response.status_code == 422
    assert response.data["error"]["field"] == "due_date"


def test_an_unknown_contact_has_no_ledger(admin):
    recorded = admin.post("/api/contacts/0123456789abcdef/transactions", entry())
    read = admin.get("/api/contacts/0123456789abcdef/statement")

    assert recorded.status_code == 404
    assert read.status_code == 404
    assert recorded.data["error"]["code"] == read.data["error"]["code"] == "not_found"


def test_the_ledger_needs_a_signed_in_staff_member(anonymous, cleo):
    assert anonymous.post(f"/api/contacts/{cleo}/transactions", entry()).status_code == 401
    assert anonymous.get(f"/api/contacts/{cleo}/statement").status_code == 401


# -- the statement -------------------------------------------------------------------


def test_an_empty_ledger_has_an_empty_statement(admin, cleo):
    assert statement(admin, cleo) == {"contact_id": cleo, "entries": [], "balances": {}, "outstanding": {}}


def test_entries_come_in_date_order_with_a_running_balance(admin, cleo):
    # GIVEN a back-dated invoice recorded after later entries
    add(admin, cleo, reference="INV-2", amount="100.00", date="2024-03-01")
    add(admin, cleo, type="payment", reference="PAY-1", amount="30.00", date="2024-03-10")
    add(admin, cleo, reference="INV-1", amount="50.00", date="2024-02-01")

    # WHEN the statement is read
    result = statement(admin, cleo)

    # THEN the back-dated one comes first and balances run in date order
    assert [(line["reference"], line["date"], line["balance"]) for line in result["entries"]] == [
        ("INV-1", "2024-02-01", "50.00"),
        ("INV-2", "2024-03-01", "150.00"),
        ("PAY-1", "2024-03-10", "120.00"),
    ]
    assert result["outstanding"] == {"EUR": "120.00"}


def test_entries_of_one_day_keep_the_order_they_were_recorded_in(admin, cleo):
    for reference in ("first", "second", "third"):
        add(admin, cleo, reference=reference, date="2024-05-05")

    result = statement(admin, cleo)

    assert [line["reference"] for line in result["entries"]] == ["first", "second", "third"]


def test_payments_and_credit_notes_reduce_what_is_owed(admin, cleo):
    add(admin, cleo, amount="100.00", date="2024-01-01")
    add(admin, cleo, type="credit_note", reference="CN-1", amount="15.50", date="2024-01-02")
    add(admin, cleo, type="payment", reference="PAY-1", amount="60.25", date="2024-01-03")

    result = statement(admin, cleo)

    assert [line["balance"] for line in result["entries"]] == ["100.00", "84.50", "24.25"]
    assert [line["amount"] for line in result["entries"]] == ["100.00", "15.50", "60.25"]
    assert result["balances"] == {"EUR": "24.25"}
    assert result["outstanding"] == {"EUR": "24.25"}


def test_each_currency_keeps_its_own_running_balance(admin, cleo):
    add(admin, cleo, amount="10.00", currency="EUR", date="2024-01-01")
    add(admin, cleo, amount="7.00", currency="USD", date="2024-01-02")
    add(admin, cleo, type="payment", amount="4.00", currency="EUR", date="2024-01-03")
    add(admin, cleo, amount="1.50", currency="USD", date="2024-01-04")

    result = statement(admin, cleo)

    assert [(line["currency"], line["balance"]) for line in result["entries"]] == [
        ("EUR", "10.00"),
        ("USD", "7.00"),
        ("EUR", "6.00"),
        ("USD", "8.50"),
    ]
    assert result["balances"] == {"EUR": "6.00", "USD": "8.50"}
    assert result["outstanding"] == {"EUR": "6.00", "USD": "8.50"}


def test_a_settled_or_overpaid_currency_owes_nothing(admin, cleo):
    add(admin, cleo, amount="10.00", currency="EUR")
    add(admin, cleo, type="payment", amount="10.00", currency="EUR")
    add(admin, cleo, amount="5.00", currency="GBP")
    add(admin, cleo, type="payment", amount="8.00", currency="GBP")
    add(admin, cleo, amount="3.00", currency="USD")

    result = statement(admin, cleo)

    assert result["balances"] == {"EUR": "0.00", "GBP": "-3.00", "USD": "3.00"}
    assert result["outstanding"] == {"USD": "3.00"}


def test_one_contacts_entries_never_reach_anothers_statement(admin, cleo):
    dana = admin.post("/api/contacts", {"name": "Dana Doe", "email": "dana@example.com"}).data["id"]
    add(admin, cleo, amount="10.00")

    assert statement(admin, dana)["entries"] == []
    assert statement(admin, cleo)["balances"] == {"EUR": "10.00"}


def test_each_currency_keeps_its_own_decimal_places(admin, cleo):
    # GIVEN a yen invoice (no minor unit) and a Kuwaiti dinar one (three decimals)
    add(admin, cleo, amount="1500", currency="JPY", reference="Y-1")
    add(admin, cleo, amount="12.345", currency="KWD", reference="K-1")

    # WHEN the statement is read
    result = statement(admin, cleo)

    # THEN each amount and balance shows exactly its currency's places
    assert [line["amount"] for line in result["entries"]] == ["1500", "12.345"]
    assert result["balances"] == {"JPY": "1500", "KWD": "12.345"}


@pytest.mark.parametrize(("amount", "code"), [("10.5", "JPY"), ("1.234", "EUR"), ("0.0001", "KWD")])
def test_an_amount_finer_than_its_currency_allows_is_refused(admin, cleo, amount, code):
    response = admin.post(f"/api/contacts/{cleo}/transactions", entry(amount=amount, currency=code))

    assert response.status_code == 422
    assert response.data["error"]["field"] == "amount"


def test_a_currency_without_minor_units_is_refused(admin, cleo):
    response = admin.post(f"/api/contacts/{cleo}/transactions", entry(currency="XAU"))

    assert response.status_code == 422
    assert response.data["error"]["field"] == "currency"


def test_the_contact_keeps_each_currency_balance_equal_to_the_statement(admin, cleo):
    from chalicelib.domain import contacts, ledger
    from chalicelib.domain.setup import load
    from chalicelib.store.models import Contact

    # GIVEN a staff edit under way on the contact as read before any entry
    read_before = Contact.get(*Contact.key(cleo), consistent_read=True)
    # WHEN entries in two currencies arrive, one of them paid off, and then the edit is saved
    add(admin, cleo, amount="120.00")
    add(admin, cleo, type="payment", amount="20.50")
    add(admin, cleo, amount="5000", currency="JPY")
    add(admin, cleo, type="credit_note", amount="5000", currency="JPY")
    contacts.update(load(), read_before, {"company": "Cleo Ltd", "version": read_before.version})

    # THEN the edit landed, and the kept balances still count every entry, as the statement does
    contact = Contact.get(*Contact.key(cleo), consistent_read=True)
    assert contact.company == "Cleo Ltd"
    assert {code: str(amount) for code, amount in contact.balances.items()} == {"EUR": "99.50", "JPY": "0"}
    assert ledger.outstanding(contact) == statement(admin, cleo)["outstanding"] == {"EUR": "99.50"}
