"""The pool-configuration matrix (issue 8, item D): every scenario in every configuration.

Rows are ``configurations.CONFIGURATIONS``; columns are the scenarios below, in
``SCENARIO_ORDER``: create/update/delete, replacement, two owners, the rollback after a failed
Create, the restore of a verified, an unverified and an absent ``email`` and ``phone_number``,
one rule that belongs to the configuration (``own_rule``, see ``OWN_RULES``), and the random
lifecycles with CI's fixed seed. Each handler scenario ends with ``Matrix.finish``: every user
back to its original exactly, the ledger empty, no verification message sent, nothing held back
for verification and, in the custom message row, the declaration's ClientMetadata on every
apply and restore call the trigger sees. The summary prints the matrix (``conftest.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from cfnlocal.cognito_fidelity import CognitoFidelity
from cfnlocal.https_sink import ResponseSink
from tests.lifecycle.support import provisioned

from .configurations import BY_NAME, IMMUTABLE_ATTRIBUTE, REQUIRED_ATTRIBUTE, PoolConfiguration
from .lifecycles import EXAMPLES, MatrixLifecycle, run_random_lifecycles
from .support import UPDATE, Matrix

ALICE = {
    "email": "alice-orig-m7@example.com",
    "email_verified": "true",
    "nickname": "ORIG-nick-alice-m7",
    "custom:plan": "ORIG-plan-alice-m7",
}
BOB = {"custom:plan": "ORIG-plan-bob-m7", "nickname": "ORIG-nick-bob-m7"}
CONTACT_ORIGINALS = {
    "email": {
        "verified": {"email": "dora-orig-m7@example.com", "email_verified": "true"},
        "unverified": {"email": "dora-orig-m7@example.com", "email_verified": "false"},
        "absent": {},
    },
    "phone_number": {
        "verified": {"phone_number": "+14155550161", "phone_number_verified": "true"},
        "unverified": {"phone_number": "+14155550161", "phone_number_verified": "false"},
        "absent": {},
    },
}
SEEDED = {
    "email": ("dora-seed-m7@example.com", "dora-next-m7@example.com"),
    "phone_number": ("+14155550162", "+14155550163"),
}


def _ok(answer: Any) -> None:
    assert answer is not None
    assert answer.status == "SUCCESS", answer.reason


def _values(configuration: PoolConfiguration) -> tuple[str, str]:
    return configuration.attributes


# -- generic scenarios --------------------------------------------------------------------------


def test_create_update_delete(matrix: Matrix) -> None:
    first, second = _values(matrix.configuration)
    alice = matrix.user("alice", ALICE)

    created = matrix.create("Seed", matrix.declare(alice, {first: "VAL-first-1"}))
    _ok(created)
    # Our physical id carries the canonical username (the ledger's key), however declared.
    assert created.physical_id.endswith(f".{matrix.pool_id}.{alice.canonical}")
    matrix.shows(alice, {first: "VAL-first-1"})

    updated = matrix.update(
        "Seed", matrix.declare(alice, {first: "VAL-first-2", second: "VAL-second-1"})
    )
    _ok(updated)
    assert updated.physical_id == created.physical_id
    matrix.shows(alice, {first: "VAL-first-2", second: "VAL-second-1"})

    released = matrix.update("Seed", matrix.declare(alice, {second: "VAL-second-1"}))
    _ok(released)
    matrix.shows(alice, {second: "VAL-second-1"})

    _ok(matrix.delete("Seed"))
    matrix.finish()


def test_replacement(matrix: Matrix) -> None:
    first, _ = _values(matrix.configuration)
    alice = matrix.user("alice", ALICE)
    bob = matrix.user("bob", BOB)
    created = matrix.create("Seed", matrix.declare(alice, {first: "VAL-first-1"}))
    _ok(created)

    moved = matrix.update("Seed", matrix.declare(bob, {first: "VAL-first-1"}))
    _ok(moved)
    assert moved.physical_id != created.physical_id
    matrix.shows(bob, {first: "VAL-first-1"})
    for answer in matrix.cleanup():
        _ok(answer)
    matrix.shows(alice, {})

    _ok(matrix.delete("Seed"))
    matrix.finish()


def test_two_owners(matrix: Matrix) -> None:
    """Two resources on one user, the second naming it by its canonical username (the same
    name in the default pool; the lower-case one, the sub, or the username behind an alias in
    the others)."""
    first, _ = _values(matrix.configuration)
    alice = matrix.user("alice", ALICE)
    _ok(matrix.create("SeedA", matrix.declare(alice, {first: "VAL-owner-a"})))
    _ok(
        matrix.create(
            "SeedB", matrix.declare(alice, {first: "VAL-owner-b"}, declared_as=alice.canonical)
        )
    )
    matrix.shows(alice, {first: "VAL-owner-b"})

    _ok(matrix.delete("SeedB"))
    matrix.shows(alice, {first: "VAL-owner-a"})
    _ok(matrix.delete("SeedA"))
    matrix.finish()


def test_rollback_after_failed_create(matrix: Matrix) -> None:
    first, second = _values(matrix.configuration)
    alice = matrix.user("alice", ALICE)
    matrix.aws_calls.fail_before(UPDATE, code="InternalErrorException")

    create = matrix.driver.invoke(
        "Create", "Seed", matrix.declare(alice, {first: "VAL-first-1", second: "VAL-second-1"})
    )
    assert create.answer is not None
    assert create.answer.status == "FAILED"
    assert create.answer.reason.startswith("AdminUpdateUserAttributes failed"), create.answer.reason
    writes = len(matrix.aws_calls.cognito_writes())
    delete = matrix.driver.delete_failed_create(create)
    assert delete.answer is not None
    _ok(delete.answer)
    assert len(matrix.aws_calls.cognito_writes()) == writes, "the rollback Delete wrote"
    matrix.finish(applies_by_update=False, restores_by_update=False)


def _restore(matrix: Matrix, contact: str, original: str) -> None:
    """Seed ``contact``, change it, delete: the original value and flag exactly, no message."""
    configuration = matrix.configuration
    if configuration.naming == "email" and contact == "email" and original == "absent":
        pytest.skip("a user of an email-username pool always has its address")
    dora = matrix.user(
        "dora", {"nickname": "ORIG-nick-dora-m7", **CONTACT_ORIGINALS[contact][original]}
    )
    flag = f"{contact}_verified"
    seeded, changed = SEEDED[contact]

    _ok(matrix.create("Dora", matrix.declare(dora, {contact: seeded})))
    matrix.shows(dora, {contact: seeded, flag: "true"})
    _ok(matrix.update("Dora", matrix.declare(dora, {contact: changed})))
    matrix.shows(dora, {contact: changed, flag: "true"})
    _ok(matrix.delete("Dora"))
    matrix.finish(restores_by_update=original != "absent")


def test_restore_email_verified(matrix: Matrix) -> None:
    _restore(matrix, "email", "verified")


def test_restore_email_unverified(matrix: Matrix) -> None:
    _restore(matrix, "email", "unverified")


def test_restore_email_absent(matrix: Matrix) -> None:
    _restore(matrix, "email", "absent")


def test_restore_phone_verified(matrix: Matrix) -> None:
    _restore(matrix, "phone_number", "verified")


def test_restore_phone_unverified(matrix: Matrix) -> None:
    _restore(matrix, "phone_number", "unverified")


def test_restore_phone_absent(matrix: Matrix) -> None:
    _restore(matrix, "phone_number", "absent")


# -- one rule per configuration -----------------------------------------------------------------


def _declared_absent(matrix: Matrix) -> None:
    """default: a declared-absent attribute is deleted, then restored."""
    alice = matrix.user("alice", ALICE)
    _ok(matrix.create("Seed", matrix.declare(alice, {"custom:plan": "VAL-x"}, absent=["nickname"])))
    matrix.shows(alice, {"custom:plan": "VAL-x", "nickname": None})
    _ok(matrix.delete("Seed"))
    matrix.finish()


def _another_users_address(matrix: Matrix) -> None:
    """email_username: declaring another user's address (its username) is refused by Cognito
    (AliasExistsException, rule 8); the FAILED Create's rollback writes nothing."""
    alice = matrix.user("alice", ALICE)
    bob = matrix.user("bob", BOB)
    create = matrix.driver.invoke(
        "Create", "Seed", matrix.declare(bob, {"email": alice.declared, "nickname": "VAL-n"})
    )
    assert create.answer is not None
    assert create.answer.status == "FAILED"
    assert "AliasExistsException" in create.answer.reason, create.answer.reason
    writes = len(matrix.aws_calls.cognito_writes())
    delete = matrix.driver.delete_failed_create(create)
    assert delete.answer is not None
    _ok(delete.answer)
    assert len(matrix.aws_calls.cognito_writes()) == writes
    matrix.finish()


