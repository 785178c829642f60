"""Benchmark: a deploy into an account whose Lambda concurrency limit is 10 (a new account).

CloudFormation invokes the ServiceToken (front) function asynchronously for every resource at
once. The front function and the worker share the account's 10 concurrent executions; nothing is
reserved. What this run shows: whether every event reaches the FIFO queue within the front
function's maximum event age (27 minutes), how many worker invocations were throttled, and the
end-to-end time from the first event to the last answer, as a ratio to the pacing bound
``writes / (share x 25)``.

The front function's duration is measured: the real ``front.handler`` (built from ``lambda/``)
runs ``--measure`` events against the local SQS model and the median is used. The rest is a
discrete-event model of the documented rules, one per line:

- an asynchronous invocation that finds no free concurrency is throttled and retried "with the
  interval increasing exponentially from 1 second after the first invocation to a maximum of 5
  minutes", and dropped once older than the maximum event age (Lambda Developer Guide, "How
  Lambda handles errors and retries with asynchronous invocation"). AWS does not document a
  jitter: ``--jitter`` spreads each interval over [0.5, 1] of itself (default), and the
  ``lockstep`` scenario retries every throttled event at exactly the same instants. The guide
  also says a long queue makes Lambda "increase the retry interval": the ``slowed`` scenario
  waits 5 minutes after every throttle;
- the worker's event source mapping runs at most ``MaximumConcurrency`` invocations (Lambda
  Developer Guide, "Configuring maximum concurrency for Amazon SQS event sources"); one that
  finds the account's concurrency used up is throttled, and its message comes back after the
  visibility timeout with one more receive, as after a failure (the guide's reason for a
  visibility timeout of six times the function timeout: "the extra time allows for Lambda to
  retry if your function is throttled"); after ``maxReceiveCount`` receives it is dead-lettered;
- each worker invocation takes ``1 / rate`` seconds (its token bucket's pace, one write per
  user; the rest of an event's work overlaps the wait).

Run: ``.venv/bin/python benchmarks/throttled_front.py [--users 1000] [--share 0.4]``
"""

from __future__ import annotations

import argparse
import heapq
import math
import random
import statistics
import sys
import time
from dataclasses import dataclass

import harness

ACCOUNT_LIMIT = 10
QUOTA = 25
MAX_EVENT_AGE_S = 27 * 60.0
VISIBILITY_TIMEOUT_S = 360.0
MAX_RECEIVES = 3
SERVICE_TIMEOUT_S = 1800.0
MAX_RETRY_INTERVAL_S = 300.0


def measure_front(count: int) -> float:
    """Median seconds of one real ``front.handler`` invocation (warm), SendMessage answered by
    the local queue model."""
    from moto import mock_aws

    from cfnlocal.events import make_event, stack_id
    from cfnlocal.lambda_runtime import LambdaContainer
    from cfnlocal.sqs_fifo import FifoQueue
    from cfnlocal.transport import queue_url, route_send_message

    harness.isolate_in_process_aws()
    url = queue_url("bench.fifo", "eu-west-1", "123456789012")
    queue = FifoQueue(url, visibility_timeout_s=VISIBILITY_TIMEOUT_S)
    with mock_aws():
        front = LambdaContainer(
            harness.LAMBDA_DIR, handler="front.handler", environment={"QUEUE_URL": url}
        )

        def accept(params: dict[str, object]) -> dict[str, object]:
            queue.send(
                str(params["MessageBody"]),
                group_id=str(params["MessageGroupId"]),
                deduplication_id=str(params["MessageDeduplicationId"]),
            )
            return {"MessageId": "m", "MD5OfMessageBody": "x", "SequenceNumber": "1"}

        route_send_message(front, accept)
        durations = []
        for index in range(count + 1):
            event = make_event(
                "Create",
                stack_id=stack_id("Throttled"),
                logical_id=f"User{index}",
                properties={
                    "UserPoolId": "eu-west-1_Bench",
                    "Username": f"user-{index:05}",
                    "UserAttributes": [{"Name": "nickname", "Value": f"nick-{index:05}"}],
                },
                response_url=f"https://example.invalid/{index}",
            )
            started = time.perf_counter()
            front.invoke(event)
            durations.append(time.perf_counter() - started)
    return statistics.median(durations[1:])  # the first one is cold


@dataclass
class Outcome:
    enqueued: int = 0
    dropped: int = 0
    last_enqueued_s: float = 0.0
    front_throttles: int = 0
    worker_throttles: int = 0
    dead_lettered: int = 0
    answered: int = 0
    last_answer_s: float = 0.0
    over_service_timeout: int = 0
    peak_concurrency: int = 0


