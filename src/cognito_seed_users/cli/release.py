"""``release OWNER``: an operator's release of one ledger owner (an orphan, or the owner a
FAILED Delete names), dry run by default.

The dry run shows what the release would do: ``plan.explain`` with nothing declared, which is
the plan a Delete makes (release every claim, restore where it is the last owner, else leave
the latest remaining owner's value). ``--apply`` performs it through the function's own
lifecycle (``AttributeLifecycle.release_by_hand``: the Delete's code, in the same crash-safe
order) and records in the ledger that the owner was released by hand, so the resource's next
Update from CloudFormation claims anew instead of being refused.

``OWNER`` is the owner id ``status`` and ``orphans`` print, or a prefix of it of at least 8
characters (a FAILED Delete's Reason names the first 12); a prefix that matches more than one
owner is refused.
"""

from __future__ import annotations

import argparse
import re
import time
from typing import Final

from user_attributes.errors import UserNotFound
from user_attributes.invocation import Deadline
from user_attributes.lifecycle import AttributeLifecycle
from user_attributes.model import OnDelete, Target
from user_attributes.secrets import SecretReader

from .errors import CliError
from .output import Report
from .plan import UserPlan, explain, report
from .reads import Reader, partition_target

MIN_PREFIX: Final = 8
RELEASE_SECONDS: Final = 300
"""The release's deadline: ample for one user's few calls, and a bound if AWS hangs."""


def find_owner(reader: Reader, prefix: str) -> tuple[str, Target]:
    """The owner id ``prefix`` names and its ledger partition.

    One Scan filtered on the owner records' sort key (``OWNER#<id>``), projecting only keys;
    the owner itself is then read with ``Ledger.query``.
    """
    if not re.fullmatch(rf"[0-9a-f]{{{MIN_PREFIX},32}}", prefix):
        raise CliError(
            f"owner {prefix[:40]!r}: not an owner id (at least {MIN_PREFIX} of the 32 hex "
            "digits `status` and `orphans` print)"
        )
    found: set[tuple[str, Target]] = set()
    for item in reader.scan_keys(f"OWNER#{prefix}"):
        target = partition_target(item["pk"]["S"])
        if target is not None:
            found.add((item["sk"]["S"].partition("#")[2], target))
    if not found:
        raise CliError(f"owner {prefix}: not in ledger table {reader.ledger.table_name}")
    if len(found) > 1:
        raise CliError(f"owner {prefix}: matches {len(found)} owners; give more of its id")
    return found.pop()


def run(args: argparse.Namespace, reader: Reader, secrets: SecretReader) -> Report:
    owner, target = find_owner(reader, args.owner)
    ledger = reader.ledger.query(target.user_pool_id, target.username)
    record = ledger.owners.get(owner)
    if record is None:
        raise CliError(f"owner {owner}: not in ledger table {reader.ledger.table_name}")
    try:
        live: dict[str, str] | None = dict(reader.user(target).attributes)
    except UserNotFound:
        live = None
    rows = (
        ()
        if live is None
        else explain(
            owner=owner, desired=None, ledger=ledger, live=live, on_release=OnDelete.RESTORE
        )[1]
    )
    step = UserPlan(
        user_pool_id=target.user_pool_id,
        username=target.username,
        logical_id=record.origin.logical_resource_id,
        owner_id=owner,
        action="release",
        attributes=rows,
        note=""
        if live is not None
        else "the user (or its pool) no longer exists: only the ledger is released",
        changes_ledger=True,
    )
    result = report(
        [step], reveal=args.show_values, destroy=False, title=f"seed-users release {owner}"
    )
    document = {**result.document, "command": "release", "applied": False}
    if not args.apply:
        return Report(
            document=document,
            tables=result.tables,
            summary=[f"Dry run: nothing written. Release owner {owner} with --apply."],
        )
    lifecycle = AttributeLifecycle(reader.cognito, reader.ledger, secrets=secrets)
    deadline = Deadline(
        int(time.time() * 1000) + RELEASE_SECONDS * 1000, now_ms=lambda: int(time.time() * 1000)
    )
    if lifecycle.release_by_hand(owner, target, deadline) is None:
        raise CliError(f"owner {owner}: released by someone else meanwhile; nothing written")
    return Report(
        document={**document, "applied": True},
        tables=result.tables,
        summary=[
            f"Released owner {owner} by hand: claims released, originals restored where it was "
            "the last owner; the ledger records the release."
        ],
    )
