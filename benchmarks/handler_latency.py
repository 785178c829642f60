"""Benchmark 2: handler latency per event against ``ThreadedMotoServer``, against the latency
of the minimal calls alone, measured in the same run.

The handler (``lambda/``, a warm Lambda-like container in this process) serves Create, Update,
an Update that changes nothing and Delete for N users, each event through
``CustomResourceDriver`` (answer over HTTPS). For N other users, in between, a bare boto3
client (the handler's own timeouts and retry mode) makes only the calls the contract needs for
the same event and PUTs an answer of the same size: that is the floor any implementation
pays. The emulator runs in its own process. Medians per event type; ratio = handler / floor.

Run: ``.venv/bin/python benchmarks/handler_latency.py [--users 40]``
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Mapping
from http.client import HTTPSConnection
from typing import Any
from urllib.parse import urlsplit

import harness
from harness.emulator import Emulator

TARGET = 1.5
EVENTS = ("Create", "Update", "Update, nothing changed", "Delete")


class TimedContainer:
    """The container the driver invokes, timing each invocation (the handler's own time)."""

    def __init__(self, container: Any) -> None:  # noqa: ANN401
        self._container = container
        self.timeout_s = container.timeout_s
        self.last_s = 0.0

    def invoke(self, event: Mapping[str, Any], *, timeout_s: float | None = None) -> object:
        started = time.perf_counter()
        try:
            return self._container.invoke(event, timeout_s=timeout_s)
        finally:
            self.last_s = time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=40)
    args = parser.parse_args(argv)
    print(harness.machine())

    import logging
    import os

    import boto3

    from cfnlocal.driver import CustomResourceDriver
    from cfnlocal.events import stack_id
    from cfnlocal.https_sink import ResponseSink
    from cfnlocal.lambda_runtime import LambdaContainer
    from cfnlocal.seed_pool import create_ledger_table, create_user, create_user_pool

    logging.disable(logging.INFO)  # the handler logs each event at INFO
    handler_s: dict[str, list[float]] = {name: [] for name in EVENTS}
    floor_s: dict[str, list[float]] = {name: [] for name in EVENTS}
    with Emulator(), ResponseSink() as sink:
        os.environ["SSL_CERT_FILE"] = sink.ca_file
        observer = boto3.Session()
        cognito = observer.client("cognito-idp")
        create_ledger_table(observer.client("dynamodb"), "ledger")
        create_ledger_table(observer.client("dynamodb"), "floor")
        pool = create_user_pool(cognito, "latency")
        for index in range(2 * args.users + 1):
            create_user(cognito, pool, f"user-{index:03}", {"custom:tenant_id": f"orig-{index}"})
        container = TimedContainer(
            LambdaContainer(harness.LAMBDA_DIR, environment={"LEDGER_TABLE_NAME": "ledger"})
        )
        driver = CustomResourceDriver(
            container,  # type: ignore[arg-type]
            sink,
            stack_id=stack_id("Latency"),
            new_container=lambda: container,  # type: ignore[arg-type,return-value]
        )

        def declared(user: str, tenant: str) -> dict[str, Any]:
            return {
                "UserPoolId": pool,
                "Username": user,
                "UserAttributes": [
                    {"Name": "custom:tenant_id", "Value": tenant},
                    {"Name": "nickname", "Value": f"nick-{user}"},
                ],
                "OnDelete": "RESTORE",
            }

        started = time.perf_counter()
        first = driver.create("Warmup", declared("user-000", "tenant-warm"))
        cold_s = time.perf_counter() - started
        assert first.status == "SUCCESS", first.reason
        client_config = _client_config()
        floor = Floor(
            observer.client("cognito-idp", config=client_config),
            observer.client("dynamodb", config=client_config),
            pool,
            sink,
        )
        for index in range(1, args.users + 1):
            user, other = f"user-{index:03}", f"user-{index + args.users:03}"
            for name, step in _steps(driver, declared, f"User{index:03}", user):
                answer = step()
                assert getattr(answer, "status", None) == "SUCCESS", (name, answer)
                handler_s[name].append(container.last_s)
                floor_s[name].append(floor.run(name, other))

    print(
        f"{args.users} users per event type; first event in a fresh environment (clients "
        f"created): {cold_s * 1000:.0f} ms\n"
    )
    print("| event | handler (median) | minimal calls alone (median) | ratio |")
    print("| --- | --- | --- | --- |")
    worst = 0.0
    for name in EVENTS:
        handler, minimal = statistics.median(handler_s[name]), statistics.median(floor_s[name])
        ratio = handler / minimal
        worst = max(worst, ratio)
        print(
            f"| {name} | {handler * 1000:.1f} ms | {minimal * 1000:.1f} ms ({Floor.CALLS[name]}) "
            f"| {ratio:.2f} |"
        )
    total = sum(statistics.median(v) for v in handler_s.values()) / sum(
        statistics.median(v) for v in floor_s.values()
    )
    print(f"\nall four events: ratio {total:.2f}; worst event {worst:.2f} (target <= {TARGET})")
    ok = worst <= TARGET
    print(f"result: {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


def _steps(
    driver: Any,  # noqa: ANN401
    declared: Callable[[str, str], dict[str, Any]],
    logical: str,
    user: str,
) -> list[tuple[str, Callable[[], object]]]:
    """One user's life: Create, Update, an Update that changes nothing, Delete."""
    unchanged = {**declared(user, "tenant-b"), "ServiceTimeout": "1800"}
    return [
        ("Create", lambda: driver.create(logical, declared(user, "tenant-a"))),
        ("Update", lambda: driver.update(logical, declared(user, "tenant-b"))),
        ("Update, nothing changed", lambda: driver.update(logical, unchanged)),
        ("Delete", lambda: driver.delete(logical)),
    ]


def _client_config() -> Any:  # noqa: ANN401
    sys.path.insert(0, str(harness.LAMBDA_DIR))
    try:
        from user_attributes.aws_clients import CLIENT_CONFIG
    finally:
        sys.path.remove(str(harness.LAMBDA_DIR))
    return CLIENT_CONFIG


class Floor:
    """The calls the contract needs for one event, made directly, plus the answer's PUT."""

    CALLS: Mapping[str, str] = {
        "Create": "Get, Query, Transact, Update, PUT",
        "Update": "Get, Query, Transact, Update, PUT",
        "Update, nothing changed": "Get, Query, PUT",
        "Delete": "Get, Query, Transact, Update, Delete, PUT",
    }

    def __init__(self, cognito: Any, dynamodb: Any, pool: str, sink: Any) -> None:  # noqa: ANN401
        self.cognito, self.dynamodb, self.pool, self.sink = cognito, dynamodb, pool, sink

    def run(self, event: str, user: str) -> float:
        started = time.perf_counter()
        self.cognito.admin_get_user(UserPoolId=self.pool, Username=user)
        self.dynamodb.query(
            TableName="floor",
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": f"USER#{self.pool}#{user}"}},
            ConsistentRead=True,
        )
        if event in ("Create", "Update"):
            self._transact(user, put=True, claims=2 if event == "Create" else 1)
            self.cognito.admin_update_user_attributes(
                UserPoolId=self.pool,
                Username=user,
                UserAttributes=[
                    {"Name": "custom:tenant_id", "Value": f"t-{event[0]}"},
                    {"Name": "nickname", "Value": f"nick-{user}"},
                ][: 2 if event == "Create" else 1],
            )
        elif event == "Delete":
            self._transact(user, put=False, claims=2)
            self.cognito.admin_update_user_attributes(
                UserPoolId=self.pool,
                Username=user,
                UserAttributes=[{"Name": "custom:tenant_id", "Value": "orig"}],
            )
            self.cognito.admin_delete_user_attributes(
                UserPoolId=self.pool, Username=user, UserAttributeNames=["nickname"]
            )
        self._answer()
        return time.perf_counter() - started

    def _transact(self, user: str, *, put: bool, claims: int) -> None:
        pk = {"S": f"USER#{self.pool}#{user}"}
        keys = [f"CLAIM#{name}" for name in ("custom:tenant_id", "nickname")[:claims]]
        keys.append("OWNER#0123456789abcdef")
        items: list[dict[str, Any]] = []
        for sk in keys:
            key = {"pk": pk, "sk": {"S": sk}}
            if put:
                body = {
                    "owners": {"M": {"o": {"M": {"value": {"S": "v"}, "at": {"N": "1"}}}}},
                    "original": {"S": "orig"},
                    "version": {"N": "1"},
                }
                items.append({"Put": {"TableName": "floor", "Item": {**key, **body}}})
            else:
                items.append({"Delete": {"TableName": "floor", "Key": key}})
        self.dynamodb.transact_write_items(TransactItems=items)

    def _answer(self) -> None:
        request_id = str(uuid.uuid4())
        url = urlsplit(self.sink.url(request_id))
        body = json.dumps(
            {
                "Status": "SUCCESS",
                "PhysicalResourceId": "cua1." + "0" * 32 + f".{self.pool}.user-000",
                "StackId": "arn:aws:cloudformation:eu-west-1:123456789012:stack/Latency/"
                + "0" * 36,
                "RequestId": request_id,
                "LogicalResourceId": "User001",
                "Reason": "",
                "Data": {},
                "NoEcho": False,
            }
        ).encode()
        import ssl

        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
        connection = HTTPSConnection(url.netloc, timeout=10, context=context)
        try:
            connection.request(
                "PUT",
                f"{url.path}?{url.query}",
                body=body,
                headers={"content-type": "", "content-length": str(len(body))},
            )
            connection.getresponse().read()
        finally:
            connection.close()


if __name__ == "__main__":
    sys.exit(main())
