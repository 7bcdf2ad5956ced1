"""The use-cases: what applications do with users, whatever adapter they come through."""

from __future__ import annotations

from collections.abc import Callable

from user_core.errors import UserNotFound
from user_core.idempotency import IDEMPOTENCY_RETENTION, IdempotentRequest, RecordedResponse
from user_core.model import User, UserChanges, UserDraft, check_user_id
from user_core.pagination import Page, PageRequest
from user_core.ports import Clock, UserRepository


class UserService:
    """Creates, reads, changes, deletes and lists users.

    Each method takes and returns domain objects, and raises the errors of :mod:`user_core.errors`.
    ``expected_version``, where taken, makes the change conditional (optimistic concurrency):
    ``None`` changes whatever version is stored.
    """

    def __init__(self, repository: UserRepository, clock: Clock) -> None:
        self._repository = repository
        self._clock = clock

    async def create(self, draft: UserDraft) -> User:
        """Store a new user; raises ``FieldTaken`` if the name or email is in use."""
        return await self._repository.add(draft, self._clock.now())

    async def create_once(
        self,
        draft: UserDraft,
        request: IdempotentRequest,
        respond: Callable[[User], RecordedResponse],
    ) -> RecordedResponse:
        """Create a user at most once per idempotency key; answer every retry alike.

        The first request with ``request.key`` creates the user and records ``respond(user)``
        for :data:`IDEMPOTENCY_RETENTION`; a retry with the same fingerprint gets that response
        and creates nothing; another fingerprint raises ``IdempotencyKeyReused``. A failure
        (``FieldTaken``, ...) records nothing. See :meth:`UserRepository.add_once`.
        """
        now = self._clock.now()
        return await self._repository.add_once(
            draft, request, respond, now, now + IDEMPOTENCY_RETENTION
        )

    async def purge_expired_idempotency_keys(self, batch_size: int = 1000) -> int:
        """Forget idempotency keys past their retention, ``batch_size`` at a time; how many.

        Deletes in small batches so that no batch holds locks for long, and never waits for
        a creation in progress.
        """
        now = self._clock.now()
        purged = 0
        while True:
            count = await self._repository.purge_expired(now, batch_size)
            purged += count
            if count < batch_size:
                return purged

    async def get(self, user_id: int) -> User:
        """The user with this id; raises ``UserNotFound``."""
        user = await self._repository.get(check_user_id(user_id))
        if user is None:
            raise UserNotFound(user_id)
        return user

    async def replace(
        self, user_id: int, draft: UserDraft, expected_version: int | None = None
    ) -> User:
        """Replace every field a client chooses; absent optional fields become ``None``.

        Every successful replace counts as a change (version + 1), even one that sets the values
        already stored, so that a client's ``If-Match`` always refers to its own last write.
        """
        return await self._repository.update(
            check_user_id(user_id),
            UserChanges.replacing_with(draft),
            expected_version,
            self._clock.now(),
        )

    async def patch(
        self, user_id: int, changes: UserChanges, expected_version: int | None = None
    ) -> User:
        """Change only the given fields; like :meth:`replace`, every success is a new version."""
        return await self._repository.update(
            check_user_id(user_id), changes, expected_version, self._clock.now()
        )

    async def delete(self, user_id: int, expected_version: int | None = None) -> None:
        """Remove the user; raises ``UserNotFound`` or ``VersionMismatch``."""
        await self._repository.delete(check_user_id(user_id), expected_version)

    async def list(self, request: PageRequest) -> Page:
        """One page of users in ascending id order (see :class:`PageRequest`)."""
        return await self._repository.list(request)
