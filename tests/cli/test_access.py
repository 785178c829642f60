"""Access and bad input: no credentials, an unknown profile, an unreachable endpoint, usage
errors (one line, exit 1); ``--endpoint-url`` against a moto server; ``python -m``; the
progress bar; and the leak guard really seeing the tool's output."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer

from cfnlocal.seed_pool import create_ledger_table, create_user, create_user_pool
from cognito_seed_users.cli import output

from .conftest import ALICE, LEDGER

ROOT = Path(__file__).resolve().parents[2]


def _one_line(run, text: str) -> None:
    assert run.code == 1
    assert run.out == ""
    assert len(run.err.splitlines()) == 1, run.err
    assert run.err.startswith("seed-users: error: ")
    assert text in run.err


def test_no_credentials(*, seed_users, monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")

    _one_line(seed_users("status"), "no AWS credentials found")


def test_unknown_profile(*, seed_users):
    _one_line(
        seed_users("status", "--profile", "no-such-profile"),
        "AWS profile no-such-profile not found",
    )


def test_unreachable_endpoint(*, seed_users):
    # Port 9 (discard) refuses connections on the loopback interface.
    _one_line(
        seed_users("status", "--endpoint-url", "http://127.0.0.1:9"),
        "EndpointConnectionError (cannot reach AWS at http://127.0.0.1:9",
    )


@pytest.mark.parametrize(
    "argv",
    [
        ["plan"],
        ["status", "--rate", "0"],
        ["frobnicate"],
        ["plan", "--config", "a", "--cdk-out", "b"],
    ],
)
def test_usage_errors_are_one_line_and_exit_1(*, seed_users, argv):
    run = seed_users(*argv)

    assert run.code == 1
    assert run.out == ""
    assert len(run.err.strip().splitlines()) == 1, run.err


@pytest.mark.moto_server
def test_endpoint_url_reaches_a_moto_server(*, seed_users, write_seed_file, tmp_path):
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        endpoint = f"http://127.0.0.1:{server.get_host_and_port()[1]}"
        cognito = boto3.client("cognito-idp", endpoint_url=endpoint)
        create_ledger_table(boto3.client("dynamodb", endpoint_url=endpoint), LEDGER)
        pool = create_user_pool(cognito)
        create_user(cognito, pool, "alice", ALICE)
        config = write_seed_file(
            {
                "userPoolId": pool,
                "users": [{"username": "alice", "attributes": {"name": "DECLARED-Alice-0f3a"}}],
            }
        )

        run = seed_users(
            "plan",
            "--config",
            str(config),
            "--endpoint-url",
            endpoint,
            "--json",
            "--detailed-exitcode",
        )

        assert run.code == 2, run.err
        assert run.json()["steps"][0]["action"] == "create"
    finally:
        server.stop()


def test_python_dash_m_runs_the_tool() -> None:
    env = {**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}
    result = subprocess.run(
        [sys.executable, "-m", "cognito_seed_users.cli", "--help"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    for command in ("plan", "drift", "status", "orphans", "release"):
        assert command in result.stdout


def test_progress_bar_only_on_a_terminal_for_more_than_a_few() -> None:
    class Terminal:
        def isatty(self) -> bool:
            return True

    class Pipe:
        def isatty(self) -> bool:
            return False

    threshold = output.PROGRESS_THRESHOLD
    assert output.progress_wanted(threshold + 1, Terminal())  # type: ignore[arg-type]
    assert not output.progress_wanted(threshold, Terminal())  # type: ignore[arg-type]
    assert not output.progress_wanted(threshold + 1, Pipe())  # type: ignore[arg-type]


def test_leak_guard_sees_a_value_in_the_tools_output(*, seed_users, deployer, pool_id, leak_guard):
    """The guard this suite relies on finds a value the tool prints (with --show-values, which
    the runner does not hand to the guard, so this test hands it over itself)."""
    deployer.apply(pool_id, "alice", {"name": "DECLARED-Alice-0f3a"})
    run = seed_users("status", "--show-values")
    leak_guard.note_sensitive(ALICE["name"], "user attribute value in Cognito")
    leak_guard.note_sensitive("DECLARED-Alice-0f3a", "declared attribute value")
    leak_guard.note_text(
        "seed-users stdout (shown on purpose)", run.out, counter="seed-users outputs"
    )

    leaks = leak_guard.check()

    assert {leak.value for leak in leaks} == {ALICE["name"], "DECLARED-Alice-0f3a"}
