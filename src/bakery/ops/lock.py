"""One writer per home: an advisory lock on <home>/writer.lock that names its holder.

Two commands that write the same home never run at once: the second waits (`lock.wait_seconds`,
`--wait`) or stops naming the holder of the lock. The lock is an OS file lock (flock), which the kernel
releases when its holder dies, however it dies; the file also records the holder (pid, host, command,
start time) so that whoever is refused can say who holds it. A record left behind by a holder that was
killed is stale: the next writer takes the lock over and logs a warning naming the dead holder.

On Databricks (storage.mode databricks) the home is a volume without file locks: the lock is not taken
and each job's `max_concurrent_runs: 1` (jobs/resources/*.yml) keeps one writer.
"""

from __future__ import annotations

import errno
import fcntl
import json
import logging
import os
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from bakery.config import Settings

log = logging.getLogger(__name__)

LOCK_FILE = "writer.lock"
# Filesystems without advisory locks (some FUSE and network mounts) answer flock with one of these.
_UNSUPPORTED = {errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL}
_held: set[int] = set()  # descriptors of the home locks this process holds


def _close_held_in_child() -> None:
    """A forked child must not keep the parent's lock alive after the parent dies (the lock belongs to the
    open file, which a fork shares); closing the child's copy leaves the parent's lock as it is."""
    for fd in list(_held):
        with suppress(OSError):
            os.close(fd)
    _held.clear()


os.register_at_fork(after_in_child=_close_held_in_child)


@dataclass(frozen=True)
class Holder:
    """Who holds (or last held) a home's writer lock."""

    pid: int
    host: str
    command: str
    since: str

    def describe(self) -> str:
        return f"pid {self.pid} on host {self.host} ({self.command}) since {self.since}"

    def is_dead(self) -> bool:
        """True when the holder ran on this host and its process no longer exists."""
        if self.host != socket.gethostname():
            return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:  # alive, another user's
            return False
        return False


class LockHeld(RuntimeError):
    """Another command holds the home's writer lock (after waiting `waited` seconds, if asked to wait)."""

    def __init__(self, home: Path, holder: Holder | None, waited: float) -> None:
        who = holder.describe() if holder else "another process (it has not recorded itself yet)"
        if holder is not None and holder.is_dead():
            who += "; that process has exited, and its lock is being taken over by another one"
        after = f" (waited {waited:g} s)" if waited else ""
        super().__init__(f"another command is writing the home {home}: {who}{after}")
        self.home, self.holder, self.waited = home, holder, waited


def lock_path(settings: Settings) -> Path:
    return settings.home / LOCK_FILE


def _flock(fd: int, flags: int, path: Path) -> bool:
    """flock(fd, flags); False, with a warning, where the filesystem has no advisory locks. BlockingIOError
    (LOCK_NB and the lock is taken) propagates."""
    try:
        fcntl.flock(fd, flags)
        return True
    except BlockingIOError:
        raise
    except OSError as exc:
        if exc.errno not in _UNSUPPORTED:
            raise
        log.warning("no file locks where %s lives (%s): going on without one", path, exc)
        return False


@contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """An exclusive lock on `path` (created) for a short read-modify-write shared by several processes,
    e.g. the app's workers and the pipeline on the retrain flag. Blocks until it is free."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        _flock(fd, fcntl.LOCK_EX, path)
        yield
    finally:
        os.close(fd)  # closing the only descriptor releases the lock


def _read_holder(fd: int) -> Holder | None:
    try:
        record = json.loads(os.pread(fd, 4096, 0).decode("utf-8") or "null")
        return Holder(int(record["pid"]), str(record["host"]), str(record["command"]), str(record["since"]))
    except (ValueError, TypeError, KeyError, UnicodeDecodeError):
        return None


def _write_holder(fd: int, holder: Holder) -> None:
    os.ftruncate(fd, 0)
    os.pwrite(fd, json.dumps(asdict(holder)).encode("utf-8"), 0)
    os.fsync(fd)


def _acquire(fd: int, path: Path, home: Path, wait: float, poll: float) -> bool:
    """Take the flock, polling for up to `wait` seconds; LockHeld naming the holder when it stays taken.
    False when the filesystem has no advisory locks."""
    deadline = time.monotonic() + wait
    announced = False
    while True:
        try:
            return _flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, path)
        except BlockingIOError:
            holder = _read_holder(fd)
            if time.monotonic() >= deadline:
                raise LockHeld(home, holder, wait) from None
            if not announced:
                log.info(
                    "waiting up to %g s for the home %s: %s holds its writer lock",
                    wait,
                    home,
                    holder.describe() if holder else "another process",
                )
                announced = True
            time.sleep(min(poll, max(0.0, deadline - time.monotonic())))


@contextmanager
def home_lock(settings: Settings, command: str, wait_seconds: float | None = None) -> Iterator[Holder | None]:
    """Hold the home's writer lock for the block; yields this process's record (None when not taken).

    wait_seconds (default conf lock.wait_seconds; 0: not at all) bounds the wait for another holder, after
    which LockHeld names it. Not re-entrant: entry points (the CLI, jobs/*.py) take it, library code does not.
    """
    if settings.get("storage.mode", "local") == "databricks":
        log.info("home lock not taken in Databricks mode: each job's max_concurrent_runs: 1 keeps one writer")
        yield None
        return
    wait = float(settings.get("lock.wait_seconds", 0) if wait_seconds is None else wait_seconds)
    if wait < 0:
        raise ValueError(
            f"the wait for the home lock (conf lock.wait_seconds or lock.wait_flag_seconds) "
            f"must be >= 0 seconds, got {wait:g}"
        )
    settings.home.mkdir(parents=True, exist_ok=True)
    path = lock_path(settings)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        locked = _acquire(fd, path, settings.home, wait, float(settings.get("lock.poll_seconds", 0.5)))
        stale = _read_holder(fd)
        if locked and stale is not None:  # a clean release leaves no record: its holder was killed or crashed
            log.warning(
                "taking over the writer lock of the home %s, left by %s%s",
                settings.home,
                stale.describe(),
                " (no longer running)" if stale.is_dead() else "",
            )
        me = Holder(
            os.getpid(), socket.gethostname(), command[:300], datetime.now(UTC).isoformat(timespec="seconds")
        )
        _write_holder(fd, me)
        _held.add(fd)
        try:
            yield me
        finally:
            _held.discard(fd)
            os.ftruncate(fd, 0)
    finally:
        os.close(fd)


def run_exclusive(settings: Settings, command: str, work: Callable[[], int]) -> int:
    """work() under the home's writer lock, for the job entry points: exit code 1, with the holder named
    in the log, when another writer keeps the lock past lock.wait_seconds."""
    try:
        with home_lock(settings, command):
            return work()
    except LockHeld as exc:
        log.error("%s", exc)
        return 1
