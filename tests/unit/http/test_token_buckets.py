"""The token buckets behind rate limiting, on a clock the tests move."""

from __future__ import annotations

import pytest

from user_http.rate_limit import MAX_CLIENTS, TokenBuckets


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def test_a_full_bucket_gives_its_whole_budget_at_once_then_nothing(clock: Clock) -> None:
    buckets = TokenBuckets(budget=4, window_seconds=60, clock=clock)
    taken = [buckets.take("a") for _ in range(5)]
    assert [admission.allowed for admission in taken] == [True] * 4 + [False]
    assert [admission.remaining for admission in taken] == [3, 2, 1, 0, 0]
    assert [admission.full_in for admission in taken[:4]] == [15.0, 30.0, 45.0, 60.0]
    assert taken[4].retry_in == pytest.approx(15.0)  # one token comes back every 15 s


def test_tokens_come_back_at_the_budgets_rate(clock: Clock) -> None:
    buckets = TokenBuckets(budget=4, window_seconds=60, clock=clock)
    for _ in range(4):
        buckets.take("a")
    clock.now += 14.9
    assert not buckets.take("a").allowed
    clock.now += 0.1
    assert buckets.take("a").allowed
    assert not buckets.take("a").allowed
    clock.now += 60
    assert buckets.take("a").remaining == 3  # full again, never more than the budget


def test_a_refused_request_takes_nothing(clock: Clock) -> None:
    buckets = TokenBuckets(budget=1, window_seconds=10, clock=clock)
    buckets.take("a")
    for _ in range(100):
        assert not buckets.take("a").allowed
    clock.now += 10
    assert buckets.take("a").allowed


def test_clients_have_buckets_of_their_own(clock: Clock) -> None:
    buckets = TokenBuckets(budget=1, window_seconds=10, clock=clock)
    assert buckets.take("a").allowed
    assert not buckets.take("a").allowed
    assert buckets.take("b").allowed


def test_memory_is_bounded_and_full_buckets_are_forgotten_first(clock: Clock) -> None:
    buckets = TokenBuckets(budget=10, window_seconds=10, clock=clock)
    for index in range(MAX_CLIENTS):
        buckets.take(f"idle-{index}")
    clock.now += 0.5  # none is full again yet: the oldest half is forgotten
    buckets.take("busy")
    assert len(buckets) == MAX_CLIENTS // 2
    assert buckets.take("busy").remaining == 8  # the newest kept its count
    clock.now += 10  # every bucket is full again: all forgotten at the next overflow
    for index in range(MAX_CLIENTS // 2 + 1):
        buckets.take(f"new-{index}")
    assert len(buckets) <= MAX_CLIENTS // 2 + 1
