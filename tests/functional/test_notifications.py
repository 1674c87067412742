"""Notifications end to end: API changes read off the stream, handed to the stream handler,
sent through moto's SES and SNS, remembered for idempotency and kept in the delivery log."""

from __future__ import annotations

import copy
import re
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import boto3
import botocore.endpoint
import pytest
from chalice.test import Client
from moto.backends import get_backend
from moto.core import DEFAULT_ACCOUNT_ID
from moto.core.exceptions import ServiceException

from chalicelib import clock as app_clock
from chalicelib.notify import deliver, sender
from tests.bench.counting import count_calls
from tests.functional.conftest import Api
from tests.functional.desk import Desk, MovableClock
from tests.functional.test_stream_handler import LambdaTime, StreamTap, invoke, tickets_inserted

REGION = "us-east-1"
SENDER = "desk@shop.example"
PUBLIC_URL = "https://help.example.com"
CLEO_PHONE = "+14155552671"
IDEMPOTENCY_TABLE = "helpdesk-idempotency-test"
# DynamoDB Streams keeps a record this long; Lambda can deliver it again until then.
STREAM_RETENTION_SECONDS = 24 * 3600

pytestmark = pytest.mark.usefixtures("clock")


class Throttling(ServiceException):
    """What SES answers past the account's sending rate."""

    code = "Throttling"
    message = "Maximum sending rate exceeded."


class NoSleep:
    """botocore's backoff, recorded instead of slept."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.delays.append(seconds)


class Outbox:
    """What moto's SES and SNS accepted, as (recipient, subject, body) and (number, text)."""

    def __init__(self) -> None:
        self.ses = get_backend("ses")[DEFAULT_ACCOUNT_ID][REGION]
        self.sns = get_backend("sns")[DEFAULT_ACCOUNT_ID][REGION]

    def emails(self) -> list[tuple[str, str, str]]:
        return [
            (to, message.subject, message.body)
            for message in self.ses.sent_messages
            for to in message.destinations["ToAddresses"]
        ]

    def sms(self) -> list[tuple[str, str]]:
        return list(self.sns.sms_messages.values())

    def everything(self) -> str:
        return "\n".join(
            [f"{subject}\n{body}" for _, subject, body in self.emails()] + [text for _, text in self.sms()]
        )


@pytest.fixture
def outbox(desk: Desk, monkeypatch: pytest.MonkeyPatch) -> Iterator[Outbox]:
    """A desk that sends: a verified sender, SMS enabled, Cleo opted in with a mobile number;
    fresh provider clients (a full retry quota) and botocore's backoff made instant."""
    monkeypatch.setenv("HELPDESK_PUBLIC_URL", PUBLIC_URL)
    monkeypatch.setattr(botocore.endpoint, "time", NoSleep())
    sender.ses_client.cache_clear()
    sender.sns_client.cache_clear()
    boto3.client("ses", region_name=REGION).verify_email_identity(EmailAddress=SENDER)
    desk.put_settings(sender_email=SENDER, notify_sms_enabled=True)
    cleo = desk.api.get(f"/api/contacts/{desk.contacts['cleo']}").data
    changed = desk.api.patch(
        f"/api/contacts/{cleo['id']}", {"phone": CLEO_PHONE, "notify_sms": True, "version": cleo["version"]}
    )
    assert changed.status_code == 200, changed.body
    yield Outbox()
    sender.ses_client.cache_clear()
    sender.sns_client.cache_clear()


@pytest.fixture
def tap(outbox: Outbox) -> StreamTap:
    """A stream reader positioned after the setup's own records."""
    reader = StreamTap()
    reader.take()
    return reader


def deliveries(api: Api, number: int) -> list[dict[str, Any]]:
    response = api.get(f"/api/tickets/{number}/deliveries")
    assert response.status_code == 200, response.body
    items: list[dict[str, Any]] = response.data["items"]
    return items


