"""Benchmark 5: a simulated deploy of 1,000 seed users at Cognito's UserUpdate quota.

CloudFormation starts every resource at once (here: 1,000 users in hash-sharded nested stacks);
the front function queues each event and the worker's event source mapping runs at most
``MaximumConcurrency`` of them at once (one process per execution environment, each warm after
its first event, each event one SQS record); every event goes through ``CustomResourceDriver``
(answers over HTTPS, checked); the emulator (``ThreadedMotoServer`` in its own process,
Cognito's write rules enforced) answers ``TooManyRequestsException`` above 25 UserUpdate calls
per second. The app is synthesized with ``updateQuotaShare=1`` (the whole quota) so the deploy
can be compared with the quota bound: users x writes / 25 s.

Then the same for delete-stack, after which every user must equal its original exactly.

Run: ``.venv/bin/python benchmarks/deploy_at_quota.py [--users 1000] [--share 1.0]``
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import harness
from harness.deploy import (
    Deployment,
    Phase,
    check_users,
    ledger_leftovers,
    make_workload,
    synth,
    write_config,
)
from harness.emulator import Emulator

QUOTA = 25
TARGET = 1.25


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--share", type=float, default=1.0, help="updateQuotaShare to synthesize")
    args = parser.parse_args(argv)
    print(harness.machine())

    import boto3

    from cfnlocal.https_sink import ResponseSink

    with (
        Emulator(throttle_limit=QUOTA) as emulator,
        ResponseSink() as sink,
        tempfile.TemporaryDirectory(prefix="bench-deploy-") as work,
    ):
        session = boto3.Session()
        cognito = session.client("cognito-idp")
        dynamodb = session.client("dynamodb")
        started = time.perf_counter()
        workload = make_workload(cognito, args.users)
        print(
            f"emulator {emulator.endpoint}: pool with {args.users} users "
            f"({time.perf_counter() - started:.1f} s)"
        )
        outdir = Path(work) / "cdk.out"
        seconds = synth(
            write_config(Path(work) / "users.yaml", workload),
            outdir,
            {"updateQuotaShare": str(args.share)},
        )
        deployment = Deployment(outdir, sink, dynamodb)
        concurrency = deployment.maximum_concurrency
        rate = deployment.function_environment.get("COGNITO_USER_UPDATE_RATE", "unpaced")
        print(
            f"synth {seconds:.1f} s: {deployment.resource_count} resources in "
            f"{len(deployment.stacks)} stacks ({len(deployment.nested)} nested); worker "
            f"MaximumConcurrency {concurrency}, {rate} writes/s per environment "
            f"(share {args.share:g} of {QUOTA}/s)"
        )
        log_dir = Path(work) / "logs"
        log_dir.mkdir()
        environments = deployment.start_environments(concurrency, log_dir)
        try:
            emulator.reset_throttle()
            create = deployment.create_all(environments)
            create_stats = emulator.throttle_stats()
            wrong_after_create = check_users(
                cognito, workload, lambda u: {**workload.originals[u], **workload.declared[u]}
            )
            emulator.reset_throttle()
            delete = deployment.delete_all(environments)
            delete_stats = emulator.throttle_stats()
            wrong_after_delete = check_users(cognito, workload, lambda u: workload.originals[u])
            leftovers = ledger_leftovers(dynamodb, deployment.ledger_table)
        finally:
            for environment in environments:
                environment.close()
        durations = sorted(d for env in environments for d in env.durations)

    print()
    print(
        f"| phase | users | Cognito writes (min / sent) | throttled | quota bound | "
        f"time | ratio (target <= {TARGET}) | failed | users wrong |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    ok = True
    for phase, minimum, stats, wrong in (
        (create, workload.create_writes(), create_stats, wrong_after_create),
        (delete, workload.delete_writes(), delete_stats, wrong_after_delete),
    ):
        ok &= _row(phase, args.users, minimum, stats, wrong, share=args.share)
    print()
    print(
        f"max UserUpdate calls accepted in any 1 s window: create "
        f"{create_stats.max_in_window if create_stats else '-'}, delete "
        f"{delete_stats.max_in_window if delete_stats else '-'} (limit {QUOTA})"
    )
    if durations:
        print(
            f"invocation time: median {durations[len(durations) // 2] * 1000:.0f} ms, "
            f"p99 {durations[int(len(durations) * 0.99)] * 1000:.0f} ms (paced writes included)"
        )
    print(f"ledger claims/owners left after delete: {leftovers}")
    ok &= leftovers == 0
    print(f"\nresult: {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


def _row(
    phase: Phase, users: int, minimum: int, stats: object, wrong: list[str], *, share: float
) -> bool:
    sent = getattr(stats, "accepted", 0)
    throttled = getattr(stats, "throttled", 0)
    bound = minimum / (QUOTA * share)
    ratio = phase.elapsed_s / bound
    failures = phase.failures
    print(
        f"| {phase.name} | {users} | {minimum} / {sent} | {throttled} | {bound:.1f} s | "
        f"{phase.elapsed_s:.1f} s | **{ratio:.2f}** | {len(failures)} | {len(wrong)} |"
    )
    for failure in failures[:3]:
        print(f"    failed: {failure}", file=sys.stderr)
    return ratio <= TARGET and not failures and not wrong and len(phase.invocations) == users


if __name__ == "__main__":
    assert harness.ROOT.exists()
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    sys.exit(main())
