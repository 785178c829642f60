"""crhelper, made to answer CloudFormation exactly once and before the deadline.

crhelper's own sender retries a failed PUT forever (``while True``) with no socket timeout, and
its timeout timer fires 0.5 s before the deadline with whatever physical id is set then, while
the handler thread keeps running and may answer a second time. CloudFormation takes the first
answer, so a second one is at best noise; an answer after the deadline is none at all.
It is bound as a default argument, so it cannot be patched: this subclass overrides ``_send``.
"""

from __future__ import annotations

import json
import logging
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from http.client import HTTPException, HTTPSConnection
from typing import Any, Final
from urllib.parse import urlsplit, urlunsplit

from crhelper import CfnResource

from .transport import failed_answer

logger = logging.getLogger(__name__)

TIMEOUT_MARGIN_S: Final = 5.0
"""The timeout answer goes out this long before the deadline, leaving time to deliver it."""
MAX_REASON: Final = 256
SEND_ATTEMPTS: Final = 3


class OneAnswerCfnResource(CfnResource):
    """A ``CfnResource`` that sends at most one answer per invocation, within its deadline."""

    # crhelper's private state, which its type stubs leave out.
    _context: Any
    _response_url: str
    _ssl_verify: bool | str | None
    _timer: threading.Timer | None
    _timeout: Callable[[], None]
    RequestType: str

    def __init__(self, *, log_level: str, sleep_on_delete: int) -> None:
        self._answer_lock = threading.Lock()
        self._answered = False
        self._delivered = False
        super().__init__(log_level=log_level, boto_level="ERROR", sleep_on_delete=sleep_on_delete)

    def __call__(self, event: Any, context: Any) -> None:  # noqa: ANN401 - crhelper's signature
        with self._answer_lock:
            self._answered = False
            self._delivered = False
        super().__call__(event, context)

    def answered(self) -> bool:
        """Whether this invocation's answer has been sent (or given up on)."""
        return self._answered

    def delivered(self) -> bool:
        """Whether the response URL accepted this invocation's answer."""
        return self._delivered

    def _set_timeout(self) -> None:
        seconds = self._context.get_remaining_time_in_millis() / 1000.0 - TIMEOUT_MARGIN_S
        self._timer = threading.Timer(max(seconds, 0.0), self._timeout)
        self._timer.daemon = True
        self._timer.start()

    def _send(self, status: str | None = None, reason: str = "", send_response: Any = None) -> None:  # noqa: ANN401
        with self._answer_lock:
            if self._answered:
                logger.warning("an answer was already sent for this request; not sending another")
                return
            self._answered = True
        body = {
            "Status": status or self.Status,
            "PhysicalResourceId": str(self.PhysicalResourceId),
            "StackId": self.StackId,
            "RequestId": self.RequestId,
            "LogicalResourceId": self.LogicalResourceId,
            "Reason": clamp_reason(reason if status else str(self.Reason)),
            "Data": self.Data,
            "NoEcho": self.NoEcho,
        }
        deadline = time.monotonic() + self._context.get_remaining_time_in_millis() / 1000.0 - 0.2
        self._delivered = put_response(
            self._response_url, body, ssl_verify=self._ssl_verify, deadline=deadline
        )


def answer_failed(event: Mapping[str, Any], reason: str, remaining_ms: int) -> bool:
    """Answer FAILED for an event no worker answers (``transport.failed_answer``), before the
    caller's deadline; whether the response URL accepted it."""
    deadline = time.monotonic() + remaining_ms / 1000.0 - 0.2
    return put_response(
        str(event["ResponseURL"]),
        failed_answer(event, clamp_reason(reason)),
        ssl_verify=None,
        deadline=deadline,
    )


def clamp_reason(reason: str) -> str:
    """Keep the head: our reasons put the key fact first (crhelper keeps the tail)."""
    return reason if len(reason) <= MAX_REASON else reason[: MAX_REASON - 3] + "..."


def put_response(
    url: str, body: dict[str, Any], *, ssl_verify: bool | str | None, deadline: float
) -> bool:
    """PUT the answer to the pre-signed URL, retrying transient failures until ``deadline``
    (a ``time.monotonic`` value). Logs the outcome, never the URL. True when accepted."""
    payload = json.dumps(body).encode()
    parts = urlsplit(url)
    path = urlunsplit(("", "", parts.path, parts.query, parts.fragment))
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    if isinstance(ssl_verify, str):
        context.load_verify_locations(cafile=ssl_verify)
    elif ssl_verify is False:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    status = body["Status"]
    for attempt in range(1, SEND_ATTEMPTS + 1):
        remaining = deadline - time.monotonic()
        if remaining <= 0.1:
            break
        connection = HTTPSConnection(parts.netloc, timeout=min(remaining, 10.0), context=context)
        try:
            connection.request(
                "PUT",
                path,
                body=payload,
                headers={"content-type": "", "content-length": str(len(payload))},
            )
            code = connection.getresponse().status
        except (OSError, HTTPException) as error:
            logger.warning(
                "answer %s: attempt %d could not be delivered: %s",
                status,
                attempt,
                type(error).__name__,
            )
            time.sleep(min(0.5 * attempt, max(deadline - time.monotonic() - 0.1, 0)))
            continue
        finally:
            connection.close()
        if code < 300:
            logger.info("answer %s delivered (HTTP %d)", status, code)
            return True
        logger.error("answer %s refused by the response URL: HTTP %d", status, code)
        if code < 500:
            return False
    logger.error(
        "answer %s not delivered before the deadline; CloudFormation will time out", status
    )
    return False
