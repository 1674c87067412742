"""Create the tables from the CloudFormation template the deployment uses."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

TEMPLATE = Path(__file__).resolve().parent.parent / "infra" / "template.json"


def table_definitions() -> dict[str, dict[str, Any]]:
    """Logical id -> properties of every DynamoDB table in the merge template."""
    resources = json.loads(TEMPLATE.read_text())["Resources"]
    return {
        logical_id: resource["Properties"]
        for logical_id, resource in resources.items()
        # Overrides of Chalice's generated resources carry no Type: they are not tables.
        if resource.get("Type") == "AWS::DynamoDB::Table"
    }


def create_table(client: Any, table_name: str, properties: dict[str, Any]) -> None:
    """CreateTable from CloudFormation properties, then TTL; waits until it is active."""
    arguments: dict[str, Any] = {
        "TableName": table_name,
        "BillingMode": properties["BillingMode"],
        "AttributeDefinitions": properties["AttributeDefinitions"],
        "KeySchema": properties["KeySchema"],
    }
    if "GlobalSecondaryIndexes" in properties:
        arguments["GlobalSecondaryIndexes"] = properties["GlobalSecondaryIndexes"]
    if "StreamSpecification" in properties:
        arguments["StreamSpecification"] = {"StreamEnabled": True, **properties["StreamSpecification"]}
    client.create_table(**arguments)
    client.get_waiter("table_exists").wait(TableName=table_name)
    ttl = properties.get("TimeToLiveSpecification")
    if ttl:
        client.update_time_to_live(TableName=table_name, TimeToLiveSpecification=ttl)


def create_all(client: Any, names: dict[str, str]) -> None:
    """Create each table of the template under the name ``names`` gives its logical id."""
    for logical_id, properties in table_definitions().items():
        create_table(client, names[logical_id], properties)
