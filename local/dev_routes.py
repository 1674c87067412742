"""``/dev/outbox``, ``/dev/templates`` and ``/embed/v1/demo``: local-only pages. The runner
registers them; ``app.py`` never does.

A deployed stage therefore has no ``/dev`` routes at all, rather than routes that
refuse: there is nothing to misconfigure.
"""

from __future__ import annotations

import os

from chalice.app import Blueprint, Response

from chalicelib import clock
from chalicelib.api.http import json_response
from chalicelib.rendering import HTML_HEADERS, html_response, render
from local import preview
from local.outbox import Outbox

# The id of the site the runner seeded for the demo page, set by the runner once seeded:
# any site an admin adds, whatever its name, is never taken for it.
DEMO_SITE_VARIABLE = "HELPDESK_DEMO_SITE_ID"


def create_blueprint(outbox: Outbox) -> Blueprint:
    """The development routes, reading ``outbox``."""
    bp = Blueprint(__name__)

    @bp.route("/dev/outbox", methods=["GET"])
    def outbox_page() -> Response:
        """Every message sent so far, newest first, as an HTML page."""
        messages = [
            {
                **message.to_dict(),
                "sent_at_iso": clock.iso(message.sent_at),
                "sent_at_text": message.sent_at.strftime("%Y-%m-%d %H:%M:%S"),
            }
            for message in outbox.messages()
        ]
        return html_response(render("dev/outbox.html", messages=messages))

    @bp.route("/dev/outbox.json", methods=["GET"])
    def outbox_json() -> Response:
        """Every message sent so far, newest first, as JSON."""
        return json_response({"items": [message.to_dict() for message in outbox.messages()]})

    @bp.route("/embed/v1/demo", methods=["GET"])
    def embed_demo() -> Response:
        """A sample shop page embedding the website widget with the demo site's key as it is
        now, a replaced one included (``?mode=button`` for the floating button)."""
        from chalicelib.domain import sites
        from chalicelib.errors import NotFound

        site_id = os.environ.get(DEMO_SITE_VARIABLE)
        try:
            site = sites.get(site_id) if site_id else None
        except NotFound:
            site = None  # deleted on the sites page since
        if site is None:
            return json_response({"error": {"code": "not_found", "message": "no demo site was seeded"}}, 404)
        params: dict[str, str] = dict(bp.current_request.query_params or {})
        mode = "button" if params.get("mode") == "button" else "inline"
        return html_response(render("dev/embed_demo.html", site_key=site.public_key, mode=mode))

    @bp.route("/dev/templates", methods=["GET"])
    def templates_index() -> Response:
        """The notification preview; its index links to the files relative to itself."""
        return Response(body="", status_code=302, headers={"Location": "/dev/templates/index.html"})

    @bp.route("/dev/templates/{name}", methods=["GET"])
    def templates_file(name: str) -> Response:
        """One file of the notification preview (as ``make preview`` writes it), rendered now."""
        files = {file.name: file for file in preview.build()}
        if name not in files:
            return json_response({"error": {"code": "not_found", "message": "no such preview file"}}, 404)
        headers: dict[str, str | list[str]] = {**HTML_HEADERS, "Content-Type": files[name].content_type}
        return Response(body=files[name].content, status_code=200, headers=headers)

    return bp
