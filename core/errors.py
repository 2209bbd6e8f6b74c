"""Domain errors raised by services and mapped to HTTP answers in one handler (app.py)."""


class DomainError(Exception):
    """Base class: `message` is already translated text the user can read."""

    status = 400
    code = "error"

    def __init__(self, message: str, **details):
        super().__init__(message)
        self.message = message
        self.details = details


class Unauthorized(DomainError):
    """No session and no valid API token."""

    status = 401
    code = "unauthorized"


class NotFound(DomainError):
    """Missing, or outside the actor's jurisdiction (never say which)."""

    status = 404
    code = "not_found"


class NotPermitted(DomainError):
    """Inside the actor's jurisdiction but the actor's role may not do this."""

    status = 403
    code = "forbidden"


class InvalidTransition(DomainError):
    """The object is not in a state where this action applies."""

    status = 409
    code = "invalid_transition"


class StaleVersion(DomainError):
    """Someone else changed the object since the actor loaded it."""

    status = 409
    code = "stale_version"


class ValidationError(DomainError):
    """Input is missing or invalid. `details["errors"]` may hold per-field or per-row messages."""

    status = 422
    code = "validation_error"


class TooManyRequests(DomainError):
    status = 429
    code = "too_many_requests"
