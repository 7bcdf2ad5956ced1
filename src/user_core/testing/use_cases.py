"""The contract every implementation of :class:`~user_core.ports.UserUseCases` must pass.

One behaviour suite, every deployment: :class:`~user_core.UserService` on any repository and a
remote client of the running service alike. Subclass :class:`UserUseCasesContract` and provide
``use_cases_factory``::

    class TestMyUseCases(UserUseCasesContract):
        @pytest.fixture
        def use_cases_factory(self) -> UseCasesFactory:
            return my_empty_service  # an async context manager factory

The factory is called inside a running event loop, once per test, and must yield use-cases over
an *empty* store. The suite reads no clock: a remote service keeps its own.

Documented differences, which the suite therefore does not check:

- ``create_once``'s ``request.fingerprint`` is computed here from the draft, as a remote service
  computes its own from the body it receives; a caller that fingerprints anything else sees
  in-process and remote services compare requests differently.
- Messages of :class:`~user_core.errors.FieldError` may be worded differently by the HTTP layer
  (e.g. for a bad id); their fields are the same, and that is what is checked.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import TypeVar

import pytest

from user_core.errors import (
    FieldTaken,
    IdempotencyKeyReused,
    InvalidInput,
    UserNotFound,
    VersionMismatch,
)
from user_core.idempotency import IdempotencyKey, IdempotentRequest, RecordedResponse
from user_core.model import (
    MAX_USER_ID,
    EmailAddress,
    OtherInfo,
    User,
    UserChanges,
    UserDraft,
    UserName,
)
from user_core.pagination import PageRequest
from user_core.ports import UserUseCases

UseCasesFactory = Callable[[], AbstractAsyncContextManager[UserUseCases]]
"""Makes an async context manager that yields use-cases over an empty store."""

_T = TypeVar("_T")


def _draft(name: str, email: str | None = None, other: str | None = None) -> UserDraft:
    return UserDraft.parse(name=name, email=email, other=other)


def _once(key: str, draft: UserDraft) -> IdempotentRequest:
    """The request under ``key``, fingerprinted by the draft's values (as a server would)."""
    values = repr(
        sorted((name, None if v is None else v.value) for name, v in draft.field_values().items())
    )
    return IdempotentRequest(IdempotencyKey(key), hashlib.sha256(values.encode()).digest())


def _respond(user: User) -> RecordedResponse:
    return RecordedResponse(201, (("location", f"/users/{user.id}"),), str(user.id).encode())


def run(factory: UseCasesFactory, scenario: Callable[[UserUseCases], Awaitable[_T]]) -> _T:
    """Run ``scenario`` against fresh, empty use-cases in a fresh event loop."""

    async def main() -> _T:
        async with factory() as use_cases:
            return await scenario(use_cases)

    with asyncio.Runner() as runner:
        return runner.run(main())


async def list_all(use_cases: UserUseCases, request: PageRequest) -> list[User]:
    """Every user the request matches, following ``next_cursor`` page by page."""
    page = await use_cases.list(request)
    users = list(page.users)
    while page.next_cursor is not None:
        request = PageRequest(
            limit=request.limit, cursor=page.next_cursor, name=request.name, email=request.email
        )
        page = await use_cases.list(request)
        users.extend(page.users)
    return users


