"""``make bench``: DynamoDB cost per API operation at two scales, the stream handler's cost
per stream record, and cold import time.

Run as ``python -m tests.bench.run [--scales 1000 100000] [--changes 1000] [--runs 7]``.
Prints a table of round trips, items read, scans and writes per operation, the stream
handler's throughput and AWS calls per record over ``--changes`` ticket changes, then one
PASS/FAIL line per budget rule, and exits non-zero when any rule fails. Wall times and
throughput are printed for the reader only; nothing is judged on them.
"""

from __future__ import annotations

import argparse
import sys
import time

# The same environment the tests run with, set before anything imports the app.
import tests.conftest  # noqa: F401
from tests.bench import budget
from tests.bench.imports import (
    LAZY_MODULES,
    LAZY_SERVICES,
    ImportTimes,
    LazyReport,
    lazy_report,
    median_import_times,
)
from tests.bench.operations import ScaleRun, measure_scale
from tests.bench.stream import CYCLE, StreamRun, batch_size, measure_stream


def scale_name(tickets: int) -> str:
    return f"{tickets // 1000}k" if tickets >= 1000 and tickets % 1000 == 0 else str(tickets)


def _pair(one: int, other: int) -> str:
    return str(one) if one == other else f"{one} / {other}"


def operations_table(small: ScaleRun, large: ScaleRun) -> list[str]:
    """A Markdown table: one row per operation, both scales side by side."""
    names = f"{scale_name(small.data.tickets)} / {scale_name(large.data.tickets)}"
    lines = [
        f"| operation | kind | round trips {names} | items read {names} | scans | writes | calls | budget |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for one, other in budget.pairs(small.measurements, large.measurements):
        failures = budget.operation_failures(one, other)
        calls = " + ".join(f"{count} {name}" for name, count in other.calls.by_operation.items())
        verdict = "FAIL: " + "; ".join(failures.values()) if failures else "PASS"
        lines.append(
            f"| {one.label} | {one.kind} "
            f"| {_pair(one.calls.round_trips, other.calls.round_trips)} "
            f"| {_pair(one.calls.items_read, other.calls.items_read)} "
            f"| {one.calls.scans + other.calls.scans} "
            f"| {_pair(one.calls.writes, other.calls.writes)} "
            f"| {calls} | {verdict} |"
        )
    return lines


def import_lines(times: ImportTimes, lazy: LazyReport) -> list[str]:
    not_loaded = [name for name in LAZY_MODULES if name not in lazy.loaded]
    return [
        f"import app: {times.app_ms:.0f} ms; import boto3: {times.boto3_ms:.0f} ms "
        f"(medians of {times.runs} cold interpreters each); ratio {times.ratio:.2f}",
        "not loaded by import app: " + (", ".join(not_loaded) or "-"),
        "loaded by import app although lazy: " + (", ".join(lazy.loaded) or "none"),
        "botocore clients created by import app: "
        + (", ".join(lazy.clients) or "none")
        + f" (must not include {', '.join(LAZY_SERVICES)}); boto3 imported: "
        + ("yes" if lazy.boto3_loaded else "no"),
    ]


def _count(counter: dict[str, int]) -> str:
    return ", ".join(f"{count:,} {name}" for name, count in counter.items())


def stream_lines(run: StreamRun) -> list[str]:
    """What the stream handler did with every record the changes left, per record."""
    records = run.records
    # Records the changes left, without the delivery log entries the handler wrote itself.
    changed = records - run.kinds["delivery"]
    made = ", ".join(f"{run.made[kind]:,} {kind}" for kind in CYCLE)
    lines = [
        f"Stream handler: {run.changes:,} changes ({made}) on {run.desks} desk{'s' * (run.desks > 1)}",
        f"{records:,} stream records ({_count(dict(run.kinds.most_common()))}; the deliveries are the"
        f" handler's own log entries coming back) in {len(run.batches)} batches of up to {batch_size()}",
        f"throughput: {run.records_per_second:,.0f} records/s in-process against moto: {run.seconds:.1f} s"
        f" in the handler, {run.calls.seconds:.1f} s of it inside AWS calls (botocore and moto);"
        " printed, not judged",
        "",
        f"| calls | total | per record ({records:,}) | per record of a change ({changed:,}) |",
        "|---|---|---|---|",
    ]

    def row(label: str, count: int) -> str:
        return f"| {label} | {count:,} | {count / records:.2f} | {count / changed:.2f} |"

    calls = run.calls
    dynamodb = calls.of("dynamodb")
    roles = {name: role for role, name in run.tables.items()}
    for table in dict.fromkeys(call.table for call in dynamodb.calls):
        label = f"DynamoDB {table} ({roles.get(table or '', 'other')})"
        for operation, count in dynamodb.of("dynamodb", table).by_operation.items():
            lines.append(row(f"{label} {operation}", count))
    lines.append(row("DynamoDB round trips, both tables", dynamodb.round_trips))
    lines.append(row("DynamoDB Scans", dynamodb.scans))
    for service in ("ses", "sns"):
        for operation, count in calls.of(service).by_operation.items():
            lines.append(row(f"{service.upper()} {operation}", count))

    heaviest = max(run.batches, key=lambda batch: batch.calls.of("dynamodb").round_trips / batch.records)
    lines += [
        "",
        f"messages: {run.messages:,} ({run.emails:,} emails and {run.sms:,} SMS in moto's outbox); "
        f"DynamoDB round trips per message {dynamodb.round_trips / max(run.messages, 1):.2f}; "
        f"heaviest batch {heaviest.calls.of('dynamodb').round_trips / heaviest.records:.2f} per record "
        f"(bound {budget.STREAM_WORST_CASE}); retry sleeps {run.retry_sleeps}",
    ]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=int, nargs=2, default=[1_000, 100_000], metavar="TICKETS")
    parser.add_argument("--changes", type=int, default=1_000, help="ticket changes the stream handler takes")
    parser.add_argument("--runs", type=int, default=7, help="cold import samples per module")
    options = parser.parse_args(argv)
    started = time.perf_counter()

    # Cold imports first, while this process is small: after loading 100,000 tickets into
    # moto it holds gigabytes, and the machine then times every interpreter start slower.
    times = median_import_times(options.runs)
    lazy = lazy_report()

    # Before the scales, for the same reason: throughput is printed from a process still small.
    stream = measure_stream(options.changes)
    runs = [measure_scale(tickets) for tickets in options.scales]
    small, large = runs
    for run in runs:
        print(
            f"{run.data.tickets:,} tickets ({run.data.items:,} items, {run.data.contacts:,} contacts): "
            f"loaded in {run.load_seconds:.1f} s, operations measured in {run.measure_seconds:.1f} s"
        )
    print()
    print("\n".join(operations_table(small, large)))
    print()

    print("\n".join(stream_lines(stream)))
    print()

    print("\n".join(import_lines(times, lazy)))
    print()

    checks = [
        *budget.check_operations(small.measurements, large.measurements),
        *budget.check_stream(stream),
        budget.check_import(times),
    ]
    lazy_ok = not lazy.loaded and not lazy.eager_services
    checks.append(
        budget.Check(
            "lazy modules and clients not loaded by import app",
            lazy_ok,
            tuple(lazy.loaded + lazy.eager_services),
        )
    )
    print("Budget")
    for check in checks:
        print(f"  {'PASS' if check.passed else 'FAIL'}  {check.rule}")
        for failure in check.failures:
            print(f"          {failure}")
    print(f"\nfinished in {time.perf_counter() - started:.0f} s")
    return 0 if all(check.passed for check in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
