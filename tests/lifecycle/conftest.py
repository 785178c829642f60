"""Lifecycle tests: the real app synthesized once per session, provisioned into moto, driven
through CloudFormation's lifecycle by ``cfnlocal.cloudformation.LocalStack``.

Every test runs inside ``strict_cognito()`` (moto made to enforce Cognito's documented rules),
with a fresh boto3 default session whose calls ``AwsCallRecorder`` sees (the handler builds its
clients from the default session), a virtual wall clock (CloudFormation's ``ServiceTimeout``
waits cost nothing) and each emulator call made atomic (racing invocations run in threads).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from cfnlocal.assembly import SynthesizedStack
from cfnlocal.aws_faults import AwsCallRecorder
from cfnlocal.clock import VirtualClock
from cfnlocal.cloudformation import LocalStack
from cfnlocal.cognito_fidelity import strict_cognito
from cfnlocal.https_sink import ResponseSink

from .support import PLACEHOLDER_POOL, Run, new_pool, provisioned

ROOT = Path(__file__).resolve().parents[2]
SEED_FILE = Path(__file__).with_name("seed-users.lifecycle.yaml")
STACK_NAME = "CognitoSeedUsers"

_SUMMARY: list[str] = []
_TOTALS: dict[str, int] = {}


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> SynthesizedStack:
    """``app.py`` synthesized with the lifecycle seed file, as ``cdk synth`` would."""
    outdir = tmp_path_factory.mktemp("cdk.out")
    env = {
        **os.environ,
        "CDK_OUTDIR": str(outdir),
        "CDK_CONTEXT_JSON": json.dumps(
            {"seedUsersFile": str(SEED_FILE), "userPoolId": PLACEHOLDER_POOL}
        ),
        "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "1",
    }
    result = subprocess.run(
        [sys.executable, str(ROOT / "app.py")],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, f"synth failed: {result.stderr[-2000:]}"
    return SynthesizedStack(outdir, STACK_NAME)


@dataclass
class Lifecycle:
    """What a lifecycle test works with; ``new_run()`` gives an isolated pool on a new stack."""

    stack: LocalStack
    recorder: AwsCallRecorder
    clock: VirtualClock
    sink: ResponseSink
    cognito: Any
    dynamodb: Any
    pool: str

    def new_run(self) -> Run:
        """A new stack over the seed users, reset to their originals, with an empty ledger,
        and a cold container (so every run makes the same AWS calls)."""
        stack = self.stack.fresh()
        stack.driver.cold_start()
        return Run(stack, self.cognito, self.dynamodb, self.pool)


@pytest.fixture
def lifecycle(
    synthesized: SynthesizedStack,
    response_sink: ResponseSink,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Lifecycle]:
    with (
        strict_cognito(),
        provisioned(synthesized, response_sink, monkeypatch, suffix="LIFECYCLE") as (
            stack,
            recorder,
            clock,
            observer,
        ),
    ):
        cognito = observer.client("cognito-idp")
        yield Lifecycle(
            stack=stack,
            recorder=recorder,
            clock=clock,
            sink=response_sink,
            cognito=cognito,
            dynamodb=observer.client("dynamodb"),
            pool=new_pool(cognito),
        )


@pytest.fixture
def report(record_property: Any) -> Any:
    """``report(name, value)``: print a coverage figure and keep it for the session summary."""

    def write(name: str, value: object) -> None:
        print(f"lifecycle: {name} = {value}")
        record_property(f"lifecycle:{name}", value)

    return write


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when != "call":
        return
    for name, value in report.user_properties:
        if str(name).startswith("lifecycle:"):
            label = str(name)[len("lifecycle:") :]
            _SUMMARY.append(f"{report.nodeid}: {label} = {value}")
            kind = label.rsplit(": ", 1)[-1]
            if kind == "injection points":
                _TOTALS[kind] = _TOTALS.get(kind, 0) + int(value)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _SUMMARY:
        terminalreporter.section("lifecycle coverage")
        for line in _SUMMARY:
            terminalreporter.write_line(line)
        for kind, total in sorted(_TOTALS.items()):
            terminalreporter.write_line(f"total {kind}: {total}")
