"""user_core: the user domain, with no framework and no database driver.

Import what you need from here::

    from user_core import UserService, UserDraft
    from user_core.testing import InMemoryUserRepository, FixedClock
"""

from user_core.clock import SystemClock
from user_core.errors import (
    FieldError,
    FieldTaken,
    IdempotencyKeyReused,
    InvalidInput,
    StorageUnavailable,
    UserNotFound,
    UserServiceError,
    VersionMismatch,
)
from user_core.idempotency import (
    IDEMPOTENCY_RETENTION,
    IdempotencyKey,
    IdempotentRequest,
    RecordedResponse,
)
from user_core.model import (
    MAX_USER_ID,
    MIN_USER_ID,
    UNSET,
    USER_FIELDS,
    EmailAddress,
    OtherInfo,
    PrintableText,
    TextValue,
    UniqueText,
    Unset,
    User,
    UserChanges,
    UserDraft,
    UserField,
    UserName,
)
from user_core.pagination import Cursor, Page, PageRequest
from user_core.ports import Clock, UserRepository
from user_core.service import UserService

__all__ = [
    "IDEMPOTENCY_RETENTION",
    "MAX_USER_ID",
    "MIN_USER_ID",
    "UNSET",
    "USER_FIELDS",
    "Clock",
    "Cursor",
    "EmailAddress",
    "FieldError",
    "FieldTaken",
    "IdempotencyKey",
    "IdempotencyKeyReused",
    "IdempotentRequest",
    "InvalidInput",
    "OtherInfo",
    "Page",
    "PageRequest",
    "PrintableText",
    "RecordedResponse",
    "StorageUnavailable",
    "SystemClock",
    "TextValue",
    "UniqueText",
    "Unset",
    "User",
    "UserChanges",
    "UserDraft",
    "UserField",
    "UserName",
    "UserNotFound",
    "UserRepository",
    "UserService",
    "UserServiceError",
    "VersionMismatch",
]
