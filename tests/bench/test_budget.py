"""The performance budget as exact DynamoDB call counts, at 200 and at 2,000 tickets, and the
stream handler's AWS calls over 50 ticket changes.

``make bench`` runs the same operations at 1,000 and 100,000 tickets, and the stream handler
over 1,000 changes; this tier keeps the counts honest on every ``make test`` at a size that
runs in seconds. Nothing here asserts a wall time.
"""

from __future__ import annotations

from collections import Counter as Tally
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from chalicelib.settings import table_name_from_env
from chalicelib.store import db
from chalicelib.store.models import Counter, Item
from local import tables
from tests.bench import budget
from tests.bench.counting import Call, Calls, count_aws_calls, count_calls
from tests.bench.imports import lazy_report
from tests.bench.operations import CREATE, READ, WRITE, Measurement, ScaleRun, measure_scale
from tests.bench.stream import CYCLE, Batch, StreamRun, batch_size, measure_stream

SMALL, LARGE = 200, 2_000

AUTH_ITEMS = 3  # the token, the staff member and the config, in one BatchGetItem
DIRECTORY = 1  # the staff directory (chalicelib/domain/staff_directory.py)
PAGE = 25  # the default page size
OVERDUE_CAP = 100  # chalicelib.domain.dashboard.OVERDUE_CAP
SESSION_ITEMS = 3  # a portal session, its contact and the config, in one BatchGetItem
PORTAL_PAGE = 20  # the portal's ticket list page
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
    # The ticket and the new assignee ride in the auth batch; the edit and its Change (the
    # audit trail) in one transaction.
    "PATCH /api/tickets/{id}": ({"BatchGetItem": 1, "TransactWriteItems": 1}, AUTH_ITEMS + 2),
    "POST /api/tickets/{id}/notes": ({"BatchGetItem": 1, "TransactWriteItems": 1}, AUTH_ITEMS),
    "GET /api/contacts": (ONE_QUERY, AUTH_ITEMS + PAGE),
    "GET /api/contacts?email=": (ONE_QUERY, AUTH_ITEMS + 1),
    "GET /api/contacts/{id}": (AUTH_ONLY, AUTH_ITEMS + 1),
    "GET /api/contacts/{id}/tickets": (ONE_QUERY, AUTH_ITEMS + 1 + PAGE),
    "GET /api/contacts/{id}/tickets?state=open": (ONE_QUERY, AUTH_ITEMS + 1 + PAGE),
    "GET /api/contacts/{id}/tickets (none yet)": (ONE_QUERY, AUTH_ITEMS + 1),
    # The profile and 12 ledger entries share a partition.
    "GET /api/contacts/{id}/statement": (ONE_QUERY, AUTH_ITEMS + 1 + 12),
    # The portal, as the focus contact: config read, two attempts counted, look-up, both
    # given back, new session.
    "POST /portal/login": ({"GetItem": 1, "UpdateItem": 3, "Query": 1, "DeleteItem": 1, "PutItem": 1}, 2),
    # Session, contact (with its balances), config and the contact's activity in one batch
    # (the bench data has no activity item: a missing key reads nothing); then the open
    # tickets, ten shown and an eleventh that says there are more.
    "GET /portal": (ONE_QUERY, SESSION_ITEMS + 11),
    "GET /portal/tickets": (ONE_QUERY, SESSION_ITEMS + PORTAL_PAGE),
    "GET /portal/tickets?state=open": (ONE_QUERY, SESSION_ITEMS + PORTAL_PAGE),
    # The ticket and its 7 public notes (6 loaded, 1 added above) in one query, and the
    # record of the edit above, which the customer's view drops.
    "GET /portal/tickets/{number}": (ONE_QUERY, SESSION_ITEMS + 1 + 7 + 1),
    "GET /portal/tickets/new": (AUTH_ONLY, SESSION_ITEMS),
    # The contact's partition: its profile and 12 ledger entries.
    "GET /portal/statement": (ONE_QUERY, SESSION_ITEMS + 1 + 12),
    "GET /portal/account": (AUTH_ONLY, SESSION_ITEMS),
    "POST /portal/tickets/new": ({"BatchGetItem": 1, "UpdateItem": 1, "PutItem": 1}, SESSION_ITEMS),
    # The ticket rides in the session batch; note and ticket in one transaction.
    "POST /portal/tickets/{number}/reply": ({"BatchGetItem": 1, "TransactWriteItems": 1}, SESSION_ITEMS + 1),
    # The staff pages, signed in as the admin (their session is an API token).
    "POST /admin/login": ({"GetItem": 1, "UpdateItem": 3, "Query": 1, "DeleteItem": 1, "PutItem": 1}, 2),
    # The figures ride in the sign-in batch; overdue is one query capped at 101 keys, which
    # the loaded backlog reaches at both scales.
    "GET /admin": (ONE_QUERY, AUTH_ITEMS + 1 + OVERDUE_CAP + 1),
    # The staff directory rides in the batch of every page that offers or names colleagues.
    "GET /admin/tickets": (ONE_QUERY, AUTH_ITEMS + DIRECTORY + PAGE),
    "GET /admin/tickets?status_id=": (ONE_QUERY, AUTH_ITEMS + DIRECTORY + PAGE),
    "GET /admin/tickets?overdue=true": (ONE_QUERY, AUTH_ITEMS + DIRECTORY + PAGE),
    "GET /admin/tickets/new": (AUTH_ONLY, AUTH_ITEMS),
    # The ticket with its timeline: 6 loaded notes, the public note and the change of the
    # API edits above, and the portal reply with its change, all in one query.
    "GET /admin/tickets/{number}": (ONE_QUERY, AUTH_ITEMS + DIRECTORY + 1 + 10),
    # The ticket rides in the batch; no deliveries were logged (no stream ran).
    "GET /admin/tickets/{number}/deliveries": (ONE_QUERY, AUTH_ITEMS + DIRECTORY + 1),
    # The ticket rides in the batch; the staff list is the query.
    "GET /admin/tickets/{number}/assign": (ONE_QUERY, AUTH_ITEMS + 1 + 2),
    # No send failed in the loaded data: the directory and an empty query.
    "GET /admin/deliveries/failed": (ONE_QUERY, AUTH_ITEMS + DIRECTORY),
    "GET /admin/contacts": (ONE_QUERY, AUTH_ITEMS + PAGE),
    # The contact rides in the batch; its newest 20 tickets.
    "GET /admin/contacts/{id}": (ONE_QUERY, AUTH_ITEMS + 1 + 20),
    "GET /admin/contacts/{id}/statement": (ONE_QUERY, AUTH_ITEMS + 1 + 13),
    # Contacts whose name starts with the search: ten at both scales.
    "GET /admin/contacts?q=": (ONE_QUERY, AUTH_ITEMS + 10),
    # The contact search of the new-ticket page: one look-up of the email.
    "GET /admin/tickets/new?find=": (ONE_QUERY, AUTH_ITEMS + 1),
    # Setup lives in the config item, which every page's batch reads anyway.
    "GET /admin/setup": (AUTH_ONLY, AUTH_ITEMS),
    "GET /admin/setup/service-levels": (AUTH_ONLY, AUTH_ITEMS),
    "GET /admin/setup/service-levels/{id}": (AUTH_ONLY, AUTH_ITEMS),
    # The delete page only asks; whether the entry is in use is checked when it is posted.
    "GET /admin/setup/service-levels/{id}/delete": (AUTH_ONLY, AUTH_ITEMS),
    "GET /admin/setup/categories": (AUTH_ONLY, AUTH_ITEMS),
    "GET /admin/setup/statuses": (AUTH_ONLY, AUTH_ITEMS),
    "GET /admin/setup/rating-options": (AUTH_ONLY, AUTH_ITEMS),
    "GET /admin/setup/settings": (AUTH_ONLY, AUTH_ITEMS),
    "GET /admin/setup/staff": (ONE_QUERY, AUTH_ITEMS + 2),
    "GET /admin/setup/staff/{id}": (AUTH_ONLY, AUTH_ITEMS + 1),
    # The one site added above.
    "GET /admin/setup/sites": (ONE_QUERY, AUTH_ITEMS + 1),
    "GET /admin/setup/sites/{id}": (AUTH_ONLY, AUTH_ITEMS + 1),
    # A number: the ticket rides in the batch. An email: one look-up of the contact.
    "GET /admin/tickets?q= (a number)": (AUTH_ONLY, AUTH_ITEMS + DIRECTORY + 1),
    "GET /admin/tickets?q= (an email)": (ONE_QUERY, AUTH_ITEMS + DIRECTORY + 1),
    # A website's visitor: the preflight reads the origin's items; the token, the site and
    # the config; the ticket: site and config, two attempts counted, the contact through its
    # email claim (two reads), the number, the ticket.
    "OPTIONS /embed/v1/tickets": ({"Query": 1}, 1),
    "GET /embed/v1/form-token": (AUTH_ONLY, 2),
    "POST /embed/v1/tickets": ({"BatchGetItem": 3, "UpdateItem": 3, "PutItem": 1}, 4),
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

    assert [m.label for m in creations] == ["POST /api/tickets", "POST /portal/tickets/new"] * 2
    assert all(m.calls.writes <= budget.CREATE_WRITES for m in creations)


