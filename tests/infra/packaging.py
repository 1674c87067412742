"""Build the real deployment package and read what it holds.

`chalice package` is run exactly as `make package` runs it, then the bytecode step, with
the tools of the environment running the tests (the project's venv).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parents[2]
MERGE_TEMPLATE = PROJECT_DIR / "infra" / "template.json"
COMPILE_SCRIPT = PROJECT_DIR / "infra" / "compile_package.py"
VENV_BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class Package:
    """What `chalice package` wrote: the SAM template and the Lambda code archive."""

    directory: Path
    template_path: Path
    template: dict[str, Any]
    archive_names: frozenset[str]

    @property
    def resources(self) -> dict[str, Any]:
        resources: dict[str, Any] = self.template["Resources"]
        return resources


def tool(name: str) -> str:
    """A command-line tool installed next to the interpreter running the tests."""
    path = VENV_BIN / name
    assert path.exists(), f"{name} is not installed next to {sys.executable}; run `make install`"
    return str(path)


def packaging_env() -> dict[str, str]:
    """`chalice package` runs offline once a region is set; the stream ARN stays the placeholder."""
    env = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1"}
    env.pop("HELPDESK_STREAM_ARN", None)
    return env


def build_package(output: Path, stage: str = "dev") -> Package:
    """Package ``stage`` into ``output``; dependency wheels come from PyPI or Chalice's cache."""
    command = [tool("chalice"), "package", "--stage", stage, "--merge-template", str(MERGE_TEMPLATE)]
    command.append(str(output))
    result = subprocess.run(  # noqa: S603 - fixed argument list, no shell
        command, cwd=PROJECT_DIR, env=packaging_env(), capture_output=True, text=True, timeout=900
    )
    assert result.returncode == 0, f"chalice package failed:\n{result.stdout}\n{result.stderr}"
    compiled = subprocess.run(  # noqa: S603 - fixed argument list, no shell
        [sys.executable, str(COMPILE_SCRIPT), str(output / "deployment.zip")],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert compiled.returncode == 0, f"compiling the package failed:\n{compiled.stdout}\n{compiled.stderr}"

    template_path = output / "sam.json"
    with zipfile.ZipFile(output / "deployment.zip") as archive:
        names = frozenset(archive.namelist())
    return Package(output, template_path, json.loads(template_path.read_text()), names)
