"""The OpenAPI document against the running API: every answer has a documented status and shape.

``Documented`` wraps the test ``Api``: each response it gets is matched to its documented
operation, its status must be one the document lists, its body must validate against the
documented schema (with every object closed, so an undocumented field fails too) and the
documented headers must be there.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest
from chalice.test import Client
from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from chalicelib.api.openapi_routes import DOCUMENT
from tests.functional.admin_fixtures import add_failed_delivery
from tests.functional.conftest import ADMIN_PASSWORD, Api

DOCUMENT_URI = "urn:helpdesk:openapi"
METHODS = ("get", "put", "post", "delete", "patch")


def _closed(node: Any) -> Any:
    """A copy of ``node`` where every object schema refuses properties it does not list."""
    if isinstance(node, list):
        return [_closed(value) for value in node]
    if not isinstance(node, dict):
        return node
    copied = {key: _closed(value) for key, value in node.items()}
    if "properties" in copied and "additionalProperties" not in copied:
        copied["additionalProperties"] = False
    return copied


def _escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


class Checker:
    """Matches answers to the document and remembers which (operation, status) it saw."""

    def __init__(self) -> None:
        self.document: dict[str, Any] = json.loads(DOCUMENT.read_text())
        strict = _closed(copy.deepcopy(self.document))
        self.registry: Registry[Any] = Registry().with_resource(
            DOCUMENT_URI, DRAFT202012.create_resource(strict)
        )
        self.templates = [
            (re.compile("^" + re.sub(r"\\{\w+\\}", "[^/]+", re.escape(path)) + "$"), path)
            for path in self.document["paths"]
        ]
        self.seen: set[tuple[str, str, int]] = set()

    def template(self, url: str) -> str:
        path = url.split("?", 1)[0]
        matches = [template for pattern, template in self.templates if pattern.match(path)]
        assert len(matches) == 1, f"{path} matches {matches} in the document"
        return matches[0]

    def check(self, method: str, url: str, response: Any) -> None:
        path = self.template(url)
        operation = self.document["paths"][path].get(method.lower())
        assert operation is not None, f"{method} {path} is not documented"
        status = str(response.status_code)
        assert status in operation["responses"], (
            f"{method} {path} answered {status}, documented {sorted(operation['responses'])}: "
            f"{response.body!r}"
        )

        pointer = f"/paths/{_escape(path)}/{method.lower()}/responses/{status}"
        documented = operation["responses"][status]
        if "$ref" in documented:
            pointer = documented["$ref"][1:]
            documented = self.document["components"]["responses"][pointer.rsplit("/", 1)[1]]
        headers = {name.lower() for name in response.headers}
        for name in documented.get("headers", {}):
            assert name.lower() in headers, f"{method} {path} {status} lacks the header {name}"
        if "content" not in documented:
            assert not response.body, f"{method} {path} {status} should have no body"
        else:
            schema = {"$ref": f"{DOCUMENT_URI}#{pointer}/content/application~1json/schema"}
            validator = Draft202012Validator(
                schema, registry=self.registry, format_checker=Draft202012Validator.FORMAT_CHECKER
            )
            errors = [
                f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
                for e in validator.iter_errors(json.loads(response.body))
            ]
            assert not errors, f"{method} {path} {status} does not match the document: {errors}"
        self.seen.add((path, method.lower(), response.status_code))

    def operations(self) -> set[tuple[str, str]]:
        return {(path, method) for path, item in self.document["paths"].items() for method in item}


class Documented(Api):
    """The test ``Api``, checking every answer against the document."""

    def __init__(self, client: Client, checker: Checker, token: str | None = None) -> None:
        super().__init__(client, token)
        self.checker = checker

    def call(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
        response = super().call(method, path, body, headers)
        self.checker.check(method, path, response)
        return response


@pytest.fixture
def checker() -> Checker:
    return Checker()


@pytest.fixture
def as_admin(client: Client, admin: Api, checker: Checker) -> Documented:
    return Documented(client, checker, admin.token)


@pytest.fixture
def as_agent(client: Client, agent: Api, checker: Checker) -> Documented:
    return Documented(client, checker, agent.token)


@pytest.fixture
def as_nobody(client: Client, checker: Checker) -> Documented:
    return Documented(client, checker)


def created(response: Any) -> dict[str, Any]:
    assert response.status_code == 201, response.body
    data: dict[str, Any] = response.data
    return data


def answered(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.body
    return response.data


# -- the document is served ----------------------------------------------------------------


def test_openapi_json_is_served_without_a_token_and_equals_the_file(client):
    response = client.http.get("/api/openapi.json")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert json.loads(response.body) == json.loads(DOCUMENT.read_text())


# -- success answers -----------------------------------------------------------------------


def _setup(api: Documented) -> dict[str, str]:
    """Create, read, change and delete an entry of every setup list; keep one of each."""
    examples = {
        "service-levels": {"name": "Gold", "rank": 1, "response_hours": 4, "resolution_hours": 24},
        "categories": {"name": "Billing"},
        "statuses": {"name": "New", "customer_label": "Received", "order": 1, "closed": False},
        "rating-options": {"label": "Great", "score": 100},
    }
    kept = {}
    for segment, body in examples.items():
        kept[segment] = created(api.post(f"/api/{segment}", body))["id"]
        spare = created(api.post(f"/api/{segment}", body))
        answered(api.get(f"/api/{segment}/{spare['id']}"))
        first_field = next(iter(body))
        change = {first_field: body[first_field], "version": spare["version"]}
        answered(api.patch(f"/api/{segment}/{spare['id']}", change))
        answered(api.delete(f"/api/{segment}/{spare['id']}"), 204)
        assert len(answered(api.get(f"/api/{segment}"))["items"]) == 1

    settings = answered(api.get("/api/settings"))
    settings = answered(api.put("/api/settings", settings))  # the defaults hold nulls, and round-trip
    settings.update(
        default_status_id=kept["statuses"],
        default_service_level_id=kept["service-levels"],
        sender_email="help@example.com",
    )
    answered(api.put("/api/settings", settings))
    return kept


def _staff(api: Documented, client: Client) -> Documented:
    """Manage a staff member, who then signs in, looks at themself and signs out."""
    member = created(
        api.post(
            "/api/staff",
            {"email": "bo@example.com", "name": "Bo Agent", "role": "agent", "password": ADMIN_PASSWORD},
        )
    )
    answered(api.get(f"/api/staff/{member['id']}"))
    answered(api.patch(f"/api/staff/{member['id']}", {"name": "Bo B. Agent", "version": member["version"]}))
    assert len(answered(api.get("/api/staff?limit=1"))["items"]) == 1

    signed_in = answered(
        Documented(client, api.checker).post(
            "/api/auth/login", {"email": "bo@example.com", "password": ADMIN_PASSWORD}
        )
    )
    bo = Documented(client, api.checker, signed_in["token"])
    assert answered(bo.get("/api/auth/me"))["name"] == "Bo B. Agent"
    return bo


def _contacts(api: Documented, kept: dict[str, str]) -> str:
    contact = created(
        api.post(
            "/api/contacts",
            {
                "name": "Cleo Customer",
                "email": "cleo@example.com",
                "phone": "+44 20 7946 0000",
                "service_level_id": kept["service-levels"],
            },
        )
    )
    answered(api.get(f"/api/contacts/{contact['id']}"))
    assert (
        answered(api.post(f"/api/contacts/{contact['id']}/portal-invite", {}), 202)["portal_access"]
        == "invited"
    )
    answered(
        api.patch(
            f"/api/contacts/{contact['id']}",
            {"company": "Cleo Ltd", "portal_access": "disabled", "version": contact["version"]},
        )
    )
    answered(api.get("/api/contacts"))
    assert len(answered(api.get("/api/contacts?email=CLEO@example.com"))["items"]) == 1
    assert len(answered(api.get("/api/contacts?name=cle&limit=5"))["items"]) == 1

    for entry in (
        {
            "type": "invoice",
            "reference": "INV-1",
            "amount": "120.00",
            "currency": "EUR",
            "date": "2025-03-01",
            "due_date": "2025-03-31",
        },
        {"type": "payment", "reference": "PAY-1", "amount": "20.5", "currency": "EUR", "date": "2025-03-02"},
    ):
        created(api.post(f"/api/contacts/{contact['id']}/transactions", entry))
    statement = answered(api.get(f"/api/contacts/{contact['id']}/statement"))
    assert statement["outstanding"] == {"EUR": "99.50"}
    return str(contact["id"])


def _tickets(api: Documented, kept: dict[str, str], contact_id: str, assignee_id: str) -> None:
    first = created(api.post("/api/tickets", {"contact_id": contact_id, "subject": "Late", "body": "Where?"}))
    created(
        api.post(
            "/api/tickets",
            {
                "contact_id": contact_id,
                "subject": "Billing",
                "body": "Twice?",
                "category_id": kept["categories"],
            },
        )
    )
    ticket = first["id"]
    created(api.post(f"/api/tickets/{ticket}/notes", {"body": "On it.", "public": False}))
    created(api.post(f"/api/tickets/{ticket}/notes", {"body": "Sent a new one.", "public": True}))
    detail = answered(api.get(f"/api/tickets/{ticket}"))
    assert [note["public"] for note in detail["notes"]] == [False, True]
    assert detail["notes_cursor"] is None
    newest = answered(api.get(f"/api/tickets/{ticket}/notes?limit=1"))
    older = answered(api.get(f"/api/tickets/{ticket}/notes?limit=1&cursor={newest['next_cursor']}"))
    assert [note["public"] for page in (older, newest) for note in page["items"]] == [False, True]
    answered(api.patch(f"/api/tickets/{ticket}", {"assignee_id": assignee_id, "version": detail["version"]}))
    no_deliveries = answered(api.get(f"/api/tickets/{ticket}/deliveries?limit=5"))
    assert no_deliveries == {"items": [], "next_cursor": None}
    _failed_delivery(api, int(first["number"]))

    first_page = answered(api.get("/api/tickets?limit=1"))
    assert first_page["next_cursor"]
    answered(api.get(f"/api/tickets?limit=1&cursor={first_page['next_cursor']}"))
    for query in (
        f"number={first['number']}",
        "assignee_id=none",
        f"assignee_id={assignee_id}&state=open",
        f"status_id={kept['statuses']}&order=newest",
        f"category_id={kept['categories']}",
        f"service_level_id={kept['service-levels']}",
        f"contact_id={contact_id}",
        "overdue=true",
    ):
        answered(api.get(f"/api/tickets?{query}"))
    assert (
        len(answered(api.get(f"/api/contacts/{contact_id}/tickets?order=priority&state=open"))["items"]) == 2
    )


def _failed_delivery(api: Documented, number: int) -> None:
    """A delivery as the stream handler logs a refused send (the stream does not run here),
    listed among the failures and then asked for again."""
    add_failed_delivery(number, counted=False)

    (failed,) = answered(api.get("/api/deliveries/failed?limit=5"))["items"]
    asked = answered(api.post(f"/api/tickets/{number}/deliveries/{failed['id']}/resend", {}), 202)
    assert asked["outcome"] == "resend_requested"


def _sites(api: Documented, kept: dict[str, str]) -> None:
    site = created(
        api.post(
            "/api/sites",
            {
                "name": "Shop",
                "allowed_origins": ["https://shop.example"],
                "default_category_id": kept["categories"],
            },
        )
    )
    answered(api.get("/api/sites?limit=5"))
    answered(api.get(f"/api/sites/{site['id']}"))
    changed = answered(api.patch(f"/api/sites/{site['id']}", {"new_key": True, "version": site["version"]}))
    assert changed["public_key"] != site["public_key"]
    answered(api.delete(f"/api/sites/{site['id']}"), 204)


def _embed(api: Documented, client: Client, checker: Checker, monkeypatch: pytest.MonkeyPatch) -> None:
    """A website's visitor: a form token, a preflight, then the ticket."""
    from chalicelib.domain import embed

    monkeypatch.setattr(embed, "MIN_FILL_SECONDS", 0)
    site = created(api.post("/api/sites", {"name": "Shop", "allowed_origins": ["https://shop.example"]}))
    visitor = Documented(client, checker)
    origin = {"Origin": "https://shop.example"}
    token = answered(visitor.get(f"/embed/v1/form-token?site_key={site['public_key']}", headers=origin))
    answered(visitor.call("OPTIONS", "/embed/v1/tickets", headers=origin), 204)
    ticket = {
        "name": "Vic Visitor",
        "email": "vic@example.com",
        "subject": "Where is my order?",
        "body": "Ordered last week.",
        "form_token": token["form_token"],
    }
    accepted = answered(
        visitor.post(
            "/embed/v1/tickets", ticket, headers={**origin, "X-Helpdesk-Site-Key": site["public_key"]}
        ),
        201,
    )
    assert accepted["number"] > 0


