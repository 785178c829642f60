"""app.py with 5,000 users: nested stacks within CloudFormation's limits, lint-clean, and the
app's placement and pacing context."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from cfnlocal.assembly import SynthesizedStack, nested_stacks
from cognito_seed_users import MAX_USERS_PER_SHARD, shard_of, user_logical_id
from tests.infra.support import (
    POOL_ID,
    REPO,
    function_by_handler,
    lint_problems,
    maximum_concurrency,
)
from tests.infra.test_app import run_app

RESOURCE_TYPE = "Custom::CognitoUserAttributes"
USERS = 5_000
MAX_TEMPLATE_BYTES = 1_000_000
MAX_RESOURCES = 500
MAX_PARAMETERS = 200


def seed_file(path: Path, count: int) -> Path:
    users = [
        {
            "username": f"tenant-user-{index:05}",
            "attributes": {
                "custom:tenant_id": f"tenant-{index % 97}",
                "email": f"tenant-user-{index:05}@example.com",
                "nickname": None,
            },
        }
        for index in range(count)
    ]
    path.write_text(yaml.safe_dump({"userPoolId": POOL_ID, "users": users}), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def large(tmp_path_factory: pytest.TempPathFactory) -> SynthesizedStack:
    work = tmp_path_factory.mktemp("scale")
    outdir = work / "cdk.out"
    result = run_app(
        outdir,
        {"seedUsersFile": str(seed_file(work / "users.yaml", USERS))},
        cwd=work,
    )
    assert result.returncode == 0, result.stderr
    return SynthesizedStack(outdir, "CognitoSeedUsers")


def test_five_thousand_users_land_in_nested_stacks_within_cloudformation_limits(
    large: SynthesizedStack,
) -> None:
    nested = nested_stacks(large)
    assert not large.custom_resources()
    assert len(large.resources) < MAX_RESOURCES
    seen: dict[str, str] = {}
    for stack in nested:
        resources = stack.custom_resources()
        assert 0 < len(resources) <= MAX_USERS_PER_SHARD
        assert len(stack.resources) <= MAX_RESOURCES
        assert len(stack.template.get("Parameters", {})) <= MAX_PARAMETERS
        assert (large.assembly_dir / stack.template_file).stat().st_size < MAX_TEMPLATE_BYTES
        shards = {shard_of(POOL_ID, r.properties["Username"]) for r in resources}
        assert len(shards) == 1, "one shard per nested stack"
        for resource in resources:
            username = resource.properties["Username"]
            assert resource.logical_id == user_logical_id(POOL_ID, username)
            seen[username] = stack.logical_id
    assert len(seen) == USERS
    _, worker = function_by_handler(large.template, "worker.handler")
    assert worker["Properties"]["Environment"]["Variables"]["COGNITO_USER_UPDATE_RATE"] == "2"
    assert maximum_concurrency(large.template) == 5


def test_five_thousand_users_pass_cfn_lint(large: SynthesizedStack) -> None:
    """The parent and the largest and smallest shards (the shards differ only in users);
    ``benchmarks/scale_deploy.py`` lints every template."""
    assert lint_problems(large.template) == []
    by_size = sorted(nested_stacks(large), key=lambda stack: len(stack.resources))
    for stack in (by_size[0], by_size[-1]):
        assert lint_problems(stack.template) == []


def test_placement_and_share_come_from_context(tmp_path: Path) -> None:
    outdir = tmp_path / "cdk.out"
    result = run_app(outdir, {"placement": "nested", "updateQuotaShare": "1"}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    stack = SynthesizedStack(outdir, "CognitoSeedUsers")
    assert not stack.custom_resources()
    assert sum(len(n.custom_resources()) for n in nested_stacks(stack)) == 3
    _, worker = function_by_handler(stack.template, "worker.handler")
    assert maximum_concurrency(stack.template) == 13
    variables = worker["Properties"]["Environment"]["Variables"]
    total = float(variables["COGNITO_USER_UPDATE_RATE"]) * 13
    assert total <= 25
    assert total == pytest.approx(25, rel=1e-3)


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({"placement": "sideways"}, "context placement: must be one of auto, inline, nested"),
        ({"updateQuotaShare": "2"}, "context updateQuotaShare: update_quota_share must be"),
        ({"updateQuotaShare": "lots"}, "context updateQuotaShare: could not convert"),
    ],
)
def test_bad_context_exits_1_with_one_line(
    tmp_path: Path, context: dict[str, str], message: str
) -> None:
    result = run_app(tmp_path / "cdk.out", context, cwd=REPO)
    assert result.returncode == 1
    assert result.stderr.strip().startswith(message), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_default_app_stays_in_one_stack(tmp_path: Path) -> None:
    outdir = tmp_path / "cdk.out"
    assert run_app(outdir, {}, cwd=tmp_path).returncode == 0
    template = json.loads((outdir / "CognitoSeedUsers.template.json").read_text())
    types = [resource["Type"] for resource in template["Resources"].values()]
    assert types.count(RESOURCE_TYPE) == 3
    assert "AWS::CloudFormation::Stack" not in types
