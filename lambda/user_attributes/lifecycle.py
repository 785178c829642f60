"""Create, Update and Delete: read, decide, perform.

Each step reads the user, the ledger and the pool's schema, lets the pure core decide
(``steps``: refusals, replacements, duplicates; ``plan.plan_reconcile``: the claims and the
writes), then performs the plan in the order that never loses an original: put released
attributes back, commit the ledger, then write the declared values. A failure after the first
write is undone by reconciling the owner back to what the ledger said it declared before
(nothing, for a new owner), and reported FAILED with the physical id CloudFormation must use
for its next event.

Events for one user are processed one at a time and in order (one SQS FIFO message group per
user), so no step of the same owner runs concurrently with this one. An event can still be
delivered more than once: a re-run finds its own claims and writes only what is not live yet,
and a duplicate of a request whose owner a Delete released is refused (``steps``). Another
stack sharing the user may still commit between our read and our transaction: every ledger
write is conditioned on the versions read and retried on conflict.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Final

from . import steps
from .cognito import CognitoUsers
from .errors import (
    InvalidDeclaration,
    LedgerConflict,
    PoolNotFound,
    UserAttributesError,
    UserNotFound,
)
from .identity import PhysicalId, owner_id, parse_physical_id
from .invocation import (
    Deadline,
    Outcome,
    ResourceEvent,
    lenient_delete_options,
    provisional_physical_id,
)
from .ledger import Ledger
from .model import (
    CanonicalUser,
    Declared,
    OnDelete,
    OwnerOrigin,
    SecretRef,
    Target,
    UserLedger,
)
from .plan import (
    CognitoWrites,
    Plan,
    declared_values,
    plan_reconcile,
    references_needed,
    verified_first,
)
from .properties import parse_properties, value_problem
from .schema import as_stored, schema_problems
from .secrets import SecretReader, SecretUnavailable

logger = logging.getLogger(__name__)

CONFLICT_ATTEMPTS: Final = 5


class AttributeLifecycle:
    """The custom resource's behaviour, independent of crhelper and of the Lambda runtime."""

    def __init__(
        self,
        cognito: CognitoUsers,
        ledger: Ledger,
        *,
        secrets: SecretReader | None = None,
        region: str | None = None,
    ) -> None:
        self._cognito = cognito
        self._ledger = ledger
        self._secrets = secrets
        self._region = region

    # -- Create and Update ---------------------------------------------------------------

    def create(self, event: ResourceEvent, deadline: Deadline) -> Outcome:
        """Set the declared values, recording originals first. FAILED leaves nothing claimed.

        A re-delivered Create that finds its own claims answers SUCCESS with the same id and
        writes only what is not live yet; one whose owner a Delete released is refused.
        """
        try:
            declaration = parse_properties(event.properties)
        except InvalidDeclaration as error:
            return Outcome(provisional_physical_id(event), f"invalid properties: {error}")
        owner = owner_id(event.stack_id, event.logical_resource_id, declaration.target)
        return self._apply(
            event,
            owner,
            deadline,
            target=declaration.target,
            lookup=declaration.target,
            desired=declaration.attributes,
            client_metadata=declaration.client_metadata,
            failure_physical_id=None,
        )

    def update(self, event: ResourceEvent, deadline: Deadline) -> Outcome:
        """Diff against what the owner holds; a new target user is a replacement (new id).

        A rollback Update (old and new properties swapped) is an ordinary Update; when it
        rolls back a replacement, it also releases what that replacement left on the other
        user.
        """
        sent_id = event.physical_resource_id or provisional_physical_id(event)
        try:
            declaration = parse_properties(event.properties)
        except InvalidDeclaration as error:
            return Outcome(sent_id, f"invalid properties: {error}")
        owner = owner_id(event.stack_id, event.logical_resource_id, declaration.target)
        sent = parse_physical_id(sent_id)
        target = steps.update_target(owner, declaration.target, sent)
        outcome = self._apply(
            event,
            owner,
            deadline,
            target=declaration.target,
            lookup=target.lookup,
            desired=declaration.attributes,
            client_metadata=declaration.client_metadata,
            failure_physical_id=sent_id,
            owner_must_exist=target.same_owner,
        )
        if outcome.error is not None:
            return outcome
        stale = (
            steps.failed_replacement(
                stack_id=event.stack_id,
                logical_resource_id=event.logical_resource_id,
                target=declaration.target,
                old_properties=event.old_properties,
            )
            if target.same_owner
            else None
        )
        if stale is not None:
            _, stale_metadata = lenient_delete_options(event.old_properties or {})
            try:
                self._release(
                    *stale,
                    OnDelete.RESTORE,
                    stale_metadata,
                    deadline,
                    id_names_partition=False,
                )
            except UserAttributesError as error:
                return Outcome(sent_id, f"could not release the failed replacement's user: {error}")
        return Outcome(steps.update_answer_id(sent_id, sent, outcome.physical_id))

    def _apply(
        self,
        event: ResourceEvent,
        owner: str,
        deadline: Deadline,
        *,
        target: Target,
        lookup: Target,
        desired: Mapping[str, Declared],
        client_metadata: Mapping[str, str],
        failure_physical_id: str | None,
        owner_must_exist: bool = False,
    ) -> Outcome:
        fallback = failure_physical_id or str(
            PhysicalId(owner, target.user_pool_id, target.username)
        )
        refused = steps.region_refusal(target.user_pool_id, self._region)
        if refused:
            return Outcome(fallback, refused)
        try:
            user = self._cognito.admin_get_user(lookup)
        except PoolNotFound:
            return Outcome(
                fallback,
                "AdminGetUser failed: ResourceNotFoundException: UserPoolId: no such user pool "
                f"{target.user_pool_id}",
            )
        except UserNotFound as error:
            return Outcome(
                fallback,
                f"AdminGetUser failed: {error.code}: Username: no such user in user pool "
                f"{target.user_pool_id}",
            )
        except UserAttributesError as error:
            return Outcome(fallback, str(error))
        physical_id = str(PhysicalId(owner, target.user_pool_id, user.username))
        failure_id = failure_physical_id or physical_id
        secrets: dict[SecretRef, str] = {}
        try:
            problems = self._secret_problems(desired, secrets)
            concrete = {
                name: secrets[value] if isinstance(value, SecretRef) else value
                for name, value in desired.items()
                if not isinstance(value, SecretRef) or value in secrets
            }
            pool = self._cognito.describe_user_pool(target.user_pool_id)
            problems += schema_problems(concrete, pool.schema)
            if problems:
                return Outcome(failure_id, "invalid attributes: " + "; ".join(problems))
            before, plan = self._commit(
                owner,
                user,
                as_stored(desired, pool),
                OnDelete.RESTORE,
                deadline,
                client_metadata=client_metadata,
                secrets=secrets,
                request_id=event.request_id,
                origin=OwnerOrigin(event.stack_id, event.logical_resource_id, physical_id),
                owner_must_exist=owner_must_exist,
            )
        except UserAttributesError as error:
            return Outcome(failure_id, str(error))
        try:
            self._write(user, plan.claim_writes, client_metadata, deadline)
        except UserAttributesError as error:
            reason = self._undo(
                owner,
                deadline,
                user=user,
                before=before,
                client_metadata=client_metadata,
                cause=error,
            )
            return Outcome(failure_id, reason)
        _log_step("applied", owner, plan)
        return Outcome(physical_id)

    def _undo(
        self,
        owner: str,
        deadline: Deadline,
        *,
        user: CanonicalUser,
        before: UserLedger,
        client_metadata: Mapping[str, str],
        cause: UserAttributesError,
    ) -> str:
        """Put the owner back to what it declared before this step; the FAILED reason."""
        try:
            current = self._cognito.admin_get_user(Target(user.user_pool_id, user.username))
            _, plan = self._commit(
                owner,
                current,
                declared_values(before, owner),
                OnDelete.RESTORE,
                deadline,
                client_metadata=client_metadata,
            )
            self._write(current, plan.claim_writes, client_metadata, deadline)
        except UserAttributesError as undo_error:
            logger.error("owner %s: undo failed: %s", owner[:12], undo_error)
            return f"{cause} (undo failed: {undo_error})"
        _log_step("undone", owner, plan)
        return f"{cause} (changes undone)"

    # -- Delete --------------------------------------------------------------------------

    def delete(self, event: ResourceEvent, deadline: Deadline) -> Outcome:
        """Release every claim of this owner; restore where it was the last owner.

        The owner comes from our physical id, else (CloudFormation invented the id because
        the Create never answered) from the event. A rollback never sticks: an owner the ledger
        does not know (any refused or failed Create), properties that never parsed, or a user
        or pool that no longer exists, is SUCCESS with nothing written to Cognito. FAILED
        means something may need restoring and could not be; its Reason says how to release.
        The request that created the owner is declared dead, so that a late duplicate of it
        (queued behind this Delete) seeds nothing.
        """
        sent_id = event.physical_resource_id or provisional_physical_id(event)
        on_release, client_metadata = lenient_delete_options(event.properties)
        ours = parse_physical_id(sent_id)
        if ours is not None:
            owner, target = ours.owner_id, Target(ours.user_pool_id, ours.username)
        else:
            try:
                target = parse_properties(event.properties).target
            except InvalidDeclaration:
                # A Create with these properties was refused before it could claim anything.
                return Outcome(sent_id)
            owner = owner_id(event.stack_id, event.logical_resource_id, target)
        try:
            self._release(
                owner,
                target,
                on_release,
                client_metadata,
                deadline,
                id_names_partition=ours is not None,
            )
        except UserAttributesError as error:
            return Outcome(
                sent_id,
                f"{error}; retry, or skip this resource and release owner {owner[:12]} by hand "
                "(README runbook)",
            )
        return Outcome(sent_id)

    def release_by_hand(self, owner: str, target: Target, deadline: Deadline) -> Plan | None:
        """An operator's release of ``owner`` (``seed-users release --apply``): what a Delete
        with our physical id does (release every claim, restore where it was the last owner,
        declare its creating request dead), and a ledger mark that it was released by hand,
        so that CloudFormation's next Update of that resource claims anew instead of being
        refused. ``target`` is the owner's partition (pool and canonical username). Returns
        the committed plan, or None when the ledger does not know the owner."""
        return self._release(
            owner,
            target,
            OnDelete.RESTORE,
            {},
            deadline,
            id_names_partition=True,
            release=steps.Release.BY_HAND,
        )

    def _release(
        self,
        owner: str,
        target: Target,
        on_release: OnDelete,
        client_metadata: Mapping[str, str],
        deadline: Deadline,
        *,
        id_names_partition: bool,
        release: steps.Release = steps.Release.CLOUDFORMATION,
    ) -> Plan | None:
        """Release every claim ``owner`` holds on ``target``'s user (restoring as the last
        owner), and declare the request that created it dead: a duplicate of that request
        (a Create, or a replacement's Update) delivered later claims nothing.

        With ``id_names_partition`` (our physical id: pool and canonical username) the ledger
        is read first and Cognito only when the owner holds something: a Delete after a Create
        refused for a missing pool or user, or for a pool id that is not one, calls nothing
        that can fail on it. Otherwise the declared name may be an alias, so the user is read
        first for the canonical name its partition uses.
        """
        if id_names_partition:
            ledger = self._ledger.query(target.user_pool_id, target.username)
            user, canonical = (
                self._lookup(target)
                if owner in ledger.owners
                else (None, CanonicalUser(target.user_pool_id, target.username, {}))
            )
        else:
            user, canonical = self._lookup(target)
            ledger = self._ledger.query(canonical.user_pool_id, canonical.username)
        if owner not in ledger.owners:
            logger.info("owner %s: not in the ledger, nothing to release", owner[:12])
            return None
        _, plan = self._commit(
            owner,
            canonical,
            None,
            on_release,
            deadline,
            client_metadata=client_metadata,
            ledger=ledger,
            write_cognito=user is not None,
            release=release,
        )
        _log_step(release.value, owner, plan)
        return plan

    def _lookup(self, target: Target) -> tuple[CanonicalUser | None, CanonicalUser]:
        """The user (None if it or its pool no longer exists) and the identity its ledger
        partition uses."""
        try:
            user = self._cognito.admin_get_user(target)
        except UserNotFound:
            return None, CanonicalUser(target.user_pool_id, target.username, {})
        return user, user

    # -- shared steps --------------------------------------------------------------------

    def _commit(
        self,
        owner: str,
        user: CanonicalUser,
        desired: Mapping[str, Declared] | None,
        on_release: OnDelete,
        deadline: Deadline,
        *,
        client_metadata: Mapping[str, str],
        secrets: dict[SecretRef, str] | None = None,
        ledger: UserLedger | None = None,
        write_cognito: bool = True,
        release: steps.Release | None = None,
        request_id: str = "",
        origin: OwnerOrigin | None = None,
        owner_must_exist: bool = False,
    ) -> tuple[UserLedger, Plan]:
        """Decide, put released attributes back, commit the ledger; when another stack's
        owner changed the ledger in between, read both again and retry. Returns the ledger as
        read, and the committed plan."""
        resolved = {} if secrets is None else secrets
        conflict: LedgerConflict | None = None
        for attempt in range(CONFLICT_ATTEMPTS):
            if ledger is None:
                ledger = self._ledger.query(user.user_pool_id, user.username)
            refused = steps.ledger_refusal(
                owner=owner,
                desired=desired,
                ledger=ledger,
                request_id=request_id,
                owner_must_exist=owner_must_exist,
                table_name=self._ledger.table_name,
            )
            if refused is not None:
                raise refused
            self._read_secrets(references_needed(ledger, owner, desired), resolved)
            plan = plan_reconcile(
                owner_id=owner,
                desired=desired,
                ledger=ledger,
                live=user.attributes,
                on_release=on_release,
                resolved=resolved,
                request_id=request_id,
                origin=origin,
            )
            marks = steps.release_marks(owner, ledger.owners.get(owner), release)
            if write_cognito:
                try:
                    self._write(user, plan.release_writes, client_metadata, deadline)
                except UserNotFound:
                    if desired is not None:
                        raise
                    # Another actor deleted the user (or its pool) after our read: nothing is
                    # left to restore, and the release only has the ledger to settle.
                    logger.info("owner %s: the user is gone, nothing to restore", owner[:12])
                    write_cognito = False
            if plan.changes_ledger or marks:
                deadline.check()
                try:
                    self._ledger.transact(
                        user.user_pool_id,
                        user.username,
                        claims=plan.claims,
                        owner=plan.owner,
                        marks=marks,
                    )
                except LedgerConflict as error:
                    conflict = error
                    logger.info("owner %s: ledger conflict, attempt %d", owner[:12], attempt + 1)
                    ledger = None
                    if write_cognito:
                        user = self._cognito.admin_get_user(
                            Target(user.user_pool_id, user.username)
                        )
                    continue
            return ledger, plan
        assert conflict is not None  # every attempt ended in one
        raise LedgerConflict(
            conflict.reason, f"the ledger kept changing during {CONFLICT_ATTEMPTS} attempts"
        )

    def _secret_problems(
        self, desired: Mapping[str, Declared], secrets: dict[SecretRef, str]
    ) -> list[str]:
        """Read the declaration's references; what cannot be read, or is not a valid value for
        its attribute, is a problem naming the attribute (never the value)."""
        problems: list[str] = []
        for name, value in desired.items():
            if not isinstance(value, SecretRef):
                continue
            region = value.region()
            if self._region and region and region != self._region:
                problems.append(
                    f"{name}: the secret is in {region}; this function runs in {self._region}"
                    " (reference a secret in the function's Region)"
                )
                continue
            try:
                self._read_secrets({value}, secrets)
            except SecretUnavailable as error:
                problems.append(f"{name}: {error}")
                continue
            problem = value_problem(name, secrets[value])
            if problem:
                problems.append(f"{name}: the referenced {problem}")
        return problems

    def _read_secrets(self, references: Iterable[SecretRef], secrets: dict[SecretRef, str]) -> None:
        missing = [reference for reference in references if reference not in secrets]
        if not missing:
            return
        if self._secrets is None:
            raise SecretUnavailable("secret references are not supported by this handler")
        secrets.update(self._secrets.read_all(missing))

    def _write(
        self,
        user: CanonicalUser,
        writes: CognitoWrites,
        client_metadata: Mapping[str, str],
        deadline: Deadline,
    ) -> None:
        """Perform ``writes``; each call starts only while ``deadline`` allows.

        The pool's verification settings matter only for an address going out unverified,
        so a Delete reads them (DescribeUserPool, cached) only then.
        """
        if writes.unverified_contacts:
            pool = self._cognito.describe_user_pool(user.user_pool_id)
            writes = verified_first(writes, pool.verify_before_update)
        for update in (writes.update, writes.settle):
            if update:
                deadline.check()
                self._cognito.admin_update_user_attributes(user, update, client_metadata)
        if writes.delete:
            deadline.check()
            self._cognito.admin_delete_user_attributes(user, writes.delete)


def _log_step(step: str, owner: str, plan: Plan) -> None:
    logger.info(
        "owner %s %s: ledger items %d, wrote %s, deleted %s, restored %s",
        owner[:12],
        step,
        len(plan.claims) + (plan.owner is not None),
        sorted(plan.release_writes.update.keys() | plan.claim_writes.update.keys()),
        sorted(plan.release_writes.delete | plan.claim_writes.delete),
        sorted(plan.restored),
    )
