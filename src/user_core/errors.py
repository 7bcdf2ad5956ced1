"""Every failure a caller of the core must handle, in one hierarchy.

Adapters translate these at their boundary (HTTP statuses, database errors); the core itself knows
nothing of either.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FieldError:
    """One invalid field: its name as the caller spelt it, and what is wrong with it."""

    field: str
    message: str


class UserServiceError(Exception):
    """Base class of every error the core raises on purpose."""


class InvalidInput(UserServiceError):
    """The input breaks the rules; ``errors`` lists every bad field, not only the first."""

    def __init__(self, errors: Sequence[FieldError]) -> None:
        if not errors:
            raise ValueError("InvalidInput needs at least one FieldError")
        self.errors: tuple[FieldError, ...] = tuple(errors)
        count = len(self.errors)
        summary = f"{count} field is invalid" if count == 1 else f"{count} fields are invalid"
        super().__init__(summary)

    @classmethod
    def single(cls, field: str, message: str) -> InvalidInput:
        """An error about one field only."""
        return cls([FieldError(field, message)])


class UserNotFound(UserServiceError):
    """No user has this id (never created, or deleted)."""

    def __init__(self, user_id: int) -> None:
        self.user_id = user_id
        super().__init__(f"user {user_id} does not exist")


class FieldTaken(UserServiceError):
    """Another user already holds this unique value (``name`` or ``email``, by its key)."""

    def __init__(self, field: str) -> None:
        self.field = field
        super().__init__(f"{field} is already taken")


class VersionMismatch(UserServiceError):
    """The caller expected another version of the user than the stored one (a lost update)."""

    def __init__(self, user_id: int, expected: int, actual: int) -> None:
        self.user_id = user_id
        self.expected = expected
        self.actual = actual
        super().__init__(f"user {user_id} is at version {actual}, not {expected}")


class IdempotencyKeyReused(UserServiceError):
    """The idempotency key was used, within its retention, for a request with other content.

    Nothing was created; the key still answers its first request.
    """

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(
            "this idempotency key was already used for a different request; "
            "a new request needs a new key"
        )


class StorageUnavailable(UserServiceError):
    """The storage cannot answer now (unreachable, overloaded, timed out); retrying later may work.

    The operation was rolled back as a whole, so nothing is half-written.
    """
