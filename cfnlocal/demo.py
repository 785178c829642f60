"""The embedded default: a local deploy of the app against an embedded AWS emulator.

Starts moto's ``ThreadedMotoServer``, creates a user pool and the config file's seed users
(with some attributes already set), synthesizes the real app, and drives every
``Custom::CognitoUserAttributes`` resource of the template through Create, an Update (a second
synth where one value changed and one attribute was removed) and Delete. Each real-shaped event
goes the way CloudFormation's does: to the front function from the built asset, onto the FIFO
queue (a local model of SQS), to the worker, whose answer arrives over HTTPS. Prints each
user's attributes at every step; exits 1 unless every user ends exactly as it began.

The operator tool runs beside it, as an operator would run it against the account:
``seed-users plan`` before the Create, ``seed-users drift`` after an attribute is edited out of
band the way the Cognito console edits it (``AdminUpdateUserAttributes``), and
``seed-users status`` after the Update and at the end. Its values stay redacted.

Run: ``python -m cfnlocal.demo [--config seed-users.yaml] [--verbose]``
"""

from __future__ import annotations

import argparse
import copy
import json
import logging
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import yaml
from moto.server import ThreadedMotoServer

from .assembly import SynthesizedStack
from .cloudformation import LocalStack
from .driver import Answer, CustomResourceDriver
from .https_sink import ResponseSink
from .seed_pool import create_user, create_user_pool, user_attributes

if TYPE_CHECKING:
    from mypy_boto3_cognito_idp import CognitoIdentityProviderClient

ROOT = Path(__file__).resolve().parents[1]
STACK_NAME = "CognitoSeedUsers"
STEPS = ("before", "after Create", "after Update", "after Delete")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=ROOT / "seed-users.yaml")
    parser.add_argument("--verbose", action="store_true", help="show the handler's log lines")
    args = parser.parse_args(argv)
    level = logging.INFO if args.verbose else logging.WARNING
    logging.basicConfig(level=level, format="    [handler] %(levelname)s %(name)s: %(message)s")
    # The handler modules set their loggers to INFO (as on Lambda): filter at the handler.
    for root_handler in logging.getLogger().handlers:
        root_handler.setLevel(level)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    config = yaml.safe_load(args.config.read_text())
    with _emulator() as endpoint, tempfile.TemporaryDirectory(prefix="seed-demo-") as work:
        cognito = boto3.client("cognito-idp", endpoint_url=endpoint)
        pool_id = create_user_pool(cognito, "seed-demo", custom_attributes=_custom_schema(config))
        users = [user["username"] for user in config["users"]]
        for user in config["users"]:
            create_user(cognito, pool_id, user["username"], _existing_attributes(user))
        print(f"emulator {endpoint}, user pool {pool_id}, {len(users)} seed users")

        snapshots: dict[str, dict[str, dict[str, str]]] = {}

        def snapshot(step: str) -> None:
            snapshots[step] = {u: user_attributes(cognito, pool_id, u) for u in users}

        snapshot("before")
        first = _synth(args.config, pool_id, Path(work) / "deploy-1")
        changed_config = Path(work) / "seed-users.changed.yaml"
        changed_config.write_text(yaml.safe_dump(_changed(config)))
        second = _synth(changed_config, pool_id, Path(work) / "deploy-2")

        with ResponseSink() as sink:
            os.environ["SSL_CERT_FILE"] = sink.ca_file
            stack = LocalStack.provision(first, sink, suffix="demo")
            driver = stack.driver
            assert stack.ledger_table is not None
            operator = _Operator(endpoint, stack.ledger_table)
            operator.run("plan", "--config", str(args.config), "--user-pool-id", pool_id)
            failures = _run(
                "Create",
                driver,
                lambda: [driver.create(logical, p) for logical, p in stack.template.items()],
            )
            snapshot("after Create")
            edited = _edit_in_console(cognito, pool_id, config)
            print(f"\nout of band: {edited} edited in the console (AdminUpdateUserAttributes)")
            operator.run("drift")
            failures += _run(
                "Update",
                driver,
                lambda: (
                    [
                        answer
                        for logical, p in stack.template_for(second).items()
                        if (answer := driver.update(logical, p))
                    ]
                    + driver.cleanup()
                ),
            )
            snapshot("after Update")
            operator.run("status")
            failures += _run(
                "Delete",
                driver,
                lambda: [driver.delete(logical) for logical in list(driver.resources)],
            )
            snapshot("after Delete")
            operator.run("status")

    _print_table(snapshots)
    restored = snapshots["after Delete"] == snapshots["before"]
    verdict = "yes" if restored else "NO"
    print(f"\nfinal state equals the original: {verdict}; failed events: {failures}")
    return 0 if restored and failures == 0 else 1


@contextmanager
def _emulator() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    os.environ.update(
        AWS_ENDPOINT_URL=endpoint,
        AWS_ACCESS_KEY_ID="demo",
        AWS_SECRET_ACCESS_KEY="demo",
        AWS_REGION="eu-west-1",
        AWS_DEFAULT_REGION="eu-west-1",
    )
    try:
        yield endpoint
    finally:
        server.stop()


