"""The ports: what the core needs from the outside world, as ``typing.Protocol``s.

Adapters implement them; the contract suite in :mod:`user_core.testing` checks that they keep
every promise written here.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from user_core.idempotency import IdempotentRequest, RecordedResponse
from user_core.model import User, UserChanges, UserDraft
from user_core.pagination import Page, PageRequest


class Clock(Protocol):
    """Tells the time; injected so that the core never reads the system clock itself."""

    def now(self) -> datetime:
        """The current time, timezone-aware UTC, with microsecond precision."""
        ...


class UserRepository(Protocol):
    """Where users are kept.

    Every method is atomic: it changes everything it promises or nothing. Uniqueness of name and
    email (compared by their ``key``: ignoring case, width and spacing) and the version check are
    enforced here, in the same step as the write, so concurrent callers can never both succeed
    where only one may. Any method may raise :class:`~user_core.errors.StorageUnavailable` when
    the storage cannot answer; the write is then not applied.
    """

    async def add(self, draft: UserDraft, now: datetime) -> User:
        """Store a new user created at ``now`` with a fresh id and version 1 and return it.

        Raises :class:`~user_core.errors.FieldTaken` when another user has the name or email.
        Ids increase with every creation and are never reused.
        """
        ...

    async def add_once(
        self,
        draft: UserDraft,
        request: IdempotentRequest,
        respond: Callable[[User], RecordedResponse],
        now: datetime,
        expires_at: datetime,
    ) -> RecordedResponse:
        """Create a user at most once per idempotency key; the response to the key's first request.

        When no record of ``request.key`` expires after ``now``: store the user as :meth:`add`
        does, and record ``respond(user)`` under the key with ``request.fingerprint`` until
        ``expires_at``, both in one atomic step, and return that response. When one does and its
        fingerprint is the same: create nothing and return its recorded response. When its
        fingerprint differs: raise :class:`~user_core.errors.IdempotencyKeyReused`.

        A failed creation (``FieldTaken``, ``StorageUnavailable``) records nothing, so a retry
        runs again. Concurrent calls with one key never create two users: each waits until the
        others holding the key have finished, then answers as above. ``respond`` must be quick
        and pure: it may run while the key is held.
        """
        ...

    async def purge_expired(self, now: datetime, limit: int) -> int:
        """Remove at most ``limit`` idempotency records expired at ``now``; return how many.

        Never waits for a creation that holds a key (it skips the records in use), and holds
        the records it removes only while removing them.
        """
        ...

    async def get(self, user_id: int) -> User | None:
        """The user with this id, or ``None`` when there is none."""
        ...

    async def update(
        self, user_id: int, changes: UserChanges, expected_version: int | None, now: datetime
    ) -> User:
        """Apply ``changes`` (see :meth:`UserChanges.apply_to`) and return the changed user.

        With ``expected_version`` the change happens only if the stored version equals it. Raises
        :class:`~user_core.errors.UserNotFound`, :class:`~user_core.errors.VersionMismatch` or
        :class:`~user_core.errors.FieldTaken`, having changed nothing.
        """
        ...

    async def delete(self, user_id: int, expected_version: int | None) -> None:
        """Remove the user; with ``expected_version``, only if the stored version equals it.

        Raises :class:`~user_core.errors.UserNotFound` or
        :class:`~user_core.errors.VersionMismatch`, having removed nothing.
        """
        ...

    async def list(self, request: PageRequest) -> Page:
        """One page of the users matching the request's filters, in ascending id order.

        ``next_cursor`` is set when more matching users follow the page, and points after its last
        user; ``total`` counts all matching users when ``request.with_total`` is set.
        """
        ...


class UserUseCases(Protocol):
    """What applications do with users: the use-cases, in process or over the network.

    :class:`~user_core.service.UserService` implements it on a repository; ``user_client``'s
    ``RemoteUserService`` implements it over HTTP. Both take and return domain objects and raise
    the errors of :mod:`user_core.errors`; the use-case contract suite in
    :mod:`user_core.testing.use_cases` checks that they behave alike. ``expected_version``, where
    taken, makes a change conditional (``None``: whatever version is stored).
    """

    async def create(self, draft: UserDraft) -> User:
        """Store a new user (version 1); raises ``FieldTaken`` if the name or email is in use."""
        ...

    async def create_once(
        self,
        draft: UserDraft,
        request: IdempotentRequest,
        respond: Callable[[User], RecordedResponse],
    ) -> RecordedResponse:
        """Create at most once per ``request.key``; every retry gets the first response.

        The same key with another request raises ``IdempotencyKeyReused``; a failure records
        nothing.
        """
        ...

    async def get(self, user_id: int) -> User:
        """The user with this id; raises ``UserNotFound``."""
        ...

    async def replace(
        self, user_id: int, draft: UserDraft, expected_version: int | None = None
    ) -> User:
        """Replace every field a client chooses; raises ``UserNotFound``, ``VersionMismatch``,
        ``FieldTaken``."""
        ...

    async def patch(
        self, user_id: int, changes: UserChanges, expected_version: int | None = None
    ) -> User:
        """Change only the given fields; raises as :meth:`replace` does."""
        ...

    async def delete(self, user_id: int, expected_version: int | None = None) -> None:
        """Remove the user; raises ``UserNotFound`` or ``VersionMismatch``."""
        ...

    async def list(self, request: PageRequest) -> Page:
        """One page of users in ascending id order (see :class:`PageRequest`)."""
        ...