def test_every_documented_operation_answers_as_documented(client, as_admin, checker, monkeypatch):
    kept = _setup(as_admin)
    bo = _staff(as_admin, client)
    _sites(as_admin, kept)
    _embed(as_admin, client, checker, monkeypatch)
    contact_id = _contacts(as_admin, kept)
    _tickets(bo, kept, contact_id, answered(bo.get("/api/auth/me"))["id"])
    answered(as_admin.get("/api/openapi.json"))
    answered(bo.post("/api/auth/logout"), 204)

    succeeded = {(path, method) for path, method, status in as_admin.checker.seen if status < 300}
    assert as_admin.checker.operations() - succeeded == set(), "operations never answered with success"


# -- error answers -------------------------------------------------------------------------


def test_error_answers_have_a_documented_status_and_shape(client, as_admin, as_agent, as_nobody):
    level = created(
        as_admin.post(
            "/api/service-levels", {"name": "Gold", "rank": 1, "response_hours": 1, "resolution_hours": 2}
        )
    )
    contact = created(as_admin.post("/api/contacts", {"name": "Cleo", "email": "cleo@example.com"}))
    ticket = created(
        as_admin.post(
            "/api/tickets",
            {
                "contact_id": contact["id"],
                "subject": "Late",
                "body": "Where?",
                "service_level_id": level["id"],
            },
        )
    )
    category = created(as_admin.post("/api/categories", {"name": "Billing"}))
    answered(as_admin.patch(f"/api/tickets/{ticket['id']}", {"category_id": category["id"], "version": 1}))

    answered(as_admin.post("/api/contacts", "not json"), 400)
    answered(as_nobody.get("/api/tickets"), 401)
    answered(as_agent.post("/api/categories", {"name": "Billing"}), 403)
    answered(as_admin.get("/api/tickets/999999"), 404)
    answered(as_admin.get("/api/tickets/not-a-number"), 404)
    stale = answered(as_admin.patch(f"/api/tickets/{ticket['id']}", {"status_id": "x", "version": 1}), 409)
    assert stale["error"]["code"] == "stale_version"
    assert stale["error"]["current"]["version"] == 2
    answered(as_admin.patch(f"/api/contacts/{contact['id']}", {"name": "C", "version": 7}), 409)
    answered(as_admin.post("/api/contacts", {"name": "Again", "email": "cleo@example.com"}), 409)
    answered(as_admin.delete(f"/api/service-levels/{level['id']}"), 409)
    stale_level = answered(
        as_admin.patch(f"/api/service-levels/{level['id']}", {"rank": 2, "version": 7}), 409
    )
    assert stale_level["error"]["current"] == level
    settings = answered(as_admin.get("/api/settings"))
    stale_settings = answered(as_admin.put("/api/settings", {**settings, "version": 7}), 409)
    assert stale_settings["error"]["current"] == settings
    answered(as_admin.post("/api/contacts", {"name": "x" * 70_000, "email": "a@example.com"}), 413)
    answered(
        as_admin.post("/api/categories", {"name": "Billing"}, headers={"Content-Type": "text/plain"}), 415
    )
    answered(as_admin.post("/api/categories", {"name": "Billing", "colour": "red"}), 422)
    answered(as_admin.get("/api/contacts?colour=red"), 422)
    answered(as_admin.get("/api/tickets?cursor=forged"), 422)
    answered(as_admin.get(f"/api/tickets/{ticket['id']}/notes?cursor=forged"), 422)
    answered(as_admin.get("/api/tickets/999999/notes"), 404)
    answered(as_admin.get("/api/staff?limit=500"), 422)
    for _ in range(6):
        last = as_nobody.post("/api/auth/login", {"email": "admin@example.com", "password": "wrong password"})
    assert last.status_code == 429
    assert int(last.headers["Retry-After"]) > 0

    statuses = {status for _, _, status in as_admin.checker.seen}
    assert {400, 401, 403, 404, 409, 413, 415, 422, 429} <= statuses


def test_agents_are_refused_exactly_the_operations_documented_as_admin_only(as_agent):
    """GIVEN an agent WHEN they call every operation with made-up ids and an empty body
    THEN the answer is 403 where, and only where, the document lists 403."""
    document = as_agent.checker.document
    calls = sorted(
        ((path, method) for path, item in document["paths"].items() for method in item),
        key=lambda call: call == ("/api/auth/logout", "post"),  # signing out goes last
    )

    for path, method in calls:
        url = re.sub(r"{ticket_id}", "1000", path)
        url = re.sub(r"{\w+}", "missing", url)
        body = {} if method in ("post", "put", "patch") else None
        response = as_agent.call(method.upper(), url, body)

        documented_admin_only = "403" in document["paths"][path][method]["responses"]
        assert (response.status_code == 403) == documented_admin_only, f"{method} {path}: {response.body}"
