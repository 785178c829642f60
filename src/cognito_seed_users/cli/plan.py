"""``plan``: for each declared user and attribute, the live value now, the value after the
deploy (or ``--destroy``), and what the ledger will record.

The decision is the function's own ``plan_reconcile`` over what the tool read: the same
claims, originals, restores and writes a Create, Update or Delete would make. ``explain``
turns its answer into rows of plain data; rendering (and redaction) happens in ``output``.

Which owner a declaration is: see ``owners`` (the owner record's origin: stack and logical
id). A declaration no owner matches is a Create. An owner of the stack that no declaration
matches any more is a resource removed from the file: CloudFormation deletes it, and the plan
shows what that restores (``onDelete`` is not in the ledger, so the plan assumes RESTORE, the
default). Steps on one user are chained in CloudFormation's order (Creates and Updates, then
the cleanup Deletes), each planned over the ledger and user the previous one leaves.

A secret given by reference is never read: its value shows as the reference, and the
attribute counts as written (whether the deploy changes it is only known once it resolves).
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from user_attributes.errors import PoolNotFound, UserNotFound
from user_attributes.identity import owner_id
from user_attributes.model import (
    ABSENT,
    Declared,
    OnDelete,
    SecretRef,
    Target,
    UserLedger,
    Value,
)
from user_attributes.plan import (
    ClaimChange,
    Plan,
    apply_writes,
    plan_reconcile,
    references_needed,
)
from user_attributes.schema import as_stored, schema_problems

from .declarations import DeclaredResource, from_cloud_assembly, from_seed_file
from .errors import CliError
from .output import Report, TableData, document, shown, text
from .owners import stack_owners
from .reads import Reader, UserRead

_REFERENCE_MARK: Final = "\x00seed-users reference\x00"
"""Stands in for a referenced value while planning: no live value can equal it (Cognito values
hold no NUL), so the attribute counts as written, and it maps back to its reference."""


@dataclass(frozen=True)
class AttributePlan:
    """One attribute of one step: now, after, and the ledger's record of it."""

    name: str
    now: Value
    after: Declared
    """The value after the step; a ``SecretRef`` when a reference is written."""
    original: Value | None
    """The original the ledger holds, or will record (None: the ledger holds no claim)."""
    ledger: str
    """What the step records: ``claim (records original)``, ``restore original``..."""
    writes: bool


@dataclass(frozen=True)
class UserPlan:
    """One owner's step on one user."""

    user_pool_id: str
    username: str
    """The canonical username (the declared name may be an alias)."""
    logical_id: str
    owner_id: str
    action: str
    """``create``, ``update``, ``destroy``, ``remove`` (no longer declared), ``refused``
    (the deploy would fail validation) or ``none``."""
    attributes: tuple[AttributePlan, ...] = ()
    problems: tuple[str, ...] = ()
    note: str = ""
    changes_ledger: bool = False

    @property
    def changes(self) -> bool:
        return self.changes_ledger or any(row.writes for row in self.attributes)


def explain(
    *,
    owner: str,
    desired: Mapping[str, Declared] | None,
    ledger: UserLedger,
    live: Mapping[str, str],
    on_release: OnDelete = OnDelete.RESTORE,
) -> tuple[Plan, tuple[AttributePlan, ...]]:
    """``plan_reconcile`` for this owner, and one row per attribute it claims, releases or
    writes. References are planned with a stand-in value, never read."""
    resolved = {
        reference: f"{_REFERENCE_MARK}{reference}"
        for reference in references_needed(ledger, owner, desired)
    }
    marks = {value: reference for reference, value in resolved.items()}
    plan = plan_reconcile(
        owner_id=owner,
        desired=desired,
        ledger=ledger,
        live=live,
        on_release=on_release,
        resolved=resolved,
    )
    after = apply_writes(apply_writes(live, plan.release_writes), plan.claim_writes)
    changes = {change.attribute: change for change in plan.claims}
    written = plan.release_writes.names | plan.claim_writes.names
    names = sorted(set(desired or {}) | set(changes) | written)
    rows = []
    for name in names:
        claim = ledger.claims.get(name)
        value_after = after.get(name, ABSENT)
        rows.append(
            AttributePlan(
                name=name,
                now=live.get(name, ABSENT),
                after=marks.get(value_after, value_after)
                if isinstance(value_after, str)
                else value_after,
                original=claim.original
                if claim is not None
                else (live.get(name, ABSENT) if name in changes else None),
                ledger=ledger_effect(owner, changes.get(name), name in plan.restored),
                writes=name in written,
            )
        )
    return plan, tuple(rows)


