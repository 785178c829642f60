from cfnlocal.seed_pool import user_attributes


def test_create_then_delete_restores(driver, cognito, pool_id, alice):
    before = user_attributes(cognito, pool_id, alice)
    props = {
        "UserPoolId": pool_id,
        "Username": alice,
        "UserAttributes": [
            {"Name": "custom:plan", "Value": "pro"},
            {"Name": "nickname", "Value": "Al"},
        ],
    }
    answer = driver.create("AliceAttributes", props)
    assert answer.status == "SUCCESS", answer.reason
    during = user_attributes(cognito, pool_id, alice)
    assert during["custom:plan"] == "pro" and during["nickname"] == "Al"
    answer = driver.delete("AliceAttributes")
    assert answer.status == "SUCCESS", answer.reason
    assert user_attributes(cognito, pool_id, alice) == before
