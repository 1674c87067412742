"""The CloudFormation merge template, and the package `make package` builds from it.

Two sources describe the table (the PynamoDB model and the template) and Chalice writes
half of the deployed template itself, so these tests read what would really be deployed.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chalicelib.store.models import Item
from tests.infra.packaging import PROJECT_DIR, Package, tool

TABLE = "HelpdeskTable"
IDEMPOTENCY_TABLE = "IdempotencyTable"
STREAM_HANDLER = "OnTableChange"
STREAM_EVENT = "OnTableChangeDynamodbEventSource"
RUNTIME = "python3.13"
# DynamoDB keeps stream records for 24 hours; older ones cannot be retried anyway.
STREAM_RETENTION_SECONDS = 86400
# Lambda's own upper bound for MaximumRetryAttempts; -1 means "retry until the record expires".
LAMBDA_MAX_RETRIES = 10000


# -- helpers -------------------------------------------------------------------------


def key_schema(elements: list[dict[str, str]]) -> dict[str, str]:
    """KeyType -> attribute name: the order of a KeySchema list carries no meaning."""
    return {element["KeyType"]: element["AttributeName"] for element in elements}


def get_att_target(value: Any, attribute: str) -> str:
    """The logical id a `Fn::GetAtt` of ``attribute`` points at; fails on anything else."""
    assert isinstance(value, dict), f"not a GetAtt: {value!r}"
    assert set(value) == {"Fn::GetAtt"}, f"not a GetAtt: {value!r}"
    target, got_attribute = value["Fn::GetAtt"]
    assert got_attribute == attribute, f"GetAtt reads {got_attribute}, expected {attribute}"
    return str(target)


def functions(package: Package) -> dict[str, dict[str, Any]]:
    return {
        logical_id: resource
        for logical_id, resource in package.resources.items()
        if resource.get("Type") in {"AWS::Serverless::Function", "AWS::Lambda::Function"}
    }


def statements(node: Any) -> Iterator[dict[str, Any]]:
    """Every policy statement anywhere in a template: roles, policies, queue policies."""
    if isinstance(node, dict):
        found = node.get("Statement")
        if isinstance(found, list):
            yield from (statement for statement in found if isinstance(statement, dict))
        elif isinstance(found, dict):
            yield found
        for value in node.values():
            yield from statements(value)
    elif isinstance(node, list):
        for value in node:
            yield from statements(value)


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def role_actions(package: Package, role: str) -> set[str]:
    """Every action a role's inline policies allow."""
    return {
        action
        for statement in statements(package.resources[role]["Properties"]["Policies"])
        if statement["Effect"] == "Allow"
        for action in as_list(statement["Action"])
    }


def role_statement(package: Package, role: str, action: str) -> dict[str, Any]:
    matching = [
        statement
        for statement in statements(package.resources[role]["Properties"]["Policies"])
        if statement["Effect"] == "Allow" and action in as_list(statement["Action"])
    ]
    assert len(matching) == 1, f"{role} should allow {action} in exactly one statement"
    return matching[0]


def stream_event(package: Package) -> dict[str, Any]:
    event: dict[str, Any] = package.resources[STREAM_HANDLER]["Properties"]["Events"][STREAM_EVENT]
    return event


def cfn_lint(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - fixed argument list, no shell
        [tool("cfn-lint"), "--format", "parseable", str(path)],
        capture_output=True,
        text=True,
        timeout=300,
    )


# -- the table against the model -----------------------------------------------------


@pytest.fixture(scope="module")
def table(merge_template: dict[str, Any]) -> dict[str, Any]:
    properties: dict[str, Any] = merge_template["Resources"][TABLE]["Properties"]
    return properties


@pytest.fixture(scope="module")
def model_schema() -> dict[str, Any]:
    return dict(Item._get_schema())


def test_the_table_is_keyed_like_the_model(table: dict[str, Any], model_schema: dict[str, Any]) -> None:
    assert key_schema(table["KeySchema"]) == key_schema(model_schema["key_schema"])


def test_the_table_declares_exactly_the_model_indexes_with_their_keys_and_projection(
    table: dict[str, Any], model_schema: dict[str, Any]
) -> None:
    declared = {
        index["IndexName"]: (key_schema(index["KeySchema"]), index["Projection"])
        for index in table["GlobalSecondaryIndexes"]
    }
    modelled = {
        index["index_name"]: (key_schema(index["key_schema"]), index["projection"])
        for index in model_schema["global_secondary_indexes"]
    }

    assert sorted(declared) == sorted(modelled)
    for name, (keys, projection) in modelled.items():
        assert declared[name] == (keys, projection), f"index {name} differs from the model"
    assert not model_schema["local_secondary_indexes"]
    assert "LocalSecondaryIndexes" not in table


