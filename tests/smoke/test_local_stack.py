"""Smoke tier: `python -m local` in its own process, driven over real HTTP.

Waits are bounded (the test fails rather than hangs). One wall-time bound is the
requirement itself: in `make run` a change reaches the local outbox within 2 seconds
(``OUTBOX_LATENCY``); nothing else asserts how long a step took.

One stack, started once for the module (the ``desk`` fixture), serves the tests that walk
through the helpdesk; the tests of stopping and of a refused start run stacks of their own.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urljoin

import pytest

PROJECT_DIR = Path(__file__).resolve().parents[2]
START_TIMEOUT = 120
EVENT_TIMEOUT = 30
STOP_TIMEOUT = 30
ADMIN_EMAIL = "smoke-admin@example.com"
ADMIN_PASSWORD = "smoke test password 0123"
# The bound: in `make run`, a change shows in the outbox within 2 seconds.
OUTBOX_LATENCY = 2.0
OUTBOX_POLL = 0.1
WALT_EMAIL = "walt@example.com"
WALT_PHONE = "+14155552671"
PUBLIC_TEXT = "A new shade ships today by courier."
PRIVATE_TEXT = "Courier claim CLM-4471 is internal only."


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class LocalStackProcess:
    """The runner as a child process; every output line is kept for the test to search."""

    def __init__(self, port: int, extra_env: dict[str, str] | None = None) -> None:
        env = {
            name: value
            for name, value in os.environ.items()
            if not name.startswith(("AWS_", "HELPDESK_", "POWERTOOLS_"))
        }
        env.update(
            {
                "PORT": str(port),
                "HELPDESK_ADMIN_EMAIL": ADMIN_EMAIL,
                "HELPDESK_ADMIN_PASSWORD": ADMIN_PASSWORD,
                "POWERTOOLS_LOG_LEVEL": "INFO",
                "PYTHONUNBUFFERED": "1",
                **(extra_env or {}),
            }
        )
        self.base = f"http://127.0.0.1:{port}"
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "local"],
            cwd=PROJECT_DIR,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    def wait_for(self, matches: Callable[[str], bool], timeout: float) -> str:
        """The first output line that ``matches``; fails after ``timeout`` seconds or on exit."""
        # One deadline for the whole wait: a stack that keeps logging cannot hold it open.
        deadline = time.monotonic() + timeout
        with self._changed:
            seen = 0
            while True:
                for line in self.lines[seen:]:
                    if matches(line):
                        return line
                seen = len(self.lines)
                if not self._reader.is_alive():
                    pytest.fail("the local stack exited early:\n" + self.output())
                left = deadline - time.monotonic()
                if left <= 0 or not self._changed.wait(left):
                    pytest.fail("timed out waiting for output; so far:\n" + self.output())

    def output(self) -> str:
        return "\n".join(self.lines[-60:])

    def stop(self, signum: int = signal.SIGINT) -> int:
        self.process.send_signal(signum)
        code = self.process.wait(STOP_TIMEOUT)
        self._reader.join(STOP_TIMEOUT)
        return code

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(STOP_TIMEOUT)


@pytest.fixture
def start_stack() -> Iterator[Callable[..., LocalStackProcess]]:
    started: list[LocalStackProcess] = []

    def start(**extra_env: str) -> LocalStackProcess:
        stack = LocalStackProcess(free_port(), extra_env)
        started.append(stack)
        return stack

    yield start
    for stack in started:
        stack.kill()


def call(
    method: str, url: str, body: Any = None, token: str | None = None
) -> tuple[int, dict[str, str], Any]:
    # Only ever the stack's own http://127.0.0.1 address.
    request = urllib.request.Request(url, method=method)  # noqa: S310
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, data, timeout=30) as response:  # noqa: S310
            return response.status, dict(response.headers), json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read() or b"null")


def log_event(line: str) -> dict[str, Any] | None:
    if not line.startswith("{"):
        return None
    try:
        parsed = json.loads(line)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def is_ticket_event(name: str, number: int) -> Callable[[str], bool]:
    def matches(line: str) -> bool:
        event = log_event(line)
        return bool(
            event
            and event.get("message") == "ticket event"
            and event.get("event") == name
            and event.get("ticket_number") == number
        )

    return matches


def fetch(method: str, url: str, form: dict[str, str] | None = None) -> tuple[int, str]:
    """A page as a browser gets it: status and HTML; ``form`` is sent URL-encoded."""
    # Only ever the stack's own http://127.0.0.1 address.
    request = urllib.request.Request(url, method=method)  # noqa: S310
    data = None
    if form is not None:
        data = urlencode(form).encode()
        request.add_header("Content-Type", "application/x-www-form-urlencoded")
    try:
        with urllib.request.urlopen(request, data, timeout=30) as response:  # noqa: S310
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


class PageForm(HTMLParser):
    """The one form of a page, as a browser sends it: hidden fields (a CSRF token, were the
    form to carry one), checked radio buttons and text areas with their text."""

    def __init__(self) -> None:
        super().__init__()
        self.forms = 0
        self.action = ""
        self.method = ""
        self.hidden: dict[str, str] = {}
        self.checked: dict[str, str] = {}
        self.texts: dict[str, str] = {}
        self._textarea: str | None = None

    @classmethod
    def read(cls, page: str) -> PageForm:
        form = cls()
        form.feed(page)
        assert form.forms == 1, page
        return form

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.forms += 1
            self.action, self.method = named.get("action", ""), named.get("method", "get").lower()
        elif tag == "input" and named.get("type") == "hidden":
            self.hidden[named["name"]] = named.get("value", "")
        elif tag == "input" and named.get("type") == "radio" and "checked" in named:
            self.checked[named["name"]] = named.get("value", "")
        elif tag == "textarea":
            self._textarea = named["name"]
            self.texts[self._textarea] = ""

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self.texts[self._textarea] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self._textarea = None

    def values(self) -> dict[str, str]:
        return {**self.hidden, **self.checked, **self.texts}


@dataclass
class SmokeDesk:
    """The module's running stack with its admin signed in, and a contact whose tickets mark
    how far the stream handler has got."""

    stack: LocalStackProcess
    token: str
    statuses: dict[str, str] = field(default_factory=dict)
    marker_contact: str = ""

    def api(self, method: str, path: str, body: Any = None, expect: int = 200) -> Any:
        status, _, data = call(method, f"{self.stack.base}{path}", body, self.token)
        assert status == expect, (method, path, data)
        return data

    def version(self, number: int) -> int:
        return int(self.api("GET", f"/api/tickets/{number}")["version"])

    def outbox(self) -> list[dict[str, Any]]:
        """Every message the local SES and SNS took so far, oldest first."""
        status, headers, outbox = call("GET", f"{self.stack.base}/dev/outbox.json")
        assert status == 200
        assert headers["Content-Type"] == "application/json"
        return list(reversed(outbox["items"]))

    def email_within(self, limit: float, started: float, to: str, subject_start: str) -> None:
        """Fails unless one email to ``to`` with a subject starting so is in the outbox at
        most ``limit`` seconds after ``started`` (a ``time.monotonic`` reading); looks every
        ``OUTBOX_POLL`` seconds."""
        while True:
            found = [
                item
                for item in self.outbox()
                if item["to"] == to
                and item["channel"] == "email"
                and item["subject"].startswith(subject_start)
            ]
            # Measured once the outbox has answered: the message was there by then at the
            # latest, so the time is never shorter than the real one.
            elapsed = time.monotonic() - started
            if found:
                assert elapsed <= limit, f"{subject_start!r} took {elapsed:.2f} s, more than {limit} s"
                assert len(found) == 1, found
                return
            if elapsed > limit:
                pytest.fail(f"no email {subject_start!r} to {to} within {limit} s\n{self.stack.output()}")
            time.sleep(OUTBOX_POLL)

    def settle(self) -> None:
        """Return once the stream handler has handled every change made before the call: the
        stream is read in order, so once a new ticket's confirmation is out, all before it is."""
        ticket = self.api(
            "POST",
            "/api/tickets",
            {"contact_id": self.marker_contact, "subject": "Marker", "body": "Handled so far."},
            201,
        )
        wanted = f"[Ticket {ticket['number']}] We received"
        deadline = time.monotonic() + EVENT_TIMEOUT
        while not any((item["subject"] or "").startswith(wanted) for item in self.outbox()):
            if time.monotonic() > deadline:
                pytest.fail("the stream handler did not catch up:\n" + self.stack.output())
            time.sleep(OUTBOX_POLL)


