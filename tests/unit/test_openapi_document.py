"""The OpenAPI document against the code it describes: routes, views and validation specs.

Nothing here talks to AWS. The functional tier (``tests/functional/test_openapi.py``)
checks real answers against the document.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import OpenAPIV31SpecValidator, validate

from chalicelib.api.openapi_routes import DOCUMENT
from chalicelib.domain import contacts, embed, ledger, setup, sites, staff, ticket_notes, tickets
from chalicelib.validation import Field, parse_fields, text

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
SETUP_SEGMENTS = ("service-levels", "categories", "statuses", "rating-options")

# Each documented request body and the validation spec that really checks it;
# ``True`` marks a partial edit (no field required but the version, when there is one).
REQUEST_SPECS: dict[tuple[str, str], tuple[Mapping[str, Field], bool]] = {
    ("/api/auth/login", "post"): (staff.LOGIN_SPEC, False),
    ("/api/staff", "post"): (staff.CREATE_SPEC, False),
    ("/api/staff/{staff_id}", "patch"): (staff.UPDATE_SPEC, True),
    ("/api/contacts", "post"): (contacts.CONTACT_SPEC, False),
    ("/api/contacts/{contact_id}", "patch"): (contacts.UPDATE_SPEC, True),
    ("/api/contacts/{contact_id}/transactions", "post"): (ledger.ENTRY_SPEC, False),
    ("/api/tickets", "post"): (tickets.CREATE_SPEC, False),
    ("/api/tickets/{ticket_id}", "patch"): (tickets.UPDATE_SPEC, True),
    ("/api/tickets/{ticket_id}/notes", "post"): (ticket_notes.NOTE_SPEC, False),
    ("/api/settings", "put"): (setup.REPLACE_SETTINGS_SPEC, False),
    ("/api/sites", "post"): (sites.CREATE_SPEC, False),
    ("/api/sites/{site_id}", "patch"): (sites.UPDATE_SPEC, True),
    ("/embed/v1/tickets", "post"): ({**embed.SPEC, "site_key": Field(text(120))}, False),
    **{
        (f"/api/{segment}", "post"): (setup.COLLECTIONS[segment.replace("-", "_")], False)
        for segment in SETUP_SEGMENTS
    },
    **{
        (f"/api/{segment}/{{entry_id}}", "patch"): (setup.UPDATE_SPECS[segment.replace("-", "_")], True)
        for segment in SETUP_SEGMENTS
    },
}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DOCUMENT.read_text())
    return loaded


@pytest.fixture(scope="module")
def routes() -> dict[tuple[str, str], Any]:
    """The app's real JSON routes, under ``/api`` and ``/embed/v1`` (not the widget script):
    (path, lower-case method) -> Chalice RouteEntry."""
    from app import app

    return {
        (path, method.lower()): entry
        for path, methods in app.routes.items()
        if path.startswith(("/api/", "/embed/v1/")) and not path.endswith(".js")
        for method, entry in methods.items()
    }


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def resolve(document: dict[str, Any], node: Any) -> Any:
    """Follow a local ``$ref`` (and any chain of them) to the object it names."""
    while isinstance(node, dict) and "$ref" in node:
        reference = node["$ref"]
        assert reference.startswith("#/"), f"only local references are used, found {reference}"
        node = document
        for part in reference[2:].split("/"):
            key = part.replace("~1", "/").replace("~0", "~")
            assert isinstance(node, dict), f"{reference} does not resolve"
            assert key in node, f"{reference} does not resolve"
            node = node[key]
    return node


def references(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from references(value)
    elif isinstance(node, list):
        for value in node:
            yield from references(value)


def request_schema(document: dict[str, Any], path: str, method: str) -> dict[str, Any]:
    body = document["paths"][path][method]["requestBody"]
    schema: dict[str, Any] = resolve(document, body["content"]["application/json"]["schema"])
    return schema


# -- the document is OpenAPI -------------------------------------------------------------


def test_the_document_is_valid_openapi_3_1(document):
    assert document["openapi"].startswith("3.1.")

    validate(document, cls=OpenAPIV31SpecValidator)


def test_every_reference_resolves_inside_the_document(document):
    found = set(references(document))

    assert found, "the document uses references"
    for reference in found:
        assert resolve(document, {"$ref": reference}) is not None


def test_every_component_is_referenced_somewhere(document):
    used = set(references(document))

    for kind, components in document["components"].items():
        if kind == "securitySchemes":
            continue
        for name in components:
            assert f"#/components/{kind}/{name}" in used, f"{kind}/{name} is never used"


def test_every_schema_is_itself_a_valid_json_schema(document):
    for schema in document["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)


# -- the document and the routes agree -----------------------------------------------------


def test_documented_operations_are_exactly_the_app_routes(document, routes):
    documented = {(path, method) for path, method, _ in operations(document)}

    assert documented - routes.keys() == set(), "documented but not routed"
    assert routes.keys() - documented == set(), "routed but not documented"


def test_path_parameters_are_the_route_variables(document, routes):
    for path, method, operation in operations(document):
        parameters = [
            resolve(document, parameter)
            for parameter in document["paths"][path].get("parameters", []) + operation.get("parameters", [])
        ]
        declared = [parameter["name"] for parameter in parameters if parameter["in"] == "path"]

        assert declared == re.findall(r"{(\w+)}", path), f"{method} {path}"
        assert declared == routes[(path, method)].view_args, f"{method} {path}"
        assert all(p["required"] for p in parameters if p["in"] == "path"), f"{method} {path}"


def test_operation_ids_are_the_view_names_and_unique(document, routes):
    seen = [operation["operationId"] for _, _, operation in operations(document)]

    assert len(seen) == len(set(seen))
    for path, method, operation in operations(document):
        assert operation["operationId"] == routes[(path, method)].view_name


def test_only_sign_in_and_this_document_need_no_token(document):
    assert document["security"] == [{"bearerToken": []}]
    scheme = document["components"]["securitySchemes"]["bearerToken"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")

    open_operations = {
        (path, method) for path, method, operation in operations(document) if operation.get("security") == []
    }
    assert open_operations == {
        ("/api/auth/login", "post"),
        ("/api/openapi.json", "get"),
        ("/embed/v1/tickets", "options"),
        ("/embed/v1/form-token", "get"),
    }
    site_key_operations = {
        (path, method)
        for path, method, operation in operations(document)
        if operation.get("security") == [{"siteKey": []}]
    }
    assert site_key_operations == {("/embed/v1/tickets", "post")}
    for path, method, operation in operations(document):
        if path.startswith("/embed/"):
            assert "401" not in operation["responses"], f"{method} {path}: no staff token here"
        elif (path, method) not in open_operations:
            assert "401" in operation["responses"], f"{method} {path}"


def test_admin_only_operations_say_so_and_list_403(document):
    for path, method, operation in operations(document):
        if path.startswith("/embed/"):
            continue  # a 403 there is a refused site key or origin, not a role
        admin_only = "Admins only" in operation["description"]

        assert admin_only == ("403" in operation["responses"]), f"{method} {path}"


def test_every_json_error_answer_uses_the_error_envelope(document):
    for path, method, operation in operations(document):
        for status, response in operation["responses"].items():
            if not status.startswith("4") or status == "415":
                continue
            schema = resolve(document, resolve(document, response)["content"]["application/json"]["schema"])
            detail = schema["properties"]["error"]

            assert schema["required"] == ["error"], f"{method} {path} {status}"
            assert set(detail["required"]) == {"code", "message", "field"}, f"{method} {path} {status}"


def test_throttled_sign_in_documents_retry_after(document):
    response = resolve(document, document["paths"]["/api/auth/login"]["post"]["responses"]["429"])

    assert "Retry-After" in response["headers"]


def test_list_operations_take_limit_and_cursor_and_answer_a_page(document):
    paged = {
        "/api/staff",
        "/api/contacts",
        "/api/tickets",
        "/api/contacts/{contact_id}/tickets",
        "/api/tickets/{ticket_id}/notes",
    }

    for path in paged:
        operation = document["paths"][path]["get"]
        names = {resolve(document, parameter)["name"] for parameter in operation["parameters"]}
        page = resolve(document, operation["responses"]["200"]["content"]["application/json"]["schema"])

        assert {"limit", "cursor"} <= names, path
        assert set(page["required"]) == {"items", "next_cursor"}, path


def test_ticket_list_documents_every_filter_the_route_accepts(document):
    from chalicelib.api.ticket_routes import LIST_PARAMS

    parameters = document["paths"]["/api/tickets"]["get"]["parameters"]
    names = [resolve(document, parameter)["name"] for parameter in parameters]

    assert sorted(names) == sorted(LIST_PARAMS)


# -- request bodies and the validation specs agree -------------------------------------------


def test_every_documented_request_body_is_mapped_to_its_spec(document):
    with_body = {
        (path, method) for path, method, operation in operations(document) if "requestBody" in operation
    }

    assert with_body == REQUEST_SPECS.keys()


@pytest.mark.parametrize(("path", "method"), sorted(REQUEST_SPECS), ids=lambda value: str(value))
def test_request_body_schema_matches_the_validation_spec(document, path, method):
    spec, partial = REQUEST_SPECS[(path, method)]
    schema = request_schema(document, path, method)
    expected_required = {
        name for name, field in spec.items() if field.required and (not partial or name == "version")
    }

    assert schema["type"] == "object"
    assert schema["additionalProperties"] is False
    assert set(schema["properties"]) == set(spec)
    assert set(schema["required"]) == expected_required
    for name, field in spec.items():
        types = schema["properties"][name]["type"]
        documented_nullable = isinstance(types, list) and "null" in types
        assert documented_nullable == field.nullable, f"{name}: nullable"


@pytest.mark.parametrize(("path", "method"), sorted(REQUEST_SPECS), ids=lambda value: str(value))
def test_request_body_example_passes_the_schema_and_the_validation(document, path, method):
    spec, partial = REQUEST_SPECS[(path, method)]
    schema = request_schema(document, path, method)
    example = document["paths"][path][method]["requestBody"]["content"]["application/json"]["example"]

    Draft202012Validator(schema).validate(example)
    parse_fields(example, spec, partial=partial)
