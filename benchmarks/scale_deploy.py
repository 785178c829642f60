"""Scale check: 5,000 seed users in one app synthesize (nested stacks), pass cfn-lint (every
template), and deploy and delete through the lifecycle driver with every user correct.

Unlike ``deploy_at_quota.py`` this measures no pacing: the handler's token bucket is switched
off (``COGNITO_USER_UPDATE_RATE`` unset) and there is no throttle, so the run is bounded by
this machine, not by Cognito's quota. The worker mapping's ``MaximumConcurrency`` (synthesized
with ``updateQuotaShare=1``) is the number of execution environments.

Run: ``.venv/bin/python benchmarks/scale_deploy.py [--users 5000] [--no-lint]``
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import harness
from harness.deploy import (
    Deployment,
    check_users,
    ledger_leftovers,
    make_workload,
    synth,
    write_config,
)
from harness.emulator import Emulator


def lint_file(path: str) -> list[str]:
    from cfnlint.api import lint

    text = Path(path).read_text(encoding="utf-8")
    return [
        f"{Path(path).name}: {match.rule.id} {match.message}"
        for match in lint(text, regions=["eu-west-1"])
        if match.rule.id != "W3005"  # CDK adds DependsOn next to a GetAtt on the same role
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=5000)
    parser.add_argument("--no-lint", action="store_true")
    args = parser.parse_args(argv)
    print(harness.machine())

    import boto3

    from cfnlocal.https_sink import ResponseSink

    ok = True
    with (
        Emulator() as emulator,
        ResponseSink() as sink,
        tempfile.TemporaryDirectory(prefix="bench-scale-") as work,
    ):
        session = boto3.Session()
        cognito, dynamodb = session.client("cognito-idp"), session.client("dynamodb")
        started = time.perf_counter()
        workload = make_workload(cognito, args.users)
        print(
            f"emulator {emulator.endpoint}: {args.users} users created "
            f"({time.perf_counter() - started:.0f} s)"
        )
        outdir = Path(work) / "cdk.out"
        seconds = synth(
            write_config(Path(work) / "users.yaml", workload), outdir, {"updateQuotaShare": "1"}
        )
        templates = sorted(str(path) for path in outdir.glob("*.template.json"))
        sizes = [Path(path).stat().st_size for path in templates]
        print(f"synth: {seconds:.1f} s, {len(templates)} templates (largest {max(sizes):,} bytes)")
        if not args.no_lint:
            started = time.perf_counter()
            with ProcessPoolExecutor(2) as pool:
                problems = [p for found in pool.map(lint_file, templates) for p in found]
            print(
                f"cfn-lint: {len(templates)} templates, {len(problems)} problems "
                f"({time.perf_counter() - started:.0f} s)"
            )
            for problem in problems[:10]:
                print(f"  {problem}")
            ok &= not problems
        deployment = Deployment(
            outdir, sink, dynamodb, environment_overrides={"COGNITO_USER_UPDATE_RATE": None}
        )
        concurrency = deployment.maximum_concurrency
        print(
            f"provisioned: {deployment.resource_count} custom resources in "
            f"{len(deployment.stacks)} stacks; {concurrency} execution environments, unpaced"
        )
        log_dir = Path(work) / "logs"
        log_dir.mkdir()
        environments = deployment.start_environments(concurrency, log_dir)
        try:
            create = deployment.create_all(environments)
            wrong = check_users(
                cognito, workload, lambda u: {**workload.originals[u], **workload.declared[u]}
            )
            print(
                f"Create: {len(create.invocations)} events in {create.elapsed_s:.0f} s "
                f"({len(create.invocations) / create.elapsed_s:.0f}/s), "
                f"{len(create.failures)} failed, {len(wrong)} users wrong"
            )
            ok &= not create.failures and not wrong and len(create.invocations) == args.users
            delete = deployment.delete_all(environments)
            restored = check_users(cognito, workload, lambda u: workload.originals[u])
            leftovers = ledger_leftovers(dynamodb, deployment.ledger_table)
            print(
                f"Delete: {len(delete.invocations)} events in {delete.elapsed_s:.0f} s "
                f"({len(delete.invocations) / delete.elapsed_s:.0f}/s), "
                f"{len(delete.failures)} failed, {len(restored)} users not restored, "
                f"{leftovers} ledger claims/owners left"
            )
            ok &= not delete.failures and not restored and leftovers == 0
            for failure in (create.failures + delete.failures)[:5]:
                print(f"  failed: {failure}")
        finally:
            for environment in environments:
                environment.close()
    print(f"result: {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