def throttle_ses(monkeypatch: pytest.MonkeyPatch, outbox: Outbox) -> Callable[[], int]:
    """SES throttles every send from now on; returns how many calls reached it."""
    calls = 0

    def throttled(self: Any, *args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        raise Throttling()

    # On the class: moto rebuilds its backends when the mock ends.
    monkeypatch.setattr(type(outbox.ses), "send_email", throttled)
    return lambda: calls


# moto warns that SES models no throttling error shape; real SES sends "Throttling" all the same.
no_shape_warning = pytest.mark.filterwarnings("ignore:.*Throttling.*:UserWarning")


# -- what each change sends ----------------------------------------------------------


def test_a_new_ticket_sends_the_contact_a_confirmation_email_and_sms(
    client: Client, desk: Desk, tap: StreamTap, outbox: Outbox
) -> None:
    ticket = desk.ticket("cleo", subject="Printer on fire")
    records = tap.take()

    with count_calls() as calls:
        assert invoke(client, records) == {"batchItemFailures": []}

    # Contact, config (and assignee, if any) in one read: the ticket came with its record.
    # The other reads are the dashboard's figures, which count the new ticket, and the
    # contact's recent activity, which lists it.
    assert calls.by_operation.get("BatchGetItem") == 3

    ((to, subject, body),) = outbox.emails()
    assert to == "cleo@example.com"
    assert str(ticket["number"]) in subject
    assert "Printer on fire" in body
    # Cleo has no portal login: the link is a signed one that shows just this ticket.
    assert f"{PUBLIC_URL}/t/" in body
    ((number, text),) = outbox.sms()
    assert number == CLEO_PHONE
    assert str(ticket["number"]) in text


def test_a_contact_who_did_not_opt_in_gets_no_sms(
    client: Client, desk: Desk, tap: StreamTap, outbox: Outbox
) -> None:
    desk.ticket("dana")

    assert invoke(client, tap.take()) == {"batchItemFailures": []}

    assert [to for to, _, _ in outbox.emails()] == ["dana@example.com"]
    assert outbox.sms() == []


def test_a_public_note_emails_its_text_and_a_private_one_sends_nothing(
    client: Client, desk: Desk, tap: StreamTap, outbox: Outbox
) -> None:
    # GIVEN a ticket whose confirmation went out
    number = desk.ticket("dana")["number"]
    invoke(client, tap.take())
    sent_before = len(outbox.emails())

    # WHEN staff add a private note, then a public one
    desk.api.post(f"/api/tickets/{number}/notes", {"body": "Customer seems cross.", "public": False})
    desk.api.post(f"/api/tickets/{number}/notes", {"body": "A new printer is on its way.", "public": True})
    assert invoke(client, tap.take()) == {"batchItemFailures": []}

    # THEN only the public note's text went out, once
    emails = outbox.emails()[sent_before:]
    assert len(emails) == 1
    assert "A new printer is on its way." in emails[0][2]
    assert "cross" not in outbox.everything()
    # The clock stands still here: both changes share one moment, so their order is the ids'.
    assert sorted(item["template"] for item in deliveries(desk.api, number)) == [
        "public_reply",
        "ticket_created",
    ]


def test_a_private_note_alone_reads_nothing_and_sends_nothing(
    client: Client, desk: Desk, tap: StreamTap, outbox: Outbox
) -> None:
    number = desk.ticket("cleo")["number"]
    invoke(client, tap.take())
    desk.api.post(f"/api/tickets/{number}/notes", {"body": "Internal only.", "public": False})
    records = tap.take()
    sent_before = (len(outbox.emails()), len(outbox.sms()))

    with count_calls() as calls:
        assert invoke(client, records) == {"batchItemFailures": []}

    assert (len(outbox.emails()), len(outbox.sms())) == sent_before
    assert calls.round_trips == 0
    assert [item["template"] for item in deliveries(desk.api, number)] == ["ticket_created"] * 2


def test_a_ticket_item_removed_by_the_ttl_sweep_sends_nothing(
    client: Client, desk: Desk, tap: StreamTap, outbox: Outbox
) -> None:
    # GIVEN a confirmed ticket whose item the table's TTL sweep then removes
    from chalicelib.store.models import Ticket

    number = desk.ticket("cleo")["number"]
    invoke(client, tap.take())
    tap.take()  # the delivery log's own writes
    sent_before = (len(outbox.emails()), len(outbox.sms()))
    pk, sk = Ticket.key(number)
    boto3.client("dynamodb").delete_item(TableName="helpdesk-test", Key={"pk": {"S": pk}, "sk": {"S": sk}})
    (removal,) = tap.take()
    assert removal["eventName"] == "REMOVE"
    assert removal["dynamodb"]["OldImage"]["kind"] == {"S": "ticket"}
    removal["userIdentity"] = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}

    # WHEN the handler gets the removal
    assert invoke(client, [removal]) == {"batchItemFailures": []}

    # THEN nobody hears of it
    assert (len(outbox.emails()), len(outbox.sms())) == sent_before


