"""The ``/users`` endpoints: parse the request, call the use-case, encode the answer.

Errors are raised, never caught here: :mod:`user_http.errors` turns them into problem responses.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from user_core import Page, PageRequest, User, UserService
from user_http.body import JSON_MEDIA_TYPES, MERGE_PATCH_MEDIA_TYPES, read_body
from user_http.conditional import ANY, etag, if_match_versions, none_match
from user_http.errors import PreconditionFailed
from user_http.idempotency import idempotency_key, idempotent_request, record, replay
from user_http.query import next_page_query, page_request, query_items
from user_http.responses import JSON, EncodedResponse, encode, json_response
from user_http.schemas import user_page, user_resource
from user_http.user_input import canonical_input, user_changes, user_draft, user_id


class UserEndpoints:
    """The request handlers of the user resource, bound to one :class:`UserService`."""

    def __init__(self, service: UserService) -> None:
        self._service = service

    async def create(self, request: Request) -> Response:
        """``POST /users``; with ``Idempotency-Key``, at most one user per key."""
        key = idempotency_key(request.headers)
        body = await read_body(request, JSON_MEDIA_TYPES)
        draft = user_draft(body).value
        root_path = request.scope.get("root_path", "")
        if key is None:
            return _created(await self._service.create(draft), root_path)
        recorded = await self._service.create_once(
            draft,
            idempotent_request(key, canonical_input(body)),
            lambda user: record(_created(user, root_path)),
        )
        return replay(recorded)

    async def get(self, request: Request) -> Response:
        """``GET /users/{id}``; ``304`` when ``If-None-Match`` has the current tag."""
        user = await self._service.get(user_id(request.path_params["id"]))
        if none_match(request.headers.get("if-none-match"), user.version):
            return Response(status_code=304, headers={"ETag": etag(user.version)})
        return _user_response(user)

    async def replace(self, request: Request) -> Response:
        """``PUT /users/{id}``."""
        target = user_id(request.path_params["id"])
        sent = user_draft(await read_body(request, JSON_MEDIA_TYPES), target)
        expected = await self._expected_version(request, target, sent.version)
        return _user_response(await self._service.replace(target, sent.value, expected))

    async def patch(self, request: Request) -> Response:
        """``PATCH /users/{id}`` with a JSON merge patch."""
        target = user_id(request.path_params["id"])
        sent = user_changes(await read_body(request, MERGE_PATCH_MEDIA_TYPES), target)
        expected = await self._expected_version(request, target, sent.version)
        return _user_response(await self._service.patch(target, sent.value, expected))

    async def delete(self, request: Request) -> Response:
        """``DELETE /users/{id}``."""
        target = user_id(request.path_params["id"])
        await self._service.delete(target, await self._expected_version(request, target))
        return Response(status_code=204)

    async def list(self, request: Request) -> Response:
        """``GET /users``: one page, with a ``Link`` to the next one."""
        page_query = page_request(query_items(request.scope["query_string"]))
        page = await self._service.list(page_query)
        return json_response(user_page(page), headers=_next_link(request, page_query, page))

    async def _expected_version(
        self, request: Request, target: int, sent_version: int | None = None
    ) -> int | None:
        """The version that ``If-Match`` and the body make the write conditional on (``None``: any).

        The body's ``version`` (of a user read earlier and sent back) is one more precondition,
        as if ``If-Match`` held its tag too. A single version is checked by the write itself,
        atomically. Several tags need the current version first; the write is then made
        conditional on it, so a change in between is still caught.
        """
        versions = if_match_versions(request.headers.get("if-match"))
        if sent_version is not None:
            if versions is None or versions == ANY:
                return sent_version
            versions &= {sent_version}
        if versions is None or versions == ANY:
            return None
        if len(versions) == 1:
            return next(iter(versions))
        current = await self._service.get(target)
        if current.version not in versions:
            raise PreconditionFailed(
                f"user {target} is at version {current.version}, which If-Match "
                f"{'and the body do' if sent_version is not None else 'does'} not list"
            )
        return current.version


def _created(user: User, root_path: str) -> Response:
    return _user_response(user, 201, f"{root_path}/users/{user.id}")


def _user_response(user: User, status_code: int = 200, location: str | None = None) -> Response:
    headers = [(b"etag", etag(user.version).encode("ascii"))]
    if location is not None:
        headers.append((b"location", location.encode("latin-1")))
    return EncodedResponse(encode(user_resource(user)), status_code, JSON, headers)


def _next_link(request: Request, page_query: PageRequest, page: Page) -> dict[str, str] | None:
    if page.next_cursor is None:
        return None
    query = next_page_query(page_query, page.next_cursor)
    return {"Link": f'<{request.scope.get("root_path", "")}/users?{query}>; rel="next"'}
