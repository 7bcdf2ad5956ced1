"""``tests/unit/http/test_if_match.py`` on PostgreSQL, through the service's own application."""

from tests.unit.http.test_if_match import *  # noqa: F403
