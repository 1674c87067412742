"""``python -m infra.create_admin``: the first admin of a deployed helpdesk, made from outside
the API with the endpoint's own checks."""

from __future__ import annotations

import pytest
from botocore.stub import Stubber
from chalice.test import Client

from infra import create_admin
from tests.functional.conftest import Api

PASSWORD = "a long and private password"


@pytest.fixture
def table(monkeypatch: pytest.MonkeyPatch) -> str:
    """The test table; the tool sets ``HELPDESK_TABLE``, which is put back after the test."""
    from chalicelib.settings import table_name_from_env

    name = table_name_from_env()
    monkeypatch.setenv("HELPDESK_TABLE", name)
    monkeypatch.delenv("HELPDESK_ADMIN_PASSWORD", raising=False)
    return name


def run(*argv: str) -> int:
    return create_admin.main(list(argv), ask=lambda prompt: PASSWORD)


def test_the_admin_it_creates_signs_in_as_an_admin(
    client: Client, table: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("--table", table, "--email", "Boss@Example.com", "--name", "Bo Boss") == 0

    assert "admin boss@example.com created" in capsys.readouterr().out
    login = Api(client).post("/api/auth/login", {"email": "boss@example.com", "password": PASSWORD})
    assert login.status_code == 200
    me = Api(client, login.data["token"]).get("/api/auth/me").data
    assert (me["name"], me["role"], me["active"]) == ("Bo Boss", "admin", True)
    # The staff list (and its directory) knows the new admin, as after POST /api/staff.
    listed = Api(client, login.data["token"]).get("/api/staff").data["items"]
    assert [member["email"] for member in listed] == ["boss@example.com"]


def test_the_password_can_come_from_the_environment_for_scripts(
    client: Client, table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HELPDESK_ADMIN_PASSWORD", "another long password")

    def never(prompt: str) -> str:
        raise AssertionError("asked for a password that the environment gave")

    assert (
        create_admin.main(["--table", table, "--email", "ops@example.com", "--name", "Ops"], ask=never) == 0
    )
    login = Api(client).post(
        "/api/auth/login", {"email": "ops@example.com", "password": "another long password"}
    )
    assert login.status_code == 200


@pytest.mark.parametrize(
    ("email", "password", "field"),
    [("not an address", PASSWORD, "email"), ("weak@example.com", "short", "password")],
)
def test_a_bad_value_is_refused_naming_it_and_nothing_is_written(
    client: Client,
    table: str,
    capsys: pytest.CaptureFixture[str],
    email: str,
    password: str,
    field: str,
) -> None:
    status = create_admin.main(
        ["--table", table, "--email", email, "--name", "X"], ask=lambda prompt: password
    )

    assert status == 2
    assert f"'{field}'" in capsys.readouterr().err
    from chalicelib.store.models import Staff

    assert list(Staff.listing.query("STAFF")) == []


def test_an_address_already_on_the_staff_is_refused(
    client: Client, table: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("--table", table, "--email", "boss@example.com", "--name", "Bo Boss") == 0

    assert run("--table", table, "--email", "BOSS@example.com", "--name", "Bo Again") == 2
    assert "refused:" in capsys.readouterr().err


def test_the_table_is_found_through_the_stacks_output() -> None:
    import boto3

    cloudformation = boto3.client("cloudformation", region_name="us-east-1")
    outputs = [
        {"OutputKey": "EndpointURL", "OutputValue": "https://x"},
        {"OutputKey": "TableName", "OutputValue": "hd-prod-Table-1"},
    ]
    with Stubber(cloudformation) as stub:
        stub.add_response("describe_stacks", {"Stacks": [_stack(outputs)]}, {"StackName": "helpdesk-prod"})
        assert create_admin.table_of("helpdesk-prod", cloudformation) == "hd-prod-Table-1"
        stub.add_response("describe_stacks", {"Stacks": [_stack(outputs[:1])]}, {"StackName": "other"})
        with pytest.raises(SystemExit, match="no TableName output"):
            create_admin.table_of("other", cloudformation)


def _stack(outputs: list[dict[str, str]]) -> dict[str, object]:
    from datetime import UTC, datetime

    return {
        "StackName": "s",
        "CreationTime": datetime(2026, 1, 1, tzinfo=UTC),
        "StackStatus": "CREATE_COMPLETE",
        "Outputs": outputs,
    }
