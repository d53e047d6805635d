"""Per-event errors: one bad event fails alone, with a reason the operator can act on. The
messages match the Rust SDK's word for word."""

from typing import Optional


class ErrorKind:
    """The WIT `error-kind` names."""

    INVALID_INPUT = "invalid-input"
    MISSING_FIELD = "missing-field"
    INVALID_FIELD = "invalid-field"
    REJECTED = "rejected"


class EventError(Exception):
    """Why a plugin refused one event. Raise it from `process`: the SDK turns it into a
    `failure` for that event alone, and the host dead-letters the event with it."""

    def __init__(self, kind: str, field: Optional[str], message: str):
        super().__init__(message)
        self.kind = kind
        self.field = field
        self.message = message

    @classmethod
    def missing_field(cls, field: str) -> "EventError":
        """Field `field` is absent."""
        return cls(ErrorKind.MISSING_FIELD, field, f"field `{field}` is missing")

    @classmethod
    def invalid_field(cls, field: str, problem: object) -> "EventError":
        """Field `field` is present but unusable; `problem` says why."""
        return cls(ErrorKind.INVALID_FIELD, field, f"field `{field}`: {problem}")

    @classmethod
    def invalid_input(cls, problem: object) -> "EventError":
        """The value as a whole could not be read (not JSON, not an object, not UTF-8)."""
        return cls(ErrorKind.INVALID_INPUT, None, str(problem))

    @classmethod
    def rejected(cls, reason: object) -> "EventError":
        """The plugin refuses the event for a reason of its own."""
        return cls(ErrorKind.REJECTED, None, str(reason))

    def __repr__(self) -> str:
        return f"EventError({self.kind!r}, {self.field!r}, {self.message!r})"
