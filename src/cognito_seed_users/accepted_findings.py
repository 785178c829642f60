"""The cdk-nag (``AwsSolutionsChecks``) findings the provider accepts, each with its reason.

The provider acknowledges them on its own resources, so an app that runs cdk-nag's
AwsSolutions pack over these constructs sees no finding of theirs and needs no suppression
list of its own; each acknowledgment carries its reason into the validation report. It uses
only aws-cdk-lib's ``Validations`` API, so the library does not depend on cdk-nag.

cdk-nag 3 is a CDK policy-validation plugin (``Validations.of(app).add_plugins(...)``; using it
as an Aspect, as cdk-nag 2 was, fails with ``aspect.visit is not a function``). A finding is
acknowledged with ``Validations.of(construct).acknowledge(Acknowledgment(id=..., reason=...))``
where ``id`` is ``<pack>::<rule>[<finding>]``. An acknowledgment on a construct also covers
its children, so every one here is made on the exact CloudFormation resource the finding names
(never on a stack or a parent), and ``tests/infra/test_security.py`` checks that each was made
there and is still needed.

The resources are found through the provider's own properties (its functions, the worker
role's ``DefaultPolicy``), not by path, so the list survives a change of stack layout.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from aws_cdk import Acknowledgment, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import IConstruct

if TYPE_CHECKING:
    from .cognito_user_attributes import CognitoUserAttributesProvider

PACK: Final = "AwsSolutions"


@dataclass(frozen=True)
class Suppression:
    """One finding on one resource of the provider, and why it is acceptable."""

    rule: str
    """The finding as cdk-nag reports it, e.g. ``AwsSolutions-IAM5[Action::kms:ReEncrypt*]``."""
    reason: str
    resources: Callable[[CognitoUserAttributesProvider], list[IConstruct]]
    """The CloudFormation resources (L1) of the stack's provider that carry the finding."""

    @property
    def acknowledged_id(self) -> str:
        return f"{PACK}::{self.rule}"


def _function_resources(provider: CognitoUserAttributesProvider) -> list[IConstruct]:
    return [
        resource
        for function in provider.node.children
        if isinstance(function, lambda_.Function)
        for resource in _default_child(function)
    ]


def _worker_default_policy(provider: CognitoUserAttributesProvider) -> list[IConstruct]:
    role = provider.worker.role
    policy = role.node.try_find_child("DefaultPolicy") if isinstance(role, iam.Role) else None
    return _default_child(policy) if policy is not None else []


def _default_child(construct: IConstruct) -> list[IConstruct]:
    resource = construct.node.default_child
    return [] if resource is None else [resource]


SUPPRESSIONS: Final = (
    Suppression(
        "AwsSolutions-L1",
        "The runtime is fixed by the project contract (DESIGN.md section 7: Python 3.13, arm64), "
        "a supported, non-deprecated Lambda runtime; the handler and the crhelper copy bundled "
        "from the build environment are type-checked and tested on 3.13, so moving to a newer "
        "runtime is a deliberate, tested change rather than whatever is newest at synth time. "
        "The provider's three functions (front, worker, dead-letter consumer) share the asset.",
        _function_resources,
    ),
    Suppression(
        "AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
        "Added by Table.grant_read_write_data for the ledger's customer-managed key. The "
        "statement's Resource is that single key's ARN (no resource wildcard): the wildcard "
        "only covers the GenerateDataKey variants on the one key DynamoDB uses to encrypt "
        "ledger items.",
        _worker_default_policy,
    ),
    Suppression(
        "AwsSolutions-IAM5[Action::kms:ReEncrypt*]",
        "Added by Table.grant_read_write_data for the ledger's customer-managed key. The "
        "statement's Resource is that single key's ARN, so ReEncryptFrom/ReEncryptTo can only "
        "re-encrypt under that same key; no other key and no data outside the ledger is reachable.",
        _worker_default_policy,
    ),
)


def accepted_findings(
    provider: CognitoUserAttributesProvider,
) -> list[tuple[Suppression, IConstruct]]:
    """Each accepted finding with the resource of ``provider`` it is acknowledged on."""
    return [
        (suppression, resource)
        for suppression in SUPPRESSIONS
        for resource in suppression.resources(provider)
    ]


def acknowledge_accepted_findings(provider: CognitoUserAttributesProvider) -> None:
    """Acknowledge every accepted finding on the exact resource of ``provider`` it names."""
    for suppression, resource in accepted_findings(provider):
        Validations.of(resource).acknowledge(
            Acknowledgment(id=suppression.acknowledged_id, reason=suppression.reason)
        )
