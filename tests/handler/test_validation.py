"""Validation before any write: FAILED, the attribute named in Reason, nothing written.

Each refused declaration also declares a valid attribute, and another resource already owns
a claim on the user, so "nothing written" compares a non-empty ledger and would notice a partial
write to Cognito.
"""

from __future__ import annotations

import pytest

from .helpers import declare, world

VALID = {"nickname": "VAL-nick-ok-a61f"}


@pytest.fixture
def baseline(*, driver, pool_id, alice):
    answer = driver.create(
        "Baseline", declare(pool_id, alice, {"custom:tenant_id": "VAL-tenant-base-a61f"})
    )
    assert answer.status == "SUCCESS", answer.reason
    return answer


@pytest.fixture
def refused(*, driver, aws_calls, cognito, dynamodb, pool_id, alice, baseline):
    """Create ``Candidate`` with ``attributes`` (plus a valid one); check it is refused, names
    ``attribute`` (and never ``value``), and writes nothing. Returns the answer."""

    def check(attributes, attribute, *, username=None, secret=None):
        before = world(cognito, dynamodb, pool_id, alice)
        writes = len(aws_calls.calls)
        properties = declare(pool_id, username or alice, {**VALID, **attributes})

        answer = driver.send("Create", "Candidate", properties)

        assert answer.status == "FAILED"
        assert attribute in answer.reason, answer.reason
        assert answer.physical_id
        for value in [*attributes.values(), *VALID.values(), secret]:
            if value and len(value) >= 6:
                assert value not in answer.reason
        assert aws_calls.calls[writes:] == []
        assert world(cognito, dynamodb, pool_id, alice) == before
        return answer

    return check


def test_unknown_custom_attribute_is_refused(*, refused):
    refused({"custom:favourite": "VAL-fav-a61f"}, "custom:favourite")


def test_unknown_standard_attribute_is_refused(*, refused):
    refused({"favourite_colour": "VAL-colour-a61f"}, "favourite_colour")


def test_immutable_attribute_is_refused(*, refused):
    refused({"custom:region_lock": "VAL-lock-us-a61f"}, "custom:region_lock")


def test_sub_is_refused(*, refused):
    refused({"sub": "VAL-sub-0000-a61f"}, "sub")


def test_value_longer_than_schema_maximum_is_refused(*, refused):
    too_long = "VAL-tenant-a61f-" + "x" * 21
    assert len(too_long) == 37
    refused({"custom:tenant_id": too_long}, "custom:tenant_id")


def test_number_that_does_not_parse_is_refused(*, refused):
    refused({"custom:seats": "abc"}, "custom:seats")


def test_number_above_schema_maximum_is_refused(*, refused):
    answer = refused({"custom:seats": "5000"}, "custom:seats")
    assert "1000" in answer.reason


def test_number_below_schema_minimum_is_refused(*, refused):
    refused({"custom:seats": "-1"}, "custom:seats")


def test_boolean_other_than_true_or_false_is_refused(*, refused):
    refused({"custom:beta": "yes"}, "custom:beta")


def test_phone_number_not_e164_is_refused(*, refused):
    refused({"phone_number": "12345"}, "phone_number")


def test_unknown_user_is_refused(*, refused):
    refused({"custom:plan": "VAL-pro-a61f"}, "Username", username="nobody-a61f")


def test_all_problems_are_reported_in_one_reason(*, refused):
    answer = refused(
        {"custom:seats": "abc", "custom:beta": "yes", "custom:region_lock": "VAL-lock-a61f"},
        "custom:seats",
    )
    assert "custom:beta" in answer.reason
    assert "custom:region_lock" in answer.reason


def test_update_to_invalid_declaration_is_refused_and_writes_nothing(
    *, driver, aws_calls, cognito, dynamodb, pool_id, alice, baseline
):
    before = world(cognito, dynamodb, pool_id, alice)
    writes = len(aws_calls.calls)

    answer = driver.update(
        "Baseline",
        declare(
            pool_id,
            alice,
            {"custom:tenant_id": "VAL-tenant-new-a61f", "custom:beta": "yes", **VALID},
        ),
    )

    assert answer is not None
    assert answer.status == "FAILED"
    assert "custom:beta" in answer.reason
    assert answer.physical_id == baseline.physical_id
    assert aws_calls.calls[writes:] == []
    assert world(cognito, dynamodb, pool_id, alice) == before
