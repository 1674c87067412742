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
    """The test table; the tool sets ``HELPDESK_TABLE`` and ``AWS_REGION``, which are put
    back after the test."""
    from chalicelib.settings import region_from_env, table_name_from_env

    name = table_name_from_env()
    monkeypatch.setenv("HELPDESK_TABLE", name)
    monkeypatch.setenv("AWS_REGION", region_from_env())
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


def test_it_runs_as_the_makefile_runs_it_and_checks_before_touching_aws() -> None:
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    # No credentials and an endpoint that answers nothing: a bad value is refused first.
    env = {
        **os.environ,
        "HELPDESK_ADMIN_PASSWORD": PASSWORD,
        "AWS_ACCESS_KEY_ID": "",
        "AWS_SECRET_ACCESS_KEY": "",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
    }
    argv = ["--table", "any", "--region", "eu-west-1", "--email", "not an address", "--name", "X"]
    done = subprocess.run(  # noqa: S603 - our own interpreter and module, no shell
        [sys.executable, "-m", "infra.create_admin", *argv],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 2, done.stderr
    assert "refused:" in done.stderr
    assert "'email'" in done.stderr
    assert "Traceback" not in done.stderr


def test_an_aws_failure_is_a_message_and_status_1_not_a_traceback(
    table: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from botocore.exceptions import NoCredentialsError

    def no_credentials(stack: str, cloudformation: object) -> str:
        raise NoCredentialsError()

    monkeypatch.setattr(create_admin, "table_of", no_credentials)
    monkeypatch.delenv("AWS_REGION", raising=False)

    status = create_admin.main(
        ["--stack", "helpdesk-prod", "--email", "a@example.com", "--name", "A"], ask=lambda p: PASSWORD
    )

    assert status == 1
    assert "failed: Unable to locate credentials" in capsys.readouterr().err
