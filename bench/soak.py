"""Soak: 8 clients for 10 minutes against `bakery app` (gunicorn, 2 workers) on loopback, mixing the API, Dash
callbacks, uploads (good files, a pathological cell, a Parquet bomb) and logins (right and wrong passwords).

Usage: .venv/bin/python bench/soak.py [--minutes 10] [--clients 8] [--stores 20] [--products 30] [--probe]
       [--tracemalloc FRAMES] [--server-env NAME=VALUE ...] [--out DIR]
Targets: no 5xx answer; worker RSS grows less than 10% from the warm start to the end. Prints p50/p95/p99 per
request kind, each upload kind's p95 per minute, the status counts and the RSS of each worker (also the growth to
the median of the last three 30 s samples); writes <DIR>/soak.json (default bench/out). Traffic goes only to
127.0.0.1 and stops by itself. Two variants compare fairly on a shared machine only when run side by side, each
with its own --out (a variant's conf: --server-env BAKERY_CONF_DIR=<a copy of conf/>).
--probe makes each worker record its memory by kind (bench/soak_probe.py: Arrow's pool, malloc, the serving cache)
into <DIR>/soak_probe/; --tracemalloc FRAMES also traces Python allocations (slower requests) and writes each
worker's top growing allocation sites between the warm start and the end.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import shutil
import statistics
import tempfile
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path

import psutil
import pyarrow as pa
import pyarrow.parquet as pq
import requests
from app_latency import PASSWORD, _port, browser_session, prepare, start_server

ROOT = Path(__file__).resolve().parents[1]
RSS_GROWTH_LIMIT = 0.10


def _files(stores: list[str], products: list[str]) -> dict[str, tuple[str, bytes]]:
    """The upload bodies: a good sales file, one with a 2,000-space cell, a Parquet file of 5 M rows (8 KB)."""
    good = ["date,store_id,product_id,quantity_sold"]
    good += [
        f"2025-03-{1 + i % 28:02d},{stores[i % len(stores)]},{products[i % len(products)]},{i % 9}"
        for i in range(200)
    ]
    slow = f"date,store_id,product_id,quantity_sold\n2025-03-01,{stores[0]},{products[0]},1{' ' * 2000}x\n"
    bomb = io.BytesIO()
    n = 5_000_000
    pq.write_table(
        pa.table(
            {
                "date": pa.array(["2025-03-01"] * 1).take(pa.array([0] * n)),
                "store_id": pa.array([stores[0]]).take(pa.array([0] * n)),
                "product_id": pa.array([products[0]]).take(pa.array([0] * n)),
                "quantity_sold": pa.array([1] * n),
            }
        ),
        bomb,
        compression="zstd",
    )
    return {
        "good": ("soak_good.csv", ("\n".join(good) + "\n").encode()),
        "slow_cell": ("soak_slow.csv", slow.encode()),
        "parquet_bomb": ("soak_bomb.parquet", bomb.getvalue()),
    }


def _workers(server: psutil.Process) -> list[psutil.Process]:
    return server.children(recursive=True) or [server]


def _rss_mb(procs: list[psutil.Process]) -> list[float]:
    return [round(p.memory_info().rss / 2**20, 1) for p in procs]


class Soak:
    """The client loop: each client picks a request kind at random until the deadline."""

    def __init__(self, url: str, stores: list[str], products: list[str], token: str) -> None:
        self.url, self.stores, self.products, self.token = url, stores, products, token
        self.files = _files(stores, products)
        self.times: dict[str, list[float]] = defaultdict(list)
        self.started: dict[str, list[float]] = defaultdict(list)  # when each request started (time.time())
        self.status: dict[str, Counter] = defaultdict(Counter)
        self.errors: Counter = Counter()  # requests that got no HTTP answer, by cause
        self.lock = threading.Lock()

    def _timed(self, kind: str, call) -> None:
        t0, started = time.perf_counter(), time.time()
        cause = None
        try:
            code: int | str = call().status_code
        except requests.RequestException as exc:
            code, cause = f"error:{type(exc).__name__}", f"{kind}: {str(exc)[:160]}"
        with self.lock:
            self.times[kind].append((time.perf_counter() - t0) * 1000)
            self.started[kind].append(started)
            self.status[kind][code] += 1
            if cause:
                self.errors[cause] += 1

    def _api(self, s: requests.Session, rnd: random.Random) -> None:
        self._timed(
            "api",
            lambda: s.get(
                f"{self.url}/api/v1/forecasts",
                params={"store_id": rnd.choice(self.stores), "horizon": rnd.choice([1, 7, 28])},
                headers={"Authorization": f"Bearer {self.token}"},
                timeout=60,
            ),
        )

    def _callback(self, s: requests.Session, rnd: random.Random) -> None:
        body = {
            "output": "..forecast-graph.figure...forecast-table.children...forecast-summary.children..",
            "outputs": [
                {"id": "forecast-graph", "property": "figure"},
                {"id": "forecast-table", "property": "children"},
                {"id": "forecast-summary", "property": "children"},
            ],
            "inputs": [
                {"id": "forecast-store", "property": "value", "value": rnd.choice(self.stores)},
                {"id": "forecast-view", "property": "value", "value": rnd.choice(["tomorrow", "week"])},
                {"id": "forecast-product", "property": "value", "value": rnd.choice(self.products)},
            ],
            "state": [],
            "changedPropIds": ["forecast-store.value"],
        }
        self._timed(
            "callback",
            lambda: s.post(
                f"{self.url}/_dash-update-component",
                json=body,
                timeout=60,
                headers={"X-CSRFToken": s.cookies.get("_csrf_token") or ""},
            ),
        )

    def _upload(self, rnd: random.Random) -> None:
        kind = rnd.choice(list(self.files))
        name, data = self.files[kind]
        self._timed(
            f"upload_{kind}",
            lambda: requests.post(
                f"{self.url}/api/v1/uploads",
                data={"kind": "sales", "max_error_rate": "0.5"},
                files={"file": (name, data)},
                headers={"Authorization": f"Bearer {self.token}"},
                timeout=120,
            ),
        )

    def _login(self, rnd: random.Random) -> None:
        # Wrong passwords go to other names: the clients' own account must stay usable all along.
        user, password = rnd.choice(
            [
                ("bench", PASSWORD),
                ("admin", "wrong-password-123"),
                (f"nobody{rnd.randrange(10**6)}", "wrong-password-123"),
            ]
        )
        self._timed(
            "login",
            lambda: requests.post(
                f"{self.url}/api/v1/auth/token", timeout=60, json={"username": user, "password": password}
            ),
        )

    def client(self, index: int, deadline: float, session: requests.Session) -> None:
        rnd = random.Random(index)
        api = requests.Session()
        while time.time() < deadline:
            pick = rnd.random()
            if pick < 0.40:
                self._api(api, rnd)
            elif pick < 0.80:
                self._callback(session, rnd)
            elif pick < 0.90:
                self._upload(rnd)
            else:
                self._login(rnd)


class RssSampler(threading.Thread):
    """The workers' RSS every `every` seconds, to tell a plateau from a leak."""

    def __init__(self, workers: list[psutil.Process], every: float = 30.0) -> None:
        super().__init__(daemon=True)
        self.workers, self.every, self.samples = workers, every, []
        self.stop = threading.Event()

    def run(self) -> None:
        t0 = time.time()
        while not self.stop.wait(self.every):
            self.samples.append((round(time.time() - t0), _rss_mb(self.workers)))


