"""Bench-only memory probe for the soak: what grows inside each gunicorn worker, Python heap or native memory.

`install(out_dir, frames)` wraps `bakery.app.server.serve.serve` in the process that starts the app (before gunicorn
forks), so that each worker starts a probe thread once it is up. Nothing of this exists in `bakery app` itself.
Every `every` seconds a worker appends one JSON line to <out_dir>/worker-<pid>.jsonl: RSS (anonymous and file
backed), Arrow's pool (backend, bytes allocated, peak), glibc malloc's counters (mallinfo2), the serving cache's
entries, the blocks Python's allocator holds and, with `frames` > 0, tracemalloc's traced bytes.
The soak driver creates <out_dir>/mark-<label> files; on each new mark a worker records a tracemalloc snapshot,
and on mark `end` it writes the top growing allocation sites since mark `warm` to <out_dir>/worker-<pid>-top.txt.
"""

from __future__ import annotations

import ctypes
import json
import os
import sys
import threading
import time
import tracemalloc
from pathlib import Path
from typing import Any


class _Mallinfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena",
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",
            "usmblks",
            "fsmblks",
            "uordblks",
            "fordblks",
            "keepcost",
        )
    ]


def _mallinfo() -> dict[str, int]:
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallinfo2.restype = _Mallinfo2
        info = libc.mallinfo2()
    except (OSError, AttributeError):
        return {}
    mb = 2**20
    return {
        "malloc_arena_mb": round(info.arena / mb, 1),  # sbrk heap + arenas (not mmapped chunks)
        "malloc_mmap_mb": round(info.hblkhd / mb, 1),
        "malloc_used_mb": round(info.uordblks / mb, 1),
        "malloc_free_mb": round(info.fordblks / mb, 1),
    }


def _status() -> dict[str, float]:
    out = {}
    with open("/proc/self/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "RssAnon", "RssFile", "VmHWM"):
                out[key] = round(int(value.split()[0]) / 1024, 1)
    return out


def _smaps() -> dict[str, float]:
    """Resident MB per mapping: file-backed by file name (the top 12), anonymous as [anon], plus [heap]."""
    sizes: dict[str, float] = {}
    name = "[anon]"
    with open("/proc/self/smaps") as f:
        for line in f:
            head = line.split()
            if "-" in head[0] and len(head) >= 5 and ":" not in head[0]:
                name = os.path.basename(head[5]) if len(head) > 5 else "[anon]"
            elif head[0] == "Rss:":
                sizes[name] = sizes.get(name, 0.0) + int(head[1]) / 1024
    top = sorted(sizes.items(), key=lambda kv: -kv[1])[:12]
    return {k: round(v, 1) for k, v in top}


def _cache_stats(wsgi_app: Any) -> dict[str, Any]:
    try:
        serving = wsgi_app.extensions["bakery"].serving
    except (AttributeError, KeyError):
        return {}
    for _ in range(10):  # request threads change the cache meanwhile: copy until a copy succeeds
        try:
            cache = dict(serving._cache)
            break
        except RuntimeError:
            time.sleep(0.01)
    else:
        return {}
    kinds: dict[str, int] = {}
    for key in cache:
        kinds[str(key[0][0])] = kinds.get(str(key[0][0]), 0) + 1
    return {"cache_entries": len(cache), "cache_kinds": kinds, "key_locks": len(serving._key_locks)}


class Probe(threading.Thread):
    def __init__(self, wsgi_app: Any, out_dir: Path, frames: int, every: float) -> None:
        super().__init__(name="soak-probe", daemon=True)
        self.wsgi_app, self.out_dir, self.frames, self.every = wsgi_app, Path(out_dir), frames, every
        self.pid = os.getpid()
        self.snapshots: dict[str, tracemalloc.Snapshot] = {}

    def sample(self, label: str = "") -> dict[str, Any]:
        import pyarrow as pa

        pool = pa.default_memory_pool()
        row: dict[str, Any] = {"t": round(time.time(), 1), "label": label, **_status()}
        row.update(
            arrow_backend=pool.backend_name,
            arrow_allocated_mb=round(pa.total_allocated_bytes() / 2**20, 1),
            arrow_peak_mb=round(pool.max_memory() / 2**20, 1),
            # Not len(gc.get_objects()): from this thread it takes a reference to a tuple that a request thread
            # is still building, and CPython 3.11 then fails that request with SystemError (tupleobject.c:927,
            # CPython gh-107137). Python's allocated blocks count the same growth without touching objects.
            py_blocks=sys.getallocatedblocks(),
            threads=threading.active_count(),
        )
        row.update(_mallinfo())
        row.update(_cache_stats(self.wsgi_app))
        if tracemalloc.is_tracing():
            cur, peak = tracemalloc.get_traced_memory()
            row.update(traced_mb=round(cur / 2**20, 1), traced_peak_mb=round(peak / 2**20, 1))
        return row

    def write(self, row: dict[str, Any]) -> None:
        with open(self.out_dir / f"worker-{self.pid}.jsonl", "a") as f:
            f.write(json.dumps(row) + "\n")

    def mark(self, label: str) -> None:
        self.write({**self.sample(label), "smaps": _smaps()})
        if not tracemalloc.is_tracing():
            return
        snap = tracemalloc.take_snapshot().filter_traces(
            [tracemalloc.Filter(False, tracemalloc.__file__), tracemalloc.Filter(False, "<frozen importlib*")]
        )
        self.snapshots[label] = snap
        base = self.snapshots.get("warm")
        if label != "end" or base is None:
            return
        lines = [f"worker {self.pid}: top growing allocation sites from mark 'warm' to 'end'"]
        for stat in snap.compare_to(base, "lineno")[:30]:
            lines.append(str(stat))
        lines.append("\nby traceback (top 8):")
        for stat in snap.compare_to(base, "traceback")[:8]:
            lines.append(f"{stat.size_diff / 1024:+.1f} KiB, {stat.count_diff:+d} blocks")
            lines.extend("    " + ln for ln in stat.traceback.format())
        (self.out_dir / f"worker-{self.pid}-top.txt").write_text("\n".join(lines) + "\n")

    def run(self) -> None:
        seen: set[str] = set()
        next_sample = 0.0
        while True:
            for p in sorted(self.out_dir.glob("mark-*")):
                label = p.name.removeprefix("mark-")
                if label not in seen:
                    try:
                        self.mark(label)
                        seen.add(label)
                    except Exception as exc:  # tried again on the next pass
                        self.write({"t": round(time.time(), 1), "label": "", "error": repr(exc)[:300]})
            if time.monotonic() >= next_sample:
                try:
                    self.write(self.sample())
                except Exception as exc:  # one failed sample must not end the worker's record
                    self.write({"t": round(time.time(), 1), "label": "", "error": repr(exc)[:300]})
                next_sample = time.monotonic() + self.every
            time.sleep(0.5)


def install(out_dir: Path, frames: int = 0, every: float = 15.0) -> None:
    """Make every worker that `bakery app` forks run a Probe (call before the app command runs)."""
    import bakery.app.server.serve as serve_module

    original = serve_module.serve

    def serve(wsgi_app: Any, *args: Any, on_start: Any = None, **kwargs: Any) -> None:
        def start() -> None:
            if frames:
                tracemalloc.start(frames)
            if on_start:
                on_start()
            Probe(wsgi_app, out_dir, frames, every).start()

        original(wsgi_app, *args, on_start=start, **kwargs)

    serve_module.serve = serve
