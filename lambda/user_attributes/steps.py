"""The lifecycle's decisions over what it read: which requests are refused, which owner a
replacement left behind, what a duplicate delivery may do, which id to answer with.

Pure functions (no AWS client, no crhelper, no environment); ``lifecycle`` reads the user, the
ledger and the schema, asks these, and performs the answer.

Events for one user arrive one at a time and in order (one SQS FIFO message group per user),
so a Delete never runs while its resource's Create or Update is still running. What remains
is at-least-once delivery: a Create delivered again after its rollback Delete released the
owner (the duplicate is queued behind that Delete), and the retry of an event whose worker died.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum

from .errors import CreateRefused, OwnerUnknown, UserAttributesError
from .identity import PhysicalId, owner_id
from .invocation import lenient_target
from .model import NO_MARKS, Declared, OwnerRecord, ReleaseMarks, Target, UserLedger


def region_refusal(user_pool_id: str, function_region: str | None) -> str | None:
    """Cognito answers only in the pool's Region; a pool id starts with its Region."""
    pool_region = user_pool_id.split("_", 1)[0]
    if function_region and pool_region != function_region:
        return (
            f"UserPoolId: the pool is in {pool_region}; this function runs in {function_region}"
            " (deploy a stack in the pool's Region)"
        )
    return None


def ledger_refusal(
    *,
    owner: str,
    desired: Mapping[str, Declared] | None,
    ledger: UserLedger,
    request_id: str,
    owner_must_exist: bool,
    table_name: str,
) -> UserAttributesError | None:
    """Why this step must write nothing, given the ledger it read (None: it may proceed).

    Only a step that would make ``owner`` new is refused: an owner the ledger already knows
    is the retry of a step that committed, and re-running it is idempotent.
    - ``owner_must_exist`` (an Update carrying our id for this owner): the ledger that recorded
      its originals is gone, so live values are not originals; unless an operator released
      this owner by hand, which restored the originals (the ledger says so).
    - ``request_id`` is dead: a Delete released the owner this request created; this delivery
      is a late duplicate that no later event would release.
    """
    if owner in ledger.owners or not desired:
        return None
    if owner_must_exist and owner not in ledger.released_by_hand:
        return OwnerUnknown(
            f"owner {owner[:12]} unknown to ledger table {table_name} "
            "(replaced?): live values are not originals, nothing written; restore "
            "that ledger or release by hand (README runbook)"
        )
    if request_id in ledger.dead_requests.get(owner, frozenset()):
        return CreateRefused(
            "a Delete already released this request's resource; refusing its late duplicate"
        )
    return None


def dead_requests(owner: str, record: OwnerRecord | None) -> dict[str, frozenset[str]]:
    """What a release of ``owner`` declares dead: the request that created it, so that a
    duplicate delivery of that request, queued behind this Delete, creates nothing."""
    if record is None or not record.created_by:
        return {}
    return {owner: frozenset({record.created_by})}


class Release(Enum):
    """Who releases an owner: CloudFormation (a Delete, or the rollback of a failed
    replacement), or an operator by hand (``seed-users release --apply``)."""

    CLOUDFORMATION = "released"
    BY_HAND = "released by hand"


def release_marks(owner: str, record: OwnerRecord | None, release: Release | None) -> ReleaseMarks:
    """Every release declares the owner's creating request dead (``dead_requests``); one by hand
    also marks the owner, so that CloudFormation's next Update carrying our id for it claims
    anew (the release restored the originals) instead of being refused as an unknown owner."""
    if release is None:
        return NO_MARKS
    return ReleaseMarks(
        dead_requests=dead_requests(owner, record),
        released_by_hand=frozenset({owner}) if release is Release.BY_HAND else frozenset(),
    )


@dataclass(frozen=True)
class UpdateTarget:
    """Who an Update is about, decided from the event alone."""

    same_owner: bool
    """Our id names this very owner: a Create succeeded for it, so the ledger must know it."""
    lookup: Target
    """The user to read: the canonical name our id carries for the same owner (the declared
    name may be an address this owner changed, or an alias), else the declared target."""


def update_target(owner: str, declared: Target, sent: PhysicalId | None) -> UpdateTarget:
    if sent is not None and sent.owner_id == owner:
        return UpdateTarget(True, Target(sent.user_pool_id, sent.username))
    return UpdateTarget(False, declared)


def failed_replacement(
    *,
    stack_id: str,
    logical_resource_id: str,
    target: Target,
    old_properties: Mapping[str, object] | None,
) -> tuple[str, Target] | None:
    """The owner a failed (or never answered) replacement left on another user, and that user
    as declared, when an Update for the owner our id names carries it as the old target.

    This is CloudFormation's rollback of that replacement: it sends the id it still knows with
    the old target swapped back, and never learns of (so never deletes) the owner the failed
    attempt made on the other user.
    """
    old_target = lenient_target(old_properties or {})
    if old_target is None or old_target == target:
        return None
    return owner_id(stack_id, logical_resource_id, old_target), old_target


def update_answer_id(sent_id: str, sent: PhysicalId | None, applied_id: str) -> str:
    """Keep the id CloudFormation knows unless the owner or its partition moved: a new id is a
    replacement, and CloudFormation then deletes the old one."""
    if sent is None or str(sent) == applied_id:
        return sent_id
    return applied_id
