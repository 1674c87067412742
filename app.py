"""Helpdesk: the Chalice app. It only assembles; behaviour lives in ``chalicelib``."""

from __future__ import annotations

import os
from typing import Any

from chalice.app import Chalice, DynamoDBEvent

from chalicelib.api import (
    auth_routes,
    contact_routes,
    openapi_routes,
    setup_routes,
    site_routes,
    staff_routes,
    ticket_routes,
)
from chalicelib.api.http import error_shape_middleware
from chalicelib.observability import event_middleware, http_middleware
from chalicelib.pages import (
    admin_contact_routes,
    admin_delivery_routes,
    admin_routes,
    admin_setup_routes,
    admin_site_routes,
    admin_ticket_list_routes,
    admin_ticket_routes,
    asset_routes,
    embed_routes,
    portal_access_routes,
    portal_account_routes,
    portal_routes,
    portal_ticket_routes,
    rating_routes,
    ticket_link_routes,
)
from chalicelib.stream.handler import handle_batch

app = Chalice(app_name="helpdesk")
app.register_middleware(http_middleware, "http")
app.register_middleware(error_shape_middleware, "http")
app.register_middleware(event_middleware, "dynamodb")

for blueprint in (
    auth_routes,
    staff_routes,
    setup_routes,
    contact_routes,
    ticket_routes,
    site_routes,
    openapi_routes,
):
    app.register_blueprint(blueprint.bp, url_prefix="/api")
# Pages, outside the API: the staff pages, the customer portal, the rating links in
# customers' messages, and the stylesheet they share.
for blueprint in (
    admin_routes,
    admin_contact_routes,
    admin_delivery_routes,
    admin_setup_routes,
    admin_site_routes,
    admin_ticket_list_routes,
    admin_ticket_routes,
    portal_routes,
    portal_access_routes,
    portal_account_routes,
    portal_ticket_routes,
    rating_routes,
    ticket_link_routes,
    asset_routes,
    embed_routes,
):
    app.register_blueprint(blueprint.bp)

# `chalice package` needs a literal ARN here; infra/ points the event source at the
# real table's stream, and the local runner calls the handler itself.
STREAM_ARN = os.environ.get(
    "HELPDESK_STREAM_ARN",
    "arn:aws:dynamodb:us-east-1:000000000000:table/helpdesk/stream/1970-01-01T00:00:00.000",
)


@app.on_dynamodb_record(stream_arn=STREAM_ARN, batch_size=50, starting_position="TRIM_HORIZON")
def on_table_change(event: DynamoDBEvent) -> dict[str, Any]:
    """Lambda's entry for the table's stream. It answers with the records that failed, so
    Lambda retries from the first of them instead of the whole batch."""
    return handle_batch(event.to_dict(), event.context)