def test_every_budget_rule_holds_across_the_two_scales(small: ScaleRun, large: ScaleRun) -> None:
    checks = budget.check_operations(small.measurements, large.measurements)

    assert [(check.rule, check.failures) for check in checks if not check.passed] == []


def test_the_larger_scale_really_holds_more_data(small: ScaleRun, large: ScaleRun) -> None:
    assert (small.data.tickets, large.data.tickets) == (SMALL, LARGE)
    assert large.data.items > 5 * small.data.items


# -- the stream handler --------------------------------------------------------------

# Ten tickets, each created, answered in public, noted in private, moved to waiting (and
# assigned) and closed; five for Cleo (email and SMS), five for Dana (email only).
STREAM_CHANGES = 50
TICKETS, CLEOS = 10, 5
# Email: the confirmation, the public reply, the status change and the close notice, to
# every contact. SMS: all but the close notice (it has no SMS), to Cleo only.
EMAILS = 4 * TICKETS
SMS = 3 * CLEOS
MESSAGES = EMAILS + SMS
# Ticket records that change the dashboard's figures: created, waiting and assigned, closed.
FIGURE_CHANGES = 3 * TICKETS
# Records the contact sees in their recent activity: created, public note, waiting, closed.
ACTIVITY_CHANGES = 4 * TICKETS
EXPECTED_RECORDS = {
    # Its insert, one update per note (the note count), the status change, the close.
    "ticket": 5 * TICKETS,
    "note": 2 * TICKETS,
    # The audit record of each staff edit (the status change, the close).
    "change": 2 * TICKETS,
    # One update per new ticket; moto adds a key-only insert for the very first.
    "counter": TICKETS + 1,
    # The handler's own log entries, one per message, coming back through the stream.
    "delivery": MESSAGES,
    # The dashboard's figures and their marker, once per ticket record that changes them
    # (created, moved to waiting and assigned, closed), coming back too.
    "applied": FIGURE_CHANGES,
    "stats": FIGURE_CHANGES,
    # The contact's recent activity, once per change that shows them something (created,
    # the public note, the status change, the close), coming back too.
    "contact_activity": ACTIVITY_CHANGES,
}
MAIN, IDEMPOTENCY = "helpdesk-test", "helpdesk-idempotency-test"
# (service, table, operation) -> calls over the whole run
EXPECTED_STREAM_CALLS = {
    # One read for each ticket record that tells the contact (created, status change, close),
    # two for each public note; the private note, the notes' ticket updates, the counter and
    # the handler's own log entries read nothing.
    # Per activity change the item with the config, and a public note's ticket first.
    ("dynamodb", MAIN, "BatchGetItem"): 3 * TICKETS
    + 2 * TICKETS
    + FIGURE_CHANGES
    + ACTIVITY_CHANGES
    + TICKETS,
    # The figures and the record's marker, written together once per change they count.
    ("dynamodb", MAIN, "TransactWriteItems"): FIGURE_CHANGES,
    # Per message: idempotency's in-progress put and completing update, and the log entry.
    ("dynamodb", IDEMPOTENCY, "PutItem"): MESSAGES,
    ("dynamodb", IDEMPOTENCY, "UpdateItem"): MESSAGES,
    # ... and the activity item written back once per change it shows.
    ("dynamodb", MAIN, "PutItem"): MESSAGES + ACTIVITY_CHANGES,
    ("ses", None, "SendEmail"): EMAILS,
    ("sns", None, "Publish"): SMS,
}


