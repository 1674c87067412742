"""The performance budget as exact DynamoDB call counts, at 200 and at 2,000 tickets.

``make bench`` runs the same operations at 1,000 and 100,000 tickets; this tier keeps
the counts honest on every ``make test`` at a size that runs in seconds. Nothing here
asserts a wall time.
"""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from chalicelib.settings import table_name_from_env
from chalicelib.store import db
from chalicelib.store.models import Counter, Item
from local import tables
from tests.bench import budget
from tests.bench.counting import Call, Calls, count_calls
from tests.bench.imports import lazy_report
from tests.bench.operations import CREATE, READ, WRITE, Measurement, ScaleRun, measure_scale

SMALL, LARGE = 200, 2_000

AUTH_ITEMS = 3  # the token, the staff member and the config, in one BatchGetItem
PAGE = 25  # the default page size
ONE_QUERY = {"BatchGetItem": 1, "Query": 1}
AUTH_ONLY = {"BatchGetItem": 1}

# operation -> (DynamoDB calls it makes, items those calls read)
EXPECTED: dict[str, tuple[dict[str, int], int]] = {
    # Two attempts counted (address, account), email look-up, both given back, new token.
    "POST /api/auth/login": ({"UpdateItem": 3, "Query": 1, "DeleteItem": 1, "PutItem": 1}, 1),
    "GET /api/tickets": (ONE_QUERY, AUTH_ITEMS + PAGE),
    "GET /api/tickets?status_id=": (ONE_QUERY, AUTH_ITEMS + PAGE),
    "GET /api/tickets?category_id=": (ONE_QUERY, AUTH_ITEMS + PAGE),
    "GET /api/tickets?service_level_id=": (ONE_QUERY, AUTH_ITEMS + PAGE),
    "GET /api/tickets?assignee_id=": (ONE_QUERY, AUTH_ITEMS + PAGE),
    "GET /api/tickets?contact_id=": (ONE_QUERY, AUTH_ITEMS + PAGE),
    # A second filter is applied while reading: still one query of one page.
    "GET /api/tickets?status_id=&category_id=": (ONE_QUERY, AUTH_ITEMS + PAGE),
    "GET /api/tickets?state=open": (ONE_QUERY, AUTH_ITEMS + PAGE),
    "GET /api/tickets?order=newest": (ONE_QUERY, AUTH_ITEMS + PAGE),
    "GET /api/tickets?order=newest&state=closed": (ONE_QUERY, AUTH_ITEMS + PAGE),
    "GET /api/tickets?overdue=true": (ONE_QUERY, AUTH_ITEMS + PAGE),
    "GET /api/tickets?cursor= (page 2)": (ONE_QUERY, AUTH_ITEMS + PAGE),
    "GET /api/tickets?number=": ({"BatchGetItem": 2}, AUTH_ITEMS + 1),
    # The ticket and its 6 notes share a partition.
    "GET /api/tickets/{id}": (ONE_QUERY, AUTH_ITEMS + 1 + 6),
    # The ticket rides in the auth batch; its 6 notes are one page.
    "GET /api/tickets/{id}/notes": (ONE_QUERY, AUTH_ITEMS + 1 + 6),
    # The ticket rides in the auth batch; the loaded data holds no deliveries (no stream ran).
    "GET /api/tickets/{id}/deliveries": (ONE_QUERY, AUTH_ITEMS + 1),
    # The contact rides in the auth batch; the number, then the ticket.
    "POST /api/tickets": ({"BatchGetItem": 1, "UpdateItem": 1, "PutItem": 1}, AUTH_ITEMS + 1),
    # The ticket and the new assignee ride in the auth batch.
    "PATCH /api/tickets/{id}": ({"BatchGetItem": 1, "UpdateItem": 1}, AUTH_ITEMS + 2),
    "POST /api/tickets/{id}/notes": ({"BatchGetItem": 1, "TransactWriteItems": 1}, AUTH_ITEMS),
    "GET /api/contacts": (ONE_QUERY, AUTH_ITEMS + PAGE),
    "GET /api/contacts?email=": (ONE_QUERY, AUTH_ITEMS + 1),
    "GET /api/contacts/{id}": (AUTH_ONLY, AUTH_ITEMS + 1),
    "GET /api/contacts/{id}/tickets": (ONE_QUERY, AUTH_ITEMS + 1 + PAGE),
    "GET /api/contacts/{id}/tickets?state=open": (ONE_QUERY, AUTH_ITEMS + 1 + PAGE),
    "GET /api/contacts/{id}/tickets (none yet)": (ONE_QUERY, AUTH_ITEMS + 1),
    # The profile and 12 ledger entries share a partition.
    "GET /api/contacts/{id}/statement": (ONE_QUERY, AUTH_ITEMS + 1 + 12),
    "GET /api/service-levels": (AUTH_ONLY, AUTH_ITEMS),
    "GET /api/categories": (AUTH_ONLY, AUTH_ITEMS),
    "GET /api/statuses": (AUTH_ONLY, AUTH_ITEMS),
    "GET /api/rating-options": (AUTH_ONLY, AUTH_ITEMS),
    "GET /api/settings": (AUTH_ONLY, AUTH_ITEMS),
    "GET /api/staff": (ONE_QUERY, AUTH_ITEMS + 2),
}


