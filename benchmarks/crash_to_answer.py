"""Benchmark: the time from a worker that dies mid-event to CloudFormation's answer.

Without a queue, a Lambda sandbox that dies without answering costs the resource's whole
``ServiceTimeout`` (30 minutes) and then a rollback. Through the SQS FIFO queue (issue 9) the
message is received again once its visibility timeout (6 x the worker's 60 s timeout) has
passed, and the retry answers; a message every receive of which dies goes to the dead-letter
queue after ``maxReceiveCount`` receives, and its consumer answers FAILED.

The real worker (``lambda/worker.py`` and the crhelper handler) and the real dead-letter
consumer run in Lambda-like containers against moto, over the local queue model
(``cfnlocal/sqs_fifo.py``) on a virtual clock. Once, the worker's process dies right after its
``AdminUpdateUserAttributes`` call went through (the write landed, no answer went out): the
retry finds the value in place and answers. Then it dies before its ledger read on every
receive. Times
are virtual seconds from the message being queued to the answer reaching the response URL.

Run: ``.venv/bin/python benchmarks/crash_to_answer.py``
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import harness

WORKER_TIMEOUT_S = 60.0
VISIBILITY_TIMEOUT_S = 6 * WORKER_TIMEOUT_S
MAX_RECEIVES = 3
SERVICE_TIMEOUT_S = 1800.0
TARGET_S = VISIBILITY_TIMEOUT_S


class ProcessDied(BaseException):
    """The sandbox died: nothing in the handler or crhelper catches it."""


def main() -> int:
    import boto3
    from moto import mock_aws

    from cfnlocal.clock import VirtualClock
    from cfnlocal.cognito_fidelity import strict_cognito
    from cfnlocal.events import make_event, stack_id
    from cfnlocal.https_sink import ResponseSink
    from cfnlocal.lambda_runtime import LambdaContainer
    from cfnlocal.seed_pool import (
        create_ledger_table,
        create_user,
        create_user_pool,
        user_attributes,
    )
    from cfnlocal.sqs_fifo import EventSourceMapping, FifoQueue

    harness.isolate_in_process_aws()
    print(harness.machine())

    with mock_aws(), strict_cognito(), ResponseSink() as sink, VirtualClock() as clock:
        os.environ["SSL_CERT_FILE"] = sink.ca_file
        observer = boto3.Session()
        cognito = observer.client("cognito-idp")
        create_ledger_table(observer.client("dynamodb"), "ledger")
        pool = create_user_pool(cognito, "crash")
        boto3.setup_default_session()
        assert boto3.DEFAULT_SESSION is not None
        deaths = {
            "after-call.cognito-idp.AdminUpdateUserAttributes": 0,
            "before-call.dynamodb.Query": 0,
        }

        def dies(point: str) -> Any:  # noqa: ANN401
            def hook(**_: Any) -> None:  # noqa: ANN401
                if deaths[point] > 0:
                    deaths[point] -= 1
                    raise ProcessDied

            return hook

        for point in deaths:
            boto3.DEFAULT_SESSION.events.register(point, dies(point))

        def run(user: str, point: str, died: int) -> tuple[float, dict[str, Any], int]:
            create_user(cognito, pool, user, {"nickname": f"orig-{user}"})
            dead_letters = FifoQueue("dlq.fifo", visibility_timeout_s=180, now=clock.time)
            queue = FifoQueue(
                "events.fifo",
                visibility_timeout_s=VISIBILITY_TIMEOUT_S,
                max_receive_count=MAX_RECEIVES,
                dead_letters=dead_letters,
                now=clock.time,
            )
            environment = {"LEDGER_TABLE_NAME": "ledger"}

            def worker(sqs_event: dict[str, object]) -> object:
                # A fresh environment per receive: the one before died.
                container = LambdaContainer(
                    harness.LAMBDA_DIR,
                    handler="worker.handler",
                    environment=environment,
                    timeout_s=WORKER_TIMEOUT_S,
                )
                return container.invoke(sqs_event)

            consumer = LambdaContainer(
                harness.LAMBDA_DIR, handler="dead_letters.handler", timeout_s=30
            )
            request_id = f"req-{user}"
            event = make_event(
                "Create",
                stack_id=stack_id("CrashToAnswer"),
                logical_id=f"Seed{user}",
                properties={
                    "UserPoolId": pool,
                    "Username": user,
                    "UserAttributes": [{"Name": "nickname", "Value": f"seed-{user}"}],
                },
                response_url=sink.url(request_id),
                request_id=request_id,
            )
            deaths[point] = died
            queued_at = clock.time()
            queue.send(json.dumps(event), group_id=user, deduplication_id=request_id)
            EventSourceMapping(queue, worker, 5, clock.advance).drain()
            receives = len(
                EventSourceMapping(dead_letters, consumer.invoke, 2, clock.advance).drain()
            )
            (delivery,) = sink.deliveries(request_id)
            return delivery.received_at - queued_at, delivery.body, receives

        once_s, once, _ = run("alice", "after-call.cognito-idp.AdminUpdateUserAttributes", 1)
        assert once["Status"] == "SUCCESS", once
        assert user_attributes(cognito, pool, "alice")["nickname"] == "seed-alice"
        # Dies before its ledger read on every receive, so no retry gets as far as answering.
        lost_s, lost, dead_lettered = run("bob", "before-call.dynamodb.Query", MAX_RECEIVES)
        assert lost["Status"] == "FAILED", lost
        assert dead_lettered == 1

    print(
        f"worker died once (after its write), the retry answered {once['Status']}: "
        f"{once_s:.1f} s to the answer; without the queue: {SERVICE_TIMEOUT_S:.0f} s "
        f"(the ServiceTimeout); ratio {once_s / SERVICE_TIMEOUT_S:.2f}; "
        f"target <= {TARGET_S:.0f} s (one visibility timeout): "
        f"{'met' if once_s <= TARGET_S + 1 else 'MISSED'}"
    )
    print(
        f"worker died on all {MAX_RECEIVES} receives, the dead-letter consumer answered "
        f"{lost['Status']}: {lost_s:.1f} s to the answer; without the queue: "
        f"{SERVICE_TIMEOUT_S:.0f} s; ratio {lost_s / SERVICE_TIMEOUT_S:.2f}"
    )
    return 0 if once_s <= TARGET_S + 1 else 1


if __name__ == "__main__":
    sys.exit(main())
