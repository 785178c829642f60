"""Benchmark 1: AWS API calls per event, by operation, against the minimum each event needs.

The real handler (``lambda/``) runs in a Lambda-like container; events go through
``CustomResourceDriver`` (answers over HTTPS); moto runs in process with Cognito's write rules
(``strict_cognito``). Every API call is counted by a ``before-call`` hook on boto3's default
session, from which the handler builds its clients.

The minimum: Create = AdminGetUser + one AdminUpdateUserAttributes (+ one
AdminDeleteUserAttributes only for a declared-absent attribute), plus DescribeUserPool once
per cold environment and pool, plus one ledger Query and one TransactWriteItems; an Update
that changes nothing = the user and ledger reads, no write; Delete = one read, the writes the
restore needs (at most two), Query + TransactWriteItems. An Update that both restores and
sets needs its two writes in two calls: the restore must precede the ledger commit and the new
value must follow it, or a crash between them could lose an original. Ratio 1.0 = minimal.

Run: ``.venv/bin/python benchmarks/calls_per_event.py``
"""

from __future__ import annotations

import os
import sys
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import harness

OPERATIONS = (
    "AdminGetUser",
    "DescribeUserPool",
    "Query",
    "TransactWriteItems",
    "AdminUpdateUserAttributes",
    "AdminDeleteUserAttributes",
)
SHORT = {
    "AdminGetUser": "Get",
    "DescribeUserPool": "Describe",
    "Query": "Query",
    "TransactWriteItems": "Transact",
    "AdminUpdateUserAttributes": "Update",
    "AdminDeleteUserAttributes": "Delete",
}


def minimum(**counts: int) -> Counter[str]:
    return Counter({name: count for name, count in counts.items() if count})


