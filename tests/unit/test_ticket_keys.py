"""The one table of list dimensions against the indexes it names and the keys a ticket gets.

Nothing here talks to AWS: the indexes are read from the model, the keys computed in memory.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain.setup import SetupConfig
from chalicelib.domain.ticket_keys import index_keys
from chalicelib.domain.ticket_lists import TicketQuery
from chalicelib.store.models import DIMENSIONS, TICKET_DIMENSIONS, TICKET_ORDERS, Item, Ticket, ticket_index

CREATED = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


def key_schema(index: object) -> dict[str, str]:
    """KEY_TYPE -> attribute name of a PynamoDB index, as the table would be created with it."""
    schema = index._get_schema()  # type: ignore[attr-defined]
    return {element["KeyType"]: element["AttributeName"] for element in schema["key_schema"]}


def config() -> SetupConfig:
    setup = SetupConfig()
    setup.lists["service_levels"]["gold"] = {
        "name": "Gold",
        "rank": 2,
        "response_hours": 4,
        "resolution_hours": 24,
    }
    setup.lists["statuses"]["solved"] = {
        "name": "Solved",
        "customer_label": "Solved",
        "order": 3,
        "closed": True,
    }
    return setup


def ticket(**fields: object) -> Ticket:
    values: dict[str, object] = {
        "number": 1042,
        "contact_id": "cleo",
        "status_id": None,
        "category_id": None,
        "service_level_id": "gold",
        "assignee_id": None,
        "closed": False,
        "created_at": CREATED,
        "resolution_due_at": CREATED + timedelta(hours=24),
        **fields,
    }
    return Ticket(*Ticket.key(1042), **values)


@pytest.mark.parametrize("order", sorted(TICKET_ORDERS))
@pytest.mark.parametrize("dimension", sorted(DIMENSIONS))
def test_every_dimension_has_an_index_in_every_order_keyed_as_the_table_says(
    dimension: str, order: str
) -> None:
    index = ticket_index(dimension, order)

    assert index.Meta.index_name == f"{dimension}-{order}"
    assert key_schema(index) == {"HASH": DIMENSIONS[dimension].attribute, "RANGE": TICKET_ORDERS[order]}


def test_every_filterable_dimension_names_a_ticket_field_and_a_distinct_prefix() -> None:
    prefixes = [dimension.prefix for dimension in TICKET_DIMENSIONS]

    assert len(set(prefixes)) == len(prefixes)
    for dimension in TICKET_DIMENSIONS:
        assert dimension.field is not None
        assert dimension.field in Ticket.get_attributes(), dimension.name
        assert dimension.attribute in Item.get_attributes(), dimension.name


def test_a_ticket_is_keyed_into_each_dimension_by_its_own_values() -> None:
    keys = index_keys(ticket(status_id="new", assignee_id="ada"), config())

    assert {dimension.attribute: keys[dimension.attribute] for dimension in DIMENSIONS.values()} == {
        "all_pk": "TICKETS",
        "contact_pk": "CONTACT#cleo",
        "assignee_pk": "ASSIGNEE#ada",
        "status_pk": "STATUS#new",
        "category_pk": "CATEGORY#none",
        "sl_pk": "SERVICE_LEVEL#gold",
    }
    assert keys["prio_sk"] == "0#0002#2026-03-02T09:30:00.000000Z#0000001042"
    assert keys["new_sk"] == "2026-03-01T09:30:00.000000Z#0000001042"
    assert (keys["open_pk"], keys["due_sk"]) == ("OPEN", "2026-03-02T09:30:00.000000Z#0000001042")


def test_a_closed_ticket_sorts_after_open_ones_and_leaves_the_overdue_index() -> None:
    keys = index_keys(ticket(status_id="solved", closed=True), config())

    assert keys["prio_sk"].startswith("1#0002#")
    assert (keys["open_pk"], keys["due_sk"]) == (None, None)


@pytest.mark.parametrize("dimension", TICKET_DIMENSIONS, ids=lambda dimension: dimension.name)
def test_a_list_filtered_by_one_dimension_queries_the_partition_its_tickets_are_written_to(dimension) -> None:
    written = index_keys(ticket(status_id="new", category_id="billing", assignee_id="ada"), config())
    value = written[dimension.attribute].removeprefix(dimension.prefix)

    indexed, index, partition, _ = TicketQuery(**{dimension.field: value}).plan()

    assert indexed == f"{dimension.name}-priority"
    assert index is ticket_index(dimension.name, "priority")
    assert partition == written[dimension.attribute]
