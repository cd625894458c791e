"""MLflow tracking and model registry: the only module that talks to MLflow.

Local default: a SQLite tracking store and registry under <home>/mlflow, artifacts beside it. On
Databricks (mlflow.tracking_uri: databricks) the workspace's tracking and the Unity Catalog registry.
The champion alias is what serves; promote moves it, rollback gives it back to the previous champion."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any

from bakery.config import Settings
from bakery.logs import mlflow_migrations_quiet

log = logging.getLogger(__name__)

CHAMPION, CHALLENGER = "champion", "challenger"
HISTORY_TAG = "champion_history"  # registered-model tag: JSON list of versions that were champion
PROMOTED_AT_TAG = "promoted_at"  # model-version tag: when the champion alias moved to it (UTC, ISO 8601)
# What a logged model needs at load time (its pip requirements, pinned to the installed versions).
MODEL_PACKAGES = ("prophet", "cmdstanpy", "lightgbm", "pandas", "numpy", "pyarrow", "holidays", "mlflow")


@dataclass(frozen=True)
class ModelRef:
    name: str
    version: str
    run_id: str | None
    aliases: list[str]
    tags: dict[str, str]


def tracking_uri(settings: Settings) -> str:
    uri = settings.get("mlflow.tracking_uri")
    if uri:
        return str(uri)
    settings.mlflow_dir.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{(settings.mlflow_dir / 'mlflow.db').resolve()}"


def registry_uri(settings: Settings) -> str:
    return str(settings.get("mlflow.registry_uri") or tracking_uri(settings))


def model_name(settings: Settings) -> str:
    """bakery_forecaster locally; catalog.schema.bakery_forecaster in Unity Catalog."""
    name = str(settings.get("mlflow.model_name", "bakery_forecaster"))
    if registry_uri(settings).startswith("databricks-uc") and "." not in name:
        name = f"{settings.get('storage.catalog')}.{settings.get('storage.schemas.gold', 'gold')}.{name}"
    return name


def client(settings: Settings):
    """An MlflowClient bound to this home's stores (also sets the fluent API's URIs)."""
    import mlflow
    from mlflow import MlflowClient

    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    with mlflow_migrations_quiet():
        mlflow.set_tracking_uri(tracking_uri(settings))
        mlflow.set_registry_uri(registry_uri(settings))
        c = MlflowClient(tracking_uri(settings), registry_uri(settings))
        # Create (and migrate) the tracking and the registry stores now, inside the guard.
        c.search_experiments(max_results=1)
        c.search_registered_models(max_results=1)
    return c


def experiment_id(settings: Settings) -> str:
    """The experiment, created on first use with its artifacts under <home>/mlflow/artifacts."""
    c = client(settings)
    name = str(settings.get("mlflow.experiment", "bakery_forecasting"))
    if not tracking_uri(settings).startswith("sqlite"):
        name = str(settings.get("mlflow.workspace_experiment", f"/Shared/{name}"))
    exp = c.get_experiment_by_name(name)
    if exp is not None:
        return exp.experiment_id
    location = None
    if tracking_uri(settings).startswith("sqlite"):
        location = (settings.mlflow_dir / "artifacts").resolve().as_uri()
    return c.create_experiment(name, artifact_location=location)


def git_commit() -> str:
    """The commit of the running code (lineage); 'unknown' outside a git checkout."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(__file__).parent,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _ref(c, mv) -> ModelRef:
    return ModelRef(
        mv.name, str(mv.version), mv.run_id, list(getattr(mv, "aliases", []) or []), dict(mv.tags or {})
    )


def versions(settings: Settings) -> list[ModelRef]:
    """Every registered version, newest first (empty when nothing is registered yet)."""
    c = client(settings)
    name = model_name(settings)
    try:
        found = c.search_model_versions(f"name='{name}'")
        aliases = c.get_registered_model(name).aliases or {}
    except Exception:  # noqa: BLE001 - no registry yet
        return []
    refs = []
    for mv in found:  # search_model_versions leaves aliases empty; the registered model has them
        ref = _ref(c, mv)
        refs.append(
            ModelRef(
                ref.name,
                ref.version,
                ref.run_id,
                sorted(a for a, v in aliases.items() if str(v) == ref.version),
                ref.tags,
            )
        )
    return sorted(refs, key=lambda r: -int(r.version))


def by_alias(settings: Settings, alias: str) -> ModelRef | None:
    c = client(settings)
    try:
        return _ref(c, c.get_model_version_by_alias(model_name(settings), alias))
    except Exception:  # noqa: BLE001 - alias or model absent
        return None


def _history(c, name: str) -> list[str]:
    try:
        tags = c.get_registered_model(name).tags or {}
    except Exception:  # noqa: BLE001
        return []
    return list(json.loads(tags.get(HISTORY_TAG, "[]")))


def set_champion(settings: Settings, version: str, reason: str) -> None:
    """Move the champion alias to version (remembering the previous one for rollback)."""
    c = client(settings)
    name = model_name(settings)
    current = by_alias(settings, CHAMPION)
    history = _history(c, name)
    if current is not None and current.version != str(version):
        history.append(current.version)
    c.set_registered_model_tag(name, HISTORY_TAG, json.dumps(history[-20:]))
    c.set_registered_model_alias(name, CHAMPION, str(version))
    c.set_model_version_tag(name, str(version), "promoted_because", reason[:500])
    c.set_model_version_tag(
        name, str(version), PROMOTED_AT_TAG, datetime.now(UTC).isoformat(timespec="seconds")
    )
    challenger = by_alias(settings, CHALLENGER)
    if challenger is not None and challenger.version == str(version):
        c.delete_registered_model_alias(name, CHALLENGER)
    log.info("model %s: champion is now version %s (%s)", name, version, reason)


