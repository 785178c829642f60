"""Every error AWS's model declares, at every call site of every phase (issue 8, item A).

For each phase (``scenario.PHASES``), operation and error of the table
(``dispositions.TABLE``, whose codes come from botocore's model at test time), the error is
injected at each call site of that operation in the phase, as AWS would answer it (an HTTP
error response botocore parses and retries as it would AWS's, a transport error, or, for "the
user or pool is gone", the user or pool really deleted just before the call), and:

- the answer is the table's disposition: retried inside the deadline (the event comes out as
  if nothing had failed; once the retries are outlasted, FAILED naming the call and code),
  FAILED with a Reason that names the call and the error code first (for the undo: the
  failed write first, then ``undo failed: <call> failed: <code>``), or, for a Delete whose
  user or pool is gone, SUCCESS with nothing written to Cognito;
- CloudFormation's next event (rollback Delete, rollback Update, retried Delete, continued
  rollback) settles it, the invariants of DESIGN section 5 hold, and delete-stack gives the
  user back its originals with nothing left in the ledger.

A phase is paired only with the operations it calls (``CALLED``, checked against each phase's
recorded calls): a Delete and the undo read no secret and no pool settings.

``make test`` runs every (phase, operation) with one error of each disposition (the
representative subset); ``ERROR_MATRIX=full`` runs every error.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final

import pytest
from user_attributes.aws_clients import CLIENT_CONFIG
from user_attributes.cfn_response import TIMEOUT_MARGIN_S

from cfnlocal.aws_faults import Fault

from .dispositions import (
    CONFLICT,
    FAILED,
    GENERIC,
    GONE,
    OPERATIONS,
    RETRIED,
    TABLE,
    Disposition,
    ErrorCase,
    all_error_cases,
    declared_errors,
    protocol,
    stale,
    uncovered,
)
from .scenario import (
    COGNITO_WRITES,
    PHASES,
    UNDO_TRIGGER,
    UNDO_TRIGGER_HEAD,
    WORKER_TIMEOUT_S,
    PhaseRun,
    Site,
    World,
    describe,
    run_phase,
)

FULL: Final = os.environ.get("ERROR_MATRIX", "") == "full"
MAX_ATTEMPTS: Final = int(CLIENT_CONFIG.retries["max_attempts"]) + 1  # type: ignore[index]
"""HTTP attempts botocore makes per call: the first, plus ``max_attempts`` retries."""
READ_TIMEOUT_S: Final = float(CLIENT_CONFIG.read_timeout)  # type: ignore[arg-type]
CONNECT_TIMEOUT_S: Final = float(CLIENT_CONFIG.connect_timeout)  # type: ignore[arg-type]
BUDGET_S: Final = WORKER_TIMEOUT_S - TIMEOUT_MARGIN_S
"""The handler's own answer must leave before crhelper's timeout answer would."""

VARIANTS: Final[dict[Disposition, tuple[str, ...]]] = {
    RETRIED: ("transient", "exhausted"),
    CONFLICT: ("transient", "exhausted"),
    FAILED: ("once",),
    GONE: ("once",),
}
"""``transient``: every attempt but the last fails (RETRIED), or one transaction (CONFLICT);
``exhausted``: every attempt fails (RETRIED), or every transaction from there on (CONFLICT)."""

IAM_ACTIONS: Final = {"cognito-idp": "cognito-idp", "dynamodb": "dynamodb", "ssm": "ssm"}


def message(case: ErrorCase) -> str:
    """What AWS says with the code (the handler shows at most 160 characters of it)."""
    if case.code == "AccessDeniedException":
        action = f"{IAM_ACTIONS.get(case.service, case.service)}:{case.operation}"
        return (
            "User: arn:aws:sts::123456789012:assumed-role/CognitoSeedUsers-ProviderRole-1A2B3C"
            f"/CognitoSeedUsers-Provider is not authorized to perform: {action} on resource: "
            f"arn:aws:{case.service}:eu-west-1:123456789012:* because no identity-based "
            f"policy allows the {action} action"
        )
    return f"injected {case.code}"


def fault_for(world: World, case: ErrorCase, site: Site, variant: str) -> Fault:
    assert case.row is not None
    disposition = case.row.disposition
    if disposition is GONE:
        change = (
            world.delete_pool if case.code == "ResourceNotFoundException" else world.delete_user
        )
        return Fault("change", site.nth, operation=site.operation, change=change)
    attempts = MAX_ATTEMPTS - 1 if variant == "transient" and disposition is RETRIED else None
    if case.row.status is None:
        return Fault(
            "transport-error",
            site.nth,
            operation=site.operation,
            code=case.code,
            attempts=attempts,
            # A read times out after read_timeout; a connect that hangs, after connect_timeout.
            hang_s=READ_TIMEOUT_S if case.code == "ReadTimeoutError" else CONNECT_TIMEOUT_S,
        )
    return Fault(
        "error-response",
        site.nth,
        operation=site.operation,
        code=case.code,
        status=case.row.status,
        message=message(case),
        fields=case.fields(),
        attempts=attempts,
        sticky=variant == "exhausted" and disposition is CONFLICT,
    )


# -- the clean runs ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Clean:
    """A phase without an injected fault (the undo: with only its trigger)."""

    status: str
    reason: str
    operations: tuple[str, ...]
    attributes: dict[str, str] | None
    sites: tuple[Site, ...]


_CLEAN: dict[str, Clean] = {}


def clean_run(world: World, phase: str) -> Clean:
    if phase not in _CLEAN:
        run = run_phase(world, phase, [UNDO_TRIGGER] if phase == "undo" else [])
        assert not run.problems, f"clean {phase}: {run.problems}"
        expected = "FAILED" if phase == "undo" else "SUCCESS"
        assert run.status == expected, f"clean {phase}: {run.status} {run.reason}"
        _CLEAN[phase] = Clean(
            run.status,
            run.reason,
            tuple(c.operation for c in run.calls),
            run.attributes,
            tuple(run.sites()),
        )
    return _CLEAN[phase]


# -- what each disposition looks like ---------------------------------------------------------


def names_the_failure(reason: str, operation: str, code: str) -> bool:
    """The Reason starts with ``<call> failed: <code>`` (``DynamoDB <call>`` for the ledger's
    transport errors), or, for a secret that could not be read, with the attribute and the
    reference and then the call and the code."""
    head = re.escape(f"{operation} failed: {code}")
    return bool(
        re.match(rf"(DynamoDB )?{head}(:|$| \(|;)", reason)
        or re.match(rf"invalid attributes: [\w:]+: (secretsmanager|ssm) [^;]*?: {head}", reason)
    )


def names_the_undo_failure(reason: str, operation: str, code: str) -> bool:
    head = re.escape(f"{operation} failed: {code}")
    return reason.startswith(UNDO_TRIGGER_HEAD) and bool(
        re.search(rf"\(undo failed: (DynamoDB )?{head}", reason)
    )


def check(
    phase: str, case: ErrorCase, variant: str, fault: Fault, run: PhaseRun, clean: Clean
) -> list[str]:
    """Everything the case broke (empty: the disposition held and the world settled)."""
    assert case.row is not None
    hit = [c for c in run.calls if c.fault is fault]
    if not hit:
        return [f"the fault was never injected (calls: {describe(run.calls)})"]
    if run.target.answer is None:
        return [f"no answer ({run.target.crashed!r})"]
    index = hit[0].index
    problems: list[str] = []
    if run.elapsed_s > BUDGET_S:
        problems.append(f"answered after {run.elapsed_s:.0f} s (budget {BUDGET_S:.0f} s)")
    if variant == "transient":
        problems += _as_if_nothing_failed(case.row.disposition, index, run, clean)
    else:
        problems += _answer_problems(phase, case, index, run, clean)
    if case.row.disposition is GONE and run.calls.errors.get(index) != case.code:
        problems.append(f"the service answered {run.calls.errors.get(index)}, not {case.code}")
    return problems + _follow_up_problems(phase, case.row.disposition, run) + run.problems


def _as_if_nothing_failed(
    disposition: Disposition, index: int, run: PhaseRun, clean: Clean
) -> list[str]:
    problems: list[str] = []
    if run.status != clean.status or run.reason != clean.reason:
        problems.append(f"not as if nothing failed: {run.status} {run.reason!r}")
    if disposition is RETRIED:
        if tuple(c.operation for c in run.calls) != clean.operations:
            problems.append(f"other calls than the clean run: {describe(run.calls)}")
        attempts = run.calls.attempts.get(index, 0)
        if attempts != MAX_ATTEMPTS:
            problems.append(f"{attempts} attempts, expected {MAX_ATTEMPTS}")
    if run.attributes != clean.attributes:
        problems.append("the user's attributes differ from the clean run's")
    return problems


def _answer_problems(
    phase: str, case: ErrorCase, index: int, run: PhaseRun, clean: Clean
) -> list[str]:
    """The answer of a call that failed for good (or found the user gone)."""
    assert case.row is not None
    disposition = case.row.disposition
    outcome = f"{run.status} {run.reason!r}"
    if disposition is GONE and phase == "undo":
        # The undo has nothing left to restore: it may say so, or name what found out.
        undone = run.reason == clean.reason  # the trigger, then "(changes undone)"
        if run.status == "FAILED" and (
            undone or names_the_undo_failure(run.reason, case.operation, case.code)
        ):
            return []
        return [f"the Reason does not name the undo's failure: {outcome}"]
    if disposition is GONE and phase == "delete":
        problems = []
        if run.status != "SUCCESS":
            problems.append(f"a Delete with nothing left to restore answered {outcome}")
        writes = [
            c.operation for c in run.calls if c.index > index and c.operation in COGNITO_WRITES
        ]
        if writes:
            problems.append(f"wrote to Cognito after the user was gone: {writes}")
        return problems
    problems = []
    if run.status != "FAILED":
        problems.append(f"answered {outcome}, expected FAILED")
    elif phase == "undo":
        if not names_the_undo_failure(run.reason, case.operation, case.code):
            problems.append(f"the Reason does not name the undo's failure: {run.reason!r}")
    elif not names_the_failure(run.reason, case.operation, case.code):
        problems.append(f"the Reason does not name the call and code first: {run.reason!r}")
    attempts = run.calls.attempts.get(index, 0)
    if disposition is FAILED and attempts != 1:
        problems.append(f"retried ({attempts} attempts), expected one")
    if disposition is RETRIED and attempts != MAX_ATTEMPTS:
        problems.append(f"{attempts} attempts, expected {MAX_ATTEMPTS}")
    return problems


def _follow_up_problems(phase: str, disposition: Disposition, run: PhaseRun) -> list[str]:
    """CloudFormation's next event must settle the stack."""
    if run.follow_up is None:
        return []
    follow = run.follow_up.answer
    # An Update's user that is gone stays gone: its rollback fails the same way (README
    # runbook: continue-update-rollback --resources-to-skip).
    still_gone = disposition is GONE and phase in ("update", "rollback-update")
    expected = "FAILED" if still_gone else "SUCCESS"
    if follow is not None and follow.status == expected:
        return []
    got = f"{follow.status} {follow.reason!r}" if follow else "no answer"
    return [f"CloudFormation's next event answered {got}, expected {expected}"]


