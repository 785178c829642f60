"""A seed-user deploy, end to end: users in the emulator, ``app.py`` synthesized for them, the
provider provisioned from the cloud assembly (parent and nested stacks), and CloudFormation's
parallel Create and Delete events sent through ``CustomResourceDriver`` to the worker, as the
queue's event source mapping runs it: ``MaximumConcurrency`` execution environments, each taking
the next message (batch size 1) when it is free. Every event targets its own user, so its own
message group: FIFO order holds nothing back. The front function's ``SendMessage`` is not in
the loop (one call per event, off Cognito's quota; the lifecycle suites run it).
"""

from __future__ import annotations

import itertools
import json
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from cfnlocal.assembly import SynthesizedStack, nested_stacks, resolve
from cfnlocal.cloudformation import event_queues, function_resource, provider_function
from cfnlocal.driver import CustomResourceDriver, Invocation
from cfnlocal.events import stack_id
from cfnlocal.https_sink import ResponseSink
from cfnlocal.seed_pool import create_ledger_table, create_user, create_user_pool
from cfnlocal.sqs_fifo import Received

from . import ROOT
from .emulator import REGION, aws_environment
from .lambda_pool import ProcessContainer, start_pool

ACCOUNT = "123456789012"
STACK_NAME = "CognitoSeedUsers"


@dataclass
class Workload:
    """A pool whose users have known originals, and what the seed file declares for them:
    Create sets two attributes in one write; Delete restores one (a write) and deletes the
    other, which the user did not have (a second write)."""

    pool_id: str
    originals: dict[str, dict[str, str]]
    declared: dict[str, dict[str, str]]

    @property
    def usernames(self) -> list[str]:
        return list(self.declared)

    def create_writes(self) -> int:
        return len(self.declared)

    def delete_writes(self) -> int:
        return sum(
            1 + any(name not in self.originals[user] for name in declared)
            for user, declared in self.declared.items()
        )


def make_workload(cognito: Any, count: int, *, threads: int = 8) -> Workload:  # noqa: ANN401
    pool_id = create_user_pool(cognito, f"bench-{count}")
    originals = {f"user-{i:05}": {"custom:tenant_id": f"orig-{i:05}"} for i in range(count)}
    declared = {
        f"user-{i:05}": {"custom:tenant_id": f"tenant-{i % 97:02}", "nickname": f"nick-{i:05}"}
        for i in range(count)
    }
    with ThreadPoolExecutor(threads) as executor:
        list(
            executor.map(
                lambda item: create_user(cognito, pool_id, item[0], item[1]), originals.items()
            )
        )
    return Workload(pool_id, originals, declared)


def write_config(path: Path, workload: Workload) -> Path:
    users = [
        {"username": user, "attributes": dict(attrs)} for user, attrs in workload.declared.items()
    ]
    path.write_text(yaml.safe_dump({"userPoolId": workload.pool_id, "users": users}), "utf-8")
    return path


def synth(config: Path, outdir: Path, context: Mapping[str, object] | None = None) -> float:
    """Run ``app.py`` as ``cdk synth`` would (asset metadata on); returns the seconds it took."""
    env = {
        **os.environ,
        "CDK_OUTDIR": str(outdir),
        "CDK_CONTEXT_JSON": json.dumps(
            {"seedUsersFile": str(config), "aws:cdk:enable-asset-metadata": True, **(context or {})}
        ),
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    }
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, str(ROOT / "app.py")],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"synth failed: {result.stderr[-2000:]}")
    return time.perf_counter() - started


@dataclass
class Stack:
    """One CloudFormation stack (the parent or a nested one) and its custom resources."""

    name: str
    driver: CustomResourceDriver
    template: dict[str, dict[str, Any]]
    physical_ids: dict[str, str] = field(default_factory=dict)


@dataclass
class Phase:
    name: str
    elapsed_s: float
    invocations: list[Invocation]

    @property
    def failures(self) -> list[str]:
        return [
            f"{inv.request_type} {inv.logical_id}: "
            + (inv.answer.reason if inv.answer else f"no answer ({inv.crashed!r})")
            for inv in self.invocations
            if not inv.succeeded
        ]


