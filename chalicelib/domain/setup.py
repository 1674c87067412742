"""Setup lists and settings, kept together in one versioned config item.

Every request needs some of them (status names, defaults, targets), so they live in one
item that the request's first batch read fetches with the session. Edits are
read-modify-write with a version condition, retried when another edit got there first.

That item version only keeps concurrent saves from losing each other's work. What an admin
edits is an entry, or the settings, and each of those carries its own ``version`` inside
the JSON: an edit names the version it read and is refused as stale when that entry has
moved on, while edits of different entries still both apply.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pynamodb.exceptions import PutError

from chalicelib import clock
from chalicelib.errors import Conflict, InvalidInput, NotFound, StaleVersion
from chalicelib.store.db import condition_failed
from chalicelib.store.models import Config, Item
from chalicelib.validation import Field, boolean, email, identifier, integer, parse_fields, text

COLLECTIONS: dict[str, dict[str, Field]] = {
    "service_levels": {
        "name": Field(text(80), required=True),
        "rank": Field(integer(1, 999), required=True),
        "response_hours": Field(integer(1, 8760), required=True),
        "resolution_hours": Field(integer(1, 8760), required=True),
    },
    "categories": {
        "name": Field(text(80), required=True),
    },
    "statuses": {
        "name": Field(text(80), required=True),
        "customer_label": Field(text(80), required=True),
        "order": Field(integer(0, 999), required=True),
        "closed": Field(boolean, required=True),
    },
    "rating_options": {
        "label": Field(text(80), required=True),
        "score": Field(integer(0, 100), required=True),
    },
}

# The version an edit read: required when changing an entry or the settings.
VERSION_FIELD = Field(integer(1, 2**53), required=True)

# A partial edit of an entry: any of its fields, and the version it was read at.
UPDATE_SPECS: dict[str, dict[str, Field]] = {
    name: {**spec, "version": VERSION_FIELD} for name, spec in COLLECTIONS.items()
}

# How each list is ordered when shown.
_ORDER: dict[str, Callable[[dict[str, Any]], Any]] = {
    "service_levels": lambda entry: (entry["rank"], entry["name"].lower()),
    "categories": lambda entry: entry["name"].lower(),
    "statuses": lambda entry: (entry["order"], entry["name"].lower()),
    "rating_options": lambda entry: (-entry["score"], entry["label"].lower()),
}

# Settings that name an entry of a list, and which list.
SETTING_REFERENCES = {
    "default_status_id": "statuses",
    "customer_reply_status_id": "statuses",
    "default_service_level_id": "service_levels",
}

SETTINGS_SPEC: dict[str, Field] = {
    "portal_enabled": Field(boolean, required=True),
    "registration_enabled": Field(boolean, required=True),
    "default_status_id": Field(identifier, required=True, nullable=True),
    "customer_reply_status_id": Field(identifier, required=True, nullable=True),
    "default_service_level_id": Field(identifier, required=True, nullable=True),
    "notify_email_enabled": Field(boolean, required=True),
    "notify_sms_enabled": Field(boolean, required=True),
    "sender_email": Field(email, required=True, nullable=True),
    "staff_notify_email": Field(email, required=True, nullable=True),
}

# Settings are replaced whole, under the version they were read at.
REPLACE_SETTINGS_SPEC: dict[str, Field] = {**SETTINGS_SPEC, "version": VERSION_FIELD}

DEFAULT_SETTINGS: dict[str, Any] = {
    "portal_enabled": True,
    "registration_enabled": False,
    "default_status_id": None,
    "customer_reply_status_id": None,
    "default_service_level_id": None,
    "notify_email_enabled": True,
    "notify_sms_enabled": False,
    "sender_email": None,
    "staff_notify_email": None,
}

# Below this rank number every ticket sorts: tickets without a service level come last.
NO_RANK = 9999

# A new entry's version and that of settings never replaced; also what entries and
# settings saved before they carried a version read as.
FIRST_VERSION = 1


@dataclass
class SetupConfig:
    """The decoded config item.

    ``version`` is the item's own, None until the item is first written; it guards saves.
    ``settings_version`` and each entry's ``version`` are what admins edit under.
    """

    version: int | None = None
    settings: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_SETTINGS))
    settings_version: int = FIRST_VERSION
    lists: dict[str, dict[str, dict[str, Any]]] = field(
        default_factory=lambda: {name: {} for name in COLLECTIONS}
    )

    @classmethod
    def from_item(cls, item: Item | None) -> SetupConfig:
        """Decode the config item; without one (a new table), the defaults and empty lists."""
        if not isinstance(item, Config):
            return cls()
        data = json.loads(item.data)
        config = cls(version=item.version)
        config.settings.update(data.get("settings", {}))
        config.settings_version = int(data.get("settings_version", FIRST_VERSION))
        for name in COLLECTIONS:
            entries: dict[str, dict[str, Any]] = data.get(name, {})
            for entry in entries.values():
                # Saved before entries carried a version: that is their first one.
                entry.setdefault("version", FIRST_VERSION)
            config.lists[name] = entries
        return config

    def to_json(self) -> str:
        """The item's ``data``. Keys are sorted, so the same config always gives the same text."""
        return json.dumps(
            {"settings": self.settings, "settings_version": self.settings_version, **self.lists},
            sort_keys=True,
        )

    # -- look-ups used across the domain ---------------------------------------------

    def entry(self, collection: str, entry_id: str | None) -> dict[str, Any] | None:
        """The entry, or None; a None id finds None, so optional references need no check first."""
        if entry_id is None:
            return None
        return self.lists[collection].get(entry_id)

    def require(self, collection: str, entry_id: str, field_name: str) -> dict[str, Any]:
        """The entry a request field names; ``InvalidInput`` on ``field_name`` if there is none."""
        found = self.entry(collection, entry_id)
        if found is None:
            raise InvalidInput(f"'{field_name}' names no existing entry.", field=field_name)
        return found

    def rank(self, service_level_id: str | None) -> int:
        """A service level's rank in the priority order; ``NO_RANK`` without one, so last."""
        level = self.entry("service_levels", service_level_id)
        return int(level["rank"]) if level else NO_RANK

    def is_closed(self, status_id: str | None) -> bool:
        """Whether a status closes its tickets; no status, or an unknown one, counts as open."""
        status = self.entry("statuses", status_id)
        return bool(status and status["closed"])

    def ordered(self, collection: str) -> list[dict[str, Any]]:
        """A list's entries with their ids, in the order the list is shown (see ``_ORDER``)."""
        entries = [{"id": key, **value} for key, value in self.lists[collection].items()]
        return sorted(entries, key=_ORDER[collection])

    def present_settings(self) -> dict[str, Any]:
        """The settings as the API shows them: with the version a replacement must name."""
        return {**self.settings, "version": self.settings_version}


