"""The shared Jinja2 environment and HTML responses."""

from __future__ import annotations

import jinja2
import pytest

from chalicelib import rendering


def test_the_environment_is_built_once_and_reused() -> None:
    assert rendering.environment() is rendering.environment()


def test_templates_come_from_the_top_level_templates_folder() -> None:
    assert rendering.TEMPLATES.name == "templates"
    assert (rendering.TEMPLATES.parent / "app.py").is_file()
    assert (rendering.TEMPLATES / "layout.html").is_file()


def test_a_missing_variable_is_an_error_not_an_empty_string() -> None:
    with pytest.raises(jinja2.UndefinedError):
        rendering.render("dev/outbox.html")


def test_values_are_html_escaped() -> None:
    page = rendering.render("dev/outbox.html", messages=[_message(subject='"><img src=x onerror=alert(1)>')])

    assert "<img" not in page
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in page


def test_the_layout_has_a_doctype_language_and_viewport() -> None:
    page = rendering.render("dev/outbox.html", messages=[])

    assert page.startswith("<!doctype html>")
    assert '<html lang="en">' in page
    assert 'name="viewport"' in page
    assert "<script" not in page
    assert "style=" not in page


def test_html_responses_carry_the_security_headers() -> None:
    response = rendering.html_response("<p>hi</p>", 404, {"Cache-Control": "private, max-age=60"})

    assert response.status_code == 404
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cache-Control"] == "private, max-age=60"


def _message(subject: str) -> dict[str, object]:
    return {
        "channel": "email",
        "to": "cleo@example.com",
        "subject": subject,
        "body": "body",
        "sent_at_iso": "2030-01-01T00:00:00.000000Z",
        "sent_at_text": "2030-01-01 00:00:00",
    }


@pytest.mark.parametrize(
    ("message", "shown"),
    [
        ("The field 'name' is required.", "This field is required."),
        ("'name': must not be empty.", "This field must not be empty."),
        ("'email': is not a valid email address.", "This is not a valid email address."),
        ("Email or password is wrong.", "Email or password is wrong."),
    ],
)
def test_a_field_error_reads_without_the_fields_api_name(message: str, shown: str) -> None:
    from chalicelib.rendering import field_message

    assert field_message(message) == shown
