"""``main``: parse, run one subcommand, print its report, choose the exit status.

Every failure ends here as exactly one line on stderr and exit status 1: the tool's own
(``CliError``), and the function's (``UserAttributesError``: its messages name an action and
an error code, never a value).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Final

from user_attributes.cognito import CognitoUsers
from user_attributes.errors import AwsCallFailed, UserAttributesError
from user_attributes.ledger import Ledger
from user_attributes.secrets import SecretReader

from . import drift, orphans, plan, release, status
from .arguments import DEFAULT_STACK, parser
from .aws import AwsOptions, Clients
from .errors import CliError
from .output import Report, emit
from .reads import Reader

EXIT_OK: Final = 0
EXIT_ERROR: Final = 1
EXIT_CHANGES: Final = 2
_UNREACHABLE: Final = frozenset(
    {"EndpointConnectionError", "ConnectTimeoutError", "ReadTimeoutError", "ConnectionClosedError"}
)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``seed-users`` with ``argv`` (default: the process's arguments); the exit status."""
    try:
        args = parser().parse_args(argv)
    except SystemExit as stop:  # --help (0), or a usage error already printed as one line (1)
        return stop.code if isinstance(stop.code, int) else EXIT_ERROR
    try:
        report, changes = _run(args)
    except CliError as error:
        return _fail(str(error))
    except AwsCallFailed as error:
        hint = ""
        if error.code in _UNREACHABLE:
            where = f" at {args.endpoint_url}" if args.endpoint_url else ""
            hint = f" (cannot reach AWS{where}: check --endpoint-url, --region and the network)"
        return _fail(f"{error}{hint}")
    except UserAttributesError as error:
        return _fail(str(error))
    emit(report, as_json=args.json)
    if changes and getattr(args, "detailed_exitcode", False):
        return EXIT_CHANGES
    return EXIT_OK


def _fail(message: str) -> int:
    # One line: a message from AWS never spans lines here, but be sure of it.
    print(f"seed-users: error: {' '.join(message.split())}", file=sys.stderr)
    return EXIT_ERROR


def _run(args: argparse.Namespace) -> tuple[Report, bool]:
    clients = Clients(AwsOptions(args.region, args.profile, args.endpoint_url))
    reader = Reader(
        CognitoUsers(clients.cognito),
        Ledger(clients.dynamodb, args.ledger_table),
        clients.dynamodb,
        rate=args.rate,
        workers=args.workers,
    )
    if args.command == "plan":
        if args.config is not None and args.stack_name is None:
            args.stack_name = DEFAULT_STACK
        return plan.run(args, reader)
    if args.command == "drift":
        return drift.run(args, reader)
    if args.command == "status":
        return status.run(args, reader), False
    if args.command == "orphans":
        return orphans.run(
            args, reader, lambda: orphans.CloudFormationReader(clients.cloudformation)
        )
    secrets = SecretReader(clients.secretsmanager, clients.ssm)
    return release.run(args, reader, secrets), False
