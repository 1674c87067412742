"""Getting into the portal end to end: registration, confirmation, password reset and
staff invites, with their emails sent by the real stream handler through moto's SES."""

from __future__ import annotations

import re
from typing import Any

import boto3
import pytest
from chalice.test import Client

from chalicelib.domain import portal_access
from chalicelib.store.models import AccountMail, Contact, Item
from tests.functional import test_notifications as notifying
from tests.functional.browsing import Browser, Page
from tests.functional.desk import Desk, MovableClock
from tests.functional.portal_fixtures import PASSWORD, give_password, sign_in
from tests.functional.test_notifications import Outbox
from tests.functional.test_stream_handler import StreamTap, invoke

pytestmark = pytest.mark.usefixtures("clock")

outbox = notifying.outbox
tap = notifying.tap

NEW_PASSWORD = "my own brand new passphrase"
LINK = re.compile(r"https://help\.example\.com(/portal/[a-z/-]+/[A-Za-z0-9_.-]+)")


@pytest.fixture
def open_desk(desk: Desk, outbox: Outbox) -> Desk:
    """Registration open, a sender set (by ``outbox``), Cleo with a portal password."""
    desk.put_settings(registration_enabled=True)
    give_password(desk.contacts["cleo"])
    return desk


def deliver(client: Client, tap: StreamTap) -> None:
    assert invoke(client, tap.take()) == {"batchItemFailures": []}


def mails_to(outbox: Outbox, address: str) -> list[tuple[str, str]]:
    return [(subject, body) for to, subject, body in outbox.emails() if to == address]


def link_in(body: str) -> str:
    found = LINK.search(body)
    assert found, body
    return found.group(1)


def link_answers(browser: Browser, path: str, password: str) -> tuple[Page, Page]:
    """What an emailed link answers when opened, then when its form is sent with ``password``
    (with a form token from the login page, so that only the link can be what is wrong)."""
    opened = browser.get(path)
    browser.get("/portal/login")
    return opened, browser.post(path, {"password": password})


def register(browser: Browser, name: str, address: str, password: str) -> Page:
    browser.get("/portal/register")
    return browser.post("/portal/register", {"name": name, "email": address, "password": password})


def contact_by_email(address: str) -> Contact:
    from chalicelib.domain import contacts

    found = contacts.find_by_email(address)
    assert found is not None
    return Contact.get(*Contact.key(found.id), consistent_read=True)


# -- registration --------------------------------------------------------------------


def test_a_new_customer_registers_confirms_with_the_password_and_is_signed_in(
    client: Client, open_desk: Desk, tap: StreamTap, outbox: Outbox
) -> None:
    browser = Browser(client)

    answer = register(browser, "Nina New", "nina@example.com", PASSWORD)

    assert answer.status == 200
    assert "Check your email" in answer.plain
    assert contact_by_email("nina@example.com").portal_state == "pending"
    deliver(client, tap)
    ((subject, body),) = mails_to(outbox, "nina@example.com")
    assert subject == "Confirm your support account"
    path = link_in(body)
    assert path.startswith("/portal/register/confirm/")

    confirm_page = browser.get(path)
    assert confirm_page.status == 200
    assert 'type="password"' in confirm_page.text
    wrong = browser.post(path, {"password": "not the one I chose at all"})
    assert wrong.status == 422
    assert 'id="password-error"' in wrong.text
    right = browser.post(path, {"password": PASSWORD})
    assert right.status == 303
    assert right.location == "/portal"
    assert "Hello, Nina New" in browser.get("/portal").plain
    assert contact_by_email("nina@example.com").portal_state == "active"
    # The link has done its work.
    assert Browser(client).get(path).status == 404


def test_registering_a_known_address_looks_the_same_and_mails_its_owner_instead(
    client: Client, open_desk: Desk, tap: StreamTap, outbox: Outbox
) -> None:
    new = register(Browser(client), "Someone", "brand-new@example.com", PASSWORD)
    known = register(Browser(client), "Someone", "cleo@example.com", "an attackers chosen password")

    assert (known.status, known.plain) == (new.status, new.plain)
    deliver(client, tap)
    ((subject, body),) = mails_to(outbox, "cleo@example.com")
    assert subject == "Your support account"
    assert "/portal/password-reset/" in link_in(body)
    # Cleo's password is untouched: the attacker's one does not work.
    assert sign_in(Browser(client), "cleo@example.com", "an attackers chosen password").status == 401
    assert sign_in(Browser(client), "cleo@example.com", PASSWORD).status == 303