def ledger_effect(owner: str, change: ClaimChange | None, restored: bool) -> str:
    """What one claim change records, in words (no values)."""
    if change is None:
        return "unchanged"
    if change.before is None:
        return "claim (records the live value as original)"
    if change.after is None:
        return (
            "release, last owner: restore original"
            if restored
            else "release, last owner: keep value (retain)"
        )
    if owner not in change.after.owners:
        others = len(change.after.owners)
        return f"release: {others} other owner(s) remain, the latest one's value stays"
    if owner not in change.before.owners:
        return f"claim alongside {len(change.before.owners)} other owner(s) (original kept)"
    return "owner's declared value changes"


@dataclass
class _Partition:
    """One user's steps, chained: each is planned over what the previous one leaves."""

    read: UserRead
    steps: list[UserPlan] = field(default_factory=list)
    ledger: UserLedger | None = None
    live: dict[str, str] | None = None

    def step(
        self,
        *,
        owner: str,
        logical_id: str,
        desired: Mapping[str, Declared] | None,
        action: str,
        on_release: OnDelete = OnDelete.RESTORE,
    ) -> None:
        ledger = self.ledger or self.read.ledger
        live = self.live if self.live is not None else dict(self.read.user.attributes)
        plan, rows = explain(
            owner=owner, desired=desired, ledger=ledger, live=live, on_release=on_release
        )
        self.ledger = plan.ledger_after(ledger)
        self.live = apply_writes(apply_writes(live, plan.release_writes), plan.claim_writes)
        user = self.read.user
        changed = plan.changes_ledger or bool(plan.release_writes or plan.claim_writes)
        self.steps.append(
            UserPlan(
                user_pool_id=user.user_pool_id,
                username=user.username,
                logical_id=logical_id,
                owner_id=owner,
                action=action if changed else "none",
                attributes=rows,
                changes_ledger=plan.changes_ledger,
            )
        )


def plan_declared(
    resources: Sequence[DeclaredResource],
    reads: Sequence[UserRead],
    *,
    stack_name: str,
    stack_id: str | None,
    destroy: bool,
) -> tuple[list[UserPlan], dict[Target, _Partition]]:
    """The steps of every declared resource (``reads[i]`` is ``resources[i]``'s user), then
    the removals of the stack's owners no declaration matches, on the users already read."""
    partitions: dict[Target, _Partition] = {}
    claimed: dict[Target, set[str]] = {}
    for resource, read in zip(resources, reads, strict=True):
        key = Target(read.user.user_pool_id, read.user.username)
        partition = partitions.setdefault(key, _Partition(read))
        declaration = resource.declaration
        concrete = {
            name: value
            for name, value in declaration.attributes.items()
            if not isinstance(value, SecretRef)
        }
        problems = schema_problems(concrete, read.pool.schema)
        owner = _owner_for(resource, read.ledger, stack_name, stack_id)
        claimed.setdefault(key, set()).add(owner)
        if problems and not destroy:
            partition.steps.append(
                UserPlan(
                    user_pool_id=key.user_pool_id,
                    username=key.username,
                    logical_id=resource.logical_id,
                    owner_id=owner,
                    action="refused",
                    problems=tuple(problems),
                )
            )
            continue
        known = owner in read.ledger.owners
        partition.step(
            owner=owner,
            logical_id=resource.logical_id,
            desired=None if destroy else as_stored(declaration.attributes, read.pool),
            action="destroy" if destroy else ("update" if known else "create"),
            on_release=declaration.on_delete,
        )
    for key, partition in partitions.items():
        _plan_removals(partition, stack_name, stack_id, claimed.get(key, set()))
    steps = [step for partition in partitions.values() for step in partition.steps]
    return steps, partitions


def _plan_removals(
    partition: _Partition, stack_name: str, stack_id: str | None, declared: set[str]
) -> None:
    owners = stack_owners(partition.read.ledger.owners, stack_name, stack_id)
    for owner, record in sorted(owners.items()):
        if owner not in declared:
            partition.step(
                owner=owner,
                logical_id=record.origin.logical_resource_id,
                desired=None,
                action="remove",
            )


def _owner_for(
    resource: DeclaredResource, ledger: UserLedger, stack_name: str, stack_id: str | None
) -> str:
    """The owner this declaration already is (by origin), else the one a Create makes."""
    target = resource.declaration.target
    if stack_id is not None:
        exact = owner_id(stack_id, resource.logical_id, target)
        if exact in ledger.owners:
            return exact
    matches = sorted(
        owner
        for owner, record in stack_owners(ledger.owners, stack_name, stack_id).items()
        if record.origin.logical_resource_id == resource.logical_id
    )
    if matches:
        return matches[0]
    # Not deployed yet: the id only has to differ from every other owner's.
    stack = stack_id or f"arn:aws:cloudformation:::stack/{stack_name}/not-deployed"
    return owner_id(stack, resource.logical_id, target)


# -- the command ------------------------------------------------------------------------------


