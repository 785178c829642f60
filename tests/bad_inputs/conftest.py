"""The handler scenarios' fixtures (real ``index.handler``, moto, HTTPS sink, write recorder)."""

from tests.handler.conftest import (  # noqa: F401 - fixtures, found by name
    aws_calls,
    cognito,
    container,
    default_session,
    driver,
    dynamodb,
    new_container,
    pool_id,
)
