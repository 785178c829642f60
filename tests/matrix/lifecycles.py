"""The random lifecycles of ``tests/lifecycle/test_random_lifecycles.py`` in a matrix pool.

The same state machine (deploys, value changes, added and removed attributes, renames, moves to
another user, rollbacks, delete-stack and redeploy, out-of-band edits; random AWS faults on any
event), with three changes per configuration: the seed users are created as the configuration
creates users (so their canonical names may differ from the declared ones), declarations name
them as the configuration's declarations do, and the declared attributes are the base set minus
``not_declarable`` plus ``phone_number`` and the configuration's ``extra_values``. After every
step, besides DESIGN section 5's invariants 1-3: no verification message was sent and no change
is held back for verification, and every input to a custom message trigger carried the
declaration's ClientMetadata.

CI's fixed seed (``derandomize``) throughout. The default run is short (``EXAMPLES`` x
``STEPS`` per configuration); ``MATRIX=full`` runs CI's full depth (``LIFECYCLE_EXAMPLES`` /
``LIFECYCLE_STEPS`` defaults, 60 x 15) in every configuration; ``MATRIX_EXAMPLES`` and
``MATRIX_STEPS`` override either.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    precondition,
    rule,
    run_state_machine_as_test,
)

import tests.lifecycle.test_random_lifecycles as base
from cfnlocal.aws_faults import AwsCallRecorder
from cfnlocal.clock import VirtualClock
from cfnlocal.cloudformation import LocalStack
from cfnlocal.cognito_fidelity import CognitoFidelity
from cfnlocal.invariants import InvariantChecker, UserKey, live_attributes
from tests.lifecycle.support import ORIGINALS, PLACEHOLDER_POOL, declare, owner_of

from .configurations import PoolConfiguration, SeedUser

FULL = os.environ.get("MATRIX") == "full"
EXAMPLES = int(os.environ.get("MATRIX_EXAMPLES", "60" if FULL else "2"))
STEPS = int(os.environ.get("MATRIX_STEPS", "15" if FULL else "5"))
PHONE_VALUES: tuple[str | None, ...] = ("+14155550171", "+14155550172")


@dataclass
class MatrixLifecycle:
    """What the machine works with (the base machine's ``lifecycle``)."""

    configuration: PoolConfiguration
    stack: LocalStack
    recorder: AwsCallRecorder
    clock: VirtualClock
    fidelity: CognitoFidelity
    cognito: Any
    dynamodb: Any
    pool: str

    def new_run(self) -> MatrixRun:
        stack = self.stack.fresh()
        stack.driver.cold_start()
        return MatrixRun(self, stack)


class MatrixRun:
    """One isolated lifecycle in the configuration's pool (the base ``Run``'s interface)."""

    def __init__(self, lifecycle: MatrixLifecycle, stack: LocalStack) -> None:
        self.lifecycle = lifecycle
        self.stack = stack
        self.cognito = lifecycle.cognito
        self.pool = lifecycle.pool
        assert stack.ledger_table is not None
        self.users = _reset_users(lifecycle, stack.ledger_table)
        self.foreign_messages: set[int] = set()
        """Indexes of ``custom_messages`` that out-of-band edits (not the handler) caused."""
        baseline = {key: live_attributes(self.cognito, key) for key in self._keys()}
        self.checker = InvariantChecker(
            self.cognito, lifecycle.dynamodb, stack.ledger_table, baseline
        )
        self.synthesized: dict[str, dict[str, Any]] = {
            logical: {
                key: (self.pool if value == PLACEHOLDER_POOL else copy.deepcopy(value))
                for key, value in properties.items()
            }
            for logical, properties in stack.template.items()
        }
        self.template_base = next(p for p in self.synthesized.values() if p["Username"] == "ci-bot")
        stack.driver.sensitive_values.update(
            value for attributes in ORIGINALS.values() for value in attributes.values()
        )

    def _keys(self) -> list[UserKey]:
        return [(self.pool, user.canonical) for user in self.users.values()]

    def user(self, logical: str) -> UserKey:
        return (self.pool, self.users[logical].canonical)

    def declared(self, logical: str) -> str:
        return self.users[logical].declared

    def props(self, logical: str, declared: Mapping[str, str | None]) -> dict[str, Any]:
        """A resource for ``logical``, shaped as the construct emits it (the synthesized
        ``ci-bot`` resource's other properties, its ClientMetadata included)."""
        return declare(self.template_base, declared, username=self.declared(logical))

    def known_owners(self) -> set[str]:
        owners = {owner_of(state.physical_id) for state in self.stack.resources.values()}
        return {owner for owner in owners if owner is not None}

    def problems(self, *, settled: bool = True, drifted: Any = None) -> list[str]:
        problems = self.checker.problems(
            settled=settled,
            known_owners=self.known_owners() if settled else None,
            drifted=drifted,
        )
        fidelity = self.lifecycle.fidelity
        if fidelity.codes_sent:
            problems.append(f"verification messages sent: {fidelity.codes_sent}")
        if fidelity.pending:
            problems.append(f"changes held back for verification: {sorted(fidelity.pending)}")
        metadata = self.template_base.get("ClientMetadata", {})
        wrong = [
            m
            for index, m in enumerate(fidelity.custom_messages)
            if m.client_metadata != metadata and index not in self.foreign_messages
        ]
        if wrong:
            problems.append(f"custom message trigger inputs without the ClientMetadata: {wrong}")
        return problems


def _reset_users(lifecycle: MatrixLifecycle, table: str) -> dict[str, SeedUser]:
    """The seed users with their original attributes, created as the configuration creates
    users, and an empty ledger (one pool serves every run of a test)."""
    cognito, dynamodb, pool = lifecycle.cognito, lifecycle.dynamodb, lifecycle.pool
    for user in cognito.list_users(UserPoolId=pool).get("Users", []):
        cognito.admin_delete_user(UserPoolId=pool, Username=user["Username"])
    items = dynamodb.scan(TableName=table, ConsistentRead=True)["Items"]
    for item in items:
        dynamodb.delete_item(TableName=table, Key={"pk": item["pk"], "sk": item["sk"]})
    lifecycle.fidelity.codes_sent.clear()
    lifecycle.fidelity.pending.clear()
    lifecycle.fidelity.custom_messages.clear()
    return {
        logical: lifecycle.configuration.seed(cognito, pool, logical, attributes)
        for logical, attributes in ORIGINALS.items()
    }


def machine_for(configuration: PoolConfiguration) -> type[RuleBasedStateMachine]:
    """The base machine with this configuration's declarable attributes and user names."""
    values: dict[str, tuple[str | None, ...]] = {
        name: choices
        for name, choices in base.VALUES.items()
        if name not in configuration.not_declarable
    }
    values["phone_number"] = PHONE_VALUES
    values.update(configuration.extra_values)
    names = st.sampled_from(sorted(values))
    declarations = st.dictionaries(names, st.none(), min_size=1, max_size=3).flatmap(
        lambda chosen: st.fixed_dictionaries({n: st.sampled_from(values[n]) for n in chosen})
    )
    users = st.sampled_from(base.USERS)

    class Machine(base.RandomLifecycle):  # type: ignore[misc]
        def props(self, username: str, declared: dict[str, str | None]) -> dict[str, Any]:
            return self.run.props(username, declared)

        @precondition(lambda self: len(self.run.stack.resources) < len(base.LOGICAL_IDS))
        @rule(data=st.data(), user=users, declared=declarations, plan=base.deploy_plans)
        def add_resource(self, data: Any, user: str, declared: dict, plan: dict) -> None:
            free = [lid for lid in base.LOGICAL_IDS if lid not in self.run.stack.resources]
            logical = data.draw(st.sampled_from(free))
            self.deploy({**self.template, logical: self.props(user, declared)}, plan)

        @precondition(lambda self: bool(self.run.stack.resources))
        @rule(data=st.data(), plan=base.deploy_plans)
        def change_value(self, data: Any, plan: dict) -> None:
            template = self.template
            logical = data.draw(st.sampled_from(sorted(template)))
            declared = base.attributes_of(template[logical])
            name = data.draw(st.sampled_from(sorted(declared)))
            others = [value for value in values[name] if value != declared[name]]
            declared[name] = data.draw(st.sampled_from(others))
            template[logical] = declare(template[logical], declared)
            self.deploy(template, plan)

        @precondition(lambda self: bool(self.run.stack.resources))
        @rule(data=st.data(), name=names, plan=base.deploy_plans)
        def add_or_remove_attribute(self, data: Any, name: str, plan: dict) -> None:
            template = self.template
            logical = data.draw(st.sampled_from(sorted(template)))
            declared = base.attributes_of(template[logical])
            if name in declared and len(declared) > 1:
                del declared[name]
            else:
                declared[name] = data.draw(st.sampled_from(values[name]))
            template[logical] = declare(template[logical], declared)
            self.deploy(template, plan)

        @precondition(lambda self: bool(self.run.stack.resources))
        @rule(data=st.data(), plan=base.deploy_plans)
        def change_user(self, data: Any, plan: dict) -> None:
            template = self.template
            logical = data.draw(st.sampled_from(sorted(template)))
            current = template[logical]["Username"]
            others = [u for u in base.USERS if self.run.declared(u) != current]
            username = self.run.declared(data.draw(st.sampled_from(others)))
            template[logical] = declare(template[logical], username=username)
            self.deploy(template, plan)

        @precondition(lambda self: bool(self.run.stack.resources))
        @rule(user=users, name=st.sampled_from(sorted(base.OUT_OF_BAND)), data=st.data())
        def edit_out_of_band(self, user: str, name: str, data: Any) -> None:
            """The base rule; its console edit is nobody's declaration, so what a custom
            message trigger receives from it is not checked."""
            before = len(self.run.lifecycle.fidelity.custom_messages)
            base.RandomLifecycle.edit_out_of_band(self, user, name, data)
            after = len(self.run.lifecycle.fidelity.custom_messages)
            self.run.foreign_messages.update(range(before, after))

    Machine.__name__ = f"RandomLifecycle_{configuration.name}"
    return Machine


def run_random_lifecycles(lifecycle: MatrixLifecycle) -> dict[str, int]:
    """Run the machine at the configured depth; the base machine's statistics."""
    machine = machine_for(lifecycle.configuration)
    machine.lifecycle = lifecycle
    base.STATS.clear()
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS,
            deadline=None,
            derandomize=True,
            database=None,
            print_blob=True,
            suppress_health_check=list(HealthCheck),
        ),
    )
    return dict(base.STATS)
