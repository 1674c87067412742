"""Opaque page cursors: DynamoDB's last evaluated key, signed and bound to one query.

A cursor made for one query (index and partition) is refused by any other, and any change
to it breaks the signature, so a client can neither forge a key nor hop partitions.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from chalicelib.errors import InvalidInput
from chalicelib.settings import get_settings


def _signature(payload: bytes, scope: str) -> bytes:
    key = get_settings().secret_key
    return hmac.new(key, scope.encode() + b"\x00" + payload, hashlib.sha256).digest()[:16]


def encode_cursor(last_key: dict[str, Any] | None, scope: str) -> str | None:
    """Turn ``last_evaluated_key`` into a cursor valid only for ``scope``."""
    if not last_key:
        return None
    payload = json.dumps(last_key, separators=(",", ":"), sort_keys=True).encode()
    token = _signature(payload, scope) + payload
    return base64.urlsafe_b64encode(token).rstrip(b"=").decode()


def decode_cursor(cursor: str | None, scope: str) -> dict[str, Any] | None:
    """The key a cursor stands for; ``InvalidInput`` (field ``cursor``) if it was altered."""
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except ValueError as exc:
        raise InvalidInput("The cursor is not valid.", field="cursor") from exc
    signature, payload = raw[:16], raw[16:]
    if len(signature) < 16 or not hmac.compare_digest(signature, _signature(payload, scope)):
        raise InvalidInput("The cursor is not valid for this list.", field="cursor")
    key: dict[str, Any] = json.loads(payload)
    return key
