"""The contract every :class:`~user_core.ports.UserRepository` adapter must pass.

Subclass :class:`UserRepositoryContract` in the adapter's tests and provide the
``repository_factory`` fixture::

    class TestMyRepository(UserRepositoryContract):
        @pytest.fixture
        def repository_factory(self) -> RepositoryFactory:
            return my_empty_repository  # an async context manager factory

The factory is called inside a running event loop, once per test and once per Hypothesis
example, and must yield an *empty* repository each time (ids may start anywhere).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import ClassVar, TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import run_state_machine_as_test

from user_core.errors import FieldTaken, IdempotencyKeyReused, UserNotFound, VersionMismatch
from user_core.idempotency import IdempotencyKey, IdempotentRequest, RecordedResponse
from user_core.model import EmailAddress, OtherInfo, User, UserChanges, UserDraft, UserName
from user_core.pagination import Page, PageRequest
from user_core.ports import UserRepository
from user_core.testing import strategies
from user_core.testing.statemachine import RepositoryStateMachine

RepositoryFactory = Callable[[], AbstractAsyncContextManager[UserRepository]]
"""Makes an async context manager that yields an empty repository and cleans up after it."""

_T = TypeVar("_T")
T0 = datetime(2026, 11, 25, 9, 0, 0, 123456, tzinfo=UTC)
"""The time the contract's writes happen at (later writes add whole seconds to it)."""


def _draft(name: str, email: str | None = None, other: str | None = None) -> UserDraft:
    return UserDraft.parse(name=name, email=email, other=other)


def _once(key: str, fingerprint: bytes = b"body") -> IdempotentRequest:
    return IdempotentRequest(IdempotencyKey(key), fingerprint)


def _respond(user: User) -> RecordedResponse:
    """A response naming the user, as an adapter would record it."""
    return RecordedResponse(201, (("location", f"/users/{user.id}"),), str(user.id).encode())


_DAY = timedelta(days=1)


def run(factory: RepositoryFactory, scenario: Callable[[UserRepository], Awaitable[_T]]) -> _T:
    """Run ``scenario`` against a fresh repository in a fresh event loop."""

    async def main() -> _T:
        async with factory() as repository:
            return await scenario(repository)

    with asyncio.Runner() as runner:
        return runner.run(main())


async def list_all(repository: UserRepository, request: PageRequest) -> list[User]:
    """Every user the request matches, following ``next_cursor`` page by page."""
    users: list[User] = []
    page: Page = await repository.list(request)
    users.extend(page.users)
    while page.next_cursor is not None:
        request = PageRequest(
            limit=request.limit, cursor=page.next_cursor, name=request.name, email=request.email
        )
        page = await repository.list(request)
        users.extend(page.users)
    return users


