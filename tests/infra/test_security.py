"""Least privilege, proven on synthesized templates: cdk-nag, cfn-lint and IAM assertions.

Three stacks are synthesized in one app with cdk-nag's ``AwsSolutionsChecks`` plugin: the
construct with its defaults (three users in two pools, its own ledger and key), the app's
``SeedUsersStack`` built from the repository's ``seed-users.yaml``, and the same users placed in
nested stacks with write pacing on. The provider acknowledges its accepted findings itself, with
their reasons (``cognito_seed_users/accepted_findings.py``), so no suppression is added here.

Every template of the assembly is checked (``*.template.json``: nested stacks too), so the
assertions keep holding when the stacks are rearranged.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Template
from cdk_nag import AwsSolutionsChecks
from constructs import Construct

from cognito_seed_users import (
    CognitoUserAttributes,
    CognitoUserAttributesProvider,
    OnDelete,
    Placement,
    deployment_region,
    load_seed_document,
    parse_seed_users,
)
from cognito_seed_users.accepted_findings import SUPPRESSIONS, accepted_findings
from stacks import SeedUsersStack
from tests.infra.support import (
    OTHER_POOL_ID,
    POOL_ID,
    REPO,
    cdk_app,
    function_by_handler,
    lint_problems,
    role_of,
)

SCOPED_SERVICES = ("cognito-idp", "dynamodb", "kms", "secretsmanager", "ssm", "sqs")
"""Services whose statements must name their resources: the users, the ledger and its key,
the referenced secrets, and the event queues."""
REGION = "eu-west-1"


@dataclass(frozen=True)
class NagRun:
    outdir: Path
    report: dict[str, Any]
    acknowledged: list[tuple[str, str]]

    def templates(self) -> dict[str, dict[str, Any]]:
        return {
            path.name: json.loads(path.read_text(encoding="utf-8"))
            for path in sorted(self.outdir.glob("*.template.json"))
        }

    def violations(self) -> list[dict[str, Any]]:
        return [v for report in self.report["pluginReports"] for v in report["violations"]]

    def suppressed(self) -> list[dict[str, Any]]:
        return [
            v
            for report in self.report["pluginReports"]
            for v in report.get("suppressedViolations", [])
        ]


def synth_with_nag(app: cdk.App, outdir: Path) -> dict[str, Any]:
    """Synthesize ``app`` with ``AwsSolutionsChecks``; the plugin's validation report."""
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    try:
        app.synth()
    except RuntimeError as error:
        # Unacknowledged findings fail synth; the report says which.
        if "ValidationFailed" not in str(error):
            raise
    report_file = outdir / "validation-report.json"
    assert report_file.exists(), "cdk-nag wrote no validation report: did the plugin run?"
    report: dict[str, Any] = json.loads(report_file.read_text(encoding="utf-8"))
    assert [r["pluginName"] for r in report["pluginReports"]] == ["AwsSolutions"]
    return report


@pytest.fixture(scope="module")
def nag_run(tmp_path_factory: pytest.TempPathFactory) -> NagRun:
    outdir = tmp_path_factory.mktemp("cdk.out")
    app = cdk_app(outdir)

    defaults = cdk.Stack(app, "ConstructDefaults", env=cdk.Environment(region=REGION))
    pool = cognito.UserPool.from_user_pool_id(defaults, "Pool", POOL_ID)
    other = cognito.UserPool.from_user_pool_id(defaults, "OtherPool", OTHER_POOL_ID)
    CognitoUserAttributes(
        defaults,
        "CiBot",
        user_pool=pool,
        username="ci-bot",
        attributes={"email": "ci-bot@example.com", "custom:tenant_id": "acme", "nickname": None},
        client_metadata={"source": "tests"},
    )
    CognitoUserAttributes(
        defaults,
        "Reporting",
        user_pool=pool,
        username="reporting-service",
        attributes={"custom:role": "reporting"},
        on_delete=OnDelete.RETAIN,
    )
    CognitoUserAttributes(
        defaults, "Tester", user_pool=other, username="e2e", attributes={"locale": "en-GB"}
    )

    source = "seed-users.yaml"
    seed_users = parse_seed_users(
        load_seed_document((REPO / source).read_text(encoding="utf-8"), source=source),
        source=source,
        user_pool_id_override=None,
    )
    region = cdk.Environment(region=deployment_region(seed_users, source=source))
    SeedUsersStack(app, "CognitoSeedUsers", seed_users=seed_users, env=region)
    SeedUsersStack(
        app,
        "NestedSeedUsers",
        seed_users=seed_users,
        placement=Placement.NESTED,
        update_quota_share=0.2,
        env=region,
    )

    acknowledged = [
        (suppression.acknowledged_id, resource.node.path)
        for provider in providers(app)
        for suppression, resource in accepted_findings(provider)
    ]
    return NagRun(outdir, synth_with_nag(app, outdir), acknowledged)


