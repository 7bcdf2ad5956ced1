"""A small cache of the users last read or written, for conditional reads.

With it, ``get`` sends ``If-None-Match`` with the cached user's entity tag; a ``304`` answers that
the user is still at that version, and since every change bumps the version, the cached user is
the current one. Least recently used users are forgotten first.
"""

from __future__ import annotations

from collections import OrderedDict

from user_core import User


class UserCache:
    """At most ``size`` users by id; ``size=0`` keeps none."""

    def __init__(self, size: int) -> None:
        if size < 0:
            raise ValueError("the cache size must not be negative")
        self._size = size
        self._users: OrderedDict[int, User] = OrderedDict()

    def get(self, user_id: int) -> User | None:
        """The cached user, now the most recently used, or ``None``."""
        user = self._users.get(user_id)
        if user is not None:
            self._users.move_to_end(user_id)
        return user

    def put(self, user: User) -> None:
        """Keep ``user`` (replacing an older version), forgetting the least recently used."""
        if not self._size:
            return
        self._users[user.id] = user
        self._users.move_to_end(user.id)
        while len(self._users) > self._size:
            self._users.popitem(last=False)

    def forget(self, user_id: int) -> None:
        """Drop the user (deleted, or no longer known)."""
        self._users.pop(user_id, None)
