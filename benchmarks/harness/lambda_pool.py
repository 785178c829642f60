"""Lambda execution environments as processes: each holds one ``LambdaContainer`` (warm after
its first event) and runs one event at a time, like the real service. ``ProcessContainer`` is
what ``harness.deploy.WorkerEnvironment`` wraps."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import sys
import time
from collections.abc import Mapping
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any


class HandlerDied(RuntimeError):
    """The handler raised (the process would have died): no answer was sent."""


class ProcessContainer:
    """One execution environment in its own process (its own interpreter lock)."""

    def __init__(
        self,
        code_dir: Path,
        *,
        handler: str,
        environment: Mapping[str, str],
        process_environment: Mapping[str, str],
        timeout_s: float,
        log_file: Path,
    ) -> None:
        self.code_dir = code_dir
        self.timeout_s = timeout_s
        self.durations: list[float] = []
        self.log_file = log_file
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(
            target=_run,
            args=(child, str(code_dir), handler, dict(environment), dict(process_environment)),
            kwargs={"log_file": str(log_file)},
            daemon=True,
        )
        self._process.start()

    def wait_ready(self) -> None:
        status = self._conn.recv()
        if status != "ready":
            raise RuntimeError(f"execution environment failed to start: {status}")

    def invoke(self, event: Mapping[str, Any], *, timeout_s: float | None = None) -> None:
        self._conn.send((dict(event), timeout_s or self.timeout_s))
        error, seconds = self._conn.recv()
        self.durations.append(seconds)
        if error is not None:
            raise HandlerDied(error)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._conn.send(None)
        self._process.join(5)
        if self._process.is_alive():
            self._process.kill()


def start_pool(count: int, **options: Any) -> list[ProcessContainer]:  # noqa: ANN401
    """``count`` environments, started in parallel and warm (handler imported)."""
    log_dir = Path(options.pop("log_dir"))
    pool = [
        ProcessContainer(log_file=log_dir / f"environment-{i:02}.log", **options)
        for i in range(count)
    ]
    for container in pool:
        container.wait_ready()
    return pool


def _run(
    conn: Connection,
    code_dir: str,
    handler: str,
    environment: dict[str, str],
    process_environment: dict[str, str],
    *,
    log_file: str,
) -> None:
    # The handler logs every event at INFO; keep it in a file rather than on the console.
    log = open(log_file, "w", buffering=1)  # noqa: SIM115 - lives as long as the process
    os.dup2(log.fileno(), 1)
    os.dup2(log.fileno(), 2)
    sys.stdout = sys.stderr = log
    os.environ.update(process_environment)
    try:
        from cfnlocal.lambda_runtime import LambdaContainer

        container = LambdaContainer(
            Path(code_dir), handler=handler, environment=environment, timeout_s=180
        )
    except BaseException as error:  # report why, then die
        conn.send(repr(error))
        raise
    conn.send("ready")
    while True:
        message = conn.recv()
        if message is None:
            return
        event, timeout_s = message
        started = time.perf_counter()
        error = None
        try:
            container.invoke(event, timeout_s=timeout_s)
        except BaseException as raised:
            error = repr(raised)
        conn.send((error, time.perf_counter() - started))