def _named_by_verified_email(matrix: Matrix) -> None:
    """aliases: a declaration naming the user by its verified email alias."""
    alice = matrix.user("alice", ALICE)
    by_email = matrix.declare(alice, {"nickname": "VAL-n-1"}, declared_as=ALICE["email"])
    created = matrix.create("Seed", by_email)
    _ok(created)
    assert created.physical_id.endswith(f".{alice.canonical}")
    matrix.shows(alice, {"nickname": "VAL-n-1"})
    _ok(
        matrix.update(
            "Seed", matrix.declare(alice, {"nickname": "VAL-n-2"}, declared_as=ALICE["email"])
        )
    )
    matrix.shows(alice, {"nickname": "VAL-n-2"})
    _ok(matrix.delete("Seed"))
    matrix.finish()


def _mixed_case_email(matrix: Matrix) -> None:
    """case_insensitive: a declared mixed-case address shows in lower case (rule 11); an Update
    that changes another attribute must not write the address again."""
    alice = matrix.user("alice", ALICE)
    address = "Alice.Seeded-M7@Example.COM"
    _ok(matrix.create("Seed", matrix.declare(alice, {"email": address})))
    matrix.shows(alice, {"email": address.lower(), "email_verified": "true"})
    calls = len(matrix.aws_calls.calls)
    _ok(matrix.update("Seed", matrix.declare(alice, {"email": address, "nickname": "VAL-n"})))
    sent = [
        {item["Name"] for item in call.params["UserAttributes"]}
        for call in matrix.aws_calls.calls[calls:]
        if call.operation == UPDATE
    ]
    assert all("email" not in names for names in sent), sent
    _ok(matrix.delete("Seed"))
    matrix.finish()


