"""The original service's functional scenarios (e2e/test_original_scenarios.py), through the
release's Service: the `api` fixture of e2e/cluster/conftest.py replaces the local server."""

from __future__ import annotations

from e2e.test_original_scenarios import (
    test_create_then_get_returns_the_same_user,
    test_creating_a_duplicate_name_is_a_conflict,
    test_creating_with_an_empty_name_is_a_bad_request,
    test_delete_removes_the_user,
    test_getting_a_missing_user_is_not_found,
    test_listing_pages_through_every_user_by_offset_and_by_cursor,
    test_replace_changes_the_user_and_its_version,
)

__all__ = [
    "test_create_then_get_returns_the_same_user",
    "test_creating_a_duplicate_name_is_a_conflict",
    "test_creating_with_an_empty_name_is_a_bad_request",
    "test_delete_removes_the_user",
    "test_getting_a_missing_user_is_not_found",
    "test_listing_pages_through_every_user_by_offset_and_by_cursor",
    "test_replace_changes_the_user_and_its_version",
]
