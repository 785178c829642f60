"""Tables over the pure core: ``plan_reconcile``, ``cognito_writes``, ``declared_values``."""

from __future__ import annotations

from collections.abc import Mapping

import pytest
from user_attributes.model import (
    ABSENT,
    Claim,
    OnDelete,
    OwnerRecord,
    OwnerValue,
    UserLedger,
    Value,
)
from user_attributes.plan import (
    ClaimChange,
    CognitoWrites,
    OwnerChange,
    Plan,
    apply_writes,
    cognito_writes,
    declared_values,
    plan_reconcile,
    verified_first,
)

from tests.core.simulation import perform, step

O1 = "owner-one"
O2 = "owner-two"
O3 = "owner-three"
EMPTY = UserLedger()
SEEDED = {"email": "seed@example.com", "email_verified": "true", "custom:plan": "free"}


def plan_for(
    owner: str,
    desired: Mapping[str, Value] | None,
    ledger: UserLedger,
    live: Mapping[str, str],
    on_release: OnDelete = OnDelete.RESTORE,
) -> Plan:
    return plan_reconcile(
        owner_id=owner, desired=desired, ledger=ledger, live=live, on_release=on_release
    )


def apply_all(
    live: Mapping[str, str],
    events: list[tuple[str, Mapping[str, Value] | None]],
    ledger: UserLedger = EMPTY,
) -> tuple[UserLedger, dict[str, str]]:
    current = dict(live)
    for owner, desired in events:
        _, ledger, current = step(ledger, current, owner, desired)
    return ledger, current


def originals(ledger: UserLedger) -> dict[str, Value]:
    return {name: claim.original for name, claim in ledger.claims.items()}


# -- first create -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("live", "desired", "expected_originals", "expected_update", "expected_delete"),
    [
        pytest.param(
            {"custom:plan": "free"},
            {"custom:plan": "pro"},
            {"custom:plan": "free"},
            {"custom:plan": "pro"},
            set(),
            id="value-over-existing-records-live-value",
        ),
        pytest.param(
            {},
            {"nickname": "Al"},
            {"nickname": ABSENT},
            {"nickname": "Al"},
            set(),
            id="value-over-missing-records-absent",
        ),
        pytest.param(
            {"nickname": "Al"},
            {"nickname": "Al"},
            {"nickname": "Al"},
            {},
            set(),
            id="value-equal-to-live-is-claimed-but-not-written",
        ),
        pytest.param(
            {"nickname": "Al"},
            {"nickname": ABSENT},
            {"nickname": "Al"},
            {},
            {"nickname"},
            id="absent-over-existing-deletes",
        ),
        pytest.param(
            {},
            {"nickname": ABSENT},
            {"nickname": ABSENT},
            {},
            set(),
            id="absent-over-missing-writes-nothing",
        ),
        pytest.param(
            SEEDED,
            {"custom:plan": "pro", "nickname": "Al", "email": "seed@example.com"},
            {"custom:plan": "free", "nickname": ABSENT, "email": "seed@example.com"},
            {"custom:plan": "pro", "nickname": "Al"},
            set(),
            id="mixed-only-differences-written",
        ),
    ],
)
def test_first_create_records_originals_from_live_and_writes_only_differences(
    live, desired, expected_originals, expected_update, expected_delete
):
    plan = plan_for(O1, desired, EMPTY, live)

    assert {change.attribute for change in plan.claims} == set(desired)
    for change in plan.claims:
        assert change.before is None
        assert change.after == Claim(
            original=expected_originals[change.attribute],
            owners={O1: OwnerValue(desired[change.attribute], 1)},
            version=1,
        )
    assert plan.owner == OwnerChange(
        O1, None, OwnerRecord(attributes=frozenset(desired), version=1)
    )
    assert plan.claim_writes == CognitoWrites(
        update=expected_update, delete=frozenset(expected_delete)
    )
    assert not plan.release_writes
    assert plan.restored == frozenset()