def _synth(config: Path, pool_id: str, outdir: Path) -> SynthesizedStack:
    """Synthesize the real app (``app.py``) for this config, pool and output directory."""
    env = {
        **os.environ,
        "CDK_OUTDIR": str(outdir),
        # The CDK CLI sets the asset-metadata context; the function's built asset is found by it.
        "CDK_CONTEXT_JSON": json.dumps(
            {
                "seedUsersFile": str(config),
                "userPoolId": pool_id,
                "aws:cdk:enable-asset-metadata": True,
            }
        ),
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    }
    subprocess.run([sys.executable, str(ROOT / "app.py")], check=True, env=env, cwd=ROOT)
    return SynthesizedStack(outdir, STACK_NAME)


class _Operator:
    """Runs ``seed-users`` (``python -m cognito_seed_users.cli``) against the emulator."""

    def __init__(self, endpoint: str, ledger_table: str) -> None:
        self._access = ["--endpoint-url", endpoint, "--region", "eu-west-1"]
        self._ledger = ["--ledger-table", ledger_table]

    def run(self, command: str, *arguments: str) -> None:
        argv = ["seed-users", command, *arguments]
        print(f"\n$ {' '.join(argv)}")
        env = {**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}
        result = subprocess.run(
            [
                sys.executable,
                *("-m", "cognito_seed_users.cli", command, *arguments),
                *self._access,
                *self._ledger,
            ],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        print(result.stdout.rstrip())
        if result.returncode != 0:
            print(result.stderr.rstrip())
            raise SystemExit(f"seed-users {command} failed with exit status {result.returncode}")


def _edit_in_console(
    cognito: CognitoIdentityProviderClient, pool_id: str, config: Mapping[str, Any]
) -> str:
    """Change the first user's first declared value as a console user would; names it."""
    user = config["users"][0]
    name = next(n for n, v in user["attributes"].items() if v is not None)
    cognito.admin_update_user_attributes(
        UserPoolId=pool_id,
        Username=user["username"],
        UserAttributes=[{"Name": name, "Value": "edited-in-console"}],
    )
    return f"{user['username']} {name}"


def _run(step: str, driver: CustomResourceDriver, send: Callable[[], list[Answer]]) -> int:
    """Send one step's events; print how they went through the queue and how they ended."""
    sent = len(driver.invocations)
    answers = send()
    receives = [
        invocation.transported.receives
        for invocation in driver.invocations[sent:]
        if invocation.transported is not None and invocation.transported.queued
    ]
    failed = [a for a in answers if a.status != "SUCCESS"]
    print(
        f"{step}: {len(answers)} events, {len(answers) - len(failed)} SUCCESS; "
        f"{len(receives)} queued by the front function, "
        f"{sum(receives)} worker receives"
    )
    for answer in failed:
        print(f"  FAILED {answer.body['LogicalResourceId']}: {answer.reason}")
    return len(failed)


def _custom_schema(config: Mapping[str, Any]) -> list[dict[str, Any]]:
    names = sorted(
        {
            name.removeprefix("custom:")
            for user in config["users"]
            for name in user.get("attributes", {})
            if name.startswith("custom:")
        }
    )
    return [{"Name": name, "AttributeDataType": "String", "Mutable": True} for name in names]


def _existing_attributes(user: Mapping[str, Any]) -> dict[str, str]:
    """What the seed user already has: a value for every other declared attribute (and for
    those declared absent), so the demo shows overwrite, add, delete and restore."""
    existing: dict[str, str] = {}
    for index, (name, value) in enumerate(user.get("attributes", {}).items()):
        if value is None or index % 2 == 0:
            existing[name] = _sample(name, user["username"])
    return existing


def _sample(name: str, username: str) -> str:
    if name == "email":
        return f"{username}@old.example.com"
    if name == "phone_number":
        return "+15550100000"
    if name.endswith("_verified"):
        return "false"
    return f"old-{name.removeprefix('custom:')}"


def _changed(config: Mapping[str, Any]) -> dict[str, Any]:
    """The next deploy's config: in each user, one value changed and one attribute removed."""
    changed = copy.deepcopy(dict(config))
    for user in changed["users"]:
        attributes = user.get("attributes", {})
        valued = [
            n
            for n, v in attributes.items()
            if v is not None and n.startswith(("custom:", "nickname", "name", "given_name"))
        ]
        if valued:
            attributes[valued[0]] = f"{attributes[valued[0]]}-v2"
        if len(attributes) > 1:
            attributes.pop(next(reversed(list(attributes))))
    return changed


def _print_table(snapshots: Mapping[str, Mapping[str, Mapping[str, str]]]) -> None:
    for user in snapshots["before"]:
        print(f"\nuser {user}")
        names = sorted({n for step in STEPS for n in snapshots[step][user]})
        width = max(len(n) for n in names) if names else 10
        print(f"  {'attribute':<{width}}  " + "  ".join(f"{s:<26}" for s in STEPS))
        for name in names:
            cells = [snapshots[s][user].get(name, "-") for s in STEPS]
            print(f"  {name:<{width}}  " + "  ".join(f"{c[:26]:<26}" for c in cells))


if __name__ == "__main__":
    sys.exit(main())
