"""The API operations the benchmark measures, sent through ``chalice.test.Client``.

Each request runs inside ``count_calls()``; a request that does not answer with its
expected status stops the run, since its counts would describe an error path.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from chalice.test import Client

from tests.bench.counting import Calls, count_calls
from tests.bench.dataset import ADMIN_EMAIL, STAFF_PASSWORD, Dataset

PROJECT_DIR = Path(__file__).resolve().parents[2]

READ = "read"
CREATE = "create"
WRITE = "write"
SIGN_IN = "sign-in"


class RequestFailed(RuntimeError):
    """A measured request answered with an unexpected status."""


@dataclass(frozen=True)
class Measurement:
    label: str
    kind: str
    calls: Calls


class _Http:
    """Signed-in JSON requests that remember what later requests need."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.token: str | None = None

    def send(self, method: str, path: str, body: Any = None, expect: int = 200) -> Any:
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        payload = None if body is None else json.dumps(body)
        response = getattr(self.client.http, method.lower())(path, headers=headers, body=payload)
        if response.status_code != expect:
            raise RequestFailed(f"{method} {path} answered {response.status_code}: {response.body!r}")
        return json.loads(response.body) if response.body else None


def _tickets(**params: str) -> str:
    return f"/api/tickets?{urlencode(params)}" if params else "/api/tickets"


def measure_all(client: Client, data: Dataset) -> list[Measurement]:
    """Send every measured request once, in an order where each has what it needs."""
    http = _Http(client)
    focus = data.focus_ticket_number
    contact = data.focus_contact_id
    results: list[Measurement] = []

    def measure(label: str, kind: str, send: Callable[[], Any]) -> Any:
        with count_calls() as calls:
            answer = send()
        results.append(Measurement(label, kind, calls))
        return answer

    signed_in = measure(
        "POST /api/auth/login",
        SIGN_IN,
        lambda: http.send("POST", "/api/auth/login", {"email": ADMIN_EMAIL, "password": STAFF_PASSWORD}),
    )
    http.token = signed_in["token"]

    first_page = measure("GET /api/tickets", READ, lambda: http.send("GET", _tickets()))
    cursor = first_page["next_cursor"]
    lists = {
        "status_id": data.status_ids["In progress"],
        "category_id": data.category_ids["Billing"],
        "service_level_id": data.service_level_ids["Gold"],
        "assignee_id": data.agent_id,
        "contact_id": contact,
    }
    for name, value in lists.items():
        path = _tickets(**{name: value})
        measure(f"GET /api/tickets?{name}=", READ, lambda p=path: http.send("GET", p))
    measure(
        "GET /api/tickets?status_id=&category_id=",
        READ,
        lambda: http.send("GET", _tickets(status_id=lists["status_id"], category_id=lists["category_id"])),
    )
    measure("GET /api/tickets?state=open", READ, lambda: http.send("GET", _tickets(state="open")))
    measure("GET /api/tickets?order=newest", READ, lambda: http.send("GET", _tickets(order="newest")))
    measure(
        "GET /api/tickets?order=newest&state=closed",
        READ,
        lambda: http.send("GET", _tickets(order="newest", state="closed")),
    )
    measure("GET /api/tickets?overdue=true", READ, lambda: http.send("GET", _tickets(overdue="true")))
    measure(
        "GET /api/tickets?cursor= (page 2)",
        READ,
        lambda: http.send("GET", _tickets(cursor=cursor)),
    )
    measure("GET /api/tickets?number=", READ, lambda: http.send("GET", _tickets(number=str(focus))))
    ticket = measure("GET /api/tickets/{id}", READ, lambda: http.send("GET", f"/api/tickets/{focus}"))
    measure("GET /api/tickets/{id}/notes", READ, lambda: http.send("GET", f"/api/tickets/{focus}/notes"))
    measure(
        "GET /api/tickets/{id}/deliveries", READ, lambda: http.send("GET", f"/api/tickets/{focus}/deliveries")
    )

    measure(
        "POST /api/tickets",
        CREATE,
        lambda: http.send(
            "POST",
            "/api/tickets",
            {"contact_id": contact, "subject": "Parcel arrived damaged", "body": "The box was crushed."},
            expect=201,
        ),
    )
    measure(
        "PATCH /api/tickets/{id}",
        WRITE,
        lambda: http.send(
            "PATCH",
            f"/api/tickets/{focus}",
            {
                "status_id": data.status_ids["Waiting"],
                "assignee_id": data.agent_id,
                "version": ticket["version"],
            },
        ),
    )
    measure(
        "POST /api/tickets/{id}/notes",
        WRITE,
        lambda: http.send(
            "POST", f"/api/tickets/{focus}/notes", {"body": "We sent a new one.", "public": True}, expect=201
        ),
    )

    measure("GET /api/contacts", READ, lambda: http.send("GET", "/api/contacts"))
    measure(
        "GET /api/contacts?email=",
        READ,
        lambda: http.send("GET", f"/api/contacts?{urlencode({'email': data.focus_contact_email})}"),
    )
    measure("GET /api/contacts/{id}", READ, lambda: http.send("GET", f"/api/contacts/{contact}"))
    measure(
        "GET /api/contacts/{id}/tickets", READ, lambda: http.send("GET", f"/api/contacts/{contact}/tickets")
    )
    measure(
        "GET /api/contacts/{id}/tickets?state=open",
        READ,
        lambda: http.send("GET", f"/api/contacts/{contact}/tickets?state=open"),
    )
    measure(
        "GET /api/contacts/{id}/tickets (none yet)",
        READ,
        lambda: http.send("GET", f"/api/contacts/{data.quiet_contact_id}/tickets"),
    )
    measure(
        "GET /api/contacts/{id}/statement",
        READ,
        lambda: http.send("GET", f"/api/contacts/{contact}/statement"),
    )

    _measure_portal(client, data, measure)
    _measure_staff_pages(client, data, measure, http)
    _measure_embed(client, data, measure, http)

    for path in (
        "/api/service-levels",
        "/api/categories",
        "/api/statuses",
        "/api/rating-options",
        "/api/settings",
        "/api/staff",
    ):
        measure(f"GET {path}", READ, lambda p=path: http.send("GET", p))
    return results


