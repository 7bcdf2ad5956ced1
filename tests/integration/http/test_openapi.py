"""``tests/unit/http/test_openapi.py`` on PostgreSQL, through the service's own application."""

from tests.unit.http.test_openapi import *  # noqa: F403
