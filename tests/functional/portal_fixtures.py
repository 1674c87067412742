"""Fixtures for the portal's page tests: a desk whose two contacts can sign in."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from chalice.test import Client

from tests.functional.browsing import Browser, Page
from tests.functional.desk import Desk

PASSWORD = "a long and secret portal passphrase"


@dataclass
class Customers:
    """The desk, with Cleo and Dana able to sign in to the portal."""

    desk: Desk
    client: Client

    def browser(self) -> Browser:
        return Browser(self.client)

    def signed_in(self, name: str) -> Browser:
        browser = self.browser()
        page = sign_in(browser, f"{name}@example.com", PASSWORD)
        assert page.status == 303, page.text
        return browser


def give_password(contact_id: str, password: str = PASSWORD) -> None:
    from chalicelib.domain import portal_auth
    from chalicelib.store.models import Contact

    portal_auth.set_password(Contact.get(*Contact.key(contact_id)), password)


def sign_in(browser: Browser, email: str, password: str, next_path: str | None = None) -> Page:
    login = browser.get("/portal/login")
    assert login.status == 200, login.text
    fields = {"email": email, "password": password}
    if next_path is not None:
        fields["next"] = next_path
    return browser.post("/portal/login", fields)


@pytest.fixture
def customers(client: Client, desk: Desk) -> Customers:
    for name in ("cleo", "dana"):
        give_password(desk.contacts[name])
    return Customers(desk, client)
