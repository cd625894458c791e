"""The app's query cache: each result kept under the versions of the tables it read, and dropped as soon as
a newer version of one of them is committed (a version check at most every `version_check_seconds` per table)."""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd

from bakery.app.tablestore import Filter, TableReader

log = logging.getLogger(__name__)


class ServingCache:
    """Thread-safe; concurrent callers of one query wait for one load. `hits` and `loads` count the calls
    answered from the cache and the loads run (what the health page and the tests look at)."""

    def __init__(
        self, reader: TableReader, *, version_check_seconds: float = 2.0, cache_entries: int = 512
    ) -> None:
        self.reader = reader
        self.ttl = version_check_seconds
        self.max_entries = cache_entries
        self._versions: dict[tuple[str, str], tuple[float, int | None]] = {}
        self._cache: OrderedDict[tuple, Any] = OrderedDict()
        self._lock = threading.Lock()
        self._key_locks: dict[tuple, threading.Lock] = {}
        self.hits = 0
        self.loads = 0

    def version(self, table: tuple[str, str]) -> int | None:
        now = time.monotonic()
        seen = self._versions.get(table)
        if seen is not None and now - seen[0] < self.ttl:
            return seen[1]
        current = self.reader.version(*table)
        self._versions[table] = (now, current)
        if seen is not None and seen[1] != current:
            self._drop(table)
        return current

    def _drop(self, table: tuple[str, str]) -> None:
        with self._lock:
            for key in [k for k in self._cache if table in k[1]]:
                del self._cache[key]
        log.info("new version of %s.%s: cache entries dropped", *table)

    def cached(self, key: tuple, tables: Sequence[tuple[str, str]], load: Callable[[dict], Any]) -> Any:
        """`load(versions)` computed once per version of `tables` (concurrent callers wait for one load)."""
        versions = {t: self.version(t) for t in tables}
        full = (key, tuple(tables), tuple(versions.values()))
        with self._lock:
            if full in self._cache:
                self._cache.move_to_end(full)
                self.hits += 1
                return self._cache[full]
            key_lock = self._key_locks.setdefault(full, threading.Lock())
        with key_lock:
            with self._lock:
                if full in self._cache:
                    self.hits += 1
                    return self._cache[full]
            try:
                self.loads += 1
                value = load(versions)
            finally:
                with self._lock:
                    self._key_locks.pop(full, None)
            with self._lock:
                self._cache[full] = value
                while len(self._cache) > self.max_entries:
                    self._cache.popitem(last=False)
        return value

    def _read(
        self,
        table: tuple[str, str],
        versions: dict,
        columns: Sequence[str] | None = None,
        filters: Sequence[Filter] = (),
    ) -> pd.DataFrame:
        v = versions.get(table)
        if v is None:
            return pd.DataFrame(columns=list(columns or []))
        return self.reader.read(*table, version=v, columns=columns, filters=filters)

    def clear(self) -> None:
        with self._lock:
            self._cache.clear()
        self._versions.clear()

    def row_count(self, table: tuple[str, str]) -> int:
        """Rows in a table (0 if it does not exist), from the Delta log's file statistics where possible."""
        return self.cached(
            ("row_count", table),
            (table,),
            lambda v: 0 if v[table] is None else self.reader.count(*table, version=v[table]),
        )

    def table_versions(self, tables: Sequence[tuple[str, str]]) -> dict[str, int | None]:
        return {"{}.{}".format(*t): self.version(t) for t in tables}
