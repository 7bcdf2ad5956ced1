"""``tests/unit/http/test_patch.py`` on PostgreSQL, through the service's own application."""

from tests.unit.http.test_patch import *  # noqa: F403
