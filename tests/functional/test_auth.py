"""Staff sign-in: tokens and their life, and throttling of failed logins.

The clock is frozen a few seconds into a throttle window (windows are 900 s long and start
at multiples of 900 s since the epoch), so window arithmetic is exact, never timing luck.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from chalice import local as chalice_local

from chalicelib import clock
from chalicelib.domain.staff import create_staff
from tests.functional.conftest import ADMIN_PASSWORD, Api, sign_in

TABLE = "helpdesk-test"
WINDOW_START = datetime(2030, 1, 1, tzinfo=UTC)
WRONG_PASSWORD = "not the right password at all"


class FrozenClock:
    """Stands in for ``chalicelib.clock.now``; moves only when the test says so."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def now(self) -> datetime:
        return self.moment

    def advance(self, **delta: float) -> None:
        self.moment += timedelta(**delta)


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> FrozenClock:
    stopped = FrozenClock(WINDOW_START + timedelta(seconds=10))
    monkeypatch.setattr(clock, "now", stopped.now)
    return stopped


def login(api: Api, email: str, password: str) -> Any:
    return api.post("/api/auth/login", {"email": email, "password": password})


def table_items() -> list[dict[str, Any]]:
    """Every item of the table, read straight from moto."""
    dynamodb = boto3.client("dynamodb")
    items: list[dict[str, Any]] = []
    for page in dynamodb.get_paginator("scan").paginate(TableName=TABLE):
        items.extend(page["Items"])
    return items


# -- signing in ----------------------------------------------------------------------


def test_login_answers_a_token_and_when_it_expires(frozen, admin, anonymous):
    response = login(anonymous, "admin@example.com", ADMIN_PASSWORD)

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.data["token"]
    assert response.data["token"] != admin.token
    assert response.data["expires_at"] == "2030-01-01T08:00:10.000000Z"
    assert response.data["staff"]["email"] == "admin@example.com"
    assert "password_hash" not in response.data["staff"]


def test_the_email_is_matched_whatever_its_case(admin, anonymous):
    response = login(anonymous, "  ADMIN@Example.com ", ADMIN_PASSWORD)

    assert response.status_code == 200


def test_the_token_signs_in_the_staff_member_it_was_issued_to(admin):
    me = admin.get("/api/auth/me")

    assert me.status_code == 200
    assert me.data["email"] == "admin@example.com"
    assert me.data["role"] == "admin"


def test_wrong_password_and_unknown_email_get_the_same_answer(admin, anonymous):
    wrong_password = login(anonymous, "admin@example.com", WRONG_PASSWORD)
    unknown_email = login(anonymous, "nobody@example.com", WRONG_PASSWORD)

    assert wrong_password.status_code == unknown_email.status_code == 401
    assert wrong_password.body == unknown_email.body
    assert wrong_password.data["error"]["code"] == "unauthenticated"
    assert wrong_password.headers["WWW-Authenticate"] == unknown_email.headers["WWW-Authenticate"]


def test_a_password_with_spaces_around_it_works_exactly_as_it_was_set(client, anonymous):
    create_staff("spaces@example.com", "Sam Spaces", "agent", "  padded secret phrase  ")

    assert login(anonymous, "spaces@example.com", "  padded secret phrase  ").status_code == 200
    assert login(anonymous, "spaces@example.com", "padded secret phrase").status_code == 401


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "admin@example.com"}, "password"),
        ({"password": ADMIN_PASSWORD}, "email"),
        ({"email": "admin@example.com", "password": ADMIN_PASSWORD, "remember": True}, "remember"),
        ({"email": ["admin@example.com"], "password": ADMIN_PASSWORD}, "email"),
    ],
)
def test_a_login_body_of_the_wrong_shape_is_refused_by_field(admin, anonymous, body, field):
    response = anonymous.post("/api/auth/login", body)

    assert response.status_code == 422
    assert response.data["error"]["field"] == field


def test_login_takes_no_query_parameters(admin, anonymous):
    response = anonymous.post(
        "/api/auth/login?next=/admin", {"email": "admin@example.com", "password": ADMIN_PASSWORD}
    )

    assert response.status_code == 422
    assert response.data["error"]["field"] == "next"


# -- tokens --------------------------------------------------------------------------


def test_tokens_are_stored_only_as_hashes(admin):
    staff_id, _, secret = admin.token.partition(".")
    everything = json.dumps(table_items())

    assert admin.token not in everything
    assert secret not in everything

    digest = hashlib.sha256(admin.token.encode()).hexdigest()
    stored = boto3.client("dynamodb").get_item(
        TableName=TABLE, Key={"pk": {"S": f"TOKEN#{digest}"}, "sk": {"S": "TOKEN"}}
    )
    assert stored["Item"]["staff_id"]["S"] == staff_id


