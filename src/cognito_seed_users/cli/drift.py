"""``drift``: what changed outside deploys, per user and attribute.

- ``edited``: a claimed attribute whose live value differs from the value the claim's winning
  owner (the one that applied last) declared: someone edited it (console, another tool).
- ``unclaimed``: a claim without owners whose live value differs from the original the ledger
  still holds.
- ``user missing``: the ledger holds claims on a user that no longer exists.

A value declared by reference is not compared (the tool never reads secrets): its row says so
and does not count as drift. Values are compared before they are redacted.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from dataclasses import dataclass

from user_attributes.errors import UserNotFound
from user_attributes.model import ABSENT, Declared, SecretRef, Target, UserLedger, Value

from .output import Report, TableData, document, shown, text
from .owners import in_stack
from .reads import Reader
from .status import select


@dataclass(frozen=True)
class Drift:
    name: str
    kind: str
    """``edited``, ``unclaimed``, ``not compared`` (a reference) or ``user missing``."""
    live: Value | None
    expected: Declared | None
    owner_id: str | None = None

    @property
    def drifted(self) -> bool:
        return self.kind != "not compared"


def find_drift(ledger: UserLedger, live: Mapping[str, str] | None) -> list[Drift]:
    """Every drifted claim of one user (``live`` None: the user no longer exists)."""
    if live is None:
        return [Drift("", "user missing", None, None)] if ledger.claims else []
    found = []
    for name, claim in sorted(ledger.claims.items()):
        now = live.get(name, ABSENT)
        if not claim.owners:
            if now != claim.original:
                found.append(Drift(name, "unclaimed", now, claim.original))
            continue
        winner = claim.latest_owner()
        declared = claim.owners[winner].value
        if isinstance(declared, SecretRef):
            found.append(Drift(name, "not compared", now, declared, winner))
        elif now != declared:
            found.append(Drift(name, "edited", now, declared, winner))
    return found


def run(args: argparse.Namespace, reader: Reader) -> tuple[Report, bool]:
    targets = select(reader.partitions(), username=args.user, user_pool_id=args.user_pool_id)
    ledgers = reader.ledgers(targets)
    chosen = [
        (target, ledger)
        for target, ledger in zip(targets, ledgers, strict=True)
        if ledger.claims
        and (
            args.stack is None
            or any(in_stack(record.origin, args.stack) for record in ledger.owners.values())
        )
    ]

    def live(item: tuple[Target, UserLedger]) -> Mapping[str, str] | None:
        try:
            return reader.user(item[0]).attributes
        except UserNotFound:
            return None  # the user (or its pool) was deleted

    lives = reader.map(chosen, live, label="reading users")
    reveal = args.show_values
    users = []
    rows: list[list[str]] = []
    count = 0
    for (target, ledger), attributes in zip(chosen, lives, strict=True):
        found = find_drift(ledger, attributes)
        count += sum(item.drifted for item in found)
        if not found:
            continue
        users.append(
            {
                "user_pool_id": target.user_pool_id,
                "username": target.username,
                "drift": [
                    {
                        "name": item.name,
                        "kind": item.kind,
                        "live": None if item.live is None else shown(item.live, reveal=reveal),
                        "expected": None
                        if item.expected is None
                        else shown(item.expected, reveal=reveal),
                        "owner_id": item.owner_id,
                    }
                    for item in found
                ],
            }
        )
        rows.extend(
            [
                f"{target.username} ({target.user_pool_id})",
                item.name,
                item.kind,
                text(item.live, reveal=reveal),
                text(item.expected, reveal=reveal),
                (item.owner_id or "")[:12],
            ]
            for item in found
        )
    drifted = count > 0
    return (
        Report(
            document=document("drift", reveal=reveal, changes=drifted, users=users),
            tables=[
                TableData(
                    "seed-users drift",
                    ["User", "Attribute", "Drift", "Live", "Expected", "Owner"],
                    rows,
                )
            ],
            summary=[
                f"Drift: {count} attribute(s) on {len(users)} user(s) differ from the ledger."
                if drifted
                else f"No drift: {len(chosen)} user(s) match what the ledger says."
            ],
        ),
        drifted,
    )
