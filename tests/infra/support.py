"""Helpers for the infrastructure tests: apps that synthesize like `cdk synth` does."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from aws_cdk import App, Stack
from aws_cdk.assertions import Template
from cfnlint.api import lint

REPO = Path(__file__).resolve().parents[2]
POOL_ID = "eu-west-1_Example123"
OTHER_POOL_ID = "eu-west-1_Other456"


def cdk_app(outdir: Path) -> App:
    """An App with cdk.json's context, plus the asset metadata the CDK CLI turns on."""
    context = json.loads((REPO / "cdk.json").read_text(encoding="utf-8"))["context"]
    return App(outdir=str(outdir), context={**context, "aws:cdk:enable-asset-metadata": True})


def template_json(stack: Stack) -> dict[str, object]:
    """The stack's synthesized template as plain JSON."""
    template: dict[str, object] = Template.from_stack(stack).to_json()
    return template


def function_by_handler(template: dict[str, Any], handler: str) -> tuple[str, dict[str, Any]]:
    """The logical id and resource of the template's one function with ``handler``."""
    [found] = [
        (logical_id, resource)
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Lambda::Function"
        and resource["Properties"]["Handler"] == handler
    ]
    return found


def role_of(template: dict[str, Any], function: dict[str, Any]) -> str:
    """The logical id of the role a function runs with."""
    role = function["Properties"]["Role"]
    logical_id: str = role["Fn::GetAtt"][0]
    return logical_id


def worker_role(template: dict[str, Any]) -> str:
    """The logical id of the worker's role (the one with the Cognito and ledger grants)."""
    _, worker = function_by_handler(template, "worker.handler")
    return role_of(template, worker)


def maximum_concurrency(template: dict[str, Any]) -> int:
    """The ``MaximumConcurrency`` of the worker's event source mapping."""
    [mapping] = [
        resource["Properties"]
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::Lambda::EventSourceMapping"
        and "ScalingConfig" in resource["Properties"]
    ]
    return int(mapping["ScalingConfig"]["MaximumConcurrency"])


def asset_dir(app: App, stack: Stack) -> Path:
    """Where the synthesized app staged the provider's code (one asset for its functions)."""
    assembly = app.synth()
    template = assembly.get_stack_artifact(stack.artifact_id).template
    _, function = function_by_handler(template, "front.handler")
    return Path(assembly.directory) / function["Metadata"]["aws:asset:path"]


def lint_problems(template: dict[str, object]) -> list[str]:
    """cfn-lint's errors and warnings for a template, minus what CDK itself always emits."""
    return [
        f"{match.rule.id} {match.message}"
        for match in lint(json.dumps(template), regions=["eu-west-1"])
        # CDK adds DependsOn on the role next to the GetAtt on it.
        if match.rule.id != "W3005"
    ]


def granted_pool_id(policy: dict[str, object]) -> str:
    """The pool id at the end of the one pool ARN a pool's Cognito policy grants (an
    ``Fn::Join`` in a stack without a Region)."""
    document = policy["Properties"]["PolicyDocument"]  # type: ignore[index]
    [statement] = document["Statement"]
    match = re.search(r'userpool/([^"]+)"', json.dumps(statement["Resource"]))
    assert match is not None, statement
    return match.group(1)


STAND_IN_ARN = "arn:aws:service:eu-west-1:123456789012:" + "r" * 300
"""Any other resource's ARN (``Fn::GetAtt``, an unknown ``Ref``): longer than CloudFormation
gives these, so a rendered policy is never shorter than IAM's."""


def render(value: Any, pseudo: dict[str, str]) -> Any:
    """A template value as IAM receives it: ``pseudo`` gives the pseudo parameters."""
    if isinstance(value, list):
        return [render(item, pseudo) for item in value]
    if not isinstance(value, dict):
        return value
    if set(value) == {"Ref"}:
        return pseudo.get(value["Ref"], STAND_IN_ARN)
    if set(value) == {"Fn::GetAtt"}:
        return STAND_IN_ARN
    if set(value) == {"Fn::Join"}:
        separator, parts = value["Fn::Join"]
        return separator.join(str(render(part, pseudo)) for part in parts)
    return {key: render(item, pseudo) for key, item in value.items()}


def iam_chars(document: object, pseudo: dict[str, str]) -> int:
    """The characters IAM counts in a policy document: white space is not counted."""
    return len(re.sub(r"\s", "", json.dumps(render(document, pseudo))))


def run_app(
    outdir: Path, context: dict[str, object], cwd: Path
) -> subprocess.CompletedProcess[str]:
    """``app.py`` as `cdk synth` runs it: a subprocess, context in ``CDK_CONTEXT_JSON``."""
    cdk_json = json.loads((REPO / "cdk.json").read_text(encoding="utf-8"))["context"]
    env = {
        **os.environ,
        "CDK_OUTDIR": str(outdir),
        "CDK_CONTEXT_JSON": json.dumps({**cdk_json, **context}),
    }
    return subprocess.run(
        [sys.executable, str(REPO / "app.py")],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
