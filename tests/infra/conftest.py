"""Infrastructure tier: the merge template on its own, and the real package built from it.

The package is built once per session; every test reads that one output.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.infra.packaging import MERGE_TEMPLATE, Package, build_package


@pytest.fixture(scope="session")
def merge_template() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(MERGE_TEMPLATE.read_text())
    return loaded


@pytest.fixture(scope="session")
def package(tmp_path_factory: pytest.TempPathFactory) -> Package:
    """The dev stage's package, built as `make package` builds it."""
    return build_package(tmp_path_factory.mktemp("package") / "out")
