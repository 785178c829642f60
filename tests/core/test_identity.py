"""Owner ids and physical ids: stable, distinct, round-tripping, and bounded."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from user_attributes.identity import PhysicalId, owner_id, parse_physical_id
from user_attributes.model import Target

STACK_ARN = "arn:aws:cloudformation:eu-west-1:123456789012:stack/SeedUsers/"
STACK = STACK_ARN + "0f4c1a90-1111-11ef-9a5b-0a1b2c3d4e5f"
OTHER_STACK = STACK_ARN + "aaaa1a90-2222-11ef-9a5b-0a1b2c3d4e5f"
POOL = "eu-west-1_AbCdEf123"
OTHER_POOL = "eu-west-1_Other99"


def test_owner_id_is_stable_for_the_same_inputs():
    first = owner_id(STACK, "CiBot", Target(POOL, "ci-bot"))
    again = owner_id(STACK, "CiBot", Target(POOL, "ci-bot"))

    assert first == again
    assert len(first) == 32
    assert all(c in "0123456789abcdef" for c in first)


def test_owner_id_differs_when_any_part_differs():
    variants = {
        "base": (STACK, "CiBot", Target(POOL, "ci-bot")),
        "stack": (OTHER_STACK, "CiBot", Target(POOL, "ci-bot")),
        "logical-id": (STACK, "CiBot2", Target(POOL, "ci-bot")),
        "pool": (STACK, "CiBot", Target(OTHER_POOL, "ci-bot")),
        "username": (STACK, "CiBot", Target(POOL, "ci-bot-2")),
        "username-case": (STACK, "CiBot", Target(POOL, "CI-BOT")),
    }
    ids = {name: owner_id(*parts) for name, parts in variants.items()}

    for (a, id_a), (b, id_b) in itertools.combinations(ids.items(), 2):
        assert id_a != id_b, (a, b)


def test_owner_id_does_not_confuse_parts_that_concatenate_alike():
    assert owner_id(STACK, "Ab", Target(POOL, "c")) != owner_id(STACK, "A", Target(POOL, "bc"))


@pytest.mark.parametrize(
    "username",
    [
        pytest.param("ci-bot", id="plain"),
        pytest.param("ci.bot.v2", id="dots"),
        pytest.param("team/ci/bot", id="slashes"),
        pytest.param("ci-bot@example.com", id="email-alias"),
        pytest.param("bjørn-åse", id="latin-unicode"),
        pytest.param("用户.测试", id="cjk-with-dot"),
        pytest.param("😀.bot", id="emoji"),
        pytest.param("a" * 128, id="longest-username"),
        pytest.param("cua1.x.y", id="looks-like-a-prefix"),
    ],
)
def test_physical_id_round_trips(username):
    physical = PhysicalId(owner_id(STACK, "CiBot", Target(POOL, username)), POOL, username)

    assert parse_physical_id(str(physical)) == physical


@pytest.mark.parametrize(
    "invented",
    [
        pytest.param("MyStack-Logical-ABC123", id="cloudformation-generated"),
        pytest.param("SeedUsers-CiBotAttributes-1A2B3C4D5E6F", id="cloudformation-long"),
        pytest.param("SeedUsers_CiBotAttributes_ABCDEFGH", id="crhelper-style"),
        pytest.param(
            "arn:aws:cloudformation:eu-west-1:1:stack/S/x_CiBot_ABCDEFGH", id="crhelper-with-arn"
        ),
        pytest.param("", id="empty"),
        pytest.param("cua1", id="prefix-only"),
        pytest.param("cua1." + "a" * 32 + "." + POOL, id="no-username"),
        pytest.param("cua1." + "a" * 32 + ".." + "bot", id="empty-pool"),
        pytest.param("cua1." + "a" * 32 + "." + POOL + ".", id="empty-username"),
        pytest.param("cua1." + "a" * 31 + "." + POOL + ".bot", id="short-owner"),
        pytest.param("cua2." + "a" * 32 + "." + POOL + ".bot", id="other-prefix"),
    ],
)
def test_ids_we_did_not_issue_parse_to_none(invented):
    assert parse_physical_id(invented) is None


@settings(max_examples=100, deadline=None)
@given(
    logical=st.from_regex(r"[A-Za-z][A-Za-z0-9]{0,254}", fullmatch=True),
    username=st.text(
        st.characters(blacklist_categories=["Cs", "Cc", "Zs", "Zl", "Zp"]), min_size=1, max_size=128
    ),
)
def test_physical_id_is_under_1024_bytes_and_round_trips(logical, username):
    pool = "ap-southeast-2_" + "A" * 40
    physical = PhysicalId(owner_id(STACK, logical, Target(pool, username)), pool, username)
    text = str(physical)

    assert text
    assert len(text.encode()) < 1024
    assert parse_physical_id(text) == physical


def test_timed_out_id_issued_by_an_earlier_version_still_names_its_owner():
    from user_attributes.identity import PhysicalId, parse_physical_id

    legacy = "cua1t." + "a" * 32 + ".eu-west-1_Pool1.user.name"

    assert parse_physical_id(legacy) == PhysicalId("a" * 32, "eu-west-1_Pool1", "user.name")
