"""``tests/unit/http/test_request_id.py`` on PostgreSQL, through the service's own application."""

from tests.unit.http.test_request_id import *  # noqa: F403
