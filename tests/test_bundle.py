"""The Databricks bundle (bundle.yml + jobs/resources/*.yml): what `databricks bundle validate` would catch
and more (the CLI is not available offline): files exist, tasks chain, targets are complete, the task
parameters parse with the jobs' own argument parser, pins match requirements.txt, and no secrets."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from bakery.entrypoints import job_parser
from tests import REPO_ROOT

BUNDLE = REPO_ROOT / "bundle.yml"
BUNDLE_FILES = [BUNDLE, REPO_ROOT / "app.yaml", *(REPO_ROOT / "jobs" / "resources").glob("*.yml")]
SECRET_PATTERNS = [
    re.compile(r"dapi[0-9a-f]{16,}"),  # personal access token
    # a key holding a value (`secret:` opening a mapping, as an app's secret resource does, is no secret)
    re.compile(r"(?im)^\s*-?\s*(token|password|client_secret|secret|pat|api_key)\s*:[ \t]*[^\s#]"),
    re.compile(r"(?i)bearer\s+[a-z0-9._-]{10,}"),
]


def _bundle() -> dict:
    return yaml.safe_load(BUNDLE.read_text(encoding="utf-8"))


def _resource_files() -> list[Path]:
    return sorted(p for pattern in _bundle()["include"] for p in REPO_ROOT.glob(pattern))


def _jobs() -> list[tuple[Path, str, dict]]:
    out = []
    for path in _resource_files():
        for key, job in (
            yaml.safe_load(path.read_text(encoding="utf-8"))["resources"].get("jobs") or {}
        ).items():
            out.append((path, key, job))
    return out


def _requirements() -> dict[str, str]:
    pins = {}
    for line in (REPO_ROOT / "requirements.txt").read_text().splitlines():
        if "==" in line and not line.lstrip().startswith("#"):
            name, version = line.split("#")[0].strip().split("==")
            pins[name.lower()] = version
    return pins


def test_bundle_is_small_and_names_its_parts():
    bundle = _bundle()
    assert set(bundle) <= {"bundle", "include", "artifacts", "variables", "targets"}
    assert bundle["bundle"]["name"] == "bakery-forecast"
    assert {"catalog", "experiment_name", "model_name"} <= set(bundle["variables"])
    assert bundle["targets"]["dev"]["mode"] == "development" and bundle["targets"]["dev"]["default"] is True
    assert bundle["targets"]["prod"]["mode"] == "production"
    assert _resource_files(), "include matches no resource file"


def test_every_target_defines_the_catalog():
    for name, target in _bundle()["targets"].items():
        assert (target.get("variables") or {}).get("catalog"), f"target {name} sets no catalog"


def test_every_variable_used_is_defined():
    defined = set(_bundle()["variables"])
    for path in [BUNDLE, *_resource_files()]:
        used = set(re.findall(r"\$\{var\.([a-z_]+)\}", path.read_text(encoding="utf-8")))
        assert used <= defined, f"{path.name} uses undefined variables {sorted(used - defined)}"


def test_tasks_run_existing_files_and_depend_on_existing_tasks():
    jobs = _jobs()
    assert jobs
    for path, key, job in jobs:
        tasks = {t["task_key"]: t for t in job["tasks"]}
        clusters = {c["job_cluster_key"] for c in job.get("job_clusters", [])}
        for task_key, task in tasks.items():
            python_file = task["spark_python_task"]["python_file"]
            assert (path.parent / python_file).resolve().is_file(), f"{key}.{task_key}: {python_file} missing"
            for dep in task.get("depends_on", []):
                assert dep["task_key"] in tasks, f"{key}.{task_key} depends on unknown {dep['task_key']}"
            assert task["job_cluster_key"] in clusters, f"{key}.{task_key}: unknown cluster"
        _assert_acyclic(key, tasks)


def _assert_acyclic(job: str, tasks: dict) -> None:
    done: set[str] = set()
    while len(done) < len(tasks):
        ready = {
            k
            for k, t in tasks.items()
            if k not in done and {d["task_key"] for d in t.get("depends_on", [])} <= done
        }
        assert ready, f"{job}: depends_on has a cycle among {sorted(set(tasks) - done)}"
        done |= ready


def test_schedule_and_cluster_fit_the_forecast_deadline_and_runtime():
    for _, key, job in _jobs():
        if "schedule" in job:
            assert job["schedule"]["timezone_id"] == "Europe/Madrid"
            hour = int(job["schedule"]["quartz_cron_expression"].split()[2])
            if key == "etl_job":  # the nightly forecasts
                assert hour < 6, f"{key} runs at {hour}:00, after the 06:00 forecast deadline"
            else:  # other writers stay out of the nightly window (02:00 to the 06:00 deadline)
                assert not 1 <= hour < 6, f"{key} runs at {hour}:00, inside the nightly run's window"
        for cluster in job.get("job_clusters", []):
            assert cluster["new_cluster"]["spark_version"] == "17.3.x-scala2.13"


def _substituted(args: list[str]) -> list[str]:
    placeholder = {"job.parameters.as_of": "2026-11-25"}
    args = [re.sub(r"\$\{[^}]+\}", "x", a) for a in args]
    return [re.sub(r"\{\{([^}]+)\}\}", lambda m: placeholder.get(m.group(1).strip(), "x"), a) for a in args]


def test_task_parameters_parse_with_the_jobs_parser():
    for _, key, job in _jobs():
        for task in job["tasks"]:
            args = job_parser("bundle check").parse_args(
                _substituted(task["spark_python_task"]["parameters"])
            )
            assert args.env == "databricks" and args.catalog == "x" and str(args.as_of) == "2026-11-25", key


def test_library_pins_match_requirements():
    pins = _requirements()
    for _, key, job in _jobs():
        for task in job["tasks"]:
            for lib in task.get("libraries", []):
                if "pypi" in lib:
                    name, version = lib["pypi"]["package"].split("==")
                    assert pins.get(name.lower()) == version, f"{key}: {name}=={version} vs requirements.txt"
                    assert name.lower() not in {"pyspark", "delta-spark"}, "the runtime ships Spark and Delta"


@pytest.mark.parametrize("path", BUNDLE_FILES, ids=lambda p: p.name)
def test_no_secrets_or_hosts_in_bundle_files(path):
    text = path.read_text(encoding="utf-8")
    for pattern in SECRET_PATTERNS:
        assert not pattern.search(text), f"{path.name} matches {pattern.pattern}"
    assert not re.search(r"(?m)^\s*host\s*:", text), f"{path.name} hard-codes a workspace host"


def _app() -> dict:
    path = REPO_ROOT / "jobs" / "resources" / "app.yml"
    return yaml.safe_load(path.read_text(encoding="utf-8"))["resources"]["apps"]["bakery_app"]


def _resource_models() -> dict:
    from databricks.bundles.apps import App
    from databricks.bundles.dashboards import Dashboard
    from databricks.bundles.jobs import Job

    return {"jobs": Job, "apps": App, "dashboards": Dashboard}


def test_resources_load_into_the_bundle_resource_models():
    """databricks-bundles' models of jobs, apps and dashboards: a misspelt key or a bad enum value fails."""
    models, loaded = _resource_models(), []
    for path in _resource_files():
        for kind, items in yaml.safe_load(path.read_text(encoding="utf-8"))["resources"].items():
            assert kind in models, f"{path.name}: resources.{kind} has no model here"
            for key, body in items.items():
                try:
                    loaded.append((kind, key, models[kind].from_dict(body)))
                except (ValueError, TypeError) as exc:
                    pytest.fail(f"{path.name}: resources.{kind}.{key}: {exc}")
    assert {(kind, key) for kind, key, _ in loaded} >= {
        ("jobs", "etl_job"),
        ("jobs", "tuning_job"),
        ("apps", "bakery_app"),
        ("dashboards", "forecast_accuracy"),
        ("dashboards", "sales_forecasts"),
        ("dashboards", "data_quality"),
        ("dashboards", "stock_waste"),
        ("dashboards", "waste_ledger"),
    }