class Deployment:
    """The synthesized app, provisioned into the emulator."""

    def __init__(
        self,
        outdir: Path,
        sink: ResponseSink,
        dynamodb: Any,  # noqa: ANN401
        *,
        environment_overrides: Mapping[str, str | None] | None = None,
    ) -> None:
        self.assembly = SynthesizedStack(outdir, STACK_NAME)
        physical: dict[str, str] = {}
        for table in self.assembly.tables():
            name = f"{STACK_NAME}-{table.logical_id}-{time.time_ns()}"
            physical[table.logical_id] = create_ledger_table(dynamodb, name, table.key_schema)
        self.ledger_table = next(iter(physical.values()))
        front = provider_function(self.assembly)
        arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{STACK_NAME}-{front.logical_id}"
        attributes = {f"{front.logical_id}.Arn": arn}
        queues = event_queues(self.assembly)
        function = function_resource(self.assembly, queues.worker)
        environment = {
            key: str(resolve(value, physical, attributes))
            for key, value in function.environment.items()
        }
        for key, value in (environment_overrides or {}).items():
            if value is None:
                environment.pop(key, None)
            else:
                environment[key] = value
        self.function = function
        self.function_environment = environment
        self.maximum_concurrency = queues.maximum_concurrency
        """The worker mapping's ``ScalingConfig.MaximumConcurrency``."""
        self.sink = sink
        self.stacks: list[Stack] = []
        parent = self._template(self.assembly, physical, attributes)
        if parent:
            self.stacks.append(self._stack(STACK_NAME, parent, arn))
        self.nested = nested_stacks(self.assembly)
        for nested in self.nested:
            values = nested.parameter_values(physical, attributes)
            template = self._template(nested, {**physical, **values}, attributes)
            name = f"{STACK_NAME}-{nested.logical_id}-{time.time_ns() % 10**12:X}"
            self.stacks.append(self._stack(name, template, arn))

    @property
    def resource_count(self) -> int:
        return sum(len(stack.template) for stack in self.stacks)

    def start_environments(self, count: int, log_dir: Path) -> list[WorkerEnvironment]:
        pool = start_pool(
            count,
            code_dir=self.function.asset_dir,
            handler=self.function.handler,
            environment=self.function_environment,
            process_environment={
                **aws_environment(os.environ["AWS_ENDPOINT_URL"]),
                "SSL_CERT_FILE": self.sink.ca_file,
            },
            timeout_s=float(self.function.timeout_s),
            log_dir=log_dir,
        )
        return [WorkerEnvironment(process) for process in pool]

    def create_all(self, environments: Sequence[WorkerEnvironment]) -> Phase:
        """create-stack: every resource of every stack at once, as CloudFormation starts them."""

        def job(stack: Stack, logical_id: str) -> Callable[[WorkerEnvironment], Invocation]:
            def run(container: WorkerEnvironment) -> Invocation:
                event = stack.driver.event("Create", logical_id, stack.template[logical_id])
                invocation = stack.driver.deliver(event, container=container)  # type: ignore[arg-type]
                if invocation.succeeded and invocation.answer is not None:
                    stack.physical_ids[logical_id] = invocation.answer.physical_id
                return invocation

            return run

        return self._phase("Create", [job(s, lid) for s, lid in self._interleaved()], environments)

    def delete_all(self, environments: Sequence[WorkerEnvironment]) -> Phase:
        """delete-stack: every resource that was created, with the physical id it reported."""

        def job(stack: Stack, logical_id: str) -> Callable[[WorkerEnvironment], Invocation]:
            def run(container: WorkerEnvironment) -> Invocation:
                event = stack.driver.event(
                    "Delete",
                    logical_id,
                    stack.template[logical_id],
                    physical_id=stack.physical_ids[logical_id],
                )
                return stack.driver.deliver(event, container=container)  # type: ignore[arg-type]

            return run

        jobs = [job(s, lid) for s, lid in self._interleaved() if lid in s.physical_ids]
        return self._phase("Delete", jobs, environments)

    def _interleaved(self) -> list[tuple[Stack, str]]:
        """Nested stacks progress side by side: round-robin over the stacks' resources."""
        order: list[tuple[Stack, str]] = []
        lists = [(stack, list(stack.template)) for stack in self.stacks]
        depth = max((len(ids) for _, ids in lists), default=0)
        for index in range(depth):
            order.extend((stack, ids[index]) for stack, ids in lists if index < len(ids))
        return order

    def _phase(
        self,
        name: str,
        jobs: Sequence[Callable[[WorkerEnvironment], Invocation]],
        environments: Sequence[WorkerEnvironment],
    ) -> Phase:
        pending: queue.SimpleQueue[Callable[[WorkerEnvironment], Invocation]] = queue.SimpleQueue()
        for job in jobs:
            pending.put(job)
        results: list[Invocation] = []
        errors: list[BaseException] = []
        lock = threading.Lock()

        def worker(container: WorkerEnvironment) -> None:
            while True:
                try:
                    job = pending.get_nowait()
                except queue.Empty:
                    return
                try:
                    invocation = job(container)
                except BaseException as error:  # a driver check failed: report it
                    with lock:
                        errors.append(error)
                    continue
                with lock:
                    results.append(invocation)

        threads = [
            threading.Thread(target=worker, args=(env,), name=f"cfn-{i}", daemon=True)
            for i, env in enumerate(environments)
        ]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        if errors:
            raise RuntimeError(
                f"{name}: {len(errors)} driver check(s) failed, first: {errors[0]!r}"
            )
        return Phase(name, elapsed, results)

    def _stack(self, name: str, template: dict[str, dict[str, Any]], arn: str) -> Stack:
        driver = CustomResourceDriver(
            _NoContainer(),  # type: ignore[arg-type]
            self.sink,
            stack_id=stack_id(name, REGION, ACCOUNT),
            service_token=arn,
            new_container=_NoContainer,  # type: ignore[arg-type]
            check_logs=False,  # the handler logs in its own process
        )
        return Stack(name, driver, template)

    @staticmethod
    def _template(
        stack: SynthesizedStack, physical: Mapping[str, str], attributes: Mapping[str, str]
    ) -> dict[str, dict[str, Any]]:
        return {
            resource.logical_id: {
                key: value
                for key, value in resolve(resource.properties, physical, attributes).items()
                if key != "ServiceToken"
            }
            for resource in stack.custom_resources()
        }


