"""Notification templates: every message renders, escapes what it must and nothing more,
keeps headers to one line and SMS short, and refuses what it has no template for."""

from __future__ import annotations

import email
import email.policy
import subprocess
import sys
from dataclasses import replace
from email.message import EmailMessage
from html.parser import HTMLParser
from pathlib import Path

import jinja2
import pytest

from chalicelib.notify import templates
from chalicelib.notify.messages import TEMPLATES, MessageContext, RatingLink
from chalicelib.notify.templates import MAX_SUBJECT, SMS_SEGMENT, render_email, render_sms
from local import preview

PAIRS = [(template, channel) for template, channels in TEMPLATES.items() for channel in channels]
EMAIL_TEMPLATES = [template for template, channels in TEMPLATES.items() if "email" in channels]
SMS_TEMPLATES = [template for template, channels in TEMPLATES.items() if "sms" in channels]
PORTAL_URL = "https://help.example.com/portal/tickets/123456"
ADMIN_URL = "https://help.example.com/admin/tickets/123456"
SCRIPT = "<script>alert(1)</script>"


def context(**changes: object) -> MessageContext:
    """Typical data: a 6-digit ticket number and a link of realistic length."""
    base = MessageContext(
        ticket_number=123456,
        ticket_subject="Invoice 42 is missing",
        contact_name="Grace Hopper",
        ticket_url=PORTAL_URL,
        status_label="Waiting on you",
        note_body="We found it.\n\nIt is attached now.",
        note_author="Sam",
        rating_links=(
            RatingLink("Great", "https://help.example.com/rate/t0k3n?rating=1"),
            RatingLink("Poor", "https://help.example.com/rate/t0k3n?rating=2"),
        ),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def rendered(template: str, channel: str, ctx: MessageContext) -> str:
    """Everything the recipient of ``channel`` sees, as one string."""
    if channel == "sms":
        return render_sms(template, ctx)
    message = render_email(template, ctx)
    return "\n".join([message.subject, message.text, message.html])


class _Links(HTMLParser):
    """Collects every attribute that can point somewhere, and every tag name."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.targets: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.targets += [(name, value or "") for name, value in attrs if name in {"href", "src", "action"}]


# -- every template --------------------------------------------------------------------


def test_every_template_key_has_exactly_the_files_its_channels_need() -> None:
    folder = templates.NOTIFICATIONS
    folders = {path.name for path in folder.iterdir() if path.is_dir()}

    assert folders == {*TEMPLATES, "account"}
    for template, channels in TEMPLATES.items():
        expected = {"subject.txt", "email.txt", "email.html"} | ({"sms.txt"} if "sms" in channels else set())
        assert {path.name for path in (folder / template).iterdir()} == expected
    account = folder / "account"
    assert {path.name for path in account.iterdir()} == set(templates.ACCOUNT_TEMPLATES)
    for template in templates.ACCOUNT_TEMPLATES:
        assert {path.name for path in (account / template).iterdir()} == {
            "subject.txt",
            "email.txt",
            "email.html",
        }


@pytest.mark.parametrize("template", templates.ACCOUNT_TEMPLATES)
def test_every_account_email_shows_the_name_and_its_link_and_escapes_the_html(template: str) -> None:
    link = "https://help.example.com/portal/invite/abc.invite.123.def"

    email = templates.render_account_email(
        template, contact_name="Ann <b>O'Neil</b>", link=link, valid_for="7 days"
    )

    assert "\n" not in email.subject
    assert link in email.text
    assert f'href="{link}"' in email.html
    assert "Ann <b>O'Neil</b>" in email.text
    assert "Ann &lt;b&gt;O&#39;Neil&lt;/b&gt;" in email.html
    assert "<b>" not in email.html


@pytest.mark.parametrize("link", ["javascript:alert(1)", "https://x.example/a b", "/relative"])
def test_an_account_email_refuses_a_link_that_is_not_absolute_http(link: str) -> None:
    with pytest.raises(ValueError, match="absolute"):
        templates.render_account_email("password_reset", contact_name="Ann", link=link, valid_for="1 hour")


def test_an_unknown_account_email_is_refused() -> None:
    with pytest.raises(ValueError, match="no account email"):
        templates.render_account_email(
            "welcome", contact_name="Ann", link="https://x.example/", valid_for="1 hour"
        )


@pytest.mark.parametrize(("template", "channel"), PAIRS)
def test_every_template_and_channel_shows_the_ticket_number_and_its_link(template: str, channel: str) -> None:
    text = rendered(template, channel, context())

    assert "123456" in text
    assert PORTAL_URL in text


@pytest.mark.parametrize("template", EMAIL_TEMPLATES)
def test_every_email_has_a_one_line_subject_with_the_number_and_a_text_and_html_part(template: str) -> None:
    message = render_email(template, context())

    assert message.subject.startswith("[Ticket 123456]")
    assert "\n" not in message.subject
    assert message.text.endswith("\n")
    assert PORTAL_URL in message.text
    assert message.html.startswith("<!doctype html>")
    assert f'<a href="{PORTAL_URL}">' in message.html


@pytest.mark.parametrize("template", EMAIL_TEMPLATES)
def test_email_html_loads_nothing_from_anywhere_and_carries_no_script_or_style(template: str) -> None:
    message = render_email(template, context())
    parser = _Links()
    parser.feed(message.html)

    allowed = {PORTAL_URL, *(link.url for link in context().rating_links)}
    assert parser.targets, "the email should link to the ticket"
    assert all(name == "href" and value in allowed for name, value in parser.targets)
    assert not parser.tags & {"script", "style", "link", "img", "iframe", "object", "form", "base"}
    assert "style=" not in message.html


# -- what each template says ----------------------------------------------------------


def test_ticket_created_confirms_the_subject_to_the_contact() -> None:
    message = render_email("ticket_created", context())

    assert "Hello Grace Hopper" in message.text
    assert "Invoice 42 is missing" in message.text
    assert "Invoice 42 is missing" in message.html


def test_a_public_reply_shows_the_note_its_author_and_keeps_its_paragraphs() -> None:
    message = render_email("public_reply", context(note_body="Line one\nline two\n\nNew paragraph"))

    assert "Sam replied to ticket 123456" in message.text
    assert "Line one\nline two\n\nNew paragraph" in message.text
    assert "<p>Line one<br>\nline two</p>" in message.html
    assert "<p>New paragraph</p>" in message.html


def test_a_public_reply_without_an_author_is_signed_by_the_team() -> None:
    message = render_email("public_reply", context(note_author=None))

    assert "Our team replied" in message.text
    assert "None" not in message.text + message.html


def test_a_status_change_shows_the_customer_label() -> None:
    message = render_email("status_changed", context(status_label="Waiting on you"))

    assert "is now: Waiting on you." in message.text
    assert "<strong>Waiting on you</strong>" in message.html
    assert "Waiting on you" in render_sms("status_changed", context())


def test_a_closed_ticket_shows_the_close_notice_and_one_link_per_rating_option() -> None:
    links = tuple(
        RatingLink(label, f"https://help.example.com/rate/t?rating={n}") for n, label in enumerate("ABC")
    )
    message = render_email("ticket_closed", context(status_label="Resolved", rating_links=links))

    assert "We closed ticket 123456" in message.text
    assert "as: Resolved" in message.text
    for link in links:
        assert f"- {link.label}: {link.url}" in message.text
        assert message.html.count(f'<a href="{link.url}">{link.label}</a>') == 1


def test_a_closed_ticket_without_rating_options_asks_for_no_rating() -> None:
    message = render_email("ticket_closed", context(rating_links=()))

    assert "How did we do" not in message.text
    assert "How did we do" not in message.html
    assert "We closed ticket 123456" in message.text


def test_a_customer_reply_goes_to_staff_with_the_reply_and_the_admin_page() -> None:
    message = render_email(
        "customer_replied", context(ticket_url=ADMIN_URL, note_body="Still broken, sorry.")
    )

    assert "Grace Hopper replied: Invoice 42 is missing" in message.subject
    assert "Still broken, sorry." in message.text
    assert "Still broken, sorry." in message.html
    assert ADMIN_URL in message.text
    assert f'<a href="{ADMIN_URL}">' in message.html
    assert "Hello Grace Hopper" not in message.text


# -- escaping and headers -------------------------------------------------------------


@pytest.mark.parametrize("template", EMAIL_TEMPLATES)
def test_html_escapes_markup_from_subject_note_and_name_while_text_keeps_it_literal(template: str) -> None:
    ctx = context(ticket_subject=f"S{SCRIPT}", contact_name=f"N{SCRIPT}", note_body=f"B{SCRIPT}")
    message = render_email(template, ctx)

    assert "<script" not in message.html
    assert "S&lt;script&gt;alert(1)&lt;/script&gt;" in message.html
    assert "N&lt;script&gt;alert(1)&lt;/script&gt;" in message.html
    assert f"S{SCRIPT}" in message.text
    assert f"N{SCRIPT}" in message.text + message.subject
    assert "&lt;" not in message.text + message.subject
    if template in {"public_reply", "customer_replied"}:
        assert "B&lt;script&gt;alert(1)&lt;/script&gt;" in message.html
        assert f"B{SCRIPT}" in message.text


@pytest.mark.parametrize("template", EMAIL_TEMPLATES)
def test_a_subject_with_line_breaks_and_bcc_adds_no_header(template: str) -> None:
    # GIVEN a ticket subject that tries to end the Subject header and start a Bcc header
    ctx = context(
        ticket_subject="Help\r\nBcc: x@example.com\r\n\r\nbody", contact_name="Eve\nBcc: y@example.com"
    )

    # WHEN the email is rendered and put into a real message, then parsed back
    subject = render_email(template, ctx).subject
    outgoing = EmailMessage()
    outgoing["From"] = "help@example.com"
    outgoing["To"] = "grace@example.com"
    outgoing["Subject"] = subject
    outgoing.set_content("body")
    parsed = email.message_from_bytes(outgoing.as_bytes(policy=email.policy.SMTP), policy=email.policy.SMTP)

    # THEN the subject is one line holding the text, and no Bcc header exists
    assert "\r" not in subject
    assert "\n" not in subject
    assert "Bcc: x@example.com" in subject
    assert parsed["Bcc"] is None
    headers = sorted(parsed.keys())
    assert headers == ["Content-Transfer-Encoding", "Content-Type", "From", "MIME-Version", "Subject", "To"]
    # A long subject is folded onto continuation lines; unfolded, it is the same text.
    assert str(parsed["Subject"]).strip() == subject


def test_header_values_lose_control_format_and_separator_characters() -> None:
    value = "a\x00b\tc\u2028d\u2029e\x85f\u202eg\x1bh"

    assert templates.header_value(value, 100) == "a b c d e f g h"


def test_a_long_subject_is_capped_and_keeps_the_ticket_number() -> None:
    message = render_email("ticket_created", context(ticket_subject="word " * 200))

    assert len(message.subject) == MAX_SUBJECT
    assert message.subject.startswith("[Ticket 123456]")
    assert message.subject.endswith("…")


# -- SMS --------------------------------------------------------------------------------


@pytest.mark.parametrize("template", SMS_TEMPLATES)
def test_an_sms_with_typical_data_fits_one_segment(template: str) -> None:
    text = render_sms(template, context())

    assert len(text) <= SMS_SEGMENT
    assert "123456" in text
    assert text.endswith(PORTAL_URL)


def test_an_sms_stays_one_segment_and_one_line_with_a_long_status_label() -> None:
    text = render_sms("status_changed", context(status_label="Waiting\non " + "a very long label " * 20))

    assert len(text) <= SMS_SEGMENT
    assert "\n" not in text
    assert text.endswith(PORTAL_URL)


def test_an_sms_never_shows_the_note_body() -> None:
    for template in SMS_TEMPLATES:
        assert "attached now" not in render_sms(template, context())


# -- refusals -------------------------------------------------------------------------


@pytest.mark.parametrize("template", ["ticket_closed", "customer_replied", "no_such_template", "../x"])
def test_an_sms_the_template_does_not_list_is_refused(template: str) -> None:
    with pytest.raises(ValueError, match=f"no sms template named {template!r}"):
        render_sms(template, context())


@pytest.mark.parametrize("template", ["no_such_template", "../layout", "ticket_created/../public_reply", ""])
def test_an_email_for_an_unknown_template_is_refused(template: str) -> None:
    with pytest.raises(ValueError, match="no email template named"):
        render_email(template, context())


@pytest.mark.parametrize(
    ("template", "changes", "field"),
    [
        ("public_reply", {"note_body": None}, "note_body"),
        ("customer_replied", {"note_body": ""}, "note_body"),
        ("status_changed", {"status_label": None}, "status_label"),
    ],
)
def test_a_template_missing_what_it_shows_is_refused(
    template: str, changes: dict[str, object], field: str
) -> None:
    with pytest.raises(ValueError, match=field):
        render_email(template, context(**changes))


@pytest.mark.parametrize(
    "changes",
    [
        {"ticket_url": "javascript:alert(1)"},
        {"ticket_url": "/portal/tickets/1"},
        {"ticket_url": "https://help.example.com/t/1\r\nBcc: x@example.com"},
        {"rating_links": (RatingLink("Great", 'https://x.example/"onmouseover="alert(1)'),)},
    ],
)
def test_a_link_that_is_not_an_absolute_http_url_is_refused(changes: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="is not an absolute http"):
        render_email("ticket_closed", context(**changes))


# -- the environment ------------------------------------------------------------------


def test_the_environment_is_built_once_and_a_missing_variable_is_an_error() -> None:
    assert templates.environment() is templates.environment()
    with pytest.raises(jinja2.UndefinedError):
        templates.environment().from_string("{{ nope }}").render()


def test_importing_the_templates_module_does_not_import_jinja2() -> None:
    code = "import sys, chalicelib.notify.templates; print('jinja2' in sys.modules)"
    result = subprocess.run(  # noqa: S603 - fixed argument list, no shell
        [sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[2], capture_output=True, text=True
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


# -- the preview ----------------------------------------------------------------------


# What each template file becomes in the preview: the subject and the plain text share a file.
PREVIEW_OF_FILE = {
    "subject.txt": "email.txt",
    "email.txt": "email.txt",
    "email.html": "email.html",
    "sms.txt": "sms.txt",
}


def preview_names_on_disk() -> dict[str, set[str]]:
    """Every template under ``templates/notifications``, read from the files themselves:
    preview key -> the preview files its files call for. Files directly in the folder
    (``layout.html``, ``macros.html``) are shared parts, not templates; a template in a
    subfolder (``account/password_reset``) is keyed with a dot (``account.password_reset``)."""
    expected: dict[str, set[str]] = {}
    for path in sorted(templates.NOTIFICATIONS.rglob("*")):
        if not path.is_file() or path.parent == templates.NOTIFICATIONS:
            continue
        key = path.parent.relative_to(templates.NOTIFICATIONS).as_posix().replace("/", ".")
        assert path.name in PREVIEW_OF_FILE, f"the preview shows no file like {path}"
        expected.setdefault(key, set()).add(f"{key}.{PREVIEW_OF_FILE[path.name]}")
    return expected


def rendered_for_preview(key: str) -> templates.RenderedEmail:
    """The email of preview ``key`` as its renderer makes it from the preview's sample data."""
    if key.startswith(preview.ACCOUNT_PREFIX):
        template = key.removeprefix(preview.ACCOUNT_PREFIX)
        return templates.render_account_email(template, **preview.sample_account_values(template))
    return render_email(key, preview.sample_context(key))


def test_the_preview_renders_every_template_on_disk_and_indexes_each(tmp_path: Path) -> None:
    # GIVEN every template file under templates/notifications
    expected = preview_names_on_disk()
    assert {"ticket_created", "account.password_reset"} <= set(expected)

    # WHEN the preview is written
    written = {path.name for path in preview.write(tmp_path)}

    # THEN it holds exactly one preview file per template file kind, and an index
    assert written == {"index.html"}.union(*expected.values())
    index = (tmp_path / "index.html").read_text()
    for key in expected:
        email = rendered_for_preview(key)
        # Each file is that template's own rendering, not another's.
        assert (tmp_path / f"{key}.email.html").read_text() == email.html
        assert (tmp_path / f"{key}.email.txt").read_text() == f"Subject: {email.subject}\n\n{email.text}"
        assert f'href="{key}.email.html"' in index
        assert f'href="{key}.email.txt"' in index
    for template, channels in TEMPLATES.items():
        assert str(preview.TICKET_NUMBER) in (tmp_path / f"{template}.email.html").read_text()
        if "sms" in channels:
            sms = (tmp_path / f"{template}.sms.txt").read_text()
            assert sms == render_sms(template, preview.sample_context(template)) + "\n"
    for template in templates.ACCOUNT_TEMPLATES:
        link = preview.sample_account_values(template)["link"]
        assert f'href="{link}"' in (tmp_path / f"account.{template}.email.html").read_text()


def test_the_preview_command_says_where_the_index_is(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert preview.main([str(tmp_path / "out")]) == 0

    assert str((tmp_path / "out" / "index.html").resolve()) in capsys.readouterr().out
    assert (tmp_path / "out" / "index.html").is_file()


def test_the_local_dev_route_serves_the_same_preview_files() -> None:
    from chalice import Chalice
    from chalice.test import Client

    from local.dev_routes import create_blueprint
    from local.outbox import Outbox

    app = Chalice("preview-test")
    app.register_blueprint(create_blueprint(Outbox("123456789012", "us-east-1")))

    expected = {"index.html"}.union(*preview_names_on_disk().values())
    files = {file.name: file for file in preview.build()}

    with Client(app) as client:
        start = client.http.get("/dev/templates")
        index = client.http.get("/dev/templates/index.html")
        sms = client.http.get("/dev/templates/ticket_created.sms.txt")
        missing = client.http.get("/dev/templates/secrets.txt")
        served = {name: client.http.get(f"/dev/templates/{name}") for name in sorted(expected)}

    assert start.status_code == 302
    assert start.headers["Location"] == "/dev/templates/index.html"
    assert index.status_code == 200
    assert index.headers["Content-Type"] == "text/html; charset=utf-8"
    assert 'href="ticket_closed.email.html"' in index.body.decode()
    assert sms.headers["Content-Type"].startswith("text/plain")
    assert sms.body.decode() == render_sms("ticket_created", preview.sample_context("ticket_created")) + "\n"
    assert missing.status_code == 404
    # Every template on disk, account emails included, is served as the preview renders it.
    assert 'href="account.password_reset.email.html"' in index.body.decode()
    for name, response in served.items():
        assert response.status_code == 200, name
        assert response.headers["Content-Type"] == files[name].content_type
        assert response.body.decode() == files[name].content, name
