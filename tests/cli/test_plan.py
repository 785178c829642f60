"""``seed-users plan`` against moto: new, changed, unchanged and removed declarations,
``--destroy``, redaction, exit codes, and the cloud-assembly source."""

from __future__ import annotations

import json

import pytest

from cognito_seed_users.logical_ids import user_logical_id
from cognito_seed_users.resource_properties import resource_properties

from .conftest import ALICE, BOB, LEDGER, STACK, revealed


def _config(pool_id: str, **users: dict[str, str | None]) -> dict[str, object]:
    return {
        "userPoolId": pool_id,
        "users": [{"username": name, "attributes": attrs} for name, attrs in users.items()],
    }


def _steps(document: dict[str, object]) -> dict[str, dict[str, object]]:
    return {step["username"]: step for step in document["steps"]}  # type: ignore[index, union-attr]


def _rows(step: dict[str, object]) -> dict[str, dict[str, object]]:
    return {row["name"]: row for row in step["attributes"]}  # type: ignore[index, union-attr]


def test_first_deploy_shows_claims_with_originals_and_exits_2(
    *, seed_users, write_seed_file, pool_id
):
    config = write_seed_file(
        _config(pool_id, alice={"name": "DECLARED-Alice-0f3a", "nickname": None})
    )

    run = seed_users("plan", "--config", str(config), "--detailed-exitcode", "--json")

    assert run.code == 2, run.err
    step = _steps(run.json())["alice"]
    assert step["action"] == "create"
    rows = _rows(step)
    assert rows["name"]["now"] == {"kind": "value", "length": len(ALICE["name"])}
    assert rows["name"]["after"] == {"kind": "value", "length": len("DECLARED-Alice-0f3a")}
    assert rows["name"]["original"] == rows["name"]["now"]
    assert rows["name"]["writes"] is True
    assert rows["name"]["ledger"].startswith("claim")
    assert rows["nickname"] == {
        "name": "nickname",
        "now": {"kind": "absent"},
        "after": {"kind": "absent"},
        "original": {"kind": "absent"},
        "ledger": "claim (records the live value as original)",
        "writes": False,
    }
    assert revealed(run.json()) == []


def test_deployed_declaration_is_no_change_and_exits_0(
    *, seed_users, write_seed_file, deployer, pool_id, stack_id
):
    deployer.apply(pool_id, "alice", {"name": "DECLARED-Alice-0f3a"})
    config = write_seed_file(_config(pool_id, alice={"name": "DECLARED-Alice-0f3a"}))

    run = seed_users("plan", "--config", str(config), "--detailed-exitcode")

    assert run.code == 0, run.err
    assert "No changes" in run.out
    assert run.err == ""


def test_changed_value_shows_redacted_but_as_a_change(
    *, seed_users, write_seed_file, deployer, pool_id
):
    deployer.apply(pool_id, "alice", {"name": "DECLARED-Alice-0f3a"})
    # Same length: only the comparison before redaction can tell them apart.
    config = write_seed_file(_config(pool_id, alice={"name": "DECLARED-Alice-0f3b"}))

    run = seed_users("plan", "--config", str(config), "--detailed-exitcode")

    assert run.code == 2, run.err
    assert "(sensitive, 19 chars)" in run.out
    assert "DECLARED-Alice" not in run.out
    assert "owner's declared value changes" in run.out
    assert "update" in run.out


def test_show_values_reveals_them(*, seed_users, write_seed_file, deployer, pool_id):
    deployer.apply(pool_id, "alice", {"name": "DECLARED-Alice-0f3a"})
    config = write_seed_file(_config(pool_id, alice={"name": "DECLARED-Alice-0f3b"}))

    run = seed_users("plan", "--config", str(config), "--json", "--show-values")

    rows = _rows(_steps(run.json())["alice"])
    assert rows["name"]["now"]["value"] == "DECLARED-Alice-0f3a"
    assert rows["name"]["after"]["value"] == "DECLARED-Alice-0f3b"
    assert rows["name"]["original"]["value"] == ALICE["name"]


def test_user_removed_from_the_file_shows_the_restore(
    *, seed_users, write_seed_file, deployer, pool_id
):
    deployer.apply(pool_id, "alice", {"name": "DECLARED-Alice-0f3a"})
    deployer.apply(pool_id, "bob", {"nickname": "DECLARED-bob-nick-77", "given_name": "DECL-Bob"})
    config = write_seed_file(_config(pool_id, alice={"name": "DECLARED-Alice-0f3a"}))

    run = seed_users("plan", "--config", str(config), "--json", "--show-values")

    bob = _steps(run.json())["bob"]
    assert bob["action"] == "remove"
    assert bob["logical_id"] == user_logical_id(pool_id, "bob")
    rows = _rows(bob)
    assert rows["nickname"]["after"] == {
        "kind": "value",
        "length": len(BOB["nickname"]),
        "value": BOB["nickname"],
    }
    assert rows["given_name"]["after"] == {"kind": "absent"}
    assert rows["given_name"]["ledger"] == "release, last owner: restore original"
    assert _steps(run.json())["alice"]["action"] == "none"


