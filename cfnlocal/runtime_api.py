"""A local Lambda Runtime API, and the real runtime interface client running a function on it.

``RuntimeApi`` serves the endpoints a runtime interface client calls (AWS Lambda Developer
Guide, "Using the Lambda runtime API for custom runtimes", runtimes-api.html):

- ``GET /2018-06-01/runtime/invocation/next`` blocks until an event is queued, then answers 200
  with the event as the body and the headers ``Lambda-Runtime-Aws-Request-Id``,
  ``Lambda-Runtime-Deadline-Ms`` (the deadline, epoch milliseconds),
  ``Lambda-Runtime-Invoked-Function-Arn`` and ``Lambda-Runtime-Trace-Id``;
- ``POST /2018-06-01/runtime/invocation/{AwsRequestId}/response`` and ``.../error`` (the latter
  with ``Lambda-Runtime-Function-Error-Type``) answer 202; an id that is not the pending
  invocation, or was already answered, gets 400; a response over 6 MB (the synchronous payload
  quota) gets 413;
- ``POST /2018-06-01/runtime/init/error`` answers 202 and fails what is pending.

``LambdaProcess`` is one execution environment: ``python -m awslambdaric <handler>`` (the
``awslambdaric`` package from PyPI, the client the Python base images run) started in the code
directory, with the reserved environment variables Lambda defines (Developer Guide, "Defined
runtime environment variables"), pointed at its own ``RuntimeApi``. With ``isolated`` it runs
``python -S`` and imports only the code directory and the modules named in ``provided`` (what
the Lambda runtime itself ships: boto3 and its dependencies, the runtime interface client),
linked into a directory of their own. Its stdout and stderr are the function's log output.
"""

from __future__ import annotations

import importlib.util
import json
import queue
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Literal

API_VERSION: Final = "2018-06-01"
MAX_RESPONSE_BYTES: Final = 6 * 1024 * 1024
"""Lambda's quota for a synchronous invocation's response payload."""
ERROR_TYPE_HEADER: Final = "Lambda-Runtime-Function-Error-Type"

RUNTIME_PROVIDED: Final = (
    "boto3",
    "botocore",
    "s3transfer",
    "jmespath",
    "dateutil",
    "urllib3",
    "six",
    "awslambdaric",
    "runtime_client",
    "simplejson",
    "snapshot_restore_py",
)
"""What the Python runtime provides besides the standard library: the SDK and its
dependencies, and the runtime interface client with its native part and dependencies."""

OutcomeKind = Literal["response", "error", "init-error", "timeout", "exited"]


@dataclass(frozen=True)
class Outcome:
    """How one invocation ended, as the Runtime API saw it."""

    request_id: str
    kind: OutcomeKind
    body: bytes = b""
    error_type: str | None = None
    finished_at: float = 0.0

    def json(self) -> Any:  # noqa: ANN401 - the handler's result
        return json.loads(self.body) if self.body else None


@dataclass(frozen=True)
class ApiRequest:
    """One request the runtime made to the Runtime API."""

    method: str
    path: str
    status: int
    user_agent: str
    request_id: str | None


@dataclass
class _Pending:
    request_id: str
    payload: bytes
    deadline_ms: int
    function_arn: str
    trace_id: str
    done: threading.Event = field(default_factory=threading.Event)
    outcome: Outcome | None = None