def _measure_portal(client: Client, data: Dataset, measure: Callable[..., Any]) -> None:
    """The customer portal's pages as the focus contact sees them, and its two writes."""
    from chalicelib.domain import portal_auth
    from chalicelib.store.models import Contact
    from tests.functional.browsing import Browser

    portal_auth.set_password(Contact.get(*Contact.key(data.focus_contact_id)), STAFF_PASSWORD)
    browser = Browser(client)
    visit, submit = _visitor(browser)
    focus = data.focus_ticket_number

    browser.get("/portal/login")
    credentials = {"email": data.focus_contact_email, "password": STAFF_PASSWORD}
    measure("POST /portal/login", SIGN_IN, submit("/portal/login", credentials))
    for path in ("/portal", "/portal/tickets", "/portal/tickets?state=open", f"/portal/tickets/{focus}"):
        measure(f"GET {path.replace(str(focus), '{number}')}", READ, visit(path))
    measure("GET /portal/tickets/new", READ, visit("/portal/tickets/new"))
    measure("GET /portal/statement", READ, visit("/portal/statement"))
    measure("GET /portal/account", READ, visit("/portal/account"))
    new_ticket = {"subject": "Where is my parcel?", "body": "It has been a week."}
    measure("POST /portal/tickets/new", CREATE, submit("/portal/tickets/new", new_ticket))
    browser.get(f"/portal/tickets/{focus}")
    measure(
        "POST /portal/tickets/{number}/reply",
        WRITE,
        submit(f"/portal/tickets/{focus}/reply", {"body": "Thanks"}),
    )
    return []


def _visitor(browser: Any) -> tuple[Callable[..., Callable[[], Any]], Callable[..., Callable[[], Any]]]:
    """``visit(path)`` and ``submit(path, fields)``: requests that stop the run on a surprise."""

    def visit(path: str, expect: int = 200) -> Callable[[], Any]:
        def send() -> Any:
            page = browser.get(path)
            if page.status != expect:
                raise RequestFailed(f"GET {path} answered {page.status}: {page.text[:200]!r}")
            return page

        return send

    def submit(path: str, fields: dict[str, str], expect: int = 303) -> Callable[[], Any]:
        def send() -> Any:
            page = browser.post(path, fields)
            if page.status != expect:
                raise RequestFailed(f"POST {path} answered {page.status}: {page.text[:200]!r}")
            return page

        return send

    return visit, submit


