"""The built asset as Lambda runs it: under the real runtime interface client (``awslambdaric``).

Everywhere else the handler runs in-process in ``cfnlocal.lambda_runtime``'s imitation of the
runtime. Here the synthesized stack's worker (the function the queue's event source mapping
invokes, which runs the handler) runs as Lambda's Python runtime runs it:
``python -m awslambdaric worker.handler`` in the asset directory, a separate process that
imports only the asset and what the runtime itself provides (boto3 and its dependencies, the
client), fetches each event from a local Runtime API (``cfnlocal.runtime_api``) and posts the
handler's result back; the handler gets the client's own context object, and its log output is
the client's. AWS is a ``ThreadedMotoServer`` (with the Cognito fidelity layer) the process
reaches through ``AWS_ENDPOINT_URL``; each answer crosses HTTPS to the response sink.

One stack goes through create-stack, an update-stack that changes one value and drops one
attribute, and delete-stack; the invariants of DESIGN section 5 hold after each, and every user
ends exactly as it began.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from cfnlocal.assembly import SynthesizedStack
from cfnlocal.cloudformation import LocalStack, event_queues, function_resource
from cfnlocal.https_sink import ResponseSink
from cfnlocal.runtime_api import LambdaProcess
from cfnlocal.seed_pool import user_attributes
from cfnlocal.transport import LocalTransport

from .support import ORIGINALS, SEED_FILE_USERS, Run, attributes_of, declare, new_pool

pytestmark = [pytest.mark.moto_server, pytest.mark.slow]

UPDATED_TENANT = "tenant-updated-7f3a91"
# The runtime's text log format: [LEVEL]\t<UTC time>Z\t<aws_request_id>\t<message>
RUNTIME_LOG_LINE = r"^\[(?:INFO|WARNING|ERROR)\]\t\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\t"
NOT_EVIDENCE = frozenset({"true", "false", "RESTORE", "RETAIN"})


@pytest.fixture
def moto_endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    try:
        yield endpoint
    finally:
        server.stop()


@pytest.fixture
def environments() -> Iterator[list[LambdaProcess]]:
    """Every execution environment a test started; all are ended at teardown."""
    started: list[LambdaProcess] = []
    yield started
    for process in started:
        process.stop()


def runtime_stack(
    synthesized: SynthesizedStack,
    sink: ResponseSink,
    session: boto3.Session,
    environments: list[LambdaProcess],
) -> LocalStack:
    """The synthesized stack provisioned into the emulator, its worker run by awslambdaric
    processes (a new one whenever Lambda would start a new environment); the front function
    stays in-process, its SendMessage answered by the local queue."""
    stack = LocalStack.provision(synthesized, sink, session=session, suffix="RIC")
    transport = stack.driver.container
    assert isinstance(transport, LocalTransport)
    function = function_resource(synthesized, event_queues(synthesized).worker)
    properties = synthesized.resources[function.logical_id]["Properties"]
    resolved = transport.new_worker()  # an in-process environment holds the resolved variables
    environment = {
        **resolved.environment,
        "AWS_ACCESS_KEY_ID": os.environ["AWS_ACCESS_KEY_ID"],
        "AWS_SECRET_ACCESS_KEY": os.environ["AWS_SECRET_ACCESS_KEY"],
        "AWS_SESSION_TOKEN": os.environ["AWS_SESSION_TOKEN"],
        "AWS_ENDPOINT_URL": os.environ["AWS_ENDPOINT_URL"],
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "SSL_CERT_FILE": sink.ca_file,  # trust the response sink's certificate
    }

    def new_environment() -> LambdaProcess:
        process = LambdaProcess(
            function.asset_dir,
            handler=function.handler,
            environment=environment,
            timeout_s=function.timeout_s,
            function_name=resolved.function_name,
            memory_mb=int(properties.get("MemorySize", 128)),
        )
        environments.append(process)
        return process

    transport.new_worker = new_environment  # type: ignore[assignment]
    return stack


def assert_declared(cognito: Any, pool: str, username: str, properties: dict[str, Any]) -> None:
    live = user_attributes(cognito, pool, username)
    for name, value in attributes_of(properties).items():
        if value is None:
            assert name not in live, f"{username}: {name} should be absent"
        else:
            assert live.get(name) == value, f"{username}: {name} was not applied"


def test_create_update_delete_under_the_runtime_interface_client(
    synthesized: SynthesizedStack,
    response_sink: ResponseSink,
    moto_endpoint: str,
    environments: list[LambdaProcess],
) -> None:
    session = boto3.Session()
    cognito = session.client("cognito-idp")
    dynamodb = session.client("dynamodb")
    stack = runtime_stack(synthesized, response_sink, session, environments)
    run = Run(stack, cognito, dynamodb, new_pool(cognito))
    before = {username: user_attributes(cognito, run.pool, username) for username in ORIGINALS}

    created = stack.deploy(run.synthesized)
    assert created.status == "CREATE_COMPLETE", created.failed_events
    run.check("after create-stack")
    for username in SEED_FILE_USERS:
        assert_declared(cognito, run.pool, username, run.props(username))

    ci_bot = run.props("ci-bot")
    changed = attributes_of(ci_bot)
    changed["custom:tenant_id"] = UPDATED_TENANT
    dropped = next(name for name, value in changed.items() if value and name != "custom:tenant_id")
    del changed[dropped]
    updated_props = declare(ci_bot, changed)
    updated = stack.deploy({**run.synthesized, run.logical_ids["ci-bot"]: updated_props})
    assert updated.status == "UPDATE_COMPLETE", updated.failed_events
    assert [step.request_type for step, _ in updated.invocations] == ["Update"]
    run.check("after update-stack")
    assert_declared(cognito, run.pool, "ci-bot", updated_props)
    live = user_attributes(cognito, run.pool, "ci-bot")
    assert live.get(dropped) == before["ci-bot"].get(dropped), f"{dropped} was not restored"

    deleted = run.teardown("delete-stack")
    assert deleted.status == "DELETE_COMPLETE"
    after = {username: user_attributes(cognito, run.pool, username) for username in ORIGINALS}
    assert after == before

    # -- what the runtime did ----------------------------------------------------------------
    [environment] = environments  # one warm environment served every event: nothing crashed
    output = environment.stop()
    text = "\n".join(output)
    invocations = [inv for op in (created, updated, deleted) for _, inv in op.invocations]
    assert len(invocations) == 2 * len(SEED_FILE_USERS) + 1
    # One answer each (the driver checks it arrived before the handler returned), all SUCCESS;
    # the Update and the Delete keep the physical id the Create reported.
    assert all(inv.succeeded for inv in invocations)
    reported = {inv.logical_id: {inv.reported_physical_id} for _, inv in created.invocations}
    for _, inv in [*updated.invocations, *deleted.invocations]:
        assert {inv.reported_physical_id, inv.event["PhysicalResourceId"]} == reported[
            inv.logical_id
        ]

    api = environment.api
    assert not api.init_errors, api.init_errors
    fetched = [r.request_id for r in api.requests if r.path.endswith("/invocation/next")]
    posted = [r for r in api.requests if r.method == "POST"]
    assert len(fetched) == len(invocations)
    assert [(r.path.rsplit("/", 1)[-1], r.status) for r in posted] == [("response", 202)] * len(
        invocations
    )
    assert [r.request_id for r in posted] == fetched
    # The requests come from the client's native HTTP client, under this interpreter.
    agent = f"aws-lambda-python/{sys.version_info[0]}.{sys.version_info[1]}."
    assert all(r.user_agent.startswith(agent) for r in api.requests), {
        r.user_agent for r in api.requests
    }

    # Each event's log lines are the runtime's own, stamped with the request id it fetched.
    for request_id in fetched:
        assert re.search(RUNTIME_LOG_LINE + re.escape(str(request_id)) + r"\t", text, re.M), (
            f"no runtime log line for request {request_id}:\n{text[-3000:]}"
        )
    assert "Traceback" not in text, text[-3000:]

    # Nothing sensitive in the function's whole log output.
    assert "X-Amz-Signature" not in text
    assert not [token for token in response_sink.tokens if token in text]
    values = {*stack.driver.sensitive_values, UPDATED_TENANT}
    leaked = sorted(v for v in values if len(v) >= 5 and v not in NOT_EVIDENCE and v in text)
    assert not leaked, f"{len(leaked)} attribute value(s) in the log output"
