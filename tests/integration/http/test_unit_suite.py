"""The HTTP suite of ``tests/unit/http`` run again, on PostgreSQL through the service's own app.

Each module named below is imported whole, so pytest collects its tests (and its fixtures) here
as well, where this folder's ``conftest.py`` gives them the application the service really runs
instead of the in-memory one. A module of the unit suite that should run on PostgreSQL too is
added to this list; the ones left out test what no database changes (entity tags, probes).
"""

from tests.unit.http.test_create import *  # noqa: F403
from tests.unit.http.test_delete import *  # noqa: F403
from tests.unit.http.test_errors import *  # noqa: F403
from tests.unit.http.test_get import *  # noqa: F403
from tests.unit.http.test_idempotency import *  # noqa: F403
from tests.unit.http.test_if_match import *  # noqa: F403
from tests.unit.http.test_list import *  # noqa: F403
from tests.unit.http.test_openapi import *  # noqa: F403
from tests.unit.http.test_output_only_fields import *  # noqa: F403
from tests.unit.http.test_patch import *  # noqa: F403
from tests.unit.http.test_replace import *  # noqa: F403
from tests.unit.http.test_request_id import *  # noqa: F403
from tests.unit.http.test_schemas import *  # noqa: F403
