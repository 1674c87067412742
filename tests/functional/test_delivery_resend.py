"""Failed deliveries: staff list them across tickets and ask for one to be sent again; the
stream handler sends it once, with what the failed attempt would have said."""

from __future__ import annotations

from typing import Any

import pytest
from chalice.test import Client

from tests.functional import test_notifications as notifying
from tests.functional.conftest import Api
from tests.functional.desk import Desk
from tests.functional.test_notifications import Outbox, Throttling, deliveries, no_shape_warning
from tests.functional.test_stream_handler import StreamTap, invoke

pytestmark = [pytest.mark.usefixtures("clock"), no_shape_warning]

# The sending desk of the notification tests: a verified sender, Cleo opted in to SMS.
outbox = notifying.outbox
tap = notifying.tap


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
