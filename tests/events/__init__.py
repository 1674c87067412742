"""Sample Lambda events, as JSON files next to this module.

The DynamoDB stream samples were read from moto's stream after real API calls, then
shaped the way Lambda delivers them (``eventSourceARN`` added, the creation time in epoch
seconds). ``token_expired_ttl`` and ``malformed_ticket_number`` were edited by hand from
such records to stand for cases moto cannot produce.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

EVENTS_DIR = Path(__file__).resolve().parent


def load_event(name: str) -> dict[str, Any]:
    """The whole Lambda event stored as ``<name>.json``."""
    event: dict[str, Any] = json.loads((EVENTS_DIR / f"{name}.json").read_text())
    return event


def load_records(name: str) -> list[dict[str, Any]]:
    """The stream records of a stored event, in order."""
    records: list[dict[str, Any]] = load_event(name)["Records"]
    return records


def load_record(name: str) -> dict[str, Any]:
    """The one record of a stored single-record event."""
    (record,) = load_records(name)
    return record