def _measure_staff_pages(client: Client, data: Dataset, measure: Callable[..., Any], http: _Http) -> None:
    """The staff pages an agent or admin works in all day, signed in as the admin, and
    every setup page."""
    from tests.functional.browsing import Browser

    browser = Browser(client)
    visit, submit = _visitor(browser)
    browser.get("/admin/login")
    measure(
        "POST /admin/login",
        SIGN_IN,
        submit("/admin/login", {"email": ADMIN_EMAIL, "password": STAFF_PASSWORD}),
    )
    contact = data.focus_contact_id
    level = data.service_level_ids["Gold"]
    site = http.send(
        "POST", "/api/sites", {"name": "Outlet", "allowed_origins": ["https://outlet.example"]}, expect=201
    )
    pages = {
        "GET /admin": "/admin",
        "GET /admin/tickets": "/admin/tickets",
        "GET /admin/tickets?status_id=": f"/admin/tickets?status_id={data.status_ids['In progress']}",
        "GET /admin/tickets?overdue=true": "/admin/tickets?overdue=true",
        "GET /admin/tickets/new": "/admin/tickets/new",
        "GET /admin/tickets/{number}": f"/admin/tickets/{data.focus_ticket_number}",
        "GET /admin/tickets/{number}/deliveries": f"/admin/tickets/{data.focus_ticket_number}/deliveries",
        "GET /admin/tickets/{number}/assign": f"/admin/tickets/{data.focus_ticket_number}/assign",
        "GET /admin/deliveries/failed": "/admin/deliveries/failed",
        "GET /admin/contacts": "/admin/contacts",
        "GET /admin/contacts/{id}": f"/admin/contacts/{contact}",
        "GET /admin/contacts/{id}/statement": f"/admin/contacts/{contact}/statement",
        "GET /admin/contacts?q=": f"/admin/contacts?{urlencode({'q': 'Customer 00001'})}",
        "GET /admin/tickets/new?find=": f"/admin/tickets/new?{urlencode({'find': data.focus_contact_email})}",
        "GET /admin/setup": "/admin/setup",
        "GET /admin/setup/service-levels": "/admin/setup/service-levels",
        "GET /admin/setup/service-levels/{id}": f"/admin/setup/service-levels/{level}",
        "GET /admin/setup/service-levels/{id}/delete": f"/admin/setup/service-levels/{level}/delete",
        "GET /admin/setup/categories": "/admin/setup/categories",
        "GET /admin/setup/statuses": "/admin/setup/statuses",
        "GET /admin/setup/rating-options": "/admin/setup/rating-options",
        "GET /admin/setup/settings": "/admin/setup/settings",
        "GET /admin/setup/staff": "/admin/setup/staff",
        "GET /admin/setup/staff/{id}": f"/admin/setup/staff/{data.agent_id}",
        "GET /admin/setup/sites": "/admin/setup/sites",
        "GET /admin/setup/sites/{id}": f"/admin/setup/sites/{site['id']}",
    }
    for label, path in pages.items():
        measure(label, READ, visit(path))

    # The find box: a number opens its ticket, an email lists its contact's tickets.
    finds = {"a number": str(data.focus_ticket_number), "an email": data.focus_contact_email}
    for what, text in finds.items():
        measure(
            f"GET /admin/tickets?q= ({what})", READ, visit(f"/admin/tickets?{urlencode({'q': text})}", 303)
        )


def _measure_embed(client: Client, data: Dataset, measure: Callable[..., Any], http: _Http) -> None:
    """A website's visitor: the preflight, the form token, the ticket (a known contact)."""
    from chalicelib.domain import embed

    origin = "https://shop.example"
    site = http.send("POST", "/api/sites", {"name": "Shop", "allowed_origins": [origin]}, expect=201)
    key = site["public_key"]

    def preflight() -> Any:
        response = client.http.options("/embed/v1/tickets", headers={"Origin": origin})
        if response.status_code != 204 or response.headers.get("Access-Control-Allow-Origin") != origin:
            raise RequestFailed(f"the preflight answered {response.status_code} {response.headers}")

    def token() -> Any:
        response = client.http.get(f"/embed/v1/form-token?site_key={key}", headers={"Origin": origin})
        if response.status_code != 200:
            raise RequestFailed(f"the form token answered {response.status_code}: {response.body!r}")
        return json.loads(response.body)["form_token"]

    measure("OPTIONS /embed/v1/tickets", READ, preflight)
    form_token = measure("GET /embed/v1/form-token", READ, token)
    body = {
        "name": "Vic Visitor",
        "email": data.focus_contact_email,
        "subject": "Where is my order?",
        "body": "Ordered last week.",
        "form_token": form_token,
    }

    def post() -> Any:
        headers = {"Content-Type": "application/json", "Origin": origin, "X-Helpdesk-Site-Key": key}
        response = client.http.post("/embed/v1/tickets", headers=headers, body=json.dumps(body))
        if response.status_code != 201:
            raise RequestFailed(f"the website ticket answered {response.status_code}: {response.body!r}")

    original = embed.MIN_FILL_SECONDS
    embed.MIN_FILL_SECONDS = 0  # the bench does not wait like a person
    try:
        measure("POST /embed/v1/tickets", WRITE, post)
    finally:
        embed.MIN_FILL_SECONDS = original


@dataclass(frozen=True)
class ScaleRun:
    """One scale: what was loaded, what each operation cost, and how long it all took."""

    data: Dataset
    measurements: list[Measurement]
    load_seconds: float
    measure_seconds: float


def measure_scale(ticket_count: int) -> ScaleRun:
    """Load a fresh mocked table with ``ticket_count`` tickets and measure every operation."""
    import boto3
    from moto import mock_aws

    from chalicelib.settings import table_name_from_env
    from local import tables
    from tests.bench import dataset

    with mock_aws():
        tables.create_all(
            boto3.client("dynamodb"),
            {
                "HelpdeskTable": table_name_from_env(),
                "IdempotencyTable": os.environ["HELPDESK_IDEMPOTENCY_TABLE"],
            },
        )
        started = time.perf_counter()
        data = dataset.load(ticket_count)
        loaded = time.perf_counter()
        from app import app

        with Client(app, project_dir=str(PROJECT_DIR), stage_name="dev") as client:
            measurements = measure_all(client, data)
        return ScaleRun(data, measurements, loaded - started, time.perf_counter() - loaded)
