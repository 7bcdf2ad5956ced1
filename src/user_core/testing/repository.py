"""An in-memory :class:`~user_core.ports.UserRepository`, faithful to the port's contract."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from user_core.errors import FieldTaken, IdempotencyKeyReused, UserNotFound, VersionMismatch
from user_core.idempotency import IdempotentRequest, RecordedResponse
from user_core.model import USER_FIELDS, User, UserChanges, UserDraft
from user_core.pagination import Cursor, Page, PageRequest


@dataclass(frozen=True, slots=True)
class _Record:
    fingerprint: bytes
    response: RecordedResponse
    expires_at: datetime


class InMemoryUserRepository:
    """Keeps users in a dict; for tests and for programs that need no persistence.

    Safe under concurrent asyncio tasks: no method awaits between its check and its write, so
    each one is atomic on the event loop, just as each statement is atomic in a database.
    """

    def __init__(self) -> None:
        self._users: dict[int, User] = {}
        self._last_id = 0
        self._records: dict[str, _Record] = {}

    async def add(self, draft: UserDraft, now: datetime) -> User:
        """See :meth:`UserRepository.add`."""
        candidate = User.from_draft(draft, id=self._last_id + 1, created_at=now.astimezone(UTC))
        self._check_unique(candidate)
        self._last_id = candidate.id
        self._users[candidate.id] = candidate
        return candidate

    async def add_once(
        self,
        draft: UserDraft,
        request: IdempotentRequest,
        respond: Callable[[User], RecordedResponse],
        now: datetime,
        expires_at: datetime,
    ) -> RecordedResponse:
        """See :meth:`UserRepository.add_once`."""
        key = request.key.value
        record = self._records.get(key)
        if record is not None and record.expires_at > now:
            if record.fingerprint != request.fingerprint:
                raise IdempotencyKeyReused(key)
            return record.response
        user = await self.add(draft, now)  # add does not await: still atomic
        try:
            response = respond(user)
        except BaseException:
            del self._users[user.id]  # both or neither
            raise
        self._records[key] = _Record(request.fingerprint, response, expires_at)
        return response

    async def purge_expired(self, now: datetime, limit: int) -> int:
        """See :meth:`UserRepository.purge_expired`."""
        expired = [key for key, record in self._records.items() if record.expires_at <= now]
        for key in expired[:limit]:
            del self._records[key]
        return min(len(expired), limit)

    @property
    def idempotency_keys(self) -> frozenset[str]:
        """The keys recorded now, expired or not (for tests)."""
        return frozenset(self._records)

    async def get(self, user_id: int) -> User | None:
        """See :meth:`UserRepository.get`."""
        return self._users.get(user_id)

    async def update(
        self, user_id: int, changes: UserChanges, expected_version: int | None, now: datetime
    ) -> User:
        """See :meth:`UserRepository.update`."""
        current = self._current(user_id, expected_version)
        changed = changes.apply_to(current, now.astimezone(UTC))
        self._check_unique(changed)
        self._users[user_id] = changed
        return changed

    async def delete(self, user_id: int, expected_version: int | None) -> None:
        """See :meth:`UserRepository.delete`."""
        self._current(user_id, expected_version)
        del self._users[user_id]

    async def list(self, request: PageRequest) -> Page:
        """See :meth:`UserRepository.list`."""
        name_key, email_key = request.name_key, request.email_key
        matching = [
            user
            for user in self._users.values()  # dicts keep insertion order: ascending ids
            if (name_key is None or user.name.key == name_key)
            and (email_key is None or (user.email is not None and user.email.key == email_key))
        ]
        after = [user for user in matching if user.id > request.after_id]
        window = after[request.offset : request.offset + request.limit + 1]
        users = window[: request.limit]
        more = len(window) > request.limit
        return Page(
            users=users,
            next_cursor=Cursor(users[-1].id) if more else None,
            total=len(matching) if request.with_total else None,
        )

    def _current(self, user_id: int, expected_version: int | None) -> User:
        user = self._users.get(user_id)
        if user is None:
            raise UserNotFound(user_id)
        if expected_version is not None and user.version != expected_version:
            raise VersionMismatch(user_id, expected_version, user.version)
        return user

    def _check_unique(self, candidate: User) -> None:
        others = [user for user in self._users.values() if user.id != candidate.id]
        for field in USER_FIELDS:
            key = field.key_of(candidate)
            if key is not None and any(field.key_of(other) == key for other in others):
                raise FieldTaken(field.name)
