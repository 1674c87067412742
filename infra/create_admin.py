"""Create a staff admin in a deployed helpdesk: the first one, or another after a lock-out.

A new stack has no staff, and ``POST /api/staff`` needs an admin, so the first admin is
made from outside the API by someone holding AWS credentials for the stack. The tool runs
the same checks and the same write as that endpoint (``chalicelib.domain.staff.create``),
straight into the table that the stack's ``TableName`` output names.

Usage::

    make admin STAGE=prod EMAIL=ada@example.com NAME="Ada Lovelace"
    python -m infra.create_admin --stack helpdesk-prod --email ... --name ...
    python -m infra.create_admin --table <table name> --email ... --name ...

The password is asked for without echo, or read from ``HELPDESK_ADMIN_PASSWORD`` (for
scripts); it is never a command-line argument, which other users of the machine could see.
The table's region is ``--region``, else the AWS configuration's, as for the AWS CLI.
Exit status: 0 created, 1 AWS refused or failed (no credentials, no such stack or table),
2 refused by the checks (the message names the field).
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

TABLE_OUTPUT = "TableName"


def table_of(stack: str, cloudformation: Any) -> str:
    """The helpdesk table of a deployed stack, from its ``TableName`` output."""
    found = cloudformation.describe_stacks(StackName=stack)["Stacks"]
    outputs = (
        {item["OutputKey"]: item["OutputValue"] for item in found[0].get("Outputs", [])} if found else {}
    )
    if TABLE_OUTPUT not in outputs:
        raise SystemExit(f"stack {stack} has no {TABLE_OUTPUT} output: is it a helpdesk stack?")
    return str(outputs[TABLE_OUTPUT])


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m infra.create_admin", description=__doc__.splitlines()[0])
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--stack", help="the CloudFormation stack, e.g. helpdesk-prod")
    where.add_argument("--table", help="the helpdesk table's name, when the stack is not at hand")
    parser.add_argument("--email", required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--region", help="the stack's region (default: the AWS configuration's)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None, *, ask: Callable[[str], str] = getpass.getpass) -> int:
    options = _arguments(argv)
    password = os.environ.get("HELPDESK_ADMIN_PASSWORD") or ask("Password for the new admin: ")

    import boto3
    from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]

    region = options.region or boto3.session.Session().region_name or "us-east-1"
    try:
        table = options.table or table_of(options.stack, boto3.client("cloudformation", region_name=region))
    except (BotoCoreError, ClientError) as exc:
        print(f"failed: {exc}", file=sys.stderr)
        return 1

    # The models read the table's name and region when they are imported: set them first.
    os.environ["HELPDESK_TABLE"] = table
    os.environ["AWS_REGION"] = region
    from pynamodb.exceptions import PynamoDBException

    from chalicelib.domain import staff
    from chalicelib.errors import HelpdeskError

    body = {"email": options.email, "name": options.name, "role": "admin", "password": password}
    try:
        member = staff.create(body)
    except HelpdeskError as exc:
        print(f"refused: {exc.message}", file=sys.stderr)
        return 2
    except PynamoDBException as exc:
        print(f"failed: {exc} (table {table} in {region})", file=sys.stderr)
        return 1
    print(f"admin {member.email} created (id {member.id}) in table {table} ({region})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
