"""`bakery forecast [--as-of D]`: the champion's D+1..D+28 forecasts for every series (and the challenger's,
as shadow) into gold.forecasts, with intervals, components and an explanation per row."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pandas as pd
from pyspark.sql import DataFrame

from bakery.config import Settings
from bakery.faults import fault_point
from bakery.forecasting import registry, spark_jobs
from bakery.forecasting.tables import (
    latest_data_date,
    read_products,
    write_forecasts,
    write_store_forecasts,
)
from bakery.lakehouse import Lakehouse
from bakery.models.bundle import TrainedModel
from bakery.models.cold_start import cold_start_rows, relaunched
from bakery.models.config import ModelConfig, load_model_config
from bakery.models.frames import model_frame
from bakery.models.lifecycle import (
    CANARY_STARTED_TAG,
    CANARY_STORES_TAG,
    PREVIOUS,
    CanaryPolicy,
    canary_stores,
    policies,
)
from bakery.models.opening import close_days, expected_zero_days
from bakery.models.serve import combine, global_rows, to_gold
from bakery.tables import FEATURES

log = logging.getLogger(__name__)

SHADOW = "shadow"


@dataclass
class ForecastResult:
    as_of: date
    rows: int = 0
    series: int = 0
    versions: dict[str, str] = field(default_factory=dict)
    fallbacks: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    canary_stores: list[str] = field(default_factory=list)

    def summary_lines(self) -> list[str]:
        roles = ", ".join(f"{role} v{v}" for role, v in self.versions.items())
        lines = [f"forecast as of {self.as_of}: {self.series} series x D+1..D+28, {self.rows} rows ({roles})"]
        if self.canary_stores:
            lines.append(f"  canary: v{self.versions.get(SHADOW)} serves {', '.join(self.canary_stores)}")
        if self.fallbacks:
            lines.append("  fallbacks: " + ", ".join(f"{k} {v}" for k, v in sorted(self.fallbacks.items())))
        return lines

    def to_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "rows": self.rows,
            "series": self.series,
            "versions": self.versions,
            "fallbacks": self.fallbacks,
            "canary_stores": self.canary_stores,
            "seconds": round(self.seconds, 2),
        }


class ModelInputs:
    """gold.features as a model config reads it, in Spark (cached) and on the driver, built once per forecast
    run: versions trained on the same regressors and horizon (the champion and the one it replaced, as a rule)
    share it. Use as a context manager; leaving it releases the cached frames."""

    def __init__(self, lh: Lakehouse, as_of: date) -> None:
        self.lh, self.as_of = lh, as_of
        self._built: dict[str, tuple[DataFrame, pd.DataFrame]] = {}

    def get(self, cfg: ModelConfig) -> tuple[DataFrame, pd.DataFrame]:
        key = json.dumps([cfg.max_horizon, cfg.regressors], sort_keys=True, default=str)
        if key not in self._built:
            until = self.as_of + timedelta(days=cfg.max_horizon)
            sdf = spark_jobs.model_input(self.lh.read(*FEATURES), cfg, until=until).cache()
            self._built[key] = (sdf, model_frame(sdf.toPandas(), cfg))
        return self._built[key]

    def __enter__(self) -> ModelInputs:
        return self

    def __exit__(self, *exc: object) -> None:
        for sdf, _ in self._built.values():
            sdf.unpersist()
        self._built.clear()


def forecast_with(
    lh: Lakehouse,
    trained: TrainedModel,
    as_of: date,
    inputs: ModelInputs | None = None,
    explain: bool = True,
) -> pd.DataFrame:
    """Champion FORECAST_SCHEMA rows of one trained model: per-series work in Spark, the global
    models (the challenger), the per-series choice and the cold starts of launching products on the driver.
    inputs: the run's shared model input (default: built for this call alone). explain=False: the global models
    may leave the component columns empty (a role whose reasons nobody reads)."""
    if inputs is None:
        with ModelInputs(lh, as_of) as own:
            return forecast_with(lh, trained, as_of, own, explain)
    cfg = trained.cfg
    features_sdf, features = inputs.get(cfg)
    per_series = spark_jobs.forecast(lh.spark, features_sdf, trained.models_for(), cfg, as_of)
    global_models = global_rows(features, trained.global_models, cfg, as_of, explain=explain)
    rows = combine(per_series, global_models, trained.choice, cfg, trained.scales)
    products = read_products(lh)
    zero = relaunched(expected_zero_days(features, cfg, as_of), products, cfg, as_of)
    launches = cold_start_rows(rows, products, cfg, as_of, zero)
    return close_days(pd.concat([rows, launches], ignore_index=True) if len(launches) else rows, zero)


def _serve_canary(
    settings: Settings,
    parts: dict[str, pd.DataFrame],
    challenger: registry.ModelRef,
    policy: CanaryPolicy,
    as_of: date,
    result: ForecastResult,
) -> dict[str, pd.DataFrame]:
    """At the canary stores the challenger serves (role champion) and the champion becomes the shadow, so that
    both are scored on the same days; the stores and the start are tagged on the challenger's version."""
    tagged = challenger.tags.get(CANARY_STORES_TAG)
    stores = (
        json.loads(tagged)
        if tagged
        else canary_stores(parts[registry.CHAMPION]["store_id"], challenger.version, policy.share)
    )
    if not stores:
        return parts
    if not tagged:
        registry.tag_version(settings, challenger.version, CANARY_STORES_TAG, json.dumps(stores))
        registry.tag_version(settings, challenger.version, CANARY_STARTED_TAG, as_of.isoformat())
    champ, shadow = parts[registry.CHAMPION], parts[SHADOW]
    at_c, at_s = champ["store_id"].isin(stores), shadow["store_id"].isin(stores)
    parts[registry.CHAMPION] = pd.concat(
        [champ[~at_c], shadow[at_s].assign(role=registry.CHAMPION)], ignore_index=True
    )
    parts[SHADOW] = pd.concat([shadow[~at_s], champ[at_c].assign(role=SHADOW)], ignore_index=True)
    result.canary_stores = list(stores)
    log.info("canary: version %s serves stores %s", challenger.version, ", ".join(stores))
    return parts


