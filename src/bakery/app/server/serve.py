"""Run the WSGI app: gunicorn (threaded workers) where available, else Werkzeug's threaded server.

Neither server names itself in a `Server` header, and their own log lines are escaped onto one line like ours.
"""

from __future__ import annotations

import ipaddress
import logging
import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from werkzeug.serving import WSGIRequestHandler

from bakery.app.server.memory import malloc_trimmer
from bakery.logs import EscapingFormatter

log = logging.getLogger(__name__)

# Set by Databricks Apps in every app's environment; its proxy is then the only client of the app's port.
PLATFORM_ENV = ("DATABRICKS_APP_NAME", "DATABRICKS_APP_PORT")


def is_loopback(host: str) -> bool:
    """Whether only this machine can reach a listener on `host` (127.0.0.0/8, ::1, localhost)."""
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return host == "localhost"


def identity_bind_refusal(
    host: str,
    forwarded_identity: bool,
    environ: Mapping[str, str] | None = None,
    platform_env: Sequence[str] = PLATFORM_ENV,
) -> str | None:
    """Why the server must not start, or None. With auth.mode databricks the app believes the
    X-Forwarded-Email and X-Forwarded-Preferred-Username headers; only the Databricks Apps proxy may send
    them, so a listener other machines can reach is allowed only inside the platform (its variables set)."""
    environ = os.environ if environ is None else environ
    if not forwarded_identity or is_loopback(host):
        return None
    missing = [name for name in platform_env if not environ.get(name)]
    if not missing:
        return None
    unset = f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set"
    return (
        f"auth.mode is databricks (identity from X-Forwarded-Email headers) and --host {host} is not a "
        f"loopback address, but {unset}: outside Databricks Apps any client could send those headers and "
        "sign in as anyone. Listen on 127.0.0.1, or use auth.mode local"
    )


class QuietRequestHandler(WSGIRequestHandler):
    """Werkzeug's request handler without the `Server: Werkzeug/... Python/...` header."""

    def send_response(self, code: int, message: str | None = None) -> None:
        self.log_request(code)
        self.send_response_only(code, message)
        self.send_header("Date", self.date_time_string())


def _hide_gunicorn_server_header() -> None:
    """gunicorn writes `Server: gunicorn` on every response and has no setting for it: drop that line."""
    from gunicorn.http import wsgi

    if getattr(wsgi.Response, "_bakery_quiet", False):
        return
    default_headers = wsgi.Response.default_headers

    def without_server(self: Any) -> list[str]:
        return [h for h in default_headers(self) if not h.lower().startswith("server:")]

    wsgi.Response.default_headers = without_server
    wsgi.Response._bakery_quiet = True


def _escaping_logger_class() -> type:
    from gunicorn.glogging import Logger

    class EscapingLogger(Logger):
        """gunicorn's logger whose lines (they may quote a bad request line or header) are escaped."""

        def setup(self, cfg: Any) -> None:
            super().setup(cfg)
            for logger in (self.error_log, self.access_log):
                for handler in logger.handlers:
                    fmt = handler.formatter or logging.Formatter()
                    handler.setFormatter(EscapingFormatter(fmt._fmt, fmt.datefmt))

    return EscapingLogger


def serve(
    wsgi_app: Any,
    host: str,
    port: int,
    *,
    workers: int = 1,
    threads: int = 8,
    timeout: int = 120,
    keepalive: int = 2,
    on_start: Callable[[], None] | None = None,
) -> None:
    """Serve until interrupted (blocks); `on_start` runs in each worker process once it is up. Under gunicorn
    each worker also trims glibc malloc's free memory as server.malloc_trim_every_requests says
    (bakery.app.server.memory)."""
    try:
        from gunicorn.app.base import BaseApplication
    except ImportError:  # e.g. on Windows
        BaseApplication = None
    if BaseApplication is None:
        from werkzeug.serving import run_simple

        if on_start:
            on_start()
        run_simple(
            host, port, wsgi_app, threaded=True, use_reloader=False, request_handler=QuietRequestHandler
        )
        return

    class _App(BaseApplication):
        def load_config(self) -> None:
            for key, value in {
                "bind": f"{host}:{port}",
                "workers": workers,
                "threads": threads,
                "worker_class": "gthread",
                "timeout": timeout,
                "accesslog": None,
                "errorlog": "-",
                "loglevel": "warning",
                "graceful_timeout": 10,
                "keepalive": keepalive,
                "logger_class": _escaping_logger_class(),
            }.items():
                self.cfg.set(key, value)
            if on_start:
                self.cfg.set("post_worker_init", lambda _worker: on_start())
            trimmer = malloc_trimmer()  # one per process: each forked worker counts its own requests
            if trimmer is not None:
                self.cfg.set("post_request", lambda _worker, _req, _environ, _resp: trimmer())

        def load(self) -> Any:
            return wsgi_app

    _hide_gunicorn_server_header()
    _App().run()