def test_a_token_works_until_it_expires_and_not_after(frozen, admin):
    frozen.advance(hours=7, minutes=59)
    assert admin.get("/api/auth/me").status_code == 200

    frozen.advance(minutes=1)
    expired = admin.get("/api/auth/me")

    assert expired.status_code == 401
    assert expired.data["error"]["code"] == "unauthenticated"


def test_logout_revokes_that_token_only(client, admin):
    other = sign_in(client, "admin@example.com", ADMIN_PASSWORD)

    assert admin.post("/api/auth/logout").status_code == 204

    assert admin.get("/api/auth/me").status_code == 401
    assert admin.post("/api/auth/logout").status_code == 401
    assert other.get("/api/auth/me").status_code == 200


def test_a_deactivated_staff_members_token_is_refused_and_they_cannot_sign_in(admin, agent, anonymous):
    agent_id = agent.get("/api/auth/me").data["id"]
    version = admin.get(f"/api/staff/{agent_id}").data["version"]

    deactivated = admin.patch(f"/api/staff/{agent_id}", {"active": False, "version": version})

    assert deactivated.status_code == 200
    assert agent.get("/api/auth/me").status_code == 401
    refused = login(anonymous, "agent@example.com", ADMIN_PASSWORD)
    assert refused.status_code == 401
    assert refused.body == login(anonymous, "nobody@example.com", ADMIN_PASSWORD).body


def test_a_token_borrowing_another_staff_id_is_refused(admin, agent):
    agent_id = agent.get("/api/auth/me").data["id"]
    _, _, admin_secret = admin.token.partition(".")

    forged = Api(admin.client, f"{agent_id}.{admin_secret}")

    assert forged.get("/api/auth/me").status_code == 401


@pytest.mark.parametrize(
    "authorization",
    [
        "",
        "Bearer",
        "Bearer ",
        "Basic YWRtaW46cGFzc3dvcmQ=",
        "Token abc.def",
        "Bearer nodot",
        "Bearer .secret-only",
        "Bearer staff-only.",
        "Bearer " + "a" * 100 + "." + "b" * 150,
        "Bearer abc.def",
        "Bearer ünïcode.sécret",
    ],
)
def test_a_malformed_or_unknown_authorization_header_is_a_401(admin, anonymous, authorization):
    response = anonymous.get("/api/auth/me", headers={"Authorization": authorization})

    assert response.status_code == 401
    assert response.data["error"]["code"] == "unauthenticated"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_request_without_a_token_is_a_401(anonymous):
    response = anonymous.get("/api/contacts")

    assert response.status_code == 401


def test_the_token_of_a_valid_header_is_read_whatever_the_scheme_case(admin, anonymous):
    response = anonymous.get("/api/auth/me", headers={"Authorization": f"bearer {admin.token}"})

    assert response.status_code == 200


# -- throttling ----------------------------------------------------------------------


def test_five_failures_throttle_the_account_even_for_the_right_password(frozen, admin, anonymous):
    for _ in range(5):
        assert login(anonymous, "admin@example.com", WRONG_PASSWORD).status_code == 401

    throttled = login(anonymous, "admin@example.com", ADMIN_PASSWORD)

    assert throttled.status_code == 429
    assert throttled.data["error"]["code"] == "throttled"
    assert throttled.headers["Retry-After"] == "890"
    assert "token" not in throttled.data


def test_an_account_throttle_does_not_lock_out_other_accounts(frozen, admin, agent, anonymous):
    for _ in range(5):
        login(anonymous, "admin@example.com", WRONG_PASSWORD)

    assert login(anonymous, "admin@example.com", ADMIN_PASSWORD).status_code == 429
    assert login(anonymous, "agent@example.com", ADMIN_PASSWORD).status_code == 200


def test_an_unknown_account_is_throttled_like_a_known_one(frozen, anonymous):
    for _ in range(5):
        assert login(anonymous, "nobody@example.com", WRONG_PASSWORD).status_code == 401

    assert login(anonymous, "nobody@example.com", WRONG_PASSWORD).status_code == 429


def test_four_failures_then_a_success_start_the_count_again(frozen, admin, anonymous):
    for _ in range(4):
        login(anonymous, "admin@example.com", WRONG_PASSWORD)
    assert login(anonymous, "admin@example.com", ADMIN_PASSWORD).status_code == 200

    for _ in range(4):
        login(anonymous, "admin@example.com", WRONG_PASSWORD)

    assert login(anonymous, "admin@example.com", ADMIN_PASSWORD).status_code == 200


def test_the_account_throttle_lifts_when_its_window_has_passed(frozen, admin, anonymous):
    for _ in range(5):
        login(anonymous, "admin@example.com", WRONG_PASSWORD)
    assert login(anonymous, "admin@example.com", ADMIN_PASSWORD).status_code == 429

    frozen.advance(seconds=890)

    assert login(anonymous, "admin@example.com", ADMIN_PASSWORD).status_code == 200