def _both_contacts(matrix: Matrix) -> None:
    """verify_*: email and phone_number in one declaration, changed together, restored."""
    alice = matrix.user("alice", ALICE)
    _ok(
        matrix.create(
            "Seed",
            matrix.declare(
                alice, {"email": SEEDED["email"][0], "phone_number": SEEDED["phone_number"][0]}
            ),
        )
    )
    matrix.shows(
        alice,
        {
            "email": SEEDED["email"][0],
            "phone_number": SEEDED["phone_number"][0],
            "phone_number_verified": "true",
        },
    )
    _ok(
        matrix.update(
            "Seed",
            matrix.declare(
                alice, {"email": SEEDED["email"][1], "phone_number": SEEDED["phone_number"][1]}
            ),
        )
    )
    _ok(matrix.delete("Seed"))
    matrix.finish()


def _required_declared_absent(matrix: Matrix) -> None:
    """required_attribute: declaring the required attribute absent is refused before any
    write; the rollback Delete writes nothing."""
    alice = matrix.user("alice", ALICE)
    create = matrix.driver.invoke(
        "Create",
        "Seed",
        matrix.declare(alice, {"custom:plan": "VAL-x"}, absent=[REQUIRED_ATTRIBUTE]),
    )
    assert create.answer is not None
    assert create.answer.status == "FAILED"
    assert REQUIRED_ATTRIBUTE in create.answer.reason, create.answer.reason
    delete = matrix.driver.delete_failed_create(create)
    assert delete.answer is not None
    _ok(delete.answer)
    assert matrix.aws_calls.cognito_writes() == []
    matrix.finish()


def _immutable_refused(matrix: Matrix) -> None:
    """immutable_and_dev: declaring the immutable attribute is refused before any write."""
    alice = matrix.user("alice", ALICE)
    create = matrix.driver.invoke(
        "Create", "Seed", matrix.declare(alice, {IMMUTABLE_ATTRIBUTE: "VAL-lock"})
    )
    assert create.answer is not None
    assert create.answer.status == "FAILED"
    assert IMMUTABLE_ATTRIBUTE in create.answer.reason, create.answer.reason
    delete = matrix.driver.delete_failed_create(create)
    assert delete.answer is not None
    _ok(delete.answer)
    assert matrix.aws_calls.cognito_writes() == []
    matrix.finish()


def _metadata_follows_the_event(matrix: Matrix) -> None:
    """custom_message: the trigger sees each event's own ClientMetadata: the Create's on the
    apply, the Update's on the change, and on the restore the one the Delete carries (the
    resource's current properties)."""
    alice = matrix.user("alice", ALICE)
    first_metadata = {"origin": "META-first-7f3a"}
    second_metadata = {"origin": "META-second-7f3a"}
    messages = matrix.fidelity.custom_messages

    _ok(
        matrix.create(
            "Seed", matrix.declare(alice, {"nickname": "VAL-1"}, client_metadata=first_metadata)
        )
    )
    created = len(messages)
    _ok(
        matrix.update(
            "Seed", matrix.declare(alice, {"nickname": "VAL-2"}, client_metadata=second_metadata)
        )
    )
    updated = len(messages)
    _ok(matrix.delete("Seed"))
    assert 0 < created < updated < len(messages)
    assert [m.client_metadata for m in messages[:created]] == [first_metadata] * created
    assert [m.client_metadata for m in messages[created:]] == [second_metadata] * (
        len(messages) - created
    )
    matrix.finish(declared_metadata=False)