def run(args: argparse.Namespace, reader: Reader) -> tuple[Report, bool]:
    """Plan; returns the report and whether anything would change."""
    if args.cdk_out is not None:
        resources = from_cloud_assembly(Path(args.cdk_out), stack_name=args.stack_name)
    else:
        resources = from_seed_file(
            Path(args.config), stack_name=args.stack_name, user_pool_id=args.user_pool_id
        )
    stack_name = args.stack_name or (resources[0].stack_name if resources else "")
    reads = reader.map(
        resources, lambda resource: _read_declared(reader, resource), label="reading users"
    )
    steps, partitions = plan_declared(
        resources, reads, stack_name=stack_name, stack_id=args.stack_id, destroy=args.destroy
    )
    steps += _undeclared_removals(reader, set(partitions), stack_name, args.stack_id)
    refused = [step for step in steps if step.action == "refused"]
    if refused:
        first = refused[0]
        raise CliError(
            f"{first.logical_id} ({first.username} in {first.user_pool_id}): the deploy would "
            f"refuse it: {'; '.join(first.problems)}"
            + (f" (and {len(refused) - 1} more)" if len(refused) > 1 else "")
        )
    return report(steps, reveal=args.show_values, destroy=args.destroy), any(
        step.changes for step in steps
    )


def _read_declared(reader: Reader, resource: DeclaredResource) -> UserRead:
    target = resource.declaration.target
    try:
        return reader.read(target)
    except PoolNotFound:
        raise CliError(
            f"{resource.logical_id}: user pool {target.user_pool_id} not found (check "
            "--region and the pool id)"
        ) from None
    except UserNotFound:
        raise CliError(
            f"{resource.logical_id}: user {target.username} not found in user pool "
            f"{target.user_pool_id} (the user must exist before the deploy)"
        ) from None


def _undeclared_removals(
    reader: Reader, seen: set[Target], stack_name: str, stack_id: str | None
) -> list[UserPlan]:
    """Removals on users no declaration names any more: the ledger's other partitions."""
    others = [target for target in reader.partitions() if target not in seen]
    ledgers = reader.ledgers(others)
    found = [
        (target, ledger)
        for target, ledger in zip(others, ledgers, strict=True)
        if stack_owners(ledger.owners, stack_name, stack_id)
    ]
    steps: list[UserPlan] = []
    for target, ledger in found:
        try:
            user = reader.user(target)
            pool = reader.cognito.describe_user_pool(target.user_pool_id)
        except UserNotFound:
            for owner, record in sorted(stack_owners(ledger.owners, stack_name, stack_id).items()):
                steps.append(
                    UserPlan(
                        user_pool_id=target.user_pool_id,
                        username=target.username,
                        logical_id=record.origin.logical_resource_id,
                        owner_id=owner,
                        action="remove",
                        note="the user (or its pool) no longer exists: the Delete only releases "
                        "the ledger",
                        changes_ledger=True,
                    )
                )
            continue
        partition = _Partition(UserRead(user, pool, ledger))
        _plan_removals(partition, stack_name, stack_id, set())
        steps.extend(partition.steps)
    return steps


def report(
    steps: Sequence[UserPlan], *, reveal: bool, destroy: bool, title: str = "seed-users plan"
) -> Report:
    """The plan as JSON and as a table (values redacted unless ``reveal``)."""
    rows = []
    for step in steps:
        for attribute in step.attributes:
            rows.append(
                [
                    f"{step.username} ({step.user_pool_id})",
                    step.action,
                    attribute.name,
                    text(attribute.now, reveal=reveal),
                    text(attribute.after, reveal=reveal),
                    "~" if attribute.writes else "",
                    attribute.ledger,
                ]
            )
        if not step.attributes:
            rows.append(
                [f"{step.username} ({step.user_pool_id})", step.action, "", "", "", "", step.note]
            )
    changed = [step for step in steps if step.changes]
    summary = [
        f"Plan: {len(changed)} of {len(steps)} resource step(s) change something; "
        f"{sum(row.writes for step in steps for row in step.attributes)} attribute write(s)."
        if changed
        else "No changes: the users and the ledger already match the declaration."
    ]
    return Report(
        document=document(
            "plan",
            reveal=reveal,
            destroy=destroy,
            changes=bool(changed),
            steps=[_step_document(step, reveal) for step in steps],
        ),
        tables=[
            TableData(
                title + (" --destroy" if destroy else ""),
                ["User", "Action", "Attribute", "Now", "After", "Write", "Ledger"],
                rows,
            )
        ],
        summary=summary,
    )


def _step_document(step: UserPlan, reveal: bool) -> dict[str, object]:
    return {
        "user_pool_id": step.user_pool_id,
        "username": step.username,
        "logical_id": step.logical_id,
        "owner_id": step.owner_id,
        "action": step.action,
        "changes": step.changes,
        "note": step.note,
        "attributes": [
            {
                "name": row.name,
                "now": shown(row.now, reveal=reveal),
                "after": shown(row.after, reveal=reveal),
                "original": None if row.original is None else shown(row.original, reveal=reveal),
                "ledger": row.ledger,
                "writes": row.writes,
            }
            for row in step.attributes
        ],
    }
