"""References in declarations: parsed from ValueFrom, claimed as references, written resolved."""

from __future__ import annotations

import pytest
from user_attributes.errors import InvalidDeclaration
from user_attributes.model import ABSENT, SecretRef, SecretSource, UserLedger
from user_attributes.plan import plan_reconcile, references_needed
from user_attributes.properties import parse_properties

ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:seed/api-AbCdEf"
REF = SecretRef(SecretSource.SECRETS_MANAGER, ARN, json_key="key", version_stage="AWSCURRENT")
OTHER = SecretRef(SecretSource.SSM_PARAMETER, "/seed/other")


def _properties(value_from: object) -> dict[str, object]:
    return {
        "UserPoolId": "eu-west-1_Pool1",
        "Username": "alice",
        "UserAttributes": [{"Name": "custom:api_key", "ValueFrom": value_from}],
    }


def test_secret_reference_is_parsed_with_key_and_stage():
    declaration = parse_properties(
        _properties({"SecretId": ARN, "JsonKey": "key", "VersionStage": "AWSCURRENT"})
    )
    assert declaration.attributes == {"custom:api_key": REF}


def test_parameter_reference_with_version_is_parsed():
    declaration = parse_properties(
        _properties({"ParameterName": "/seed/pin", "ParameterVersion": "3"})
    )
    assert declaration.attributes["custom:api_key"] == SecretRef(
        SecretSource.SSM_PARAMETER, "/seed/pin", version_id="3"
    )


def test_email_from_a_secret_still_gets_its_verified_flag():
    properties = _properties({"SecretId": ARN})
    properties["UserAttributes"] = [{"Name": "email", "ValueFrom": {"SecretId": ARN}}]
    assert parse_properties(properties).attributes["email_verified"] == "true"


@pytest.mark.parametrize(
    ("value_from", "fragment"),
    [
        pytest.param({"SecretId": "seed/api"}, "SecretId must be a secret's full ARN", id="name"),
        pytest.param({"SecretId": ARN, "Extra": "x"}, "SecretId must be", id="unknown-key"),
        pytest.param({"ParameterName": "/p", "ParameterVersion": "x"}, "numeric", id="version"),
        pytest.param(
            {"Bucket": "b"}, "needs SecretId (Secrets Manager) or ParameterName", id="none"
        ),
        pytest.param("arn:aws:secret", "must be an object of non-empty strings", id="string"),
        pytest.param({"SecretId": ""}, "must be an object of non-empty strings", id="empty"),
    ],
)
def test_malformed_reference_is_refused_naming_the_attribute(value_from, fragment):
    with pytest.raises(InvalidDeclaration) as caught:
        parse_properties(_properties(value_from))
    assert "UserAttributes[0] (custom:api_key).ValueFrom" in str(caught.value)
    assert fragment in str(caught.value)


def test_plan_claims_the_reference_and_writes_the_resolved_value():
    plan = plan_reconcile(
        owner_id="o1",
        desired={"custom:api_key": REF},
        ledger=UserLedger(),
        live={"custom:api_key": "previous"},
        resolved={REF: "resolved-secret"},
    )
    (change,) = plan.claims
    assert change.after is not None
    assert change.after.owners["o1"].value == REF
    assert change.after.original == "previous"
    assert dict(plan.claim_writes.update) == {"custom:api_key": "resolved-secret"}


def test_releasing_reapplies_the_remaining_owners_reference_resolved():
    first = plan_reconcile(
        owner_id="o1",
        desired={"custom:api_key": REF},
        ledger=UserLedger(),
        live={},
        resolved={REF: "one"},
    )
    ledger = first.ledger_after(UserLedger())
    second = plan_reconcile(
        owner_id="o2",
        desired={"custom:api_key": OTHER},
        ledger=ledger,
        live={"custom:api_key": "one"},
        resolved={OTHER: "two"},
    )
    ledger = second.ledger_after(ledger)
    assert references_needed(ledger, "o2", None) == {REF}

    release = plan_reconcile(
        owner_id="o2",
        desired=None,
        ledger=ledger,
        live={"custom:api_key": "two"},
        resolved={REF: "one"},
    )
    assert dict(release.release_writes.update) == {"custom:api_key": "one"}


def test_an_owner_never_needs_its_own_previous_reference():
    first = plan_reconcile(
        owner_id="o1",
        desired={"custom:api_key": REF, "nickname": OTHER},
        ledger=UserLedger(),
        live={},
        resolved={REF: "one", OTHER: "two"},
    )
    ledger = first.ledger_after(UserLedger())

    assert references_needed(ledger, "o1", None) == frozenset()
    assert references_needed(ledger, "o1", {"custom:api_key": REF}) == {REF}
    plan = plan_reconcile(
        owner_id="o1",
        desired={"custom:api_key": REF},
        ledger=ledger,
        live={},
        resolved={REF: "one"},
    )
    assert plan.restored == {"nickname"}


def test_planning_without_a_needed_resolution_is_an_error_not_a_wrong_write():
    with pytest.raises(KeyError, match="reference not resolved"):
        plan_reconcile(owner_id="o1", desired={"custom:api_key": REF}, ledger=UserLedger(), live={})


def test_absent_and_plain_values_need_no_reference():
    assert references_needed(UserLedger(), "o1", {"nickname": ABSENT, "name": "n"}) == frozenset()