@pytest.fixture(scope="module")
def small() -> ScaleRun:
    return measure_scale(SMALL)


@pytest.fixture(scope="module")
def large() -> ScaleRun:
    return measure_scale(LARGE)


def by_label(run: ScaleRun) -> dict[str, Measurement]:
    return {measurement.label: measurement for measurement in run.measurements}


# -- the budget, operation by operation ----------------------------------------------


def test_the_bench_measures_exactly_the_listed_operations(small: ScaleRun, large: ScaleRun) -> None:
    assert [m.label for m in small.measurements] == list(EXPECTED)
    assert [m.label for m in large.measurements] == list(EXPECTED)


@pytest.mark.parametrize("label", list(EXPECTED))
def test_each_operation_makes_exactly_its_expected_calls_at_both_scales(
    small: ScaleRun, large: ScaleRun, label: str
) -> None:
    calls, _ = EXPECTED[label]

    for run in (small, large):
        measured = by_label(run)[label].calls
        assert measured.by_operation == calls, f"{label} at {run.data.tickets} tickets"
        assert measured.round_trips == sum(calls.values())


@pytest.mark.parametrize("label", list(EXPECTED))
def test_each_operation_reads_the_same_items_at_both_scales(
    small: ScaleRun, large: ScaleRun, label: str
) -> None:
    _, items = EXPECTED[label]

    assert by_label(small)[label].calls.items_read == items
    assert by_label(large)[label].calls.items_read == items


def test_no_operation_scans(small: ScaleRun, large: ScaleRun) -> None:
    scans = {m.label: m.calls.scans for run in (small, large) for m in run.measurements if m.calls.scans}

    assert scans == {}


def test_read_endpoints_make_at_most_two_round_trips(small: ScaleRun, large: ScaleRun) -> None:
    reads = [m for run in (small, large) for m in run.measurements if m.kind == READ]

    assert len(reads) == 2 * sum(1 for m in small.measurements if m.kind == READ) > 0
    assert max(m.calls.round_trips for m in reads) <= budget.READ_ROUND_TRIPS


def test_creating_a_ticket_makes_at_most_two_writes(small: ScaleRun, large: ScaleRun) -> None:
    creations = [m for run in (small, large) for m in run.measurements if m.kind == CREATE]

    assert [m.label for m in creations] == ["POST /api/tickets", "POST /api/tickets"]
    assert all(m.calls.writes <= budget.CREATE_WRITES for m in creations)


