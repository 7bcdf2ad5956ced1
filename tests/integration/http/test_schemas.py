"""``tests/unit/http/test_schemas.py`` on PostgreSQL, through the service's own application."""

from tests.unit.http.test_schemas import *  # noqa: F403