def simulate(  # noqa: PLR0912, PLR0915 - one event loop, a branch per rule of the model
    *,
    users: int,
    maximum_concurrency: int,
    front_s: float,
    worker_s: float,
    scenario: str,
    seed: int = 7,
) -> Outcome:
    """One deploy: ``users`` Create events at t=0, through the front function, the queue and
    the worker, sharing ``ACCOUNT_LIMIT`` concurrent executions."""
    rng = random.Random(seed)
    out = Outcome()
    running = 0
    # (time, order, kind, payload)
    events: list[tuple[float, int, str, tuple[int, int]]] = []
    order = 0

    def at(when: float, kind: str, payload: tuple[int, int]) -> None:
        nonlocal order
        order += 1
        heapq.heappush(events, (when, order, kind, payload))

    visible: list[tuple[int, int]] = []  # (message, receive count) in FIFO order
    idle_pollers = maximum_concurrency
    for event in range(users):
        at(0.0, "front", (event, 0))

    def retry_interval(throttles: int) -> float:
        if scenario == "slowed":
            return MAX_RETRY_INTERVAL_S
        interval = min(2.0 ** (throttles - 1), MAX_RETRY_INTERVAL_S)
        return interval if scenario == "lockstep" else interval * rng.uniform(0.5, 1.0)

    while events:
        now, _, kind, (item, count) = heapq.heappop(events)
        if kind == "front":
            if now > MAX_EVENT_AGE_S:
                out.dropped += 1
                continue
            if running < ACCOUNT_LIMIT:
                running += 1
                out.peak_concurrency = max(out.peak_concurrency, running)
                at(now + front_s, "front-done", (item, 0))
            else:
                out.front_throttles += 1
                at(now + retry_interval(count + 1), "front", (item, count + 1))
        elif kind == "front-done":
            running -= 1
            out.enqueued += 1
            out.last_enqueued_s = max(out.last_enqueued_s, now)
            visible.append((item, 0))
            at(now, "poll", (0, 0))
        elif kind == "visible":
            visible.append((item, count))
            at(now, "poll", (0, 0))
        elif kind == "poll":
            while visible and idle_pollers:
                message, receives = visible.pop(0)
                receives += 1
                if running >= ACCOUNT_LIMIT:
                    out.worker_throttles += 1
                    if receives >= MAX_RECEIVES:
                        out.dead_lettered += 1
                    else:
                        at(now + VISIBILITY_TIMEOUT_S, "visible", (message, receives))
                    at(now + 1.0, "poll", (0, 0))  # the mapping backs off after a throttle
                    break
                running += 1
                idle_pollers -= 1
                out.peak_concurrency = max(out.peak_concurrency, running)
                at(now + worker_s, "worker-done", (message, receives))
        elif kind == "worker-done":
            running -= 1
            idle_pollers += 1
            out.answered += 1
            out.last_answer_s = max(out.last_answer_s, now)
            out.over_service_timeout += now > SERVICE_TIMEOUT_S
            at(now, "poll", (0, 0))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--share", type=float, default=0.4)
    parser.add_argument("--measure", type=int, default=200, help="front invocations to time")
    parser.add_argument(
        "--front-ms",
        type=float,
        default=100.0,
        help="a second front duration to model: SendMessage over the network and Lambda's "
        "invocation overhead, which the local measurement leaves out",
    )
    args = parser.parse_args(argv)
    print(harness.machine())

    from cognito_seed_users.cognito_user_attributes import pacing

    maximum_concurrency, rate = pacing(args.share)
    front_s = measure_front(args.measure)
    worker_s = 1.0 / rate
    bound_s = args.users / (args.share * QUOTA)
    print(
        f"front.handler: median {front_s * 1000:.1f} ms over {args.measure} warm invocations; "
        f"worker: MaximumConcurrency {maximum_concurrency}, {rate:g} writes/s each "
        f"({worker_s:.2f} s per event); account concurrency limit {ACCOUNT_LIMIT}; "
        f"{args.users} users, pacing bound {bound_s:.0f} s"
    )
    print()
    print(
        "| scenario | enqueued | dropped (> 27 min) | last enqueued | front throttles | "
        "worker throttles | dead-lettered | answered | last answer | ratio to bound | "
        "answers after 30 min | peak executions |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    ok = True
    for duration_s in (front_s, args.front_ms / 1000):
        for scenario in ("jitter", "lockstep", "slowed"):
            out = simulate(
                users=args.users,
                maximum_concurrency=maximum_concurrency,
                front_s=duration_s,
                worker_s=worker_s,
                scenario=scenario,
            )
            complete = out.enqueued == args.users and out.answered == args.users
            if scenario == "jitter":
                ok &= complete and out.over_service_timeout == 0
            ratio = out.last_answer_s / bound_s if out.answered else math.nan
            print(
                f"| {scenario}, front {duration_s * 1000:.1f} ms | {out.enqueued} | "
                f"{out.dropped} | {out.last_enqueued_s:.1f} s | {out.front_throttles} | "
                f"{out.worker_throttles} | {out.dead_lettered} | {out.answered} | "
                f"{out.last_answer_s:.1f} s | **{ratio:.2f}** | {out.over_service_timeout} | "
                f"{out.peak_concurrency} |"
            )
    print(f"\nresult: {'PASS' if ok else 'FAIL'} (the jitter scenario answers every event in time)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
