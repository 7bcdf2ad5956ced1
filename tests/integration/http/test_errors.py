"""``tests/unit/http/test_errors.py`` on PostgreSQL, through the service's own application."""

from tests.unit.http.test_errors import *  # noqa: F403
