"""The lifecycle's pure decisions (``user_attributes.steps``), as tables."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from user_attributes import steps
from user_attributes.errors import CreateRefused, OwnerUnknown
from user_attributes.identity import PhysicalId, owner_id
from user_attributes.model import (
    Claim,
    OwnerRecord,
    OwnerValue,
    ReleaseMarks,
    Target,
    UserLedger,
)

O1 = "a" * 32
RECORD = OwnerRecord(frozenset({"nickname"}), 1, created_by="r1")
KNOWN = UserLedger(
    claims={"nickname": Claim("x", {O1: OwnerValue("v", 1)}, 1)}, owners={O1: RECORD}
)
DEAD = UserLedger(dead_requests={O1: frozenset({"r1"})})
RELEASED = UserLedger(released_by_hand=frozenset({O1}))


@pytest.mark.parametrize(
    ("ledger", "desired", "request_id", "must_exist", "refused"),
    [
        pytest.param(UserLedger(), {"nickname": "v"}, "r1", False, None, id="new-owner"),
        pytest.param(KNOWN, {"nickname": "v"}, "r1", False, None, id="redelivery-finds-claims"),
        pytest.param(KNOWN, {"nickname": "v"}, "r1", True, None, id="update-known-owner"),
        pytest.param(UserLedger(), {"nickname": "v"}, "r1", True, OwnerUnknown, id="ledger-lost"),
        pytest.param(RELEASED, {"nickname": "v"}, "r2", True, None, id="released-by-hand"),
        pytest.param(DEAD, {"nickname": "v"}, "r1", False, CreateRefused, id="late-duplicate"),
        pytest.param(DEAD, {"nickname": "v"}, "r2", False, None, id="new-request-after-delete"),
        pytest.param(DEAD, None, "r1", False, None, id="release-never-refused"),
        pytest.param(DEAD, {}, "r1", True, None, id="nothing-declared"),
    ],
)
def test_ledger_refusal(ledger, desired, request_id, must_exist, refused):
    refusal = steps.ledger_refusal(
        owner=O1,
        desired=desired,
        ledger=ledger,
        request_id=request_id,
        owner_must_exist=must_exist,
        table_name="ledger",
    )
    assert type(refusal) is (type(None) if refused is None else refused)


@pytest.mark.parametrize(
    ("record", "dead"),
    [
        pytest.param(None, {}, id="unknown-owner"),
        pytest.param(OwnerRecord(frozenset(), 1), {}, id="record-without-request"),
        pytest.param(RECORD, {O1: frozenset({"r1"})}, id="creating-request"),
    ],
)
def test_dead_requests(record, dead):
    assert steps.dead_requests(O1, record) == dead


@pytest.mark.parametrize(
    ("release", "marks"),
    [
        pytest.param(None, ReleaseMarks(), id="no-release-no-marks"),
        pytest.param(
            steps.Release.CLOUDFORMATION,
            ReleaseMarks(dead_requests={O1: frozenset({"r1"})}),
            id="delete-declares-the-creating-request-dead",
        ),
        pytest.param(
            steps.Release.BY_HAND,
            ReleaseMarks(dead_requests={O1: frozenset({"r1"})}, released_by_hand=frozenset({O1})),
            id="by-hand-also-marks-the-owner",
        ),
    ],
)
def test_release_marks(release, marks):
    assert steps.release_marks(O1, RECORD, release) == marks
    assert bool(marks) is (release is not None)


@pytest.mark.parametrize(
    ("pool", "region", "refused"),
    [
        ("eu-west-1_Abc", "eu-west-1", False),
        ("eu-west-1_Abc", None, False),
        ("us-east-1_Abc", "eu-west-1", True),
    ],
)
def test_region_refusal(pool, region, refused):
    assert (steps.region_refusal(pool, region) is not None) is refused


DECLARED = Target("eu-west-1_P", "alias@example.com")
OWNER = owner_id("stack", "Bot", DECLARED)


@pytest.mark.parametrize(
    ("sent", "same_owner", "lookup"),
    [
        pytest.param(None, False, DECLARED, id="not-our-id"),
        pytest.param(PhysicalId("b" * 32, "eu-west-1_P", "u"), False, DECLARED, id="replacement"),
        pytest.param(
            PhysicalId(OWNER, "eu-west-1_P", "canonical"),
            True,
            Target("eu-west-1_P", "canonical"),
            id="same-owner-by-canonical-name",
        ),
    ],
)
def test_update_target(sent, same_owner, lookup):
    assert steps.update_target(OWNER, DECLARED, sent) == steps.UpdateTarget(same_owner, lookup)


@pytest.mark.parametrize(
    ("old_properties", "stale"),
    [
        pytest.param(None, None, id="no-old-properties"),
        pytest.param({"UserPoolId": "eu-west-1_P", "Username": DECLARED.username}, None, id="same"),
        pytest.param({"UserPoolId": "eu-west-1_P"}, None, id="unreadable"),
        pytest.param(
            {"UserPoolId": "eu-west-1_P", "Username": "spare"},
            (
                owner_id("stack", "Bot", Target("eu-west-1_P", "spare")),
                Target("eu-west-1_P", "spare"),
            ),
            id="rolled-back-replacement",
        ),
    ],
)
def test_failed_replacement(old_properties, stale):
    found = steps.failed_replacement(
        stack_id="stack", logical_resource_id="Bot", target=DECLARED, old_properties=old_properties
    )
    assert found == stale


IDS = st.builds(
    PhysicalId,
    st.just(OWNER),
    st.sampled_from(["eu-west-1_P", "eu-west-1_Q"]),
    st.sampled_from(["u", "v"]),
)


@given(sent=st.one_of(st.none(), IDS), applied=IDS)
def test_update_answer_id_changes_only_when_our_id_moved(sent, applied):
    sent_id = "invented-by-cloudformation" if sent is None else str(sent)
    answer = steps.update_answer_id(sent_id, sent, str(applied))
    assert answer == (sent_id if sent is None or sent == applied else str(applied))