def test_the_table_defines_exactly_the_key_attributes_of_the_model(
    table: dict[str, Any], model_schema: dict[str, Any]
) -> None:
    declared = {item["AttributeName"]: item["AttributeType"] for item in table["AttributeDefinitions"]}
    modelled = {
        item["AttributeName"]: item["AttributeType"] for item in model_schema["attribute_definitions"]
    }

    assert declared == modelled


def test_the_table_streams_new_and_old_images_as_the_model_expects(table: dict[str, Any]) -> None:
    assert table["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert Item.Meta.stream_view_type == "NEW_AND_OLD_IMAGES"


def test_the_table_expires_items_by_the_model_ttl_attribute(table: dict[str, Any]) -> None:
    ttl_attribute = Item._ttl_attribute()

    assert ttl_attribute is not None
    assert table["TimeToLiveSpecification"] == {"AttributeName": ttl_attribute.attr_name, "Enabled": True}


def test_the_table_has_point_in_time_recovery_and_survives_stack_deletion(
    merge_template: dict[str, Any], table: dict[str, Any]
) -> None:
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert merge_template["Resources"][TABLE]["DeletionPolicy"] == "Retain"
    assert merge_template["Resources"][TABLE]["UpdateReplacePolicy"] == "Retain"


# -- the packaged template -----------------------------------------------------------


def test_the_merge_template_overrides_only_resources_chalice_generates(
    package: Package, merge_template: dict[str, Any]
) -> None:
    # A renamed handler changes Chalice's logical ids: its override would become a
    # resource without a type, and the real function would keep the placeholder stream.
    untyped = [logical_id for logical_id, resource in package.resources.items() if "Type" not in resource]

    assert untyped == []
    for logical_id in merge_template["Resources"]:
        assert logical_id in package.resources


def test_every_function_runs_on_python_3_13(package: Package) -> None:
    found = functions(package)

    assert {"APIHandler", STREAM_HANDLER} <= set(found)
    for logical_id, function in found.items():
        assert function["Properties"]["Runtime"] == RUNTIME, logical_id


def test_every_stream_event_source_reads_the_stream_of_a_table_in_the_template(package: Package) -> None:
    sources = [
        (logical_id, event["Properties"])
        for logical_id, function in functions(package).items()
        for event in function["Properties"].get("Events", {}).values()
        if event["Type"] == "DynamoDB"
    ]

    assert [logical_id for logical_id, _ in sources] == [STREAM_HANDLER]
    for _, properties in sources:
        table_id = get_att_target(properties["Stream"], "StreamArn")
        table = package.resources[table_id]
        assert table["Type"] == "AWS::DynamoDB::Table"
        assert table["Properties"]["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"


def test_the_stream_event_source_reports_partial_failures_and_bisects_failing_batches(
    package: Package,
) -> None:
    properties = stream_event(package)["Properties"]

    assert properties["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert properties["BisectBatchOnFunctionError"] is True
    assert properties["StartingPosition"] == "TRIM_HORIZON"


def test_the_stream_event_source_batches_as_the_handler_declares(package: Package) -> None:
    from app import app

    declared = [source for source in app.event_sources if source.handler_string == "app.on_table_change"]

    assert len(declared) == 1
    assert stream_event(package)["Properties"]["BatchSize"] == getattr(declared[0], "batch_size", None)


def test_the_stream_event_source_gives_up_after_finite_retries_and_a_maximum_record_age(
    package: Package,
) -> None:
    properties = stream_event(package)["Properties"]

    assert 0 <= properties["MaximumRetryAttempts"] <= LAMBDA_MAX_RETRIES
    assert 60 <= properties["MaximumRecordAgeInSeconds"] <= STREAM_RETENTION_SECONDS


def test_records_given_up_on_go_to_an_encrypted_long_lived_queue_with_an_alarm(package: Package) -> None:
    destination = stream_event(package)["Properties"]["DestinationConfig"]["OnFailure"]["Destination"]
    queue_id = get_att_target(destination, "Arn")
    queue = package.resources[queue_id]

    assert queue["Type"] == "AWS::SQS::Queue"
    assert queue["Properties"]["SqsManagedSseEnabled"] is True
    assert queue["Properties"]["MessageRetentionPeriod"] == 14 * 24 * 3600

    alarms = [
        resource["Properties"]
        for resource in package.resources.values()
        if resource["Type"] == "AWS::CloudWatch::Alarm"
        and resource["Properties"]["MetricName"] == "ApproximateNumberOfMessagesVisible"
        and {"Name": "QueueName", "Value": {"Fn::GetAtt": [queue_id, "QueueName"]}}
        in resource["Properties"]["Dimensions"]
    ]
    assert len(alarms) == 1
    assert alarms[0]["Threshold"] == 0
    assert alarms[0]["ComparisonOperator"] == "GreaterThanThreshold"


def test_no_policy_allows_wildcard_actions_or_a_table_scan(package: Package) -> None:
    allowed = [statement for statement in statements(package.template) if statement["Effect"] == "Allow"]

    assert allowed, "the template should carry explicit policies"
    for statement in allowed:
        assert "NotAction" not in statement, statement
        for action in as_list(statement["Action"]):
            assert "*" not in action, statement
            assert action.lower() != "dynamodb:scan", statement


def test_no_role_keeps_chalices_deny_all_placeholder(package: Package) -> None:
    roles = [resource for resource in package.resources.values() if resource["Type"] == "AWS::IAM::Role"]

    assert len(roles) == 2
    for role in roles:
        for statement in statements(role["Properties"]["Policies"]):
            assert statement.get("Sid") != "ReplacedByInfraTemplate"
            assert not (statement["Effect"] == "Deny" and statement["Action"] == "*")


def test_the_api_role_allows_only_the_table_operations_the_app_performs(package: Package) -> None:
    # TransactWriteItems needs no action of its own: each item is checked as the put,
    # update, delete or condition check it is.
    assert role_actions(package, "ApiHandlerRole") == {
        "dynamodb:GetItem",
        "dynamodb:BatchGetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:ConditionCheckItem",
        "dynamodb:Query",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
    }
    # Item operations on the table, and on the idempotency table for the website endpoint's
    # double submits (Powertools idempotency); nothing else on either.
    by_resource = {
        json.dumps(statement["Resource"], sort_keys=True): set(as_list(statement["Action"]))
        for statement in statements(package.resources["ApiHandlerRole"]["Properties"]["Policies"])
        if any(
            action.startswith("dynamodb:") and action != "dynamodb:Query"
            for action in as_list(statement["Action"])
        )
    }
    assert by_resource == {
        json.dumps({"Fn::GetAtt": [TABLE, "Arn"]}): {
            "dynamodb:GetItem",
            "dynamodb:BatchGetItem",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "dynamodb:DeleteItem",
            "dynamodb:ConditionCheckItem",
        },
        json.dumps({"Fn::GetAtt": [IDEMPOTENCY_TABLE, "Arn"]}): {
            "dynamodb:GetItem",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "dynamodb:DeleteItem",
        },
    }
    variables = package.resources["APIHandler"]["Properties"]["Environment"]["Variables"]
    assert variables["HELPDESK_IDEMPOTENCY_TABLE"] == {"Ref": IDEMPOTENCY_TABLE}
    assert role_statement(package, "ApiHandlerRole", "dynamodb:Query")["Resource"] == [
        {"Fn::GetAtt": [TABLE, "Arn"]},
        {"Fn::Sub": f"${{{TABLE}.Arn}}/index/*"},
    ]


def test_the_stream_role_reads_only_its_stream_and_writes_only_to_its_failure_queue(package: Package) -> None:
    queue_id = get_att_target(
        stream_event(package)["Properties"]["DestinationConfig"]["OnFailure"]["Destination"], "Arn"
    )

    assert role_statement(package, "OnTableChangeRole", "dynamodb:GetRecords")["Resource"] == {
        "Fn::GetAtt": [TABLE, "StreamArn"]
    }
    assert role_statement(package, "OnTableChangeRole", "sqs:SendMessage")["Resource"] == {
        "Fn::GetAtt": [queue_id, "Arn"]
    }
    assert {"ses:SendEmail", "ses:SendRawEmail", "sns:Publish"} <= role_actions(package, "OnTableChangeRole")
    # Deleting is Powertools idempotency's own business (a failed send frees its key), on its table only.
    assert role_statement(package, "OnTableChangeRole", "dynamodb:DeleteItem")["Resource"] == {
        "Fn::GetAtt": [IDEMPOTENCY_TABLE, "Arn"]
    }


def test_the_idempotency_table_expires_by_the_apps_expiry_attribute_and_is_named_to_the_stream_handler(
    package: Package,
) -> None:
    from chalicelib.notify import deliver

    table = package.resources[IDEMPOTENCY_TABLE]
    properties = table["Properties"]

    assert table["Type"] == "AWS::DynamoDB::Table"
    assert properties["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    # TTL deletes a record only once the app's expiry has passed: the expiry itself, longer
    # than the stream's retention, is checked on a real record in tests/functional
    # (test_notifications: "each send is remembered for longer than the stream keeps its record").
    assert properties["TimeToLiveSpecification"] == {
        "AttributeName": deliver.EXPIRY_ATTRIBUTE,
        "Enabled": True,
    }
    assert deliver.IDEMPOTENCY_EXPIRY > STREAM_RETENTION_SECONDS
    assert properties["SSESpecification"] == {"SSEEnabled": True}
    assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    variables = package.resources[STREAM_HANDLER]["Properties"]["Environment"]["Variables"]
    assert variables["HELPDESK_IDEMPOTENCY_TABLE"] == {"Ref": IDEMPOTENCY_TABLE}


def test_every_function_is_told_its_table_secret_key_and_public_url(package: Package) -> None:
    for logical_id, function in functions(package).items():
        variables = function["Properties"]["Environment"]["Variables"]

        assert variables["HELPDESK_TABLE"] == {"Ref": TABLE}, logical_id
        secret_reference = variables["HELPDESK_SECRET_KEY"]["Fn::Sub"]
        assert secret_reference == "{{resolve:secretsmanager:${HelpdeskSecretKey}:SecretString}}"
        assert "PublicUrl" in json.dumps(variables["HELPDESK_PUBLIC_URL"]), logical_id

    secret = package.resources["HelpdeskSecretKey"]
    assert secret["Type"] == "AWS::SecretsManager::Secret"
    # chalicelib.settings refuses a key shorter than 32 characters.
    assert secret["Properties"]["GenerateSecretString"]["PasswordLength"] >= 64


def test_the_outputs_name_the_api_url_the_table_and_the_failure_queue(package: Package) -> None:
    outputs = package.template["Outputs"]

    assert "execute-api" in outputs["EndpointURL"]["Value"]["Fn::Sub"]
    assert outputs["TableName"]["Value"] == {"Ref": TABLE}
    assert outputs["StreamFailureQueueUrl"]["Value"] == {"Ref": "StreamFailureQueue"}


def test_the_packaged_template_passes_cfn_lint(package: Package) -> None:
    result = cfn_lint(package.template_path)

    assert result.returncode == 0, result.stdout + result.stderr


def test_the_stream_event_source_passes_cfn_lint_as_the_event_source_mapping_it_becomes(
    package: Package, tmp_path: Path
) -> None:
    # cfn-lint checks SAM event properties loosely; the SAM transform turns this event
    # into an EventSourceMapping, whose schema cfn-lint knows field by field.
    properties = dict(stream_event(package)["Properties"])
    mapping = {
        "Type": "AWS::Lambda::EventSourceMapping",
        "Properties": {
            "FunctionName": {"Ref": STREAM_HANDLER},
            "EventSourceArn": properties.pop("Stream"),
            **properties,
        },
    }
    template = {**package.template, "Resources": {**package.resources, "StreamMappingUnderTest": mapping}}
    path = tmp_path / "with-mapping.json"
    path.write_text(json.dumps(template))

    result = cfn_lint(path)

    assert result.returncode == 0, result.stdout + result.stderr


# -- the code archive ----------------------------------------------------------------


def test_the_code_archive_holds_the_app_its_library_and_every_template(package: Package) -> None:
    templates = {
        path.relative_to(PROJECT_DIR).as_posix()
        for path in (PROJECT_DIR / "templates").rglob("*")
        if path.is_file()
    }

    assert "app.py" in package.archive_names
    assert "chalicelib/store/models.py" in package.archive_names
    assert "templates/layout.html" in templates
    assert templates <= package.archive_names


def test_the_code_archive_leaves_out_local_tooling_and_tests(package: Package) -> None:
    top_level = {name.split("/", 1)[0] for name in package.archive_names}

    assert not top_level & {"local", "tests", "vendor", "infra", ".chalice"}


def test_every_module_in_the_archive_comes_with_bytecode_lambda_uses_as_it_is(package: Package) -> None:
    # Lambda cannot write a bytecode cache: without these, every cold start compiles
    # botocore and the app again. ``unchecked-hash`` pycs are used whatever the zip's dates.
    import importlib.util
    import sys
    import zipfile

    tag = sys.implementation.cache_tag
    sources = {
        name for name in package.archive_names if name.endswith(".py") and not name.startswith("templates/")
    }
    missing = {
        name for name in sources if importlib.util.cache_from_source(name) not in package.archive_names
    }
    assert sources
    assert missing == set()
    with zipfile.ZipFile(package.directory / "deployment.zip") as archive:
        header = archive.read(f"__pycache__/app.{tag}.pyc")[:16]
        info = archive.getinfo(f"chalicelib/store/__pycache__/models.{tag}.pyc")
    assert int.from_bytes(header[4:8], "little") == 0b01  # hash-based, source not checked
    assert info.date_time == (1980, 1, 1, 0, 0, 0)
