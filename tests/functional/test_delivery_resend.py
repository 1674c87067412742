"""Failed deliveries: staff list them across tickets and ask for one to be sent again; the
stream handler sends it once, with what the failed attempt would have said."""

from __future__ import annotations

import copy
from typing import Any

import boto3
import pytest
from chalice.test import Client

from tests.bench.counting import count_calls
from tests.functional import test_notifications as notifying
from tests.functional.admin_fixtures import Staffroom, add_failed_delivery, staffroom
from tests.functional.conftest import Api
from tests.functional.desk import Desk
from tests.functional.test_notifications import Outbox, Throttling, deliveries, no_shape_warning
from tests.functional.test_stream_handler import StreamTap, invoke

pytestmark = [pytest.mark.usefixtures("clock"), no_shape_warning]

# The sending desk of the notification tests: a verified sender, Cleo opted in to SMS.
outbox = notifying.outbox
tap = notifying.tap
__all__ = ["staffroom"]


class SesOutage:
    """SES refuses every send while ``down``; counts the sends that reached it."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, outbox: Outbox) -> None:
        self.down = True
        self.calls = 0
        accept = type(outbox.ses).send_email

        def send_email(backend: Any, *args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            if self.down:
                raise Throttling()
            return accept(backend, *args, **kwargs)

        # On the class: moto rebuilds its backends when the mock ends.
        monkeypatch.setattr(type(outbox.ses), "send_email", send_email)


@pytest.fixture
def outage(monkeypatch: pytest.MonkeyPatch, outbox: Outbox) -> SesOutage:
    return SesOutage(monkeypatch, outbox)


def failed_list(api: Api, **params: str) -> dict[str, Any]:
    query = "&".join(f"{name}={value}" for name, value in params.items())
    response = api.get("/api/deliveries/failed" + (f"?{query}" if query else ""))
    assert response.status_code == 200, response.body
    return dict(response.data)


def failed_confirmation(client: Client, desk: Desk, tap: StreamTap, contact: str = "dana") -> dict[str, Any]:
    """A ticket whose confirmation email SES refused past the retry budget."""
    number = desk.ticket(contact)["number"]
    assert invoke(client, tap.take()) == {"batchItemFailures": []}
    (failed,) = [item for item in deliveries(desk.api, number) if item["channel"] == "email"]
    assert failed["outcome"] == "failed"
    return failed


def resend(api: Api, delivery: dict[str, Any]) -> Any:
    return api.post(f"/api/tickets/{delivery['ticket_number']}/deliveries/{delivery['id']}/resend", {})


def test_failed_deliveries_of_every_ticket_are_listed_newest_first_in_pages(
    client: Client, desk: Desk, tap: StreamTap, outbox: Outbox, agent: Api, outage: SesOutage, clock: Any
) -> None:
    first = failed_confirmation(client, desk, tap, "dana")
    clock.advance(minutes=1)
    second = failed_confirmation(client, desk, tap, "cleo")

    page_one = failed_list(agent, limit="1")
    page_two = failed_list(agent, limit="1", cursor=page_one["next_cursor"])

    assert [item["id"] for item in page_one["items"]] == [second["id"]]
    assert [item["id"] for item in page_two["items"]] == [first["id"]]
    assert page_one["items"][0]["ticket_number"] == second["ticket_number"]
    assert page_one["items"][0]["reason"].startswith("Throttling")
    # Cleo's SMS went out: only the refused email is listed.
    assert {item["channel"] for item in page_one["items"] + page_two["items"]} == {"email"}


def test_a_resend_delivers_the_same_message_exactly_once_and_closes_the_failure(
    client: Client, desk: Desk, tap: StreamTap, outbox: Outbox, agent: Api, outage: SesOutage
) -> None:
    # GIVEN a confirmation SES refused, and SES back up
    failed = failed_confirmation(client, desk, tap)
    refused_calls = outage.calls
    outage.down = False

    # WHEN an agent asks for it again
    asked = resend(agent, failed)

    # THEN the answer is 202, the entry leaves the failed list at once, and nothing is sent yet
    assert asked.status_code == 202, asked.body
    assert asked.data["outcome"] == "resend_requested"
    assert asked.data["resend_requested_by"] == agent.get("/api/auth/me").data["id"]
    assert failed_list(desk.api)["items"] == []
    assert outbox.emails() == []

    # WHEN the stream handler sees the request, and then sees the same batch again
    records = tap.take()
    assert invoke(client, records) == {"batchItemFailures": []}
    assert invoke(client, records) == {"batchItemFailures": []}

    # THEN exactly one email reached SES after the refusals, to the same recipient
    assert outage.calls == refused_calls + 1
    ((to, subject, body),) = outbox.emails()
    assert to == "dana@example.com"
    assert str(failed["ticket_number"]) in subject
    assert "https://help.example.com/t/" in body

    # AND the log has the new attempt, linked both ways
    log = {item["id"]: item for item in deliveries(desk.api, failed["ticket_number"])}
    original = log[failed["id"]]
    assert original["outcome"] == "resent"
    again = log[original["resent_as"]]
    assert again["outcome"] == "sent"
    assert again["resend_of"] == failed["id"]
    assert again["template"] == "ticket_created"
    assert again["provider_message_id"]


def test_a_resend_that_fails_again_is_listed_as_a_new_failure(
    client: Client, desk: Desk, tap: StreamTap, outbox: Outbox, agent: Api, outage: SesOutage
) -> None:
    failed = failed_confirmation(client, desk, tap)

    assert resend(agent, failed).status_code == 202
    assert invoke(client, tap.take()) == {"batchItemFailures": []}

    (listed,) = failed_list(agent)["items"]
    assert listed["resend_of"] == failed["id"]
    assert listed["outcome"] == "failed"
    assert outbox.emails() == []


def test_asking_twice_or_for_a_sent_delivery_is_a_conflict_and_sends_nothing_more(
    client: Client, desk: Desk, tap: StreamTap, outbox: Outbox, agent: Api, outage: SesOutage
) -> None:
    failed = failed_confirmation(client, desk, tap, "cleo")
    sent_sms = next(
        item for item in deliveries(desk.api, failed["ticket_number"]) if item["channel"] == "sms"
    )

    assert resend(agent, failed).status_code == 202
    twice = resend(desk.api, failed)
    of_sent = resend(agent, sent_sms)

    assert twice.status_code == 409
    assert twice.data["error"]["code"] == "conflict"
    assert of_sent.status_code == 409
    assert len(outbox.sms()) == 1


@pytest.mark.parametrize(
    "path",
    [
        "/api/tickets/{number}/deliveries/{other}/resend",
        "/api/tickets/999999/deliveries/{id}/resend",
        "/api/tickets/{number}/deliveries/not%20an%20id/resend",
        "/api/tickets/abc/deliveries/{id}/resend",
    ],
)
def test_a_resend_of_an_unknown_delivery_is_404(
    client: Client, desk: Desk, tap: StreamTap, outbox: Outbox, agent: Api, outage: SesOutage, path: str
) -> None:
    failed = failed_confirmation(client, desk, tap)
    other_ticket = desk.ticket("cleo")["number"]
    url = path.format(number=other_ticket, other=failed["id"], id=failed["id"])

    response = agent.post(url, {})

    assert response.status_code == 404
    assert failed_list(agent)["items"][0]["id"] == failed["id"]


def test_failed_deliveries_need_a_signed_in_staff_member(
    client: Client, desk: Desk, tap: StreamTap, outbox: Outbox, agent: Api, outage: SesOutage, anonymous: Api
) -> None:
    failed = failed_confirmation(client, desk, tap)

    assert anonymous.get("/api/deliveries/failed").status_code == 401
    assert resend(anonymous, failed).status_code == 401
    assert failed_list(agent)["items"][0]["outcome"] == "failed"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"notify_email": False}, "no longer takes email"),
        ({"email": "dana.new@example.com"}, "no longer takes email"),
    ],
)
def test_a_resend_the_contact_no_longer_wants_is_cancelled_and_sends_nothing(
    client: Client,
    desk: Desk,
    tap: StreamTap,
    outbox: Outbox,
    agent: Api,
    outage: SesOutage,
    change: dict[str, Any],
    reason: str,
) -> None:
    # GIVEN a failed confirmation, SES back up, and then the contact changes their choice
    failed = failed_confirmation(client, desk, tap)
    outage.down = False
    dana = desk.api.get(f"/api/contacts/{desk.contacts['dana']}").data
    assert (
        desk.api.patch(f"/api/contacts/{dana['id']}", {**change, "version": dana["version"]}).status_code
        == 200
    )

    # WHEN staff ask for it again and the stream handler runs
    assert resend(agent, failed).status_code == 202
    assert invoke(client, tap.take()) == {"batchItemFailures": []}

    # THEN nothing is sent and the log says why
    assert outbox.emails() == []
    (entry,) = deliveries(desk.api, failed["ticket_number"])
    assert entry["outcome"] == "cancelled"
    assert reason in entry["reason"]


def test_a_resend_with_email_switched_off_is_cancelled(
    client: Client, desk: Desk, tap: StreamTap, outbox: Outbox, agent: Api, outage: SesOutage
) -> None:
    failed = failed_confirmation(client, desk, tap)
    outage.down = False
    desk.put_settings(notify_email_enabled=False)

    assert resend(agent, failed).status_code == 202
    assert invoke(client, tap.take()) == {"batchItemFailures": []}

    assert outbox.emails() == []
    (entry,) = deliveries(desk.api, failed["ticket_number"])
    assert (entry["outcome"], entry["reason"]) == ("cancelled", "email notifications are off")


# -- the count on the ticket ----------------------------------------------------------


def failed_count(api: Api, number: int) -> int:
    count: int = api.get(f"/api/tickets/{number}").data["failed_deliveries"]
    return count


FAILED_ALERT = "notification about this ticket could not be sent."


def test_a_failure_counts_once_on_its_ticket_and_a_resend_request_takes_it_off(
    client: Client,
    desk: Desk,
    tap: StreamTap,
    outbox: Outbox,
    agent: Api,
    outage: SesOutage,
    staffroom: Staffroom,
) -> None:
    # GIVEN a new ticket whose page says nothing failed
    number = desk.ticket("dana")["number"]
    page_path = f"/admin/tickets/{number}"
    browser = staffroom.signed_in("agent")
    assert failed_count(desk.api, number) == 0
    assert "could not be sent" not in browser.get(page_path).plain

    # WHEN SES refuses its confirmation, and Lambda delivers the same batch twice
    records = tap.take()
    assert invoke(client, records) == {"batchItemFailures": []}
    assert invoke(client, copy.deepcopy(records)) == {"batchItemFailures": []}

    # THEN the failure is logged and counted once, and the page says so with a link to the log
    (failed,) = deliveries(desk.api, number)
    assert failed["outcome"] == "failed"
    assert failed_count(desk.api, number) == 1
    page = browser.get(page_path)
    assert "1 " + FAILED_ALERT in page.plain
    assert f'<a href="{page_path}/deliveries">Send it again from the delivery log</a>' in page.text

    # WHEN staff ask for it again
    assert resend(agent, failed).status_code == 202

    # THEN the count is back to zero and the page says nothing failed
    assert failed_count(desk.api, number) == 0
    assert "could not be sent" not in browser.get(page_path).plain


def test_a_resend_that_fails_again_counts_again_once(
    client: Client, desk: Desk, tap: StreamTap, outbox: Outbox, agent: Api, outage: SesOutage
) -> None:
    failed = failed_confirmation(client, desk, tap)
    number = failed["ticket_number"]
    assert resend(agent, failed).status_code == 202
    assert failed_count(desk.api, number) == 0

    records = tap.take()
    assert invoke(client, records) == {"batchItemFailures": []}
    assert invoke(client, copy.deepcopy(records)) == {"batchItemFailures": []}

    assert failed_count(desk.api, number) == 1
    assert [item["outcome"] for item in failed_list(agent)["items"]] == ["failed"]


def test_the_ticket_touch_of_a_failure_sends_nothing_and_changes_no_figure(
    client: Client, desk: Desk, tap: StreamTap, outbox: Outbox, outage: SesOutage
) -> None:
    from chalicelib.stream import events
    from tests.functional.test_dashboard_figures import figures

    # GIVEN a failed confirmation, and SES back up
    failed_confirmation(client, desk, tap, "cleo")
    outage.down = False
    sent_before, calls_before, figures_before = len(outbox.sms()), outage.calls, figures()

    # WHEN the handler gets the records its own writes made, the ticket's count among them
    echoes = tap.take()
    touches = [
        record
        for record in echoes
        if record["eventName"] == "MODIFY" and record["dynamodb"]["NewImage"]["kind"] == {"S": "ticket"}
    ]
    assert len(touches) == 1
    assert "failed_deliveries" not in touches[0]["dynamodb"]["OldImage"]
    assert touches[0]["dynamodb"]["NewImage"]["failed_deliveries"] == {"N": "1"}
    with count_calls() as calls:
        assert invoke(client, echoes) == {"batchItemFailures": []}

    # THEN the touch is no event: nothing is read, written or sent, and no figure moves
    assert events.decode(touches[0]) == []
    assert calls.round_trips == 0
    assert (len(outbox.sms()), outage.calls) == (sent_before, calls_before)
    assert figures() == figures_before


def test_an_edit_made_with_the_version_read_before_a_failure_still_saves(
    client: Client, desk: Desk, tap: StreamTap, outbox: Outbox, outage: SesOutage
) -> None:
    # GIVEN a ticket read by staff, then its confirmation failing
    read = desk.ticket("dana")
    assert invoke(client, tap.take()) == {"batchItemFailures": []}
    counted = desk.api.get(f"/api/tickets/{read['number']}").data
    assert (counted["failed_deliveries"], counted["version"]) == (1, read["version"])

    # WHEN staff save an edit under the version they read
    edited = desk.api.patch(
        f"/api/tickets/{read['number']}", {"status_id": desk.statuses["waiting"], "version": read["version"]}
    )

    # THEN it saves, and leaves the count alone
    assert edited.status_code == 200, edited.body
    assert (edited.data["version"], edited.data["failed_deliveries"]) == (read["version"] + 1, 1)


def test_a_resend_of_a_failure_logged_before_tickets_kept_the_count_leaves_it_at_zero(
    desk: Desk, agent: Api
) -> None:
    number = desk.ticket("dana")["number"]
    delivery_id = add_failed_delivery(number, counted=False)
    (failed,) = deliveries(desk.api, number)
    assert failed["id"] == delivery_id

    asked = resend(agent, failed)

    assert asked.status_code == 202, asked.body
    assert failed_count(desk.api, number) == 0
    assert [item["outcome"] for item in deliveries(desk.api, number)] == ["resend_requested"]


def test_a_failure_of_a_ticket_gone_meanwhile_is_logged_without_making_a_bare_ticket(
    client: Client, desk: Desk, tap: StreamTap, outbox: Outbox, outage: SesOutage
) -> None:
    from chalicelib.store.db import get_one
    from chalicelib.store.models import Delivery, Item, Ticket

    # GIVEN a new ticket whose item is gone before its record is handled
    number = desk.ticket("dana")["number"]
    records = tap.take()
    pk, sk = Ticket.key(number)
    boto3.client("dynamodb").delete_item(TableName="helpdesk-test", Key={"pk": {"S": pk}, "sk": {"S": sk}})

    # WHEN SES refuses the confirmation the record still calls for
    assert invoke(client, records) == {"batchItemFailures": []}

    # THEN the failure is logged all the same, and no count made a ticket item of its own
    (logged,) = Item.query(pk, Item.sk.startswith(Delivery.PREFIX))
    assert isinstance(logged, Delivery)
    assert logged.outcome == "failed"
    assert get_one(Ticket.key(number)) is None
