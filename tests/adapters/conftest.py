"""One boto3 session for the adapter tests: clients come from it, so each test pays for a
client, not for loading the service models again (moto resets boto3's default session)."""

from __future__ import annotations

import boto3
import pytest

from tests.conftest import REGION


@pytest.fixture(scope="session")
def boto_session() -> boto3.session.Session:
    return boto3.session.Session(region_name=REGION)
