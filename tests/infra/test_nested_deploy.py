"""Nested stacks deployed through the lifecycle driver: ``app.py`` synthesized with
``placement=nested``, each nested stack a ``LocalStack`` of its own (its own stack id, so its
own owners) served by the parent's one provider; and the one move ``Placement.AUTO`` makes
(from the stack itself into the shards) leaves every user with its declared values throughout.

``benchmarks/scale_deploy.py`` does the same with 5,000 users."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml

from cfnlocal.assembly import SynthesizedNestedStack, SynthesizedStack, nested_stacks, resolve
from cfnlocal.cloudformation import LocalStack, provider_function
from cfnlocal.https_sink import ResponseSink
from cfnlocal.seed_pool import create_user, create_user_pool, user_attributes
from tests.infra.support import REPO

USERS = 12
ARN = "arn:aws:lambda:eu-west-1:123456789012:function:CognitoSeedUsers-Provider"


@dataclass
class World:
    cognito: Any
    pool: str
    originals: dict[str, dict[str, str]]
    declared: dict[str, dict[str, str]]
    assembly: SynthesizedStack
    parent: LocalStack
    """The parent stack: its tables, its one provider (front function, queue, worker)."""

    def stack(self, name: str, template: dict[str, dict[str, Any]]) -> LocalStack:
        return self.parent.fresh(stack_name=name, template=template)

    def template(self, nested: SynthesizedNestedStack) -> dict[str, dict[str, Any]]:
        function_id = provider_function(self.assembly).logical_id
        arn = self.parent.driver.service_token
        physical = nested.parameter_values({}, {f"{function_id}.Arn": arn})
        return {
            resource.logical_id: {
                key: value
                for key, value in resolve(resource.properties, physical, {}).items()
                if key != "ServiceToken"
            }
            for resource in nested.custom_resources()
        }

    def live(self) -> dict[str, dict[str, str]]:
        return {user: user_attributes(self.cognito, self.pool, user) for user in self.declared}

    def with_declared(self) -> dict[str, dict[str, str]]:
        return {user: {**self.originals[user], **self.declared[user]} for user in self.declared}


@pytest.fixture
def world(tmp_path: Path, response_sink: ResponseSink, monkeypatch: pytest.MonkeyPatch) -> World:
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    cognito = boto3.client("cognito-idp")
    pool = create_user_pool(cognito, "nested")
    originals = {f"user-{i:02}": {"custom:tenant_id": f"orig-{i:02}"} for i in range(USERS)}
    declared = {
        f"user-{i:02}": {"custom:tenant_id": f"tenant-{i % 3}", "nickname": f"nick-{i:02}"}
        for i in range(USERS)
    }
    for user, attributes in originals.items():
        create_user(cognito, pool, user, attributes)
    seed_file = tmp_path / "users.yaml"
    seed_file.write_text(
        yaml.safe_dump(
            {
                "userPoolId": pool,
                "users": [{"username": u, "attributes": a} for u, a in declared.items()],
            }
        )
    )
    outdir = tmp_path / "cdk.out"
    context = {
        "seedUsersFile": str(seed_file),
        "placement": "nested",
        "aws:cdk:enable-asset-metadata": True,
    }
    result = subprocess.run(
        [sys.executable, str(REPO / "app.py")],
        env={**os.environ, "CDK_OUTDIR": str(outdir), "CDK_CONTEXT_JSON": json.dumps(context)},
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assembly = SynthesizedStack(outdir, "CognitoSeedUsers")
    parent = LocalStack.provision(
        assembly,
        response_sink,
        # The construct's pace (2 writes/s per environment) would only slow the test down.
        environment_overrides={"COGNITO_USER_UPDATE_RATE": "1000"},
    )
    return World(cognito, pool, originals, declared, assembly, parent)


def test_nested_stacks_deploy_and_delete_through_the_driver(world: World) -> None:
    nested = nested_stacks(world.assembly)
    assert 1 < len(nested) <= USERS
    assert not world.assembly.custom_resources()
    stacks = [world.stack(n.name, world.template(n)) for n in nested]
    assert sum(len(stack.template) for stack in stacks) == USERS
    for stack in stacks:
        assert stack.deploy().status == "CREATE_COMPLETE"
    assert world.live() == world.with_declared()
    for stack in stacks:
        assert stack.delete().status == "DELETE_COMPLETE"
    assert world.live() == world.originals


def test_moving_from_the_stack_into_shards_never_restores_in_between(world: World) -> None:
    """``Placement.AUTO`` crossing its limit: CloudFormation creates each user in its nested
    stack, then (cleanup) deletes the resource the stack itself held. Same logical ids, another
    stack id: the ledger sees a second owner arrive, then the first leave."""
    nested = nested_stacks(world.assembly)
    templates = [world.template(n) for n in nested]
    inline = world.stack("CognitoSeedUsers", {k: v for t in templates for k, v in t.items()})
    assert inline.deploy().status == "CREATE_COMPLETE"
    assert world.live() == world.with_declared()
    shards = [world.stack(n.name, t) for n, t in zip(nested, templates, strict=True)]
    for shard in shards:
        assert shard.deploy().status == "CREATE_COMPLETE"
        assert world.live() == world.with_declared()
    moved = inline.deploy({})  # the parent's update: its own resources are gone (cleanup)
    assert moved.status == "UPDATE_COMPLETE"
    assert [step.request_type for step, _ in moved.invocations] == ["Delete"] * USERS
    assert world.live() == world.with_declared()
    for shard in shards:
        assert shard.delete().status == "DELETE_COMPLETE"
    assert world.live() == world.originals
