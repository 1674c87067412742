"""``/dev/outbox``: local-only pages. The runner registers them; ``app.py`` never does.

A deployed stage therefore has no ``/dev`` routes at all, rather than routes that
refuse: there is nothing to misconfigure.
"""

from __future__ import annotations

from chalice.app import Blueprint, Response

from chalicelib import clock
from chalicelib.api.http import json_response
from chalicelib.rendering import html_response, render
from local.outbox import Outbox


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

    return bp