@pytest.mark.parametrize(
    "desired",
    [
        pytest.param({"custom:plan": "pro"}, id="one-value"),
        pytest.param({"nickname": ABSENT}, id="one-absent"),
        pytest.param({"email": "new@example.com", "email_verified": "true"}, id="email-pair"),
        pytest.param(
            {"custom:plan": "pro", "nickname": ABSENT, "phone_number": "+441234567890"},
            id="mixed",
        ),
    ],
)
def test_reapplying_the_same_declaration_is_a_no_op(desired):
    ledger, live = apply_all(SEEDED, [(O1, desired)])

    plan = plan_for(O1, desired, ledger, live)

    assert plan.claims == ()
    assert plan.owner is None
    assert not plan.changes_ledger
    assert not plan.release_writes
    assert not plan.claim_writes
    assert plan.restored == frozenset()


# -- add, remove, change ------------------------------------------------------------------


def test_adding_an_attribute_claims_only_the_new_one():
    ledger, live = apply_all({"custom:plan": "free"}, [(O1, {"custom:plan": "pro"})])

    plan = plan_for(O1, {"custom:plan": "pro", "nickname": "Al"}, ledger, live)

    assert [(c.attribute, c.before) for c in plan.claims] == [("nickname", None)]
    after = plan.claims[0].after
    assert after is not None
    assert after.original is ABSENT
    assert plan.owner is not None
    assert plan.owner.after is not None
    assert plan.owner.after.attributes == {"custom:plan", "nickname"}
    assert plan.owner.after.version == 2
    assert plan.claim_writes == CognitoWrites(update={"nickname": "Al"})
    assert not plan.release_writes


@pytest.mark.parametrize(
    ("initial", "expected_release"),
    [
        pytest.param(
            {"nickname": "Nick"},
            CognitoWrites(update={"nickname": "Nick"}),
            id="original-value-updated-back",
        ),
        pytest.param(
            {}, CognitoWrites(delete=frozenset({"nickname"})), id="original-absent-deleted"
        ),
    ],
)
def test_removed_attribute_is_restored_via_release_writes(initial, expected_release):
    live0 = {**initial, "custom:plan": "free"}
    ledger, live = apply_all(live0, [(O1, {"custom:plan": "pro", "nickname": "Al"})])

    plan = plan_for(O1, {"custom:plan": "pro"}, ledger, live)

    assert plan.release_writes == expected_release
    assert not plan.claim_writes
    assert plan.restored == {"nickname"}
    (change,) = plan.claims
    assert change.attribute == "nickname"
    assert change.before == ledger.claims["nickname"]
    assert change.after is None
    assert plan.owner is not None
    assert plan.owner.after is not None
    assert plan.owner.after.attributes == {"custom:plan"}

    _, after = perform(plan, ledger, live)
    assert after == {**live0, "custom:plan": "pro"}


def test_changed_value_gets_a_new_applied_at_and_keeps_the_original():
    ledger, live = apply_all({"custom:plan": "free"}, [(O1, {"custom:plan": "pro"})])
    before = ledger.claims["custom:plan"]

    plan = plan_for(O1, {"custom:plan": "enterprise"}, ledger, live)

    (change,) = plan.claims
    assert change.before == before
    assert change.after is not None
    assert change.after.original == "free"
    assert change.after.version == before.version + 1
    assert change.after.owners[O1] == OwnerValue("enterprise", change.after.version)
    assert change.after.owners[O1].applied_at > before.owners[O1].applied_at
    assert plan.claim_writes == CognitoWrites(update={"custom:plan": "enterprise"})


