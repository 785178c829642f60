"""No attribute value, ClientMetadata value or response URL in any log record or answer."""

from __future__ import annotations

import json

from cfnlocal.seed_pool import create_user, user_attributes

from .helpers import assert_no_secret, attribute_is, declare, rollback_update

ORIGINALS = {
    "email": "dana-orig-SECRET-c0ffee@example.com",
    "email_verified": "true",
    "name": "ORIG-SECRET-name-c0ffee",
    "custom:plan": "ORIG-SECRET-plan-c0ffee",
}
METADATA = {"source": "META-SECRET-source-c0ffee", "ticket": "META-SECRET-ticket-c0ffee"}
FIRST = {
    "email": "dana-new-SECRET-c0ffee@example.com",
    "custom:plan": "VAL-SECRET-plan-1-c0ffee",
    "nickname": "VAL-SECRET-nick-1-c0ffee",
}
SECOND = {
    "email": "dana-new-SECRET-c0ffee@example.com",
    "custom:plan": "VAL-SECRET-plan-2-c0ffee",
    "name": "VAL-SECRET-name-2-c0ffee",
}
TOO_LONG = {"custom:tenant_id": "VAL-SECRET-tenant-too-long-c0ffee-xxxxxx"}
ECHOED = {"custom:plan": "VAL-SECRET-plan-echoed-c0ffee", "nickname": "VAL-SECRET-nick-3-c0ffee"}


def test_no_value_metadata_or_response_url_in_logs_or_answers(
    *, driver, aws_calls, log_texts, capfd, response_sink, cognito, pool_id
):
    dana = create_user(cognito, pool_id, "dana", ORIGINALS)
    before = user_attributes(cognito, pool_id, dana)
    tokens_before = len(response_sink.tokens)

    def props(attributes):
        return declare(pool_id, dana, attributes, client_metadata=METADATA)

    created = driver.create("Dana", props(FIRST))
    assert created.status == "SUCCESS", created.reason
    updated = driver.update("Dana", props(SECOND))
    assert updated is not None
    assert updated.status == "SUCCESS", updated.reason

    refused = driver.update("Dana", props({**SECOND, **TOO_LONG}))
    assert refused is not None
    assert refused.status == "FAILED"
    rolled_back = rollback_update(
        driver, "Dana", to=props(SECOND), attempted=props({**SECOND, **TOO_LONG})
    )
    assert rolled_back.status == "SUCCESS", rolled_back.reason

    # Cognito's error message echoes what it was sent (as real AWS messages can).
    echo = " ".join([*ECHOED.values(), *METADATA.values()])
    aws_calls.fail_before(
        "AdminUpdateUserAttributes",
        attribute_is("custom:plan", ECHOED["custom:plan"]),
        code="InvalidParameterException",
        message=f"Invalid attributes: {echo}",
    )
    failed = driver.update("Dana", props({**SECOND, **ECHOED}))
    assert failed is not None
    assert failed.status == "FAILED"
    assert "InvalidParameterException" in failed.reason
    rolled_back = rollback_update(
        driver, "Dana", to=props(SECOND), attempted=props({**SECOND, **ECHOED})
    )
    assert rolled_back.status == "SUCCESS", rolled_back.reason

    deleted = driver.delete("Dana")
    assert deleted.status == "SUCCESS", deleted.reason
    assert user_attributes(cognito, pool_id, dana) == before

    tokens = response_sink.tokens[tokens_before:]
    assert len(tokens) == len(driver.answers) == 7
    secrets = {
        *(v for v in ORIGINALS.values() if v != "true"),
        *METADATA.values(),
        *FIRST.values(),
        *SECOND.values(),
        *TOO_LONG.values(),
        *ECHOED.values(),
        *tokens,
        "X-Amz-Signature",
    }
    assert log_texts, "the handler logged nothing at all"
    assert any("delivered" in text for text in log_texts)
    assert_no_secret(log_texts, secrets, "a log record")
    assert_no_secret([json.dumps(a.body) for a in driver.answers], secrets, "an answer")
    captured = capfd.readouterr()
    assert_no_secret([captured.out, captured.err], secrets, "stdout/stderr")
