"""The error matrix shares one in-process moto per module: a user pool costs moto an RSA key,
and each of the hundreds of cases only needs the user and the ledger started over.

``aws_isolation`` (the suite's per-test moto, autouse) is replaced here by the module's: dummy
credentials, the Region, ``strict_cognito()`` and ``mock_aws()`` as the suite sets them, plus a
virtual wall clock with botocore's retry waits made virtual, and the emulator told to skip the
requests an injected error answered.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from cfnlocal.aws_faults import (
    ALL_HANDLER_SERVICES,
    AwsCallRecorder,
    emulator_skips_injected,
    virtual_retry_waits,
)
from cfnlocal.clock import VirtualClock
from cfnlocal.cognito_fidelity import strict_cognito
from cfnlocal.https_sink import ResponseSink
from cfnlocal.seed_pool import create_ledger_table

from .scenario import LEDGER, PARAMETER, PARAMETER_VALUE, SECRET_NAME, World, secret_string

REGION = "eu-west-1"
_SUMMARY: list[str] = []


@pytest.fixture(scope="module")
def world(response_sink: ResponseSink) -> Iterator[World]:
    with pytest.MonkeyPatch.context() as patch:
        for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
            patch.delenv(name, raising=False)
        for name, value in {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        }.items():
            patch.setenv(name, value)
        with (
            strict_cognito(),
            mock_aws(),
            VirtualClock() as clock,
            emulator_skips_injected(),
            virtual_retry_waits(clock) as waits,
        ):
            # The handler's clients come from boto3's default session; the recorder's hooks
            # must be on it before the first container makes them.
            session = boto3.Session()
            patch.setattr(boto3, "DEFAULT_SESSION", session)
            recorder = AwsCallRecorder(session, ALL_HANDLER_SERVICES, clock=clock)
            observer = boto3.Session()
            dynamodb = observer.client("dynamodb")
            create_ledger_table(dynamodb, LEDGER)
            secret_arn = observer.client("secretsmanager").create_secret(
                Name=SECRET_NAME, SecretString=secret_string()
            )["ARN"]
            observer.client("ssm").put_parameter(
                Name=PARAMETER, Value=PARAMETER_VALUE, Type="SecureString"
            )
            yield World(
                clock=clock,
                recorder=recorder,
                waits=waits,
                sink=response_sink,
                cognito=observer.client("cognito-idp"),
                dynamodb=dynamodb,
                secret_arn=secret_arn,
            )


@pytest.fixture(autouse=True)
def aws_isolation(world: World) -> None:
    """The module's emulator instead of the suite's per-test one."""


@pytest.fixture
def report(record_property: Any) -> Any:
    """``report(name, value)``: print a figure and keep it for the session summary."""

    def write(name: str, value: object) -> None:
        print(f"error matrix: {name} = {value}")
        record_property(f"error-matrix:{name}", value)

    return write


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when != "call":
        return
    for name, value in report.user_properties:
        if str(name).startswith("error-matrix:"):
            _SUMMARY.append(f"{str(name)[len('error-matrix:') :]} = {value}")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _SUMMARY:
        terminalreporter.section("error matrix")
        for line in _SUMMARY:
            terminalreporter.write_line(line)
