"""``/api/openapi.json``: the OpenAPI 3 description of the admin API."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from chalice.app import Blueprint, Response

from chalicelib.api.http import json_response

bp = Blueprint(__name__)

DOCUMENT = Path(__file__).with_name("openapi.json")


@lru_cache(maxsize=1)
def document() -> dict[str, Any]:
    """The document shipped next to this module, read once per container."""
    loaded: dict[str, Any] = json.loads(DOCUMENT.read_text())
    return loaded


@bp.route("/openapi.json", methods=["GET"])
def openapi() -> Response:
    """The OpenAPI 3 description of this API; public, like any API reference."""
    return json_response(document())
