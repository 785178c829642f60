"""Run a Lambda handler from a code directory the way the Lambda runtime would.

Each ``LambdaContainer`` imports the handler afresh (its own module state: a warm container's
caches, crhelper's helper), with the code directory first on ``sys.path`` as in ``/var/task``,
and invokes it with a context whose deadline is real.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

_IMPORT_LOCK = threading.Lock()


class LambdaContext:
    """The attributes and method of Lambda's context object that handlers use."""

    def __init__(self, function_name: str, timeout_s: float, memory_mb: int = 256) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = memory_mb
        self.invoked_function_arn = (
            f"arn:aws:lambda:eu-west-1:123456789012:function:{function_name}"
        )
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "local"
        self._deadline = time.monotonic() + timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(int((self._deadline - time.monotonic()) * 1000), 0)


class LambdaContainer:
    """One execution environment: a fresh import of ``handler`` from ``code_dir``."""

    def __init__(
        self,
        code_dir: Path,
        *,
        handler: str = "index.handler",
        environment: Mapping[str, str] | None = None,
        timeout_s: float = 180.0,
        function_name: str = "provider",
    ) -> None:
        self.code_dir = Path(code_dir)
        self.environment = dict(environment or {})
        self.timeout_s = timeout_s
        self.function_name = function_name
        module_name, _, attribute = handler.rpartition(".")
        with _IMPORT_LOCK, self._environment():
            self.module = _fresh_import(self.code_dir, module_name)
        self._handler: Callable[[dict[str, Any], LambdaContext], object] = getattr(
            self.module, attribute
        )

    def invoke(self, event: Mapping[str, Any], *, timeout_s: float | None = None) -> object:
        """Invoke with a JSON round-tripped copy of ``event`` and a fresh context."""
        payload = json.loads(json.dumps(event))
        context = LambdaContext(self.function_name, timeout_s or self.timeout_s)
        with self._environment():
            return self._handler(payload, context)

    def deadline_s(self, timeout_s: float | None) -> float:
        """How long an invocation may run before its answer must have arrived."""
        return timeout_s if timeout_s is not None else self.timeout_s

    def call(self, name: str) -> Any:  # noqa: ANN401 - whatever the function returns
        """Call the handler module's function ``name`` in the function's environment (a harness
        seam: e.g. to reach a client the module caches)."""
        with self._environment():
            return getattr(self.module, name)()

    @contextmanager
    def _environment(self) -> Iterator[None]:
        saved = {key: os.environ.get(key) for key in self.environment}
        os.environ.update(self.environment)
        try:
            yield
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


def _fresh_import(code_dir: Path, module_name: str) -> ModuleType:
    """Import ``module_name`` from ``code_dir`` with none of that directory's modules cached,
    then forget them again so the next container gets its own copies."""
    local = _top_level_names(code_dir)
    for name in [n for n in sys.modules if n.split(".")[0] in local]:
        del sys.modules[name]
    sys.path.insert(0, str(code_dir))
    try:
        return importlib.import_module(module_name)
    finally:
        sys.path.remove(str(code_dir))
        for name in [n for n in sys.modules if n.split(".")[0] in local]:
            del sys.modules[name]


def _top_level_names(code_dir: Path) -> set[str]:
    return {
        path.stem if path.suffix == ".py" else path.name
        for path in code_dir.iterdir()
        if path.suffix == ".py" or (path / "__init__.py").exists()
    }
