"""The handler scenarios' fixtures (``tests/handler``: the real ``index.handler`` in a Lambda
stand-in, moto, the HTTPS sink), for the tool's handler-level tests."""

from tests.handler.conftest import (  # noqa: F401 - fixtures re-exported for this folder
    alice,
    aws_calls,
    cognito,
    container,
    default_session,
    driver,
    dynamodb,
    new_container,
    pool_id,
)
