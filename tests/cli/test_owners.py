"""Which ledger owners a stack made, decided from the owner record's origin (pure)."""

from __future__ import annotations

import pytest
from user_attributes.model import OwnerOrigin

from cognito_seed_users.cli.owners import in_stack, stack_name_of

ARN = "arn:aws:cloudformation:eu-west-1:123456789012:stack/{}/0f6c1b40-1a2b-11f0-9c3d-0a1b2c3d4e5f"
ROOT = ARN.format("CognitoSeedUsers")
# CloudFormation names a nested stack <root>-<logical id>-<random suffix>.
SHARD = ARN.format(
    "CognitoSeedUsers-SeedUsersShard07NestedStackShard07NestedStackResourceA1B2C3D4-1Q2W3E4R5T6Y"
)


@pytest.mark.parametrize(
    ("stack_id", "name", "exact", "belongs"),
    [
        pytest.param(ROOT, "CognitoSeedUsers", None, True, id="the-stack-itself"),
        pytest.param(SHARD, "CognitoSeedUsers", None, True, id="a-nested-stack-of-it"),
        pytest.param(
            ARN.format("CognitoSeedUsersOld"), "CognitoSeedUsers", None, False, id="a-longer-name"
        ),
        pytest.param(
            ARN.format("CognitoSeedUsers-Other"),
            "CognitoSeedUsers",
            None,
            False,
            id="hyphenated-sibling",
        ),
        pytest.param(ROOT, "CognitoSeedUsers", ROOT, True, id="the-exact-stack-id"),
        pytest.param(
            ROOT,
            "CognitoSeedUsers",
            ARN.format("CognitoSeedUsers").replace("0f6c", "ffff"),
            False,
            id="a-recreated-stack-of-the-same-name",
        ),
        pytest.param("", "CognitoSeedUsers", None, False, id="record-older-than-origins"),
    ],
)
def test_in_stack(stack_id: str, name: str, exact: str | None, belongs: bool) -> None:
    assert in_stack(OwnerOrigin(stack_id=stack_id), name, exact) is belongs


def test_stack_name_of_a_stack_id_and_of_a_name() -> None:
    assert stack_name_of(ROOT) == "CognitoSeedUsers"
    assert stack_name_of("CognitoSeedUsers") == "CognitoSeedUsers"
