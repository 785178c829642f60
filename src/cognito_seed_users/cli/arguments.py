"""The command line: subcommands and their options (argparse)."""

from __future__ import annotations

import argparse
from typing import Final

from .reads import DEFAULT_RATE, DEFAULT_WORKERS

DEFAULT_STACK: Final = "CognitoSeedUsers"
"""The stack this repository's app deploys (``app.py``)."""


class Parser(argparse.ArgumentParser):
    """argparse's usage errors as one line on stderr and exit status 1 (argparse's own is a
    usage block and status 2, which ``--detailed-exitcode`` gives the meaning "changes")."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(1, f"{self.prog}: error: {message}\n")


def parser() -> argparse.ArgumentParser:
    common = Parser(add_help=False)
    access = common.add_argument_group("AWS access")
    access.add_argument("--region", help="AWS Region (default: from the profile or AWS_REGION)")
    access.add_argument("--profile", help="AWS profile (default: AWS_PROFILE or the default)")
    access.add_argument("--endpoint-url", help="an AWS emulator's endpoint, e.g. moto server")
    access.add_argument(
        "--ledger-table",
        required=True,
        help="the ledger table's name (the function's LEDGER_TABLE_NAME)",
    )
    access.add_argument(
        "--rate",
        type=_positive_float,
        default=DEFAULT_RATE,
        help=f"Cognito AdminGetUser calls per second (default {DEFAULT_RATE:g}; Cognito's "
        "UserRead quota is 120/s, shared with production)",
    )
    access.add_argument(
        "--workers", type=_positive_int, default=DEFAULT_WORKERS, help="concurrent reads"
    )
    shown = common.add_argument_group("output")
    shown.add_argument("--json", action="store_true", help="one JSON document (output.schema.json)")
    shown.add_argument(
        "--show-values",
        action="store_true",
        help="print attribute values, originals and declared values (redacted by default)",
    )
    exitcode = Parser(add_help=False)
    exitcode.add_argument(
        "--detailed-exitcode",
        action="store_true",
        help="exit 0 when nothing changes, 2 when something does, 1 on error (Terraform's)",
    )
    users = Parser(add_help=False)
    users.add_argument("--user", help="only this canonical username")
    users.add_argument("--user-pool-id", help="only this user pool")
    users.add_argument("--stack", help="only owners this stack (or its nested stacks) made")

    root = Parser(prog="seed-users", description=__doc__)
    commands = root.add_subparsers(dest="command", required=True, parser_class=Parser)

    plan = commands.add_parser(
        "plan", parents=[common, exitcode], help="what a deploy (or --destroy) would change"
    )
    source = plan.add_mutually_exclusive_group(required=True)
    source.add_argument("--config", help="a seed-users file (YAML or JSON)")
    source.add_argument("--cdk-out", help="a synthesized cloud assembly directory")
    plan.add_argument(
        "--stack-name",
        help=f"the stack the declarations deploy to (default {DEFAULT_STACK} with --config; "
        "every stack of the assembly with --cdk-out)",
    )
    plan.add_argument("--stack-id", help="that stack's id (ARN), when several share its name")
    plan.add_argument("--user-pool-id", help="the userPoolId context override (--config)")
    plan.add_argument("--destroy", action="store_true", help="plan deleting the stack")

    commands.add_parser(
        "drift", parents=[common, exitcode, users], help="values changed outside deploys"
    )
    commands.add_parser("status", parents=[common, users], help="what the ledger holds")
    orphans = commands.add_parser(
        "orphans", parents=[common, exitcode], help="owners whose stack or resource is gone"
    )
    orphans.add_argument("--stack", help="only owners this stack (or its nested stacks) made")
    orphans.add_argument("--all", action="store_true", help="list every owner with its verdict")
    release = commands.add_parser(
        "release", parents=[common], help="release one owner by hand (dry run unless --apply)"
    )
    release.add_argument("owner", help="the owner id (or at least its first 8 characters)")
    release.add_argument("--apply", action="store_true", help="perform the release")
    return root


def _positive_float(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise argparse.ArgumentTypeError("must be a number") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError("must be a positive number")
    return value


def _positive_int(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError("must be a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value
