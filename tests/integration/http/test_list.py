"""``tests/unit/http/test_list.py`` on PostgreSQL, through the service's own application."""

from tests.unit.http.test_list import *  # noqa: F403
