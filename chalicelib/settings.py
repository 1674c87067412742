"""Configuration read once from the environment into a typed object.

Environment variables
---------------------
HELPDESK_TABLE
    Name of the single DynamoDB table (default ``helpdesk``).
HELPDESK_SECRET_KEY
    Key that signs pagination cursors. Required in a deployed stage; local runs and
    tests set their own.
HELPDESK_STAGE
    ``local``, ``dev`` or ``prod``. Local mode relaxes nothing on the API; it only lets
    the local runner add its development routes.
HELPDESK_PUBLIC_URL
    Base URL used in links the helpdesk sends out (default ``http://127.0.0.1:8000``).
AWS_REGION / AWS_DEFAULT_REGION
    Region of the table; the Lambda runtime sets ``AWS_REGION``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class Settings:
    table_name: str
    secret_key: bytes
    stage: str
    region: str
    public_url: str

    @property
    def is_local(self) -> bool:
        return self.stage == "local"


def region_from_env() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"


def table_name_from_env() -> str:
    return os.environ.get("HELPDESK_TABLE", "helpdesk")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    secret = os.environ.get("HELPDESK_SECRET_KEY", "")
    if len(secret) < 32:
        raise RuntimeError("HELPDESK_SECRET_KEY must be set to at least 32 characters")
    return Settings(
        table_name=table_name_from_env(),
        secret_key=secret.encode(),
        stage=os.environ.get("HELPDESK_STAGE", "dev"),
        region=region_from_env(),
        public_url=os.environ.get("HELPDESK_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/"),
    )
