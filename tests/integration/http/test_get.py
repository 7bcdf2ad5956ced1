"""``tests/unit/http/test_get.py`` on PostgreSQL, through the service's own application."""

from tests.unit.http.test_get import *  # noqa: F403
