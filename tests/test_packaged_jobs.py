"""The bundle's jobs from the built wheel, as the platform runs them: the wheel built as bundle.yml's
`artifacts` section builds it, installed without the source tree into a fresh virtual environment, only
what the bundle syncs (jobs/, conf/, notebooks/) in a workspace folder, and every task of etl_job and
tuning_job run with its YAML parameters, in catalog mode on local Spark (conf/local_catalog.yml)."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import sysconfig
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests import REPO_ROOT
from tests.bundle_runner import TASK_SECONDS, bundle_refs, job_tasks, run_task, should_run
from tests.conftest import SMALL_AS_OF, SMALL_END, SMALL_START

log = logging.getLogger(__name__)

pytestmark = pytest.mark.slow

CATALOG = "spark_catalog"  # local Spark's session catalog: three-part names spark_catalog.<schema>.<table>
SYNCED = ("jobs", "conf", "notebooks")  # what the bundle uploads beside the wheel


@dataclass(frozen=True)
class Packaged:
    """A fresh venv with the wheel installed, and a workspace folder holding only the synced files."""

    python: Path
    venv: Path
    workspace: Path
    env: dict[str, str]


def _wheel(tmp: Path) -> Path:
    """The wheel, built from a copy of the repository with the bundle's own build command."""
    bundle = yaml.safe_load((REPO_ROOT / "bundle.yml").read_text(encoding="utf-8"))
    build = bundle["artifacts"]["bakery"]["build"]
    assert build.split()[1:] == ["-m", "pip", "wheel", "--no-deps", "--wheel-dir", "dist", "."], build
    source = tmp / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO_ROOT / name, source / name)
    shutil.copytree(
        REPO_ROOT / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info")
    )
    subprocess.run([sys.executable, *build.split()[1:]], cwd=source, check=True, capture_output=True)
    (wheel,) = (source / "dist").glob("*.whl")
    return wheel


def _fresh_venv(tmp: Path, wheel: Path) -> Path:
    """A venv with the wheel and nothing of the checkout. The test venv's installed packages (pyspark & co.)
    are reachable through a .pth file; a directory named there has its own .pth files ignored, so the
    checkout's editable install of bakery stays out of sight."""
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    code = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    purelib = Path(
        subprocess.run([str(python), "-c", code], check=True, capture_output=True, text=True).stdout.strip()
    )
    (purelib / "test_venv_packages.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps", str(wheel)],
        check=True,
        capture_output=True,
    )
    return venv