@pytest.fixture(scope="module")
def stream() -> StreamRun:
    return measure_stream(STREAM_CHANGES)


def test_the_stream_bench_makes_every_kind_of_change_and_hands_over_every_record(stream: StreamRun) -> None:
    assert stream.made == {kind: TICKETS for kind in CYCLE}
    assert dict(stream.kinds) == EXPECTED_RECORDS
    # Lambda's batches of 50: the changes' records in three, then the handler's own writes
    # (log entries, figures, activity) in four more.
    assert batch_size() == 50
    echoes = MESSAGES + 2 * FIGURE_CHANGES + ACTIVITY_CHANGES
    assert [batch.records for batch in stream.batches] == [50, 50, 1, 50, 50, 50, echoes - 150]


def test_the_stream_handler_makes_exactly_its_expected_calls(stream: StreamRun) -> None:
    counted = Tally((call.service, call.table, call.operation) for call in stream.calls.calls)

    assert counted == EXPECTED_STREAM_CALLS
    assert stream.calls.of("dynamodb").scans == 0
    assert (
        stream.calls.of("dynamodb").round_trips
        == 3 * TICKETS + 2 * TICKETS + 3 * MESSAGES + 2 * FIGURE_CHANGES + 2 * ACTIVITY_CHANGES + TICKETS
    )


def test_every_message_the_handler_sent_reached_the_outbox_once(stream: StreamRun) -> None:
    assert (stream.emails, stream.sms) == (EMAILS, SMS)
    assert stream.messages == MESSAGES
    assert stream.retry_sleeps == 0