def providers(scope: Construct) -> list[CognitoUserAttributesProvider]:
    """Every distinct provider under ``scope`` (one per stack)."""
    found: dict[str, CognitoUserAttributesProvider] = {}
    for construct in scope.node.find_all():
        if isinstance(construct, CognitoUserAttributes):
            found.setdefault(construct.provider.node.path, construct.provider)
    return list(found.values())


def _describe(violation: dict[str, Any]) -> list[str]:
    return [
        f"{violation['ruleName']} at {construct['constructPath']}: {violation['description']}"
        for construct in violation["violatingConstructs"]
    ]


# -- cdk-nag ----------------------------------------------------------------------------------


def test_aws_solutions_checks_leave_no_unacknowledged_finding(nag_run: NagRun) -> None:
    findings = [line for violation in nag_run.violations() for line in _describe(violation)]
    assert findings == [], "\n".join(findings)


def test_every_acknowledgment_is_made_on_the_resource_it_covers(nag_run: NagRun) -> None:
    reasons = {suppression.rule: suppression.reason for suppression in SUPPRESSIONS}
    suppressed = nag_run.suppressed()
    assert suppressed, "nothing was acknowledged: the acknowledgments no longer match anything"
    for violation in suppressed:
        rule = violation["ruleName"]
        # One finding (rule and, for IAM5, the exact action or resource), never a rule prefix.
        assert violation["acknowledgedId"] == f"AwsSolutions::{rule}"
        assert violation["reason"] == reasons[rule]
        for construct in violation["violatingConstructs"]:
            # Made on the resource itself: one on a parent would cover everything beneath it.
            assert violation["acknowledgedAt"] == construct["constructPath"], violation


def test_every_acknowledgment_is_still_needed(nag_run: NagRun) -> None:
    used = {
        (violation["acknowledgedId"], construct["constructPath"])
        for violation in nag_run.suppressed()
        for construct in violation["violatingConstructs"]
    }
    # One provider per stack, each with every accepted finding (L1 on each of its three
    # functions, the two IAM5 on the worker's policy); a stale one hides nothing, but says the
    # construct changed and the list (and this module's reasons) must follow.
    assert len(SUPPRESSIONS) == 3
    assert len(nag_run.acknowledged) == 3 * (3 + 2)
    assert set(nag_run.acknowledged) == used


