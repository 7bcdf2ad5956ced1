"""user_client: the user service's use-cases over HTTP, in ``user_core``'s own types.

``pip install user-service[client]`` brings ``httpx`` and nothing of the server::

    from user_client import RemoteUserService
    from user_core import UserDraft

    async with RemoteUserService("http://users:8080") as users:  # was: UserService(repo, clock)
        user = await users.create(UserDraft.parse(name="ada"))

What is retried and when: :mod:`user_client.retry`.
"""

from user_client.context import calling_context
from user_client.errors import (
    PROBLEM_ERRORS,
    RemoteServiceError,
    ServiceUnreachable,
    UnexpectedResponse,
)
from user_client.retry import RetryPolicy
from user_client.service import RemoteUserService, TokenSource

__all__ = [
    "PROBLEM_ERRORS",
    "RemoteServiceError",
    "RemoteUserService",
    "RetryPolicy",
    "ServiceUnreachable",
    "TokenSource",
    "UnexpectedResponse",
    "calling_context",
]
