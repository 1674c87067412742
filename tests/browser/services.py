"""What the browser tests use besides the browser: the staff's JSON API, the local outbox
and the demo logins the stack prints. All of it over plain HTTP to the stack's own
address, with bounded waits."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

from tests.smoke.test_local_stack import ADMIN_EMAIL, ADMIN_PASSWORD, EVENT_TIMEOUT, LocalStackProcess, call

# The banner's line for the demo customer: role, email, the password it was given.
CUSTOMER_LINE = re.compile(r"^\s+customer\s+(?P<email>\S+@\S+)\s+(?P<password>\S+)")
# A link in an email's text or HTML body (the outbox keeps whichever the message has).
LINK = re.compile(r"https?://[^\s\"'<>]+")


@dataclass(frozen=True)
class Login:
    email: str
    password: str


def demo_customer(stack: LocalStackProcess) -> Login:
    """The demo customer's login, read from the banner the stack printed."""
    for line in stack.lines:
        found = CUSTOMER_LINE.match(line)
        if found:
            return Login(found["email"], found["password"])
    raise AssertionError("the banner names no demo customer:\n" + stack.output())


class StaffApi:
    """The admin, signed in to the JSON API with a bearer token; each call checks its status."""

    def __init__(self, base: str) -> None:
        self.base = base
        status, _, body = call(
            "POST", f"{base}/api/auth/login", {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
        )
        assert status == 200, body
        self.token = str(body["token"])

    def send(self, method: str, path: str, body: Any = None, expect: int = 200) -> Any:
        status, _, answer = call(method, f"{self.base}{path}", body, self.token)
        assert status == expect, f"{method} {path}: {status} {answer}"
        return answer

    def get(self, path: str) -> Any:
        return self.send("GET", path)

    def add_note(self, number: int, body: str, *, public: bool) -> None:
        self.send("POST", f"/api/tickets/{number}/notes", {"body": body, "public": public}, expect=201)

    def closed_status(self) -> dict[str, Any]:
        """A status of the setup that closes a ticket."""
        closing = [status for status in self.get("/api/statuses")["items"] if status["closed"]]
        assert closing, "the demo setup has no closed status"
        return dict(closing[0])

    def close(self, number: int) -> dict[str, Any]:
        """Move the ticket to a closed status, under the version it has now; the status set."""
        status = self.closed_status()
        ticket = self.get(f"/api/tickets/{number}")
        change = {"status_id": status["id"], "version": ticket["version"]}
        self.send("PATCH", f"/api/tickets/{number}", change)
        return status


def emailed_link(base: str, to: str, path: str, timeout: float = EVENT_TIMEOUT) -> str:
    """The first link under ``path`` in an email to ``to``, polling the outbox until it comes."""
    deadline = time.monotonic() + timeout
    while True:
        status, _, outbox = call("GET", f"{base}/dev/outbox.json")
        assert status == 200, outbox
        for message in outbox["items"]:
            if message["channel"] != "email" or message["to"] != to:
                continue
            links = [link for link in LINK.findall(message["body"]) if path in link]
            if links:
                return links[0]
        if time.monotonic() > deadline:
            raise AssertionError(f"no email to {to} with a {path} link within {timeout}s")
        time.sleep(0.2)
