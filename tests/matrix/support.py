"""One matrix cell's world: a configuration's pool and users, the handler behind the driver, and
the checks every scenario ends with."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cfnlocal.cognito_fidelity import CognitoFidelity
from cfnlocal.driver import Answer
from cfnlocal.seed_pool import user_attributes
from tests.handler.conftest import AwsCalls, RecordingDriver
from tests.handler.helpers import declare, held_items

from .configurations import PoolConfiguration, SeedUser

UPDATE = "AdminUpdateUserAttributes"

SCENARIO_ORDER = (
    "create_update_delete",
    "replacement",
    "two_owners",
    "rollback_after_failed_create",
    "restore_email_verified",
    "restore_email_unverified",
    "restore_email_absent",
    "restore_phone_verified",
    "restore_phone_unverified",
    "restore_phone_absent",
    "own_rule",
    "random_lifecycles",
)
"""The matrix's columns, in the order the summary prints them (``test_<scenario>``)."""
COLUMN_LABELS = {
    "create_update_delete": "c/u/d",
    "replacement": "replace",
    "two_owners": "2owners",
    "rollback_after_failed_create": "rollback",
    "restore_email_verified": "email:v",
    "restore_email_unverified": "email:u",
    "restore_email_absent": "email:-",
    "restore_phone_verified": "phone:v",
    "restore_phone_unverified": "phone:u",
    "restore_phone_absent": "phone:-",
    "own_rule": "own",
    "random_lifecycles": "random",
}


@dataclass
class Matrix:
    """A configuration's pool, its seed users and what a scenario checks at the end.

    ``create``/``update``/``delete`` are the driver's (CloudFormation's view), also noting, for
    the custom message row, which of the handler's ``AdminUpdateUserAttributes`` calls applied
    a declaration and which restored (``phases``).
    """

    configuration: PoolConfiguration
    cognito: Any
    dynamodb: Any
    driver: RecordingDriver
    aws_calls: AwsCalls
    fidelity: CognitoFidelity
    pool_id: str
    users: dict[str, SeedUser] = field(default_factory=dict)
    baselines: dict[str, dict[str, str]] = field(default_factory=dict)
    phases: dict[str, int] = field(default_factory=lambda: {"apply": 0, "restore": 0})

    # -- users and declarations ----------------------------------------------------------------

    def user(self, logical: str, attributes: Mapping[str, str]) -> SeedUser:
        seeded = self.configuration.seed(self.cognito, self.pool_id, logical, attributes)
        self.users[logical] = seeded
        self.baselines[logical] = self.attributes(seeded)
        return seeded

    def attributes(self, user: SeedUser) -> dict[str, str]:
        return user_attributes(self.cognito, self.pool_id, user.canonical)

    def declare(
        self,
        user: SeedUser,
        attributes: Mapping[str, str] | None = None,
        *,
        absent: Iterable[str] = (),
        client_metadata: Mapping[str, str] | None = None,
        declared_as: str | None = None,
    ) -> dict[str, Any]:
        """Properties naming ``user`` as this configuration's declarations do."""
        if client_metadata is None:
            client_metadata = self.configuration.client_metadata
        return declare(
            self.pool_id,
            declared_as or user.declared,
            attributes,
            absent=absent,
            client_metadata=client_metadata,
        )

    # -- CloudFormation's events ---------------------------------------------------------------

    def create(self, logical_id: str, properties: Mapping[str, Any]) -> Answer:
        with self._phase("apply"):
            return self.driver.create(logical_id, properties)

    def update(self, logical_id: str, properties: Mapping[str, Any]) -> Answer:
        with self._phase("apply"):
            answer = self.driver.update(logical_id, properties)
        assert answer is not None, "the properties did not change"
        return answer

    def cleanup(self) -> list[Answer]:
        with self._phase("restore"):
            return self.driver.cleanup()

    def delete(self, logical_id: str) -> Answer:
        with self._phase("restore"):
            return self.driver.delete(logical_id)

    def _phase(self, phase: str) -> _Counting:
        return _Counting(self, phase)

    # -- checks ------------------------------------------------------------------------------

    def shows(self, user: SeedUser, expected: Mapping[str, str | None]) -> None:
        """``user`` shows these values (None: absent) and otherwise its baseline."""
        want = dict(self.baselines[user.logical])
        for name, value in expected.items():
            if value is None:
                want.pop(name, None)
            else:
                want[name] = value
        assert self.attributes(user) == want

    def finish(
        self,
        *,
        applies_by_update: bool = True,
        restores_by_update: bool = True,
        declared_metadata: bool = True,
    ) -> None:
        """Every user back to its baseline, the ledger empty, no verification message sent or
        change held back; in the custom message row, every apply and restore call carried the
        declaration's ClientMetadata to the trigger."""
        for logical, user in self.users.items():
            assert self.attributes(user) == self.baselines[logical], f"{logical} not restored"
        assert held_items(self.dynamodb) == []
        assert self.fidelity.codes_sent == []
        assert self.fidelity.pending == {}
        self.check_trigger(
            applies_by_update=applies_by_update,
            restores_by_update=restores_by_update,
            declared_metadata=declared_metadata,
        )

    def check_trigger(
        self,
        *,
        applies_by_update: bool = True,
        restores_by_update: bool = True,
        declared_metadata: bool = True,
    ) -> None:
        """The custom message row: what the trigger received (rule 13 of the strict layer)."""
        if not self.configuration.has_custom_message_trigger:
            assert self.fidelity.custom_messages == []
            return
        received = [m for m in self.fidelity.custom_messages if m.pool_id == self.pool_id]
        assert len(received) == sum(self.phases.values())
        if declared_metadata:
            # The configuration's ClientMetadata, on every call (apply and restore alike): the
            # handler sent it, and Cognito hands the trigger what the call carried.
            expected = dict(self.configuration.client_metadata or {})
            assert all(m.client_metadata == expected for m in received)
            assert all(call.get("ClientMetadata") == expected for call in self.aws_calls.of(UPDATE))
        if applies_by_update:
            assert self.phases["apply"] > 0, "no apply call reached the trigger"
        if restores_by_update:
            assert self.phases["restore"] > 0, "no restore call reached the trigger"
        # The messages themselves: none (exact restores send no verification message).
        assert self.fidelity.trigger_invocations() == []


class _Counting:
    """Counts the trigger inputs one event produced for the phase it belongs to."""

    def __init__(self, matrix: Matrix, phase: str) -> None:
        self._matrix = matrix
        self._phase = phase
        self._before = 0

    def __enter__(self) -> None:
        self._before = len(self._matrix.fidelity.custom_messages)

    def __exit__(self, *_: object) -> None:
        self._matrix.phases[self._phase] += (
            len(self._matrix.fidelity.custom_messages) - self._before
        )