# -- the matrix -------------------------------------------------------------------------------


def representative(case: ErrorCase) -> bool:
    """The default subset: per operation, the first row of each disposition, and each
    transport error (the full matrix: ``ERROR_MATRIX=full``)."""
    if case.row is None or case.row.status is None:
        return True
    rows = TABLE[(case.service, case.operation)]
    first = next(key for key, row in rows.items() if row.disposition is case.row.disposition)
    return case.key == first


_EVERY_OPERATION: Final = frozenset(op for ops in OPERATIONS.values() for op in ops)
_NO_READS: Final = _EVERY_OPERATION - {"DescribeUserPool", "GetSecretValue", "GetParameter"}
CALLED: Final[dict[str, frozenset[str]]] = {
    "create": _EVERY_OPERATION,
    "update": _EVERY_OPERATION,
    "rollback-update": _EVERY_OPERATION,
    # A Delete never reads its own references (their grants may be gone) and restores
    # verified originals only (no DescribeUserPool); the undo puts back what it just read.
    "delete": _NO_READS,
    "undo": _NO_READS,
}
"""The operations each phase calls, so each one's errors are injected there."""


def _params() -> Iterator[Any]:
    for phase in PHASES:
        for case in all_error_cases():
            if not (FULL or representative(case)) or case.operation not in CALLED[phase]:
                continue
            yield pytest.param(phase, case, id=f"{phase}-{case.id}")