def test_a_contact_staff_created_registers_by_setting_a_password_from_the_email(
    client: Client, open_desk: Desk, tap: StreamTap, outbox: Outbox
) -> None:
    register(Browser(client), "Dana", "dana@example.com", PASSWORD)
    deliver(client, tap)

    ((subject, body),) = mails_to(outbox, "dana@example.com")
    assert subject == "Set a password for your support account"
    path = link_in(body)
    assert path.startswith("/portal/invite/")
    browser = Browser(client)
    browser.get(path)
    assert browser.post(path, {"password": NEW_PASSWORD}).status == 303
    assert "Hello, Dana Doe" in browser.get("/portal").plain


def test_a_contact_shut_out_by_staff_gets_no_email_and_the_same_page(
    client: Client, open_desk: Desk, tap: StreamTap, outbox: Outbox
) -> None:
    dana = open_desk.api.get(f"/api/contacts/{open_desk.contacts['dana']}").data
    open_desk.api.patch(
        f"/api/contacts/{dana['id']}", {"portal_access": "disabled", "version": dana["version"]}
    )

    page = register(Browser(client), "Dana", "dana@example.com", PASSWORD)
    deliver(client, tap)

    assert "Check your email" in page.plain
    assert mails_to(outbox, "dana@example.com") == []


def test_shutting_out_and_letting_back_a_registration_never_confirmed_still_needs_a_confirmation(
    client: Client, open_desk: Desk, tap: StreamTap, outbox: Outbox
) -> None:
    # GIVEN Nina registered but never confirmed her address
    register(Browser(client), "Nina New", "nina@example.com", PASSWORD)
    deliver(client, tap)
    confirm_link = link_in(mails_to(outbox, "nina@example.com")[0][1])
    nina = contact_by_email("nina@example.com")
    path = f"/api/contacts/{nina.id}"

    # WHEN staff shut her out and let her back in through the API
    disabled = open_desk.api.patch(path, {"portal_access": "disabled", "version": nina.version})
    enabled = open_desk.api.patch(path, {"portal_access": "enabled", "version": disabled.data["version"]})

    # THEN she has no access until she sets a password from an email, and the registration's
    # password is gone rather than made a working one
    assert enabled.status_code == 200, enabled.body
    assert enabled.data["portal_access"] == "none"
    assert contact_by_email("nina@example.com").password_hash is None
    assert sign_in(Browser(client), "nina@example.com", PASSWORD).status == 401
    assert Browser(client).get(confirm_link).status == 404
    assert open_desk.api.post(f"{path}/portal-invite", {}).status_code == 202


def test_shutting_out_and_letting_back_an_active_customer_keeps_their_password(
    client: Client, open_desk: Desk
) -> None:
    cleo = open_desk.api.get(f"/api/contacts/{open_desk.contacts['cleo']}").data
    path = f"/api/contacts/{cleo['id']}"

    disabled = open_desk.api.patch(path, {"portal_access": "disabled", "version": cleo["version"]})
    enabled = open_desk.api.patch(path, {"portal_access": "enabled", "version": disabled.data["version"]})

    assert enabled.data["portal_access"] == "active"
    assert sign_in(Browser(client), "cleo@example.com", PASSWORD).status == 303


def test_a_squatted_registration_cannot_be_confirmed_without_its_password(
    client: Client, open_desk: Desk, tap: StreamTap, outbox: Outbox
) -> None:
    # GIVEN someone registers Vera's address with their own password
    register(Browser(client), "Not Vera", "vera@example.com", "the squatters secret pass")
    deliver(client, tap)
    (_, squatters_mail) = mails_to(outbox, "vera@example.com")[0]
    squatters_link = link_in(squatters_mail)

    # WHEN Vera, who owns the mailbox, opens that link, she cannot confirm with her password
    vera = Browser(client)
    vera.get(squatters_link)
    assert vera.post(squatters_link, {"password": "veras own long passphrase"}).status == 422

    # AND when she registers herself, only the newest link works, with her password
    register(Browser(client), "Vera", "vera@example.com", "veras own long passphrase")
    deliver(client, tap)
    newest = link_in(mails_to(outbox, "vera@example.com")[-1][1])
    assert Browser(client).get(squatters_link).status == 404
    vera.get(newest)
    assert vera.post(newest, {"password": "veras own long passphrase"}).status == 303
    assert sign_in(Browser(client), "vera@example.com", "the squatters secret pass").status == 401


