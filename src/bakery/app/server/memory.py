"""Allocator settings for the long-lived app server, applied once before any worker starts.

Why: under a 10-minute soak a worker's RSS grew 15-20% while its Python heap stayed flat (tracemalloc), and the
growth was memory the allocators kept after it was freed, not live objects (docs/research/2026-12-07-app-memory.md):
- glibc malloc raises its mmap threshold to the largest block freed (up to 32 MiB), so after the first login each
  Argon2 hash's 19 MiB buffer comes from the heap instead of its own mapping; the freed buffers stay there,
  fragmented, in every arena a request thread touched (+100 MB of free heap per worker). A fixed threshold keeps
  such blocks in their own mappings, returned on free.
- delta-rs (the `deltalake` package) allocates through its own jemalloc, which keeps freed pages for 10 s; each
  append to a growing table (ops.upload_batches) frees more, so the pages it keeps grow with the table. A shorter
  decay returns them sooner.
- glibc malloc gives memory back to the system only from the top of a heap; freed chunks below live ones stay
  resident. Under the mixed soak load that free memory inside the request threads' arenas grew from 12 to 98 MB
  per worker in 3 minutes while the memory in use stayed flat. `malloc_trim(0)` every few requests returns those
  free pages wherever they are (`MallocTrimmer`, run by gunicorn's post_request hook).
Settings already in the environment (MALLOC_MMAP_THRESHOLD_, _RJEM_MALLOC_CONF) win over the configuration.
glibc reads its MALLOC_* variables once, when the process starts: gunicorn forks its workers without a new exec,
so setting one in os.environ at start-up would reach no worker; mallopt() and malloc_trim() do.
"""

from __future__ import annotations

import ctypes
import logging
import os
import sys
import threading
from collections.abc import Callable, MutableMapping
from typing import Any

log = logging.getLogger(__name__)

M_MMAP_THRESHOLD = -3  # glibc <malloc.h>; setting it also turns off the dynamic threshold
GLIBC_MMAP_ENV = "MALLOC_MMAP_THRESHOLD_"
# deltalake's jemalloc is built with the `_rjem_` prefix, so it reads this variable, not MALLOC_CONF.
DELTALAKE_MALLOC_ENV = "_RJEM_MALLOC_CONF"
ARROW_POOL_ENV = "ARROW_DEFAULT_MEMORY_POOL"


def set_malloc_mmap_threshold(threshold: int | None, environ: MutableMapping[str, str] | None = None) -> bool:
    """Make glibc malloc serve blocks of at least `threshold` bytes from their own mappings. Whether it was set
    (not on other C libraries, not when None or when the environment already sets it)."""
    environ = os.environ if environ is None else environ
    if threshold is None or GLIBC_MMAP_ENV in environ or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # musl and others: nothing to set
        return False
    if not mallopt(M_MMAP_THRESHOLD, int(threshold)):
        raise ValueError(f"server.malloc_mmap_threshold_bytes: glibc refused {threshold}")
    return True


def _glibc() -> Any | None:
    """glibc's C library, or None elsewhere (macOS, Windows, musl): the callers then do nothing."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.malloc_trim  # noqa: B018 (glibc has it, musl does not)
    except (OSError, AttributeError):
        return None
    return libc


class MallocTrimmer:
    """Hands the memory glibc malloc holds free back to the system every `every` calls (one call per request
    this process answers). The trim runs in the thread that just answered, after its response was sent."""

    def __init__(self, every: int, trim: Callable[[int], int], on_trim: Callable[[bool], None]) -> None:
        self.every, self._trim, self._on_trim = every, trim, on_trim
        self._lock = threading.Lock()
        self._count = 0

    def __call__(self) -> None:
        with self._lock:
            self._count += 1
            due = self._count % self.every == 0
        if due:
            self._on_trim(bool(self._trim(0)))


_trim_every: int | None = None


def malloc_trimmer() -> MallocTrimmer | None:
    """The request hook for server.malloc_trim_every_requests as `tune_allocators` read it; None when it is
    off or the C library is not glibc."""
    libc = _glibc() if _trim_every else None
    if libc is None or _trim_every is None:
        return None
    from bakery.app.server.metrics import count_malloc_trim

    return MallocTrimmer(_trim_every, libc.malloc_trim, count_malloc_trim)


def set_deltalake_malloc_conf(conf: str | None, environ: MutableMapping[str, str] | None = None) -> bool:
    """Give delta-rs' jemalloc `conf` (read once, when `deltalake` is first imported). Whether it was set."""
    environ = os.environ if environ is None else environ
    if not conf or DELTALAKE_MALLOC_ENV in environ:
        return False
    if "deltalake" in sys.modules:
        log.warning("deltalake is already loaded: server.deltalake_malloc_conf %r has no effect", conf)
        return False
    environ[DELTALAKE_MALLOC_ENV] = conf
    return True


def set_arrow_memory_pool(pool: str | None, environ: MutableMapping[str, str] | None = None) -> bool:
    """Make `pool` (system, jemalloc or mimalloc) Arrow's default memory pool. Whether it was set."""
    environ = os.environ if environ is None else environ
    if not pool or ARROW_POOL_ENV in environ:
        return False
    if "pyarrow" in sys.modules:
        log.warning("pyarrow is already loaded: server.arrow_memory_pool %r has no effect", pool)
        return False
    environ[ARROW_POOL_ENV] = pool
    return True


def _positive(conf: Any, key: str) -> int | None:
    value = conf.get(key, None)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value <= 0):
        raise ValueError(f"{key}: expected a positive integer or null, got {value!r}")
    return value


def tune_allocators(conf: Any) -> None:
    """Apply server.malloc_mmap_threshold_bytes, server.deltalake_malloc_conf and server.arrow_memory_pool (call
    before the app loads data), and keep server.malloc_trim_every_requests for `malloc_trimmer`."""
    global _trim_every
    threshold = _positive(conf, "server.malloc_mmap_threshold_bytes")
    _trim_every = _positive(conf, "server.malloc_trim_every_requests")
    glibc = set_malloc_mmap_threshold(threshold)
    jemalloc = set_deltalake_malloc_conf(conf.get("server.deltalake_malloc_conf", None))
    arrow = set_arrow_memory_pool(conf.get("server.arrow_memory_pool", None))
    log.debug(
        "allocators set: glibc mmap threshold %s, deltalake jemalloc %s, arrow pool %s, malloc_trim every %s",
        glibc,
        jemalloc,
        arrow,
        _trim_every,
    )