@pytest.mark.parametrize(
    ("decl_a", "decl_b"),
    [
        pytest.param({"custom:plan": "pro"}, {"custom:plan": "enterprise"}, id="value-change"),
        pytest.param(
            {"custom:plan": "pro", "nickname": "Al"}, {"custom:plan": "pro"}, id="b-drops-one"
        ),
        pytest.param({"custom:plan": "pro"}, {"nickname": "Al"}, id="disjoint-attributes"),
        pytest.param({"nickname": "Al"}, {"nickname": ABSENT}, id="value-then-absent"),
        pytest.param(
            {"email": "a@example.com", "email_verified": "true"},
            {"email": "b@example.com", "email_verified": "true"},
            id="email-change",
        ),
    ],
)
def test_rollback_swap_restores_previous_declared_value(decl_a, decl_b):
    initial = {**SEEDED, "nickname": "Nick"}
    ledger_a, live_a = apply_all(initial, [(O1, decl_a)])
    ledger_b, live_b = apply_all(live_a, [(O1, decl_b)], ledger_a)
    assert live_b != live_a

    ledger_back, live_back = apply_all(live_b, [(O1, decl_a)], ledger_b)

    assert live_back == live_a
    assert originals(ledger_back) == originals(ledger_a)
    assert declared_values(ledger_back, O1) == declared_values(ledger_a, O1)
    _, final = apply_all(live_back, [(O1, None)], ledger_back)
    assert final == initial


# -- restore ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("initial", "desired", "expected_release"),
    [
        pytest.param(
            {"nickname": "Nick"},
            {"nickname": "Al"},
            CognitoWrites(update={"nickname": "Nick"}),
            id="present-original-updated",
        ),
        pytest.param(
            {},
            {"nickname": "Al"},
            CognitoWrites(delete=frozenset({"nickname"})),
            id="absent-original-deleted",
        ),
        pytest.param(
            {"nickname": "Nick"},
            {"nickname": ABSENT},
            CognitoWrites(update={"nickname": "Nick"}),
            id="declared-absent-original-recreated",
        ),
        pytest.param(
            {"nickname": "Nick"},
            {"nickname": "Nick"},
            CognitoWrites(),
            id="original-equal-to-live-writes-nothing",
        ),
    ],
)
def test_last_owner_release_restores_absent_by_delete_and_present_by_update(
    initial, desired, expected_release
):
    ledger, live = apply_all(initial, [(O1, desired)])

    plan = plan_for(O1, None, ledger, live)

    assert plan.release_writes == expected_release
    assert not plan.claim_writes
    assert plan.restored == {"nickname"}
    assert [(c.attribute, c.after) for c in plan.claims] == [("nickname", None)]
    assert plan.owner == OwnerChange(O1, ledger.owners[O1], None)
    ledger_after, after = perform(plan, ledger, live)
    assert after == initial
    assert ledger_after == EMPTY


# -- several owners -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("second_value", "expected_write"),
    [
        pytest.param("enterprise", {"custom:plan": "enterprise"}, id="different-value-written"),
        pytest.param("pro", {}, id="same-value-not-written"),
    ],
)
def test_second_owner_joining_keeps_the_original_and_becomes_latest(second_value, expected_write):
    ledger, live = apply_all({"custom:plan": "free"}, [(O1, {"custom:plan": "pro"})])
    assert live["custom:plan"] == "pro"

    plan = plan_for(O2, {"custom:plan": second_value}, ledger, live)

    (change,) = plan.claims
    assert change.before == ledger.claims["custom:plan"]
    assert change.after is not None
    assert change.after.original == "free"
    assert set(change.after.owners) == {O1, O2}
    assert change.after.owners[O1] == ledger.claims["custom:plan"].owners[O1]
    assert change.after.latest_owner() == O2
    assert plan.claim_writes == CognitoWrites(update=expected_write)
    assert plan.owner == OwnerChange(O2, None, OwnerRecord(frozenset({"custom:plan"}), version=1))


def test_existing_owner_redeclaring_same_value_does_not_become_latest():
    ledger, live = apply_all(
        {"custom:plan": "free"},
        [(O1, {"custom:plan": "pro"}), (O2, {"custom:plan": "enterprise"})],
    )

    plan = plan_for(O1, {"custom:plan": "pro"}, ledger, live)

    assert plan.claims == ()
    assert not plan.claim_writes
    assert ledger.claims["custom:plan"].latest_owner() == O2
    assert live["custom:plan"] == "enterprise"


