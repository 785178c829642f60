"""A local CloudFormation for one synthesized stack of ``Custom::CognitoUserAttributes``.

``LocalStack.provision`` reads a cloud assembly (``cdk.out``) the way CloudFormation and Lambda
would: it creates the tables the template declares (with their key schema) in the emulator,
resolves the provider function's environment (``Ref``, ``Fn::GetAtt``), and loads the handler
from the built asset directory in Lambda-like containers. ``deploy`` and ``delete`` then run
stack operations with CloudFormation's semantics:

- create-stack / update-stack: resources new to the template get Create; resources whose
  properties changed get Update (none when unchanged); a new physical id from Update is a
  replacement. After the first failure CloudFormation starts nothing new and rolls back:
  a rollback Update (properties swapped) for every resource it updated or tried to update,
  and a Delete for every resource it created or tried to create (with the id the Create
  reported, or an invented ``<stack>-<logical>-<suffix>`` id if it never answered). A stack
  can also fail after our resources succeeded (``fail_after``: a later resource failed).
- a resource that never answers fails after its ``ServiceTimeout`` (the virtual clock jumps).
- on success, UPDATE_COMPLETE_CLEANUP_IN_PROGRESS deletes resources removed from the template
  and physical ids replaced during the update; after a rollback, the ids replaced by the
  rollback. CloudFormation ignores failures in cleanup: the stack still completes and the old
  resource is forgotten (``StackOperation.orphaned``).
- a failed rollback (UPDATE_ROLLBACK_FAILED) is continued (ContinueUpdateRollback resends the
  event); a failed delete-stack (DELETE_FAILED) is retried (DeleteStack again), each up to
  ``retries`` times.
- independent resources run in parallel in CloudFormation; ``parallel=True`` sends the
  forward phase's events concurrently, each to its own execution environment.

``faults`` chooses, per event (``Step``), AWS call faults (see ``aws_faults``) and a response
delivery fault.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

import boto3

from .assembly import CUSTOM_RESOURCE_TYPE, Function, SynthesizedStack, resolve
from .aws_faults import AwsCall, AwsCallRecorder, Fault
from .clock import VirtualClock
from .driver import (
    CustomResourceDriver,
    DeliveryFault,
    Invocation,
    ResourceState,
    service_timeout_s,
)
from .events import stack_id as make_stack_id
from .events import stringify
from .https_sink import ResponseSink
from .lambda_runtime import LambdaContainer
from .seed_pool import create_ledger_table
from .sqs_fifo import FifoQueue
from .transport import LocalTransport, queue_url

Phase = Literal["create", "update", "cleanup", "rollback", "rollback-cleanup", "delete"]
REGION: Final = "eu-west-1"
ACCOUNT: Final = "123456789012"
Template = Mapping[str, Mapping[str, Any]]
"""logical id -> resolved properties of each custom resource (``ServiceToken`` excluded)."""


@dataclass(frozen=True)
class Step:
    """One event CloudFormation is about to send, for choosing faults."""

    phase: Phase
    request_type: str
    logical_id: str
    attempt: int = 0


@dataclass(frozen=True)
class FaultSpec:
    aws: Sequence[Fault] = ()
    delivery: DeliveryFault | None = None


FaultPlan = Callable[[Step], FaultSpec | None]


@dataclass
class StackOperation:
    """What one stack operation sent and how it ended (CloudFormation's stack status)."""

    kind: str
    status: str = ""
    invocations: list[tuple[Step, Invocation]] = field(default_factory=list)
    calls: list[tuple[Step, list[AwsCall]]] = field(default_factory=list)
    orphaned: list[tuple[str, ResourceState]] = field(default_factory=list)

    @property
    def failed_events(self) -> list[tuple[Step, Invocation]]:
        return [(step, inv) for step, inv in self.invocations if not inv.succeeded]


class StackOperationError(AssertionError):
    """The stack ended in a state an operator would have to repair by hand."""


class LocalStack:
    """One stack: its resources as CloudFormation knows them, and the driver that sends events."""

    def __init__(
        self,
        driver: CustomResourceDriver,
        *,
        template: Template | None = None,
        recorder: AwsCallRecorder | None = None,
        retries: int = 3,
        ledger_table: str | None = None,
    ) -> None:
        self.driver = driver
        self.template: dict[str, dict[str, Any]] = {k: dict(v) for k, v in (template or {}).items()}
        self.recorder = recorder
        self.retries = retries
        self.ledger_table = ledger_table
        self.operations: list[StackOperation] = []
        self.faults: FaultPlan | None = None
        self.physical: dict[str, str] = {}
        """Physical ids of the provisioned tables and queues (``Ref``), by logical id."""
        self.attributes: dict[str, str] = {}
        """``Fn::GetAtt`` values of the provisioned resources (the provider's ``Arn``)."""

    # -- provisioning ------------------------------------------------------------------------

    @classmethod
    def provision(
        cls,
        assembly: SynthesizedStack,
        sink: ResponseSink,
        *,
        session: boto3.Session | None = None,
        clock: VirtualClock | None = None,
        recorder: AwsCallRecorder | None = None,
        suffix: str = "LOCAL",
        timeout_s: float | None = None,
        environment_overrides: Mapping[str, str] | None = None,
    ) -> LocalStack:
        """Create the template's tables and load its provider, as a stack create would.

        ``environment_overrides`` replaces some of the function's resolved environment
        variables (a test knob, e.g. a faster write pacing than the template's)."""
        session = session or boto3.Session()
        dynamodb = session.client("dynamodb", region_name=REGION)
        physical: dict[str, str] = {}
        ledger_table = None
        for table in assembly.tables():
            name = f"{assembly.name}-{table.logical_id}-{suffix}"
            physical[table.logical_id] = create_ledger_table(dynamodb, name, table.key_schema)
            ledger_table = ledger_table or name
        front = provider_function(assembly)
        arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{assembly.name}-{front.logical_id}"
        attributes = {f"{front.logical_id}.Arn": arn}
        queues = event_queues(assembly)
        for queue in (queues.queue, queues.dead_letters):
            physical[queue] = queue_url(f"{assembly.name}-{queue}-{suffix}.fifo", REGION, ACCOUNT)

        def factory(
            function: Function, overrides: Mapping[str, str] | None = None
        ) -> Callable[[], LambdaContainer]:
            environment = {
                key: str(resolve(value, physical, attributes))
                for key, value in function.environment.items()
            }
            environment.update(overrides or {})

            def new_container() -> LambdaContainer:
                with clock.binding_sleep() if clock is not None else nullcontext():
                    return LambdaContainer(
                        function.asset_dir,
                        handler=function.handler,
                        environment=environment,
                        timeout_s=function.timeout_s,
                        function_name=f"{assembly.name}-{function.logical_id}",
                    )

            return new_container

        worker = function_resource(assembly, queues.worker)
        transport = LocalTransport(
            new_front=factory(front),
            new_worker=factory(worker, environment_overrides),
            new_consumer=factory(function_resource(assembly, queues.consumer)),
            queue=FifoQueue(
                physical[queues.queue],
                visibility_timeout_s=queues.visibility_timeout_s,
                max_receive_count=queues.max_receive_count,
                dead_letters=FifoQueue(
                    physical[queues.dead_letters], visibility_timeout_s=6.0 * front.timeout_s
                ),
                # Late bound: a VirtualClock replaces time.time while it runs.
                now=lambda: time.time(),  # noqa: PLW0108
            ),
            maximum_concurrency=queues.maximum_concurrency,
            worker_timeout_s=timeout_s or worker.timeout_s,
            service_timeout_s=max(
                (service_timeout_s(r.properties) for r in assembly.custom_resources()),
                default=service_timeout_s({}),
            ),
            clock=clock,
        )
        driver = CustomResourceDriver(
            transport,
            sink,
            stack_id=make_stack_id(assembly.name, REGION, ACCOUNT),
            service_token=arn,
            new_container=lambda: transport,
            clock=clock,
        )
        stack = cls(driver, recorder=recorder, ledger_table=ledger_table)
        stack.physical, stack.attributes = physical, attributes
        stack.template = stack.template_for(assembly)
        return stack

    def template_for(self, assembly: SynthesizedStack) -> dict[str, dict[str, Any]]:
        """``assembly``'s custom resources, resolved against this stack's provisioned tables,
        queues and provider (another synth of the same app: the template of an update)."""
        return {
            resource.logical_id: {
                key: value
                for key, value in resolve(
                    resource.properties, self.physical, self.attributes
                ).items()
                if key != "ServiceToken"
            }
            for resource in assembly.custom_resources()
        }

    def fresh(
        self, *, stack_name: str | None = None, template: Template | None = None
    ) -> LocalStack:
        """Another stack (a new ``StackId``, no resources) on the same provider: the same
        ledger table and the same warm container, as a second stack sharing a ledger has, or
        a nested stack served by its parent's provider (``stack_name``, ``template``)."""
        old = self.driver
        driver = CustomResourceDriver(
            old.container,
            old.sink,
            stack_id=make_stack_id(stack_name or old.stack_name, REGION, ACCOUNT),
            service_token=old.service_token,
            new_container=old.new_container,
            clock=old.clock,
            check_logs=old.check_logs,
        )
        return LocalStack(
            driver,
            template=self.template if template is None else template,
            recorder=self.recorder,
            retries=self.retries,
            ledger_table=self.ledger_table,
        )

    @property
    def resources(self) -> dict[str, ResourceState]:
        return self.driver.resources

    # -- stack operations --------------------------------------------------------------------

    def deploy(
        self,
        template: Template | None = None,
        *,
        fail_after: bool = False,
        parallel: bool = False,
    ) -> StackOperation:
        """create-stack or update-stack to ``template`` (default: the synthesized one)."""
        chosen = self.template if template is None else template
        desired = {k: dict(stringify(v)) for k, v in chosen.items()}
        operation = StackOperation("CREATE" if not self.resources else "UPDATE")
        self.operations.append(operation)
        creates = [logical for logical in desired if logical not in self.resources]
        updates = [
            logical
            for logical in desired
            if logical in self.resources and self.resources[logical].properties != desired[logical]
        ]
        removed = [logical for logical in self.resources if logical not in desired]

        created: list[str] = []
        failed_creates: list[Invocation] = []
        updated: list[tuple[str, ResourceState, dict[str, Any]]] = []
        replaced: list[tuple[str, ResourceState]] = []
        jobs: list[tuple[str, str]] = [("Create", lid) for lid in creates] + [
            ("Update", lid) for lid in updates
        ]

        def run(kind: str, logical: str, concurrent: bool) -> Invocation:
            if kind == "Create":
                return self._invoke(
                    operation,
                    Step("create", "Create", logical),
                    "Create",
                    logical,
                    desired[logical],
                    concurrent=concurrent,
                )
            state = self.resources[logical]
            return self._invoke(
                operation,
                Step("update", "Update", logical),
                "Update",
                logical,
                desired[logical],
                physical_id=state.physical_id,
                old_properties=state.properties,
                concurrent=concurrent,
            )

        results = self._run_jobs(jobs, run, parallel=parallel)
        failed = False
        for (kind, logical), invocation in results:
            if invocation is None:
                continue  # not started: an earlier event failed
            if kind == "Create":
                if invocation.succeeded:
                    assert invocation.answer is not None
                    self.resources[logical] = ResourceState(
                        desired[logical], invocation.answer.physical_id, [invocation.answer]
                    )
                    created.append(logical)
                else:
                    failed_creates.append(invocation)
                    failed = True
            else:
                before = self.resources[logical]
                if invocation.succeeded:
                    assert invocation.answer is not None
                    if invocation.answer.physical_id != before.physical_id:
                        replaced.append((logical, before))
                    self.resources[logical] = ResourceState(
                        desired[logical],
                        invocation.answer.physical_id,
                        [*before.history, invocation.answer],
                    )
                    updated.append((logical, before, desired[logical]))
                else:
                    # CloudFormation keeps the old properties and id for a failed update.
                    updated.append((logical, before, desired[logical]))
                    failed = True
        silent = [inv for _, inv in results if inv is not None and inv.answer is None]
        if silent:
            # CloudFormation fails a silent resource only after its ServiceTimeout.
            self.driver.wait_service_timeout(
                {k: v for k, v in silent[0].event["ResourceProperties"].items()}
            )
        if failed or fail_after:
            self._roll_back(operation, created, failed_creates, updated)
            operation.status = (
                "ROLLBACK_COMPLETE" if operation.kind == "CREATE" else "UPDATE_ROLLBACK_COMPLETE"
            )
            return operation
        cleanup = [(logical, self.resources.pop(logical)) for logical in removed] + replaced
        self._cleanup(operation, "cleanup", cleanup)
        operation.status = f"{operation.kind}_COMPLETE"
        return operation

    def delete(self) -> StackOperation:
        """delete-stack: Delete every resource, newest first; DELETE_FAILED is retried."""
        operation = StackOperation("DELETE")
        self.operations.append(operation)
        for attempt in range(self.retries + 1):
            for logical in reversed(list(self.resources)):
                state = self.resources[logical]
                invocation = self._invoke(
                    operation,
                    Step("delete", "Delete", logical, attempt),
                    "Delete",
                    logical,
                    state.properties,
                    physical_id=state.physical_id,
                )
                if invocation.succeeded:
                    del self.resources[logical]
                elif invocation.answer is None:
                    self.driver.wait_service_timeout(state.properties)
            if not self.resources:
                operation.status = "DELETE_COMPLETE"
                return operation
        operation.status = "DELETE_FAILED"
        raise StackOperationError(
            f"delete-stack failed {self.retries + 1} times: {sorted(self.resources)}"
        )

    # -- phases ------------------------------------------------------------------------------

    def _roll_back(
        self,
        operation: StackOperation,
        created: list[str],
        failed_creates: list[Invocation],
        updated: list[tuple[str, ResourceState, dict[str, Any]]],
    ) -> None:
        """UPDATE_ROLLBACK_IN_PROGRESS (or ROLLBACK_IN_PROGRESS), then its cleanup."""
        cleanup: list[tuple[str, ResourceState]] = []
        for logical, before, attempted in reversed(updated):
            current = self.resources[logical]
            current_id = current.physical_id

            def rollback_update(
                attempt: int,
                logical: str = logical,
                before: ResourceState = before,
                attempted: dict[str, Any] = attempted,
                current_id: str = current_id,
            ) -> Invocation:
                return self._invoke(
                    operation,
                    Step("rollback", "Update", logical, attempt),
                    "Update",
                    logical,
                    before.properties,
                    physical_id=current_id,
                    old_properties=attempted,
                )

            invocation = self._until_done(rollback_update, before.properties)
            assert invocation.answer is not None
            if invocation.answer.physical_id != current_id:
                cleanup.append((logical, ResourceState(attempted, current_id)))
            self.resources[logical] = ResourceState(
                before.properties,
                invocation.answer.physical_id,
                [*before.history, invocation.answer],
            )
        deletes: list[tuple[str, dict[str, Any], str | None]] = [
            (
                inv.logical_id,
                {k: v for k, v in inv.event["ResourceProperties"].items() if k != "ServiceToken"},
                inv.reported_physical_id,
            )
            for inv in failed_creates
        ]
        deletes += [
            (logical, self.resources[logical].properties, self.resources[logical].physical_id)
            for logical in reversed(created)
        ]
        for logical, properties, reported in deletes:
            physical_id = reported or self.driver.invented_physical_id(logical)

            def rollback_delete(
                attempt: int,
                logical: str = logical,
                properties: dict[str, Any] = properties,
                physical_id: str = physical_id,
            ) -> Invocation:
                return self._invoke(
                    operation,
                    Step("rollback", "Delete", logical, attempt),
                    "Delete",
                    logical,
                    properties,
                    physical_id=physical_id,
                )

            self._until_done(rollback_delete, properties)
            self.resources.pop(logical, None)
        self._cleanup(operation, "rollback-cleanup", cleanup)

    def _cleanup(
        self, operation: StackOperation, phase: Phase, cleanup: list[tuple[str, ResourceState]]
    ) -> None:
        for logical, state in cleanup:
            invocation = self._invoke(
                operation,
                Step(phase, "Delete", logical),
                "Delete",
                logical,
                state.properties,
                physical_id=state.physical_id,
            )
            if not invocation.succeeded:
                if invocation.answer is None:
                    self.driver.wait_service_timeout(state.properties)
                operation.orphaned.append((logical, state))

    def _until_done(
        self, send: Callable[[int], Invocation], properties: Mapping[str, object]
    ) -> Invocation:
        """A rollback event, continued (resent) while it fails, as an operator would."""
        for attempt in range(self.retries + 1):
            invocation = send(attempt)
            if invocation.succeeded:
                return invocation
            if invocation.answer is None:
                self.driver.wait_service_timeout(properties)
        raise StackOperationError(
            f"rollback failed {self.retries + 1} times: {invocation.request_type} "
            f"{invocation.logical_id}: "
            + (invocation.answer.reason if invocation.answer else "no answer")
        )

    # -- events ------------------------------------------------------------------------------

    def _run_jobs(
        self,
        jobs: list[tuple[str, str]],
        run: Callable[[str, str, bool], Invocation],
        *,
        parallel: bool,
    ) -> list[tuple[tuple[str, str], Invocation | None]]:
        if not parallel or len(jobs) < 2:
            results: list[tuple[tuple[str, str], Invocation | None]] = []
            failed = False
            for job in jobs:
                if failed:
                    results.append((job, None))
                    continue
                invocation = run(*job, False)
                failed = not invocation.succeeded
                results.append((job, invocation))
            return results
        outcomes: dict[int, Invocation] = {}
        errors: list[BaseException] = []

        def worker(index: int, kind: str, logical: str) -> None:
            try:
                outcomes[index] = run(kind, logical, True)
            except BaseException as error:
                errors.append(error)

        threads = [
            threading.Thread(target=worker, args=(i, *job), name=f"cfn-{job[1]}")
            for i, job in enumerate(jobs)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise errors[0]
        return [(job, outcomes.get(i)) for i, job in enumerate(jobs)]

    def _invoke(
        self,
        operation: StackOperation,
        step: Step,
        request_type: str,
        logical_id: str,
        properties: Mapping[str, object],
        *,
        physical_id: str | None = None,
        old_properties: Mapping[str, object] | None = None,
        concurrent: bool = False,
    ) -> Invocation:
        """Send one event with the faults the plan chooses for it; concurrent events go to
        their own execution environment and arm faults for their own thread only."""
        spec = self.faults(step) if self.faults is not None else None
        container = self.driver.new_container() if concurrent else None
        armed: AbstractContextManager[list[AwsCall]] = (
            self.recorder.armed(
                spec.aws if spec else (),
                thread=threading.get_ident() if concurrent else None,
            )
            if self.recorder is not None
            else nullcontext([])
        )
        with armed as calls:
            invocation = self.driver.invoke(
                request_type,
                logical_id,
                properties,
                physical_id=physical_id,
                old_properties=old_properties,
                delivery_fault=spec.delivery if spec else None,
                container=container,
            )
        operation.invocations.append((step, invocation))
        operation.calls.append((step, list(calls)))
        return invocation


def provider_function(assembly: SynthesizedStack) -> Function:
    """The function the custom resources' ``ServiceToken`` points at (the front function), with
    its built asset directory."""
    tokens = {
        json.dumps(resource.properties.get("ServiceToken"), sort_keys=True)
        for resource in assembly.custom_resources(CUSTOM_RESOURCE_TYPE)
    }
    for logical_id, resource in assembly.resources.items():
        if resource["Type"] != "AWS::Lambda::Function":
            continue
        token = json.dumps({"Fn::GetAtt": [logical_id, "Arn"]}, sort_keys=True)
        if tokens and token not in tokens:
            continue
        if not tokens and resource["Properties"]["Handler"] != "front.handler":
            continue  # no resource declared (an emptied seed file): the front function still is
        return function_resource(assembly, logical_id)
    raise LookupError(f"{assembly.name}: no Lambda function serves {CUSTOM_RESOURCE_TYPE}")


def function_resource(assembly: SynthesizedStack, logical_id: str) -> Function:
    """One of the template's functions, with its built asset directory (from ``aws:asset:path``
    metadata, else from the asset manifest)."""
    for function in assembly.functions():
        if function.logical_id == logical_id:
            return function
    properties = assembly.resources[logical_id]["Properties"]
    return Function(
        logical_id=logical_id,
        asset_dir=_asset_dir(assembly, properties["Code"]),
        handler=properties["Handler"],
        timeout_s=int(properties.get("Timeout", 3)),
        environment=properties.get("Environment", {}).get("Variables", {}),
    )


@dataclass(frozen=True)
class EventQueues:
    """The provider's queues and their consumers, as the template declares them."""

    queue: str
    dead_letters: str
    worker: str
    consumer: str
    visibility_timeout_s: float
    max_receive_count: int
    maximum_concurrency: int


def event_queues(assembly: SynthesizedStack) -> EventQueues:
    """The FIFO queue (the one with a redrive policy), its dead-letter queue, and the functions
    their event source mappings invoke."""
    resources = assembly.resources
    [(queue_id, queue)] = [
        (logical_id, resource["Properties"])
        for logical_id, resource in resources.items()
        if resource["Type"] == "AWS::SQS::Queue" and "RedrivePolicy" in resource["Properties"]
    ]
    redrive = queue["RedrivePolicy"]
    dead_letters_id = redrive["deadLetterTargetArn"]["Fn::GetAtt"][0]
    mappings = {
        resource["Properties"]["EventSourceArn"]["Fn::GetAtt"][0]: resource["Properties"]
        for resource in resources.values()
        if resource["Type"] == "AWS::Lambda::EventSourceMapping"
    }
    worker = mappings[queue_id]
    return EventQueues(
        queue=queue_id,
        dead_letters=dead_letters_id,
        worker=worker["FunctionName"]["Ref"],
        consumer=mappings[dead_letters_id]["FunctionName"]["Ref"],
        visibility_timeout_s=float(queue["VisibilityTimeout"]),
        max_receive_count=int(redrive["maxReceiveCount"]),
        # Without ScalingConfig Lambda scales an SQS mapping up to 1,000 (here: unbounded).
        maximum_concurrency=int(worker.get("ScalingConfig", {}).get("MaximumConcurrency", 1000)),
    )


def _asset_dir(assembly: SynthesizedStack, code: Mapping[str, Any]) -> Path:
    key = str(code.get("S3Key", ""))
    asset_hash = key.rsplit("/", 1)[-1].split(".", 1)[0]
    for manifest in assembly.assembly_dir.glob("*.assets.json"):
        files = json.loads(manifest.read_text()).get("files", {})
        if asset_hash in files:
            return assembly.assembly_dir / str(files[asset_hash]["source"]["path"])
    raise LookupError(f"{assembly.name}: no built asset for {key}")
