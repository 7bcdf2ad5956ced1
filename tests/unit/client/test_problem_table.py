"""The client reads back exactly the problems the server's table writes.

``user_http.errors.PROBLEMS`` maps each core error to a problem type; the client's
``PROBLEM_ERRORS`` maps the slugs back. Both are declared once each; this checks they agree.
"""

from __future__ import annotations

from user_client import PROBLEM_ERRORS
from user_core import UserServiceError
from user_http.errors import PROBLEM_TYPES, PROBLEMS


def test_every_core_error_the_server_answers_is_read_back_as_itself() -> None:
    core_errors = {
        error: kind.slug for error, kind in PROBLEMS.items() if issubclass(error, UserServiceError)
    }
    read_back = {PROBLEM_ERRORS.get(slug): slug for slug in core_errors.values()}
    assert read_back == core_errors


def test_the_client_reads_only_slugs_the_server_sends() -> None:
    assert set(PROBLEM_ERRORS) <= {kind.slug for kind in PROBLEM_TYPES}


def test_every_core_error_class_is_mapped_both_ways() -> None:
    mapped_by_server = {error for error in PROBLEMS if issubclass(error, UserServiceError)}
    assert set(PROBLEM_ERRORS.values()) == mapped_by_server
