"""Input at the edges of HTTP and JSON: always a 4xx in the API's own error shape."""

from __future__ import annotations

from typing import Any

import pytest

from tests.functional.conftest import Api


def error_of(response: Any) -> dict[str, Any]:
    assert response.data is not None, response.body
    error: dict[str, Any] = response.data["error"]
    return error


@pytest.mark.parametrize("limit", ["%C2%B2", "%D9%A1%D9%A2", "1e2", "-1", "0", "101", ""])
def test_a_limit_that_is_not_a_plain_number_is_refused_by_name(admin: Api, limit: str) -> None:
    for path in ("/api/tickets", "/api/contacts", "/api/staff"):
        response = admin.get(f"{path}?limit={limit}")

        assert response.status_code == 422, (path, limit, response.body)
        assert error_of(response)["field"] == "limit"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/contacts", '{"name": "\\ud800", "email": "lone@example.com"}'),
        ("/api/auth/login", '{"email": "\\ud800@example.com", "password": "whatever it is"}'),
        ("/api/auth/login", '{"email": "a@example.com", "password": "\\udfff\\udfff\\udfff\\udfff"}'),
    ],
)
def test_a_lone_surrogate_in_json_is_a_malformed_body(admin: Api, path: str, body: str) -> None:
    response = admin.post(path, body)

    assert response.status_code == 400
    assert error_of(response)["code"] == "malformed"


def test_json_nested_too_deep_to_parse_is_a_malformed_body_even_before_sign_in(anonymous: Api) -> None:
    deep = "[" * 50_000

    for path in ("/api/auth/login", "/api/tickets"):
        response = anonymous.post(path, deep)
        assert response.status_code in (400, 401), response.body
        assert "error" in response.data


def test_chalices_own_errors_answer_in_the_api_error_shape(admin: Api) -> None:
    unsupported = admin.client.http.post(
        "/api/tickets",
        headers={"Content-Type": "text/plain", "Authorization": f"Bearer {admin.token}"},
        body="hello",
    )
    not_allowed = admin.call("PUT", "/api/tickets", {})

    assert unsupported.status_code == 415
    assert b'"code":"unsupported_media_type"' in unsupported.body
    assert not_allowed.status_code == 405
    assert error_of(not_allowed)["code"] == "method_not_allowed"


def test_an_unexpected_failure_is_a_500_that_shows_no_trace(
    admin: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.domain import ledger

    def explode(contact_id: str) -> None:
        raise RuntimeError("secret internals /var/task/chalicelib")

    monkeypatch.setattr(ledger, "statement", explode)

    response = admin.get("/api/contacts/abc/statement")

    assert response.status_code == 500
    assert error_of(response)["code"] == "internal_server"
    assert b"secret internals" not in response.body
    assert b"Traceback" not in response.body
