"""Random lifecycles, model-based (issue 3, section 4).

A hypothesis ``RuleBasedStateMachine`` drives one stack (the synthesized provider, ledger and
function) through random deploys of several ``Custom::CognitoUserAttributes`` resources over
three users that share attributes: declare, change values, add and remove attributes, rename a
resource (refactor: Create the new, cleanup-Delete the old), move it to another user
(replacement and cleanup Delete), fail the stack after our events (rollback), delete the stack
and deploy again, and edit attributes out of band (an unclaimed attribute: its new value becomes
the one to restore; a claimed one: drift, which the next change of that claim corrects). Any
event of a deploy, rollback or delete-stack may get a random AWS fault (the process dies before
or after a call, throttling, 5xx, timeouts, once or as a storm).

After every step, once CloudFormation has settled the stack, DESIGN section 5's invariants
1-3 hold and the ledger's owners are exactly the resources CloudFormation knows; at the end,
delete-stack gives every user back exactly its original attributes.

CI runs a fixed seed (``derandomize``): ``LIFECYCLE_EXAMPLES`` (default 60) and
``LIFECYCLE_STEPS`` (default 15) make it longer, and then it is randomized (set
``LIFECYCLE_DERANDOMIZE=1`` to keep it fixed); ``LIFECYCLE_PARALLEL=1`` also sends a deploy's
events concurrently, as CloudFormation does for independent resources.
Cleanup Deletes get no faults: CloudFormation ignores their failure and forgets the resource,
which no handler can recover from.
"""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from cfnlocal.aws_faults import Fault
from cfnlocal.cloudformation import FaultSpec, StackOperation, Step
from cfnlocal.invariants import read_ledger

from .support import Run, attributes_of, declare

EXAMPLES = int(os.environ.get("LIFECYCLE_EXAMPLES", "60"))
STEPS = int(os.environ.get("LIFECYCLE_STEPS", "15"))
LONG_RUN = "LIFECYCLE_EXAMPLES" in os.environ and not os.environ.get("LIFECYCLE_DERANDOMIZE")
PARALLEL = os.environ.get("LIFECYCLE_PARALLEL") == "1"

USERS = ("ci-bot", "e2e-tester", "spare-user")
LOGICAL_IDS = ("SeedA", "SeedB", "SeedC", "SeedD", "SeedE")
VALUES: dict[str, tuple[str | None, ...]] = {
    "custom:tenant_id": ("tenant-rand-a", "tenant-rand-b", None),
    "custom:plan": ("plan-rand-gold", "plan-rand-free"),
    "custom:seats": ("3", "12"),
    "nickname": ("nick-rand-a", "nick-rand-b", None),
    "given_name": ("Given-Rand-A", None),
    "locale": ("de-AT", "it-IT"),
    "email": ("rand-a@seeded.example.com", "rand-b@seeded.example.com"),
}
OUT_OF_BAND: dict[str, tuple[str, ...]] = {
    "custom:tenant_id": ("tenant-oob-1",),
    "nickname": ("nick-oob-1", "nick-oob-2"),
    "locale": ("pt-BR",),
    "custom:plan": ("plan-oob-1",),
}
FAULT_KINDS = ("crash", "crash-after", "throttle", "server-error", "timeout", "timeout-applied")
FAULTED_PHASES = frozenset({"create", "update", "rollback", "delete"})
MINUTES_BETWEEN_DEPLOYS = 5

STATS: Counter[str] = Counter()

attribute_names = st.sampled_from(sorted(VALUES))
declarations = st.dictionaries(attribute_names, st.none(), min_size=1, max_size=3).flatmap(
    lambda names: st.fixed_dictionaries({name: st.sampled_from(VALUES[name]) for name in names})
)
faults = st.builds(
    Fault,
    kind=st.sampled_from(FAULT_KINDS),
    at=st.integers(0, 5),
    storm=st.booleans(),
)
deploy_plans = st.fixed_dictionaries(
    {
        "fail_after": st.sampled_from((False, False, False, True)),
        "faults": st.lists(st.one_of(st.none(), st.none(), faults), max_size=4),
        "parallel": st.booleans() if PARALLEL else st.just(False),
    }
)


