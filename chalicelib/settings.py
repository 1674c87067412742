"""Configuration read from the environment into a typed object, once per cold start.

Environment variables
---------------------
HELPDESK_TABLE
    Name of the single DynamoDB table (default ``helpdesk``). Read when the models are
    imported.
HELPDESK_SECRET_KEY
    Key that signs pagination cursors, at least 32 characters. The deployment generates
    it in Secrets Manager; the local runner and the tests set their own. Checked at the
    start of every request, so a stage without it fails loudly on its first call.
AWS_REGION / AWS_DEFAULT_REGION
    Region of the table; the Lambda runtime sets ``AWS_REGION``.

``HELPDESK_STAGE`` is set by the deployment; ``local`` (``make run``) lets page cookies go without
``Secure``, read in ``chalicelib.pages.web``. ``HELPDESK_PUBLIC_URL``,
the base of the links notifications carry, is read and documented where links are built,
in ``chalicelib.notify.links``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class Settings:
    """What ``get_settings`` validated; the secret key as bytes, ready for HMAC."""

    secret_key: bytes


def region_from_env() -> str:
    """The table's region. Not part of ``Settings``: the models read it when they are imported,
    and a missing secret key should fail a request with its message, not the import."""
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"


def table_name_from_env() -> str:
    """The table's name; outside ``Settings`` for the same reason as the region."""
    return os.environ.get("HELPDESK_TABLE", "helpdesk")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings; ``RuntimeError`` naming the variable when one is missing or weak."""
    secret = os.environ.get("HELPDESK_SECRET_KEY", "")
    if len(secret) < 32:
        raise RuntimeError("HELPDESK_SECRET_KEY must be set to at least 32 characters")
    return Settings(secret_key=secret.encode())
