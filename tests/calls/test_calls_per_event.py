"""The AWS calls of each event are the minimum the contract needs (issue 4, section 2).

Per event: Create = one AdminGetUser + one AdminUpdateUserAttributes (+ one
AdminDeleteUserAttributes only when an attribute is declared absent); an Update that changes
nothing writes nothing to Cognito; Delete = one read + at most two writes (plus one update for
an address that must end unverified in a pool that verifies it before update); DescribeUserPool
at most once per warm execution environment per pool per cache period; at most two ledger calls
per event (Query + TransactWriteItems); nothing else is called.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import boto3

from cfnlocal.aws_faults import ProcessCrash
from cfnlocal.driver import Answer, CustomResourceDriver
from cfnlocal.seed_pool import create_user, create_user_pool, user_attributes

from .conftest import CallCounter

READS = {"AdminGetUser"}
WRITES = {"AdminUpdateUserAttributes", "AdminDeleteUserAttributes"}
LEDGER_CALLS = {"Query", "TransactWriteItems"}


def declare(pool_id: str, username: str, **attributes: str | None) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "UserPoolId": pool_id,
        "Username": username,
        "UserAttributes": [
            {"Name": name.replace("__", ":"), "Value": value}
            for name, value in sorted(attributes.items())
            if value is not None
        ],
        "OnDelete": "RESTORE",
    }
    absent = sorted(name for name, value in attributes.items() if value is None)
    if absent:
        properties["AbsentAttributes"] = absent
    return properties


def of(counts: Counter[str], names: set[str]) -> int:
    return sum(counts[name] for name in names)


def succeeded(answer: Answer | None) -> Answer:
    assert answer is not None
    assert answer.status == "SUCCESS", answer.reason
    return answer


def test_create_is_one_read_one_write_and_two_ledger_calls(
    driver: CustomResourceDriver, counter: CallCounter, pool_id: str
) -> None:
    counts = counter.counting(
        lambda: succeeded(
            driver.create("Alice", declare(pool_id, "alice", custom__plan="VAL-plan-9c1d"))
        )
    )
    assert counts == Counter(
        AdminGetUser=1,
        DescribeUserPool=1,  # a cold environment has no schema cached
        Query=1,
        TransactWriteItems=1,
        AdminUpdateUserAttributes=1,
    )
    assert counter.services() == {"cognito-identity-provider", "dynamodb"}


def test_create_with_an_absent_attribute_adds_one_delete(
    driver: CustomResourceDriver, counter: CallCounter, pool_id: str, cognito: Any
) -> None:
    counts = counter.counting(
        lambda: succeeded(
            driver.create(
                "Alice", declare(pool_id, "alice", custom__plan="VAL-plan-9c1d", nickname=None)
            )
        )
    )
    assert "nickname" not in user_attributes(cognito, pool_id, "alice")
    assert counts == Counter(
        AdminGetUser=1,
        DescribeUserPool=1,
        Query=1,
        TransactWriteItems=1,
        AdminUpdateUserAttributes=1,
        AdminDeleteUserAttributes=1,
    )


def test_create_of_only_absent_attributes_needs_no_update(
    driver: CustomResourceDriver, counter: CallCounter, pool_id: str
) -> None:
    counts = counter.counting(
        lambda: succeeded(driver.create("Alice", declare(pool_id, "alice", nickname=None)))
    )
    assert of(counts, WRITES) == 1
    assert counts["AdminDeleteUserAttributes"] == 1


def test_a_warm_environment_describes_each_pool_once(
    driver: CustomResourceDriver, counter: CallCounter, pool_id: str
) -> None:
    succeeded(driver.create("Alice", declare(pool_id, "alice", custom__plan="VAL-plan-9c1d")))
    counts = counter.counting(
        lambda: succeeded(driver.create("Bob", declare(pool_id, "bob", nickname="VAL-nick-b0b")))
    )
    assert counts == Counter(
        AdminGetUser=1, Query=1, TransactWriteItems=1, AdminUpdateUserAttributes=1
    )


def test_an_unverified_address_in_a_pool_that_verifies_it_first_costs_one_more_update(
    driver: CustomResourceDriver, counter: CallCounter, pool_id: str, cognito: Any
) -> None:
    pool = create_user_pool(
        cognito,
        "verify-email",
        AutoVerifiedAttributes=["email"],
        UserAttributeUpdateSettings={"AttributesRequireVerificationBeforeUpdate": ["email"]},
    )
    create_user(
        cognito, pool, "gina", {"email": "gina-orig@example.com", "email_verified": "false"}
    )
    seed = declare(pool, "gina", email="gina-seed@example.com", email_verified="false")

    created = counter.counting(lambda: succeeded(driver.create("Gina", seed)))
    deleted = counter.counting(lambda: succeeded(driver.delete("Gina")))

    assert created["AdminUpdateUserAttributes"] == 2
    assert deleted == Counter(
        AdminGetUser=1, Query=1, TransactWriteItems=1, AdminUpdateUserAttributes=2
    )


def test_update_that_changes_no_declaration_writes_nothing_to_cognito(
    driver: CustomResourceDriver, counter: CallCounter, pool_id: str
) -> None:
    """CloudFormation sends such an Update when only the ServiceToken or ServiceTimeout changed
    (a new provider, a new construct version)."""
    declared = declare(pool_id, "alice", custom__plan="VAL-plan-9c1d", nickname=None)
    created = succeeded(driver.create("Alice", declared))
    counts = counter.counting(
        lambda: succeeded(driver.update("Alice", {**declared, "ServiceTimeout": "1800"}))
    )
    assert counts == Counter(AdminGetUser=1, Query=1)
    assert driver.resources["Alice"].physical_id == created.physical_id


def test_update_that_changes_a_value_is_one_write(
    driver: CustomResourceDriver, counter: CallCounter, pool_id: str
) -> None:
    succeeded(driver.create("Alice", declare(pool_id, "alice", custom__plan="VAL-plan-9c1d")))
    counts = counter.counting(
        lambda: succeeded(
            driver.update("Alice", declare(pool_id, "alice", custom__plan="VAL-plan-2e2e"))
        )
    )
    assert counts == Counter(
        AdminGetUser=1, Query=1, TransactWriteItems=1, AdminUpdateUserAttributes=1
    )


def test_delete_is_one_read_at_most_two_writes_and_two_ledger_calls(
    driver: CustomResourceDriver, counter: CallCounter, pool_id: str, cognito: Any
) -> None:
    before = user_attributes(cognito, pool_id, "alice")
    # plan had a value (restored by an update), locale had none (deleted again), nickname
    # had one and is declared absent (restored by the update).
    succeeded(
        driver.create(
            "Alice",
            declare(pool_id, "alice", custom__plan="VAL-plan-9c1d", locale="fr-FR", nickname=None),
        )
    )
    counts = counter.counting(lambda: succeeded(driver.delete("Alice")))
    assert user_attributes(cognito, pool_id, "alice") == before
    assert counts == Counter(
        AdminGetUser=1,
        Query=1,
        TransactWriteItems=1,
        AdminUpdateUserAttributes=1,
        AdminDeleteUserAttributes=1,
    )


def test_delete_with_only_values_to_restore_is_one_write(
    driver: CustomResourceDriver, counter: CallCounter, pool_id: str
) -> None:
    succeeded(driver.create("Alice", declare(pool_id, "alice", custom__plan="VAL-plan-9c1d")))
    counts = counter.counting(lambda: succeeded(driver.delete("Alice")))
    assert counts == Counter(
        AdminGetUser=1, Query=1, TransactWriteItems=1, AdminUpdateUserAttributes=1
    )


def test_retained_delete_writes_nothing_to_cognito(
    driver: CustomResourceDriver, counter: CallCounter, pool_id: str
) -> None:
    declared = {**declare(pool_id, "alice", custom__plan="VAL-plan-9c1d"), "OnDelete": "RETAIN"}
    succeeded(driver.create("Alice", declared))
    counts = counter.counting(lambda: succeeded(driver.delete("Alice")))
    assert counts == Counter(AdminGetUser=1, Query=1, TransactWriteItems=1)


def test_delete_after_a_failed_create_reads_and_writes_nothing_to_cognito(
    driver: CustomResourceDriver, counter: CallCounter, pool_id: str
) -> None:
    [create, delete] = driver.create_or_roll_back(
        "Ghost", declare(pool_id, "no-such-user", custom__plan="VAL-plan-9c1d")
    )
    assert create.answer is not None
    assert create.answer.status == "FAILED"
    assert delete.succeeded
    counter.reset()
    driver.deliver(
        driver.event(
            "Delete",
            "Ghost",
            declare(pool_id, "no-such-user", custom__plan="VAL-plan-9c1d"),
            physical_id=create.answer.physical_id,
        )
    )
    counts = counter.by_operation()
    assert of(counts, WRITES) == 0
    assert of(counts, READS) <= 1
    assert of(counts, LEDGER_CALLS) <= 2


def test_replacement_is_a_create_then_a_delete(
    driver: CustomResourceDriver, counter: CallCounter, pool_id: str
) -> None:
    succeeded(driver.create("User", declare(pool_id, "alice", custom__plan="VAL-plan-9c1d")))
    update = counter.counting(
        lambda: succeeded(driver.update("User", declare(pool_id, "bob", custom__plan="VAL-p-b")))
    )
    assert update == Counter(
        AdminGetUser=1, Query=1, TransactWriteItems=1, AdminUpdateUserAttributes=1
    )
    cleanup = counter.counting(lambda: [succeeded(a) for a in driver.cleanup()])
    assert cleanup == Counter(
        AdminGetUser=1, Query=1, TransactWriteItems=1, AdminUpdateUserAttributes=1
    )


def test_every_attempt_is_a_call_when_nothing_fails(
    driver: CustomResourceDriver, counter: CallCounter, pool_id: str
) -> None:
    succeeded(driver.create("Alice", declare(pool_id, "alice", custom__plan="VAL-plan-9c1d")))
    succeeded(driver.delete("Alice"))
    assert sorted(counter.attempts) == sorted(counter.calls)


def test_delete_with_an_invented_id_is_one_read_and_one_ledger_call(
    driver: CustomResourceDriver, counter: CallCounter, pool_id: str
) -> None:
    """CloudFormation invents the id when a Create never answered; the handler derives the
    owner, and an owner the ledger does not know leaves nothing to release or to tombstone."""
    declared = declare(pool_id, "alice", custom__plan="VAL-plan-9c1d")
    counter.reset()
    invocation = driver.invoke(
        "Delete", "Alice", declared, physical_id=driver.invented_physical_id("Alice")
    )
    assert invocation.succeeded
    assert counter.by_operation() == Counter(AdminGetUser=1, Query=1)


def test_delete_after_a_create_that_died_reads_the_user_and_the_ledger_once(
    driver: CustomResourceDriver, counter: CallCounter, pool_id: str
) -> None:
    declared = declare(pool_id, "alice", custom__plan="VAL-plan-9c1d")
    crashed: list[bool] = []

    def crash_after_commit(**_: Any) -> None:
        if not crashed:
            crashed.append(True)
            raise ProcessCrash("the Create's process died after its ledger commit")

    assert boto3.DEFAULT_SESSION is not None
    boto3.DEFAULT_SESSION.events.register(
        "after-call.dynamodb.TransactWriteItems", crash_after_commit
    )
    create = driver.invoke("Create", "Alice", declared, timeout_s=8)
    assert create.answer is None
    counter.reset()
    delete = driver.invoke(
        "Delete", "Alice", declared, physical_id=driver.invented_physical_id("Alice"), timeout_s=30
    )
    assert delete.succeeded
    # The Delete runs only once the Create's message is done (same message group): no writer
    # is left to wait for, so one read of each suffices.
    counts = counter.by_operation()
    assert of(counts, LEDGER_CALLS) == 2, counts
    assert of(counts, READS) == 1, counts