OWN_RULES: dict[str, Callable[[Matrix], None]] = {
    "default": _declared_absent,
    "email_username": _another_users_address,
    "aliases": _named_by_verified_email,
    "case_insensitive": _mixed_case_email,
    "verify_email": _both_contacts,
    "verify_phone": _both_contacts,
    "required_attribute": _required_declared_absent,
    "immutable_and_dev": _immutable_refused,
    "custom_message": _metadata_follows_the_event,
}


def test_own_rule(matrix: Matrix) -> None:
    OWN_RULES[matrix.configuration.name](matrix)


# -- random lifecycles --------------------------------------------------------------------------


@pytest.fixture
def matrix_lifecycle(
    configuration: PoolConfiguration,
    synthesized: Any,
    response_sink: ResponseSink,
    fidelity: CognitoFidelity,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[MatrixLifecycle]:
    """``tests/lifecycle``'s world (the synthesized app provisioned into moto, a virtual clock,
    fault injection) over the configuration's pool."""
    with provisioned(synthesized, response_sink, monkeypatch, suffix="MATRIX") as (
        stack,
        recorder,
        clock,
        observer,
    ):
        cognito = observer.client("cognito-idp")
        yield MatrixLifecycle(
            configuration=configuration,
            stack=stack,
            recorder=recorder,
            clock=clock,
            fidelity=fidelity,
            cognito=cognito,
            dynamodb=observer.client("dynamodb"),
            pool=configuration.create_pool(cognito),
        )


def test_random_lifecycles(matrix_lifecycle: MatrixLifecycle, record_property: Any) -> None:
    stats = run_random_lifecycles(matrix_lifecycle)
    for name, value in sorted(stats.items()):
        record_property(f"matrix:{name}", value)
    assert stats["examples"] >= EXAMPLES
    assert stats.get("examples restored", 0) == stats["examples"]
    assert stats["events"] >= EXAMPLES


# -- regression tests for the defects the matrix found (not matrix cells) -----------------------


@pytest.mark.parametrize("configuration", [BY_NAME["email_username"]], ids=lambda c: c.name)
def test_email_username_pool_update_after_seeding_the_address_that_names_the_user(
    matrix: Matrix,
) -> None:
    """The Create seeds the address the declaration names the user by; the next Update (and,
    once it failed, its rollback Update) must still find the user."""
    dora = matrix.user("dora", CONTACT_ORIGINALS["email"]["verified"])
    seeded, _ = SEEDED["email"]
    _ok(matrix.create("Dora", matrix.declare(dora, {"email": seeded})))

    invocations = matrix.driver.update_or_roll_back(
        "Dora", matrix.declare(dora, {"email": seeded, "nickname": "VAL-n"})
    )

    answers = [invocation.answer for invocation in invocations]
    assert [answer.status if answer else None for answer in answers] == ["SUCCESS"], [
        answer.reason if answer else None for answer in answers
    ]
    _ok(matrix.delete("Dora"))
    matrix.finish()


@pytest.mark.parametrize("configuration", [BY_NAME["aliases"]], ids=lambda c: c.name)
def test_replacement_refused_for_a_verified_alias_is_released_by_its_rollback(
    matrix: Matrix,
) -> None:
    """Moving a resource to another user with the address the old user holds as its verified
    email alias: the new user's write is refused (AliasExistsException, rule 8: the Update
    runs before the old user's cleanup); its undo fails; the rollback Update, naming the new
    user by its alias in OldResourceProperties, must release the claim it left."""
    alice = matrix.user("alice", ALICE)
    bob = matrix.user("bob", BOB)
    address = "moved-seed-m7@example.com"
    _ok(matrix.create("Seed", matrix.declare(alice, {"email": address, "custom:plan": "VAL-p"})))
    commits = iter(range(2))
    # The Update's own ledger commit passes; the undo's is refused.
    matrix.aws_calls.fail_before(
        "TransactWriteItems", lambda _: next(commits, 1) == 1, code="AccessDeniedException"
    )

    invocations = matrix.driver.update_or_roll_back(
        "Seed", matrix.declare(bob, {"email": address, "custom:plan": "VAL-p"})
    )

    update, rollback = (invocation.answer for invocation in invocations)
    assert update is not None
    assert update.status == "FAILED"
    assert "AliasExistsException" in update.reason, update.reason
    assert "undo failed" in update.reason, update.reason
    assert rollback is not None
    _ok(rollback)
    matrix.shows(bob, {})
    _ok(matrix.delete("Seed"))
    matrix.finish()