def test_the_handlers_own_log_entries_cost_nothing_when_they_come_back(stream: StreamRun) -> None:
    own = {"delivery", "applied", "stats", "contact_activity"}
    echoes = [batch for batch in stream.batches if set(batch.kinds) <= own]

    assert sum(batch.records for batch in echoes) == MESSAGES + 2 * FIGURE_CHANGES + ACTIVITY_CHANGES
    assert [batch.calls.calls for batch in echoes] == [[], [], [], []]


def test_every_stream_budget_rule_holds(stream: StreamRun) -> None:
    checks = budget.check_stream(stream)

    assert [check.rule for check in checks] == list(budget.STREAM_RULES)
    assert [(check.rule, check.failures) for check in checks if not check.passed] == []


def test_the_stream_bound_exceeds_the_calls_only_where_a_record_reads_nothing(stream: StreamRun) -> None:
    # The bound allows three round trips for every ticket record and two for every note record.
    # A note's count update on its ticket tells nobody and counts nothing, and a private note
    # is not read at all.
    slack = (
        sum(budget.stream_bound(batch) for batch in stream.batches) - stream.calls.of("dynamodb").round_trips
    )
    count_updates, private_notes = TICKETS * 2, TICKETS

    assert slack == count_updates * 5 + private_notes * 5
    assert budget.STREAM_WORST_CASE == 11


def stream_run(*batches: Batch, emails: int = 0, sms: int = 0, sleeps: int = 0) -> StreamRun:
    return StreamRun(
        made=Tally(),
        desks=1,
        tables={},
        batches=list(batches),
        emails=emails,
        sms=sms,
        retry_sleeps=sleeps,
        seconds=1.0,
    )


def test_the_stream_budget_flags_each_kind_of_breach() -> None:
    send = Call("SendEmail", 0, service="ses")
    # Two ticket records and one message allow 2 * 5 + 3 = 13; here 14 calls, a Scan among them.
    heavy = Batch(
        Tally(ticket=2),
        Calls([Call("Scan", 4), *[Call("BatchGetItem", 2)] * 2, *[Call("PutItem", 0)] * 11, send]),
    )
    # A counter record reads nothing and sends nothing; 12 calls are beyond any record.
    wasteful = Batch(Tally(counter=1), Calls([Call("GetItem", 1)] * 12))
    retried = Batch(Tally(ticket=1), Calls([Call("BatchGetItem", 1), Call("Publish", 0, 2, service="sns")]))

    checks = {
        check.rule: check.failures
        for check in budget.check_stream(stream_run(heavy, wasteful, retried, emails=2, sleeps=2))
    }

    assert checks == {
        budget.STREAM_RULES[0]: ("batch 1 (2 records, 1 messages): 1 scans",),
        budget.STREAM_RULES[1]: (
            "batch 1 (2 records, 1 messages): 14 > 13",
            "batch 2 (1 records, 0 messages): 12 > 0",
        ),
        budget.STREAM_RULES[2]: ("batch 2 (1 records, 0 messages): 12 round trips",),
        budget.STREAM_RULES[3]: (
            "provider calls {'SendEmail': 1, 'Publish': 1}, outbox {'SendEmail': 2, 'Publish': 0}",
            "1 calls retried or refused, 2 sleeps",
        ),
    }


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


@pytest.mark.usefixtures("table")
def test_the_process_wide_counter_sees_every_client_names_tables_and_records_refusals() -> None:
    # GIVEN a client created inside the block, which no store connection knows of
    with count_aws_calls() as every, count_calls() as store:
        Counter("COUNTER", "A", value=1).save()
        boto3.client("dynamodb").put_item(
            TableName=f"{table_name_from_env()}-idempotency",
            Item={"id": {"S": "a"}, "expiration": {"N": "1"}},
        )
        db.get_many([("COUNTER", "A")])
        with pytest.raises(boto3.client("ses").exceptions.MessageRejected):
            boto3.client("ses").send_email(
                Source="nobody@example.com",
                Destination={"ToAddresses": ["someone@example.com"]},
                Message={"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "b"}}},
            )

    # THEN it counts them all, the store's own exactly as the store's counter does
    seen = [(call.service, call.table, call.operation, call.failed) for call in every.calls]
    assert seen == [
        ("dynamodb", "helpdesk-test", "PutItem", False),
        ("dynamodb", "helpdesk-test-idempotency", "PutItem", False),
        ("dynamodb", "helpdesk-test", "BatchGetItem", False),
        ("ses", None, "SendEmail", True),
    ]
    assert every.of("dynamodb", "helpdesk-test").by_operation == store.by_operation
    assert every.of("dynamodb", "helpdesk-test").items_read == store.items_read == 1


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