def test_destroy_restores_every_declared_user(*, seed_users, write_seed_file, deployer, pool_id):
    deployer.apply(pool_id, "alice", {"name": "DECLARED-Alice-0f3a", "nickname": "DECL-nick-a1"})
    config = write_seed_file(
        _config(pool_id, alice={"name": "DECLARED-Alice-0f3a", "nickname": "DECL-nick-a1"})
    )

    run = seed_users("plan", "--config", str(config), "--destroy", "--json", "--detailed-exitcode")

    assert run.code == 2
    step = _steps(run.json())["alice"]
    assert step["action"] == "destroy"
    rows = _rows(step)
    assert rows["name"]["after"] == {"kind": "value", "length": len(ALICE["name"])}
    assert rows["nickname"]["after"] == {"kind": "absent"}
    assert all(row["writes"] for row in rows.values())


def test_another_stacks_owner_is_not_ours(*, seed_users, write_seed_file, deployer, pool_id):
    """An owner of another stack on the same user is neither matched nor removed; our new
    claim joins it and keeps its original."""
    from cfnlocal.events import stack_id as new_stack_id

    deployer.apply(pool_id, "alice", {"name": "OTHER-stack-name-1"}, stack_id=new_stack_id("Other"))
    config = write_seed_file(_config(pool_id, alice={"name": "DECLARED-Alice-0f3a"}))

    run = seed_users("plan", "--config", str(config), "--json", "--show-values")

    steps = run.json()["steps"]
    assert [step["action"] for step in steps] == ["create"]
    row = _rows(steps[0])["name"]
    assert row["original"]["value"] == ALICE["name"]
    assert row["ledger"] == "claim alongside 1 other owner(s) (original kept)"


def test_plan_from_a_cloud_assembly_with_a_nested_stack(
    *, seed_users, deployer, pool_id, tmp_path, leak_guard
):
    deployer.apply(pool_id, "alice", {"name": "DECLARED-Alice-0f3a"})
    leak_guard.note_sensitive("DECLARED-Alice-nested", "declared attribute value")
    properties = resource_properties(
        user_pool_id=pool_id, username="alice", attributes={"name": "DECLARED-Alice-nested"}
    )
    nested = {
        "Resources": {
            user_logical_id(pool_id, "alice"): {
                "Type": "Custom::CognitoUserAttributes",
                "Properties": {"ServiceToken": {"Ref": "ProviderArn"}, **properties},
            }
        }
    }
    parent = {
        "Resources": {
            "Shard00NestedStackResource": {
                "Type": "AWS::CloudFormation::Stack",
                "Metadata": {"aws:asset:path": "Shard00.nested.template.json"},
                "Properties": {"TemplateURL": "https://example.invalid/x.json"},
            }
        }
    }
    (tmp_path / "Shard00.nested.template.json").write_text(json.dumps(nested))
    (tmp_path / f"{STACK}.template.json").write_text(json.dumps(parent))
    (tmp_path / "manifest.json").write_text(
        json.dumps(
            {
                "artifacts": {
                    STACK: {
                        "type": "aws:cloudformation:stack",
                        "properties": {"templateFile": f"{STACK}.template.json"},
                    }
                }
            }
        )
    )

    run = seed_users("plan", "--cdk-out", str(tmp_path), "--json", "--detailed-exitcode")

    assert run.code == 2, run.err
    step = _steps(run.json())["alice"]
    assert step["action"] == "update"
    assert _rows(step)["name"]["ledger"] == "owner's declared value changes"


@pytest.mark.parametrize("source", ["--config", "--cdk-out"])
def test_unreadable_source_is_one_line_and_exit_1(*, seed_users, tmp_path, source):
    run = seed_users("plan", source, str(tmp_path / "missing"))

    assert run.code == 1
    assert run.out == ""
    assert len(run.err.splitlines()) == 1
    assert "cannot read the file" in run.err


def test_bad_seed_file_is_one_line_naming_file_user_and_field(
    *, seed_users, write_seed_file, pool_id
):
    config = write_seed_file(_config(pool_id, alice={"name": 42}))  # type: ignore[dict-item]

    run = seed_users("plan", "--config", str(config))

    assert run.code == 1
    assert len(run.err.splitlines()) == 1
    assert "users[0] (alice): attributes.name" in run.err


def test_unknown_user_is_one_line_and_exit_1(*, seed_users, write_seed_file, pool_id):
    config = write_seed_file(_config(pool_id, carol={"name": "DECLARED-Carol-1234"}))

    run = seed_users("plan", "--config", str(config), "--detailed-exitcode")

    assert run.code == 1
    assert run.out == ""
    assert run.err.splitlines() == [
        f"seed-users: error: {user_logical_id(pool_id, 'carol')}: user carol not found in user "
        f"pool {pool_id} (the user must exist before the deploy)"
    ]


def test_declaration_the_deploy_would_refuse_is_exit_1(*, seed_users, write_seed_file, pool_id):
    config = write_seed_file(_config(pool_id, alice={"custom:unknown": "DECLARED-value-77"}))

    run = seed_users("plan", "--config", str(config))

    assert run.code == 1
    assert len(run.err.splitlines()) == 1
    assert "custom:unknown: not in the user pool's schema" in run.err
    assert LEDGER not in run.out
