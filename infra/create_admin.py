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
Exit status: 0 created, 2 refused (the message names the field).
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
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None, *, ask: Callable[[str], str] = getpass.getpass) -> int:
    options = _arguments(argv)
    password = os.environ.get("HELPDESK_ADMIN_PASSWORD") or ask("Password for the new admin: ")
    if options.table:
        table = options.table
    else:
        import boto3

        table = table_of(options.stack, boto3.client("cloudformation"))

    # The models read the table's name when they are imported: set it first.
    os.environ["HELPDESK_TABLE"] = table
    from chalicelib.domain import staff
    from chalicelib.errors import HelpdeskError

    body = {"email": options.email, "name": options.name, "role": "admin", "password": password}
    try:
        member = staff.create(body)
    except HelpdeskError as exc:
        print(f"refused: {exc.message}", file=sys.stderr)
        return 2
    print(f"admin {member.email} created (id {member.id}) in table {table}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
