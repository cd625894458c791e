"""Run the WSGI app: gunicorn (threaded workers) where available, else Werkzeug's threaded server."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)


def serve(wsgi_app: Any, host: str, port: int, *, workers: int = 1, threads: int = 8, timeout: int = 120,
          on_start: Callable[[], None] | None = None) -> None:
    """Serve until interrupted (blocks); `on_start` runs in each worker process once it is up."""
    try:
        from gunicorn.app.base import BaseApplication
    except ImportError:  # e.g. on Windows
        BaseApplication = None
    if BaseApplication is None:
        from werkzeug.serving import run_simple

        if on_start:
            on_start()
        run_simple(host, port, wsgi_app, threaded=True, use_reloader=False)
        return

    class _App(BaseApplication):
        def load_config(self) -> None:
            for key, value in {"bind": f"{host}:{port}", "workers": workers, "threads": threads,
                               "worker_class": "gthread", "timeout": timeout, "accesslog": None,
                               "errorlog": "-", "loglevel": "warning", "graceful_timeout": 10}.items():
                self.cfg.set(key, value)
            if on_start:
                self.cfg.set("post_worker_init", lambda _worker: on_start())

        def load(self) -> Any:
            return wsgi_app

    _App().run()