@pytest.fixture(scope="module")
def packaged(tmp_path_factory: pytest.TempPathFactory) -> Packaged:
    tmp = tmp_path_factory.mktemp("packaged")
    venv = _fresh_venv(tmp, _wheel(tmp))
    workspace = tmp / "workspace"
    for name in SYNCED:
        shutil.copytree(REPO_ROOT / name, workspace / name, ignore=shutil.ignore_patterns("__pycache__"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BAKERY_", "PYSPARK_", "PYTHON"))}
    env.update(
        {
            "BAKERY_EXTRA_ENV": "local_catalog",  # the platform's local stand-in (catalog mode, local MLflow)
            "BAKERY_PSEUDONYM_KEY": "packaged-jobs-test-key",  # stands in for the secret scope
            "BAKERY_JARS_DIR": str(
                REPO_ROOT / ".jars"
            ),  # Databricks runtimes ship Delta; here `make install`
        }
    )
    return Packaged(venv / "bin" / "python", venv, workspace, env)


def _venv_python(packaged: Packaged, code: str) -> str:
    return subprocess.run(
        [str(packaged.python), "-c", code],
        cwd=packaged.workspace,
        env=packaged.env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def test_the_wheel_runs_without_the_source_tree(packaged):
    found = _venv_python(
        packaged,
        "import bakery, bakery.datasets.bakery_chain as b; "
        "print(bakery.__file__); print(b.COMPACT.is_file())",
    ).splitlines()
    assert Path(found[0]).resolve().is_relative_to(packaged.venv.resolve()), found
    assert not Path(found[0]).resolve().is_relative_to(REPO_ROOT), found
    assert found[1] == "True"  # the data set ships inside the wheel


def test_the_wheel_without_a_conf_dir_names_the_path_looked_for_and_how_to_set_it(packaged, tmp_path):
    bakery = packaged.venv / "bin" / "bakery"
    done = subprocess.run(
        [str(bakery), "--home", str(tmp_path / "home"), "status"],
        cwd=tmp_path,
        env=packaged.env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2, done.stderr
    assert f"looked for {tmp_path / 'conf'}" in done.stderr and "BAKERY_CONF_DIR" in done.stderr


@pytest.mark.packaged
def test_every_bundle_task_runs_from_the_wheel_in_catalog_mode(packaged, tmp_path, record_property):
    # 2 stores x 2 products over the small demo's four months: every source and table kind, more than one
    # store and product in every join, history enough for the backtests and tuning folds, and little else
    # (the tasks' cost is per series and per Spark job, not per row).
    home = tmp_path / "home"
    bakery = packaged.venv / "bin" / "bakery"
    subprocess.run(
        [
            str(bakery),
            "--home",
            str(tmp_path / "gen"),
            "generate",
            "--out",
            str(tmp_path / "out"),
            "--stores",
            "2",
            "--products",
            "2",
            "--start",
            str(SMALL_START),
            "--end",
            str(SMALL_END),
            "--seed",
            "7",
        ],
        cwd=packaged.workspace,
        env=packaged.env,
        check=True,
        capture_output=True,
    )
    shutil.copytree(tmp_path / "out", home / "landing", ignore=shutil.ignore_patterns("_late", "_truth"))
    # One bad optional source: a CRITICAL quality rule that tonight's foot-traffic counts break blocks traffic.
    suite_path = packaged.workspace / "conf" / "quality" / "traffic.yml"
    suite = yaml.safe_load(suite_path.read_text(encoding="utf-8"))
    suite["expectations"].append(
        {
            "type": "expect_column_values_to_be_between",
            "column": "foot_traffic_count",
            "kwargs": {"max_value": 1},
            "severity": "CRITICAL",
        }
    )
    suite_path.write_text(yaml.safe_dump(suite), encoding="utf-8")
    # No internet here: the nightly weather forecast (on in the databricks overlay) meets a closed port, as
    # if the API were down, and the night goes on with climatology.
    with (packaged.workspace / "conf" / "databricks.yml").open("a", encoding="utf-8") as overlay:
        overlay.write(
            "\nweather_api: {base_url: 'http://127.0.0.1:9/v1/forecast', retries: 1, backoff_seconds: 0.01}\n"
        )

    bundle = yaml.safe_load((REPO_ROOT / "bundle.yml").read_text(encoding="utf-8"))
    refs = bundle_refs(bundle, "ci", packaged.workspace, {"catalog": CATALOG, "home": str(home)})
    resources = packaged.workspace / "jobs" / "resources"
    timings: dict[str, float] = {}
    outcomes: dict[str, str] = {}
    logs: dict[str, str] = {}
    try:
        for job in ("etl_job", "tuning_job"):
            resource = resources / f"{job}.yml"
            for task in job_tasks(resource, job, refs, {"as_of": str(SMALL_AS_OF)}):
                assert task.python_file.is_relative_to(packaged.workspace), task
                assert task.parameters[task.parameters.index("--catalog") + 1] == CATALOG, task
                assert should_run(task, outcomes), f"{job}.{task.key} skipped after {outcomes}"
                started = time.monotonic()
                output = tmp_path / f"{task.key}.log"
                rc = run_task(packaged.python, task, packaged.workspace, packaged.env, output)
                timings[f"{job}.{task.key}"] = round(time.monotonic() - started, 1)
                outcomes[task.key] = "success" if rc == 0 else "failed"
                logs[task.key] = output.read_text()[-4000:]
                # Logged as each task ends, so a failing or timed-out run shows the split up to there.
                log.warning(
                    "packaged task %s.%s: exit %d in %.1f s", job, task.key, rc, timings[f"{job}.{task.key}"]
                )
    finally:  # kept on the report: conftest's terminal summary prints it whether the test passes or not
        record_property(TASK_SECONDS, timings)
    log.warning("packaged jobs, seconds per task: %s (total %.0f)", timings, sum(timings.values()))
    # The quality-blocked traffic file fails `etl` (the job run ends failed, the platform notifies) and
    # degrades the night without cancelling it: every other task ran and succeeded.
    assert outcomes.pop("etl") == "failed", logs["etl"]
    assert "traffic: blocked by data quality" in logs["etl"], logs["etl"]
    assert set(outcomes.values()) == {"success"}, {k: logs[k] for k, v in outcomes.items() if v != "success"}

    # The forecasts, read back through Spark SQL by their three-part name, in the same metastore.
    counts = _venv_python(
        packaged,
        (
            "from bakery.config import load_settings; from bakery.spark import get_spark; "
            f"s = load_settings(home={str(home)!r}, env='databricks', conf_dir='conf'); "
            "r = get_spark(s).sql('SELECT count(*) AS n, count(DISTINCT store_id, product_id) AS series "
            f"FROM {CATALOG}.gold.forecasts').first(); print(r.n, r.series)"
        ),
    ).splitlines()[-1]
    rows, series = map(int, counts.split())
    assert rows > 0 and series > 0, counts
    # The monitor task read the night from ops.runs: the blocked source is a WARNING, and forecasts were made.
    kinds = _venv_python(
        packaged,
        (
            "from bakery.config import load_settings; from bakery.spark import get_spark; "
            f"s = load_settings(home={str(home)!r}, env='databricks', conf_dir='conf'); "
            f"print(sorted(r.kind + ':' + r.severity for r in get_spark(s).sql('SELECT * FROM {CATALOG}.ops.alerts').collect()))"
        ),
    ).splitlines()[-1]
    assert "run.step_failed.ingest:WARNING" in kinds, kinds
    assert "run.no_forecasts" not in kinds, kinds

    from bakery.config import load_settings
    from bakery.forecasting.registry import CHAMPION, by_alias

    champion = by_alias(load_settings(home=home), CHAMPION)  # the home's MLflow registry (sqlite)
    assert champion is not None and CHAMPION in champion.aliases
