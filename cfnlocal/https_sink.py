"""An HTTPS endpoint that receives custom resource answers, as CloudFormation's S3 URL does.

crhelper speaks HTTPS only, so answers must cross a real TLS connection: the sink serves a
self-signed certificate whose file clients trust through ``SSL_CERT_FILE``.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import secrets
import ssl
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

Fault = Literal["403", "500", "hang", "close"]


@dataclass(frozen=True)
class Delivery:
    """One PUT the sink received: its raw body size and decoded JSON."""

    request_id: str
    size: int
    body: dict[str, Any]
    received_at: float


class ResponseSink:
    """Start with ``with ResponseSink() as sink``; ``sink.url(request_id)`` is a response URL."""

    def __init__(self) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="cfn-sink-")
        self.ca_file = str(Path(self._dir.name) / "sink-cert.pem")
        key_file = str(Path(self._dir.name) / "sink-key.pem")
        _write_self_signed(self.ca_file, key_file)
        self._lock = threading.Lock()
        self._deliveries: dict[str, list[Delivery]] = defaultdict(list)
        self._faults: dict[str, Fault] = {}
        self.tokens: list[str] = []
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_PUT(self) -> None:
                request_id = self.path.split("?", 1)[0].rsplit("/", 1)[-1]
                fault = sink._faults.get(request_id)
                if fault == "hang":
                    time.sleep(30)
                    return
                if fault == "close":
                    self.close_connection = True
                    self.connection.close()
                    return
                length = int(self.headers.get("content-length", "0"))
                raw = self.rfile.read(length)
                if fault in ("403", "500"):
                    self.send_response(int(fault))
                    self.end_headers()
                    return
                with sink._lock:
                    sink._deliveries[request_id].append(
                        Delivery(request_id, len(raw), json.loads(raw), time.time())
                    )
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.ca_file, key_file)
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> ResponseSink:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._dir.cleanup()

    def url(self, request_id: str) -> str:
        """A pre-signed-looking URL; its signature is a secret that must never be logged."""
        token = secrets.token_hex(16)
        self.tokens.append(token)
        return f"https://127.0.0.1:{self.port}/responses/{request_id}?X-Amz-Signature={token}"

    def inject(self, request_id: str, fault: Fault) -> None:
        """Answer every PUT for ``request_id`` with ``fault`` until ``recover``."""
        self._faults[request_id] = fault

    def recover(self, request_id: str) -> None:
        self._faults.pop(request_id, None)

    def deliveries(self, request_id: str) -> list[Delivery]:
        with self._lock:
            return list(self._deliveries.get(request_id, []))

    def all_deliveries(self) -> list[Delivery]:
        with self._lock:
            return [d for items in self._deliveries.values() for d in items]


def _write_self_signed(cert_file: str, key_file: str) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    Path(cert_file).write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    Path(key_file).write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