class RuntimeApi:
    """Start with ``with RuntimeApi() as api``; ``api.address`` is ``AWS_LAMBDA_RUNTIME_API``.

    One invocation at a time, as one execution environment takes them: ``invoke`` queues the
    event and waits for the runtime's response or error (or the deadline).
    """

    def __init__(self, host: str = "127.0.0.1") -> None:
        self._events: queue.Queue[_Pending | None] = queue.Queue()
        self._lock = threading.Lock()
        self._pending: _Pending | None = None
        self._closing = threading.Event()
        self.requests: list[ApiRequest] = []
        self.init_errors: list[tuple[str | None, bytes]] = []
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                if self.path == f"/{API_VERSION}/runtime/invocation/next":
                    api._next(self)
                else:
                    api._reply(self, 404, {"errorType": "NotFound", "errorMessage": self.path})

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                body = self.rfile.read(length)
                api._post(self, body)

            def log_message(self, format: str, *args: object) -> None:
                return

        self._server = ThreadingHTTPServer((host, 0), Handler)
        self._server.daemon_threads = True
        self.address = f"{host}:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> RuntimeApi:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._closing.set()
        self._events.put(None)
        self._server.shutdown()
        self._server.server_close()

    def invoke(
        self,
        event: Mapping[str, Any] | bytes,
        *,
        timeout_s: float,
        function_arn: str,
        alive: Callable[[], bool] | None = None,
    ) -> Outcome:
        """Deliver ``event`` to the runtime and wait for its outcome. ``timeout_s`` is the
        function's remaining time (the deadline header); ``alive`` (optional) tells whether
        the runtime's process still runs, so a dead one is noticed before the deadline."""
        payload = event if isinstance(event, bytes) else json.dumps(event).encode()
        now = time.time()
        pending = _Pending(
            request_id=str(uuid.uuid4()),
            payload=payload,
            deadline_ms=int((now + timeout_s) * 1000),
            function_arn=function_arn,
            trace_id=f"Root=1-{int(now):08x}-{uuid.uuid4().hex[:24]};Sampled=0",
        )
        with self._lock:
            if self._pending is not None:
                raise RuntimeError("an invocation is already running in this environment")
            self._pending = pending
        self._events.put(pending)
        end = time.monotonic() + timeout_s
        while not pending.done.wait(0.05):
            if time.monotonic() >= end:
                self._finish(pending, Outcome(pending.request_id, "timeout"))
            # A dead process: give a last answer in flight the chance to land first.
            elif alive is not None and not alive() and not pending.done.wait(0.2):
                self._finish(pending, Outcome(pending.request_id, "exited"))
        assert pending.outcome is not None
        return pending.outcome

    # -- request handling ------------------------------------------------------------------

    def _next(self, handler: BaseHTTPRequestHandler) -> None:
        while True:
            try:
                item = self._events.get(timeout=0.5)
            except queue.Empty:
                if self._closing.is_set():
                    return
                continue
            if item is None:
                self._events.put(None)  # wake any other waiter too
                return
            if item.done.is_set():  # timed out before the runtime asked for it
                continue
            break
        self._record(handler, 200, item.request_id)
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Lambda-Runtime-Aws-Request-Id", item.request_id)
        handler.send_header("Lambda-Runtime-Deadline-Ms", str(item.deadline_ms))
        handler.send_header("Lambda-Runtime-Invoked-Function-Arn", item.function_arn)
        handler.send_header("Lambda-Runtime-Trace-Id", item.trace_id)
        handler.send_header("Content-Length", str(len(item.payload)))
        handler.end_headers()
        handler.wfile.write(item.payload)

    def _post(self, handler: BaseHTTPRequestHandler, body: bytes) -> None:
        parts = handler.path.strip("/").split("/")
        prefix = [API_VERSION, "runtime"]
        if parts == [*prefix, "init", "error"]:
            self.init_errors.append((handler.headers.get(ERROR_TYPE_HEADER), body))
            self._record(handler, 202, None)
            self._reply(handler, 202, {"status": "OK"})
            with self._lock:
                pending = self._pending
            if pending is not None:
                self._finish(
                    pending,
                    Outcome(
                        pending.request_id,
                        "init-error",
                        body,
                        handler.headers.get(ERROR_TYPE_HEADER),
                        time.time(),
                    ),
                )
            return
        if (
            len(parts) == 5
            and parts[:3] == [*prefix, "invocation"]
            and parts[4] in ("response", "error")
        ):
            request_id = parts[3]
            with self._lock:
                pending = self._pending
            if pending is None or pending.request_id != request_id or pending.done.is_set():
                self._record(handler, 400, request_id)
                self._reply(
                    handler,
                    400,
                    {"errorType": "InvalidRequestID", "errorMessage": "no such invocation"},
                )
                return
            if parts[4] == "response" and len(body) > MAX_RESPONSE_BYTES:
                self._record(handler, 413, request_id)
                self._reply(
                    handler,
                    413,
                    {"errorType": "RequestEntityTooLarge", "errorMessage": "response too large"},
                )
                return
            self._record(handler, 202, request_id)
            self._reply(handler, 202, {"status": "OK"})
            kind: OutcomeKind = "response" if parts[4] == "response" else "error"
            error_type = handler.headers.get(ERROR_TYPE_HEADER)
            if kind == "error" and error_type is None:
                error_type = _error_type(body)
            self._finish(pending, Outcome(request_id, kind, body, error_type, time.time()))
            return
        self._record(handler, 404, None)
        self._reply(handler, 404, {"errorType": "NotFound", "errorMessage": handler.path})

    def _finish(self, pending: _Pending, outcome: Outcome) -> None:
        with self._lock:
            if pending.done.is_set():
                return
            pending.outcome = outcome
            pending.done.set()
            if self._pending is pending:
                self._pending = None

    def _record(self, handler: BaseHTTPRequestHandler, status: int, request_id: str | None) -> None:
        with self._lock:
            self.requests.append(
                ApiRequest(
                    handler.command,
                    handler.path,
                    status,
                    handler.headers.get("User-Agent", ""),
                    request_id,
                )
            )

    @staticmethod
    def _reply(handler: BaseHTTPRequestHandler, status: int, document: Mapping[str, str]) -> None:
        raw = json.dumps(document).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(raw)))
        handler.end_headers()
        handler.wfile.write(raw)


