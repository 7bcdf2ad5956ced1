"""``tests/unit/http/test_delete.py`` on PostgreSQL, through the service's own application."""

from tests.unit.http.test_delete import *  # noqa: F403