class UserUseCasesContract:
    """What a caller of the use-cases may rely on, wherever they run."""

    @pytest.fixture
    def use_cases_factory(self) -> UseCasesFactory:
        """Provided by the implementation's test class."""
        raise NotImplementedError("override use_cases_factory in the implementation's test class")

    def test_create_stores_a_normalised_user_at_version_one(
        self, use_cases_factory: UseCasesFactory
    ) -> None:
        async def scenario(users: UserUseCases) -> tuple[User, User]:
            user = await users.create(_draft(" Ada ", "ada@Example.COM", "admin"))
            return user, await users.get(user.id)

        user, stored = run(use_cases_factory, scenario)
        assert (user.name, user.email, user.other) == (
            UserName("Ada"),
            EmailAddress("ada@example.com"),
            OtherInfo("admin"),
        )
        assert (user.updated_at, user.version) == (None, 1)
        assert user.created_at.utcoffset() is not None
        assert stored == user

    @pytest.mark.parametrize(("field", "taken"), [("name", "ADA"), ("email", "ADA@example.com")])
    def test_create_refuses_a_taken_value_in_any_letter_case(
        self, use_cases_factory: UseCasesFactory, field: str, taken: str
    ) -> None:
        async def scenario(users: UserUseCases) -> tuple[str, int | None]:
            await users.create(_draft("ada", "ada@example.com"))
            draft = _draft(taken, "b@example.com") if field == "name" else _draft("b", taken)
            with pytest.raises(FieldTaken) as raised:
                await users.create(draft)
            return raised.value.field, (await users.list(PageRequest(with_total=True))).total

        assert run(use_cases_factory, scenario) == (field, 1)

    @pytest.mark.parametrize("user_id", [0, -1, MAX_USER_ID + 1])
    def test_an_id_out_of_range_is_invalid_input(
        self, use_cases_factory: UseCasesFactory, user_id: int
    ) -> None:
        async def scenario(users: UserUseCases) -> list[list[str]]:
            fields = []
            for call in (
                lambda: users.get(user_id),
                lambda: users.replace(user_id, _draft("ada")),
                lambda: users.patch(user_id, UserChanges()),
                lambda: users.delete(user_id),
            ):
                with pytest.raises(InvalidInput) as raised:
                    await call()
                fields.append([error.field for error in raised.value.errors])
            return fields

        assert run(use_cases_factory, scenario) == [["id"]] * 4

    def test_an_unknown_user_is_not_found_by_every_use_case(
        self, use_cases_factory: UseCasesFactory
    ) -> None:
        async def scenario(users: UserUseCases) -> list[int]:
            gone = await users.create(_draft("gone"))
            await users.delete(gone.id)
            ids = []
            for call in (
                lambda: users.get(gone.id),
                lambda: users.replace(gone.id, _draft("ada")),
                lambda: users.patch(gone.id, UserChanges.parse(other="x")),
                lambda: users.delete(gone.id),
                lambda: users.delete(gone.id, expected_version=1),
            ):
                with pytest.raises(UserNotFound) as raised:
                    await call()
                ids.append(raised.value.user_id)
            return [gone.id, *ids]

        gone, *reported = run(use_cases_factory, scenario)
        assert reported == [gone] * 5

    def test_replace_sets_every_field_and_clears_absent_ones(
        self, use_cases_factory: UseCasesFactory
    ) -> None:
        async def scenario(users: UserUseCases) -> tuple[User, User, User]:
            user = await users.create(_draft("ada", "ada@example.com", "admin"))
            replaced = await users.replace(user.id, _draft("Ada Lovelace"))
            return user, replaced, await users.get(user.id)

        user, replaced, stored = run(use_cases_factory, scenario)
        assert (replaced.name, replaced.email, replaced.other) == (
            UserName("Ada Lovelace"),
            None,
            None,
        )
        assert (replaced.id, replaced.created_at, replaced.version) == (user.id, user.created_at, 2)
        assert replaced.updated_at is not None
        assert replaced.updated_at >= user.created_at
        assert stored == replaced

    def test_replace_with_the_same_values_is_still_a_new_version(
        self, use_cases_factory: UseCasesFactory
    ) -> None:
        async def scenario(users: UserUseCases) -> int:
            user = await users.create(_draft("ada"))
            return (await users.replace(user.id, _draft("ada"), expected_version=1)).version

        assert run(use_cases_factory, scenario) == 2

    def test_patch_changes_only_the_given_fields_and_none_clears(
        self, use_cases_factory: UseCasesFactory
    ) -> None:
        async def scenario(users: UserUseCases) -> tuple[User, User]:
            user = await users.create(_draft("ada", "ada@example.com", "admin"))
            first = await users.patch(user.id, UserChanges.parse(other="engineer"))
            second = await users.patch(user.id, UserChanges.parse(email=None), 2)
            return first, second

        first, second = run(use_cases_factory, scenario)
        assert (first.name, first.email, first.other, first.version) == (
            UserName("ada"),
            EmailAddress("ada@example.com"),
            OtherInfo("engineer"),
            2,
        )
        assert (second.email, second.other, second.version) == (None, OtherInfo("engineer"), 3)

    def test_an_empty_patch_is_a_new_version(self, use_cases_factory: UseCasesFactory) -> None:
        async def scenario(users: UserUseCases) -> int:
            user = await users.create(_draft("ada"))
            return (await users.patch(user.id, UserChanges())).version

        assert run(use_cases_factory, scenario) == 2

    @pytest.mark.parametrize("use_case", ["replace", "patch"])
    def test_a_change_to_a_value_another_user_holds_is_refused(
        self, use_cases_factory: UseCasesFactory, use_case: str
    ) -> None:
        async def scenario(users: UserUseCases) -> tuple[str, User]:
            await users.create(_draft("ada", "ada@example.com"))
            bob = await users.create(_draft("bob"))
            change = (
                users.replace(bob.id, _draft("bob", "ADA@example.com"))
                if use_case == "replace"
                else users.patch(bob.id, UserChanges.parse(email="ADA@example.com"))
            )
            with pytest.raises(FieldTaken) as raised:
                await change
            return raised.value.field, await users.get(bob.id)

        field, bob = run(use_cases_factory, scenario)
        assert (field, bob.email, bob.version) == ("email", None, 1)

    def test_a_stale_expected_version_changes_nothing(
        self, use_cases_factory: UseCasesFactory
    ) -> None:
        async def scenario(users: UserUseCases) -> tuple[list[tuple[int, int, int]], User]:
            user = await users.create(_draft("ada"))
            await users.patch(user.id, UserChanges.parse(other="v2"))
            mismatches = []
            for call in (
                lambda: users.replace(user.id, _draft("x"), expected_version=1),
                lambda: users.patch(user.id, UserChanges.parse(other="x"), expected_version=1),
                lambda: users.delete(user.id, expected_version=1),
            ):
                with pytest.raises(VersionMismatch) as raised:
                    await call()
                error = raised.value
                mismatches.append((error.user_id - user.id, error.expected, error.actual))
            return mismatches, await users.get(user.id)

        mismatches, stored = run(use_cases_factory, scenario)
        assert mismatches == [(0, 1, 2)] * 3
        assert (stored.name, stored.other, stored.version) == (UserName("ada"), OtherInfo("v2"), 2)

    def test_delete_removes_the_user_at_the_expected_version(
        self, use_cases_factory: UseCasesFactory
    ) -> None:
        async def scenario(users: UserUseCases) -> int | None:
            user = await users.create(_draft("ada"))
            await users.delete(user.id, expected_version=1)
            with pytest.raises(UserNotFound):
                await users.get(user.id)
            return (await users.list(PageRequest(with_total=True))).total

        assert run(use_cases_factory, scenario) == 0

    def test_list_pages_in_id_order_by_offset_and_by_cursor(
        self, use_cases_factory: UseCasesFactory
    ) -> None:
        async def scenario(users: UserUseCases) -> tuple[list[User], list[User], list[User]]:
            created = [await users.create(_draft(f"user {n}")) for n in range(5)]
            by_offset = list((await users.list(PageRequest(limit=2, offset=3))).users)
            return created, by_offset, await list_all(users, PageRequest(limit=2))

        created, by_offset, walked = run(use_cases_factory, scenario)
        assert [user.id for user in created] == sorted(user.id for user in created)
        assert by_offset == created[3:]
        assert walked == created

    def test_list_reports_the_total_and_the_last_page(
        self, use_cases_factory: UseCasesFactory
    ) -> None:
        async def scenario(users: UserUseCases) -> list[tuple[int, bool, int | None]]:
            for n in range(3):
                await users.create(_draft(f"user {n}"))
            pages = [
                await users.list(PageRequest(limit=3)),
                await users.list(PageRequest(limit=2, with_total=True)),
                await users.list(PageRequest(limit=5, offset=3, with_total=True)),
            ]
            return [(len(p.users), p.next_cursor is None, p.total) for p in pages]

        assert run(use_cases_factory, scenario) == [(3, True, None), (2, False, 3), (0, True, 3)]

    def test_list_filters_by_name_and_email_ignoring_case(
        self, use_cases_factory: UseCasesFactory
    ) -> None:
        async def scenario(users: UserUseCases) -> list[list[str]]:
            await users.create(_draft("Ada", "ada@example.com"))
            await users.create(_draft("bob", "bob@example.com"))
            requests = [
                PageRequest(name="ADA"),
                PageRequest(email="BOB@EXAMPLE.COM"),
                PageRequest(name="ada", email="bob@example.com"),
            ]
            return [[u.name.value for u in (await users.list(r)).users] for r in requests]

        assert run(use_cases_factory, scenario) == [["Ada"], ["bob"], []]

    def test_create_once_creates_once_and_answers_a_retry_alike(
        self, use_cases_factory: UseCasesFactory
    ) -> None:
        async def scenario(users: UserUseCases) -> tuple[RecordedResponse, RecordedResponse, int]:
            draft = _draft("ada", "ada@example.com")
            first = await users.create_once(draft, _once("key-1", draft), _respond)
            again = await users.create_once(draft, _once("key-1", draft), _respond)
            total = (await users.list(PageRequest(with_total=True))).total
            assert total is not None
            return first, again, total

        first, again, total = run(use_cases_factory, scenario)
        assert again == first
        assert total == 1

    def test_create_once_refuses_a_key_reused_for_another_draft(
        self, use_cases_factory: UseCasesFactory
    ) -> None:
        async def scenario(users: UserUseCases) -> tuple[str, int | None]:
            draft, other = _draft("ada"), _draft("bob")
            await users.create_once(draft, _once("key-2", draft), _respond)
            with pytest.raises(IdempotencyKeyReused) as raised:
                await users.create_once(other, _once("key-2", other), _respond)
            return raised.value.key, (await users.list(PageRequest(with_total=True))).total

        assert run(use_cases_factory, scenario) == ("key-2", 1)

    def test_create_once_that_fails_records_nothing(
        self, use_cases_factory: UseCasesFactory
    ) -> None:
        async def scenario(users: UserUseCases) -> User:
            taken = await users.create(_draft("ada"))
            draft = _draft("ada")
            with pytest.raises(FieldTaken):
                await users.create_once(draft, _once("key-3", draft), _respond)
            await users.delete(taken.id)
            response = await users.create_once(draft, _once("key-3", draft), _respond)
            return await users.get(int(response.body))

        assert run(use_cases_factory, scenario).name == UserName("ada")