@pytest.mark.parametrize(
    ("events", "live_drift", "expected_release"),
    [
        pytest.param(
            [(O1, {"custom:plan": "pro"}), (O2, {"custom:plan": "enterprise"})],
            {},
            CognitoWrites(),
            id="remaining-owner-already-live",
        ),
        pytest.param(
            [
                (O2, {"custom:plan": "enterprise"}),
                (O1, {"custom:plan": "pro"}),
            ],
            {},
            CognitoWrites(update={"custom:plan": "enterprise"}),
            id="releasing-latest-reapplies-remaining",
        ),
        pytest.param(
            [(O1, {"custom:plan": "pro"}), (O2, {"custom:plan": "enterprise"})],
            {"custom:plan": "tampered"},
            CognitoWrites(update={"custom:plan": "enterprise"}),
            id="drifted-live-reapplies-remaining",
        ),
        pytest.param(
            [(O1, {"custom:plan": "pro"}), (O2, {"custom:plan": ABSENT})],
            {"custom:plan": "tampered"},
            CognitoWrites(delete=frozenset({"custom:plan"})),
            id="remaining-absent-deletes",
        ),
    ],
)
def test_first_owner_releasing_while_second_remains_targets_remaining_value(
    events, live_drift, expected_release
):
    ledger, live = apply_all({"custom:plan": "free"}, events)
    live = {**live, **live_drift}
    claim = ledger.claims["custom:plan"]

    plan = plan_for(O1, None, ledger, live)

    assert plan.release_writes == expected_release
    assert not plan.claim_writes
    assert plan.restored == frozenset()
    (change,) = plan.claims
    assert change.after is not None
    assert change.after.original == "free"
    assert set(change.after.owners) == {O2}
    assert change.after.owners[O2] == claim.owners[O2]
    assert change.after.version == claim.version + 1
    assert plan.owner == OwnerChange(O1, ledger.owners[O1], None)


@pytest.mark.parametrize("on_release", [OnDelete.RESTORE, OnDelete.RETAIN])
def test_last_owner_releasing_deletes_the_claim(on_release):
    ledger, live = apply_all(
        {"custom:plan": "free"},
        [(O1, {"custom:plan": "pro"}), (O2, {"custom:plan": "enterprise"}), (O1, None)],
    )

    plan = plan_for(O2, None, ledger, live, on_release)

    assert plan.claims == (ClaimChange("custom:plan", ledger.claims["custom:plan"], None),)
    assert plan.owner == OwnerChange(O2, ledger.owners[O2], None)
    if on_release is OnDelete.RESTORE:
        assert plan.release_writes == CognitoWrites(update={"custom:plan": "free"})
        assert plan.restored == {"custom:plan"}
    else:
        assert not plan.release_writes
        assert plan.restored == frozenset()


def test_retain_deletes_the_claim_without_a_restore_write():
    ledger, live = apply_all({}, [(O1, {"custom:plan": "pro", "nickname": "Al"})])

    plan = plan_for(O1, None, ledger, live, OnDelete.RETAIN)

    assert {(c.attribute, c.after) for c in plan.claims} == {
        ("custom:plan", None),
        ("nickname", None),
    }
    assert not plan.release_writes
    assert not plan.claim_writes
    assert plan.restored == frozenset()
    ledger_after, after = perform(plan, ledger, live)
    assert ledger_after == EMPTY
    assert after == {"custom:plan": "pro", "nickname": "Al"}


def test_retain_still_reapplies_a_remaining_owners_value():
    ledger, live = apply_all(
        {"custom:plan": "free"},
        [(O2, {"custom:plan": "enterprise"}), (O1, {"custom:plan": "pro"})],
    )

    plan = plan_for(O1, None, ledger, live, OnDelete.RETAIN)

    assert plan.release_writes == CognitoWrites(update={"custom:plan": "enterprise"})
    (change,) = plan.claims
    assert change.after is not None
    assert set(change.after.owners) == {O2}


