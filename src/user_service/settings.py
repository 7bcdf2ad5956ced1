"""Configuration, read from the environment (prefix ``USER_SERVICE_``) and an optional ``.env``."""

from __future__ import annotations

import urllib.parse
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from user_http.rate_limit import MAX_WINDOW_SECONDS
from user_http.schemas import MAX_HEAD_BYTES


def _default_data_dir() -> Path:
    return Path.home() / ".local" / "share" / "user-service"


def jwks_source(source: str) -> str:
    """``source`` if it may name a JWKS: a file path or an ``https://`` URL; else ``ValueError``.

    Keys fetched over plain ``http://`` (or any other scheme) could be swapped on the way, and
    whoever swaps them signs tokens that the service accepts.
    """
    scheme = urllib.parse.urlsplit(source).scheme
    if "://" in source and scheme.lower() != "https":
        raise ValueError(
            f"must be an https:// URL or a file path, not a {scheme or 'schemeless'}:// URL "
            "(keys fetched without TLS could be replaced on the way)"
        )
    return source


class Settings(BaseSettings):
    """Every setting of the service, with production defaults.

    With no ``database_url`` the service starts an embedded PostgreSQL in ``data_dir``.
    """

    model_config = SettingsConfigDict(
        env_prefix="USER_SERVICE_",
        env_file=".env",
        extra="ignore",
        frozen=True,
        validate_by_name=True,
    )

    database_url: SecretStr | None = Field(
        default=None,
        # POSTGRES_URL is what the original Go service read; both spellings work.
        validation_alias=AliasChoices("USER_SERVICE_DATABASE_URL", "POSTGRES_URL"),
        description="PostgreSQL URL (postgresql://user:password@host:5432/db, ?host=/socket/dir).",
    )
    data_dir: Path = Field(
        default_factory=_default_data_dir,
        description="Where the embedded PostgreSQL keeps its data when no database_url is set.",
    )

    host: str = Field(default="127.0.0.1", description="Address to listen on.")
    port: int = Field(default=8080, ge=0, le=65535, description="Port to listen on.")
    workers: int = Field(default=1, ge=1, le=64, description="Server worker processes.")
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        default="info", description="Least severe log lines written (access lines are info)."
    )
    log_format: Literal["auto", "json", "console"] = Field(
        default="auto",
        description="Log lines as JSON, or coloured for people; auto: console on a terminal, "
        "else JSON.",
    )
    access_log: bool = Field(
        default=True, description="One log line per request (method, route, status, duration)."
    )
    metrics_enabled: bool = Field(
        default=True,
        description="Serve Prometheus metrics at /metrics and measure requests, statements and "
        "the pool for them.",
    )

    http_max_head_bytes: int = Field(
        default=MAX_HEAD_BYTES,
        ge=1024,
        # At most what the API's document promises of any header or query value.
        le=MAX_HEAD_BYTES,
        description="Request line and header fields of one request, in bytes; more is 431.",
    )
    http_max_headers: int = Field(
        default=100, ge=10, description="Header fields of one request; more is 431."
    )
    http_head_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        description="A connection must send a whole request head this long after it opens (or "
        "after the first byte of its next request), else 408 and closed.",
    )
    http_keep_alive_seconds: float = Field(
        default=5.0, gt=0, description="An idle keep-alive connection is closed after this long."
    )

    pool_size: int = Field(
        default=20,
        ge=1,
        description="Most database connections per worker: each opens when a request needs it "
        "and closes after 5 minutes unused.",
    )
    pool_max_overflow: int = Field(
        default=0,
        ge=0,
        description="Connections on top of pool_size, treated alike (kept for compatibility: "
        "raise pool_size instead).",
    )
    pool_timeout_seconds: float = Field(
        default=2.0, gt=0, description="Wait for a free connection before answering 503."
    )
    connect_timeout_seconds: float = Field(default=5.0, gt=0)
    statement_timeout_ms: int = Field(
        default=5000, ge=0, description="Server-side limit per statement; 0 turns it off."
    )
    command_timeout_seconds: float | None = Field(
        default=None,
        gt=0,
        description="The service's own limit on waiting for one statement's answer, for what "
        "the server cannot bound (frozen, unreachable, queued by a pooler); then 503. Longer "
        "than statement_timeout_ms; unset: 1 s longer than it, or 6 s when it is off.",
    )
    application_name: str = Field(default="user-service", max_length=63)
    pgbouncer_transaction_mode: bool = Field(
        default=False,
        description="Set when connecting through PgBouncer in transaction mode: no prepared "
        "statement cache.",
    )
    migrate_on_start: bool = Field(
        default=True, description="Apply pending migrations at start-up (under an advisory lock)."
    )
    legacy_time_zone: str = Field(
        default="UTC",
        description="The IANA time zone the original Go service's timestamps (without time "
        "zone) were written in: read in it when its database is adopted, written in it when "
        "the database is given back.",
    )
    idempotency_purge_interval_seconds: float = Field(
        default=300.0,
        gt=0,
        description="How often each process deletes idempotency keys past their 24 hours, in "
        "batches that never block requests.",
    )
    shutdown_grace_seconds: float = Field(
        default=20.0, ge=0, description="How long in-flight requests may finish after SIGTERM."
    )

    rate_limit_enabled: bool = Field(
        default=False,
        description="Give each client (the token's subject, else its address) a budget of "
        "/users requests per window, per process: over it, 429 with Retry-After.",
    )
    rate_limit_reads: int = Field(
        default=600, ge=1, description="GET requests per client and window."
    )
    rate_limit_writes: int = Field(
        default=60, ge=1, description="POST, PUT, PATCH and DELETE requests per client and window."
    )
    rate_limit_window_seconds: int = Field(
        default=60,
        ge=1,
        le=MAX_WINDOW_SECONDS,
        description="Seconds over which a client's bucket refills its whole budget.",
    )
    forwarded_allow_ips: str = Field(
        default="127.0.0.1",
        description="Proxies whose X-Forwarded-For and X-Forwarded-Proto are believed "
        "(comma-separated addresses or networks, * for any): the client's address, which rate "
        "limiting and the access log use, is then the one they forwarded.",
    )
    cors_allow_origins: Annotated[list[str], NoDecode] = Field(
        default=[],
        description="Origins whose browser pages may call the API, comma-separated "
        "(https://app.example,https://admin.example); empty: CORS off, browsers refuse "
        "cross-origin reads.",
    )
    cors_allow_headers: Annotated[list[str], NoDecode] = Field(
        default=["Authorization", "Content-Type", "If-Match", "If-None-Match", "Idempotency-Key"],
        description="Request headers those pages may send, comma-separated (X-Request-ID is "
        "always allowed).",
    )
    cors_max_age_seconds: int = Field(
        default=600, ge=0, description="How long browsers may keep a preflight's answer."
    )

    auth_jwks: str | None = Field(
        default=None,
        description="Turns bearer-token authentication on: a JWKS file path or https:// URL "
        "(read at start-up) whose keys sign the accepted JWTs. Off when unset: then only the "
        "cluster's network policy protects the API.",
    )
    auth_audience: str = Field(
        default="user-service", description="The `aud` that accepted tokens must carry."
    )
    auth_issuer: str | None = Field(
        default=None, description="The `iss` that accepted tokens must carry; unset: any."
    )

    @field_validator("cors_allow_origins", "cors_allow_headers", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("auth_jwks")
    @classmethod
    def _jwks_over_tls_or_from_a_file(cls, source: str | None) -> str | None:
        return None if source is None else jwks_source(source)

    @field_validator("legacy_time_zone")
    @classmethod
    def _known_time_zone(cls, zone: str) -> str:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"{zone!r} is not an IANA time zone name such as Europe/Warsaw"
            ) from None
        return zone

    @property
    def command_timeout(self) -> float:
        """:attr:`command_timeout_seconds`, or what it is when unset."""
        if self.command_timeout_seconds is not None:
            return self.command_timeout_seconds
        if self.statement_timeout_ms:
            return self.statement_timeout_ms / 1000 + 1.0
        return 6.0

    @model_validator(mode="after")
    def _command_timeout_outlasts_the_statement_timeout(self) -> Settings:
        if self.statement_timeout_ms and self.command_timeout * 1000 <= self.statement_timeout_ms:
            raise ValueError(
                "command_timeout_seconds must be longer than statement_timeout_ms, so that the "
                "server cancels a slow statement before the service gives its connection up"
            )
        return self

    @property
    def uses_embedded_database(self) -> bool:
        """No database URL was configured."""
        return self.database_url is None
