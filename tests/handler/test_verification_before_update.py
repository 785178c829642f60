"""Exact set and restore of ``email`` and ``phone_number`` whatever the pool verifies before update.

With ``AttributesRequireVerificationBeforeUpdate`` Cognito keeps the old address active and sends
a code to the new one unless the same call sets ``*_verified=true`` (Cognito API reference,
UserAttributeUpdateSettingsType and AdminUpdateUserAttributes). An unverified original restored
as ``email=<original>, email_verified=false`` would stay pending forever while the seeded value
stays active. The strict layer (``cfnlocal.cognito_fidelity``, rules 6 and 7) records every code
Cognito would send and every held-back value: both must stay empty.
"""

from __future__ import annotations

from typing import Any

import pytest

from cfnlocal.seed_pool import create_user, create_user_pool, user_attributes

from .helpers import declare

VERIFY_SETTINGS = {
    "none": [],
    "email": ["email"],
    "phone": ["phone_number"],
    "both": ["email", "phone_number"],
}
ORIGINALS = {
    "email": {
        "verified": {"email": "dora-orig-41f0@example.com", "email_verified": "true"},
        "unverified": {"email": "dora-orig-41f0@example.com", "email_verified": "false"},
        "absent": {},
    },
    "phone_number": {
        "verified": {"phone_number": "+14155550141", "phone_number_verified": "true"},
        "unverified": {"phone_number": "+14155550141", "phone_number_verified": "false"},
        "absent": {},
    },
}
SEEDED = {
    "email": ("dora-seed-41f0@example.com", "dora-next-41f0@example.com"),
    "phone_number": ("+14155550142", "+14155550143"),
}


@pytest.fixture(params=list(VERIFY_SETTINGS), ids=lambda key: f"verify-{key}")
def verifying_pool(request: pytest.FixtureRequest, cognito: Any, pool_id: str) -> str:
    """A pool (beside the default one, which holds the ledger fixture) with these settings."""
    verify = VERIFY_SETTINGS[request.param]
    return create_user_pool(
        cognito,
        f"verify-{request.param}",
        AutoVerifiedAttributes=verify or ["email"],
        UserAttributeUpdateSettings={"AttributesRequireVerificationBeforeUpdate": verify},
    )


def _dora(cognito: Any, pool: str, contact: str, original: str) -> str:
    return create_user(
        cognito, pool, "dora", {"nickname": "ORIG-nick-41f0", **ORIGINALS[contact][original]}
    )


def _sent(call: dict[str, Any]) -> dict[str, str]:
    return {item["Name"]: item["Value"] for item in call["UserAttributes"]}


@pytest.mark.parametrize("original", ["verified", "unverified", "absent"])
@pytest.mark.parametrize("contact", ["email", "phone_number"])
def test_seed_update_and_delete_restore_the_address_and_its_flag_without_a_code(
    *, driver, cognito, fidelity, verifying_pool, contact, original
):
    dora = _dora(cognito, verifying_pool, contact, original)
    before = user_attributes(cognito, verifying_pool, dora)
    flag = f"{contact}_verified"
    seeded, changed = SEEDED[contact]

    created = driver.create("Dora", declare(verifying_pool, dora, {contact: seeded}))
    assert created.status == "SUCCESS", created.reason
    live = user_attributes(cognito, verifying_pool, dora)
    assert live.get(contact) == seeded
    assert live.get(flag) == "true"  # a seeded address is verified unless declared otherwise

    updated = driver.update("Dora", declare(verifying_pool, dora, {contact: changed}))
    assert updated is not None
    assert updated.status == "SUCCESS", updated.reason
    assert user_attributes(cognito, verifying_pool, dora).get(contact) == changed

    deleted = driver.delete("Dora")
    assert deleted.status == "SUCCESS", deleted.reason
    assert user_attributes(cognito, verifying_pool, dora) == before
    assert fidelity.codes_sent == []
    assert fidelity.pending == {}


@pytest.mark.parametrize("declared_flag", ["true", "false"])
def test_declared_flag_is_what_the_user_keeps_in_a_pool_that_verifies_email(
    *, driver, cognito, fidelity, pool_id, declared_flag
):
    pool = create_user_pool(
        cognito,
        "verify-email",
        AutoVerifiedAttributes=["email"],
        UserAttributeUpdateSettings={"AttributesRequireVerificationBeforeUpdate": ["email"]},
    )
    dora = _dora(cognito, pool, "email", "unverified")
    before = user_attributes(cognito, pool, dora)

    created = driver.create(
        "Dora",
        declare(pool, dora, {"email": SEEDED["email"][0], "email_verified": declared_flag}),
    )

    assert created.status == "SUCCESS", created.reason
    live = user_attributes(cognito, pool, dora)
    assert (live["email"], live["email_verified"]) == (SEEDED["email"][0], declared_flag)
    assert driver.delete("Dora").status == "SUCCESS"
    assert user_attributes(cognito, pool, dora) == before
    assert fidelity.codes_sent == []
    assert fidelity.pending == {}


def test_unverified_address_goes_out_vouched_for_then_its_flag_is_set_back(
    *, driver, aws_calls, cognito, pool_id
):
    pool = create_user_pool(
        cognito,
        "verify-email",
        AutoVerifiedAttributes=["email"],
        UserAttributeUpdateSettings={"AttributesRequireVerificationBeforeUpdate": ["email"]},
    )
    dora = _dora(cognito, pool, "email", "unverified")
    seed = {"email": SEEDED["email"][0], "email_verified": "false"}

    created = driver.create("Dora", declare(pool, dora, seed))

    assert created.status == "SUCCESS", created.reason
    assert [_sent(call) for call in aws_calls.of("AdminUpdateUserAttributes")] == [
        {"email": SEEDED["email"][0], "email_verified": "true"},
        {"email_verified": "false"},
    ]


def test_delete_reads_the_pool_settings_only_when_it_restores_an_unverified_address(
    *, driver, default_session, cognito, new_container, pool_id
):
    dora = _dora(cognito, pool_id, "email", "unverified")
    nick = driver.create("Nick", declare(pool_id, dora, {"nickname": "SEED-nick-41f0"}))
    mail = driver.create("Mail", declare(pool_id, dora, {"email": SEEDED["email"][0]}))
    assert (nick.status, mail.status) == ("SUCCESS", "SUCCESS")
    driver.container = new_container()  # a cold container: no pool description cached
    described: list[str] = []
    event = "before-call.cognito-idp.DescribeUserPool"

    def record(**_: object) -> None:
        described.append(event)

    default_session.events.register(event, record)
    try:
        assert driver.delete("Nick").status == "SUCCESS"
        assert described == []
        assert driver.delete("Mail").status == "SUCCESS"
        assert len(described) == 1
    finally:
        default_session.events.unregister(event, record)
