"""The app server's allocator settings: memory freed by a request goes back to the system instead of staying in
the worker (a soak grew workers by 15-20% without them). Each check runs in a fresh interpreter, since the
settings are process-wide and read once."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from bakery.app.server.memory import (
    DELTALAKE_MALLOC_ENV,
    GLIBC_MMAP_ENV,
    set_deltalake_malloc_conf,
    tune_allocators,
)

ROOT = Path(__file__).resolve().parents[2]
glibc_only = pytest.mark.skipif(
    not sys.platform.startswith("linux") or os.confstr("CS_GNU_LIBC_VERSION") is None, reason="glibc malloc"
)


def _run(code: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in (GLIBC_MMAP_ENV, DELTALAKE_MALLOC_ENV)}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env={**clean, "PYTHONPATH": str(ROOT / "src"), **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )


# Login hashes at the production Argon2 cost (19 MiB each) from 4 request threads, with small long-lived objects
# allocated in between (as a server does); prints the MiB glibc holds free in its heaps afterwards.
LOGINS = """
    import ctypes, sys, threading
    from argon2 import PasswordHasher
    from bakery.app.appconf import load_app_config
    from bakery.app.server.memory import tune_allocators
    from bakery.config import load_settings

    conf = load_app_config(load_settings(home=sys.argv[1]))
    if sys.argv[2] == "tuned":
        tune_allocators(conf)
    cost = conf.get("auth.argon2")
    ph = PasswordHasher(time_cost=cost["time_cost"], memory_cost=cost["memory_cost_kib"], parallelism=1)
    stored = ph.hash("right-password-123")
    kept = []

    def logins():
        for i in range(6):
            try:
                ph.verify(stored, "wrong-password-123")
            except Exception:
                pass
            kept.append(bytearray(3000 + i))

    threads = [threading.Thread(target=logins) for _ in range(4)]
    [t.start() for t in threads]
    [t.join() for t in threads]

    class Info(ctypes.Structure):
        _fields_ = [(n, ctypes.c_size_t) for n in "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost".split()]

    libc = ctypes.CDLL("libc.so.6")
    libc.mallinfo2.restype = Info
    print(libc.mallinfo2().fordblks / 2**20)
"""


@glibc_only
def test_login_hash_buffers_are_returned_to_the_system(tmp_path):
    home = str(tmp_path / "home")
    untuned = float(
        _run(LOGINS.replace("sys.argv[1]", repr(home)).replace("sys.argv[2]", "'default'")).stdout
    )
    tuned = float(_run(LOGINS.replace("sys.argv[1]", repr(home)).replace("sys.argv[2]", "'tuned'")).stdout)
    # glibc's default keeps several freed 19 MiB buffers in its heaps; with the app's setting none stays.
    assert untuned > 2 * 19, f"glibc kept only {untuned:.1f} MiB free: this check no longer shows the problem"
    assert tuned < 8, f"{tuned:.1f} MiB of freed memory stayed in the heap"


def test_deltalake_jemalloc_reads_the_configured_options(tmp_path):
    code = f"""
        from bakery.app.appconf import load_app_config
        from bakery.app.server.memory import tune_allocators
        from bakery.config import load_settings

        conf = load_app_config(load_settings(home={str(tmp_path / "home")!r}))
        conf.raw["server"]["deltalake_malloc_conf"] += ",stats_print:true"
        tune_allocators(conf)
        import deltalake  # noqa: F401
    """
    err = _run(code).stderr
    assert "opt.dirty_decay_ms: 0 " in err
    assert "opt.muzzy_decay_ms: 0 " in err
    assert "opt.tcache: false" in err


def test_arrow_allocates_through_the_configured_pool(tmp_path):
    code = f"""
        from bakery.app.appconf import load_app_config
        from bakery.app.server.memory import tune_allocators
        from bakery.config import load_settings

        conf = load_app_config(load_settings(home={str(tmp_path / "home")!r}))
        conf.raw["server"]["arrow_memory_pool"] = "system"
        tune_allocators(conf)
        import pyarrow as pa
        print(pa.default_memory_pool().backend_name)
    """
    assert _run(code).stdout.strip() == "system"


def test_the_environment_wins_over_the_configuration():
    environ = {DELTALAKE_MALLOC_ENV: "dirty_decay_ms:5000"}
    assert not set_deltalake_malloc_conf("dirty_decay_ms:1000", environ)
    assert environ[DELTALAKE_MALLOC_ENV] == "dirty_decay_ms:5000"
    out = _run(
        """
        from bakery.app.server.memory import set_malloc_mmap_threshold
        print(set_malloc_mmap_threshold(1 << 20))
        """,
        env={GLIBC_MMAP_ENV: "262144"},
    ).stdout
    assert out.strip() == "False"


def test_a_bad_threshold_names_the_setting():
    class Conf:
        def get(self, key, default=None):
            return {"server.malloc_mmap_threshold_bytes": "1 MB"}.get(key, default)

    with pytest.raises(ValueError, match="server.malloc_mmap_threshold_bytes"):
        tune_allocators(Conf())


def test_a_bad_trim_interval_names_the_setting():
    class Conf:
        def get(self, key, default=None):
            return {"server.malloc_trim_every_requests": "often"}.get(key, default)

    with pytest.raises(ValueError, match="server.malloc_trim_every_requests"):
        tune_allocators(Conf())