def test_aws_solutions_checks_do_report_a_wildcard_policy(tmp_path: Path) -> None:
    """The plugin really runs here, nested stacks included: a policy on every resource is a
    finding."""
    app = cdk_app(tmp_path)
    stack = cdk.Stack(app, "Canary", env=cdk.Environment(region=REGION))
    nested = cdk.NestedStack(stack, "Shard")
    for scope in (stack, nested):
        role = iam.Role(scope, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
        role.add_to_policy(iam.PolicyStatement(actions=["cognito-idp:*"], resources=["*"]))

    report = synth_with_nag(app, tmp_path)

    found = {
        (v["ruleName"], c["constructPath"])
        for r in report["pluginReports"]
        for v in r["violations"]
        for c in v["violatingConstructs"]
    }
    for path in ("Canary/Role/DefaultPolicy/Resource", "Canary/Shard/Role/DefaultPolicy/Resource"):
        assert ("AwsSolutions-IAM5[Action::cognito-idp:*]", path) in found
        assert ("AwsSolutions-IAM5[Resource::*]", path) in found


# -- cfn-lint ---------------------------------------------------------------------------------


def test_every_synthesized_template_passes_cfn_lint(nag_run: NagRun) -> None:
    templates = nag_run.templates()
    assert set(templates) >= {
        "ConstructDefaults.template.json",
        "CognitoSeedUsers.template.json",
        "NestedSeedUsers.template.json",
    }
    assert len(templates) > 3, "the nested stacks' templates are linted too"
    problems = {name: lint_problems(template) for name, template in templates.items()}
    assert {name: found for name, found in problems.items() if found} == {}


# -- IAM --------------------------------------------------------------------------------------


def _resources_of(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: r for k, r in template.get("Resources", {}).items() if r["Type"] == kind}


def _as_list(value: object) -> list[Any]:
    return value if isinstance(value, list) else [value]


def identity_statements(template: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every statement of every identity policy in ``template`` (inline, attached or managed),
    with the logical id that holds it. Key and resource policies are not identity policies:
    there ``*`` means the resource the policy is attached to."""
    for logical_id, resource in template.get("Resources", {}).items():
        properties = resource.get("Properties", {})
        kind = resource["Type"]
        documents = []
        if kind in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            documents.append(properties["PolicyDocument"])
        elif kind in ("AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group"):
            documents.extend(policy["PolicyDocument"] for policy in properties.get("Policies", []))
        for document in documents:
            for statement in _as_list(document["Statement"]):
                yield logical_id, statement


def test_statements_for_users_ledger_keys_and_secrets_name_specific_resources(
    nag_run: NagRun,
) -> None:
    checked: set[str] = set()
    for name, template in nag_run.templates().items():
        for logical_id, statement in identity_statements(template):
            actions = [str(action) for action in _as_list(statement.get("Action", []))]
            services = {action.split(":", 1)[0] for action in actions}
            scoped = services & set(SCOPED_SERVICES)
            if not scoped and "NotAction" not in statement:
                continue
            where = f"{name} {logical_id} {actions}"
            assert "NotAction" not in statement, f"{where}: NotAction allows every other action"
            assert "NotResource" not in statement, f"{where}: NotResource allows the rest"
            assert statement["Effect"] == "Allow"
            assert "*" not in actions, where
            for action in actions:
                assert not action.endswith(":*"), f"{where}: every action of a service"
            resources = _as_list(statement["Resource"])
            assert resources, where
            for resource in resources:
                text = json.dumps(resource)
                assert "*" not in text, f"{where}: resource {text}"
            checked |= scoped
    # The services the construct always uses are present (secretsmanager and ssm only appear
    # when a declaration references a secret).
    assert checked >= {"cognito-idp", "dynamodb", "kms", "sqs"}


def test_function_role_carries_no_managed_policy(nag_run: NagRun) -> None:
    """Not even AWSLambdaBasicExecutionRole: it may write to every log group in the account;
    the role gets write access to its own log group instead."""
    checked = 0
    for name, template in nag_run.templates().items():
        resources = template["Resources"]
        assert not [r for r in resources.values() if r["Type"] == "AWS::IAM::ManagedPolicy"]
        roles = _resources_of(template, "AWS::IAM::Role")
        assert len(roles) in (0, 3), f"{name}: the provider's three roles (a shard has none)"
        checked += len(roles)
        for logical_id, role in roles.items():
            assert "ManagedPolicyArns" not in role["Properties"], f"{name} {logical_id}"
            assert "Policies" not in role["Properties"], f"{name} {logical_id}"
            assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"] == [
                {
                    "Action": "sts:AssumeRole",
                    "Effect": "Allow",
                    "Principal": {"Service": "lambda.amazonaws.com"},
                }
            ]
    assert checked == 9


# -- ledger and logs --------------------------------------------------------------------------


def test_ledger_is_encrypted_with_its_own_rotating_customer_managed_key(nag_run: NagRun) -> None:
    tables = [
        (name, template, table)
        for name, template in nag_run.templates().items()
        for table in _resources_of(template, "AWS::DynamoDB::Table").values()
    ]
    assert len(tables) == 3
    for name, template, table in tables:
        sse = table["Properties"]["SSESpecification"]
        assert sse["SSEEnabled"] is True
        assert sse["SSEType"] == "KMS"
        key_id, attribute = sse["KMSMasterKeyId"]["Fn::GetAtt"]
        assert attribute == "Arn"
        key = template["Resources"][key_id]
        assert key["Type"] == "AWS::KMS::Key", name
        assert key["Properties"]["EnableKeyRotation"] is True
        assert key["Properties"].get("KeySpec", "SYMMETRIC_DEFAULT") == "SYMMETRIC_DEFAULT"
        # The retained table stays readable: its key is retained with it.
        assert key["DeletionPolicy"] == table["DeletionPolicy"] == "Retain"


def test_function_logs_to_its_own_log_group_with_a_retention(nag_run: NagRun) -> None:
    functions = [
        (name, template, function)
        for name, template in nag_run.templates().items()
        for function in _resources_of(template, "AWS::Lambda::Function").values()
    ]
    assert len(functions) == 9
    for name, template, function in functions:
        log_group_id = function["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
        log_group = template["Resources"][log_group_id]
        assert log_group["Type"] == "AWS::Logs::LogGroup", name
        assert log_group["Properties"]["RetentionInDays"] > 0
    log_groups = [
        (name, function["Properties"]["LoggingConfig"]["LogGroup"]["Ref"])
        for name, _, function in functions
    ]
    assert len(set(log_groups)) == len(log_groups), "each function logs to a group of its own"


# -- a ledger the caller passes ----------------------------------------------------------------


def _caller_table(stack: cdk.Stack, key: kms.IKey | None) -> dynamodb.Table:
    return dynamodb.Table(
        stack,
        "CallerLedger",
        partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
        sort_key=dynamodb.Attribute(name="sk", type=dynamodb.AttributeType.STRING),
        encryption=(
            dynamodb.TableEncryption.CUSTOMER_MANAGED
            if key is not None
            else dynamodb.TableEncryption.AWS_MANAGED
        ),
        encryption_key=key,
    )


def test_a_caller_ledger_with_its_own_key_gets_access_to_that_key_only(stack: cdk.Stack) -> None:
    key = kms.Key(stack, "CallerKey", enable_key_rotation=True)
    CognitoUserAttributes(
        stack,
        "CiBot",
        user_pool=cognito.UserPool.from_user_pool_id(stack, "Pool", POOL_ID),
        username="ci-bot",
        attributes={"locale": "en-GB"},
        ledger=_caller_table(stack, key),
    )
    template: dict[str, Any] = dict(Template.from_stack(stack).to_json())
    keys = _resources_of(template, "AWS::KMS::Key")
    [key_id] = [k for k in keys if k.startswith("CallerKey")]
    [queue_key_id] = [k for k in keys if k != key_id]
    [table_id] = _resources_of(template, "AWS::DynamoDB::Table")
    _, worker = function_by_handler(template, "worker.handler")
    kms_grants = [
        (logical_id, resource)
        for logical_id, statement in identity_statements(template)
        if any(str(a).startswith("kms:") for a in _as_list(statement["Action"]))
        for resource in _as_list(statement["Resource"])
    ]
    ledger_key = {"Fn::GetAtt": [key_id, "Arn"]}
    assert {str(r) for _, r in kms_grants} == {
        str(ledger_key),
        str({"Fn::GetAtt": [queue_key_id, "Arn"]}),
    }
    # Only the worker reads and writes the ledger.
    ledger_grants = {lid for lid, r in kms_grants if r == ledger_key}
    assert ledger_grants
    for logical_id in ledger_grants:
        roles = template["Resources"][logical_id]["Properties"]["Roles"]
        assert roles == [{"Ref": role_of(template, worker)}], logical_id
    dynamodb_resources = [
        resource
        for _, statement in identity_statements(template)
        if any(str(a).startswith("dynamodb:") for a in _as_list(statement["Action"]))
        for resource in _as_list(statement["Resource"])
    ]
    assert dynamodb_resources == [{"Fn::GetAtt": [table_id, "Arn"]}]


def test_a_caller_ledger_without_a_customer_managed_key_is_refused(stack: cdk.Stack) -> None:
    """DEFECT: accepted. Issue 5 section 2: the ledger holds original values, so it is encrypted
    with a customer-managed key, the construct's or the caller's; a table without one (or one
    imported without its key) should be refused at synth, naming the construct."""
    with pytest.raises(ValueError, match="customer-managed KMS key") as raised:
        CognitoUserAttributes(
            stack,
            "CiBot",
            user_pool=cognito.UserPool.from_user_pool_id(stack, "Pool", POOL_ID),
            username="ci-bot",
            attributes={"locale": "en-GB"},
            ledger=_caller_table(stack, None),
        )
    assert "TestStack/CiBot" in str(raised.value)