@pytest.mark.parametrize(
    "edit, named",
    [
        (lambda app: app.update(source_path=app.pop("source_code_path")), "source_path"),
        (lambda app: app["resources"][0]["sql_warehouse"].update(permission="CAN_RUN"), "CAN_RUN"),
    ],
    ids=["misspelt key", "bad permission"],
)
def test_the_resource_models_refuse_a_broken_app(edit, named):
    from databricks.bundles.apps import App

    app = _app()
    edit(app)
    with pytest.raises(ValueError, match=named):
        App.from_dict(app)


def test_the_app_runs_app_yaml_from_the_bundle_root_with_its_resources():
    app = _app()
    source = (REPO_ROOT / "jobs" / "resources" / app["source_code_path"]).resolve()
    assert source == REPO_ROOT.resolve()
    assert (source / "app.yaml").is_file() and (source / "requirements.txt").is_file()
    kinds = {next(k for k in r if k not in {"name", "description"}) for r in app["resources"]}
    assert {"sql_warehouse", "secret", "uc_securable"} <= kinds
    assert {"warehouse_id", "secret_scope"} <= set(_bundle()["variables"])


def _dashboards() -> dict:
    path = REPO_ROOT / "jobs" / "resources" / "dashboards.yml"
    return yaml.safe_load(path.read_text(encoding="utf-8"))["resources"]["dashboards"]


