"""``/assets``: the one stylesheet every page uses, served by the app itself (no CDN)."""

from __future__ import annotations

from functools import lru_cache

from chalice.app import Blueprint, Response

from chalicelib.rendering import TEMPLATES

bp = Blueprint(__name__)

STYLESHEET = TEMPLATES / "assets" / "helpdesk.css"


@lru_cache(maxsize=1)
def _stylesheet() -> str:
    return STYLESHEET.read_text(encoding="utf-8")


@bp.route("/assets/helpdesk.css", methods=["GET"])
def stylesheet() -> Response:
    """The stylesheet; browsers may keep it for an hour."""
    return Response(
        body=_stylesheet(),
        status_code=200,
        headers={
            "Content-Type": "text/css; charset=utf-8",
            "Cache-Control": "public, max-age=3600",
            "X-Content-Type-Options": "nosniff",
        },
    )
