"""Benchmark 4: synth time for 10, 100, 1,000 and 5,000 seed users, against an equivalent
``AwsCustomResource`` app for the sizes it can reach (it spends a custom resource and an IAM
policy per user: CloudFormation's 500 resources per stack stop it near 245 users).

Two measurements:

- ``cdk synth`` as the CLI runs it: ``app.py`` in a fresh process (interpreter, jsii, the
  Lambda asset, the templates), one run per size;
- the per-user cost, the figure the comparison is about: in one warm process, both apps built
  and synthesized at 10 and 240 users, interleaved, fastest of 3 each; per-user cost =
  (time(240) - time(10)) / 230. A shared machine's noise would swamp it in whole-process runs.

Run: ``.venv/bin/python benchmarks/synth_time.py``
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import harness
import yaml

SIZES = (10, 100, 1000, 5000)
THEIRS_SIZES = (10, 100)
SMALL, LARGE = 10, 240
REPEATS = 3
THEIRS_APP = Path(__file__).resolve().parent / "harness" / "aws_custom_resource_app.py"
POOL = "eu-west-1_Bench12345"


def config(count: int) -> dict[str, Any]:
    return {
        "userPoolId": POOL,
        "users": [
            {
                "username": f"user-{i:05}",
                "attributes": {"custom:tenant_id": f"tenant-{i % 97}", "nickname": f"nick-{i}"},
            }
            for i in range(count)
        ],
    }


def synth_process(app: Path, count: int, work: Path) -> tuple[float, int]:
    """``cdk synth`` of ``app`` for ``count`` users: seconds, and resources in all templates."""
    seed_file = work / f"users-{count}.yaml"
    seed_file.write_text(yaml.safe_dump(config(count)), encoding="utf-8")
    outdir = work / f"{app.stem}-{count}"
    env = {
        **os.environ,
        "CDK_OUTDIR": str(outdir),
        "CDK_CONTEXT_JSON": json.dumps(
            {"seedUsersFile": str(seed_file), "aws:cdk:enable-asset-metadata": True}
        ),
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    }
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, str(app)],
        env=env,
        cwd=harness.ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(result.stderr.strip().splitlines()[-1][:200])
    resources = sum(
        len(json.loads(template.read_text()).get("Resources", {}))
        for template in outdir.glob("*.template.json")
    )
    return seconds, resources


def per_user_costs(work: Path) -> tuple[float, float]:
    """Seconds per user of both apps, measured in this (warm) process."""
    import aws_cdk as cdk
    from harness.aws_custom_resource_app import build as build_theirs

    from cognito_seed_users import parse_seed_users
    from stacks import SeedUsersStack

    def ours(app: cdk.App, document: dict[str, Any]) -> None:
        users = parse_seed_users(document, source="bench", user_pool_id_override=None)
        SeedUsersStack(app, "CognitoSeedUsers", seed_users=users)

    builders: dict[str, Callable[[cdk.App, dict[str, Any]], object]] = {
        "ours": ours,
        "theirs": build_theirs,
    }
    best: dict[tuple[str, int], float] = {}
    runs = 0
    for _ in range(REPEATS + 1):  # the first round warms jsii and is not counted
        for size in (SMALL, LARGE):
            for name, build in builders.items():
                document = config(size)
                started = time.perf_counter()
                app = cdk.App(outdir=str(work / f"in-process-{runs}"))
                build(app, document)
                app.synth()
                seconds = time.perf_counter() - started
                runs += 1
                if runs > 2 * len(builders):
                    best[(name, size)] = min(best.get((name, size), seconds), seconds)
    return tuple(  # type: ignore[return-value]
        (best[(name, LARGE)] - best[(name, SMALL)]) / (LARGE - SMALL) for name in builders
    )


def main() -> int:
    print(harness.machine())
    with tempfile.TemporaryDirectory(prefix="bench-synth-") as tmp:
        work = Path(tmp)
        synth_process(harness.ROOT / "app.py", 1, work)  # unmeasured: cold disk caches
        ours = {size: synth_process(harness.ROOT / "app.py", size, work) for size in SIZES}
        theirs = {size: synth_process(THEIRS_APP, size, work) for size in THEIRS_SIZES}
        try:
            synth_process(THEIRS_APP, 250, work)
            their_limit = "synthesizes"
        except RuntimeError as error:
            their_limit = f"refuses them ({error})"
        mine, other = per_user_costs(work)

    print("\n| users | `cdk synth` of app.py | resources | AwsCustomResource app | resources |")
    print("| --- | --- | --- | --- | --- |")
    for size in SIZES:
        seconds, resources = ours[size]
        theirs_cells = (
            f"{theirs[size][0]:.1f} s | {theirs[size][1]}"
            if size in theirs
            else "cannot (over 500 resources) | -"
        )
        print(f"| {size:,} | {seconds:.1f} s | {resources} | {theirs_cells} |")
    print(f"\nAwsCustomResource at 250 users: {their_limit}")
    print(
        f"per-user synth cost ({SMALL} -> {LARGE} users, in process): app.py "
        f"{mine * 1000:.1f} ms, AwsCustomResource {other * 1000:.1f} ms; ratio {mine / other:.2f}"
    )
    marginal = (ours[5000][0] - ours[1000][0]) / 4000
    print(
        f"app.py marginal cost from 1,000 to 5,000 users (whole process): "
        f"{marginal * 1000:.1f} ms per user"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
