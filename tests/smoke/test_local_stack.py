"""Smoke tier: `python -m local` in its own process, driven over real HTTP.

Waits are bounded (the test fails rather than hangs) and nothing asserts how long a step
took.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

PROJECT_DIR = Path(__file__).resolve().parents[2]
START_TIMEOUT = 120
EVENT_TIMEOUT = 30
STOP_TIMEOUT = 30
ADMIN_EMAIL = "smoke-admin@example.com"
ADMIN_PASSWORD = "smoke test password 0123"


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


def test_a_ticket_created_over_http_reaches_the_stream_handler_and_ctrl_c_stops_cleanly(
    start_stack: Callable[..., LocalStackProcess],
) -> None:
    # GIVEN the local stack, started as `make run` starts it
    stack = start_stack()
    stack.wait_for(lambda line: line == f"helpdesk ready on {stack.base}", START_TIMEOUT)

    # WHEN the admin signs in and creates a contact and a ticket over HTTP
    status, _, login = call(
        "POST", f"{stack.base}/api/auth/login", {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
    )
    assert status == 200, login
    token = login["token"]
    status, _, contact = call(
        "POST", f"{stack.base}/api/contacts", {"name": "Sam Smoke", "email": "sam@example.com"}, token
    )
    assert status == 201, contact
    status, _, ticket = call(
        "POST",
        f"{stack.base}/api/tickets",
        {"contact_id": contact["id"], "subject": "Smoke", "body": "Does the stream run?"},
        token,
    )
    assert status == 201, ticket

    # THEN the stream handler logs the new ticket, read from the table's stream
    stack.wait_for(is_ticket_event("ticket_created", ticket["number"]), EVENT_TIMEOUT)

    # AND a note added later reaches it too
    status, _, note = call(
        "POST", f"{stack.base}/api/tickets/{ticket['number']}/notes", {"body": "Yes.", "public": False}, token
    )
    assert status == 201, note
    stack.wait_for(is_ticket_event("note_added", ticket["number"]), EVENT_TIMEOUT)

    # AND the local outbox answers JSON, holding the new ticket's confirmation to Sam, once
    deadline = time.monotonic() + EVENT_TIMEOUT
    while True:
        status, headers, outbox = call("GET", f"{stack.base}/dev/outbox.json")
        assert status == 200
        assert headers["Content-Type"] == "application/json"
        to_sam = [item for item in outbox["items"] if item["to"] == "sam@example.com"]
        if to_sam or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert [(item["channel"], str(ticket["number"]) in item["subject"]) for item in to_sam] == [
        ("email", True)
    ], stack.output()

    # AND the seeded demo data is there: setup lists and the demo customer's tickets
    status, _, statuses = call("GET", f"{stack.base}/api/statuses", token=token)
    assert status == 200
    assert {"New", "Customer replied", "Resolved"} <= {entry["name"] for entry in statuses["items"]}
    status, _, found = call("GET", f"{stack.base}/api/contacts?email=customer@example.com", token=token)
    assert status == 200
    assert found["items"][0]["portal_access"] == "active"

    # WHEN Ctrl-C arrives THEN everything stops and the process exits 0
    assert stack.stop(signal.SIGINT) == 0, stack.output()
    assert "helpdesk stopped" in stack.lines
    assert not any("Traceback" in line for line in stack.lines), stack.output()


def test_sigterm_stops_the_stack_cleanly(start_stack: Callable[..., LocalStackProcess]) -> None:
    stack = start_stack()
    stack.wait_for(lambda line: line == f"helpdesk ready on {stack.base}", START_TIMEOUT)

    assert stack.stop(signal.SIGTERM) == 0, stack.output()
    assert "helpdesk stopped" in stack.lines


def test_a_weak_admin_password_stops_startup_with_a_message_naming_the_variable(
    start_stack: Callable[..., LocalStackProcess],
) -> None:
    stack = start_stack(HELPDESK_ADMIN_PASSWORD="short")

    line = stack.wait_for(lambda line: line.startswith("helpdesk: "), START_TIMEOUT)

    assert "HELPDESK_ADMIN_PASSWORD" in line
    assert stack.process.wait(STOP_TIMEOUT) == 1