def test_registration_closed_is_a_plain_page_and_creates_nothing(
    client: Client, open_desk: Desk, tap: StreamTap, outbox: Outbox
) -> None:
    open_desk.put_settings(registration_enabled=False)
    browser = Browser(client)

    form = browser.get("/portal/register")
    browser.get("/portal/login")
    posted = browser.post("/portal/register", {"name": "X", "email": "x@example.com", "password": PASSWORD})

    assert form.status == 404
    assert posted.status == 404
    from chalicelib.domain import contacts

    assert contacts.find_by_email("x@example.com") is None


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": "", "email": "a@example.com", "password": PASSWORD}, "name"),
        ({"name": "A", "email": "not-an-email", "password": PASSWORD}, "email"),
        ({"name": "A", "email": "a@example.com", "password": "short"}, "password"),
    ],
)
def test_a_bad_registration_comes_back_naming_the_field(
    client: Client, open_desk: Desk, fields: dict[str, str], field: str
) -> None:
    browser = Browser(client)
    browser.get("/portal/register")

    page = browser.post("/portal/register", fields)

    assert page.status == 422
    assert f'id="{field}-error"' in page.text
    assert 'type="password"' in page.text
    assert f'value="{fields["password"]}"' not in page.text  # a password is never sent back


# -- password reset ------------------------------------------------------------------


def test_a_reset_link_sets_a_new_password_once_and_ends_other_sessions(
    client: Client, open_desk: Desk, tap: StreamTap, outbox: Outbox, clock: MovableClock
) -> None:
    laptop = Browser(client)
    sign_in(laptop, "cleo@example.com", PASSWORD)
    clock.advance(seconds=1)
    browser = Browser(client)
    browser.get("/portal/password-reset")

    asked = browser.post("/portal/password-reset", {"email": "Cleo@Example.com"})
    unknown = Browser(client)
    unknown.get("/portal/password-reset")
    nobody = unknown.post("/portal/password-reset", {"email": "nobody@example.com"})

    assert (asked.status, asked.plain) == (nobody.status, nobody.plain)
    deliver(client, tap)
    ((subject, body),) = mails_to(outbox, "cleo@example.com")
    assert subject == "Reset your support portal password"
    assert "1 hour" in body
    path = link_in(body)
    assert browser.get(path).status == 200
    assert browser.post(path, {"password": NEW_PASSWORD}).status == 303
    assert "Hello, Cleo Customer" in browser.get("/portal").plain

    assert laptop.get("/portal").status == 303  # signed out by the change
    opened, posted = link_answers(Browser(client), path, "yet another passphrase")
    assert (opened.status, posted.status) == (404, 404)
    assert sign_in(Browser(client), "cleo@example.com", PASSWORD).status == 401
    assert sign_in(Browser(client), "cleo@example.com", NEW_PASSWORD).status == 303


def test_a_reset_link_expires_after_an_hour(
    client: Client, open_desk: Desk, tap: StreamTap, outbox: Outbox, clock: MovableClock
) -> None:
    browser = Browser(client)
    browser.get("/portal/password-reset")
    browser.post("/portal/password-reset", {"email": "cleo@example.com"})
    deliver(client, tap)
    path = link_in(mails_to(outbox, "cleo@example.com")[0][1])

    clock.advance(hours=1, seconds=1)

    page = browser.get(path)
    assert page.status == 404
    assert "not valid or has expired" in page.plain


