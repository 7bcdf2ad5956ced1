"""A client that hangs up in the middle of its body: no 500, no traceback, no error metric."""

from __future__ import annotations

import logging

import pytest
from starlette.testclient import TestClient
from starlette.types import ASGIApp, Message

from tests.unit.asgi import post_users
from tests.unit.service.conftest import labels, scrape
from user_core import UserService
from user_http import create_app
from user_service.telemetry import Telemetry

REQUESTS = "user_service_http_requests_total"


def _post_then_hang_up(app: ASGIApp) -> list[Message]:
    """``POST /users`` whose client sends half a body, then disconnects; what the app sent."""
    incoming: list[Message] = [
        {"type": "http.request", "body": b'{"name": "ha', "more_body": True},
        {"type": "http.disconnect"},
    ]

    async def receive() -> Message:
        return incoming.pop(0) if incoming else {"type": "http.disconnect"}

    headers = [(b"content-type", b"application/json"), (b"content-length", b"40")]
    return post_users(app, receive, headers)


def test_a_client_gone_mid_body_is_recorded_as_499_without_an_error(
    service: UserService, telemetry: Telemetry, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(service, observer=telemetry.request_observer(), metrics=telemetry.metrics)
    with caplog.at_level(logging.DEBUG):
        sent = _post_then_hang_up(app)
    assert sent[0]["status"] == 499
    assert not [record for record in caplog.records if record.levelno >= logging.WARNING]
    left = [record for record in caplog.records if "client left" in record.getMessage()]
    assert len(left) == 1
    assert left[0].exc_info is None
    with TestClient(app) as client:
        samples = scrape(client)
        assert client.get("/users").json()["count"] == 0
    assert samples[REQUESTS, labels(method="POST", route="/users", status="499")] == 1
    assert not [key for key in samples if key[0] == REQUESTS and ("status", "500") in key[1]]
