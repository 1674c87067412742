"""The platform's performance budget, checked against two measured scales.

Budget (issue 2, section 9): a read endpoint makes at most 2 DynamoDB round trips (the
auth batch and one data call); creating a ticket makes at most 2 writes; every operation
reads the same number of items at both scales; nothing scans; ``import app`` costs at
most 1.5 times ``import boto3``.
"""

from __future__ import annotations

from dataclasses import dataclass

from tests.bench.imports import ImportTimes
from tests.bench.operations import CREATE, READ, Measurement

READ_ROUND_TRIPS = 2
CREATE_WRITES = 2
IMPORT_RATIO = 1.5


@dataclass(frozen=True)
class Check:
    rule: str
    passed: bool
    # The operations that broke the rule, with their counts; empty when it held.
    failures: tuple[str, ...] = ()


def pairs(small: list[Measurement], large: list[Measurement]) -> list[tuple[Measurement, Measurement]]:
    """The same operation at both scales, in the order they ran."""
    labels = [measurement.label for measurement in small]
    if labels != [measurement.label for measurement in large]:
        raise ValueError("the two scales measured different operations")
    return list(zip(small, large, strict=True))


RULES = (
    f"read endpoints <= {READ_ROUND_TRIPS} round trips",
    f"ticket creation <= {CREATE_WRITES} writes",
    "items read the same at both scales",
    "zero Scans",
)


def operation_failures(small: Measurement, large: Measurement) -> dict[str, str]:
    """The rules this one operation breaks, each with the counts that break it."""
    failures = {}
    trips = max(small.calls.round_trips, large.calls.round_trips)
    if small.kind == READ and trips > READ_ROUND_TRIPS:
        failures[RULES[0]] = f"{trips} round trips"
    writes = max(small.calls.writes, large.calls.writes)
    if small.kind == CREATE and writes > CREATE_WRITES:
        failures[RULES[1]] = f"{writes} writes"
    if small.calls.items_read != large.calls.items_read:
        failures[RULES[2]] = f"{small.calls.items_read} vs {large.calls.items_read} items"
    scans = small.calls.scans + large.calls.scans
    if scans:
        failures[RULES[3]] = f"{scans} scans"
    return failures


def check_operations(small: list[Measurement], large: list[Measurement]) -> list[Check]:
    """One check per budget rule over every operation measured at both scales."""
    broken: dict[str, list[str]] = {rule: [] for rule in RULES}
    for one, other in pairs(small, large):
        for rule, detail in operation_failures(one, other).items():
            broken[rule].append(f"{one.label}: {detail}")
    return [Check(rule, not broken[rule], tuple(broken[rule])) for rule in RULES]


def check_import(times: ImportTimes) -> Check:
    passed = times.ratio <= IMPORT_RATIO
    detail = () if passed else (f"ratio {times.ratio:.2f}",)
    return Check(f"import app <= {IMPORT_RATIO} x import boto3", passed, detail)