def test_a_status_change_tells_the_customer_label_not_the_staff_name(
    client: Client, desk: Desk, tap: StreamTap, outbox: Outbox
) -> None:
    relabelled = desk.api.patch(
        f"/api/statuses/{desk.statuses['waiting']}", {"customer_label": "Awaiting your reply", "version": 1}
    )
    assert relabelled.status_code == 200, relabelled.body
    ticket = desk.ticket("dana")
    invoke(client, tap.take())

    changed = {"status_id": desk.statuses["waiting"], "version": ticket["version"]}
    desk.api.patch(f"/api/tickets/{ticket['number']}", changed)
    assert invoke(client, tap.take()) == {"batchItemFailures": []}

    _, subject, body = outbox.emails()[-1]
    assert "Awaiting your reply" in subject + body
    assert "Waiting" not in subject + body


def test_closing_a_ticket_emails_the_close_notice_with_one_rating_link_per_option(
    client: Client, desk: Desk, tap: StreamTap, outbox: Outbox, clock: MovableClock
) -> None:
    options = [
        desk.created("/api/rating-options", {"label": label, "score": score})["id"]
        for label, score in (("Great", 100), ("Poor", 0))
    ]
    ticket = desk.ticket("cleo")
    invoke(client, tap.take())
    sms_before = len(outbox.sms())
    clock.advance(minutes=1)

    changed = {"status_id": desk.statuses["solved"], "version": ticket["version"]}
    desk.api.patch(f"/api/tickets/{ticket['number']}", changed)
    assert invoke(client, tap.take()) == {"batchItemFailures": []}

    _, _, body = outbox.emails()[-1]
    links = re.findall(re.escape(PUBLIC_URL) + r"/rate/[A-Za-z0-9_-]{44}\?option=([0-9a-f]+)", body)
    assert sorted(set(links)) == sorted(options)
    # The close notice has no SMS, and a close is not also told as a status change.
    assert len(outbox.sms()) == sms_before
    newest, *_ = deliveries(desk.api, ticket["number"])
    assert newest["template"] == "ticket_closed"


# -- reliability ---------------------------------------------------------------------


def test_the_same_batch_delivered_twice_sends_nothing_twice(
    client: Client, desk: Desk, tap: StreamTap, outbox: Outbox
) -> None:
    number = desk.ticket("cleo")["number"]
    desk.api.post(f"/api/tickets/{number}/notes", {"body": "Looking into it.", "public": True})
    records = tap.take()

    assert invoke(client, records) == {"batchItemFailures": []}
    assert invoke(client, records) == {"batchItemFailures": []}

    assert len(outbox.emails()) == 2
    assert len(outbox.sms()) == 2
    # The delivery log holds each attempt once, too.
    assert len(deliveries(desk.api, number)) == 4


def idempotency_records() -> list[dict[str, Any]]:
    """Every item of the idempotency table, read straight from it (a test may scan)."""
    items: list[dict[str, Any]] = boto3.client("dynamodb").scan(TableName=IDEMPOTENCY_TABLE)["Items"]
    return items


def test_each_send_is_remembered_for_longer_than_the_stream_keeps_its_record(
    client: Client, desk: Desk, tap: StreamTap, outbox: Outbox
) -> None:
    # GIVEN a new ticket for Cleo (email and SMS), and an idempotency table holding nothing yet
    desk.ticket("cleo")
    records = tap.take()
    assert idempotency_records() == []

    # WHEN its record is handled
    sent_from = time.time()
    assert invoke(client, records) == {"batchItemFailures": []}
    sent_until = time.time()

    # THEN each send left a completed record that expires only after the stream's retention:
    # a redelivery of the record, which Lambda may attempt until then, still finds it.
    remembered = idempotency_records()
    assert len(remembered) == 2
    for item in remembered:
        assert item["status"] == {"S": "COMPLETED"}
        expiration = int(item["expiration"]["N"])
        assert expiration > sent_from + STREAM_RETENTION_SECONDS
        # Powertools reads the wall clock, not the app's; the expiry is the configured one.
        assert expiration <= sent_until + deliver.IDEMPOTENCY_EXPIRY


def test_one_malformed_record_among_ten_leaves_the_other_nine_sent_once(
    client: Client, desk: Desk, tap: StreamTap, outbox: Outbox
) -> None:
    # GIVEN ten new tickets for Dana, the fourth record damaged
    for _ in range(10):
        desk.ticket("dana")
    inserts = tickets_inserted(tap.take())
    assert len(inserts) == 10
    inserts[3]["dynamodb"]["NewImage"]["number"] = {"N": "not-a-number"}

    # WHEN the batch is handled, then retried from the failed record as Lambda does
    first = invoke(client, inserts)
    again = invoke(client, copy.deepcopy(inserts[3:]))

    # THEN only that record fails, and each of the other nine tickets was confirmed once
    failed = [{"itemIdentifier": inserts[3]["dynamodb"]["SequenceNumber"]}]
    assert first == again == {"batchItemFailures": failed}
    subjects = [subject for _, subject, _ in outbox.emails()]
    assert len(subjects) == 9
    assert len(set(subjects)) == 9