@pytest.mark.parametrize(
    "mangle", [lambda p: p[:-1] + ("0" if p[-1] != "0" else "1"), lambda p: p.replace(".reset.", ".invite.")]
)
def test_an_altered_link_is_refused(
    client: Client, open_desk: Desk, tap: StreamTap, outbox: Outbox, mangle: Any
) -> None:
    browser = Browser(client)
    browser.get("/portal/password-reset")
    browser.post("/portal/password-reset", {"email": "cleo@example.com"})
    deliver(client, tap)
    path = link_in(mails_to(outbox, "cleo@example.com")[0][1])

    assert browser.get(mangle(path)).status == 404


def test_account_emails_to_one_address_are_limited_per_hour(
    client: Client, open_desk: Desk, tap: StreamTap, outbox: Outbox
) -> None:
    answers = []
    for _ in range(portal_access.MAIL_PER_ACCOUNT.attempts + 1):
        browser = Browser(client)
        browser.get("/portal/password-reset")
        answers.append(browser.post("/portal/password-reset", {"email": "cleo@example.com"}).status)
    deliver(client, tap)

    assert answers == [200] * portal_access.MAIL_PER_ACCOUNT.attempts + [429]
    assert len(mails_to(outbox, "cleo@example.com")) == portal_access.MAIL_PER_ACCOUNT.attempts


def ask(client: Client, kind: str, address: str) -> Page:
    """A password reset or a registration for ``address``, from a fresh browser."""
    browser = Browser(client)
    if kind == "register":
        return register(browser, "Someone", address, PASSWORD)
    browser.get("/portal/password-reset")
    return browser.post("/portal/password-reset", {"email": address})


@pytest.mark.parametrize("address", ["cleo@example.com", "nobody@example.com"])
@pytest.mark.parametrize("kind", ["reset", "register"])
def test_an_unknown_address_runs_out_of_account_emails_exactly_like_a_known_one(
    client: Client, open_desk: Desk, kind: str, address: str
) -> None:
    # The same run of answers whether or not the address has an account: the limit tells
    # nothing about which addresses exist.
    answers = [ask(client, kind, address) for _ in range(portal_access.MAIL_PER_ACCOUNT.attempts + 1)]

    assert [answer.status for answer in answers] == [200] * portal_access.MAIL_PER_ACCOUNT.attempts + [429]
    assert "Check your email" in answers[0].plain
    assert int(answers[-1].headers["Retry-After"]) > 0


@pytest.mark.parametrize(
    ("kind", "limit", "address"),
    [
        ("reset", portal_access.RESET_PER_ADDRESS, "cleo@example.com"),
        ("register", portal_access.REGISTER_PER_ADDRESS, "vera@example.com"),
    ],
)
def test_resets_and_registrations_are_limited_per_client_address(
    client: Client,
    open_desk: Desk,
    tap: StreamTap,
    outbox: Outbox,
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
    limit: Any,
    address: str,
) -> None:
    from chalice.local import LambdaEventConverter

    # GIVEN one client that has used up its attempts, each for another address
    monkeypatch.setattr(LambdaEventConverter, "LOCAL_SOURCE_IP", "198.51.100.7")
    used = [ask(client, kind, f"someone{number}@example.com").status for number in range(limit.attempts)]
    assert used == [200] * limit.attempts
    tap.take()

    # WHEN it asks for one more address, which no earlier attempt named
    refused = ask(client, kind, address)

    # THEN it is refused before anything is written for that address
    assert refused.status == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert tap.take() == []

    # AND another client address is not held back: the same request gets its email
    monkeypatch.setattr(LambdaEventConverter, "LOCAL_SOURCE_IP", "203.0.113.9")
    allowed = ask(client, kind, address)
    assert allowed.status == 200
    deliver(client, tap)
    assert len(mails_to(outbox, address)) == 1


def test_the_link_is_never_stored_in_the_table_or_the_idempotency_records(
    client: Client, open_desk: Desk, tap: StreamTap, outbox: Outbox
) -> None:
    browser = Browser(client)
    browser.get("/portal/password-reset")
    browser.post("/portal/password-reset", {"email": "cleo@example.com"})
    deliver(client, tap)
    token = link_in(mails_to(outbox, "cleo@example.com")[0][1]).rsplit("/", 1)[1]
    mac = token.rsplit(".", 1)[1]

    dynamodb = boto3.client("dynamodb")
    for table in ("helpdesk-test", "helpdesk-idempotency-test"):
        everything = str(dynamodb.scan(TableName=table)["Items"])
        assert mac not in everything
    (mail,) = [item for item in Item.scan() if isinstance(item, AccountMail)]
    assert (mail.template, mail.outcome) == ("password_reset", "sent")
    assert mail.provider_message_id