class WorkerEnvironment:
    """One worker execution environment as the queue's event source mapping invokes it: the
    event is the body of the one record of an SQS event (batch size 1), received once."""

    def __init__(self, process: ProcessContainer) -> None:
        self.process = process
        self._messages = itertools.count()

    @property
    def timeout_s(self) -> float:
        return self.process.timeout_s

    @property
    def durations(self) -> list[float]:
        return self.process.durations

    def deadline_s(self, timeout_s: float | None) -> float:
        return timeout_s or self.timeout_s

    def invoke(self, event: Mapping[str, Any], *, timeout_s: float | None = None) -> None:
        message = f"{id(self):x}-{next(self._messages)}"
        received = Received(
            message_id=message,
            receipt=f"receipt-{message}",
            body=json.dumps(event),
            group_id=str(event["LogicalResourceId"]),
            receive_count=1,
        )
        self.process.invoke({"Records": [received.record()]}, timeout_s=timeout_s)

    def close(self) -> None:
        self.process.close()


class _NoContainer:
    """The driver's default environment is never used: every event names its environment."""

    timeout_s = 60.0

    def invoke(self, event: Mapping[str, Any], *, timeout_s: float | None = None) -> None:
        raise AssertionError("events are delivered to a named execution environment")


def check_users(
    cognito: Any,  # noqa: ANN401
    workload: Workload,
    expected: Callable[[str], Mapping[str, str]],
    *,
    threads: int = 8,
) -> list[str]:
    """Users whose attributes (``sub`` aside) differ from ``expected(username)``."""

    def differs(username: str) -> str | None:
        user = cognito.admin_get_user(UserPoolId=workload.pool_id, Username=username)
        live = {a["Name"]: a["Value"] for a in user["UserAttributes"] if a["Name"] != "sub"}
        return None if live == dict(expected(username)) else username

    with ThreadPoolExecutor(threads) as executor:
        return [user for user in executor.map(differs, workload.usernames) if user is not None]


def ledger_leftovers(dynamodb: Any, table: str) -> int:  # noqa: ANN401
    """Claims and owner records still in the ledger (none once every resource is deleted)."""
    count = 0
    request: dict[str, Any] = {"TableName": table}
    while True:
        page = dynamodb.scan(**request)
        count += sum(
            1 for item in page.get("Items", []) if item["sk"]["S"].startswith(("CLAIM#", "OWNER#"))
        )
        if "LastEvaluatedKey" not in page:
            return count
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
