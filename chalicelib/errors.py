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
    code = "invalid"
    default_message = "A field has an invalid value."


class MalformedRequest(HelpdeskError):
    code = "malformed"
    default_message = "The request body is not valid JSON."


class TooLarge(HelpdeskError):
    code = "too_large"
    default_message = "The request body is too large."


class NotAuthenticated(HelpdeskError):
    code = "unauthenticated"
    default_message = "Sign in first: the token is missing, unknown or expired."


class Forbidden(HelpdeskError):
    code = "forbidden"
    default_message = "Your role does not allow this."


class NotFound(HelpdeskError):
    code = "not_found"
    default_message = "Nothing was found here."


class Conflict(HelpdeskError):
    code = "conflict"
    default_message = "This conflicts with the current state."


class StaleVersion(Conflict):
    code = "stale_version"
    default_message = "Someone else changed this since you read it; reload and try again."

    def __init__(self, message: str | None = None, *, current: dict | None = None) -> None:
        super().__init__(message, field="version")
        self.current = current


class Throttled(HelpdeskError):
    code = "throttled"
    default_message = "Too many attempts; wait before trying again."

    def __init__(self, message: str | None = None, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after