def load() -> SetupConfig:
    """A consistent read of the config, for edits."""
    try:
        item = Config.get(*Config.key(), consistent_read=True)
    except Config.DoesNotExist:
        return SetupConfig()
    return SetupConfig.from_item(item)


def _save(config: SetupConfig) -> None:
    item = Config(*Config.key(), data=config.to_json())
    if config.version is None:
        item.save(condition=Config.pk.does_not_exist(), add_version_condition=False)
    else:
        item.version = config.version
        item.save()


def edit(change: Callable[[SetupConfig], Any], attempts: int = 4) -> Any:
    """Apply ``change`` to the latest config and save it; retry if an edit raced us.

    The retry is safe for versioned edits: ``change`` runs again on the config as the other
    edit left it, so an edit of the same entry now finds a newer version and is refused,
    while an edit of another entry applies on top of it.
    """
    for _ in range(attempts):
        config = load()
        result = change(config)
        try:
            _save(config)
        except PutError as exc:
            if condition_failed(exc):
                continue
            raise
        return result
    raise Conflict("The setup is being changed by someone else right now; try again.")


# -- list entries --------------------------------------------------------------------


def create_entry(collection: str, body: dict[str, Any]) -> dict[str, Any]:
    """Add an entry to a setup list. Its id is made before the edit, so an edit retried after a
    race adds the entry once."""
    values = parse_fields(body, COLLECTIONS[collection])
    values["version"] = FIRST_VERSION
    entry_id = clock.new_id()

    def change(config: SetupConfig) -> dict[str, Any]:
        config.lists[collection][entry_id] = values
        return {"id": entry_id, **values}

    created: dict[str, Any] = edit(change)
    return created


def update_entry(collection: str, entry_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """Apply a partial edit; the caller's ``version`` must still be the entry's stored one."""
    values = parse_fields(body, UPDATE_SPECS[collection], partial=True)
    if "version" not in values:
        raise InvalidInput("The field 'version' is required.", field="version")
    expected_version = values.pop("version")

    def change(config: SetupConfig) -> dict[str, Any]:
        current = config.lists[collection].get(entry_id)
        if current is None:
            raise NotFound()
        if current["version"] != expected_version:
            raise StaleVersion(current={"id": entry_id, **current})

        # Settings promise customer replies an open status; an edit must keep that promise.
        if values.get("closed") and config.settings.get("customer_reply_status_id") == entry_id:
            raise Conflict(
                "It is the setting 'customer_reply_status_id', which must stay open; change that first.",
                field="closed",
            )
        current.update(values)
        current["version"] += 1
        return {"id": entry_id, **current}

    updated: dict[str, Any] = edit(change)
    return updated


def delete_entry(collection: str, entry_id: str, in_use: Callable[[str], str | None]) -> None:
    """Delete an entry unless ``in_use`` names something that still refers to it.

    No version is asked for: whatever an entry was edited into, deleting it means the same,
    and the checks that it is unused run on the latest config.
    """

    def change(config: SetupConfig) -> None:
        if entry_id not in config.lists[collection]:
            raise NotFound()
        for setting, target in SETTING_REFERENCES.items():
            if target == collection and config.settings.get(setting) == entry_id:
                raise Conflict(f"It is the setting '{setting}'; change that first.")
        user = in_use(entry_id)
        if user:
            raise Conflict(f"It is still used by {user}.")
        del config.lists[collection][entry_id]

    edit(change)


# -- settings ------------------------------------------------------------------------


def replace_settings(body: dict[str, Any]) -> dict[str, Any]:
    """Replace every setting; the caller's ``version`` must still be the stored one."""
    values = parse_fields(body, REPLACE_SETTINGS_SPEC)
    expected_version = values.pop("version")

    def change(config: SetupConfig) -> dict[str, Any]:
        if config.settings_version != expected_version:
            raise StaleVersion(current=config.present_settings())

        for setting, collection in SETTING_REFERENCES.items():
            if values[setting] is not None:
                config.require(collection, values[setting], setting)
        if values["customer_reply_status_id"] and config.is_closed(values["customer_reply_status_id"]):
            raise InvalidInput(
                "A customer reply must not close the ticket: pick an open status.",
                field="customer_reply_status_id",
            )
        config.settings = values
        config.settings_version += 1
        return config.present_settings()

    replaced: dict[str, Any] = edit(change)
    return replaced