def main() -> int:  # noqa: PLR0915 - the scenarios, read top to bottom
    import boto3
    from moto import mock_aws

    from cfnlocal.cognito_fidelity import strict_cognito
    from cfnlocal.driver import Answer, CustomResourceDriver
    from cfnlocal.events import stack_id
    from cfnlocal.https_sink import ResponseSink
    from cfnlocal.lambda_runtime import LambdaContainer
    from cfnlocal.seed_pool import create_ledger_table, create_user, create_user_pool

    harness.isolate_in_process_aws()
    print(harness.machine())

    calls: list[tuple[str, str]] = []
    lock = threading.Lock()

    def on_call(event_name: str, **_: object) -> None:
        _, service, operation = event_name.split(".", 2)
        with lock:
            calls.append((service, operation))

    rows: list[tuple[str, Counter[str], Counter[str]]] = []
    with mock_aws(), strict_cognito(), ResponseSink() as sink:
        os.environ["SSL_CERT_FILE"] = sink.ca_file
        observer = boto3.Session()
        cognito = observer.client("cognito-idp")
        create_ledger_table(observer.client("dynamodb"), "ledger")
        pool = create_user_pool(cognito, "calls")
        for name in ("alice", "bob", "carol", "dave", "erin", "frank"):
            create_user(cognito, pool, name, {"custom:plan": f"orig-{name}", "nickname": "orig"})
        verifying = create_user_pool(
            cognito,
            "calls-verify-email",
            AutoVerifiedAttributes=["email"],
            UserAttributeUpdateSettings={"AttributesRequireVerificationBeforeUpdate": ["email"]},
        )
        create_user(
            cognito,
            verifying,
            "gina",
            {"email": "gina-orig@example.com", "email_verified": "false"},
        )
        boto3.setup_default_session()
        assert boto3.DEFAULT_SESSION is not None
        boto3.DEFAULT_SESSION.events.register("before-call", on_call)
        container = LambdaContainer(
            harness.LAMBDA_DIR, environment={"LEDGER_TABLE_NAME": "ledger"}, timeout_s=60
        )
        driver = CustomResourceDriver(container, sink, stack_id=stack_id("CallCounts"))

        def declare(user: str, **attributes: str | None) -> dict[str, Any]:
            properties: dict[str, Any] = {
                "UserPoolId": pool,
                "Username": user,
                "UserAttributes": [
                    {"Name": name.replace("__", ":"), "Value": value}
                    for name, value in sorted(attributes.items())
                    if value is not None
                ],
                "OnDelete": "RESTORE",
            }
            absent = sorted(n for n, v in attributes.items() if v is None)
            if absent:
                properties["AbsentAttributes"] = absent
            return properties

        def measure(name: str, expected: Counter[str], step: Callable[[], Any]) -> None:
            with lock:
                calls.clear()
            result = step()
            answers = result if isinstance(result, list) else [result]
            for answer in answers:
                status = answer.status if isinstance(answer, Answer) else "?"
                if status != "SUCCESS" and "failed Create" not in name:
                    raise SystemExit(f"{name}: {status} {getattr(answer, 'reason', '')}")
            with lock:
                counted = Counter(operation for _, operation in calls)
            rows.append((name, counted, expected))

        measure(
            "Create (cold environment)",
            minimum(
                AdminGetUser=1,
                DescribeUserPool=1,
                Query=1,
                TransactWriteItems=1,
                AdminUpdateUserAttributes=1,
            ),
            lambda: driver.create("Alice", declare("alice", custom__plan="seed-a")),
        )
        measure(
            "Create (warm)",
            minimum(AdminGetUser=1, Query=1, TransactWriteItems=1, AdminUpdateUserAttributes=1),
            lambda: driver.create("Bob", declare("bob", custom__plan="seed-b", locale="fr-FR")),
        )
        measure(
            "Create, one attribute declared absent",
            minimum(
                AdminGetUser=1,
                Query=1,
                TransactWriteItems=1,
                AdminUpdateUserAttributes=1,
                AdminDeleteUserAttributes=1,
            ),
            lambda: driver.create("Carol", declare("carol", custom__plan="seed-c", nickname=None)),
        )
        measure(
            "Update, nothing declared changed",
            minimum(AdminGetUser=1, Query=1),
            lambda: driver.update(
                "Alice", {**declare("alice", custom__plan="seed-a"), "ServiceTimeout": "1800"}
            ),
        )
        measure(
            "Update, one value changed",
            minimum(AdminGetUser=1, Query=1, TransactWriteItems=1, AdminUpdateUserAttributes=1),
            lambda: driver.update("Alice", declare("alice", custom__plan="seed-a2")),
        )
        measure(
            "Update, one attribute removed, one added",
            # locale was absent before: restoring it is a delete, before the ledger commit.
            minimum(
                AdminGetUser=1,
                Query=1,
                TransactWriteItems=1,
                AdminUpdateUserAttributes=1,
                AdminDeleteUserAttributes=1,
            ),
            lambda: driver.update("Bob", declare("bob", custom__plan="seed-b", given_name="B")),
        )
        measure(
            "Update to another user (replacement)",
            minimum(AdminGetUser=1, Query=1, TransactWriteItems=1, AdminUpdateUserAttributes=1),
            lambda: driver.update("Carol", declare("dave", custom__plan="seed-d")),
        )
        measure(
            "  then the cleanup Delete of the old user",
            minimum(AdminGetUser=1, Query=1, TransactWriteItems=1, AdminUpdateUserAttributes=1),
            driver.cleanup,
        )
        measure(
            "Delete, restore one value",
            minimum(AdminGetUser=1, Query=1, TransactWriteItems=1, AdminUpdateUserAttributes=1),
            lambda: driver.delete("Alice"),
        )
        measure(
            "Delete, restore a value and delete an attribute",
            minimum(
                AdminGetUser=1,
                Query=1,
                TransactWriteItems=1,
                AdminUpdateUserAttributes=1,
                AdminDeleteUserAttributes=1,
            ),
            lambda: driver.delete("Bob"),
        )
        driver.create("Erin", {**declare("erin", custom__plan="seed-e"), "OnDelete": "RETAIN"})
        measure(
            "Delete, OnDelete RETAIN",
            minimum(AdminGetUser=1, Query=1, TransactWriteItems=1),
            lambda: driver.delete("Erin"),
        )
        # In a pool that verifies email before update, an address that must end up unverified
        # goes out with email_verified=true and a second call sets the flag back.
        gina = {
            "UserPoolId": verifying,
            "Username": "gina",
            "UserAttributes": [
                {"Name": "email", "Value": "gina-seed@example.com"},
                {"Name": "email_verified", "Value": "false"},
            ],
        }
        measure(
            "Create, unverified email, pool verifies email first",
            minimum(
                AdminGetUser=1,
                DescribeUserPool=1,
                Query=1,
                TransactWriteItems=1,
                AdminUpdateUserAttributes=2,
            ),
            lambda: driver.create("Gina", gina),
        )
        measure(
            "Delete, restore unverified email, pool verifies email first",
            minimum(AdminGetUser=1, Query=1, TransactWriteItems=1, AdminUpdateUserAttributes=2),
            lambda: driver.delete("Gina"),
        )
        measure(
            "failed Create (no such user) + its rollback Delete",
            # The Delete reads the ledger first and, finding no owner, calls no Cognito.
            minimum(AdminGetUser=1, Query=1),
            lambda: [
                inv.answer
                for inv in driver.create_or_roll_back("Ghost", declare("ghost", custom__plan="x"))
            ],
        )

    ok = _report(rows)
    print(f"result: {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


def _report(rows: list[tuple[str, Counter[str], Counter[str]]]) -> bool:
    width = max(len(name) for name, _, _ in rows)
    header = " | ".join(f"{SHORT[op]:>8}" for op in OPERATIONS)
    print(f"| {'event':<{width}} | {header} | calls / minimum | ratio |")
    print(f"| {'-' * width} |" + " --- |" * (len(OPERATIONS) + 2))
    total_actual = total_minimum = 0
    worst_ledger = 0
    ok = True
    for name, counted, expected in rows:
        cells = " | ".join(
            f"{counted[op]:>8}"
            if counted[op] == expected[op]
            else f"{f'{counted[op]}>{expected[op]}':>8}"
            for op in OPERATIONS
        )
        actual, least = sum(counted.values()), sum(expected.values())
        total_actual += actual
        total_minimum += least
        worst_ledger = max(worst_ledger, counted["Query"] + counted["TransactWriteItems"])
        other = set(counted) - set(OPERATIONS)
        ok &= counted == expected and not other
        ratio = actual / least if least else 1.0
        print(f"| {name:<{width}} | {cells} | {actual:>4} / {least:<4} | {ratio:.2f} |")
    print()
    print(
        f"all events: {total_actual} calls, minimum {total_minimum}, ratio "
        f"{total_actual / total_minimum:.2f} (target 1.00); most ledger calls in one event: "
        f"{worst_ledger} (limit 2)"
    )
    ok &= worst_ledger <= 2
    return ok


if __name__ == "__main__":
    sys.exit(main())
