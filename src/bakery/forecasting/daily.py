"""The model half of the daily pipeline: train if due, then forecast with the champion."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from bakery.config import Settings
from bakery.forecasting import registry
from bakery.forecasting.forecast import ForecastResult, run_forecast
from bakery.forecasting.tables import latest_data_date
from bakery.forecasting.train import TrainResult, run_train
from bakery.lakehouse import Lakehouse
from bakery.ops.runs import track_run
from bakery.tables import TUNED_PARAMS

log = logging.getLogger(__name__)


@dataclass
class ModelSteps:
    """What the pipeline's model steps did, for the job report."""

    train_reason: str | None = None
    as_of: date | None = None  # the day the models trained and forecast from
    train: TrainResult | None = None
    forecast: ForecastResult | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.forecast is not None

    def summary_lines(self) -> list[str]:
        lines = [
            f"train: {self.train_reason}" if self.train_reason else "train: not due (champion is recent)"
        ]
        if self.train:
            lines += self.train.summary_lines()
        lines += self.forecast.summary_lines() if self.forecast else ["forecast: FAILED"]
        return lines + self.notes

    def to_dict(self) -> dict[str, Any]:
        return {
            "train_reason": self.train_reason,
            "train": self.train.to_dict() if self.train else None,
            "forecast": self.forecast.to_dict() if self.forecast else None,
            "notes": self.notes,
        }


def train_due(
    lh: Lakehouse, settings: Settings, data_as_of: date, requests: list[dict[str, Any]] | None = None
) -> str | None:
    """Why the pipeline must train today, or None: no champion, a retrain request (`requests`, default the
    pending ones), or an old champion."""
    from bakery.ops.retrain import pending_retrain_requests

    champion = registry.by_alias(settings, registry.CHAMPION)
    if champion is None:
        return "no champion model yet"
    requests = pending_retrain_requests(settings) if requests is None else requests
    if requests:
        reasons = "; ".join(str(r.get("reason")) for r in requests)[:300]
        return f"retrain requested ({reasons})"
    trained = champion.tags.get("as_of")
    every = int(settings.get("forecasting.retrain_every_days", 7))
    if not trained or date.fromisoformat(trained) <= data_as_of - timedelta(days=every):
        return f"champion version {champion.version} was trained on data to {trained} (retrain every {every} days)"
    return None


def tune_due(lh: Lakehouse, settings: Settings, data_as_of: date) -> bool:
    """Tuning rides along with a pipeline training only when configured and the last tuning is old."""
    if not settings.get("forecasting.tune_in_pipeline", False):
        return False
    if not lh.exists(*TUNED_PARAMS):
        return True
    from pyspark.sql import functions as F

    last = lh.read(*TUNED_PARAMS).agg(F.max("as_of")).first()[0]
    return last is None or last <= data_as_of - timedelta(
        days=int(settings.get("forecasting.tune_every_days", 7))
    )


def models_as_of(lh: Lakehouse, settings: Settings, run_date: date) -> tuple[date, str | None]:
    """The day the models train and forecast from: run_date - 1, or the latest sales day when that is more than
    forecasting.max_data_lag_days older (with a note saying so)."""
    last_complete = run_date - timedelta(days=1)
    try:
        latest = latest_data_date(lh)
    except ValueError:  # no sales yet: training says what is missing
        return last_complete, None
    lag = (last_complete - latest).days
    if lag <= int(settings.get("forecasting.max_data_lag_days", 28)):
        return last_complete, None
    return latest, (
        f"latest sales are from {latest}, {lag} days before {last_complete}: "
        f"models trained and forecasting from {latest}"
    )


def run_model_steps(
    lh: Lakehouse, settings: Settings, run_date: date, requested_before: datetime | None = None
) -> ModelSteps:
    """Train if due and forecast from the last complete day (run_date - 1). A failed training leaves
    the current champion serving; the forecast step still runs.

    The retrain requests read here (those made before `requested_before`, when given: the start of the
    run's ingest) are the ones a successful training removes; requests made later wait for the next run."""
    from bakery.ops.retrain import clear_retrain_flag, pending_retrain_requests

    data_as_of, note = models_as_of(lh, settings, run_date)
    requests = pending_retrain_requests(settings, before=requested_before)
    steps = ModelSteps(
        train_reason=train_due(lh, settings, data_as_of, requests),
        as_of=data_as_of,
        notes=[note] if note else [],
    )
    if steps.train_reason:
        try:
            with track_run(lh, "train") as run:
                steps.train = run_train(
                    lh, settings, as_of=data_as_of, tune=tune_due(lh, settings, data_as_of)
                )
                run.details = steps.train.to_dict()
            clear_retrain_flag(settings, consumed=requests)
        except Exception as exc:  # noqa: BLE001 - the champion keeps serving; the failure is recorded in ops.runs
            log.exception("training failed; the current champion keeps serving")
            steps.notes.append(f"train FAILED: {type(exc).__name__}: {exc}"[:500])
    try:
        with track_run(lh, "forecast") as run:
            steps.forecast = run_forecast(lh, settings, as_of=data_as_of)
            run.details = steps.forecast.to_dict()
    except Exception as exc:  # noqa: BLE001 - reported as a failed step, the pipeline run fails
        log.exception("forecast failed")
        steps.notes.append(f"forecast FAILED: {type(exc).__name__}: {exc}"[:500])
    return steps
