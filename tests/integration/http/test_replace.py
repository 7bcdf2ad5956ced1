"""``tests/unit/http/test_replace.py`` on PostgreSQL, through the service's own application."""

from tests.unit.http.test_replace import *  # noqa: F403
