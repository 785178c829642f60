"""Create, Update and Delete: the core's plans performed through the adapters.

Each step is "bring this owner to a declaration" (``plan_reconcile``) performed in the order
that never loses an original: put released attributes back, commit the ledger, then write the
declared values. A failure after the first write is undone by reconciling the owner back to
what the ledger said it declared before (nothing, for a new owner), and reported FAILED with the
physical id CloudFormation must use for its next event.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Final

from .cognito import CognitoUsers
from .errors import (
    CreateRefused,
    InvalidDeclaration,
    LedgerConflict,
    OwnerUnknown,
    PoolNotFound,
    UserAttributesError,
    UserNotFound,
)
from .identity import PhysicalId, owner_id, parse_physical_id
from .invocation import (
    WRITE_MARGIN_MS,
    Deadline,
    Outcome,
    ResourceEvent,
    lenient_delete_options,
    lenient_target,
    provisional_physical_id,
)
from .ledger import Ledger
from .model import (
    ABSENT,
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
    apply_writes,
    cognito_writes,
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
        now_ms: Callable[[], int] = lambda: int(time.time() * 1000),
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._cognito = cognito
        self._ledger = ledger
        self._secrets = secrets
        self._region = region
        self._now_ms = now_ms
        self._sleep = sleep

    # -- Create and Update ---------------------------------------------------------------

    def create(self, event: ResourceEvent, deadline: Deadline) -> Outcome:
        """Set the declared values, recording originals first. FAILED leaves nothing claimed."""
        try:
            declaration = parse_properties(event.properties)
        except InvalidDeclaration as error:
            return Outcome(provisional_physical_id(event), f"invalid properties: {error}")
        owner = owner_id(event.stack_id, event.logical_resource_id, declaration.target)
        return self._apply(
            owner,
            declaration.target,
            declaration.attributes,
            declaration.client_metadata,
            deadline,
            failure_physical_id=None,
            request_id=event.request_id,
            event=event,
        )

    def update(self, event: ResourceEvent, deadline: Deadline) -> Outcome:
        """Diff against what the owner holds; a new target user is a replacement (new id).

        A rollback Update (old and new properties swapped) is an ordinary Update.
        """
        sent_id = event.physical_resource_id or provisional_physical_id(event)
        try:
            declaration = parse_properties(event.properties)
        except InvalidDeclaration as error:
            return Outcome(sent_id, f"invalid properties: {error}")
        owner = owner_id(event.stack_id, event.logical_resource_id, declaration.target)
        sent = parse_physical_id(sent_id)
        same_owner = sent is not None and sent.owner_id == owner
        outcome = self._apply(
            owner,
            declaration.target,
            declaration.attributes,
            declaration.client_metadata,
            deadline,
            failure_physical_id=sent_id,
            request_id=event.request_id,
            event=event,
            # Our id for this very owner says a Create succeeded: a ledger without the owner
            # is not the one that recorded its originals.
            owner_must_exist=same_owner,
            # The declared name may be an address this owner changed (email as username, an
            # alias): the user is the one our id names, by its canonical username.
            lookup=Target(sent.user_pool_id, sent.username) if sent and same_owner else None,
        )
        if outcome.error is not None:
            return outcome
        if same_owner:
            failed = self._release_failed_replacement(event, declaration.target, deadline)
            if failed is not None:
                return Outcome(sent_id, failed)
        if sent is None or str(sent) == outcome.physical_id:
            # Keep the id CloudFormation knows unless the owner or its partition moved: a new
            # id makes CloudFormation delete the old one.
            return Outcome(sent_id)
        return outcome

    def _release_failed_replacement(
        self, event: ResourceEvent, target: Target, deadline: Deadline
    ) -> str | None:
        """The rollback of a replacement that failed or never answered: CloudFormation sends
        the id it still knows with the old target back as the properties, and never learns of
        (so never deletes) the owner the failed attempt made on the other user. Release it
        here. An error message, or None."""
        old_target = lenient_target(event.old_properties or {})
        if old_target is None or old_target == target:
            return None
        stale = owner_id(event.stack_id, event.logical_resource_id, old_target)
        _, client_metadata = lenient_delete_options(event.old_properties or {})
        try:
            # The ledger partition is the canonical username; the declaration may name the
            # user by an alias or its email address.
            user = self._cognito.admin_get_user(old_target)
        except UserNotFound:
            logger.info("owner %s: the failed replacement's user is gone", stale[:12])
            return None
        except UserAttributesError as error:
            return f"could not release the failed replacement's user: {error}"
        try:
            self._release(
                stale,
                Target(user.user_pool_id, user.username),
                OnDelete.RESTORE,
                client_metadata,
                deadline,
                unanswered=False,
                # A replacement that answered has stopped writing; one that never answered is
                # older than the ServiceTimeout (longer than the function's timeout) by now.
                await_writer=False,
            )
        except UserAttributesError as error:
            return f"could not release the failed replacement's user: {error}"
        return None

    def _apply(
        self,
        owner: str,
        target: Target,
        desired: Mapping[str, Declared],
        client_metadata: Mapping[str, str],
        deadline: Deadline,
        *,
        failure_physical_id: str | None,
        request_id: str,
        event: ResourceEvent,
        owner_must_exist: bool = False,
        lookup: Target | None = None,
    ) -> Outcome:
        fallback = failure_physical_id or str(
            PhysicalId(owner, target.user_pool_id, target.username)
        )
        pool_region = target.user_pool_id.split("_", 1)[0]
        if self._region and pool_region != self._region:
            return Outcome(
                fallback,
                f"UserPoolId: the pool is in {pool_region}; this function runs in {self._region}"
                " (deploy a stack in the pool's Region)",
            )
        try:
            user = self._cognito.admin_get_user(lookup or target)
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
                request_id=request_id,
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
                user=user,
                before=before,
                client_metadata=client_metadata,
                deadline=deadline,
                cause=error,
            )
            if deadline.answered():
                self._revert_if_released(owner, user, plan.claim_writes, client_metadata)
            return Outcome(failure_id, reason)
        if deadline.answered():
            self._revert_if_released(owner, user, plan.claim_writes, client_metadata)
        _log_step("applied", owner, plan)
        return Outcome(physical_id)

    def _revert_if_released(
        self,
        owner: str,
        user: CanonicalUser,
        writes: CognitoWrites,
        client_metadata: Mapping[str, str],
    ) -> None:
        """The timeout answer went out while this invocation was still writing, so the Delete
        CloudFormation sends next may already have released the owner and restored the user
        before these writes landed. If the ledger no longer knows the owner, put back what
        the user showed before this invocation wrote."""
        try:
            if owner in self._ledger.query(user.user_pool_id, user.username).owners:
                return
            logger.warning("owner %s: released while still writing; reverting", owner[:12])
            before = {name: user.attributes.get(name, ABSENT) for name in writes.names}
            self._write(
                user,
                cognito_writes(before, apply_writes(user.attributes, writes)),
                client_metadata,
                None,
            )
        except UserAttributesError as error:
            logger.error("owner %s: revert after a late write failed: %s", owner[:12], error)

    def _undo(
        self,
        owner: str,
        *,
        user: CanonicalUser,
        before: UserLedger,
        client_metadata: Mapping[str, str],
        deadline: Deadline,
        cause: UserAttributesError,
    ) -> str:
        """Put the owner back to what it declared before this step; the FAILED reason."""
        previous = declared_values(before, owner)
        try:
            current = self._cognito.admin_get_user(Target(user.user_pool_id, user.username))
            _, plan = self._commit(
                owner,
                current,
                previous,
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
        """
        sent_id = event.physical_resource_id or provisional_physical_id(event)
        on_release, client_metadata = lenient_delete_options(event.properties)
        ours = parse_physical_id(sent_id)
        if ours is not None:
            owner, target = ours.owner_id, Target(ours.user_pool_id, ours.username)
        else:
            try:
                declared = parse_properties(event.properties).target
            except InvalidDeclaration:
                # A Create with these properties was refused before it could claim anything.
                return Outcome(sent_id)
            owner = owner_id(event.stack_id, event.logical_resource_id, declared)
            target = declared
        try:
            self._release(
                owner,
                target,
                on_release,
                client_metadata,
                deadline,
                # No answer ever reached CloudFormation: the Create may still be running (a
                # duplicate delivery), and a late one must not seed values after this Delete.
                unanswered=ours is None,
                # The timeout answered while the Create was still writing.
                await_writer=ours is None or ours.timed_out,
            )
        except UserAttributesError as error:
            return Outcome(
                sent_id,
                f"{error}; retry, or skip this resource and release owner {owner[:12]} by hand "
                "(README runbook)",
            )
        return Outcome(sent_id)

    def _release(
        self,
        owner: str,
        target: Target,
        on_release: OnDelete,
        client_metadata: Mapping[str, str],
        deadline: Deadline,
        *,
        unanswered: bool,
        await_writer: bool,
    ) -> None:
        """Release every claim ``owner`` holds on ``target``'s user (restoring as the last
        owner); with ``await_writer``, wait out its lease first; with ``unanswered``, leave a
        tombstone.

        Our physical id names the ledger partition, so the ledger is read first and Cognito
        only when the owner holds something: a Delete after a Create refused for a missing
        pool or user, or for a pool id that is not one, calls nothing that can fail on it.
        """
        conflict: LedgerConflict | None = None
        for attempt in range(CONFLICT_ATTEMPTS):
            try:
                self._release_once(
                    owner,
                    target,
                    on_release,
                    client_metadata,
                    deadline,
                    unanswered=unanswered,
                    await_writer=await_writer,
                )
                return
            except LedgerConflict as error:
                conflict = error
                logger.info("owner %s: ledger conflict, attempt %d", owner[:12], attempt + 1)
        assert conflict is not None  # every attempt ended in one
        raise LedgerConflict(
            conflict.reason, f"the ledger kept changing during {CONFLICT_ATTEMPTS} attempts"
        )

    def _release_once(
        self,
        owner: str,
        target: Target,
        on_release: OnDelete,
        client_metadata: Mapping[str, str],
        deadline: Deadline,
        *,
        unanswered: bool,
        await_writer: bool,
    ) -> None:
        if unanswered:
            user, canonical = self._lookup(target)
            ledger = self._ledger.query(canonical.user_pool_id, canonical.username)
        else:
            ledger = self._ledger.query(target.user_pool_id, target.username)
            if owner in ledger.owners:
                user, canonical = self._lookup(target)
            else:
                user, canonical = None, CanonicalUser(target.user_pool_id, target.username, {})
        if await_writer and self._await_lease(owner, ledger, deadline):
            # The writer may have changed the user while we waited: read both again.
            user, canonical = self._lookup(target)
            ledger = self._ledger.query(canonical.user_pool_id, canonical.username)
        record = ledger.owners.get(owner)
        # A later (duplicate) delivery of the event that created this owner must not create it
        # again once this Delete has released it.
        dead = frozenset({record.created_by} - {""}) if record else frozenset()
        tombstone = (owner, self._now_ms() if unanswered else 0) if unanswered or dead else None
        if record is None:
            if tombstone is not None:
                deadline.check()
                # A Create committing between our read and this write would be an owner no
                # event releases: the tombstone lands only while the owner is still absent.
                self._ledger.transact(
                    canonical.user_pool_id,
                    canonical.username,
                    claims=(),
                    owner=None,
                    tombstone=tombstone,
                    owner_absent=owner,
                )
            logger.info("owner %s: not in the ledger, nothing to release", owner[:12])
            return
        _, plan = self._commit(
            owner,
            canonical,
            None,
            on_release,
            deadline,
            client_metadata=client_metadata,
            ledger=ledger,
            write_cognito=user is not None,
            tombstone=tombstone,
            dead_requests=dead,
        )
        _log_step("released", owner, plan)

    def _lookup(self, target: Target) -> tuple[CanonicalUser | None, CanonicalUser]:
        """The user (None if it or its pool no longer exists) and the identity its ledger
        partition uses."""
        try:
            user = self._cognito.admin_get_user(target)
        except UserNotFound:
            return None, CanonicalUser(target.user_pool_id, target.username, {})
        return user, user

    def _await_lease(self, owner: str, ledger: UserLedger, deadline: Deadline) -> bool:
        """Wait out an invocation that may still be writing this owner's values; whether we
        waited."""
        record = ledger.owners.get(owner)
        if record is None or record.lease_until_ms <= self._now_ms():
            return False
        wait_ms = min(
            record.lease_until_ms - self._now_ms(), deadline.remaining_ms() - 2 * WRITE_MARGIN_MS
        )
        logger.info("owner %s: waiting %d ms for a running invocation's lease", owner[:12], wait_ms)
        if wait_ms > 0:
            self._sleep(wait_ms / 1000)
        return True

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
        tombstone: tuple[str, int] | None = None,
        dead_requests: frozenset[str] = frozenset(),
        request_id: str = "",
        origin: OwnerOrigin | None = None,
        owner_must_exist: bool = False,
    ) -> tuple[UserLedger, Plan]:
        """Plan, put released attributes back, commit the ledger; retry when another writer
        changed the ledger in between. Returns the ledger as read, and the committed plan."""
        resolved = {} if secrets is None else secrets
        conflict: LedgerConflict | None = None
        for attempt in range(CONFLICT_ATTEMPTS):
            if ledger is None:
                ledger = self._ledger.query(user.user_pool_id, user.username)
            new_owner = owner not in ledger.owners and bool(desired)
            if new_owner and owner_must_exist:
                raise OwnerUnknown(
                    f"owner {owner[:12]} unknown to ledger table {self._ledger.table_name} "
                    "(replaced?): live values are not originals, nothing written; restore "
                    "that ledger or release by hand (README runbook)"
                )
            if new_owner and ledger.tombstones.get(owner, -1) >= deadline.started_ms:
                raise CreateRefused(
                    "a Delete released this resource after this invocation started (its "
                    "Create never answered); refusing the dead Create"
                )
            if new_owner and request_id in ledger.dead_requests.get(owner, frozenset()):
                raise CreateRefused(
                    "a Delete already released this request's resource; refusing its late duplicate"
                )
            self._read_secrets(references_needed(ledger, owner, desired), resolved)
            plan = plan_reconcile(
                owner_id=owner,
                desired=desired,
                ledger=ledger,
                live=user.attributes,
                on_release=on_release,
                lease_until_ms=deadline.deadline_ms,
                resolved=resolved,
                request_id=request_id,
                origin=origin,
            )
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
            if plan.changes_ledger or tombstone is not None:
                deadline.check()
                try:
                    self._ledger.transact(
                        user.user_pool_id,
                        user.username,
                        claims=plan.claims,
                        owner=plan.owner,
                        refuse_if_tombstoned=(owner, deadline.started_ms) if new_owner else None,
                        request_id=request_id,
                        tombstone=tombstone,
                        dead_requests=dead_requests,
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
        deadline: Deadline | None,
    ) -> None:
        """Perform ``writes``; each call starts only while ``deadline`` allows (None: the
        answer is already out and these writes put back what a late write changed).

        The pool's verification settings matter only for an address going out unverified,
        so a Delete reads them (DescribeUserPool, cached) only then.
        """
        if writes.unverified_contacts:
            pool = self._cognito.describe_user_pool(user.user_pool_id)
            writes = verified_first(writes, pool.verify_before_update)
        for update in (writes.update, writes.settle):
            if update:
                if deadline is not None:
                    deadline.check()
                self._cognito.admin_update_user_attributes(user, update, client_metadata)
        if writes.delete:
            if deadline is not None:
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
