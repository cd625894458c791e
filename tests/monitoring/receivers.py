"""Real local receivers for alert tests: an SMTP server (aiosmtpd) and an HTTP webhook receiver, both on
127.0.0.1, each recording what reached it."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller


@dataclass
class Inbox:
    messages: list[Message] = field(default_factory=list)
    arrived: list[float] = field(default_factory=list)  # time.perf_counter() of each message

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's handler hook name
        self.messages.append(message_from_bytes(envelope.content))
        self.arrived.append(time.perf_counter())
        return "250 OK"


@contextmanager
def smtp_server() -> Iterator[tuple[int, Inbox]]:
    inbox = Inbox()
    with socket.socket() as probe:  # aiosmtpd's start-up check connects to the port: it must be a real one
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, inbox
    finally:
        controller.stop()


@dataclass
class Hook:
    status: int = 200
    received: list[dict[str, Any]] = field(default_factory=list)
    hits: int = 0
    fail_next: int = 0  # answer this many requests with 503 before `status`
    arrived: list[float] = field(default_factory=list)  # time.perf_counter() of each accepted request


@contextmanager
def webhook_receiver(status: int = 200) -> Iterator[tuple[str, Hook]]:
    hook = Hook(status=status)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's hook name
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            hook.hits += 1
            status = 503 if hook.fail_next > 0 else hook.status
            hook.fail_next = max(0, hook.fail_next - 1)
            if status < 300:
                hook.received.append(json.loads(body))
                hook.arrived.append(time.perf_counter())
            self.send_response(status)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", hook
    finally:
        server.shutdown()
        server.server_close()