def _summary(times: list[float]) -> dict[str, float]:
    if len(times) < 2:
        return {"n": len(times)}
    q = statistics.quantiles(times, n=100, method="inclusive")
    return {"n": len(times), "p50_ms": round(q[49], 1), "p95_ms": round(q[94], 1), "p99_ms": round(q[98], 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--stores", type=int, default=20)
    ap.add_argument("--products", type=int, default=30)
    ap.add_argument("--probe", action="store_true", help="record each worker's memory by kind")
    ap.add_argument("--tracemalloc", type=int, default=0, metavar="FRAMES", help="trace Python allocations")
    ap.add_argument(
        "--server-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="set in the server's environment",
    )
    ap.add_argument(
        "--out",
        type=Path,
        default=ROOT / "bench" / "out",
        help="folder for soak.json, the server log and the probe records (one per run, to run variants side by side)",
    )
    args = ap.parse_args()
    out = args.out.resolve()
    probe_dir = out / "soak_probe"
    prelude = ""
    if args.probe or args.tracemalloc:
        shutil.rmtree(probe_dir, ignore_errors=True)
        probe_dir.mkdir(parents=True)
        prelude = (
            f"import sys; sys.path.insert(0, {str(ROOT / 'bench')!r}); import soak_probe; "
            f"soak_probe.install({str(probe_dir)!r}, {args.tracemalloc});"
        )
    home = Path(tempfile.mkdtemp(prefix="bakery_soak_")) / "home"
    prepare(home, args.stores, args.products)
    port = _port()
    url = f"http://127.0.0.1:{port}"
    server_env = dict(kv.split("=", 1) for kv in args.server_env)
    server_log = out / "soak_server.log"
    server_log.parent.mkdir(parents=True, exist_ok=True)
    proc = start_server(home, port, prelude, env=server_env, log=server_log)
    try:
        server = psutil.Process(proc.pid)
        token = requests.post(
            f"{url}/api/v1/auth/token", json={"username": "bench", "password": PASSWORD}, timeout=30
        ).json()["access_token"]
        stores = [f"S{i + 1:03d}" if args.stores >= 100 else f"S{i + 1:02d}" for i in range(args.stores)]
        products = [f"P{j + 1:03d}" for j in range(args.products)]
        sessions = [browser_session(url) for _ in range(args.clients)]
        soak = Soak(url, stores, products, token)
        warm = Soak(
            url, stores, products, token
        )  # a minute of the same traffic first: caches filled, not measured
        warm_end = time.time() + min(60.0, args.minutes * 6)
        _run(warm, sessions, warm_end)
        workers = _workers(server)
        rss_start = _rss_mb(workers)
        if prelude:
            (probe_dir / "mark-warm").touch()
        sampler = RssSampler(workers)
        sampler.start()
        soak_start = time.time()
        _run(soak, sessions, soak_start + args.minutes * 60)
        sampler.stop.set()
        rss_end = _rss_mb(workers)
        if prelude:
            _end_probe(probe_dir, len(workers), args.tracemalloc)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    five_xx = sum(
        n
        for counts in soak.status.values()
        for code, n in counts.items()
        if isinstance(code, int) and code >= 500
    )
    no_answer = sum(soak.errors.values())
    growth = max((e - s) / s for s, e in zip(rss_start, rss_end, strict=True))
    settled = _settled_growth(rss_start, [rss for _, rss in sampler.samples])
    result = {
        "minutes": args.minutes,
        "server_env": server_env,
        "clients": args.clients,
        "workers": len(rss_start),
        "kinds": {
            k: {**_summary(v), "status": {str(c): n for c, n in soak.status[k].items()}}
            for k, v in sorted(soak.times.items())
        },
        "five_xx": five_xx,
        "no_answer": no_answer,
        "no_answer_causes": dict(soak.errors),
        "rss_start_mb": rss_start,
        "rss_end_mb": rss_end,
        "rss_samples": sampler.samples,
        "rss_growth_max": round(growth, 4),
        "rss_growth_limit": RSS_GROWTH_LIMIT,
        "rss_growth_last3_median": settled,
        "upload_p95_by_minute_ms": _p95_by_minute(soak, soak_start),
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / "soak.json").write_text(json.dumps(result, indent=2))
    for kind, r in result["kinds"].items():
        print(
            f"{kind:22s} n={r['n']:6d} p50={r.get('p50_ms')}ms p95={r.get('p95_ms')}ms p99={r.get('p99_ms')}ms "
            f"status={r['status']}"
        )
    print(
        f"5xx answers: {five_xx} (target 0: {'MET' if five_xx == 0 else 'NOT MET'}); requests with no answer: "
        f"{no_answer}"
    )
    for cause, n in soak.errors.most_common(5):
        print(f"  {n} x {cause}")
    for kind, by_minute in result["upload_p95_by_minute_ms"].items():
        print(f"{kind:22s} p95 by minute (ms): {by_minute}")
    print("worker RSS over time (s: MB): " + ", ".join(f"{t}: {rss}" for t, rss in sampler.samples))
    print(
        f"worker RSS start {rss_start} MB, end {rss_end} MB, max growth {growth:.1%} "
        f"(target < {RSS_GROWTH_LIMIT:.0%}: {'MET' if growth < RSS_GROWTH_LIMIT else 'NOT MET'})"
    )
    if settled is not None:
        print(f"worker RSS growth, median of the last 3 samples against the warm start: {settled:.1%}")
    print(f"written to {out / 'soak.json'}")


def _settled_growth(start: list[float], samples: list[list[float]]) -> float | None:
    """The largest worker's growth from the warm start to the median of its last three 30 s samples: the end value
    alone is one sample, taken while uploads are in flight (samples 30 s apart differ by up to 60 MB)."""
    if len(samples) < 3:
        return None
    last = [statistics.median(s[i] for s in samples[-3:]) for i in range(len(start))]
    return round(max((e - s) / s for s, e in zip(start, last, strict=True)), 4)


def _p95_by_minute(soak: Soak, start: float) -> dict[str, list[float | None]]:
    """Each upload kind's p95 in each minute of the measured run, to tell a tail that degrades from a slow one."""
    out: dict[str, list[float | None]] = {}
    for kind in sorted(k for k in soak.times if k.startswith("upload_")):
        minutes: dict[int, list[float]] = defaultdict(list)
        for began, ms in zip(soak.started[kind], soak.times[kind], strict=True):
            minutes[int((began - start) // 60)].append(ms)
        out[kind] = [
            round(statistics.quantiles(minutes[m], n=20, method="inclusive")[18], 1)
            if len(minutes[m]) >= 2
            else None
            for m in range(max(minutes) + 1 if minutes else 0)
        ]
    return out


def _end_probe(probe_dir: Path, workers: int, frames: int) -> None:
    """Mark the end, wait for the workers' reports, print each worker's memory by kind at warm start and end."""
    (probe_dir / "mark-end").touch()
    deadline = time.time() + 180
    while time.time() < deadline:
        logs = list(probe_dir.glob("worker-*.jsonl"))
        ends = sum(any(json.loads(ln)["label"] == "end" for ln in p.read_text().splitlines()) for p in logs)
        tops = len(list(probe_dir.glob("worker-*-top.txt")))
        if ends >= workers and (not frames or tops >= workers):
            break
        time.sleep(1)
    keys = [
        "VmRSS",
        "RssAnon",
        "RssFile",
        "arrow_backend",
        "arrow_allocated_mb",
        "arrow_peak_mb",
        "malloc_arena_mb",
        "malloc_mmap_mb",
        "malloc_used_mb",
        "malloc_free_mb",
        "traced_mb",
        "py_blocks",
        "cache_entries",
    ]
    for p in sorted(probe_dir.glob("worker-*.jsonl")):
        rows = {r["label"]: r for r in map(json.loads, p.read_text().splitlines()) if r["label"]}
        for label in ("warm", "end"):
            if label in rows:
                print(f"{p.stem} {label}: " + ", ".join(f"{k}={rows[label].get(k)}" for k in keys))
    for p in sorted(probe_dir.glob("worker-*-top.txt")):
        print("\n".join(p.read_text().splitlines()[:16]))
    print(f"probe records in {probe_dir}")


def _run(soak: Soak, sessions: list[requests.Session], deadline: float) -> None:
    threads = [threading.Thread(target=soak.client, args=(i, deadline, s)) for i, s in enumerate(sessions)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()


if __name__ == "__main__":
    main()
