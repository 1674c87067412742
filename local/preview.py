"""Every notification template rendered with sample data, for a person to look at.

``make preview`` (``python -m local.preview [folder]``) writes the files to a folder,
``build/preview/`` by default, with an ``index.html``; ``make run`` serves the same pages
at ``/dev/templates``. Per template key: ``<key>.email.html`` (the HTML part as sent),
``<key>.email.txt`` (subject line and plain-text part) and, where it has one,
``<key>.sms.txt``.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from html import escape
from pathlib import Path

from chalicelib.notify.messages import TEMPLATES, MessageContext, RatingLink
from chalicelib.notify.templates import SMS_SEGMENT, render_email, render_sms

DEFAULT_FOLDER = Path(__file__).resolve().parent.parent / "build" / "preview"
BASE_URL = "https://help.example.com"
TICKET_NUMBER = 104217


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
        contact_name="Grace Hopper",
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


def build() -> list[PreviewFile]:
    """Render every (template, channel) pair of ``TEMPLATES``; the index comes first."""
    files: list[PreviewFile] = []
    rows: list[str] = []

    for template, channels in TEMPLATES.items():
        context = sample_context(template)
        email = render_email(template, context)
        files.append(PreviewFile(f"{template}.email.html", email.html, "text/html; charset=utf-8"))
        files.append(
            PreviewFile(f"{template}.email.txt", f"Subject: {email.subject}\n\n{email.text}", "text/plain")
        )
        sms = render_sms(template, context) if "sms" in channels else None
        if sms is not None:
            files.append(PreviewFile(f"{template}.sms.txt", sms + "\n", "text/plain; charset=utf-8"))
        rows.append(_row(template, email.subject, sms))

    return [PreviewFile("index.html", _index(rows), "text/html; charset=utf-8"), *files]


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
<p>Every template rendered with sample data (ticket {TICKET_NUMBER}).</p>
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
