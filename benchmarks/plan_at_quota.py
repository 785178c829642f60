"""Benchmark: ``seed-users plan`` over 5,000 users against the emulator, timed against
Cognito's UserRead bound.

The emulator (``ThreadedMotoServer`` in its own process, Cognito's rules enforced) holds a
pool of N users with known attributes and an empty ledger; the seed file declares two
attributes per user. The tool runs as an operator runs it (``python -m
cognito_seed_users.cli plan ... --endpoint-url``, a process of its own, start-up included) at
``--rate`` AdminGetUser calls per second. Each user costs one AdminGetUser (UserRead) and one
ledger Query; the pool's schema is read once. The bound is N / 120 s: no client can read N
users faster without exceeding the UserRead quota. Measured in one run; not part of
``make test``.

Run: ``.venv/bin/python benchmarks/plan_at_quota.py [--users 5000] [--rate 120] [--workers 8]``
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import harness
from harness.deploy import make_workload, write_config
from harness.emulator import Emulator

USER_READ_QUOTA = 120
LEDGER = "bench-ledger"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=5000)
    parser.add_argument("--rate", type=float, default=float(USER_READ_QUOTA))
    parser.add_argument("--workers", type=int, default=8)
    args = parser.parse_args(argv)
    print(harness.machine())

    import boto3

    from cfnlocal.seed_pool import create_ledger_table

    with Emulator() as emulator, tempfile.TemporaryDirectory(prefix="bench-plan-") as work:
        session = boto3.Session()
        started = time.perf_counter()
        workload = make_workload(session.client("cognito-idp"), args.users)
        create_ledger_table(session.client("dynamodb"), LEDGER)
        config = write_config(Path(work) / "users.yaml", workload)
        print(
            f"emulator {emulator.endpoint}: pool with {args.users} users "
            f"({time.perf_counter() - started:.1f} s to create)"
        )
        command = [
            sys.executable,
            "-m",
            "cognito_seed_users.cli",
            "plan",
            "--config",
            str(config),
            "--ledger-table",
            LEDGER,
            "--endpoint-url",
            emulator.endpoint,
            "--rate",
            f"{args.rate:g}",
            "--workers",
            str(args.workers),
            "--json",
            "--detailed-exitcode",
        ]
        started = time.perf_counter()
        result = subprocess.run(
            command, capture_output=True, text=True, env=dict(os.environ), check=False
        )
        elapsed = time.perf_counter() - started
    if result.returncode != 2:
        print(f"plan failed (exit {result.returncode}): {result.stderr.strip()}", file=sys.stderr)
        return 1
    steps = json.loads(result.stdout)["steps"]
    creates = sum(step["action"] == "create" for step in steps)
    writes = sum(row["writes"] for step in steps for row in step["attributes"])
    bound = args.users / USER_READ_QUOTA
    paced = args.users / args.rate
    print(
        f"plan: {len(steps)} steps ({creates} creates, {writes} attribute writes planned), "
        f"exit 2 (changes)"
    )
    print(
        f"elapsed {elapsed:.1f} s (one run, process start-up included) at --rate {args.rate:g} "
        f"--workers {args.workers}; pacing alone: {paced:.1f} s"
    )
    print(
        f"UserRead bound: {args.users} reads / {USER_READ_QUOTA} per s = {bound:.1f} s; "
        f"ratio elapsed / bound = {elapsed / bound:.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
