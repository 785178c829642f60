"""The cdk-nag (``AwsSolutionsChecks``) findings this project accepts, each with its reason.

cdk-nag 3 is a CDK policy-validation plugin (``Validations.of(app).add_plugins(...)``; using it
as an Aspect, as cdk-nag 2 was, fails with ``aspect.visit is not a function``). A finding is
acknowledged with ``Validations.of(construct).acknowledge(Acknowledgment(id=..., reason=...))``
where ``id`` is ``<pack>::<rule>[<finding>]``. An acknowledgment on a construct also covers
its children, so every one here is made on the exact CloudFormation resource the finding names
(never on a stack or a parent), and ``test_security`` checks that each was made there and is
still needed.

The resources are found through the construct's own properties (``function``, its role's
``DefaultPolicy``), not by path, so the list survives a change of stack layout.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from aws_cdk import Acknowledgment, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct, IConstruct

from stacks import CognitoUserAttributes

PACK: Final = "AwsSolutions"


@dataclass(frozen=True)
class Suppression:
    """One finding on one resource of the provider, and why it is acceptable."""

    rule: str
    """The finding as cdk-nag reports it, e.g. ``AwsSolutions-IAM5[Action::kms:ReEncrypt*]``."""
    reason: str
    resource: Callable[[lambda_.Function], IConstruct]
    """The CloudFormation resource (L1) of the stack's provider that carries the finding."""

    @property
    def acknowledged_id(self) -> str:
        return f"{PACK}::{self.rule}"


def _function_resource(function: lambda_.Function) -> IConstruct:
    resource = function.node.default_child
    assert resource is not None
    return resource


def _role_default_policy(function: lambda_.Function) -> IConstruct:
    role = function.role
    assert isinstance(role, iam.Role)
    policy = role.node.find_child("DefaultPolicy")
    resource = policy.node.default_child
    assert resource is not None
    return resource


SUPPRESSIONS: Final = (
    Suppression(
        "AwsSolutions-L1",
        "The runtime is fixed by the project contract (DESIGN.md section 7: Python 3.13, arm64), "
        "a supported, non-deprecated Lambda runtime; the handler and the crhelper copy bundled "
        "from the build environment are type-checked and tested on 3.13, so moving to a newer "
        "runtime is a deliberate, tested change rather than whatever is newest at synth time.",
        _function_resource,
    ),
    Suppression(
        "AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
        "Added by Table.grant_read_write_data for the ledger's customer-managed key. The "
        "statement's Resource is that single key's ARN (no resource wildcard): the wildcard "
        "only covers the GenerateDataKey variants on the one key DynamoDB uses to encrypt "
        "ledger items.",
        _role_default_policy,
    ),
    Suppression(
        "AwsSolutions-IAM5[Action::kms:ReEncrypt*]",
        "Added by Table.grant_read_write_data for the ledger's customer-managed key. The "
        "statement's Resource is that single key's ARN, so ReEncryptFrom/ReEncryptTo can only "
        "re-encrypt under that same key; no other key and no data outside the ledger is reachable.",
        _role_default_policy,
    ),
)


def providers(scope: Construct) -> list[lambda_.Function]:
    """Every distinct provider function under ``scope`` (one per stack)."""
    found: dict[str, lambda_.Function] = {}
    for construct in scope.node.find_all():
        if isinstance(construct, CognitoUserAttributes):
            found.setdefault(construct.function.node.path, construct.function)
    return list(found.values())


def acknowledge_accepted_findings(scope: Construct) -> list[tuple[str, str]]:
    """Acknowledge ``SUPPRESSIONS`` on every provider under ``scope``.

    :returns: ``(acknowledged id, resource path)`` of every acknowledgment made.
    """
    made: list[tuple[str, str]] = []
    for function in providers(scope):
        for suppression in SUPPRESSIONS:
            resource = suppression.resource(function)
            Validations.of(resource).acknowledge(
                Acknowledgment(id=suppression.acknowledged_id, reason=suppression.reason)
            )
            made.append((suppression.acknowledged_id, resource.node.path))
    return made