def test_three_owners_release_in_any_order_ends_at_original():
    initial = {"custom:plan": "free"}
    ledger, live = apply_all(
        initial,
        [
            (O1, {"custom:plan": "one"}),
            (O2, {"custom:plan": "two"}),
            (O3, {"custom:plan": "three"}),
        ],
    )
    assert live == {"custom:plan": "three"}
    ledger, live = apply_all(live, [(O3, None)], ledger)
    assert live == {"custom:plan": "two"}
    ledger, live = apply_all(live, [(O1, None)], ledger)
    assert live == {"custom:plan": "two"}
    assert ledger.claims["custom:plan"].original == "free"
    ledger, live = apply_all(live, [(O2, None)], ledger)
    assert live == initial
    assert ledger == EMPTY


# -- email / phone pairing ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("targets", "live", "expected"),
    [
        pytest.param(
            {"email": "b@example.com"},
            {"email": "a@example.com", "email_verified": "true"},
            CognitoWrites(update={"email": "b@example.com", "email_verified": "true"}),
            id="email-carries-live-flag-true",
        ),
        pytest.param(
            {"email": "b@example.com"},
            {"email": "a@example.com", "email_verified": "false"},
            CognitoWrites(update={"email": "b@example.com", "email_verified": "false"}),
            id="email-carries-live-flag-false",
        ),
        pytest.param(
            {"email": "b@example.com", "email_verified": "true"},
            {"email": "a@example.com", "email_verified": "false"},
            CognitoWrites(update={"email": "b@example.com", "email_verified": "true"}),
            id="email-carries-target-flag",
        ),
        pytest.param(
            {"email": "b@example.com", "email_verified": "true"},
            {"email": "b@example.com", "email_verified": "false"},
            CognitoWrites(update={"email_verified": "true"}),
            id="flag-alone-when-email-unchanged",
        ),
        pytest.param(
            {"email": "b@example.com"},
            {},
            CognitoWrites(
                update={"email": "b@example.com", "email_verified": "false"},
                delete=frozenset({"email_verified"}),
            ),
            id="no-flag-anywhere-sends-false-then-deletes",
        ),
        pytest.param(
            {"email": "b@example.com", "email_verified": ABSENT},
            {"email": "a@example.com", "email_verified": "true"},
            CognitoWrites(
                update={"email": "b@example.com", "email_verified": "false"},
                delete=frozenset({"email_verified"}),
            ),
            id="flag-target-absent-sends-false-then-deletes",
        ),
        pytest.param(
            {"email": ABSENT, "email_verified": ABSENT},
            {"email": "a@example.com", "email_verified": "true"},
            CognitoWrites(delete=frozenset({"email", "email_verified"})),
            id="email-deleted-no-pairing",
        ),
        pytest.param(
            {"email": "a@example.com"},
            {"email": "a@example.com"},
            CognitoWrites(),
            id="unchanged-email-sends-nothing",
        ),
        pytest.param(
            {"phone_number": "+441234567890"},
            {"phone_number_verified": "true"},
            CognitoWrites(
                update={"phone_number": "+441234567890", "phone_number_verified": "true"}
            ),
            id="phone-carries-live-flag",
        ),
        pytest.param(
            {"phone_number": "+441234567890"},
            {},
            CognitoWrites(
                update={"phone_number": "+441234567890", "phone_number_verified": "false"},
                delete=frozenset({"phone_number_verified"}),
            ),
            id="phone-no-flag-sends-false-then-deletes",
        ),
        pytest.param(
            {"nickname": ABSENT},
            {},
            CognitoWrites(),
            id="absent-target-already-absent-no-delete",
        ),
    ],
)
def test_cognito_writes_pairs_addresses_with_verified_flags(targets, live, expected):
    assert cognito_writes(targets, live) == expected