def set_challenger(settings: Settings, version: str) -> None:
    client(settings).set_registered_model_alias(model_name(settings), CHALLENGER, str(version))


def rollback(settings: Settings) -> tuple[str, str]:
    """Give the champion alias back to the previous champion; returns (from_version, to_version)."""
    c = client(settings)
    name = model_name(settings)
    current = by_alias(settings, CHAMPION)
    history = _history(c, name)
    if current is None or not history:
        raise ValueError(f"model {name}: no previous champion to roll back to")
    previous = history.pop()
    c.set_registered_model_alias(name, CHAMPION, previous)
    c.set_registered_model_tag(name, HISTORY_TAG, json.dumps(history))
    c.set_model_version_tag(name, current.version, "rolled_back", "true")
    log.info("model %s: rolled back from version %s to %s", name, current.version, previous)
    return current.version, previous


def tag_version(settings: Settings, version: str, key: str, value: str) -> None:
    """A tag on one model version (decisions and their evidence, kept with the version in MLflow)."""
    client(settings).set_model_version_tag(model_name(settings), str(version), key, value[:5000])


def end_challenger(settings: Settings, version: str, evidence: str) -> None:
    """Remove the challenger alias from `version` (a canary that did not beat the champion), with why."""
    c = client(settings)
    name = model_name(settings)
    c.set_model_version_tag(name, str(version), "canary_ended_because", evidence[:5000])
    challenger = by_alias(settings, CHALLENGER)
    if challenger is not None and challenger.version == str(version):
        c.delete_registered_model_alias(name, CHALLENGER)
    log.info("model %s: canary of version %s ended (%s)", name, version, evidence)


def watched_previous(settings: Settings, champion: ModelRef, watch_days: int) -> ModelRef | None:
    """The former champion while a champion promoted less than `watch_days` ago is watched, else None."""
    promoted = champion.tags.get(PROMOTED_AT_TAG)
    history = _history(client(settings), model_name(settings))
    if not promoted or not history or history[-1] == champion.version:
        return None
    if datetime.now(UTC) - datetime.fromisoformat(promoted) > timedelta(days=watch_days):
        return None
    c = client(settings)
    return _ref(c, c.get_model_version(model_name(settings), history[-1]))


def load(settings: Settings, version: str):
    """(TrainedModel, version) of a registered version, through the real pyfunc loader."""
    import mlflow.pyfunc

    client(settings)
    with mlflow_migrations_quiet():
        model = mlflow.pyfunc.load_model(f"models:/{model_name(settings)}/{version}")
    return model.unwrap_python_model().trained


def log_version(
    settings: Settings,
    folder_files: dict[str, str],
    *,
    params: dict[str, Any],
    metrics: dict[str, float],
    tags: dict[str, str],
    signature_input,
    signature_output,
    extra_artifacts: list[Path],
) -> tuple[str, str]:
    """One MLflow run with params, metrics, lineage tags and the pyfunc model; registers a new version.
    Returns (run_id, version)."""
    import mlflow
    import mlflow.pyfunc
    from mlflow.models import infer_signature

    from bakery.forecasting.pyfunc import BakeryForecaster
    from bakery.logs import run_tag

    client(settings)
    with (
        mlflow.start_run(experiment_id=experiment_id(settings), run_name=tags.get("run_name")) as run,
        warnings.catch_warnings(),
    ):
        # Integer columns and the missing input example are known and fine here: the signature is
        # inferred from real gold.features rows.
        warnings.simplefilter("ignore", UserWarning)
        signature = infer_signature(signature_input, signature_output, params={"as_of": "2026-01-01"})
        mlflow.log_params({k: str(v)[:500] for k, v in params.items()})
        mlflow.set_tags({**tags, **run_tag()})
        for path in extra_artifacts:
            mlflow.log_artifact(str(path))
        info = mlflow.pyfunc.log_model(
            name="forecaster",
            python_model=BakeryForecaster(),
            artifacts=folder_files,
            signature=signature,
            pip_requirements=_requirements(),
            registered_model_name=model_name(settings),
        )
        version = str(info.registered_model_version)
        # After log_model: MLflow 3 copies a run's existing metrics onto a model it logs, and on the
        # SQLite store that copy collides with the originals (same key, step and timestamp).
        mlflow.log_metrics({k: float(v) for k, v in metrics.items() if v == v})
    c = client(settings)
    for key in ("as_of", "git_commit"):
        if key in tags:
            c.set_model_version_tag(model_name(settings), version, key, tags[key])
    return run.info.run_id, version


def _requirements() -> list[str]:
    """The packages the model needs at load time, pinned to the versions installed here (the same pins as
    requirements.txt in a `make install` environment; no file of the source tree is read)."""
    pins = []
    for name in MODEL_PACKAGES:
        try:
            pins.append(f"{name}=={package_version(name)}")
        except PackageNotFoundError:
            pins.append(name)
    return pins
