"""Fixtures for the staff pages' tests: a desk, and browsers signed in as admin or agent."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from chalice.test import Client

from tests.functional.browsing import Browser, Page
from tests.functional.conftest import ADMIN_PASSWORD, Api
from tests.functional.desk import Desk

ADMIN_EMAIL = "admin@example.com"
AGENT_EMAIL = "agent@example.com"


def staff_sign_in(
    browser: Browser, email: str, password: str = ADMIN_PASSWORD, next_path: str | None = None
) -> Page:
    assert browser.get("/admin/login").status == 200
    fields = {"email": email, "password": password}
    if next_path is not None:
        fields["next"] = next_path
    return browser.post("/admin/login", fields)


@dataclass
class Staffroom:
    """The desk, with browsers for its admin and its agent."""

    desk: Desk
    client: Client
    agent_api: Api

    def browser(self) -> Browser:
        return Browser(self.client)

    def signed_in(self, role: str = "admin") -> Browser:
        browser = self.browser()
        page = staff_sign_in(browser, ADMIN_EMAIL if role == "admin" else AGENT_EMAIL)
        assert page.status == 303, page.text
        return browser


@pytest.fixture
def staffroom(client: Client, desk: Desk, agent: Api) -> Staffroom:
    return Staffroom(desk, client, agent)


def add_staff(desk: Desk, email: str, name: str) -> dict[str, Any]:
    """Another agent, added through the API."""
    fields = {"email": email, "name": name, "role": "agent", "password": ADMIN_PASSWORD}
    return desk.created("/api/staff", fields)


def add_failed_delivery(number: int, *, counted: bool = True) -> str:
    """A delivery as the stream handler logs a refused send (the stream does not run here):
    with one more on the ticket's ``failed_deliveries`` in the same transaction, or without
    (``counted=False``) as it was logged before tickets kept that count."""
    from chalicelib import clock
    from chalicelib.domain.deliveries import count_failed
    from chalicelib.notify.messages import MessageContext, Outgoing
    from chalicelib.store.db import transaction
    from chalicelib.store.models import Delivery

    moment = clock.now()
    delivery_id = clock.sortable_id(moment)
    message = Outgoing(
        "email",
        "cleo@example.com",
        "ticket_created",
        MessageContext(number, "Late", "Cleo", "https://x.example/t"),
    )
    entry = Delivery(
        *Delivery.key(number, delivery_id),
        ticket_number=number,
        id=delivery_id,
        event_id="event-1",
        channel="email",
        recipient="cleo@example.com",
        template="ticket_created",
        outcome="failed",
        reason="Throttling: <Maximum> sending rate exceeded.",
        attempted_at=moment,
        message=message.to_json(),
        ref_pk=Delivery.FAILED_REF,
        ref_sk=f"{clock.iso(moment)}#{number:010d}",
    )
    with transaction() as writes:
        writes.save(entry, condition=Delivery.pk.does_not_exist())
        if counted:
            count_failed(writes, number, 1)
    return delivery_id
