"""``tests/unit/http/test_create.py`` on PostgreSQL, through the service's own application."""

from tests.unit.http.test_create import *  # noqa: F403