@dataclass
class Recipient:
    """What the outbox holds for one contact (its address and phone), and how much of it the
    test has looked at."""

    desk: SmokeDesk
    email: str
    phone: str
    seen: list[dict[str, Any]] = field(default_factory=list)

    def messages(self) -> list[dict[str, Any]]:
        return [item for item in self.desk.outbox() if item["to"] in (self.email, self.phone)]

    def next_messages(self, count: int) -> list[dict[str, Any]]:
        """The next ``count`` messages to this contact, once they are all in the outbox."""
        deadline = time.monotonic() + EVENT_TIMEOUT
        while len(messages := self.messages()) < len(self.seen) + count:
            if time.monotonic() > deadline:
                pytest.fail(f"expected {count} more messages, have {messages}\n{self.desk.stack.output()}")
            time.sleep(OUTBOX_POLL)
        assert messages[: len(self.seen)] == self.seen
        new = messages[len(self.seen) : len(self.seen) + count]
        self.seen += new
        return new

    def next_email_and_sms(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """The next two messages: one email to the address and one SMS to the phone."""
        by_channel = {item["channel"]: item for item in self.next_messages(2)}
        assert set(by_channel) == {"email", "sms"}, by_channel
        assert (by_channel["email"]["to"], by_channel["sms"]["to"]) == (self.email, self.phone)
        return by_channel["email"], by_channel["sms"]


@pytest.fixture(scope="module")
def desk() -> Iterator[SmokeDesk]:
    """One stack for the module: ready, its admin signed in, and done with its seed's changes
    (their messages would otherwise still be arriving while a test times its own)."""
    stack = LocalStackProcess(free_port())
    try:
        stack.wait_for(lambda line: line == f"helpdesk ready on {stack.base}", START_TIMEOUT)
        status, _, login = call(
            "POST", f"{stack.base}/api/auth/login", {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
        )
        assert status == 200, login
        running = SmokeDesk(stack, login["token"])
        running.statuses = {
            entry["name"]: entry["id"] for entry in running.api("GET", "/api/statuses")["items"]
        }
        marker = running.api(
            "POST", "/api/contacts", {"name": "Mark Marker", "email": "marker@example.com"}, 201
        )
        running.marker_contact = marker["id"]
        running.settle()
        yield running
    finally:
        stack.kill()


# -- one stack, walked through ---------------------------------------------------------


def test_a_ticket_created_over_http_reaches_the_stream_handler(desk: SmokeDesk) -> None:
    # GIVEN the local stack, started as `make run` starts it, and the admin signed in
    stack = desk.stack

    # WHEN a contact and a ticket are created over HTTP
    contact = desk.api("POST", "/api/contacts", {"name": "Sam Smoke", "email": "sam@example.com"}, 201)
    ticket = desk.api(
        "POST",
        "/api/tickets",
        {"contact_id": contact["id"], "subject": "Smoke", "body": "Does the stream run?"},
        201,
    )

    # THEN the stream handler logs the new ticket, read from the table's stream
    stack.wait_for(is_ticket_event("ticket_created", ticket["number"]), EVENT_TIMEOUT)

    # AND a note added later reaches it too
    desk.api("POST", f"/api/tickets/{ticket['number']}/notes", {"body": "Yes.", "public": False}, 201)
    stack.wait_for(is_ticket_event("note_added", ticket["number"]), EVENT_TIMEOUT)

    # AND the seeded demo data is there: setup lists and the demo customer's tickets
    assert {"New", "Customer replied", "Resolved"} <= set(desk.statuses)
    found = desk.api("GET", "/api/contacts?email=customer@example.com")
    assert found["items"][0]["portal_access"] == "active"


def test_a_new_ticket_and_a_public_note_each_reach_the_outbox_within_two_seconds(desk: SmokeDesk) -> None:
    contact = desk.api("POST", "/api/contacts", {"name": "Lena Latency", "email": "lena@example.com"}, 201)

    # WHEN a ticket is created THEN its confirmation is in the outbox within 2 s of the call
    started = time.monotonic()
    ticket = desk.api(
        "POST", "/api/tickets", {"contact_id": contact["id"], "subject": "Quick?", "body": "How fast?"}, 201
    )
    number = ticket["number"]
    desk.email_within(OUTBOX_LATENCY, started, "lena@example.com", f"[Ticket {number}] We received")

    # WHEN a public note is added THEN its email is in the outbox within 2 s of the call
    started = time.monotonic()
    desk.api("POST", f"/api/tickets/{number}/notes", {"body": "Very fast indeed.", "public": True}, 201)
    desk.email_within(OUTBOX_LATENCY, started, "lena@example.com", f"[Ticket {number}] New reply")


def test_one_ticket_walked_from_creation_to_rating_shows_the_right_messages_in_the_outbox(
    desk: SmokeDesk,
) -> None:
    """The issue's "done when", in `make run`: creating a ticket, a public note, a status
    change and the close each show the right email and SMS, a private note shows nothing,
    and the close email's rating link records a rating."""
    contact = desk.api(
        "POST",
        "/api/contacts",
        {"name": "Walt Walker", "email": WALT_EMAIL, "phone": WALT_PHONE, "notify_sms": True},
        201,
    )
    walt = Recipient(desk, WALT_EMAIL, WALT_PHONE)

    # WHEN a ticket is created THEN Walt gets a confirmation email and SMS
    ticket = desk.api(
        "POST",
        "/api/tickets",
        {"contact_id": contact["id"], "subject": "Lamp arrived broken", "body": "The shade is cracked."},
        201,
    )
    number = ticket["number"]
    email, sms = walt.next_email_and_sms()
    assert email["subject"] == f"[Ticket {number}] We received your request: Lamp arrived broken"
    assert sms["body"].startswith(f"We received your request: ticket {number}.")

    # WHEN staff add a public note THEN its text comes by email, and an SMS says there is a reply
    desk.api("POST", f"/api/tickets/{number}/notes", {"body": PUBLIC_TEXT, "public": True}, 201)
    email, sms = walt.next_email_and_sms()
    assert email["subject"] == f"[Ticket {number}] New reply: Lamp arrived broken"
    assert PUBLIC_TEXT in email["body"]
    assert sms["body"].startswith(f"New reply on ticket {number}.")
    assert PUBLIC_TEXT not in sms["body"]

    # WHEN the status changes THEN email and SMS give its customer label, not the staff name
    waiting = desk.statuses["Waiting on customer"]
    desk.api("PATCH", f"/api/tickets/{number}", {"status_id": waiting, "version": desk.version(number)})
    email, sms = walt.next_email_and_sms()
    assert email["subject"] == f"[Ticket {number}] Now Waiting for your reply: Lamp arrived broken"
    assert sms["body"].startswith(f"Ticket {number} is now Waiting for your reply.")
    assert "Waiting on customer" not in email["body"] + sms["body"]

    # WHEN a private note is added, and then the ticket is closed
    desk.api("POST", f"/api/tickets/{number}/notes", {"body": PRIVATE_TEXT, "public": False}, 201)
    resolved = desk.statuses["Resolved"]
    desk.api("PATCH", f"/api/tickets/{number}", {"status_id": resolved, "version": desk.version(number)})

    # THEN the next message is the close email, with one rating link per rating option
    (close,) = walt.next_messages(1)
    assert (close["channel"], close["subject"]) == ("email", f"[Ticket {number}] Closed: Lamp arrived broken")
    link_pattern = re.escape(desk.stack.base) + r"/rate/[A-Za-z0-9_-]{44}\?option=([0-9a-f]+)"
    links = {match.group(1): match.group(0) for match in re.finditer(link_pattern, close["body"])}
    options = {entry["label"]: entry["id"] for entry in desk.api("GET", "/api/rating-options")["items"]}
    assert set(links) == set(options.values())

    # AND once every change made so far has been handled: nothing for the private note, no
    # SMS for the close, and the private text in no message at all
    desk.settle()
    assert walt.messages() == walt.seen
    assert [item["channel"] for item in walt.seen] == ["email", "sms"] * 3 + ["email"]
    assert PRIVATE_TEXT not in json.dumps(desk.outbox())

    # WHEN Walt opens the "Good" link THEN a confirmation form shows, and nothing is recorded
    link = links[options["Good"]]
    status, page = fetch("GET", link)
    assert status == 200, page
    form = PageForm.read(page)
    assert form.method == "post"
    assert form.checked == {"rating_option_id": options["Good"]}
    assert desk.api("GET", f"/api/tickets/{number}")["rating"] is None

    # WHEN he sends the form as it came, with a comment THEN the rating is recorded
    status, thanks = fetch("POST", urljoin(link, form.action), {**form.values(), "comment": "Quick fix."})
    assert status == 200, thanks
    assert "Thank you" in thanks
    rating = desk.api("GET", f"/api/tickets/{number}")["rating"]
    assert (rating["rating_option_id"], rating["label"], rating["comment"]) == (
        options["Good"],
        "Good",
        "Quick fix.",
    )
    assert not any("Traceback" in line for line in desk.stack.lines), desk.stack.output()


# -- stacks of their own ---------------------------------------------------------------


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_a_stop_signal_stops_the_stack_cleanly(
    start_stack: Callable[..., LocalStackProcess], signum: signal.Signals
) -> None:
    stack = start_stack()
    stack.wait_for(lambda line: line == f"helpdesk ready on {stack.base}", START_TIMEOUT)

    assert stack.stop(signum) == 0, stack.output()
    assert "helpdesk stopped" in stack.lines
    assert not any("Traceback" in line for line in stack.lines), stack.output()


def test_a_weak_admin_password_stops_startup_with_a_message_naming_the_variable(
    start_stack: Callable[..., LocalStackProcess],
) -> None:
    stack = start_stack(HELPDESK_ADMIN_PASSWORD="short")

    line = stack.wait_for(lambda line: line.startswith("helpdesk: "), START_TIMEOUT)

    assert "HELPDESK_ADMIN_PASSWORD" in line
    assert stack.process.wait(STOP_TIMEOUT) == 1
