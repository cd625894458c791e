"""Benchmark helpers: run a command as a child process tree and sample its peak memory (JVM included)."""

from __future__ import annotations

import statistics
import subprocess
import threading
import time
from dataclasses import dataclass, field

import psutil


@dataclass
class Measured:
    seconds: float
    peak_rss_mb: float
    returncode: int
    stdout: str
    stderr: str
    # Proportional set size (shared pages split between the processes sharing them, so forked Spark Python
    # workers are not counted twice): the peak, and its split by process kind at that moment.
    peak_pss_mb: float = float("nan")
    pss_split_mb: dict[str, float] = field(default_factory=dict)


def _kind(proc: psutil.Process) -> str:
    name = proc.name().lower()
    return "jvm" if "java" in name else "python" if "python" in name else "other"


def run_measured(
    cmd: list[str], env: dict[str, str] | None = None, interval: float = 0.2, pss: bool = False
) -> Measured:
    """Run cmd, sampling the summed RSS (and with pss=True the PSS) of it and all its descendants; returns wall
    time and peaks. Reading PSS walks the page tables of a multi-GB JVM five times a second, which costs the run
    CPU: with pss=True the times are not speed figures."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = peak_pss = 0.0
    split: dict[str, float] = {}
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak, peak_pss, split
        root = psutil.Process(proc.pid)
        while not stop.is_set():
            try:
                procs = [p for p in [root, *root.children(recursive=True)] if p.is_running()]
                peak = max(peak, sum(p.memory_info().rss for p in procs) / 2**20)
                if not pss:
                    stop.wait(interval)
                    continue
                by_kind: dict[str, float] = {}
                for p in procs:
                    by_kind[_kind(p)] = by_kind.get(_kind(p), 0.0) + p.memory_full_info().pss / 2**20
                if sum(by_kind.values()) > peak_pss:
                    peak_pss, split = sum(by_kind.values()), by_kind
            except psutil.Error:
                pass
            stop.wait(interval)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    out, err = proc.communicate()
    stop.set()
    thread.join()
    return Measured(
        time.perf_counter() - t0,
        peak,
        proc.returncode,
        out,
        err,
        peak_pss,
        {k: round(v) for k, v in sorted(split.items())},
    )


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")
