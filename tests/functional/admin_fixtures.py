"""Fixtures for the staff pages' tests: a desk, and browsers signed in as admin or agent."""

from __future__ import annotations

from dataclasses import dataclass

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
