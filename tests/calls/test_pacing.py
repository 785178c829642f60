"""Pacing: each execution environment sends Cognito writes at most at its rate (a token
bucket), so reserved concurrency x rate bounds the provider's share of the UserUpdate quota."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from user_attributes.pacing import RATE_VARIABLE, TokenBucket, bucket_from_environment

from cfnlocal.driver import CustomResourceDriver
from cfnlocal.events import stack_id
from cfnlocal.https_sink import ResponseSink
from cfnlocal.lambda_runtime import LambdaContainer

from .conftest import LAMBDA_DIR, LEDGER, CallCounter
from .test_calls_per_event import declare, succeeded


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_bucket_starts_full_then_spaces_writes_at_its_rate() -> None:
    fake = FakeTime()
    bucket = TokenBucket(4.0, clock=fake.clock, sleep=fake.sleep)
    waits = [bucket.acquire() for _ in range(5)]
    assert waits == [0.0, 0.25, 0.25, 0.25, 0.25]
    assert fake.now == pytest.approx(1.0)


def test_idle_time_refills_at_most_the_capacity() -> None:
    fake = FakeTime()
    bucket = TokenBucket(2.0, clock=fake.clock, sleep=fake.sleep)
    bucket.acquire()
    fake.now += 60  # a long idle period earns one token, not 120
    assert bucket.acquire() == 0.0
    assert bucket.acquire() == pytest.approx(0.5)


def test_threads_share_the_rate() -> None:
    bucket = TokenBucket(50.0)
    started = time.monotonic()
    threads = [threading.Thread(target=bucket.acquire) for _ in range(11)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # One token at start, then 10 more at 50/s: at least 0.2 s.
    assert time.monotonic() - started >= 0.19


@pytest.mark.parametrize("value", ["0", "-1", "fast", "nan", "inf"])
def test_a_bad_rate_is_ignored_not_fatal(value: str) -> None:
    assert bucket_from_environment({RATE_VARIABLE: value}) is None


def test_no_rate_means_no_pacing() -> None:
    assert bucket_from_environment({}) is None
    bucket = bucket_from_environment({RATE_VARIABLE: "1.923"})
    assert bucket is not None
    assert bucket.rate == 1.923


def test_an_environment_paces_its_cognito_writes(
    counter: CallCounter,
    pool_id: str,
    response_sink: ResponseSink,
    cognito: Any,
) -> None:
    from cfnlocal.seed_pool import create_user

    for index in range(3):
        create_user(cognito, pool_id, f"paced-{index}", {"custom:plan": "ORIG-plan-5e5e"})
    writes: list[float] = []

    def on_write(**_: Any) -> None:
        writes.append(time.monotonic())

    assert counter  # the counted default session is the one the container uses
    import boto3

    assert boto3.DEFAULT_SESSION is not None
    boto3.DEFAULT_SESSION.events.register(
        "before-call.cognito-identity-provider.AdminUpdateUserAttributes", on_write
    )
    new_container: Callable[[], LambdaContainer] = lambda: LambdaContainer(  # noqa: E731
        LAMBDA_DIR, environment={"LEDGER_TABLE_NAME": LEDGER, RATE_VARIABLE: "4"}, timeout_s=60
    )
    driver = CustomResourceDriver(new_container(), response_sink, stack_id=stack_id("Paced"))
    for index in range(3):
        succeeded(
            driver.create(
                f"Paced{index}", declare(pool_id, f"paced-{index}", custom__plan="VAL-p-6f6f")
            )
        )
    assert len(writes) == 3
    gaps = [later - earlier for earlier, later in itertools.pairwise(writes)]
    assert min(gaps) >= 0.24, gaps