class RandomLifecycle(RuleBasedStateMachine):
    lifecycle: Any = None  # set by the test before the machine runs

    def __init__(self) -> None:
        super().__init__()
        self.run: Run = self.lifecycle.new_run()
        self.drifted: dict[Any, int] = {}
        STATS["examples"] += 1

    # -- helpers -----------------------------------------------------------------------------

    @property
    def template(self) -> dict[str, dict[str, Any]]:
        """What CloudFormation holds now (after any rollback)."""
        return {
            logical: dict(state.properties) for logical, state in self.run.stack.resources.items()
        }

    def deploy(self, template: dict[str, dict[str, Any]], plan: dict[str, Any]) -> None:
        operation = self._with_faults(
            plan["faults"],
            lambda: self.run.stack.deploy(
                template, fail_after=plan["fail_after"], parallel=plan["parallel"]
            ),
        )
        STATS[f"deploy {operation.status}"] += 1
        assert not operation.orphaned, "a cleanup Delete failed (no faults were injected there)"

    def _with_faults(self, chosen: list[Fault | None], action: Any) -> StackOperation:
        sequence = iter(chosen)

        def plan(step: Step) -> FaultSpec | None:
            if step.phase not in FAULTED_PHASES or step.attempt > 0:
                return None
            fault = next(sequence, None)
            if fault is None:
                return None
            STATS["faults armed"] += 1
            return FaultSpec(aws=[fault])

        self.run.stack.faults = plan
        injected_before = len(self.lifecycle.recorder.injected)
        try:
            operation: StackOperation = action()
        finally:
            self.run.stack.faults = None
            self.lifecycle.clock.advance(MINUTES_BETWEEN_DEPLOYS * 60)
        STATS["faults injected"] += len(self.lifecycle.recorder.injected) - injected_before
        STATS["events"] += len(operation.invocations)
        return operation

    def props(self, username: str, declared: dict[str, str | None]) -> dict[str, Any]:
        return declare(self.run.props("ci-bot"), declared, username=username)

    # -- rules -------------------------------------------------------------------------------

    @precondition(lambda self: len(self.run.stack.resources) < len(LOGICAL_IDS))
    @rule(data=st.data(), user=st.sampled_from(USERS), declared=declarations, plan=deploy_plans)
    def add_resource(self, data: Any, user: str, declared: dict, plan: dict) -> None:
        free = [logical for logical in LOGICAL_IDS if logical not in self.run.stack.resources]
        logical = data.draw(st.sampled_from(free))
        self.deploy({**self.template, logical: self.props(user, declared)}, plan)

    @precondition(lambda self: bool(self.run.stack.resources))
    @rule(data=st.data(), plan=deploy_plans)
    def change_value(self, data: Any, plan: dict) -> None:
        template = self.template
        logical = data.draw(st.sampled_from(sorted(template)))
        declared = attributes_of(template[logical])
        name = data.draw(st.sampled_from(sorted(declared)))
        others = [value for value in VALUES[name] if value != declared[name]]
        declared[name] = data.draw(st.sampled_from(others))
        template[logical] = declare(template[logical], declared)
        self.deploy(template, plan)

    @precondition(lambda self: bool(self.run.stack.resources))
    @rule(data=st.data(), name=attribute_names, plan=deploy_plans)
    def add_or_remove_attribute(self, data: Any, name: str, plan: dict) -> None:
        template = self.template
        logical = data.draw(st.sampled_from(sorted(template)))
        declared = attributes_of(template[logical])
        if name in declared and len(declared) > 1:
            del declared[name]
        else:
            declared[name] = data.draw(st.sampled_from(VALUES[name]))
        template[logical] = declare(template[logical], declared)
        self.deploy(template, plan)

    @precondition(
        lambda self: 0 < len(self.run.stack.resources) < len(LOGICAL_IDS),
    )
    @rule(data=st.data(), plan=deploy_plans)
    def rename_resource(self, data: Any, plan: dict) -> None:
        """A CDK refactor: the logical id changes, the properties do not."""
        template = self.template
        old = data.draw(st.sampled_from(sorted(template)))
        new = data.draw(st.sampled_from([lid for lid in LOGICAL_IDS if lid not in template]))
        template[new] = template.pop(old)
        self.deploy(template, plan)

    @precondition(lambda self: bool(self.run.stack.resources))
    @rule(data=st.data(), plan=deploy_plans)
    def change_user(self, data: Any, plan: dict) -> None:
        template = self.template
        logical = data.draw(st.sampled_from(sorted(template)))
        others = [user for user in USERS if user != template[logical]["Username"]]
        template[logical] = declare(template[logical], username=data.draw(st.sampled_from(others)))
        self.deploy(template, plan)

    @precondition(lambda self: bool(self.run.stack.resources))
    @rule(data=st.data(), plan=deploy_plans)
    def remove_resource(self, data: Any, plan: dict) -> None:
        template = self.template
        del template[data.draw(st.sampled_from(sorted(template)))]
        self.deploy(template, plan)

    @precondition(lambda self: bool(self.run.stack.resources))
    @rule(chosen=st.lists(st.one_of(st.none(), faults), max_size=3), plan=deploy_plans)
    def delete_stack_and_deploy_again(self, chosen: list, plan: dict) -> None:
        template = self.template
        operation = self._with_faults(chosen, self.run.stack.delete)
        STATS[f"delete-stack {operation.status}"] += 1
        problems = self.run.checker.restored_problems()
        assert not problems, "after delete-stack: " + "; ".join(problems)
        self.drifted.clear()
        self.deploy(template, plan)

    @precondition(lambda self: bool(self.run.stack.resources))
    @rule(user=st.sampled_from(USERS), name=st.sampled_from(sorted(OUT_OF_BAND)), data=st.data())
    def edit_out_of_band(self, user: str, name: str, data: Any) -> None:
        """Someone changes the attribute in the console. Unclaimed: its new value is the one a
        later release must restore. Claimed: drift, not asked of invariant 2 until the claim
        changes (the next apply of that claim rewrites it)."""
        value = data.draw(st.sampled_from(OUT_OF_BAND[name]))
        key = self.run.user(user)
        ledger = read_ledger(self.run.checker.dynamodb, self.run.checker.table)
        claim = ledger.claims.get(key, {}).get(name)
        self.run.cognito.admin_update_user_attributes(
            UserPoolId=key[0], Username=key[1], UserAttributes=[{"Name": name, "Value": value}]
        )
        if claim is None:
            self.run.checker.baseline[key][name] = value
            STATS["out-of-band edits (unclaimed)"] += 1
        else:
            self.drifted[(key, name)] = claim.version
            STATS["out-of-band edits (drift)"] += 1

    # -- invariants --------------------------------------------------------------------------

    @invariant()
    def invariants_hold(self) -> None:
        problems = self.run.problems(settled=True, drifted=self.drifted)
        assert not problems, "; ".join(problems)

    def teardown(self) -> None:
        self.run.stack.faults = None
        operation = self.run.stack.delete()
        assert operation.status == "DELETE_COMPLETE"
        problems = self.run.checker.restored_problems()
        assert not problems, "after the final delete-stack: " + "; ".join(problems)
        STATS["examples restored"] += 1


def test_random_lifecycles(lifecycle, report):
    STATS.clear()
    RandomLifecycle.lifecycle = lifecycle
    run_state_machine_as_test(
        RandomLifecycle,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS,
            deadline=None,
            derandomize=not LONG_RUN,
            database=None,
            print_blob=True,
            suppress_health_check=list(HealthCheck),
        ),
    )
    for name, value in sorted(STATS.items()):
        report(name, value)
    assert STATS["examples"] >= min(EXAMPLES, 10)
    assert STATS["faults injected"] > 0
