"""A pure stand-in for Cognito and the ledger, to perform the core's plans without AWS.

``perform`` runs a ``Plan`` in the order its docstring prescribes (release writes, ledger
transaction, claim writes) over a plain dict of live attributes, and checks that every ledger
change was planned against the ledger it is applied to (what DynamoDB's conditions enforce).
"""

from __future__ import annotations

from collections.abc import Mapping

from user_attributes.model import ABSENT, Claim, OnDelete, UserLedger, Value
from user_attributes.plan import Plan, apply_writes, plan_reconcile


def commit(ledger: UserLedger, plan: Plan) -> UserLedger:
    """The ledger after the plan's transaction, which must have been planned against it."""
    for change in plan.claims:
        assert ledger.claims.get(change.attribute) == change.before, change.attribute
    if plan.owner is not None:
        assert ledger.owners.get(plan.owner.owner_id) == plan.owner.before
    return plan.ledger_after(ledger)


def perform(
    plan: Plan, ledger: UserLedger, live: Mapping[str, str]
) -> tuple[UserLedger, dict[str, str]]:
    """Release writes, then the ledger transaction, then claim writes."""
    live = apply_writes(live, plan.release_writes)
    ledger = commit(ledger, plan)
    live = apply_writes(live, plan.claim_writes)
    return ledger, live


def step(
    ledger: UserLedger,
    live: Mapping[str, str],
    owner_id: str,
    desired: Mapping[str, Value] | None,
    on_release: OnDelete = OnDelete.RESTORE,
) -> tuple[Plan, UserLedger, dict[str, str]]:
    """Plan one owner's event against (ledger, live) and perform it."""
    plan = plan_reconcile(
        owner_id=owner_id, desired=desired, ledger=ledger, live=live, on_release=on_release
    )
    ledger, after = perform(plan, ledger, live)
    return plan, ledger, after


def value_of(live: Mapping[str, str], name: str) -> Value:
    return live.get(name, ABSENT)


def live_value_of_latest(claim: Claim) -> Value:
    return claim.owners[claim.latest_owner()].value


def owners_of(ledger: UserLedger) -> dict[str, frozenset[str]]:
    """owner id -> the attributes whose claims list it (to compare with the owner records)."""
    held: dict[str, set[str]] = {}
    for name, claim in ledger.claims.items():
        for owner in claim.owners:
            held.setdefault(owner, set()).add(name)
    return {owner: frozenset(names) for owner, names in held.items()}


def records_of(ledger: UserLedger) -> dict[str, frozenset[str]]:
    return {owner: record.attributes for owner, record in ledger.owners.items()}
