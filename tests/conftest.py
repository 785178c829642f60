"""Suite-wide isolation: dummy credentials, an explicit region, no real AWS endpoint.

Every test runs inside moto's in-process mock unless it is marked ``moto_server`` (those start
their own ``ThreadedMotoServer``), so a missing mock can never reach AWS. Either way moto's
Cognito enforces the real service's rules (``strict_cognito``): moto alone accepts writes that
Cognito refuses, and a test passing against a laxer Cognito would prove nothing.

``tests/leak_guard.py`` (a plugin) checks after every test that no log record, answer or ledger
item carries a sensitive value; its fixture holds ``aws_isolation`` open until it has read
moto's state.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack

import pytest
from moto import mock_aws

from cfnlocal.cognito_fidelity import CognitoFidelity, strict_cognito
from cfnlocal.https_sink import ResponseSink

pytest_plugins = ["tests.leak_guard"]

REGION = "eu-west-1"
FIDELITY = pytest.StashKey[CognitoFidelity]()
# The pool-configuration matrix runs in `make test-matrix` (CI), beyond `make test`'s budget;
# the wheel's consumer apps in `make test-wheel` (CI), which builds and installs the wheel.
collect_ignore = [
    *([] if os.environ.get("MATRIX_RUN") else ["matrix"]),
    *([] if os.environ.get("WHEEL_RUN") else ["wheel"]),
]

# The jsii runtime prints an end-of-life banner for Node 20 (which works) on every synth.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")


@pytest.fixture(autouse=True)
def aws_isolation(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    for name in (
        "AWS_PROFILE",
        "AWS_ENDPOINT_URL",
        "AWS_CONFIG_FILE",
        "AWS_SHARED_CREDENTIALS_FILE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    with ExitStack() as stack:
        if not request.node.get_closest_marker("permissive_moto"):
            request.node.stash[FIDELITY] = stack.enter_context(strict_cognito())
        if not request.node.get_closest_marker("moto_server"):
            stack.enter_context(mock_aws())
        yield


@pytest.fixture
def fidelity(request: pytest.FixtureRequest, aws_isolation: None) -> CognitoFidelity:
    """What the strict Cognito layer observed in this test: codes sent, changes pending."""
    return request.node.stash[FIDELITY]


@pytest.fixture(scope="session")
def response_sink() -> Iterator[ResponseSink]:
    with ResponseSink() as sink:
        yield sink


@pytest.fixture(autouse=True)
def trust_response_sink(response_sink: ResponseSink, monkeypatch: pytest.MonkeyPatch) -> None:
    # crhelper-style senders use the default SSL context, which honours SSL_CERT_FILE.
    monkeypatch.setenv("SSL_CERT_FILE", response_sink.ca_file)