@no_shape_warning
def test_throttling_past_the_budget_is_logged_as_a_failed_delivery_and_the_record_succeeds(
    client: Client, desk: Desk, tap: StreamTap, outbox: Outbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN SES throttling every send
    calls = throttle_ses(monkeypatch, outbox)
    number = desk.ticket("dana")["number"]

    # WHEN the new ticket's record is handled
    response = invoke(client, tap.take())

    # THEN the record succeeds (the shard moves on), after the sender's bounded attempts
    assert response == {"batchItemFailures": []}
    assert calls() == sender.MAX_ATTEMPTS
    assert outbox.emails() == []
    (failed,) = deliveries(desk.api, number)
    assert failed["outcome"] == "failed"
    assert failed["channel"] == "email"
    assert failed["recipient"] == "dana@example.com"
    assert failed["template"] == "ticket_created"
    assert failed["provider_message_id"] is None
    assert failed["reason"].startswith("Throttling")

    # AND staff can list it among the failed deliveries through the refs index
    from chalicelib.store.models import Delivery, Item

    listed = list(Item.refs.query(Delivery.FAILED_REF))
    assert [(item.ticket_number, item.id) for item in listed] == [(number, failed["id"])]


def test_deliveries_list_newest_first_and_stay_out_of_the_ticket_detail(
    client: Client, desk: Desk, tap: StreamTap, outbox: Outbox, clock: MovableClock
) -> None:
    ticket = desk.ticket("cleo")
    invoke(client, tap.take())
    clock.advance(minutes=1)
    desk.api.post(f"/api/tickets/{ticket['number']}/notes", {"body": "Fixed.", "public": True})
    invoke(client, tap.take())

    listed = deliveries(desk.api, ticket["number"])
    detail = desk.api.get(f"/api/tickets/{ticket['number']}").data

    # Email and SMS of one change share their moment; the older change comes after both.
    assert {(item["template"], item["channel"]) for item in listed[:2]} == {
        ("public_reply", "email"),
        ("public_reply", "sms"),
    }
    assert {item["template"] for item in listed[2:]} == {"ticket_created"}
    assert all(item["outcome"] == "sent" and item["provider_message_id"] for item in listed)
    # Each entry is stamped with the moment of its own send.
    assert [item["attempted_at"] for item in listed] == [app_clock.iso(clock.now())] * 2 + [
        app_clock.iso(clock.now() - timedelta(minutes=1))
    ] * 2
    assert [note["body"] for note in detail["notes"]] == ["Fixed."]
    assert desk.api.get("/api/tickets/999999/deliveries").status_code == 404


def test_a_record_with_too_little_time_left_to_send_fails_and_sends_nothing(
    client: Client, desk: Desk, tap: StreamTap, outbox: Outbox
) -> None:
    desk.ticket("cleo")
    (record,) = tickets_inserted(tap.take())
    short = LambdaTime()
    short.timeout_ms = sender.WORST_CASE_SECONDS * 1000

    first = invoke(client, [record], short)

    assert first == {"batchItemFailures": [{"itemIdentifier": record["dynamodb"]["SequenceNumber"]}]}
    assert outbox.emails() == []
    # Delivered again with time to spare, it sends.
    assert invoke(client, [record]) == {"batchItemFailures": []}
    assert len(outbox.emails()) == 1


@no_shape_warning
def test_ses_throttling_twice_then_accepting_sends_exactly_one_email_logged_once(
    client: Client, desk: Desk, tap: StreamTap, outbox: Outbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN SES that throttles the first two sends, then accepts
    calls = 0
    accept = type(outbox.ses).send_email

    def throttled_twice(backend: Any, *args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls <= 2:
            raise Throttling()
        return accept(backend, *args, **kwargs)

    monkeypatch.setattr(type(outbox.ses), "send_email", throttled_twice)
    number = desk.ticket("dana")["number"]

    # WHEN the stream handler gets the new ticket's record
    assert invoke(client, tap.take()) == {"batchItemFailures": []}

    # THEN the third call went through and only it reached the outbox, logged as sent once
    assert calls == 3
    ((to, _, _),) = outbox.emails()
    assert to == "dana@example.com"
    (logged,) = deliveries(desk.api, number)
    assert (logged["outcome"], logged["reason"]) == ("sent", None)