class UserRepositoryContract:
    """Example-based and model-based checks of every port method and every error."""

    max_examples: ClassVar[int] = 100
    """Hypothesis examples for each property; adapters may raise it."""
    state_machine_examples: ClassVar[int] = 300
    """Programs the state machine runs; each program is up to 25 steps."""

    @pytest.fixture
    def repository_factory(self) -> RepositoryFactory:
        """Provided by the adapter's test class."""
        raise NotImplementedError("override repository_factory in the adapter's test class")

    def test_add_stores_a_new_user_at_version_one(
        self, repository_factory: RepositoryFactory
    ) -> None:
        async def scenario(repo: UserRepository) -> tuple[User, User | None]:
            user = await repo.add(_draft(" Ada ", "ada@Example.COM", "admin"), T0)
            return user, await repo.get(user.id)

        user, stored = run(repository_factory, scenario)
        assert (user.name, user.email, user.other) == (
            UserName("Ada"),
            EmailAddress("ada@example.com"),
            OtherInfo("admin"),
        )
        assert (user.created_at, user.updated_at, user.version) == (T0, None, 1)
        assert user.id >= 1
        assert stored == user

    def test_ids_increase_and_are_never_reused(self, repository_factory: RepositoryFactory) -> None:
        async def scenario(repo: UserRepository) -> list[int]:
            first = await repo.add(_draft("one"), T0)
            second = await repo.add(_draft("two"), T0)
            await repo.delete(second.id, None)
            third = await repo.add(_draft("three"), T0)
            return [first.id, second.id, third.id]

        first, second, third = run(repository_factory, scenario)
        assert first < second < third

    @pytest.mark.parametrize(("field", "taken"), [("name", "ADA"), ("email", "ADA@example.com")])
    def test_add_refuses_a_taken_value_in_any_letter_case(
        self, repository_factory: RepositoryFactory, field: str, taken: str
    ) -> None:
        async def scenario(repo: UserRepository) -> tuple[str, Page]:
            await repo.add(_draft("ada", "ada@example.com"), T0)
            draft = _draft(taken, "other@example.com") if field == "name" else _draft("b", taken)
            with pytest.raises(FieldTaken) as raised:
                await repo.add(draft, T0)
            return raised.value.field, await repo.list(PageRequest(with_total=True))

        reported, page = run(repository_factory, scenario)
        assert reported == field
        assert page.total == 1

    def test_many_users_may_have_no_email(self, repository_factory: RepositoryFactory) -> None:
        async def scenario(repo: UserRepository) -> Page:
            for name in ("a", "b", "c"):
                await repo.add(_draft(name), T0)
            return await repo.list(PageRequest(with_total=True))

        assert run(repository_factory, scenario).total == 3

    def test_get_answers_none_for_an_unknown_id(
        self, repository_factory: RepositoryFactory
    ) -> None:
        assert run(repository_factory, lambda repo: repo.get(2**63 - 1)) is None

    def test_update_changes_only_the_given_fields(
        self, repository_factory: RepositoryFactory
    ) -> None:
        later = T0 + timedelta(seconds=5)

        async def scenario(repo: UserRepository) -> tuple[User, User, User | None]:
            user = await repo.add(_draft("ada", "ada@example.com", "x"), T0)
            changed = await repo.update(user.id, UserChanges.parse(other=None), 1, later)
            return user, changed, await repo.get(user.id)

        user, changed, stored = run(repository_factory, scenario)
        assert changed == replace(user, other=None, updated_at=later, version=2)
        assert stored == changed

    def test_update_may_change_the_letter_case_of_its_own_name(
        self, repository_factory: RepositoryFactory
    ) -> None:
        async def scenario(repo: UserRepository) -> User:
            user = await repo.add(_draft("ada", "ada@example.com"), T0)
            return await repo.update(
                user.id, UserChanges.parse(name="ADA", email="ADA@example.com"), None, T0
            )

        changed = run(repository_factory, scenario)
        assert (changed.name.value, changed.version) == ("ADA", 2)

    def test_update_refuses_a_value_taken_by_another_user(
        self, repository_factory: RepositoryFactory
    ) -> None:
        async def scenario(repo: UserRepository) -> tuple[str, User, User | None]:
            await repo.add(_draft("ada"), T0)
            bob = await repo.add(_draft("bob"), T0)
            with pytest.raises(FieldTaken) as raised:
                await repo.update(bob.id, UserChanges.parse(name="Ada"), None, T0)
            return raised.value.field, bob, await repo.get(bob.id)

        field, bob, stored = run(repository_factory, scenario)
        assert field == "name"
        assert stored == bob

    def test_update_with_a_stale_version_changes_nothing(
        self, repository_factory: RepositoryFactory
    ) -> None:
        async def scenario(repo: UserRepository) -> tuple[VersionMismatch, User, User | None]:
            user = await repo.add(_draft("ada"), T0)
            user = await repo.update(user.id, UserChanges.parse(other="v2"), 1, T0)
            with pytest.raises(VersionMismatch) as raised:
                await repo.update(user.id, UserChanges.parse(other="v3"), 1, T0)
            return raised.value, user, await repo.get(user.id)

        error, user, stored = run(repository_factory, scenario)
        assert (error.expected, error.actual) == (1, 2)
        assert stored == user

    def test_update_and_delete_of_an_unknown_user_raise_not_found(
        self, repository_factory: RepositoryFactory
    ) -> None:
        async def scenario(repo: UserRepository) -> None:
            with pytest.raises(UserNotFound):
                await repo.update(12345, UserChanges(), None, T0)
            with pytest.raises(UserNotFound):
                await repo.update(12345, UserChanges(), 1, T0)
            with pytest.raises(UserNotFound):
                await repo.delete(12345, None)

        run(repository_factory, scenario)

    def test_delete_removes_the_user_and_checks_the_version(
        self, repository_factory: RepositoryFactory
    ) -> None:
        async def scenario(repo: UserRepository) -> tuple[User | None, User | None]:
            user = await repo.add(_draft("ada"), T0)
            with pytest.raises(VersionMismatch):
                await repo.delete(user.id, 7)
            kept = await repo.get(user.id)
            await repo.delete(user.id, 1)
            with pytest.raises(UserNotFound):
                await repo.delete(user.id, None)
            return kept, await repo.get(user.id)

        kept, gone = run(repository_factory, scenario)
        assert kept is not None
        assert gone is None

    def test_list_pages_by_offset_and_by_cursor_in_id_order(
        self, repository_factory: RepositoryFactory
    ) -> None:
        async def scenario(repo: UserRepository) -> tuple[list[User], Page, Page, list[User]]:
            users = [await repo.add(_draft(f"user {n}"), T0) for n in range(7)]
            by_offset = await repo.list(PageRequest(limit=3, offset=5, with_total=True))
            first = await repo.list(PageRequest(limit=3))
            return users, by_offset, first, await list_all(repo, PageRequest(limit=3))

        users, by_offset, first, walked = run(repository_factory, scenario)
        assert list(by_offset.users) == users[5:]
        assert (by_offset.next_cursor, by_offset.total) == (None, 7)
        assert list(first.users) == users[:3]
        assert first.next_cursor is not None
        assert first.next_cursor.after_id == users[2].id
        assert first.total is None
        assert walked == users

    def test_list_filters_by_name_and_email_ignoring_case(
        self, repository_factory: RepositoryFactory
    ) -> None:
        async def scenario(repo: UserRepository) -> list[Page]:
            await repo.add(_draft("Ada", "ada@example.com"), T0)
            await repo.add(_draft("Bob", "bob@example.com"), T0)
            await repo.add(_draft("Cy"), T0)
            return [
                await repo.list(PageRequest(name=" ADA ", with_total=True)),
                await repo.list(PageRequest(email="BOB@EXAMPLE.COM", with_total=True)),
                await repo.list(PageRequest(name="ada", email="bob@example.com", with_total=True)),
                await repo.list(PageRequest(name="nobody'; drop table users; --")),
            ]

        by_name, by_email, neither, injected = run(repository_factory, scenario)
        assert [u.name.value for u in by_name.users] == ["Ada"]
        assert [u.name.value for u in by_email.users] == ["Bob"]
        assert (by_name.total, by_email.total, neither.total) == (1, 1, 0)
        assert list(injected.users) == []

    def test_concurrent_adds_of_one_name_store_exactly_one(
        self, repository_factory: RepositoryFactory
    ) -> None:
        async def scenario(repo: UserRepository) -> tuple[list[User | BaseException], Page]:
            spellings = ["ada", "Ada", "ADA", "aDa", "adA", "AdA", "aDA", "ADa"]
            results = await asyncio.gather(
                *(repo.add(_draft(name), T0) for name in spellings), return_exceptions=True
            )
            return results, await repo.list(PageRequest(with_total=True))

        results, page = run(repository_factory, scenario)
        assert sum(isinstance(r, User) for r in results) == 1
        assert sum(isinstance(r, FieldTaken) for r in results) == len(results) - 1
        assert page.total == 1

    def test_concurrent_updates_at_one_version_let_exactly_one_win(
        self, repository_factory: RepositoryFactory
    ) -> None:
        async def scenario(repo: UserRepository) -> tuple[list[User | BaseException], User | None]:
            user = await repo.add(_draft("ada"), T0)
            results = await asyncio.gather(
                *(repo.update(user.id, UserChanges.parse(other=str(n)), 1, T0) for n in range(8)),
                return_exceptions=True,
            )
            return results, await repo.get(user.id)

        results, stored = run(repository_factory, scenario)
        winners = [r for r in results if isinstance(r, User)]
        assert len(winners) == 1
        assert sum(isinstance(r, VersionMismatch) for r in results) == len(results) - 1
        assert stored == winners[0]
        assert stored.version == 2

    def test_values_round_trip_exactly(self, repository_factory: RepositoryFactory) -> None:
        @settings(
            max_examples=self.max_examples,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        )
        @given(draft=strategies.drafts(), seconds=st.integers(0, 10**9))
        def check(draft: UserDraft, seconds: int) -> None:
            now = T0 + timedelta(seconds=seconds, microseconds=seconds % 999_999)

            async def scenario(repo: UserRepository) -> tuple[User, User | None]:
                user = await repo.add(draft, now)
                return user, await repo.get(user.id)

            user, stored = run(repository_factory, scenario)
            assert (user.name, user.email, user.other, user.created_at) == (
                draft.name,
                draft.email,
                draft.other,
                now,
            )
            assert stored == user

        check()

    def test_cursor_walk_sees_every_stable_user_once_despite_concurrent_changes(
        self, repository_factory: RepositoryFactory
    ) -> None:
        @settings(
            max_examples=self.max_examples,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        )
        @given(
            initial=st.integers(0, 25),
            limit=st.integers(1, 6),
            churn=st.lists(st.tuples(st.booleans(), st.integers(0, 40)), max_size=20),
        )
        def check(initial: int, limit: int, churn: list[tuple[bool, int]]) -> None:
            async def scenario(repo: UserRepository) -> tuple[list[int], set[int], set[int]]:
                created = [(await repo.add(_draft(f"u{n}"), T0)).id for n in range(initial)]
                deleted: set[int] = set()
                seen: list[int] = []
                moves = iter(churn)
                cursor = None
                while True:
                    page = await repo.list(PageRequest(limit=limit, cursor=cursor))
                    seen.extend(user.id for user in page.users)
                    # Between two pages, another client inserts or deletes a user.
                    insert, pick = next(moves, (False, -1))
                    if insert:
                        created.append((await repo.add(_draft(f"new {len(created)}"), T0)).id)
                    elif pick >= 0 and created:
                        victim = created[pick % len(created)]
                        if victim not in deleted:
                            await repo.delete(victim, None)
                            deleted.add(victim)
                    if page.next_cursor is None:
                        return seen, set(created), deleted
                    cursor = page.next_cursor

            seen, created, deleted = run(repository_factory, scenario)
            assert seen == sorted(seen), "pages must come in ascending id order"
            assert len(seen) == len(set(seen)), "no user may appear twice"
            assert set(seen) <= created
            original = sorted(created)[:initial]
            assert set(original) - deleted <= set(seen), "a user never deleted must be seen"

        check()

    def test_add_once_creates_once_and_answers_a_retry_with_the_same_response(
        self, repository_factory: RepositoryFactory
    ) -> None:
        async def scenario(repo: UserRepository) -> tuple[list[RecordedResponse], Page]:
            draft = _draft("ada")
            first = await repo.add_once(draft, _once("k-1"), _respond, T0, T0 + _DAY)
            later = T0 + timedelta(hours=23)
            retry = await repo.add_once(draft, _once("k-1"), _respond, later, later + _DAY)
            return [first, retry], await repo.list(PageRequest(with_total=True))

        (first, retry), page = run(repository_factory, scenario)
        assert retry == first
        assert page.total == 1
        assert first == _respond(page.users[0])

    def test_add_once_refuses_a_key_reused_for_another_request(
        self, repository_factory: RepositoryFactory
    ) -> None:
        async def scenario(repo: UserRepository) -> tuple[str, RecordedResponse, Page]:
            await repo.add_once(_draft("ada"), _once("k-1", b"ada"), _respond, T0, T0 + _DAY)
            with pytest.raises(IdempotencyKeyReused) as raised:
                await repo.add_once(_draft("bob"), _once("k-1", b"bob"), _respond, T0, T0 + _DAY)
            same = await repo.add_once(_draft("ada"), _once("k-1", b"ada"), _respond, T0, T0 + _DAY)
            return raised.value.key, same, await repo.list(PageRequest(with_total=True))

        key, same, page = run(repository_factory, scenario)
        assert key == "k-1"
        assert same == _respond(page.users[0])
        assert [user.name.value for user in page.users] == ["ada"]

    def test_keys_differ_by_letter_case(self, repository_factory: RepositoryFactory) -> None:
        async def scenario(repo: UserRepository) -> Page:
            await repo.add_once(_draft("ada"), _once("key"), _respond, T0, T0 + _DAY)
            await repo.add_once(_draft("bob"), _once("KEY"), _respond, T0, T0 + _DAY)
            return await repo.list(PageRequest(with_total=True))

        assert run(repository_factory, scenario).total == 2

    def test_an_expired_key_creates_again(self, repository_factory: RepositoryFactory) -> None:
        async def scenario(repo: UserRepository) -> tuple[RecordedResponse, RecordedResponse]:
            first = await repo.add_once(_draft("ada"), _once("k", b"1"), _respond, T0, T0 + _DAY)
            after = T0 + _DAY  # a record is live strictly before its expiry
            second = await repo.add_once(_draft("bob"), _once("k", b"2"), _respond, after, after)
            return first, second

        first, second = run(repository_factory, scenario)
        assert first != second

    def test_a_failed_creation_records_nothing(self, repository_factory: RepositoryFactory) -> None:
        async def scenario(repo: UserRepository) -> tuple[RecordedResponse, Page]:
            ada = await repo.add(_draft("ada"), T0)
            with pytest.raises(FieldTaken):
                await repo.add_once(_draft("ADA"), _once("k"), _respond, T0, T0 + _DAY)
            await repo.delete(ada.id, None)
            retried = await repo.add_once(_draft("ADA"), _once("k"), _respond, T0, T0 + _DAY)
            return retried, await repo.list(PageRequest(with_total=True))

        retried, page = run(repository_factory, scenario)
        assert [user.name.value for user in page.users] == ["ADA"]
        assert retried == _respond(page.users[0])

    def test_a_response_that_cannot_be_made_leaves_neither_user_nor_key(
        self, repository_factory: RepositoryFactory
    ) -> None:
        def broken(_user: User) -> RecordedResponse:
            raise RuntimeError("cannot encode")

        async def scenario(repo: UserRepository) -> tuple[Page, RecordedResponse]:
            with pytest.raises(RuntimeError):
                await repo.add_once(_draft("ada"), _once("k"), broken, T0, T0 + _DAY)
            page = await repo.list(PageRequest(with_total=True))
            return page, await repo.add_once(_draft("bob"), _once("k"), _respond, T0, T0 + _DAY)

        page, retried = run(repository_factory, scenario)
        assert page.total == 0
        assert retried.body != b""

    def test_concurrent_add_once_with_one_key_creates_one_user(
        self, repository_factory: RepositoryFactory
    ) -> None:
        async def scenario(
            repo: UserRepository,
        ) -> tuple[list[RecordedResponse | BaseException], Page]:
            results = await asyncio.gather(
                *(
                    repo.add_once(_draft("ada"), _once("k"), _respond, T0, T0 + _DAY)
                    for _ in range(8)
                ),
                return_exceptions=True,
            )
            return results, await repo.list(PageRequest(with_total=True))

        results, page = run(repository_factory, scenario)
        assert page.total == 1
        assert results == [_respond(page.users[0])] * len(results)

    def test_purge_removes_expired_records_in_batches_and_keeps_live_ones(
        self, repository_factory: RepositoryFactory
    ) -> None:
        async def scenario(repo: UserRepository) -> tuple[list[int], RecordedResponse, Page]:
            for n in range(5):
                expires = T0 + timedelta(seconds=n)
                await repo.add_once(_draft(f"u{n}"), _once(f"k{n}"), _respond, T0, expires)
            now = T0 + timedelta(seconds=3)  # k0, k1, k2 and k3 have expired
            counts = [await repo.purge_expired(now, 3), await repo.purge_expired(now, 3)]
            counts.append(await repo.purge_expired(now, 3))
            live = await repo.add_once(_draft("other"), _once("k4"), _respond, now, now + _DAY)
            return counts, live, await repo.list(PageRequest(with_total=True))

        counts, live, page = run(repository_factory, scenario)
        assert counts == [3, 1, 0]
        assert page.total == 5
        assert live == _respond(page.users[4])

    def test_agrees_with_a_plain_model(self, repository_factory: RepositoryFactory) -> None:
        machine = type(
            "BoundRepositoryStateMachine",
            (RepositoryStateMachine,),
            {"repository_factory": staticmethod(repository_factory)},
        )
        run_state_machine_as_test(
            machine,
            settings=settings(
                max_examples=self.state_machine_examples,
                stateful_step_count=25,
                deadline=None,
                suppress_health_check=[HealthCheck.too_slow],
            ),
        )


__all__ = ["T0", "RepositoryFactory", "UserRepositoryContract", "list_all", "run"]
