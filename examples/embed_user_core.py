"""Another Python program using user_core directly, with no web server and no database.

Run it with ``python examples/embed_user_core.py``. A real program would pass the PostgreSQL
repository (``user_postgres.PostgresUserRepository``) where this one passes the in-memory one.
"""

from __future__ import annotations

import asyncio

from user_core import FieldTaken, InvalidInput, PageRequest, SystemClock, UserDraft, UserService
from user_core.testing import InMemoryUserRepository


async def main() -> None:
    users = UserService(InMemoryUserRepository(), SystemClock())

    ada = await users.create(
        UserDraft.parse(name="Ada Lovelace", email="ada@example.com", other="analyst")
    )
    print(f"created #{ada.id} {ada.name.value} <{ada.email.value if ada.email else '-'}>")

    try:
        await users.create(UserDraft.parse(name="ADA LOVELACE"))
    except FieldTaken as error:
        print(f"refused: {error.field} is taken")

    try:
        UserDraft.parse(name="", email="not-an-address")
    except InvalidInput as error:
        for problem in error.errors:
            print(f"invalid {problem.field}: {problem.message}")

    page = await users.list(PageRequest(name="ada lovelace", with_total=True))
    print(f"found {page.total} user(s) named ada lovelace")


if __name__ == "__main__":
    asyncio.run(main())
