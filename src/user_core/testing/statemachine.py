"""Model-based testing: a repository and a plain dict, driven side by side, must always agree."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, TypeVar

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from user_core.errors import FieldTaken, UserNotFound, UserServiceError, VersionMismatch
from user_core.model import MAX_USER_ID, USER_FIELDS, User, UserChanges, UserDraft
from user_core.pagination import PageRequest
from user_core.ports import UserRepository
from user_core.testing import strategies

_T = TypeVar("_T")
_drafts = strategies.drafts(strategies.colliding_names(), strategies.colliding_emails())
_changes = strategies.changes(strategies.colliding_names(), strategies.colliding_emails())


@dataclass
class Model:
    """The obvious implementation: a dict of users and the rules of the port, spelt out."""

    users: dict[int, User] = field(default_factory=dict)
    last_id: int = 0

    def conflict(self, candidate: User) -> set[str]:
        """The unique fields ``candidate`` would share with another user."""
        others = [user for user in self.users.values() if user.id != candidate.id]
        return {
            user_field.name
            for user_field in USER_FIELDS
            if (key := user_field.key_of(candidate)) is not None
            and any(user_field.key_of(other) == key for other in others)
        }

    def failure(self, user_id: int, expected: int | None) -> type[UserServiceError] | None:
        """The error a conditional write to ``user_id`` must raise, if any."""
        user = self.users.get(user_id)
        if user is None:
            return UserNotFound
        if expected is not None and expected != user.version:
            return VersionMismatch
        return None

    def matching(self, request: PageRequest) -> list[User]:
        """Every user the request's filters match, in id order."""
        return [
            user
            for user_id, user in sorted(self.users.items())
            if (request.name_key is None or user.name.key == request.name_key)
            and (request.email_key is None or (user.email and user.email.key == request.email_key))
        ]


class RepositoryStateMachine(RuleBasedStateMachine):
    """Drives ``repository_factory()``'s repository and a :class:`Model` with the same calls."""

    repository_factory: ClassVar[Callable[[], AbstractAsyncContextManager[UserRepository]]]

    def __init__(self) -> None:
        super().__init__()
        self.model = Model()
        self.now = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
        self.runner = asyncio.Runner()
        self.context = type(self).repository_factory()
        self.repository: UserRepository = self.runner.run(self.context.__aenter__())

    def teardown(self) -> None:
        try:
            self.runner.run(self.context.__aexit__(None, None, None))
        finally:
            self.runner.close()

    def attempt(self, call: Coroutine[Any, Any, _T]) -> tuple[_T | None, UserServiceError | None]:
        """Run one repository call; return its result or the domain error it raised."""
        try:
            return self.runner.run(call), None
        except UserServiceError as error:
            return None, error

    def tick(self) -> datetime:
        self.now += timedelta(seconds=1, microseconds=1)
        return self.now

    def pick_id(self, data: st.DataObject) -> int:
        known = sorted(self.model.users)
        pick = st.sampled_from(known) if known else st.nothing()
        return data.draw(pick | st.integers(1, self.model.last_id + 3) | st.just(MAX_USER_ID))

    def pick_version(self, data: st.DataObject, user_id: int) -> int | None:
        current = self.model.users[user_id].version if user_id in self.model.users else 1
        return data.draw(st.none() | st.just(current) | st.integers(1, current + 2))

    @rule(draft=_drafts)
    def add(self, draft: UserDraft) -> None:
        now = self.tick()
        taken = self.model.conflict(User.from_draft(draft, id=0, created_at=now))
        user, error = self.attempt(self.repository.add(draft, now))
        if taken:
            assert isinstance(error, FieldTaken), f"got {user or error!r}; {taken} is taken"
            assert error.field in taken, f"{error.field} reported taken, model says {taken}"
            return
        assert user is not None, f"add raised {error!r}"
        assert user.id > self.model.last_id, "ids must increase"
        assert user == User.from_draft(draft, id=user.id, created_at=now)
        self.model.users[user.id] = user
        self.model.last_id = user.id

    @rule(data=st.data())
    def get(self, data: st.DataObject) -> None:
        user_id = self.pick_id(data)
        assert self.runner.run(self.repository.get(user_id)) == self.model.users.get(user_id)

    @rule(data=st.data(), changes=_changes)
    def update(self, data: st.DataObject, changes: UserChanges) -> None:
        self._update(data, changes)

    @rule(data=st.data(), draft=_drafts)
    def replace(self, data: st.DataObject, draft: UserDraft) -> None:
        self._update(data, UserChanges.replacing_with(draft))

    def _update(self, data: st.DataObject, changes: UserChanges) -> None:
        user_id = self.pick_id(data)
        expected = self.pick_version(data, user_id)
        now = self.tick()
        failure = self.model.failure(user_id, expected)
        changed = None if failure else changes.apply_to(self.model.users[user_id], now)
        taken = self.model.conflict(changed) if changed else set()
        result, error = self.attempt(self.repository.update(user_id, changes, expected, now))
        if failure is not None:
            assert type(error) is failure, f"got {result or error!r}, model expects {failure}"
            return
        if taken:
            assert isinstance(error, FieldTaken), f"got {result or error!r}; {taken} is taken"
            assert error.field in taken, f"{error.field} reported taken, model says {taken}"
            return
        assert result is not None, f"update raised {error!r}"
        assert result == changed
        self.model.users[user_id] = result

    @rule(data=st.data())
    def delete(self, data: st.DataObject) -> None:
        user_id = self.pick_id(data)
        expected = self.pick_version(data, user_id)
        failure = self.model.failure(user_id, expected)
        _, error = self.attempt(self.repository.delete(user_id, expected))
        if failure is not None:
            assert type(error) is failure, f"got {error!r}, model expects {failure}"
            return
        assert error is None, f"delete raised {error!r}"
        del self.model.users[user_id]

    @rule(
        limit=st.integers(1, 5),
        offset=st.integers(0, 6),
        with_total=st.booleans(),
        filter_by=st.sampled_from(["none", "name", "email"]),
        data=st.data(),
    )
    def list_by_offset(
        self, limit: int, offset: int, with_total: bool, filter_by: str, data: st.DataObject
    ) -> None:
        name = email = None
        if filter_by != "none" and self.model.users:
            user = self.model.users[data.draw(st.sampled_from(sorted(self.model.users)))]
            if filter_by == "name":
                name = user.name.value.upper()
            elif user.email is not None:
                email = user.email.value.swapcase()
        request = PageRequest(
            limit=limit, offset=offset, name=name, email=email, with_total=with_total
        )
        page = self.runner.run(self.repository.list(request))
        matching = self.model.matching(request)
        assert list(page.users) == matching[offset : offset + limit]
        has_more = len(matching) > offset + limit
        assert (page.next_cursor is not None) == has_more
        if page.next_cursor is not None:
            assert page.next_cursor.after_id == page.users[-1].id
        assert page.total == (len(matching) if with_total else None)

    @precondition(lambda self: bool(self.model.users))
    @rule(limit=st.integers(1, 4))
    def list_by_cursor(self, limit: int) -> None:
        seen: list[User] = []
        request = PageRequest(limit=limit)
        while True:
            page = self.runner.run(self.repository.list(request))
            seen.extend(page.users)
            if page.next_cursor is None:
                break
            request = PageRequest(limit=limit, cursor=page.next_cursor)
        assert seen == self.model.matching(PageRequest())

    @invariant()
    def ids_stay_within_range(self) -> None:
        assert all(1 <= user_id <= MAX_USER_ID for user_id in self.model.users)