def test_every_dashboard_file_is_deployed_to_its_layer_on_the_variable_warehouse():
    """Each dashboards/*.lvdash.json is a resources.dashboards entry (the model loads it), titled as the file
    reads, on ${var.warehouse_id}, with its datasets pointed at this target's catalog and the schema of the
    layer the file's datasets name, and run by the analysts group."""
    from databricks.bundles.dashboards import Dashboard, PermissionLevel

    from bakery.dashboards.model import dashboard_files, parse_dashboard
    from bakery.dashboards.render import title_of

    resources = {k: Dashboard.from_dict(v) for k, v in _dashboards().items()}
    base = REPO_ROOT / "jobs" / "resources"
    deployed = {(base / d.file_path).resolve(): d for d in resources.values()}
    files = dashboard_files(REPO_ROOT / "dashboards")
    assert len(files) >= 4 and {f.resolve() for f in files} == set(deployed)
    for f in files:
        d, dash = deployed[f.resolve()], parse_dashboard(f)
        layers = {ds.schema for ds in dash.datasets.values()}
        assert len(layers) == 1, f"{f.name}: datasets in several schemas {layers}"
        assert d.display_name == title_of(dash)
        assert str(d.warehouse_id) == "${var.warehouse_id}"  # the model keeps a variable as a Variable
        assert str(d.dataset_catalog) == "${var.catalog}"
        assert str(d.dataset_schema) == "${var.schema_prefix}" + layers.pop()
        assert d.embed_credentials is False
        assert [(str(p.group_name), p.level) for p in d.permissions] == [
            ("${var.analysts_group}", PermissionLevel.CAN_RUN)
        ]
    assert _bundle()["variables"]["analysts_group"]["default"]


@pytest.mark.parametrize(
    "edit, named",
    [
        (lambda d: d.update(file=d.pop("file_path")), "file"),
        (lambda d: d["permissions"][0].update(level="CAN_DANCE"), "CAN_DANCE"),
    ],
    ids=["misspelt key", "bad permission"],
)
def test_the_resource_models_refuse_a_broken_dashboard(edit, named):
    from databricks.bundles.dashboards import Dashboard

    d = _dashboards()["forecast_accuracy"]
    edit(d)
    with pytest.raises(ValueError, match=named):
        Dashboard.from_dict(d)