# -- invites -------------------------------------------------------------------------


def test_staff_invite_a_contact_who_sets_a_password_from_the_email(
    client: Client, open_desk: Desk, tap: StreamTap, outbox: Outbox
) -> None:
    invited = open_desk.api.post(f"/api/contacts/{open_desk.contacts['dana']}/portal-invite", {})

    assert invited.status_code == 202
    assert invited.data["portal_access"] == "invited"
    deliver(client, tap)
    ((subject, body),) = mails_to(outbox, "dana@example.com")
    assert subject == "You are invited to our support portal"
    assert "7 days" in body
    browser = Browser(client)
    path = link_in(body)
    browser.get(path)
    short = browser.post(path, {"password": "short"})
    assert short.status == 422
    assert browser.post(path, {"password": NEW_PASSWORD}).status == 303
    assert open_desk.api.get(f"/api/contacts/{open_desk.contacts['dana']}").data["portal_access"] == "active"


def test_an_invite_for_a_contact_who_uses_the_portal_or_is_shut_out_is_a_conflict(
    client: Client, open_desk: Desk, tap: StreamTap, outbox: Outbox
) -> None:
    dana = open_desk.api.get(f"/api/contacts/{open_desk.contacts['dana']}").data
    open_desk.api.patch(
        f"/api/contacts/{dana['id']}", {"portal_access": "disabled", "version": dana["version"]}
    )

    active = open_desk.api.post(f"/api/contacts/{open_desk.contacts['cleo']}/portal-invite", {})
    disabled = open_desk.api.post(f"/api/contacts/{dana['id']}/portal-invite", {})
    unknown = open_desk.api.post("/api/contacts/nobody/portal-invite", {})

    assert (active.status_code, disabled.status_code, unknown.status_code) == (409, 409, 404)
    deliver(client, tap)
    assert outbox.emails() == []


def test_without_a_sender_the_account_email_is_skipped_and_says_why(
    client: Client, open_desk: Desk, tap: StreamTap, outbox: Outbox
) -> None:
    open_desk.put_settings(sender_email=None)
    tap.take()

    open_desk.api.post(f"/api/contacts/{open_desk.contacts['dana']}/portal-invite", {})
    deliver(client, tap)

    assert outbox.emails() == []
    (mail,) = [item for item in Item.scan() if isinstance(item, AccountMail)]
    assert (mail.outcome, mail.reason) == ("skipped", "no sender email is set")


def test_invites_to_one_address_share_the_hourly_limit_of_account_emails(
    client: Client, open_desk: Desk, tap: StreamTap, outbox: Outbox
) -> None:
    path = f"/api/contacts/{open_desk.contacts['dana']}/portal-invite"

    answers = [open_desk.api.post(path, {}) for _ in range(portal_access.MAIL_PER_ACCOUNT.attempts + 1)]
    deliver(client, tap)

    assert [answer.status_code for answer in answers] == [202] * portal_access.MAIL_PER_ACCOUNT.attempts + [
        429
    ]
    assert int(answers[-1].headers["Retry-After"]) > 0
    assert len(mails_to(outbox, "dana@example.com")) == portal_access.MAIL_PER_ACCOUNT.attempts


@pytest.mark.parametrize(
    ("path", "purpose"),
    [
        ("/portal/register/confirm", "confirm"),
        ("/portal/password-reset", "reset"),
        ("/portal/invite", "invite"),
        ("/portal/email", "email"),
    ],
)
def test_a_link_dated_past_any_calendar_is_refused_like_any_bad_link(
    client: Client, desk: Desk, path: str, purpose: str
) -> None:
    token = f"{desk.contacts['cleo']}.{purpose}.999999999999.{'a' * 40}"

    opened, posted = link_answers(Browser(client), f"{path}/{token}", "a long enough password")

    assert (opened.status, posted.status) == (404, 404)
    assert "This link is not valid or has expired." in opened.plain
