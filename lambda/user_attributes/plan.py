"""The pure core: what one owner's event changes in the ledger and in Cognito.

Every lifecycle step is the same question: bring owner ``O`` from what the ledger says it holds
to a desired declaration (``None`` = hold nothing). ``plan_reconcile`` answers it over plain
data; the caller performs the plan in a crash-safe order (see ``Plan``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from .model import (
    ABSENT,
    Claim,
    Declared,
    OnDelete,
    OwnerOrigin,
    OwnerRecord,
    OwnerValue,
    SecretRef,
    UserLedger,
    Value,
)
from .properties import VERIFIED_FLAG


@dataclass(frozen=True)
class ClaimChange:
    """Replace ``before`` (None: must not exist yet) by ``after`` (None: delete the claim)."""

    attribute: str
    before: Claim | None
    after: Claim | None


@dataclass(frozen=True)
class OwnerChange:
    """Replace the owner's record ``before`` (None: new owner) by ``after`` (None: forget it)."""

    owner_id: str
    before: OwnerRecord | None
    after: OwnerRecord | None


@dataclass(frozen=True)
class CognitoWrites:
    """In this order: one AdminUpdateUserAttributes call (``update``), a second one that sets
    verified flags back (``settle``, only in pools that verify before update), and one
    AdminDeleteUserAttributes call (``delete``); each only when it has something to send."""

    update: Mapping[str, str] = field(default_factory=dict)
    delete: frozenset[str] = frozenset()
    settle: Mapping[str, str] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.update or self.delete or self.settle)

    @property
    def names(self) -> frozenset[str]:
        return frozenset(self.update) | self.delete | frozenset(self.settle)

    @property
    def unverified_contacts(self) -> frozenset[str]:
        """Addresses this update changes without vouching for them (``*_verified`` not true):
        in a pool that verifies them before update, Cognito would hold them back."""
        return frozenset(
            address
            for address, flag in VERIFIED_FLAG.items()
            if address in self.update and self.update.get(flag) != "true"
        )


@dataclass(frozen=True)
class Plan:
    """What to do, in this order, so that no original is ever lost:

    1. ``release_writes``: put released attributes back (original, or the value of the owner
       that remains) while the ledger still holds their originals;
    2. ``claims`` and ``owner``: one ledger transaction that records new originals before
       anything overwrites them;
    3. ``claim_writes``: write the declared values.
    A crash between any two steps leaves the ledger owning at least what Cognito shows.
    """

    release_writes: CognitoWrites
    claims: tuple[ClaimChange, ...]
    owner: OwnerChange | None
    claim_writes: CognitoWrites
    restored: frozenset[str]

    @property
    def changes_ledger(self) -> bool:
        return bool(self.claims) or self.owner is not None

    def ledger_after(self, ledger: UserLedger) -> UserLedger:
        """The ledger as it is once this plan's transaction has committed."""
        claims = dict(ledger.claims)
        for change in self.claims:
            if change.after is None:
                claims.pop(change.attribute, None)
            else:
                claims[change.attribute] = change.after
        owners = dict(ledger.owners)
        if self.owner is not None:
            if self.owner.after is None:
                owners.pop(self.owner.owner_id, None)
            else:
                owners[self.owner.owner_id] = self.owner.after
        return UserLedger(
            claims=claims,
            owners=owners,
            dead_requests=ledger.dead_requests,
            released_by_hand=ledger.released_by_hand,
        )


def declared_values(ledger: UserLedger, owner_id: str) -> dict[str, Declared] | None:
    """What ``owner_id`` currently declares according to the ledger (None: not an owner)."""
    record = ledger.owners.get(owner_id)
    if record is None:
        return None
    return {
        name: ledger.claims[name].owners[owner_id].value
        for name in sorted(record.attributes)
        if name in ledger.claims and owner_id in ledger.claims[name].owners
    }


def plan_reconcile(
    *,
    owner_id: str,
    desired: Mapping[str, Declared] | None,
    ledger: UserLedger,
    live: Mapping[str, str],
    on_release: OnDelete = OnDelete.RESTORE,
    resolved: Mapping[SecretRef, str] | None = None,
    request_id: str = "",
    origin: OwnerOrigin | None = None,
) -> Plan:
    """Plan bringing ``owner_id`` to ``desired`` given the ledger and the user's live attributes.

    - A newly claimed attribute records the live value (or ABSENT) as its original; an existing
      claim keeps its original whatever the live value is now (it may be a seeded value).
    - A claimed value that changes makes this owner the latest; re-declaring the same value
      does not.
    - A released attribute goes back to the original when this owner was the last one
      (unless ``on_release`` is RETAIN), else to the latest remaining owner's value.
    - Writes are only what differs from ``live``: an unchanged declaration writes nothing.
    - The owner record keeps where it comes from (``origin``, else what it held before).
    - A declared reference is claimed as the reference (the ledger never holds what it
      resolves to); ``resolved`` gives the value to write for every reference a target needs
      (``references_needed``).
    """
    values = resolved or {}
    record = ledger.owners.get(owner_id)
    wanted: Mapping[str, Declared] = desired or {}
    held = set(record.attributes if record else ()) | {
        name for name, claim in ledger.claims.items() if owner_id in claim.owners
    }
    changes: list[ClaimChange] = []
    claim_targets: dict[str, Value] = {}
    release_targets: dict[str, Value] = {}
    restored: set[str] = set()

    for name, value in wanted.items():
        claim = ledger.claims.get(name)
        after = _claim(owner_id, name, value, claim, live)
        if after is not claim:
            changes.append(ClaimChange(name, claim, after))
        claim_targets[name] = _value(after.owners[after.latest_owner()].value, values)

    for name in sorted(held - set(wanted)):
        claim = ledger.claims.get(name)
        if claim is None:
            continue
        remaining = {owner: value for owner, value in claim.owners.items() if owner != owner_id}
        if remaining:
            after = Claim(claim.original, remaining, claim.version + 1)
            changes.append(ClaimChange(name, claim, after))
            release_targets[name] = _value(remaining[after.latest_owner()].value, values)
        else:
            changes.append(ClaimChange(name, claim, None))
            if on_release is OnDelete.RESTORE:
                release_targets[name] = claim.original
                restored.add(name)

    owner_after = (
        OwnerRecord(
            attributes=frozenset(wanted),
            version=(record.version + 1) if record else 1,
            created_by=record.created_by if record else request_id,
            origin=origin or (record.origin if record else OwnerOrigin()),
        )
        if wanted
        else None
    )
    owner_change = None
    if (
        changes
        or (record is None) != (owner_after is None)
        or (
            record is not None
            and owner_after is not None
            and record.attributes != owner_after.attributes
        )
    ):
        owner_change = OwnerChange(owner_id, record, owner_after)

    release_writes = cognito_writes(release_targets, live)
    return Plan(
        release_writes=release_writes,
        claims=tuple(changes),
        owner=owner_change,
        # Diffed against the user as the release writes leave it, so a flag restored there is
        # what travels with a changed address here.
        claim_writes=cognito_writes(claim_targets, apply_writes(live, release_writes)),
        restored=frozenset(restored),
    )


