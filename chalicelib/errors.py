"""Domain errors. They know nothing of HTTP; ``chalicelib.api.http`` maps them."""

from __future__ import annotations


class HelpdeskError(Exception):
    """Base class: a default message, an optional field it concerns."""

    code = "error"
    default_message = "The request could not be completed."

    def __init__(self, message: str | None = None, *, field: str | None = None) -> None:
        super().__init__(message or self.default_message)
        self.message = message or self.default_message
        self.field = field


class InvalidInput(HelpdeskError):
    """A value breaks its field's rule, or a field is unknown or missing; ``field`` names it."""

    code = "invalid"
    default_message = "A field has an invalid value."


class MalformedRequest(HelpdeskError):
    """The body is not a JSON object at all, so there is no field to name."""

    code = "malformed"
    default_message = "The request body is not valid JSON."


class TooLarge(HelpdeskError):
    """The body is over the size limit; refused before it is parsed."""

    code = "too_large"
    default_message = "The request body is too large."


class NotAuthenticated(HelpdeskError):
    """No valid credentials. One message for every cause, so a caller cannot tell an unknown
    account from a wrong password or a revoked token."""

    code = "unauthenticated"
    default_message = "Sign in first: the token is missing, unknown or expired."


class Forbidden(HelpdeskError):
    """The caller is known, but their role does not allow this."""

    code = "forbidden"
    default_message = "Your role does not allow this."


class NotFound(HelpdeskError):
    """Nothing has this id, including an id that no item could have."""

    code = "not_found"
    default_message = "Nothing was found here."


class Conflict(HelpdeskError):
    """A valid request that clashes with what is stored: a taken email, an entry still in use."""

    code = "conflict"
    default_message = "This conflicts with the current state."


class StaleVersion(Conflict):
    """An edit named a version that is no longer the stored one. ``current`` carries what is
    stored now, so the client can show it and retry without reading again."""

    code = "stale_version"
    default_message = "Someone else changed this since you read it; reload and try again."

    def __init__(self, message: str | None = None, *, current: dict | None = None) -> None:
        super().__init__(message, field="version")
        self.current = current


class Throttled(HelpdeskError):
    """Too many attempts; ``retry_after`` is the seconds until the window turns."""

    code = "throttled"
    default_message = "Too many attempts; wait before trying again."

    def __init__(self, message: str | None = None, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after
