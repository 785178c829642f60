"""The Cognito adapter against moto: canonical users, the schema cache, writes, errors."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError, ReadTimeoutError
from botocore.stub import Stubber
from user_attributes.cognito import SCHEMA_CACHE_SECONDS, CognitoUsers
from user_attributes.errors import AwsCallFailed, PoolNotFound, UserNotFound
from user_attributes.model import CanonicalUser, Target

from cfnlocal.seed_pool import create_user, create_user_pool, user_attributes

SECRET = "SECRET-VALUE-123"
META_SECRET = "META-SECRET-456"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def client(boto_session: Any) -> Any:
    return boto_session.client("cognito-idp")


@pytest.fixture
def pool_id(client: Any) -> str:
    return create_user_pool(client)


@pytest.fixture
def alice(client: Any, pool_id: str) -> CanonicalUser:
    username = create_user(
        client, pool_id, "alice", {"email": "alice@example.com", "custom:plan": "free"}
    )
    return CanonicalUser(pool_id, username, {})


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def users(client: Any, clock: FakeClock) -> CognitoUsers:
    return CognitoUsers(client, clock=clock)


def record_calls(client: Any, operation: str) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []
    client.meta.events.register(
        f"before-parameter-build.cognito-idp.{operation}",
        lambda params, **_: calls.append(dict(params)),
    )
    return calls


def raise_on(client: Any, operation: str, error: Exception) -> None:
    def hook(**_: Any) -> None:
        raise error

    client.meta.events.register(f"before-call.cognito-idp.{operation}", hook)


def client_error(operation: str, code: str, message: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, operation)


# -- AdminGetUser -------------------------------------------------------------------------


def test_admin_get_user_returns_the_username_and_live_attributes(users, pool_id, alice):
    user = users.admin_get_user(Target(pool_id, "alice"))

    assert user.user_pool_id == pool_id
    assert user.username == "alice"
    assert user.attributes["email"] == "alice@example.com"
    assert user.attributes["custom:plan"] == "free"
    assert "nickname" not in user.attributes


def test_admin_get_user_by_email_alias_returns_the_canonical_username(client, users):
    pool_id = create_user_pool(client, "email-pool", UsernameAttributes=["email"])
    canonical = create_user(
        client, pool_id, "bob@example.com", {"email": "bob@example.com", "nickname": "Bob"}
    )
    assert canonical != "bob@example.com"

    user = users.admin_get_user(Target(pool_id, "bob@example.com"))

    assert user.username == canonical
    assert user.attributes["sub"] == canonical
    assert user.attributes["nickname"] == "Bob"


def test_admin_get_user_missing_user_raises_user_not_found(users, pool_id):
    with pytest.raises(UserNotFound):
        users.admin_get_user(Target(pool_id, "nobody"))


def test_admin_get_user_in_a_missing_pool_raises_pool_not_found(users):
    with pytest.raises(PoolNotFound):
        users.admin_get_user(Target("eu-west-1_Missing1", "alice"))


def test_admin_get_user_other_errors_raise_aws_call_failed(users, pool_id):
    with pytest.raises(AwsCallFailed) as caught:
        users.admin_get_user(Target(pool_id, ""))

    assert caught.value.action == "AdminGetUser"


# -- DescribeUserPool cache ---------------------------------------------------------------


def test_describe_user_pool_returns_the_full_schema(users, pool_id):
    schema = users.describe_user_pool(pool_id).schema

    assert {"sub", "email", "email_verified", "nickname", "custom:tenant_id"} <= set(schema)
    assert schema["custom:tenant_id"].max_length == 36
    assert not schema["custom:region_lock"].mutable
    assert schema["custom:seats"].data_type == "Number"


@pytest.mark.parametrize(
    "verify", [[], ["email"], ["phone_number"], ["email", "phone_number"]], ids=str
)
def test_describe_user_pool_reads_what_the_pool_verifies_before_update(client, users, verify):
    pool = create_user_pool(
        client,
        "verifying",
        AutoVerifiedAttributes=verify or ["email"],
        UserAttributeUpdateSettings={"AttributesRequireVerificationBeforeUpdate": verify},
    )

    assert users.describe_user_pool(pool).verify_before_update == frozenset(verify)


@pytest.fixture
def describe_calls(client: Any) -> list[str]:
    calls: list[str] = []
    client.meta.events.register(
        "before-call.cognito-idp.DescribeUserPool", lambda **_: calls.append("call")
    )
    return calls


@pytest.fixture
def read_schema(users: CognitoUsers, pool_id: str) -> Any:
    return lambda: users.describe_user_pool(pool_id)


@pytest.mark.parametrize(
    ("elapsed", "expected_calls"),
    [
        pytest.param(0.0, 1, id="same-instant"),
        pytest.param(SCHEMA_CACHE_SECONDS - 0.001, 1, id="just-inside-window"),
        pytest.param(SCHEMA_CACHE_SECONDS, 2, id="window-over"),
        pytest.param(SCHEMA_CACHE_SECONDS * 10, 2, id="long-after"),
    ],
)
def test_describe_user_pool_is_cached_within_the_window(
    read_schema, clock, describe_calls, elapsed, expected_calls
):
    calls = describe_calls
    first = read_schema()
    clock.now += elapsed
    second = read_schema()

    assert len(calls) == expected_calls
    assert second == first


def test_describe_user_pool_refreshed_schema_is_cached_again(
    client, users, clock, pool_id, describe_calls
):
    calls = describe_calls
    users.describe_user_pool(pool_id)
    client.add_custom_attributes(
        UserPoolId=pool_id, CustomAttributes=[{"Name": "added", "AttributeDataType": "String"}]
    )
    clock.now += SCHEMA_CACHE_SECONDS + 1

    refreshed = users.describe_user_pool(pool_id).schema
    clock.now += 1
    again = users.describe_user_pool(pool_id).schema

    assert "custom:added" in refreshed
    assert again == refreshed
    assert len(calls) == 2


def test_describe_user_pool_caches_per_pool(client, users, pool_id):
    other = create_user_pool(client, "other")
    calls: list[str] = []
    client.meta.events.register(
        "before-call.cognito-idp.DescribeUserPool", lambda **_: calls.append("call")
    )

    users.describe_user_pool(pool_id)
    users.describe_user_pool(other)
    users.describe_user_pool(pool_id)
    users.describe_user_pool(other)

    assert len(calls) == 2


def test_describe_user_pool_failure_is_not_cached(client, users, pool_id):
    failing = [True]

    def hook(**_: Any) -> None:
        if failing[0]:
            raise client_error("DescribeUserPool", "TooManyRequestsException", "slow down")

    client.meta.events.register("before-call.cognito-idp.DescribeUserPool", hook)

    with pytest.raises(AwsCallFailed) as caught:
        users.describe_user_pool(pool_id)
    assert caught.value.action == "DescribeUserPool"
    assert caught.value.code == "TooManyRequestsException"

    failing[0] = False
    assert "email" in users.describe_user_pool(pool_id).schema


# -- writes -------------------------------------------------------------------------------


def test_admin_update_user_attributes_writes_through(client, users, pool_id, alice):
    users.admin_update_user_attributes(
        alice, {"custom:plan": "pro", "nickname": "Al"}, client_metadata={}
    )

    after = user_attributes(client, pool_id, "alice")
    assert after["custom:plan"] == "pro"
    assert after["nickname"] == "Al"
    assert after["email"] == "alice@example.com"


@pytest.mark.parametrize(
    ("metadata", "expected"),
    [
        pytest.param({}, None, id="no-metadata-no-parameter"),
        pytest.param({"source": "bootstrap"}, {"source": "bootstrap"}, id="metadata-sent"),
    ],
)
def test_admin_update_user_attributes_sends_client_metadata_only_when_given(
    client, users, alice, metadata, expected
):
    calls = record_calls(client, "AdminUpdateUserAttributes")

    users.admin_update_user_attributes(alice, {"nickname": "Al"}, client_metadata=metadata)

    (call,) = calls
    assert call.get("ClientMetadata") == expected
    assert call["UserAttributes"] == [{"Name": "nickname", "Value": "Al"}]
    assert call["Username"] == "alice"


def test_admin_delete_user_attributes_writes_through(client, users, pool_id, alice):
    users.admin_update_user_attributes(alice, {"nickname": "Al", "website": "w"}, {})

    users.admin_delete_user_attributes(alice, {"website", "nickname"})

    after = user_attributes(client, pool_id, "alice")
    assert "nickname" not in after
    assert "website" not in after
    assert after["custom:plan"] == "free"


def test_writes_use_the_canonical_username(client):
    pool_id = create_user_pool(client, "email-pool", UsernameAttributes=["email"])
    canonical = create_user(client, pool_id, "bob@example.com", {"email": "bob@example.com"})
    users = CognitoUsers(client)
    user = users.admin_get_user(Target(pool_id, "bob@example.com"))
    calls = record_calls(client, "AdminUpdateUserAttributes")

    users.admin_update_user_attributes(user, {"nickname": "Bob"}, {})

    assert calls[0]["Username"] == canonical
    assert user_attributes(client, pool_id, canonical)["nickname"] == "Bob"


# -- errors -------------------------------------------------------------------------------


def test_update_client_error_is_aws_call_failed_with_sent_values_redacted(client, users, alice):
    message = f"Invalid value {SECRET} for custom:plan (metadata {META_SECRET}); nickname {SECRET}"
    raise_on(
        client,
        "AdminUpdateUserAttributes",
        client_error("AdminUpdateUserAttributes", "InvalidParameterException", message),
    )

    with pytest.raises(AwsCallFailed) as caught:
        users.admin_update_user_attributes(
            alice, {"custom:plan": SECRET, "nickname": "Al"}, {"source": META_SECRET}
        )

    text = str(caught.value)
    assert caught.value.action == "AdminUpdateUserAttributes"
    assert caught.value.code == "InvalidParameterException"
    assert text.startswith("AdminUpdateUserAttributes failed: InvalidParameterException: ")
    assert SECRET not in text
    assert META_SECRET not in text
    assert text.count("<redacted>") == 3
    assert "custom:plan" in text


def test_update_client_error_via_stubber_is_redacted(client, alice):
    users = CognitoUsers(client)
    with Stubber(client) as stubber:
        stubber.add_client_error(
            "admin_update_user_attributes",
            service_error_code="AliasExistsException",
            service_message=f"An account with the email {SECRET} already exists.",
        )
        with pytest.raises(AwsCallFailed) as caught:
            users.admin_update_user_attributes(alice, {"email": SECRET}, {})
        stubber.assert_no_pending_responses()

    assert str(caught.value) == (
        "AdminUpdateUserAttributes failed: AliasExistsException: "
        "An account with the email <redacted> already exists."
    )


def test_error_detail_is_bounded(client, users, alice):
    raise_on(
        client,
        "AdminUpdateUserAttributes",
        client_error("AdminUpdateUserAttributes", "InvalidParameterException", "x" * 5000),
    )

    with pytest.raises(AwsCallFailed) as caught:
        users.admin_update_user_attributes(alice, {"nickname": "Al"}, {})

    assert len(str(caught.value)) <= 256


def test_delete_client_error_is_aws_call_failed_naming_action_and_code(users, alice):
    gone = CanonicalUser("eu-west-1_Missing1", alice.username, {})

    with pytest.raises(AwsCallFailed) as caught:
        users.admin_delete_user_attributes(gone, {"nickname"})

    assert caught.value.action == "AdminDeleteUserAttributes"
    assert caught.value.code == "ResourceNotFoundException"
    assert str(caught.value).startswith(
        "AdminDeleteUserAttributes failed: ResourceNotFoundException"
    )


def test_delete_sends_sorted_names_for_the_canonical_user(client, users, alice):
    calls = record_calls(client, "AdminDeleteUserAttributes")
    users.admin_update_user_attributes(alice, {"nickname": "Al", "website": "w"}, {})

    users.admin_delete_user_attributes(alice, {"website", "nickname"})

    assert calls == [
        {
            "UserPoolId": alice.user_pool_id,
            "Username": "alice",
            "UserAttributeNames": ["nickname", "website"],
        }
    ]


@pytest.mark.parametrize(
    ("operation", "call"),
    [
        pytest.param(
            "AdminGetUser",
            lambda users, user: users.admin_get_user(Target(user.user_pool_id, user.username)),
            id="get",
        ),
        pytest.param(
            "DescribeUserPool",
            lambda users, user: users.describe_user_pool(user.user_pool_id),
            id="describe",
        ),
        pytest.param(
            "AdminUpdateUserAttributes",
            lambda users, user: users.admin_update_user_attributes(user, {"nickname": "x"}, {}),
            id="update",
        ),
        pytest.param(
            "AdminDeleteUserAttributes",
            lambda users, user: users.admin_delete_user_attributes(user, {"nickname"}),
            id="delete",
        ),
    ],
)
def test_timeouts_become_aws_call_failed_naming_the_action(client, users, alice, operation, call):
    raise_on(client, operation, ReadTimeoutError(endpoint_url="https://cognito-idp"))

    with pytest.raises(AwsCallFailed) as caught:
        call(users, alice)

    assert caught.value.action == operation
    assert caught.value.code == "ReadTimeoutError"


def test_short_sent_values_are_redacted_where_they_stand_alone(client, users, alice):
    message = "Invalid value 42 for custom:seats; also Al (nickname). Limit 420 applies."
    raise_on(
        client,
        "AdminUpdateUserAttributes",
        client_error("AdminUpdateUserAttributes", "InvalidParameterException", message),
    )

    with pytest.raises(AwsCallFailed) as caught:
        users.admin_update_user_attributes(alice, {"custom:seats": "42", "nickname": "Al"}, {})

    text = str(caught.value)
    assert " 42 " not in text
    assert "Al " not in text
    assert text.count("<redacted>") == 2
    assert "Limit 420 applies" in text


@pytest.mark.parametrize("case_sensitive", [False, True])
def test_describe_user_pool_reads_whether_usernames_are_case_sensitive(
    client, users, case_sensitive
):
    pool = create_user_pool(
        client, "cased", UsernameConfiguration={"CaseSensitive": case_sensitive}
    )

    assert users.describe_user_pool(pool).case_insensitive is not case_sensitive
