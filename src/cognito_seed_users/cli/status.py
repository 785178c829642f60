"""``status``: what the ledger holds, per user: each claim, whether its original exists (its
value only with ``--show-values``), each owner's declared value (redacted), and each owner
with its stack, logical id and physical id. Reads only the ledger (no Cognito call).

``--user`` (a canonical username; ``--user-pool-id`` narrows the pool) and ``--stack`` (owners
that stack or its nested stacks made, see ``owners``) filter what is listed.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from user_attributes.model import Target, UserLedger

from .errors import CliError
from .output import Report, TableData, document, shown, text
from .owners import in_stack, stack_name_of
from .reads import Reader


def select(
    partitions: Sequence[Target], *, username: str | None, user_pool_id: str | None
) -> list[Target]:
    """The partitions ``--user``/``--user-pool-id`` ask for (all without them)."""
    return [
        target
        for target in partitions
        if (username is None or target.username == username)
        and (user_pool_id is None or target.user_pool_id == user_pool_id)
    ]


def visible_owners(ledger: UserLedger, stack: str | None) -> set[str]:
    """The owners to list: all, or those ``stack`` made."""
    return {
        owner
        for owner, record in ledger.owners.items()
        if stack is None or in_stack(record.origin, stack)
    }


def run(args: argparse.Namespace, reader: Reader) -> Report:
    targets = select(reader.partitions(), username=args.user, user_pool_id=args.user_pool_id)
    if args.user is not None and not targets:
        raise CliError(
            f"user {args.user} is not in ledger table {reader.ledger.table_name} (give the "
            "canonical username; an alias is not a ledger key)"
        )
    ledgers = reader.ledgers(targets)
    reveal = args.show_values
    users = []
    claim_rows: list[list[str]] = []
    owner_rows: list[list[str]] = []
    for target, ledger in zip(targets, ledgers, strict=True):
        owners = visible_owners(ledger, args.stack)
        if args.stack is not None and not owners:
            continue
        who = f"{target.username} ({target.user_pool_id})"
        claims = []
        for name, claim in sorted(ledger.claims.items()):
            if args.stack is not None and not owners & set(claim.owners):
                continue
            latest = claim.latest_owner() if claim.owners else None
            claims.append(
                {
                    "name": name,
                    "original": shown(claim.original, reveal=reveal),
                    "owners": [
                        {
                            "owner_id": owner,
                            "declared": shown(held.value, reveal=reveal),
                            "latest": owner == latest,
                        }
                        for owner, held in sorted(claim.owners.items())
                    ],
                }
            )
            claim_rows.append(
                [
                    who,
                    name,
                    text(claim.original, reveal=reveal),
                    ", ".join(
                        f"{owner[:12]}{'*' if owner == latest else ''}="
                        f"{text(held.value, reveal=reveal)}"
                        for owner, held in sorted(claim.owners.items())
                    ),
                ]
            )
        owner_documents = []
        for owner in sorted(owners):
            record = ledger.owners[owner]
            origin = record.origin
            owner_documents.append(
                {
                    "owner_id": owner,
                    "stack_id": origin.stack_id,
                    "stack_name": stack_name_of(origin.stack_id) if origin.stack_id else "",
                    "logical_id": origin.logical_resource_id,
                    "physical_id": origin.physical_id,
                    "attributes": sorted(record.attributes),
                }
            )
            owner_rows.append(
                [
                    owner,
                    who,
                    stack_name_of(origin.stack_id) if origin.stack_id else "(unknown)",
                    origin.logical_resource_id or "(unknown)",
                    origin.physical_id or "(unknown)",
                    ", ".join(sorted(record.attributes)),
                ]
            )
        users.append(
            {
                "user_pool_id": target.user_pool_id,
                "username": target.username,
                "claims": claims,
                "owners": owner_documents,
                "released_by_hand": sorted(ledger.released_by_hand),
            }
        )
    return Report(
        document=document(
            "status", reveal=reveal, ledger_table=reader.ledger.table_name, users=users
        ),
        tables=[
            TableData(
                "Claims (* = the owner whose value is live)",
                ["User", "Attribute", "Original", "Owners and declared values"],
                claim_rows,
            ),
            TableData(
                "Owners",
                ["Owner", "User", "Stack", "Logical id", "Physical id", "Attributes"],
                owner_rows,
            ),
        ],
        summary=[f"{len(users)} user(s), {len(owner_rows)} owner(s), {len(claim_rows)} claim(s)."],
    )
