"""`bakery demo`: put a demo data set into the landing zone, run the pipeline, say where to look.

Data sets: `six-bakeries` (generated, bakery.generate) and `bakery-chain` (the real ddop chain shipped in
bakery/datasets/data/, bakery.datasets.bakery_chain).
"""

from __future__ import annotations

import json
import logging
import shutil
from datetime import date, timedelta
from pathlib import Path

from bakery.config import Settings
from bakery.logs import log_lines
from bakery.reports import JobReport

log = logging.getLogger(__name__)

DATASETS = ("six-bakeries", "bakery-chain")


def _demo_window(settings: Settings) -> tuple[date, date]:
    end_text = settings.get("demo.end")
    end = date.fromisoformat(str(end_text)) if end_text else date.today() - timedelta(days=1)
    years = int(settings.get("demo.years", 3))
    return end - timedelta(days=365 * years - 1), end


def _generate_once(settings: Settings, start: date, end: date) -> list[Path]:
    """Generate into the landing zone unless this home already holds the same demo data."""
    from bakery.generate import generate_demo

    marker = settings.home / "demo.json"
    params = {
        "stores": int(settings.get("demo.stores", 6)),
        "products": int(settings.get("demo.products", 30)),
        "start": start.isoformat(),
        "end": end.isoformat(),
        "seed": int(settings.get("demo.seed", 42)),
    }
    if marker.exists() and json.loads(marker.read_text()) == params:
        log.info("demo data already generated in %s", settings.landing_dir)
        return []
    summary = generate_demo(
        settings.landing_dir,
        stores=params["stores"],
        products=params["products"],
        start=start,
        end=end,
        seed=params["seed"],
    )
    log_lines(log, ["generated demo data:", *summary.render().splitlines()])
    marker.write_text(json.dumps(params))
    return list(summary.late_files)


def _deliver_late_files(settings: Settings, late_files: list[Path]) -> int:
    """Move the generator's late files into the landing zone, as a late upstream export would arrive."""
    late_root = settings.landing_dir / "_late"
    moved = 0
    for path in late_files:
        rel = path.relative_to(late_root)
        target = settings.landing_dir / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(path), target)
        moved += 1
    return moved


def _load_chain(settings: Settings) -> date:
    """Write the real chain's landing files (identical bytes on a rerun, so nothing is taken twice)."""
    from bakery.datasets.bakery_chain import write_landing

    if (settings.home / "demo.json").exists():
        log.warning(
            "%s already holds the six-bakery demo; the chain's stores join them (use a fresh --home "
            "to keep the data sets apart)",
            settings.home,
        )
    return write_landing(settings.landing_dir).end


def run_demo(settings: Settings, dataset: str = "six-bakeries") -> JobReport:
    from bakery.etl import run_etl
    from bakery.lakehouse import open_lakehouse
    from bakery.ops.status import collect_status, render_status
    from bakery.pipeline import run_pipeline

    if dataset not in DATASETS:
        raise ValueError(f"unknown dataset {dataset!r}; expected one of {', '.join(DATASETS)}")
    settings.home.mkdir(parents=True, exist_ok=True)
    if dataset == "bakery-chain":
        end, late = _load_chain(settings), []
    else:
        start, end = _demo_window(settings)
        late = _generate_once(settings, start, end)
    lh = open_lakehouse(settings)
    report = run_pipeline(lh, settings, as_of=end + timedelta(days=1))
    if late:
        moved = _deliver_late_files(settings, late)
        late_report = run_etl(lh, settings, as_of=end + timedelta(days=1))
        report.notes.append(
            f"  late files: {moved} arrived after the nightly run and were ingested incrementally "
            f"({'ok' if late_report.ok else 'FAILED'})"
        )
        report.ok = report.ok and late_report.ok
    report.job = "demo"
    report.notes.append("")
    report.notes.append(render_status(collect_status(lh, settings)))
    report.notes.extend(_next_steps(settings, _demo_logins(lh, settings)))
    return report


def _demo_logins(lh, settings: Settings) -> list[dict[str, str]]:
    """One account per role (the manager scoped to the first store); passwords are random per home."""
    from bakery.app.demo_users import ensure_demo_users
    from bakery.tables import STORES

    stores = sorted(r.store_id for r in lh.read(*STORES).select("store_id").collect())
    return ensure_demo_users(settings, stores)


def _next_steps(settings: Settings, logins: list[dict[str, str]]) -> list[str]:
    home = settings.home
    login_lines = [
        f"    {u['role']:<8} {u['username']:<10} password {u['password']}"
        + (f"  (stores {u['stores']})" if u.get("stores") else "")
        for u in logins
    ]
    if not logins:
        login_lines = [f"    (created by an earlier demo run: see {home}/app/demo_logins.json)"]
    return [
        "",
        f"Lakehouse home: {home}",
        f"  Delta tables:  {settings.tables_dir}/<layer>/<table>",
        f"  landing zone:  {settings.landing_dir}/<source>/",
        f"  data dictionary: {settings.reports_dir}/data_dictionary.md (repo copy: docs/data_dictionary.md)",
        f"  logs:          {settings.logs_dir}/bakery.log",
        "Next:",
        "  make app                              # serves the web app on http://127.0.0.1:8050 until stopped",
        "  demo logins (one per role):",
        *login_lines,
        f"  bakery --home {home} status          # tables, row counts, latest dates, last runs",
        "  make mlflow                           # MLflow UI on http://127.0.0.1:5000: runs, lineage, model aliases",
        f"    (this home, any path: .venv/bin/mlflow ui --backend-store-uri sqlite:///{settings.mlflow_dir.resolve()}/mlflow.db)",
        f"  bakery --home {home} backtest --start D --end D --out report.json   # accuracy vs seasonal naive",
        "  notebooks/01_explore_sales.ipynb      # explore the gold tables (jupyter lab)",
        "  notebooks/02_model_experiments.ipynb  # try a model change on one store, log it to MLflow",
    ]
