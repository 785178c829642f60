"""``seed-users status`` and ``drift`` against moto."""

from __future__ import annotations

from user_attributes.model import ABSENT, Claim, OwnerValue, SecretRef, SecretSource, UserLedger

from cfnlocal.events import stack_id as new_stack_id
from cognito_seed_users.cli.drift import Drift, find_drift

from .conftest import ALICE, LEDGER, revealed


def test_status_lists_claims_originals_and_owners_without_values(
    *, seed_users, deployer, pool_id, stack_id
):
    outcome = deployer.apply(
        pool_id, "alice", {"name": "DECLARED-Alice-0f3a", "nickname": "DECL-nick-a1"}
    )

    run = seed_users("status", "--json")

    assert run.code == 0, run.err
    (user,) = run.json()["users"]
    claims = {claim["name"]: claim for claim in user["claims"]}
    assert claims["name"]["original"] == {"kind": "value", "length": len(ALICE["name"])}
    assert claims["nickname"]["original"] == {"kind": "absent"}
    (owner,) = user["owners"]
    assert owner["stack_id"] == stack_id
    assert owner["stack_name"] == "CognitoSeedUsers"
    assert owner["physical_id"] == outcome.physical_id
    assert revealed(run.json()) == []
    table = seed_users("status")
    assert "(sensitive, 24 chars)" in table.out
    assert "(absent)" in table.out


def test_status_filters_by_user_and_stack(*, seed_users, deployer, pool_id):
    deployer.apply(pool_id, "alice", {"name": "DECLARED-Alice-0f3a"})
    deployer.apply(
        pool_id, "bob", {"nickname": "DECLARED-bob-nick-77"}, stack_id=new_stack_id("Other")
    )

    by_user = seed_users("status", "--user", "bob", "--json").json()
    by_stack = seed_users("status", "--stack", "Other", "--json").json()

    assert [user["username"] for user in by_user["users"]] == ["bob"]
    assert [user["username"] for user in by_stack["users"]] == ["bob"]


def test_status_shows_originals_only_when_asked(*, seed_users, deployer, pool_id):
    deployer.apply(pool_id, "alice", {"name": "DECLARED-Alice-0f3a"})

    run = seed_users("status", "--user", "alice", "--show-values", "--json")

    (claim,) = run.json()["users"][0]["claims"]
    assert claim["original"]["value"] == ALICE["name"]
    assert claim["owners"][0]["declared"]["value"] == "DECLARED-Alice-0f3a"


def test_status_of_an_unknown_user_is_one_line_and_exit_1(*, seed_users, pool_id):
    run = seed_users("status", "--user", "nobody")

    assert run.code == 1
    assert run.err.splitlines() == [
        f"seed-users: error: user nobody is not in ledger table {LEDGER} (give the canonical "
        "username; an alias is not a ledger key)"
    ]


def test_unknown_ledger_table_is_one_line_and_exit_1(*, seed_users, pool_id):
    run = seed_users("status", "--ledger-table", "no-such-table")

    assert run.code == 1
    assert len(run.err.splitlines()) == 1
    assert "ledger table no-such-table not found" in run.err


def test_drift_reports_an_edit_redacted_and_exits_2(*, seed_users, deployer, cognito, pool_id):
    deployer.apply(pool_id, "alice", {"name": "DECLARED-Alice-0f3a", "nickname": "DECL-nick-a1"})
    assert seed_users("drift", "--detailed-exitcode").code == 0
    cognito.admin_update_user_attributes(
        UserPoolId=pool_id,
        Username="alice",
        UserAttributes=[{"Name": "name", "Value": "EDITED-in-console-0f3a"}],
    )

    run = seed_users("drift", "--detailed-exitcode", "--json")

    assert run.code == 2, run.err
    (user,) = run.json()["users"]
    assert user["drift"] == [
        {
            "name": "name",
            "kind": "edited",
            "live": {"kind": "value", "length": len("EDITED-in-console-0f3a")},
            "expected": {"kind": "value", "length": len("DECLARED-Alice-0f3a")},
            "owner_id": user["drift"][0]["owner_id"],
        }
    ]
    assert "EDITED" not in seed_users("drift").out


def test_drift_of_a_deleted_user(*, seed_users, deployer, cognito, pool_id):
    deployer.apply(pool_id, "bob", {"nickname": "DECLARED-bob-nick-77"})
    cognito.admin_delete_user(UserPoolId=pool_id, Username="bob")

    run = seed_users("drift", "--detailed-exitcode", "--json")

    assert run.code == 2
    assert run.json()["users"][0]["drift"][0]["kind"] == "user missing"


REFERENCE = SecretRef(
    SecretSource.SECRETS_MANAGER, "arn:aws:secretsmanager:eu-west-1:123456789012:secret:x"
)


def _ledger(**claims: Claim) -> UserLedger:
    return UserLedger(claims=claims)


def test_find_drift_table() -> None:
    """Each case: the ledger's claim, the live value, the drift found (pure core)."""
    owned = Claim("orig-value", {"o1": OwnerValue("declared", 1), "o2": OwnerValue("later", 2)}, 2)
    cases = [
        (owned, "later", []),
        (owned, "declared", [Drift("a", "edited", "declared", "later", "o2")]),
        (Claim(ABSENT, {"o1": OwnerValue(ABSENT, 1)}, 1), None, []),
        (
            Claim(ABSENT, {"o1": OwnerValue(ABSENT, 1)}, 1),
            "added",
            [Drift("a", "edited", "added", ABSENT, "o1")],
        ),
        (Claim("orig-value", {}, 3), "orig-value", []),
        (Claim("orig-value", {}, 3), None, [Drift("a", "unclaimed", ABSENT, "orig-value")]),
        (
            Claim("orig-value", {"o1": OwnerValue(REFERENCE, 1)}, 1),
            "whatever",
            [Drift("a", "not compared", "whatever", REFERENCE, "o1")],
        ),
    ]
    for claim, live, expected in cases:
        attributes = {} if live is None else {"a": live}
        assert find_drift(_ledger(a=claim), attributes) == expected, (claim, live)
    assert find_drift(_ledger(a=owned), None) == [Drift("", "user missing", None, None)]
    assert find_drift(UserLedger(), None) == []