def test_many_accounts_failing_from_one_address_throttle_that_address(frozen, admin, anonymous, monkeypatch):
    # GIVEN twenty failures from one address, spread so that no account reaches its own limit
    for account in range(5):
        for _ in range(4):
            assert login(anonymous, f"guess{account}@example.com", WRONG_PASSWORD).status_code == 401

    # WHEN a correct login comes from that address
    throttled = login(anonymous, "admin@example.com", ADMIN_PASSWORD)

    # THEN it is throttled, while the same login from another address is not
    assert throttled.status_code == 429
    assert throttled.headers["Retry-After"] == "890"
    monkeypatch.setattr(chalice_local.LambdaEventConverter, "LOCAL_SOURCE_IP", "198.51.100.7")
    assert login(anonymous, "admin@example.com", ADMIN_PASSWORD).status_code == 200


def test_the_address_throttle_lifts_when_its_window_has_passed(frozen, admin, anonymous):
    for account in range(5):
        for _ in range(4):
            login(anonymous, f"guess{account}@example.com", WRONG_PASSWORD)
    assert login(anonymous, "admin@example.com", ADMIN_PASSWORD).status_code == 429

    frozen.advance(seconds=900)

    assert login(anonymous, "admin@example.com", ADMIN_PASSWORD).status_code == 200


def test_throttle_counters_hold_no_email_or_address_in_clear(frozen, admin, anonymous):
    login(anonymous, "admin@example.com", WRONG_PASSWORD)

    throttles = json.dumps([item for item in table_items() if item["pk"]["S"].startswith("THROTTLE#")])

    assert throttles.count("THROTTLE#") == 2  # one counter per account, one per address
    assert "admin@example.com" not in throttles
    assert "127.0.0.1" not in throttles


# -- sessions end with the credentials they were issued for ---------------------------


def test_a_password_change_ends_every_session_issued_before_it(client, admin, agent, anonymous):
    agent_id = agent.get("/api/auth/me").data["id"]
    version = admin.get(f"/api/staff/{agent_id}").data["version"]

    changed = admin.patch(
        f"/api/staff/{agent_id}", {"password": "a brand new long passphrase", "version": version}
    )

    assert changed.status_code == 200, changed.body
    assert agent.get("/api/auth/me").status_code == 401
    renewed = sign_in(client, "agent@example.com", "a brand new long passphrase")
    assert renewed.get("/api/auth/me").status_code == 200


def test_reactivating_a_member_does_not_bring_back_their_old_tokens(client, admin, agent):
    agent_id = agent.get("/api/auth/me").data["id"]
    version = admin.get(f"/api/staff/{agent_id}").data["version"]
    off = admin.patch(f"/api/staff/{agent_id}", {"active": False, "version": version})

    back = admin.patch(f"/api/staff/{agent_id}", {"active": True, "version": off.data["version"]})

    assert back.status_code == 200, back.body
    assert agent.get("/api/auth/me").status_code == 401
    assert sign_in(client, "agent@example.com", ADMIN_PASSWORD).get("/api/auth/me").status_code == 200


def test_a_rehash_at_login_does_not_change_the_members_version(client, admin, monkeypatch):
    from chalicelib.domain import passwords

    before = admin.get("/api/auth/me").data["version"]
    monkeypatch.setattr(passwords, "needs_rehash", lambda stored: True)

    sign_in(client, "admin@example.com", ADMIN_PASSWORD)

    assert admin.get("/api/auth/me").data["version"] == before
    # The new hash is stored and still verifies.
    assert sign_in(client, "admin@example.com", ADMIN_PASSWORD).token


def test_guesses_in_flight_together_cannot_exceed_the_account_allowance(frozen, admin, monkeypatch):
    # moto has no per-item locking, so threads cannot prove DynamoDB's atomic conditional
    # ADD here; instead each guess starts the next while its own password is being judged,
    # the interleaving a check-then-count design would let through.
    from chalicelib.domain import passwords, staff
    from chalicelib.errors import NotAuthenticated, Throttled

    outcomes: list[str] = []
    real_verify = passwords.verify_password

    def guess(attempt: int) -> None:
        try:
            staff.login({"email": "admin@example.com", "password": WRONG_PASSWORD}, f"10.0.0.{attempt}")
        except NotAuthenticated:
            outcomes.append("judged")
        except Throttled:
            outcomes.append("throttled")

    def verify_while_the_next_guess_arrives(stored_hash, password):
        if len(outcomes) + in_flight[0] < 12:
            in_flight[0] += 1
            guess(in_flight[0])
        return real_verify(stored_hash, password)

    in_flight = [0]
    monkeypatch.setattr(passwords, "verify_password", verify_while_the_next_guess_arrives)

    guess(0)

    assert outcomes.count("throttled") >= 1
    assert outcomes.count("judged") == 5
