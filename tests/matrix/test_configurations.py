"""Each matrix row is the pool it claims to be: a row that silently became the default pool
would pass every scenario and prove nothing."""

from __future__ import annotations

from typing import Any

from .configurations import DEV_ATTRIBUTE, REQUIRED_ATTRIBUTE, PoolConfiguration


def _described(cognito: Any, pool_id: str) -> dict[str, Any]:
    pool: dict[str, Any] = cognito.describe_user_pool(UserPoolId=pool_id)["UserPool"]
    return pool


def test_the_pool_and_its_users_are_as_the_row_says(
    configuration: PoolConfiguration, cognito: Any
) -> None:
    pool_id = configuration.create_pool(cognito)
    alice = configuration.seed(cognito, pool_id, "alice", {"nickname": "ORIG-nick"})
    described = _described(cognito, pool_id)
    schema = {attribute["Name"]: attribute for attribute in described["SchemaAttributes"]}

    # The declared name finds the user, under its canonical username.
    found = cognito.admin_get_user(UserPoolId=pool_id, Username=alice.declared)
    assert found["Username"] == alice.canonical
    naming = configuration.naming
    assert (alice.declared == alice.canonical) == (naming == "username")
    if naming == "email":
        assert described["UsernameAttributes"] == ["email"]
        assert alice.declared.endswith("@users.matrix.example.com")
    if naming == "alias":
        assert set(described["AliasAttributes"]) == {"email", "phone_number", "preferred_username"}
    if naming == "other_case":
        assert described["UsernameConfiguration"] == {"CaseSensitive": False}
        assert (alice.canonical, alice.declared) == ("alice", "ALICE")
    assert described.get("UserAttributeUpdateSettings", {}).get(
        "AttributesRequireVerificationBeforeUpdate", []
    ) == sorted(configuration.verify_before_update)
    assert schema[REQUIRED_ATTRIBUTE]["Required"] is (configuration.name == "required_attribute")
    assert (DEV_ATTRIBUTE in schema) is (configuration.name == "immutable_and_dev")
    if DEV_ATTRIBUTE in schema:
        assert schema[DEV_ATTRIBUTE]["DeveloperOnlyAttribute"] is True
    assert schema["custom:region_lock"]["Mutable"] is False
    assert bool(described.get("LambdaConfig", {}).get("CustomMessage")) is (
        configuration.has_custom_message_trigger
    )