def _error_type(body: bytes) -> str | None:
    """The ``errorType`` of an error document (the client may send it in the body only)."""
    try:
        document = json.loads(body)
    except ValueError:
        return None
    value = document.get("errorType") if isinstance(document, dict) else None
    return str(value) if value is not None else None


class InvocationFailed(Exception):
    """The function did not return normally: it raised (the runtime posted an error), its
    process died, or it ran past its deadline (Lambda then ends the environment)."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__(f"invocation {outcome.request_id}: {outcome.kind} {outcome.error_type}")
        self.outcome = outcome


def provided_modules(directory: Path, names: Iterable[str] = RUNTIME_PROVIDED) -> Path:
    """Link the modules ``names`` (as this interpreter finds them) into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    for name in names:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            raise LookupError(f"{name} is not installed here (pip install awslambdaric boto3)")
        origin = Path(spec.origin)
        installed = origin.parent if spec.submodule_search_locations else origin
        link = directory / installed.name
        if not link.exists():
            link.symlink_to(installed)
    return directory


class LambdaProcess:
    """One execution environment running ``handler`` from ``code_dir`` under awslambdaric.

    The process starts at construction (the cold start: the client imports the handler, then
    asks for the first event). ``invoke`` returns the handler's result (decoded JSON) or raises
    ``InvocationFailed``; after a failure the environment is gone, as Lambda discards it.
    """

    def __init__(
        self,
        code_dir: Path,
        *,
        handler: str = "index.handler",
        environment: Mapping[str, str] | None = None,
        timeout_s: float = 180.0,
        function_name: str = "provider",
        memory_mb: int = 256,
        region: str = "eu-west-1",
        account: str = "123456789012",
        isolated: bool = True,
        python: str = sys.executable,
    ) -> None:
        self.code_dir = Path(code_dir)
        self.handler = handler
        self.environment = dict(environment or {})
        self.timeout_s = timeout_s
        self.function_name = function_name
        self.function_arn = f"arn:aws:lambda:{region}:{account}:function:{function_name}"
        self._output: list[str] = []
        self._output_lock = threading.Lock()
        self._stopped = False
        self._scratch = tempfile.TemporaryDirectory(prefix="lambda-runtime-")
        self.api = RuntimeApi().__enter__()
        env = {
            # Inherited by every Lambda process; credentials and endpoint come from the caller.
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "LANG": "en_US.UTF-8",
            "TZ": ":UTC",
            "_HANDLER": handler,
            "AWS_EXECUTION_ENV": f"AWS_Lambda_python{sys.version_info[0]}.{sys.version_info[1]}",
            "AWS_LAMBDA_FUNCTION_NAME": function_name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory_mb),
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function_name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": f"local/[$LATEST]{uuid.uuid4().hex}",
            "AWS_LAMBDA_RUNTIME_API": self.api.address,
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            "LAMBDA_TASK_ROOT": str(self.code_dir),
            "PYTHONUNBUFFERED": "1",
            **self.environment,
        }
        command = [python, "-m", "awslambdaric", handler]
        if isolated:
            runtime_dir = provided_modules(Path(self._scratch.name) / "runtime")
            env["LAMBDA_RUNTIME_DIR"] = str(runtime_dir)
            env["PYTHONPATH"] = str(runtime_dir)
            command = [python, "-S", "-m", "awslambdaric", handler]
        self.process = subprocess.Popen(
            command,
            cwd=self.code_dir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            encoding="utf-8",
            errors="replace",
        )
        self._reader = threading.Thread(target=self._read, name="lambda-output", daemon=True)
        self._reader.start()

    def invoke(self, event: Mapping[str, Any], *, timeout_s: float | None = None) -> object:
        if self.process.poll() is not None:
            raise InvocationFailed(Outcome("-", "exited"))
        outcome = self.api.invoke(
            event,
            timeout_s=timeout_s or self.timeout_s,
            function_arn=self.function_arn,
            alive=lambda: self.process.poll() is None,
        )
        if outcome.kind != "response":
            self.stop()
            raise InvocationFailed(outcome)
        return outcome.json()

    def alive(self) -> bool:
        return self.process.poll() is None

    def output(self) -> list[str]:
        """Every line the process wrote to stdout or stderr so far."""
        with self._output_lock:
            return list(self._output)

    def stop(self, grace_s: float = 2.0) -> list[str]:
        """End the environment (SIGTERM, then SIGKILL) and return its whole output."""
        if self._stopped:
            return self.output()
        self._stopped = True
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(grace_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(grace_s)
        self._reader.join(grace_s)
        self.api.close()
        self._scratch.cleanup()
        return self.output()

    def _read(self) -> None:
        stream = self.process.stdout
        assert stream is not None
        for line in stream:
            with self._output_lock:
                self._output.append(line.rstrip("\n"))