@pytest.mark.parametrize(("phase", "case"), list(_params()))
def test_an_aws_error_at_each_call_site_gets_its_disposition_and_the_stack_settles(
    phase: str, case: ErrorCase, world: World, report: Any
) -> None:
    if case.row is None:
        pytest.fail(
            f"botocore's model declares {case.code} for {case.service} {case.operation}: "
            "add a row to tests/errors/dispositions.py TABLE"
        )
    sites = [site for site in clean_run(world, phase).sites if site.operation == case.operation]
    assert sites, f"the {phase} phase no longer calls {case.operation}: update CALLED"
    failures: list[str] = []
    cases = 0
    for site in sites:
        for variant in VARIANTS[case.row.disposition]:
            fault = fault_for(world, case, site, variant)
            run = run_phase(world, phase, [UNDO_TRIGGER, fault] if phase == "undo" else [fault])
            cases += 1
            for problem in check(phase, case, variant, fault, run, clean_run(world, phase)):
                failures.append(f"{site} {variant}: {problem}")
    report(f"{phase} {case.operation} {case.key}: cases", cases)
    assert not failures, "\n".join(failures)


def test_the_table_covers_every_error_the_model_declares(world: World, report: Any) -> None:
    missing = uncovered()
    assert not missing, "errors botocore declares that the table lacks:\n" + "\n".join(missing)
    assert not stale(), "rows for errors the model no longer declares:\n" + "\n".join(stale())
    # The injected error bodies are the JSON protocol's.
    assert {protocol(service) for service in OPERATIONS} == {"json"}
    combinations = cases = not_called = 0
    for phase in PHASES:
        called = {site.operation for site in clean_run(world, phase).sites}
        assert called == CALLED[phase], f"{phase} calls {sorted(called)}: update CALLED"
        for case in all_error_cases():
            combinations += 1
            if case.operation not in called:
                not_called += 1
                continue
            assert case.row is not None
            sites = sum(1 for s in clean_run(world, phase).sites if s.operation == case.operation)
            cases += sites * len(VARIANTS[case.row.disposition])
    declared = sum(len(declared_errors(s, o)) for s, ops in OPERATIONS.items() for o in ops)
    operations = sum(len(ops) for ops in OPERATIONS.values())
    report("operations", operations)
    report("declared errors (model) + generic per operation", f"{declared} + {len(GENERIC)}")
    report("error rows", len(all_error_cases()))
    report("phases", len(PHASES))
    report("operation x error x phase combinations", combinations)
    report("combinations where the phase never calls the operation", not_called)
    report("injection cases in the full matrix", cases)


@functools.cache
def _stack_worker_timeout() -> float:
    from cognito_seed_users.cognito_user_attributes import WORKER_TIMEOUT

    return float(WORKER_TIMEOUT.to_seconds())


def test_the_deadline_budget_is_the_workers_timeout() -> None:
    assert _stack_worker_timeout() == WORKER_TIMEOUT_S