@pytest.mark.parametrize(
    ("initial", "expected_release"),
    [
        pytest.param(
            {"email": "old@example.com", "email_verified": "false"},
            CognitoWrites(update={"email": "old@example.com", "email_verified": "false"}),
            id="flag-original-false",
        ),
        pytest.param(
            {"email": "old@example.com", "email_verified": "true"},
            CognitoWrites(update={"email": "old@example.com", "email_verified": "true"}),
            id="flag-original-true",
        ),
        pytest.param(
            {"email": "old@example.com"},
            CognitoWrites(
                update={"email": "old@example.com", "email_verified": "false"},
                delete=frozenset({"email_verified"}),
            ),
            id="flag-original-absent-sends-false-then-deletes",
        ),
        pytest.param(
            {},
            CognitoWrites(delete=frozenset({"email", "email_verified"})),
            id="both-originally-absent-deleted",
        ),
    ],
)
def test_restoring_email_carries_the_flags_original(initial, expected_release):
    ledger, live = apply_all(
        initial, [(O1, {"email": "new@example.com", "email_verified": "true"})]
    )
    assert live["email_verified"] == "true"

    plan = plan_for(O1, None, ledger, live)

    assert plan.release_writes == expected_release
    assert plan.restored == {"email", "email_verified"}
    _, after = perform(plan, ledger, live)
    assert after == initial


@pytest.mark.parametrize(
    "initial",
    [
        pytest.param({"email": "old@example.com", "email_verified": "false"}, id="flag-was-false"),
        pytest.param({"email": "old@example.com"}, id="flag-was-absent"),
    ],
)
def test_releasing_verified_flag_while_changing_email_restores_the_flag(initial):
    # Update from {email, email_verified: "true"} to {email: other} with
    # MarkContactsVerified "false": email_verified is released (last owner: back to its
    # original) in the same step as email changes.
    ledger, live = apply_all(initial, [(O1, {"email": "a@example.com", "email_verified": "true"})])

    plan, ledger, after = step(ledger, live, O1, {"email": "b@example.com"})

    assert "email_verified" in plan.restored
    assert "email_verified" not in ledger.claims
    assert after.get("email") == "b@example.com"
    assert after.get("email_verified") == initial.get("email_verified")


# -- empty plans, ledger_after, declared_values -------------------------------------------


@pytest.mark.parametrize("desired", [None, {}], ids=["none", "empty-mapping"])
def test_desired_none_for_unknown_owner_is_an_empty_plan(desired):
    ledger, live = apply_all(SEEDED, [(O1, {"custom:plan": "pro"})])

    plan = plan_for(O2, desired, ledger, live)

    assert plan == Plan(
        release_writes=CognitoWrites(),
        claims=(),
        owner=None,
        claim_writes=CognitoWrites(),
        restored=frozenset(),
    )
    assert not plan.changes_ledger
    assert plan.ledger_after(ledger) == ledger


def test_ledger_after_applies_claim_and_owner_changes_and_keeps_the_rest():
    kept = Claim("k", {O2: OwnerValue("K", 1)}, 1)
    changed = Claim("c", {O1: OwnerValue("C", 1)}, 1)
    dropped = Claim(ABSENT, {O1: OwnerValue("D", 1)}, 3)
    ledger = UserLedger(
        claims={"kept": kept, "changed": changed, "dropped": dropped},
        owners={
            O1: OwnerRecord(frozenset({"changed", "dropped"}), 1),
            O2: OwnerRecord(frozenset({"kept"}), 4),
        },
        dead_requests={O3: frozenset({"r"})},
    )
    changed_after = Claim("c", {O1: OwnerValue("C2", 2)}, 2)
    added = Claim("a", {O1: OwnerValue("A", 1)}, 1)
    new_record = OwnerRecord(frozenset({"changed", "added"}), 2)
    plan = Plan(
        release_writes=CognitoWrites(),
        claims=(
            ClaimChange("changed", changed, changed_after),
            ClaimChange("dropped", dropped, None),
            ClaimChange("added", None, added),
        ),
        owner=OwnerChange(O1, ledger.owners[O1], new_record),
        claim_writes=CognitoWrites(),
        restored=frozenset(),
    )

    after = plan.ledger_after(ledger)

    assert after.claims == {"kept": kept, "changed": changed_after, "added": added}
    assert after.owners == {O1: new_record, O2: ledger.owners[O2]}
    assert after.dead_requests == {O3: frozenset({"r"})}
    assert set(ledger.claims) == {"kept", "changed", "dropped"}  # input not mutated
    assert ledger.owners[O1].version == 1

    forget = Plan(
        CognitoWrites(), (), OwnerChange(O2, ledger.owners[O2], None), CognitoWrites(), frozenset()
    )
    assert set(forget.ledger_after(ledger).owners) == {O1}


