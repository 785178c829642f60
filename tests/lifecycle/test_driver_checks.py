"""The driver's answer checks catch what CloudFormation and Lambda would not accept.

A deliberately broken handler (written to a temporary code directory, loaded in a
``LambdaContainer`` like the real one) misbehaves in one way per test; the driver must call it a
``ResponseDefect``. This is what makes the other lifecycle tests' silence meaningful.
"""

from __future__ import annotations

import textwrap

import pytest

from cfnlocal.driver import CustomResourceDriver, ResponseDefect
from cfnlocal.events import stack_id
from cfnlocal.lambda_runtime import LambdaContainer

BROKEN_HANDLER = textwrap.dedent(
    """
    import json
    import threading
    import time
    import urllib.request

    def put(event, **overrides):
        body = {
            "Status": "SUCCESS",
            "PhysicalResourceId": "broken-id",
            "StackId": event["StackId"],
            "RequestId": event["RequestId"],
            "LogicalResourceId": event["LogicalResourceId"],
            "Reason": "",
            "Data": {},
        }
        body.update(overrides)
        data = json.dumps(body).encode()
        request = urllib.request.Request(event["ResponseURL"], data=data, method="PUT")
        request.add_header("content-type", "")
        urllib.request.urlopen(request, timeout=5).read()

    def handler(event, context):
        mode = event["ResourceProperties"]["Mode"]
        if mode == "twice":
            put(event)
            put(event)
        elif mode == "after-return":
            threading.Timer(0.2, put, args=(event,)).start()
        elif mode == "silent":
            return
        elif mode == "empty-id":
            put(event, PhysicalResourceId="")
        elif mode == "long-reason":
            put(event, Status="FAILED", Reason="x" * 300)
        elif mode == "big-body":
            put(event, Data={"padding": "y" * 5000})
        elif mode == "overrun":
            time.sleep(context.get_remaining_time_in_millis() / 1000 + 0.3)
            put(event)
        else:
            put(event)
    """
)

CASES = {
    "twice": "2 answers",
    "after-return": "after the handler returned",
    "silent": "without answering",
    "empty-id": "empty physical id",
    "long-reason": "Reason is 300 characters",
    "big-body": "bytes",
    "overrun": "past its",
}


@pytest.fixture
def broken_driver(tmp_path, response_sink):
    (tmp_path / "index.py").write_text(BROKEN_HANDLER)
    container = LambdaContainer(tmp_path, timeout_s=1.0)
    return CustomResourceDriver(container, response_sink, stack_id=stack_id("Broken"))


def properties(mode: str) -> dict:
    return {
        "Mode": mode,
        "UserPoolId": "eu-west-1_Broken1",
        "Username": "someone",
        "UserAttributes": [{"Name": "custom:tenant_id", "Value": "tenant-secret-value"}],
    }


@pytest.mark.parametrize("mode", sorted(CASES))
def test_driver_flags_a_broken_answer(broken_driver, mode):
    with pytest.raises(ResponseDefect, match=CASES[mode]):
        broken_driver.invoke("Create", "Broken", properties(mode))


# Leaks are checked on synthetic answers and log lines rather than planted in a handler: the
# suite's leak guard (tests/leak_guard.py) would rightly fail a test whose handler leaks.


def test_driver_flags_a_value_in_an_answer(broken_driver):
    event = broken_driver.event("Create", "Broken", properties("ok"))
    broken_driver._watch(event)
    body = {"Status": "SUCCESS", "Data": {"tenant": "tenant-secret-value"}}
    with pytest.raises(ResponseDefect, match="carries 1 attribute value"):
        broken_driver._check_values("Create Broken", body, event)


def test_driver_flags_a_value_or_the_url_in_the_logs(broken_driver, response_sink):
    event = broken_driver.event("Create", "Broken", properties("ok"))
    broken_driver._watch(event)
    with pytest.raises(ResponseDefect, match="logged 1 attribute value"):
        broken_driver._check_logs("Create Broken", ("INFO x: set tenant-secret-value",))
    token = response_sink.tokens[-1]
    with pytest.raises(ResponseDefect, match="pre-signed response URL"):
        broken_driver._check_logs("Create Broken", (f"WARNING x: answering to ...{token}",))


def test_driver_accepts_a_correct_answer(broken_driver):
    invocation = broken_driver.invoke("Create", "Broken", properties("ok"))
    assert invocation.succeeded
    assert invocation.answer.received_at <= invocation.deadline_at
