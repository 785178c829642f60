"""Infrastructure tests: the jsii environment, and a fresh app and stack per test."""

from __future__ import annotations

import os
from pathlib import Path

# jsii prints a banner on stderr for an end-of-life Node (this machine's Node 20) otherwise.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

import pytest
from aws_cdk import App, Stack

from tests.infra.support import cdk_app


@pytest.fixture
def app(tmp_path: Path) -> App:
    return cdk_app(tmp_path / "cdk.out")


@pytest.fixture
def stack(app: App) -> Stack:
    return Stack(app, "TestStack")