def test_every_budget_rule_holds_across_the_two_scales(small: ScaleRun, large: ScaleRun) -> None:
    checks = budget.check_operations(small.measurements, large.measurements)

    assert [(check.rule, check.failures) for check in checks if not check.passed] == []


def test_the_larger_scale_really_holds_more_data(small: ScaleRun, large: ScaleRun) -> None:
    assert (small.data.tickets, large.data.tickets) == (SMALL, LARGE)
    assert large.data.items > 5 * small.data.items


# -- cold start ----------------------------------------------------------------------


def test_importing_the_app_loads_no_lazy_module_and_creates_no_client() -> None:
    report = lazy_report()

    assert report.loaded == []
    assert report.clients == []


# -- the measuring tools themselves ---------------------------------------------------


@pytest.fixture
def table() -> Iterator[None]:
    with mock_aws():
        tables.create_all(
            boto3.client("dynamodb"),
            {
                "HelpdeskTable": table_name_from_env(),
                "IdempotencyTable": f"{table_name_from_env()}-idempotency",
            },
        )
        yield


@pytest.mark.usefixtures("table")
def test_the_counter_sees_a_scan_and_its_items() -> None:
    Counter("COUNTER", "A", value=1).save()
    Counter("COUNTER", "B", value=2).save()

    with count_calls() as calls:
        found = list(Item.scan())

    assert len(found) == 2
    assert (calls.scans, calls.round_trips, calls.items_read) == (1, 1, 2)


@pytest.mark.usefixtures("table")
def test_the_counter_counts_items_a_batch_read_found() -> None:
    Counter("COUNTER", "A", value=1).save()

    with count_calls() as calls:
        found = db.get_many([("COUNTER", "A"), ("COUNTER", "missing")])

    assert list(found) == [("COUNTER", "A")]
    assert (calls.by_operation, calls.items_read, calls.writes) == ({"BatchGetItem": 1}, 1, 0)


@pytest.mark.usefixtures("table")
def test_the_counter_sees_transactions_and_writes_and_stops_at_the_end_of_the_block() -> None:
    with count_calls() as calls:
        with db.transaction() as writes:
            writes.save(Counter("COUNTER", "A", value=1))
        Counter("COUNTER", "B", value=2).save()
    Counter("COUNTER", "C", value=3).save()

    assert calls.by_operation == {"TransactWriteItems": 1, "PutItem": 1}
    assert calls.writes == 2


def test_a_retried_call_counts_each_attempt_as_a_round_trip() -> None:
    calls = Calls([Call("Query", items_read=5, retries=2), Call("BatchGetItem", items_read=3)])

    assert (calls.round_trips, calls.items_read) == (4, 8)
    assert calls.by_operation == {"Query": 1, "BatchGetItem": 1}


def measurement(label: str, kind: str, *calls: Call) -> Measurement:
    return Measurement(label, kind, Calls(list(calls)))


def test_the_budget_flags_each_kind_of_breach() -> None:
    small = [
        measurement("read", READ, Call("BatchGetItem", 3), Call("Query", 25)),
        measurement("create", CREATE, Call("UpdateItem", 0), Call("PutItem", 0)),
        measurement("write", WRITE, Call("UpdateItem", 0)),
    ]
    large = [
        measurement("read", READ, Call("BatchGetItem", 3), Call("Query", 25), Call("Query", 25)),
        measurement("create", CREATE, Call("UpdateItem", 0), Call("PutItem", 0), Call("PutItem", 0)),
        measurement("write", WRITE, Call("Scan", 7)),
    ]

    checks = {check.rule: check.failures for check in budget.check_operations(small, large)}

    assert checks == {
        "read endpoints <= 2 round trips": ("read: 3 round trips",),
        "ticket creation <= 2 writes": ("create: 3 writes",),
        "items read the same at both scales": ("read: 28 vs 53 items", "write: 0 vs 7 items"),
        "zero Scans": ("write: 1 scans",),
    }
