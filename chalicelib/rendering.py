"""HTML pages: one Jinja2 environment over the top-level ``templates/`` folder.

The environment is built on first use and kept: Jinja2 costs an import most requests
never need, and a warm Lambda reuses the compiled templates. The package carries
``templates/`` at the zip root, next to ``app.py``, exactly as in the project folder.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chalice.app import Response

if TYPE_CHECKING:
    from jinja2 import Environment

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"

# No inline script or style anywhere, no framing, nothing loaded from another origin.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

HTML_HEADERS = {
    "Content-Type": "text/html; charset=utf-8",
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    # Pages show one person's data: no shared cache may keep them.
    "Cache-Control": "no-store",
    # Browsers heed this only over HTTPS (every deployed stage) and ignore it on plain HTTP.
    "Strict-Transport-Security": "max-age=31536000",
}


@lru_cache(maxsize=1)
def environment() -> Environment:
    """The shared environment: HTML autoescaped, and a missing variable is an error."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html", "xml"], default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["field_message"] = field_message
    return env


_FIELD_PREFIX = re.compile(r"^'[A-Za-z_]+':? ")
_FIELD_REQUIRED = re.compile(r"^The field '[A-Za-z_]+' is required\.$")


def field_message(message: str) -> str:
    """An error message as a form shows it next to its field: without the field's API name,
    which the page already shows as the field's label ("'email': is not..." reads "This is
    not...")."""
    if _FIELD_REQUIRED.match(message):
        return "This field is required."
    stripped = _FIELD_PREFIX.sub("", message)
    if stripped == message:
        return message
    return f"This {stripped}" if stripped.startswith("is ") else f"This field {stripped}"


def render(name: str, **context: Any) -> str:
    """Render the template at ``name`` (relative to ``templates/``) with ``context``."""
    return environment().get_template(name).render(**context)


def html_response(body: str, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """An HTML response with the security headers every page carries; ``headers`` add or override."""
    return Response(body=body, status_code=status, headers={**HTML_HEADERS, **(headers or {})})
