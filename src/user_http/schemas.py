"""The JSON bodies of the API as msgspec Structs: what is decoded, encoded and documented.

The same Structs feed the decoders, the encoders and the OpenAPI document, and their limits are
read from the core's value objects, so a rule is never written twice.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Final, Literal

from msgspec import UNSET, Meta, Struct, UnsetType
from msgspec.json import encode as _encode_json

from user_core import (
    MAX_USER_ID,
    MIN_USER_ID,
    USER_FIELDS,
    Cursor,
    EmailAddress,
    OtherInfo,
    Page,
    PageRequest,
    TextValue,
    User,
    UserName,
)

MAX_BODY_BYTES: Final = 64 * 1024
"""The largest request body accepted; one byte more is ``413``. No string sent is longer."""
MAX_HEAD_BYTES: Final = 64 * 1024
"""The longest request line and header fields that a server of this API may accept (the
service's own caps its setting at this), so no header or query value is longer."""
MAX_PROBLEM_TEXT: Final = 4096
"""A problem's ``detail`` and each error's ``field`` and ``message`` are cut to this many
characters: they may quote the request, whose head alone may hold 64 KiB (``instance``, the
request's path, is cut at :data:`MAX_HEAD_BYTES`)."""
MAX_PROBLEM_ERRORS: Final = 100
"""A problem lists at most this many bad fields (the first ones)."""
MAX_REQUEST_ID_LENGTH: Final = 128
"""The longest ``X-Request-ID`` echoed; a longer one is replaced by a generated one."""
_INT64: Final = {"format": "int64"}
_INT32: Final = {"format": "int32"}

_NAME_RULES = (
    f"Unique, compared as a person reads it: ignoring case, width and spacing. Surrounding "
    f"whitespace is stripped and the text enforced by the PRECIS Nickname profile (RFC 8266: "
    f"spaces collapsed, Unicode NFKC) before the {UserName.MIN_LENGTH}–{UserName.MAX_LENGTH} "
    f"character limit is checked; control, invisible and unassigned characters, and names mixing "
    f"scripts (UTS #39), are refused."
)
_EMAIL_RULES = (
    f"A `local@domain` address of at most {EmailAddress.MAX_LENGTH} characters once surrounding "
    f"whitespace is stripped (syntax only, no DNS look-up), stored with its domain mapped by "
    f"IDNA UTS #46 (lower-cased, full-width dots as dots). Unique, compared ignoring case and "
    f"width, a domain's U-labels and A-labels being one domain."
)
_OTHER_RULES = f"Free text of at most {OtherInfo.MAX_LENGTH} characters, without NUL."
# NUL is the one character that no PostgreSQL text column holds (see OtherInfo).
_NO_NUL = "^[^\\x00]*$"


def text_schema(kind: type[TextValue], rules: str, *, sent: bool = False, **schema: str) -> Meta:
    """The JSON schema of a text field: its rules, and the limits read from its value object.

    What a client sends (``sent``) is bounded by the body only: the value object's maximum applies
    once it has stripped (and maybe normalised) the text, so a longer string can be valid.
    """
    limits: dict[str, int | str] = {"minLength": kind.MIN_LENGTH} if kind.MIN_LENGTH else {}
    limits["maxLength"] = MAX_BODY_BYTES if sent else kind.MAX_LENGTH
    return Meta(description=rules, extra_json_schema={**limits, **schema})


Name = Annotated[str, text_schema(UserName, _NAME_RULES)]
NameInput = Annotated[str, text_schema(UserName, _NAME_RULES, sent=True)]
Email = Annotated[str, text_schema(EmailAddress, _EMAIL_RULES)]
EmailInput = Annotated[str, text_schema(EmailAddress, _EMAIL_RULES, sent=True)]
Other = Annotated[str, text_schema(OtherInfo, _OTHER_RULES, pattern=_NO_NUL)]
UserId = Annotated[
    int,
    Meta(
        ge=MIN_USER_ID,
        le=MAX_USER_ID,
        description="Assigned by the server.",
        extra_json_schema=_INT64,
    ),
]
_TIMESTAMP_EXAMPLE = "2026-11-25T09:00:00.123456Z"
Timestamp = Annotated[
    str,
    Meta(
        description="RFC 3339, UTC, with a `Z` suffix and six fraction digits.",
        examples=[_TIMESTAMP_EXAMPLE],
        extra_json_schema={"format": "date-time", "maxLength": len(_TIMESTAMP_EXAMPLE)},
    ),
]


MAX_VERSION = MAX_USER_ID
"""The largest version the storage holds (a ``bigint``, like the id)."""
_READ_ONLY = "Output-only: accepted and ignored, so a user read earlier can be sent back."
_SENT_BACK_ID = f"{_READ_ONLY} On `PUT` and `PATCH`, an id other than the path's is `400`."
_SENT_BACK_VERSION = (
    f"{_READ_ONLY} On `PUT` and `PATCH`, a version other than the stored one is `412`, "
    f"as a stale `If-Match` is."
)
_SENT_BACK_TIME = Meta(
    description=f"{_READ_ONLY} RFC 3339 with an offset.", extra_json_schema={"readOnly": True}
)
_AwareTime = Annotated[datetime, Meta(tz=True, extra_json_schema={"maxLength": 64})]


class OutputOnly(Struct, kw_only=True, forbid_unknown_fields=True):
    """The resource's output-only fields, which an input body may carry back (AIP-203).

    They change nothing; two of them make a read-modify-write safe: on `PUT` and `PATCH` an `id`
    other than the path's is `400`, and a `version` other than the stored one is `412`. Their
    names are :class:`UserResource`'s fields that are not the user's own (a unit test checks it).
    """

    id: (
        Annotated[
            int,
            Meta(
                ge=0,  # the Go service's clients send 0, their zero value, when creating
                le=MAX_USER_ID,
                description=_SENT_BACK_ID,
                extra_json_schema={"readOnly": True, **_INT64},
            ),
        ]
        | UnsetType
    ) = UNSET
    created_at: Annotated[_AwareTime, _SENT_BACK_TIME] | UnsetType = UNSET
    updated_at: Annotated[_AwareTime | None, _SENT_BACK_TIME] | UnsetType = UNSET
    version: (
        Annotated[
            int,
            Meta(
                ge=1,
                le=MAX_VERSION,
                description=_SENT_BACK_VERSION,
                extra_json_schema={"readOnly": True, **_INT64},
            ),
        ]
        | UnsetType
    ) = UNSET


class UserInput(OutputOnly, forbid_unknown_fields=True):
    """The body of `POST /users` and `PUT /users/{id}`: every field a client chooses.

    On `PUT`, an absent optional field becomes `null`. The resource's output-only fields may be
    sent too (see `OutputOnly`).
    """

    name: NameInput
    email: EmailInput | None = None
    other: Other | None = None


class UserMergePatch(OutputOnly, forbid_unknown_fields=True):
    """The body of `PATCH /users/{id}`, a JSON merge patch (RFC 7396) of the top-level fields.

    An absent field stays as it is; `null` clears `email` or `other` (`name` cannot be cleared).
    An empty patch `{}` is valid and still counts as a change. The resource's output-only fields
    may be sent too (see `OutputOnly`).
    """

    name: NameInput | UnsetType = UNSET
    email: EmailInput | UnsetType | None = UNSET
    other: Other | UnsetType | None = UNSET


class UserResource(Struct, gc=False):
    """A stored user."""

    id: UserId
    name: Name
    email: Email | None
    other: Other | None
    created_at: Timestamp
    updated_at: Annotated[Timestamp | None, Meta(description="`null` before the first change.")]
    version: Annotated[
        int,
        Meta(
            ge=1,
            le=MAX_VERSION,
            description="Starts at 1, +1 on every change; the `ETag` is built from it.",
            extra_json_schema=_INT64,
        ),
    ]


class UserPage(Struct, gc=False):
    """One page of users in ascending id order."""

    users: Annotated[list[UserResource], Meta(max_length=PageRequest.MAX_LIMIT)]
    count: Annotated[
        int,
        Meta(
            ge=0,
            le=PageRequest.MAX_LIMIT,
            description="The number of users in this page.",
            extra_json_schema=_INT32,
        ),
    ]
    next_cursor: Annotated[
        Annotated[
            str,
            Meta(
                min_length=Cursor.ISSUED_LENGTH,
                max_length=Cursor.ISSUED_LENGTH,
                pattern=Cursor.PATTERN,
            ),
        ]
        | None,
        Meta(description="Pass as `cursor` to get the next page; `null` on the last page."),
    ]
    total: (
        Annotated[
            int,
            Meta(
                ge=0,
                le=MAX_USER_ID,
                description="Users matching the filters; only with `total=true`.",
                extra_json_schema=_INT64,
            ),
        ]
        | UnsetType
    ) = UNSET


_ProblemText = Meta(max_length=MAX_PROBLEM_TEXT)


class FieldProblem(Struct, gc=False):
    """What is wrong with one field, query parameter or header of the request."""

    field: Annotated[str, _ProblemText]
    message: Annotated[str, _ProblemText]


class Problem(Struct, gc=False):
    """An error, as RFC 9457 problem details (`application/problem+json`)."""

    type: Annotated[
        str,
        Meta(
            max_length=100,
            description="`/problems/<slug>`, one per kind of error.",
            extra_json_schema={"format": "uri-reference"},
        ),
    ]
    title: Annotated[
        str, Meta(max_length=100, description="The same for every problem of this type.")
    ]
    status: Annotated[int, Meta(ge=400, le=599, extra_json_schema=_INT32)]
    detail: Annotated[
        str, Meta(max_length=MAX_PROBLEM_TEXT, description="What went wrong with this request.")
    ]
    instance: Annotated[
        str,
        Meta(
            max_length=MAX_HEAD_BYTES,
            description="The path of the request.",
            extra_json_schema={"format": "uri-reference"},
        ),
    ]
    request_id: Annotated[
        str,
        Meta(
            max_length=MAX_REQUEST_ID_LENGTH,
            description="The request's `X-Request-ID`, for the logs.",
        ),
    ]
    errors: (
        Annotated[
            list[FieldProblem],
            Meta(
                max_length=MAX_PROBLEM_ERRORS,
                description=f"Every bad field, not only the first (at most {MAX_PROBLEM_ERRORS}).",
            ),
        ]
        | UnsetType
    ) = UNSET


class HeadProblem(Struct, gc=False):
    """A request refused by the HTTP server before the API sees it (RFC 9457, ``about:blank``):
    its target (``414``) or its head (``431``) over the server's limit, or a head that never
    arrived in time (``408``). The connection is closed after it."""

    type: Literal["about:blank"]
    title: Annotated[str, Meta(max_length=100, description="The status's reason phrase.")]
    status: Annotated[int, Meta(ge=400, le=499, extra_json_schema=_INT32)]
    detail: Annotated[str, Meta(max_length=MAX_PROBLEM_TEXT, description="The limit passed.")]


class HealthStatus(Struct, gc=False):
    """The answer of a health probe."""

    status: Literal["live", "ready"]


def rfc3339(moment: datetime) -> str:
    """``moment`` in UTC as RFC 3339 with a ``Z`` suffix and always six fraction digits.

    msgspec writes a UTC moment so, about ten times faster than ``datetime.isoformat`` (a
    tenth of a user's encoding), except that it leaves a zero fraction out.
    """
    if moment.tzinfo is not UTC:  # the storage's own timestamps skip the conversion
        moment = moment.astimezone(UTC)
    text = _encode_json(moment)[1:-1].decode("ascii")
    return text if moment.microsecond else f"{text[:-1]}.000000Z"


def user_resource(user: User) -> UserResource:
    """The wire form of a domain user."""
    # By position (a unit test holds UserResource's field order to this): a third cheaper.
    values: list[Any] = [
        user.id,
        *[None if (value := getattr(user, name)) is None else value.value for name in _FIELDS],
        rfc3339(user.created_at),
        None if user.updated_at is None else rfc3339(user.updated_at),
        user.version,
    ]
    return UserResource(*values)


_FIELDS = tuple(field.name for field in USER_FIELDS)


def user_page(page: Page) -> UserPage:
    """The wire form of a page of domain users."""
    return UserPage(
        users=[user_resource(user) for user in page.users],
        count=len(page.users),
        next_cursor=None if page.next_cursor is None else page.next_cursor.encode(),
        total=UNSET if page.total is None else page.total,
    )
