"""A small helpdesk set up through the API, shared by the ticket and stream tests.

Every id here is created by the real endpoints, so a test that uses it also proves the
setup routes accept what the ticket routes later rely on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.functional.conftest import Api


@dataclass
class MovableClock:
    """Stands in for ``chalicelib.clock.now``: time stands still until a test moves it."""

    moment: datetime = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0))

    def now(self) -> datetime:
        return self.moment

    def advance(self, **delta: float) -> datetime:
        self.moment += timedelta(**delta)
        return self.moment


@dataclass
class Desk:
    """Ids of the setup entries a test can refer to by name."""

    api: Api
    levels: dict[str, str] = field(default_factory=dict)
    statuses: dict[str, str] = field(default_factory=dict)
    categories: dict[str, str] = field(default_factory=dict)
    contacts: dict[str, str] = field(default_factory=dict)

    def created(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self.api.post(path, body)
        assert response.status_code == 201, response.body
        data: dict[str, Any] = response.data
        return data

    def ticket(self, contact: str = "cleo", **fields: Any) -> dict[str, Any]:
        """Create a ticket for the named contact; ``fields`` are added to the body as given."""
        body = {"contact_id": self.contacts[contact], "subject": "Printer on fire", "body": "Send help."}
        return self.created("/api/tickets", {**body, **fields})

    def put_settings(self, **overrides: Any) -> None:
        """Replace the settings with ``overrides`` applied, under the version just read."""
        settings = self.api.get("/api/settings").data
        response = self.api.put("/api/settings", {**settings, **overrides})
        assert response.status_code == 200, response.body


def build_desk(admin: Api) -> Desk:
    """Service levels, statuses, categories, settings and two contacts.

    - levels: ``urgent`` (rank 1, 1h/2h), ``gold`` (rank 2, 4h/24h), ``standard`` (rank 3, 8h/72h)
    - statuses: ``new`` (the default), ``waiting`` (open), ``solved`` (closed)
    - contacts: ``cleo`` defaults to ``gold``; ``dana`` has no service level of her own
    """
    desk = Desk(admin)
    for name, rank, response_hours, resolution_hours in (
        ("urgent", 1, 1, 2),
        ("gold", 2, 4, 24),
        ("standard", 3, 8, 72),
    ):
        desk.levels[name] = desk.created(
            "/api/service-levels",
            {
                "name": name.title(),
                "rank": rank,
                "response_hours": response_hours,
                "resolution_hours": resolution_hours,
            },
        )["id"]
    for order, (name, closed) in enumerate((("new", False), ("waiting", False), ("solved", True))):
        desk.statuses[name] = desk.created(
            "/api/statuses",
            {"name": name.title(), "customer_label": name.title(), "order": order, "closed": closed},
        )["id"]
    for name in ("billing", "technical"):
        desk.categories[name] = desk.created("/api/categories", {"name": name.title()})["id"]
    desk.put_settings(
        default_status_id=desk.statuses["new"], default_service_level_id=desk.levels["standard"]
    )
    desk.contacts["cleo"] = desk.created(
        "/api/contacts",
        {"name": "Cleo Customer", "email": "cleo@example.com", "service_level_id": desk.levels["gold"]},
    )["id"]
    desk.contacts["dana"] = desk.created("/api/contacts", {"name": "Dana Doe", "email": "dana@example.com"})[
        "id"
    ]
    return desk
