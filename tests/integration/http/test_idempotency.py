"""``tests/unit/http/test_idempotency.py`` on PostgreSQL, through the service's own application."""

from tests.unit.http.test_idempotency import *  # noqa: F403
