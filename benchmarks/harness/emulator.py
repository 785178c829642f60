"""moto's ``ThreadedMotoServer`` in a process of its own (its own interpreter lock, as a remote
service has), with Cognito's documented write rules (``strict_cognito``) and, optionally,
Cognito's UserUpdate quota (``cfnlocal.throttle``).

Two emulator fixes, neither visible to a client:

- each request is atomic (one lock around moto's dispatch), as every AWS API call is: moto's
  backends are not thread-safe (``TransactWriteItems`` fails with "dictionary changed size
  during iteration" when another request writes the table meanwhile);
- DynamoDB costs what it costs in DynamoDB, not O(table): moto's ``Query`` sorts every item of
  the table to find one partition, and ``TransactWriteItems`` deep-copies the whole table (once
  per item) to be able to roll back. Here ``Query`` sees only the partition it asks for, and a
  transaction snapshots only the items it touches and restores those if it is cancelled.
"""

from __future__ import annotations

import copy
import logging
import multiprocessing
import os
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from multiprocessing.connection import Connection
from types import SimpleNamespace, TracebackType
from typing import Any
from unittest import mock

from cfnlocal.throttle import ThrottleStats

REGION = "eu-west-1"


def aws_environment(endpoint: str) -> dict[str, str]:
    """What a process needs so that boto3 talks to the emulator, with dummy credentials."""
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_SESSION_TOKEN": "bench",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }


class Emulator:
    """``with Emulator(throttle_limit=25) as emulator:`` -> ``emulator.endpoint``."""

    def __init__(self, *, throttle_limit: int | None = None) -> None:
        self.throttle_limit = throttle_limit
        self.endpoint = ""
        context = multiprocessing.get_context("spawn")
        self._control, child = context.Pipe()
        self._process = context.Process(
            target=_serve, args=(child, throttle_limit), name="moto-server", daemon=True
        )

    def __enter__(self) -> Emulator:
        self._process.start()
        port = self._control.recv()
        self.endpoint = f"http://127.0.0.1:{port}"
        os.environ.update(aws_environment(self.endpoint))
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._control.send(("stop",))
        self._process.join(10)
        if self._process.is_alive():
            self._process.kill()

    def throttle_stats(self) -> ThrottleStats | None:
        self._control.send(("stats",))
        stats: ThrottleStats | None = self._control.recv()
        return stats

    def reset_throttle(self) -> None:
        self._control.send(("reset",))
        self._control.recv()


def _serve(control: Connection, throttle_limit: int | None) -> None:
    from moto.server import ThreadedMotoServer

    from cfnlocal.cognito_fidelity import strict_cognito
    from cfnlocal.throttle import throttled_cognito

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    with ExitStack() as stack:
        stack.enter_context(atomic_requests())
        stack.enter_context(partition_sized_dynamodb())
        stack.enter_context(strict_cognito())
        limiter: Any = None
        if throttle_limit is not None:
            limiter = stack.enter_context(throttled_cognito(limit=throttle_limit))
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        control.send(server.get_host_and_port()[1])
        while True:
            command = control.recv()[0]
            if command == "stats":
                control.send(limiter.stats() if limiter is not None else None)
            elif command == "reset":
                if limiter is not None:
                    limiter.reset()
                control.send(None)
            else:
                break
        server.stop()


@contextmanager
def atomic_requests() -> Iterator[None]:
    """One moto request at a time (every AWS API call is atomic)."""
    from moto.core.responses import BaseResponse

    lock = threading.RLock()
    original = BaseResponse._dispatch

    def dispatch(self: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: ANN401
        with lock:
            return original(self, *args, **kwargs)

    with mock.patch.object(BaseResponse, "_dispatch", dispatch):
        yield


@contextmanager
def partition_sized_dynamodb() -> Iterator[None]:
    """``Query`` and ``TransactWriteItems`` at the cost of the items they touch (needs
    ``atomic_requests``: the table is briefly rearranged during a call)."""
    from moto.dynamodb import models as dynamodb_models
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    query = Table.query
    transact = DynamoDBBackend.transact_write_items

    def partition_query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: ANN401
        if kwargs.get("index_name") or hash_key is None or not self.range_key_attr:
            return query(self, hash_key, *args, **kwargs)
        everything = self.items
        self.items = {hash_key: everything[hash_key]} if hash_key in everything else {}
        try:
            return query(self, hash_key, *args, **kwargs)
        finally:
            self.items = everything

    def key_of(table: Any, op_type: str, op: dict[str, Any]) -> tuple[Any, Any]:  # noqa: ANN401
        attrs = op["Item"] if op_type == "Put" else op["Key"]
        hash_value = DynamoType(attrs[table.hash_key_attr])
        range_value = DynamoType(attrs[table.range_key_attr]) if table.range_key_attr else None
        return hash_value, range_value

    def snapshot_transact(self: Any, transact_items: list[dict[str, Any]]) -> None:  # noqa: ANN401
        saved: list[tuple[Any, Any, Any, Any]] = []
        for item in transact_items:
            op_type, op = next(iter(item.items()))
            table = self.tables.get(op.get("TableName"))
            if table is None or not table.range_key_attr:
                return transact(self, transact_items)  # not our tables' shape: moto's own way
            hash_value, range_value = key_of(table, op_type, op)
            current = table.items.get(hash_value, {}).get(range_value)
            saved.append((table, hash_value, range_value, copy.deepcopy(current)))
        # moto's own whole-table backup is then a no-op (the same table object).
        shallow = SimpleNamespace(
            deepcopy=lambda value, memo=None: (
                value if isinstance(value, Table) else copy.deepcopy(value, memo)
            )
        )
        try:
            with mock.patch.object(dynamodb_models, "copy", shallow):
                transact(self, transact_items)
        except BaseException:
            for table, hash_value, range_value, before in saved:
                if before is None:
                    table.items.get(hash_value, {}).pop(range_value, None)
                else:
                    table.items[hash_value][range_value] = before
            raise
        return None

    with ExitStack() as patches:
        patches.enter_context(mock.patch.object(Table, "query", partition_query))
        patches.enter_context(
            mock.patch.object(DynamoDBBackend, "transact_write_items", snapshot_transact)
        )
        yield