def apply_writes(live: Mapping[str, str], writes: CognitoWrites) -> dict[str, str]:
    """The user's attributes once ``writes`` succeeded."""
    after = {**live, **writes.update, **writes.settle}
    for name in writes.delete:
        after.pop(name, None)
    return after


def cognito_writes(targets: Mapping[str, Value], live: Mapping[str, str]) -> CognitoWrites:
    """The calls that make ``live`` show ``targets``, pairing addresses with verified flags.

    Cognito marks an email or phone number unverified, and sends a code, when the address
    changes without its ``*_verified`` flag in the same call, so the flag always travels with
    the address (its target value, else its live value).
    """
    update = {
        name: value
        for name, value in targets.items()
        if isinstance(value, str) and live.get(name) != value
    }
    delete = {name for name, value in targets.items() if value is ABSENT and name in live}
    for address, flag in VERIFIED_FLAG.items():
        if address not in update or flag in update:
            continue
        flag_value = targets.get(flag, live.get(flag, ABSENT))
        if isinstance(flag_value, str):
            update[flag] = flag_value
        else:
            # The flag's target is "no flag": send "false" so no code goes out, then remove it.
            update[flag] = "false"
            delete.add(flag)
    return CognitoWrites(update=update, delete=frozenset(delete))


def verified_first(writes: CognitoWrites, verify_before_update: frozenset[str]) -> CognitoWrites:
    """The writes for a pool with ``AttributesRequireVerificationBeforeUpdate``.

    There an address changed without ``*_verified=true`` in the same call stays inactive and
    Cognito sends a code to it, so an unverified original would never come back. The address
    goes out vouched for (flag true, applied at once, no message), and a second call sets the
    flag to what it must be (or the delete removes it). A crash in between leaves the right
    address with a flag the next event's diff corrects without touching the address.
    """
    held = writes.unverified_contacts & verify_before_update
    if not held:
        return writes
    update = dict(writes.update)
    settle = dict(writes.settle)
    for address in sorted(held):
        flag = VERIFIED_FLAG[address]
        if flag not in writes.delete:
            settle[flag] = update.get(flag, "false")
        update[flag] = "true"
    return CognitoWrites(update=update, delete=writes.delete, settle=settle)


def references_needed(
    ledger: UserLedger, owner_id: str, desired: Mapping[str, Declared] | None
) -> frozenset[SecretRef]:
    """Every reference ``plan_reconcile`` may have to write for this owner's step: the ones it
    declares, and those of other owners whose value it may re-apply.

    Never this owner's previous references: nothing writes them again, and by the time a
    Delete or an Update that dropped one runs, CloudFormation has already updated the policy
    that granted it (the update phase precedes the cleanup phase).
    """
    record = ledger.owners.get(owner_id)
    names = set(desired or {}) | set(record.attributes if record else ())
    declared: list[Declared] = list((desired or {}).values())
    for name in names:
        claim = ledger.claims.get(name)
        if claim is not None:
            declared.extend(held.value for owner, held in claim.owners.items() if owner != owner_id)
    return frozenset(value for value in declared if isinstance(value, SecretRef))


def _value(declared: Declared, resolved: Mapping[SecretRef, str]) -> Value:
    if not isinstance(declared, SecretRef):
        return declared
    if declared not in resolved:
        raise KeyError(f"reference not resolved before planning: {declared}")
    return resolved[declared]


def _claim(
    owner_id: str, name: str, value: Declared, claim: Claim | None, live: Mapping[str, str]
) -> Claim:
    if claim is None:
        return Claim(
            original=live.get(name, ABSENT),
            owners={owner_id: OwnerValue(value, 1)},
            version=1,
        )
    mine = claim.owners.get(owner_id)
    if mine is not None and mine.value == value:
        return claim
    version = claim.version + 1
    return Claim(claim.original, {**claim.owners, owner_id: OwnerValue(value, version)}, version)
