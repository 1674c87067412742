"""Cold import cost of ``app``, next to ``boto3`` measured the same way in the same run.

Each sample is a fresh interpreter that times only its import statement with
``time.perf_counter``; interpreter start-up is left out for both modules alike. Samples
of the two modules alternate, so drift in machine load touches both equally.

The Lambda package ships compiled bytecode (``infra/compile_package.py``), so both imports
are timed with theirs cached, in a bytecode folder of this run's own: a machine that sets
``PYTHONDONTWRITEBYTECODE`` would otherwise time the compiler as well.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[2]

# What a request does not always need, so ``import app`` must not load it.
LAZY_MODULES = (
    "argon2",
    "jinja2",
    "email_validator",
    "phonenumbers",
    "aws_lambda_powertools.utilities.batch",
    "aws_lambda_powertools.utilities.idempotency",
)
# Services whose botocore clients must be created on first use, not at import.
LAZY_SERVICES = ("ses", "sesv2", "sns")

_TIMED_IMPORT = """
import time
start = time.perf_counter()
import {module}
print(time.perf_counter() - start)
"""

# Records the service of every botocore client created while ``app`` imports.
_PROBE = """
import json, sys
import botocore.session

created = []
original = botocore.session.Session.create_client

def create_client(self, service_name, *args, **kwargs):
    created.append(service_name)
    return original(self, service_name, *args, **kwargs)

botocore.session.Session.create_client = create_client
import app
print(json.dumps({{
    "loaded": [name for name in {lazy!r} if name in sys.modules],
    "clients": created,
    "boto3": "boto3" in sys.modules,
}}))
"""


@dataclass(frozen=True)
class ImportTimes:
    app_ms: float
    boto3_ms: float
    runs: int

    @property
    def ratio(self) -> float:
        return self.app_ms / self.boto3_ms


@dataclass(frozen=True)
class LazyReport:
    loaded: list[str]
    clients: list[str]
    boto3_loaded: bool

    @property
    def eager_services(self) -> list[str]:
        return [service for service in self.clients if service in LAZY_SERVICES]


def _run(code: str, env: dict[str, str] | None) -> str:
    completed = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code],
        cwd=PROJECT_DIR,
        env=env if env is not None else dict(os.environ),
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"import subprocess failed: {completed.stderr.strip()}")
    return completed.stdout.strip().splitlines()[-1]


def import_seconds(module: str, env: dict[str, str] | None = None) -> float:
    """Seconds one fresh interpreter spends importing ``module``."""
    return float(_run(_TIMED_IMPORT.format(module=module), env))


def median_import_times(runs: int = 7, env: dict[str, str] | None = None) -> ImportTimes:
    """Medians of ``runs`` cold imports of ``app`` and of ``boto3``, alternating, each with
    its bytecode compiled beforehand, as in the Lambda package."""
    with tempfile.TemporaryDirectory() as cache:
        env = {**(env if env is not None else os.environ), "PYTHONPYCACHEPREFIX": cache}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        import_seconds("app", env)  # compiles and caches every module once
        return _median_import_times(runs, env)


def _median_import_times(runs: int, env: dict[str, str]) -> ImportTimes:
    app_samples: list[float] = []
    boto3_samples: list[float] = []
    for _ in range(runs):
        app_samples.append(import_seconds("app", env))
        boto3_samples.append(import_seconds("boto3", env))
    return ImportTimes(
        app_ms=statistics.median(app_samples) * 1000,
        boto3_ms=statistics.median(boto3_samples) * 1000,
        runs=runs,
    )


def lazy_report(env: dict[str, str] | None = None) -> LazyReport:
    """Which of the lazy modules and clients ``import app`` loaded anyway."""
    found = json.loads(_run(_PROBE.format(lazy=LAZY_MODULES), env))
    return LazyReport(loaded=found["loaded"], clients=found["clients"], boto3_loaded=found["boto3"])