def run_forecast(
    lh: Lakehouse, settings: Settings, as_of: date | None = None, lifecycle: dict | None = None
) -> ForecastResult:
    """Forecast from as_of (default: the last day with sales) with the champion, the challenger as shadow
    (or, in canary mode, as the served model at the canary stores) and, while a new champion is watched, the
    former champion as `previous`; everything lands in one MERGE, so no reader ever sees half an as-of date.
    `lifecycle`: models.yml's block (default: the home's conf)."""
    champion = registry.by_alias(settings, registry.CHAMPION)
    if champion is None:
        raise ValueError("no champion model is registered: run `bakery train` (or `bakery pipeline`) first")
    conf = load_model_config(settings.conf_dir)
    canary, rollback = policies(conf.lifecycle if lifecycle is None else lifecycle, conf.gate)
    as_of = as_of or latest_data_date(lh)
    t0 = time.perf_counter()
    result = ForecastResult(as_of=as_of)
    roles = [(registry.CHAMPION, champion)]
    challenger = registry.by_alias(settings, registry.CHALLENGER)
    if challenger is not None and challenger.version != champion.version:
        roles.append((SHADOW, challenger))
    previous = (
        registry.watched_previous(settings, champion, rollback.watch_days) if rollback.automatic else None
    )
    if previous is not None and previous.version not in {ref.version for _, ref in roles}:
        roles.append((PREVIOUS, previous))
    parts = {}
    # The former champion's rows are only scored against the new one's: their reasons are never shown.
    explained = {registry.CHAMPION, SHADOW}
    with ModelInputs(lh, as_of) as inputs:
        for role, ref in roles:
            rows = forecast_with(lh, registry.load(settings, ref.version), as_of, inputs, role in explained)
            if role == registry.CHAMPION:
                result.series = int(rows["unique_id"].nunique())
                codes = rows.drop_duplicates("unique_id")["reason_code"].dropna()
                result.fallbacks = {str(k): int(v) for k, v in codes.value_counts().items()}
            parts[role] = to_gold(rows, ref.version, role)
            result.versions[role] = ref.version
    if canary.enabled and SHADOW in parts:
        parts = _serve_canary(settings, parts, challenger, canary, as_of, result)
    gold = pd.concat(list(parts.values()), ignore_index=True)
    fault_point("forecast_before_write")
    result.rows = write_forecasts(lh, gold)
    write_store_forecasts(lh, gold)
    result.seconds = time.perf_counter() - t0
    log.info("%s", result.summary_lines()[0])
    return result
