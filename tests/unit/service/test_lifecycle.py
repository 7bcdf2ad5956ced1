"""Readiness fails from the moment a stop signal arrives, and the server still hears it."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from types import FrameType

import pytest
from starlette.testclient import TestClient

from user_core import UserService
from user_http import ShutdownSignal, create_app
from user_service.lifecycle import shutdown_on_signals


@pytest.fixture
def server_heard() -> Iterator[list[int]]:
    """Installs a stand-in for the server's SIGTERM handler; lists the signals it got."""
    heard: list[int] = []

    def server_handler(signum: int, _frame: FrameType | None) -> None:
        heard.append(signum)

    original = signal.signal(signal.SIGTERM, server_handler)
    try:
        yield heard
    finally:
        signal.signal(signal.SIGTERM, original)


def test_sigterm_fails_readiness_at_once_and_reaches_the_server(
    service: UserService, server_heard: list[int]
) -> None:
    shutdown = ShutdownSignal()
    with (
        TestClient(create_app(service, shutdown=shutdown)) as client,
        shutdown_on_signals(shutdown),
    ):
        assert client.get("/readyz").status_code == 200

        signal.raise_signal(signal.SIGTERM)

        assert client.get("/readyz").status_code == 503
        assert server_heard == [signal.SIGTERM]


@pytest.mark.usefixtures("server_heard")
def test_the_server_handler_is_back_afterwards() -> None:
    server_handler = signal.getsignal(signal.SIGTERM)
    with shutdown_on_signals(ShutdownSignal()):
        assert signal.getsignal(signal.SIGTERM) is not server_handler

    assert signal.getsignal(signal.SIGTERM) is server_handler


def test_a_signal_no_server_handles_is_left_alone() -> None:
    original = signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        with shutdown_on_signals(ShutdownSignal()):
            assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    finally:
        signal.signal(signal.SIGTERM, original)
