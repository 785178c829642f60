"""``seed-users orphans`` (CloudFormation stacks in moto) and ``release`` (dry run, --apply)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError
from user_attributes.model import OwnerOrigin

from cfnlocal.seed_pool import user_attributes
from cognito_seed_users.cli.orphans import ResourceState, StackState, verdict
from cognito_seed_users.logical_ids import user_logical_id

from .conftest import ALICE, BOB, STACK, revealed


def _stack(cloudformation: Any, name: str, resources: dict[str, str]) -> str:
    """A stack whose resources have these logical ids and physical ids (SSM parameters: moto
    cannot run a Lambda-backed custom resource; a parameter's physical id is its name)."""
    template = {
        "Resources": {
            logical: {
                "Type": "AWS::SSM::Parameter",
                "Properties": {"Type": "String", "Value": "placeholder", "Name": physical},
            }
            for logical, physical in resources.items()
        }
    }
    return str(
        cloudformation.create_stack(StackName=name, TemplateBody=json.dumps(template))["StackId"]
    )


@pytest.fixture
def live_stack(cloudformation, cognito, dynamodb, pool_id) -> tuple[Any, str]:
    """Alice and Bob deployed by a stack that exists in moto's CloudFormation."""
    from .conftest import Deployer

    # The stack id comes first; the parameters (physical ids) are updated once known.
    stack_id = _stack(cloudformation, STACK, {"Placeholder": "placeholder-param"})
    deployer = Deployer(cognito, dynamodb, stack_id)
    alice = deployer.apply(pool_id, "alice", {"name": "DECLARED-Alice-0f3a"})
    bob = deployer.apply(pool_id, "bob", {"nickname": "DECLARED-bob-nick-77"})
    template = {
        "Resources": {
            user_logical_id(pool_id, user): {
                "Type": "AWS::SSM::Parameter",
                "Properties": {
                    "Type": "String",
                    "Value": "placeholder",
                    "Name": outcome.physical_id,
                },
            }
            for user, outcome in (("alice", alice), ("bob", bob))
        }
    }
    cloudformation.update_stack(StackName=stack_id, TemplateBody=json.dumps(template))
    return deployer, stack_id


def _owner(deployer: Any, pool_id: str, user: str) -> str:
    return deployer.physical_ids[user_logical_id(pool_id, user)].split(".")[1]


def test_no_orphans_while_the_stack_holds_every_owner(*, seed_users, live_stack):
    run = seed_users("orphans", "--all", "--json", "--detailed-exitcode")

    assert run.code == 0, run.err
    assert {owner["verdict"] for owner in run.json()["owners"]} == {"ok"}
    assert len(run.json()["owners"]) == 2


def test_owner_whose_stack_is_gone(*, seed_users, live_stack, cloudformation):
    _, stack_id = live_stack
    cloudformation.delete_stack(StackName=stack_id)

    run = seed_users("orphans", "--json", "--detailed-exitcode")

    assert run.code == 2
    assert {owner["verdict"] for owner in run.json()["owners"]} == {"orphan: the stack is gone"}


def test_owner_whose_logical_id_or_physical_id_is_gone(
    *, seed_users, live_stack, cloudformation, pool_id
):
    _, stack_id = live_stack
    alice = user_logical_id(pool_id, "alice")
    template = {
        "Resources": {
            alice: {
                "Type": "AWS::SSM::Parameter",
                "Properties": {"Type": "String", "Value": "x", "Name": "replaced-physical-id"},
            }
        }
    }
    cloudformation.update_stack(StackName=stack_id, TemplateBody=json.dumps(template))

    run = seed_users("orphans", "--json")

    verdicts = {owner["username"]: owner["verdict"] for owner in run.json()["owners"]}
    assert verdicts == {
        "alice": "orphan: the stack's resource has another physical id",
        "bob": "orphan: the stack has no such logical id",
    }
    assert "release" in seed_users("orphans").out


def test_orphans_fail_closed_when_cloudformation_cannot_be_read(
    *, seed_users, live_stack, monkeypatch
):
    from cognito_seed_users.cli import orphans

    def denied(self: Any, stack_id: str) -> StackState:
        raise orphans._unreadable("DescribeStacks", "AccessDenied")

    monkeypatch.setattr(orphans.CloudFormationReader, "stack", denied)

    run = seed_users("orphans", "--json")

    assert run.code == 1
    assert run.out == ""
    assert run.err.splitlines() == [
        "seed-users: error: CloudFormation DescribeStacks failed: AccessDenied; cannot tell "
        "orphans from live owners, so none are reported"
    ]


def test_orphans_fail_closed_on_an_access_error_from_aws(*, seed_users, live_stack, monkeypatch):
    """The adapter's own handling: an error code other than "does not exist" is fatal."""
    from cognito_seed_users.cli import orphans

    class Denied:
        def describe_stacks(self, **_: Any) -> Any:
            raise ClientError(
                {"Error": {"Code": "AccessDenied", "Message": "no"}}, "DescribeStacks"
            )

    reader = orphans.CloudFormationReader(Denied())
    with pytest.raises(orphans.CliError, match="AccessDenied"):
        reader.stack("arn:aws:cloudformation:eu-west-1:123456789012:stack/X/y")


def test_verdict_table() -> None:
    origin = OwnerOrigin(
        "arn:aws:cloudformation:eu-west-1:1:stack/S/u", "User", "cua1.%s.p_1.a" % ("0" * 32)
    )
    same_id_older_prefix = "cua1t.%s.p_1.a" % ("0" * 32)
    alive = StackState(True, "UPDATE_COMPLETE")
    cases = [
        (OwnerOrigin(), None, None, "untraceable"),
        (origin, StackState(False), None, "orphan: the stack is gone"),
        (origin, StackState(True, "DELETE_COMPLETE"), None, "orphan: the stack is gone"),
        (origin, alive, ResourceState(False), "orphan: the stack has no such logical id"),
        (
            origin,
            alive,
            ResourceState(True, "other", "UPDATE_COMPLETE"),
            "orphan: the stack's resource has another physical id",
        ),
        (origin, alive, ResourceState(True, origin.physical_id, "CREATE_COMPLETE"), "ok"),
        (origin, alive, ResourceState(True, same_id_older_prefix, "UPDATE_COMPLETE"), "ok"),
    ]
    for owner_origin, stack, resource, expected in cases:
        assert verdict(owner_origin, stack, resource) == expected


def test_release_dry_run_writes_nothing(*, seed_users, deployer, cognito, dynamodb, pool_id):
    deployer.apply(pool_id, "alice", {"name": "DECLARED-Alice-0f3a", "nickname": "DECL-nick-a1"})
    owner = _owner(deployer, pool_id, "alice")
    before = user_attributes(cognito, pool_id, "alice")
    items = dynamodb.scan(TableName="seed-users-ledger")["Items"]

    run = seed_users("release", owner[:12], "--json")

    assert run.code == 0, run.err
    document = run.json()
    assert document["applied"] is False
    rows = {row["name"]: row for row in document["steps"][0]["attributes"]}
    assert rows["nickname"]["after"] == {"kind": "absent"}
    assert rows["name"]["after"] == {"kind": "value", "length": len(ALICE["name"])}
    assert revealed(document) == []
    assert user_attributes(cognito, pool_id, "alice") == before
    assert dynamodb.scan(TableName="seed-users-ledger")["Items"] == items


def test_release_apply_restores_and_marks_the_ledger(
    *, seed_users, deployer, cognito, dynamodb, pool_id
):
    deployer.apply(pool_id, "alice", {"name": "DECLARED-Alice-0f3a", "nickname": "DECL-nick-a1"})
    deployer.apply(pool_id, "bob", {"nickname": "DECLARED-bob-nick-77"})
    owner = _owner(deployer, pool_id, "alice")

    run = seed_users("release", owner, "--apply")

    assert run.code == 0, run.err
    assert user_attributes(cognito, pool_id, "alice") == ALICE
    status = seed_users("status", "--user", "alice", "--json").json()
    assert status["users"] == [
        {
            "user_pool_id": pool_id,
            "username": "alice",
            "claims": [],
            "owners": [],
            "released_by_hand": [owner],
        }
    ]
    assert user_attributes(cognito, pool_id, "bob")["nickname"] == "DECLARED-bob-nick-77"


def test_release_of_an_owner_with_another_remaining_keeps_that_owners_value(
    *, seed_users, deployer, cognito, pool_id
):
    from cfnlocal.events import stack_id as new_stack_id

    deployer.apply(pool_id, "bob", {"nickname": "DECLARED-bob-nick-77"})
    deployer.apply(
        pool_id,
        "bob",
        {"nickname": "OTHER-bob-nick-88"},
        stack_id=new_stack_id("Other"),
        logical_id="Other",
    )
    owner = _owner(deployer, pool_id, "bob")

    dry = seed_users("release", owner, "--json", "--show-values").json()
    row = dry["steps"][0]["attributes"][0]
    assert row["after"]["value"] == "OTHER-bob-nick-88"
    assert row["ledger"].startswith("release: 1 other owner(s) remain")

    assert seed_users("release", owner, "--apply").code == 0
    assert user_attributes(cognito, pool_id, "bob")["nickname"] == "OTHER-bob-nick-88"
    assert BOB["nickname"] != "OTHER-bob-nick-88"


@pytest.mark.parametrize(
    ("owner", "message"),
    [
        ("0123456789abcdef", "owner 0123456789abcdef: not in ledger table seed-users-ledger"),
        (
            "xyz",
            "owner 'xyz': not an owner id (at least 8 of the 32 hex digits `status` and "
            "`orphans` print)",
        ),
    ],
)
def test_release_of_an_unknown_owner_is_one_line_and_exit_1(*, seed_users, pool_id, owner, message):
    run = seed_users("release", owner, "--apply")

    assert run.code == 1
    assert run.err.splitlines() == [f"seed-users: error: {message}"]
