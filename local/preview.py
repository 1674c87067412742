"""Every notification template rendered with sample data, for a person to look at.

``make preview`` (``python -m local.preview [folder]``) writes the files to a folder,
``build/preview/`` by default, with an ``index.html``; ``make run`` serves the same pages
at ``/dev/templates``. Per template key: ``<key>.email.html`` (the HTML part as sent),
``<key>.email.txt`` (subject line and plain-text part) and, where it has one,
``<key>.sms.txt``. The ticket notifications are keyed by their folder's name
(``ticket_created``), the account emails under ``account/`` by ``account.<name>``
(``account.password_reset``): a file name has no folders in it.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from html import escape
from pathlib import Path

from chalicelib.notify.links import PublicLinks
from chalicelib.notify.messages import TEMPLATES, MessageContext, RatingLink
from chalicelib.notify.templates import (
    ACCOUNT_TEMPLATES,
    SMS_SEGMENT,
    RenderedEmail,
    duration_text,
    render_account_email,
    render_email,
    render_sms,
)

DEFAULT_FOLDER = Path(__file__).resolve().parent.parent / "build" / "preview"
BASE_URL = "https://help.example.com"
TICKET_NUMBER = 104217
CONTACT_NAME = "Grace Hopper"
# The preview key of an account email: its folder under notifications/, dots for slashes.
ACCOUNT_PREFIX = "account."


@dataclass(frozen=True)
class PreviewFile:
    """One file of the preview: its name, its content and how a browser should read it."""

    name: str
    content: str
    content_type: str


def sample_context(template: str) -> MessageContext:
    """Realistic data for ``template``; staff get the admin page, customers the portal."""
    page = "admin" if template == "customer_replied" else "portal"
    return MessageContext(
        ticket_number=TICKET_NUMBER,
        ticket_subject="Invoice 42 is missing from my account",
        contact_name=CONTACT_NAME,
        ticket_url=f"{BASE_URL}/{page}/tickets/{TICKET_NUMBER}",
        status_label="Resolved" if template == "ticket_closed" else "Waiting on you",
        note_body=(
            "Thanks for your patience.\n\nWe found invoice 42: it was never sent.\n"
            "It is attached to your account now."
            if template != "customer_replied"
            else "Thank you! I can see it now.\nOne more question: can it show my VAT number?"
        ),
        note_author="Sam (Billing)",
        rating_links=tuple(
            RatingLink(label, f"{BASE_URL}/rate/sample-token?rating={value}")
            for value, label in enumerate(("Great", "Good", "Poor"), start=1)
        ),
    )


def sample_account_values(template: str) -> dict[str, str]:
    """What an account email shows, as ``render_account_email`` takes it: the contact's name,
    a link of the real shape (with a stand-in token) and how long such a link works."""
    from chalicelib.domain import account_tokens  # the store models come with it: only here

    purpose = account_tokens.PURPOSES[template]
    return {
        "contact_name": CONTACT_NAME,
        "link": PublicLinks(BASE_URL).account(purpose, "sample-token"),
        "valid_for": duration_text(account_tokens.LIFETIMES[purpose]),
    }


def build() -> list[PreviewFile]:
    """Render every template: each (template, channel) pair of ``TEMPLATES``, then each
    account email of ``ACCOUNT_TEMPLATES``; the index comes first."""
    files: list[PreviewFile] = []
    rows: list[str] = []

    for template, channels in TEMPLATES.items():
        context = sample_context(template)
        email = render_email(template, context)
        files += _email_files(template, email)
        sms = render_sms(template, context) if "sms" in channels else None
        if sms is not None:
            files.append(PreviewFile(f"{template}.sms.txt", sms + "\n", "text/plain; charset=utf-8"))
        rows.append(_row(template, email.subject, sms))

    for template in ACCOUNT_TEMPLATES:
        key = ACCOUNT_PREFIX + template
        email = render_account_email(template, **sample_account_values(template))
        files += _email_files(key, email)
        rows.append(_row(key, email.subject, None))

    return [PreviewFile("index.html", _index(rows), "text/html; charset=utf-8"), *files]


def _email_files(key: str, email: RenderedEmail) -> list[PreviewFile]:
    """The HTML part as sent, and the subject line with the plain-text part."""
    return [
        PreviewFile(f"{key}.email.html", email.html, "text/html; charset=utf-8"),
        PreviewFile(f"{key}.email.txt", f"Subject: {email.subject}\n\n{email.text}", "text/plain"),
    ]


def write(folder: Path) -> list[Path]:
    """Write the preview into ``folder`` (created if needed); the paths written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for file in build():
        path = folder / file.name
        path.write_text(file.content, encoding="utf-8")
        written.append(path)
    return written


def _row(template: str, subject: str, sms: str | None) -> str:
    links = f'<a href="{template}.email.html">HTML</a> · <a href="{template}.email.txt">text</a>'
    if sms is None:
        sms_cell = "<td>(no SMS)</td>"
    else:
        sms_cell = f"<td>{escape(sms)}<br><small>{len(sms)} of {SMS_SEGMENT} characters</small></td>"
    cells = f'<th scope="row">{escape(template)}</th><td>{escape(subject)}</td><td>{links}</td>{sms_cell}'
    return f"<tr>{cells}</tr>"


def _index(rows: list[str]) -> str:
    body = "\n".join(rows)
    return f"""<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Notification templates · Helpdesk (preview)</title></head>
<body>
<h1>Notification templates</h1>
<p>Every template rendered with sample data (ticket {TICKET_NUMBER}; the account emails
carry a stand-in token in their links).</p>
<table>
<thead><tr><th scope="col">Template</th><th scope="col">Subject</th><th scope="col">Email</th>
<th scope="col">SMS</th></tr></thead>
<tbody>
{body}
</tbody>
</table>
</body>
</html>
"""


def main(argv: list[str]) -> int:
    """Write the preview to the folder in ``argv`` (or the default) and say where it is."""
    folder = Path(argv[0]) if argv else DEFAULT_FOLDER
    written = write(folder)
    print(f"{len(written)} files written; open {(folder / 'index.html').resolve()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