def test_declared_values_reads_this_owners_values_from_the_claims():
    ledger = UserLedger(
        claims={
            "custom:plan": Claim("free", {O1: OwnerValue("pro", 1), O2: OwnerValue("x", 2)}, 2),
            "nickname": Claim("Nick", {O1: OwnerValue(ABSENT, 1)}, 1),
            "website": Claim(ABSENT, {O2: OwnerValue("w", 1)}, 1),
        },
        owners={
            O1: OwnerRecord(frozenset({"custom:plan", "nickname", "website", "gone"}), 3),
            O2: OwnerRecord(frozenset({"custom:plan", "website"}), 1),
        },
    )

    assert declared_values(ledger, O1) == {"custom:plan": "pro", "nickname": ABSENT}
    assert declared_values(ledger, O2) == {"custom:plan": "x", "website": "w"}
    assert declared_values(ledger, O3) is None


def test_declared_values_round_trips_through_plan_reconcile():
    desired = {"custom:plan": "pro", "nickname": ABSENT, "email": "e@example.com"}
    ledger, _ = apply_all(SEEDED, [(O1, desired), (O2, {"custom:plan": "other"})])

    assert declared_values(ledger, O1) == desired
    assert declared_values(ledger, O2) == {"custom:plan": "other"}


@pytest.mark.parametrize(
    ("writes", "verify", "expected"),
    [
        pytest.param(
            CognitoWrites(update={"email": "a@example.com", "email_verified": "false"}),
            frozenset({"email"}),
            CognitoWrites(
                update={"email": "a@example.com", "email_verified": "true"},
                settle={"email_verified": "false"},
            ),
            id="unverified-email-vouched-then-set-back",
        ),
        pytest.param(
            CognitoWrites(
                update={"email": "a@example.com", "email_verified": "false"},
                delete=frozenset({"email_verified"}),
            ),
            frozenset({"email"}),
            CognitoWrites(
                update={"email": "a@example.com", "email_verified": "true"},
                delete=frozenset({"email_verified"}),
            ),
            id="flag-absent-vouched-then-deleted",
        ),
        pytest.param(
            CognitoWrites(update={"email": "a@example.com", "email_verified": "true"}),
            frozenset({"email"}),
            CognitoWrites(update={"email": "a@example.com", "email_verified": "true"}),
            id="verified-email-unchanged",
        ),
        pytest.param(
            CognitoWrites(update={"email": "a@example.com", "email_verified": "false"}),
            frozenset({"phone_number"}),
            CognitoWrites(update={"email": "a@example.com", "email_verified": "false"}),
            id="pool-verifies-only-phone",
        ),
        pytest.param(
            CognitoWrites(
                update={
                    "email": "a@example.com",
                    "email_verified": "false",
                    "phone_number": "+441234567890",
                    "phone_number_verified": "false",
                }
            ),
            frozenset({"email", "phone_number"}),
            CognitoWrites(
                update={
                    "email": "a@example.com",
                    "email_verified": "true",
                    "phone_number": "+441234567890",
                    "phone_number_verified": "true",
                },
                settle={"email_verified": "false", "phone_number_verified": "false"},
            ),
            id="both-in-one-pair-of-calls",
        ),
        pytest.param(
            CognitoWrites(update={"email_verified": "false"}),
            frozenset({"email"}),
            CognitoWrites(update={"email_verified": "false"}),
            id="flag-alone-needs-no-vouching",
        ),
        pytest.param(
            CognitoWrites(delete=frozenset({"email", "email_verified"})),
            frozenset({"email"}),
            CognitoWrites(delete=frozenset({"email", "email_verified"})),
            id="deleted-email-needs-no-vouching",
        ),
    ],
)
def test_verified_first_vouches_for_addresses_a_pool_would_hold_back(writes, verify, expected):
    result = verified_first(writes, verify)

    assert result == expected
    assert apply_writes({}, result) == apply_writes({}, writes)
