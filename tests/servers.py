"""Real servers on loopback that tests start: a webhook endpoint and an SMTP relay."""

from __future__ import annotations

import email
import email.policy
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session


def free_port() -> int:
    """A loopback port nothing listens on (right after this returns)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


@dataclass
class Endpoint:
    """What the webhook server received, and how it answers: `statuses` in turn, then 200."""

    url: str
    requests: list[Received] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    # Until `release` is set, a hanging endpoint holds every request without answering.
    hang: bool = False
    release: threading.Event = field(default_factory=threading.Event)
    arrived: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        endpoint = self.server.endpoint
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with endpoint.lock:
            endpoint.requests.append(
                Received({k.lower(): v for k, v in self.headers.items()}, body)
            )
            status = endpoint.statuses.pop(0) if endpoint.statuses else 200
        endpoint.arrived.set()
        if endpoint.hang:
            endpoint.release.wait(10)
        try:
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok" if status < 300 else b"no")
        except OSError:
            pass  # the client gave up waiting

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    endpoint: Endpoint

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that timed out and left: expected here


@pytest.fixture
def endpoint() -> Iterator[Endpoint]:
    server = _Server(("127.0.0.1", 0), _Handler)
    server.endpoint = Endpoint(f"http://127.0.0.1:{server.server_address[1]}/hooks/voc")
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server.endpoint
    server.endpoint.release.set()
    server.shutdown()
    server.server_close()
    thread.join(5)


@dataclass
class Mail:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    login: bytes | None
    tls: bool


class Relay:
    """An aiosmtpd handler that keeps what it accepts and refuses what it is told to."""

    def __init__(self) -> None:
        self.mails: list[Mail] = []
        self.data_replies: list[str] = []
        self.refuse: dict[str, str] = {}

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.data_replies:
            return self.data_replies.pop(0)
        assert isinstance(envelope.content, bytes)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        login = session.auth_data if session.authenticated else None
        tls = (
            server.transport is not None
            and server.transport.get_extra_info("ssl_object") is not None
        )
        self.mails.append(Mail(str(envelope.mail_from), envelope.rcpt_tos, message, login, tls))
        return "250 Message accepted"


def authenticate(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and auth_data == (b"alerts", b"pa55word")
    # handled=False: aiosmtpd then answers 535 itself.
    return AuthResult(success=ok, handled=False, auth_data=auth_data.login if ok else None)


@pytest.fixture
def smtp_server(request: pytest.FixtureRequest) -> Iterator[tuple[Relay, int]]:
    """A relay on loopback; an indirect parametrization passes options to its Controller."""
    options: dict[str, Any] = getattr(request, "param", {})
    relay = Relay()
    controller = Controller(relay, hostname="127.0.0.1", port=free_port(), **options)
    controller.start()
    yield relay, controller.port
    controller.stop()
