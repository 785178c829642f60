"""The calls of an Update whose only change is ``ReapplyToken`` (issue 11, item 5): the reads
of any Update, plus one write per kind of drift; never a ledger write."""

from __future__ import annotations

from collections import Counter
from typing import Any

from cfnlocal.driver import CustomResourceDriver
from cfnlocal.seed_pool import user_attributes

from .conftest import CallCounter
from .test_calls_per_event import declare, succeeded


def test_update_with_a_new_reapply_token_and_no_drift_is_two_reads(
    driver: CustomResourceDriver, counter: CallCounter, pool_id: str
) -> None:
    declared = {
        **declare(pool_id, "alice", custom__plan="VAL-plan-9c1d", nickname=None),
        "ReapplyToken": "deploy-1",
    }
    created = succeeded(driver.create("Alice", declared))

    counts = counter.counting(
        lambda: succeeded(driver.update("Alice", {**declared, "ReapplyToken": "deploy-2"}))
    )

    assert counts == Counter(AdminGetUser=1, Query=1)
    assert driver.resources["Alice"].physical_id == created.physical_id


def test_update_with_a_new_reapply_token_rewrites_drift_without_a_ledger_write(
    driver: CustomResourceDriver, counter: CallCounter, pool_id: str, cognito: Any
) -> None:
    declared = {
        **declare(pool_id, "alice", custom__plan="VAL-plan-9c1d", nickname=None),
        "ReapplyToken": "deploy-1",
    }
    succeeded(driver.create("Alice", declared))
    seeded = user_attributes(cognito, pool_id, "alice")
    # The test's own client: not counted.
    cognito.admin_update_user_attributes(
        UserPoolId=pool_id,
        Username="alice",
        UserAttributes=[
            {"Name": "custom:plan", "Value": "DRIFT-plan-9c1d"},
            {"Name": "nickname", "Value": "DRIFT-nick-9c1d"},
        ],
    )

    counts = counter.counting(
        lambda: succeeded(driver.update("Alice", {**declared, "ReapplyToken": "deploy-2"}))
    )

    assert user_attributes(cognito, pool_id, "alice") == seeded
    assert counts == Counter(
        AdminGetUser=1, Query=1, AdminUpdateUserAttributes=1, AdminDeleteUserAttributes=1
    )
