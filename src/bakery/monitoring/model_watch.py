"""The nightly watch over model versions: a canary is promoted or ended once it has been scored long enough,
and a newly promoted champion that breaks its promise where the former one would not is rolled back.

Each move goes through the MLflow registry (the champion alias, the registered model's champion history, and
version tags holding the decision and its evidence as JSON) and raises an alert."""

from __future__ import annotations

import json
import logging
from datetime import date

import pandas as pd

from bakery.config import Settings
from bakery.forecasting import registry
from bakery.lakehouse import Lakehouse
from bakery.models.config import load_model_config
from bakery.models.lifecycle import (
    CANARY_STARTED_TAG,
    CANARY_STORES_TAG,
    PREVIOUS,
    Comparison,
    canary_decision,
    compare,
    policies,
    rollback_due,
)
from bakery.monitoring import live_accuracy as la
from bakery.monitoring.accuracy_io import expected_accuracy, read_inputs
from bakery.monitoring.alerts import Alert, Severity

log = logging.getLogger(__name__)


def _scored(lh: Lakehouse, evaluated_on: date, days: int) -> pd.DataFrame:
    forecasts, sales = read_inputs(lh, evaluated_on, la.AccuracyRule(window_days=days))
    if forecasts.empty or sales.empty:
        return pd.DataFrame(columns=["as_of", "store_id", "product_id", "date", "model_version", "yhat", "y"])
    return la.score_served(forecasts, sales)


def _evidence(cmp: Comparison, **extra: object) -> str:
    return json.dumps({**cmp.to_dict(), **extra}, default=str)


def _watch_canary(settings, scored, champion, challenger, policy, evaluated_on) -> list[Alert]:
    stores = json.loads(challenger.tags.get(CANARY_STORES_TAG, "[]"))
    started = challenger.tags.get(CANARY_STARTED_TAG)
    if not stores or not started:
        return []
    at = scored[scored["store_id"].isin(stores) & (scored["as_of"] >= pd.Timestamp(started))]
    cmp = compare(at, challenger.version, champion.version)
    decision = canary_decision(cmp, policy)
    log.info("canary v%s at %s: %s (%s)", challenger.version, stores, decision, cmp.to_dict())
    if decision == "wait":
        return []
    evidence = _evidence(cmp, stores=stores, decision=decision, evaluated_on=evaluated_on)
    if decision == "promote":
        registry.set_champion(settings, challenger.version, f"canary beat v{champion.version}: {evidence}")
        title = f"Canary v{challenger.version} promoted: it beat v{champion.version} at its stores"
    else:
        registry.end_challenger(settings, challenger.version, evidence)
        title = f"Canary v{challenger.version} ended: it did not beat v{champion.version} at its stores"
    detail = (
        f"wMAPE {cmp.wmape_a:.1f}% against {cmp.wmape_b:.1f}% for the champion on the same {cmp.points} points "
        f"({cmp.days} days) at stores {', '.join(stores)}."
    )
    return [
        Alert(f"model.canary_{decision}", Severity.INFO, title, detail, stores=tuple(stores), link="/models")
    ]


def _watch_rollback(lh, settings, scored, champion, policy, evaluated_on) -> list[Alert]:
    at = scored[scored["role"].isin([registry.CHAMPION, PREVIOUS])]
    previous = at.loc[at["role"] == PREVIOUS, "model_version"]
    if previous.empty:
        return []
    before = str(previous.iloc[-1])
    cmp = compare(at, champion.version, before)
    expected = expected_accuracy(lh)
    chain = expected[expected["store_id"].isna()]["wmape"]
    promised = float(chain.mean()) if len(chain) else None
    if not rollback_due(cmp, promised, policy):
        return []
    evidence = _evidence(cmp, expected_wmape=promised, tolerance=policy.tolerance, evaluated_on=evaluated_on)
    from_version, to_version = registry.rollback(settings)
    registry.tag_version(settings, from_version, "rolled_back_because", evidence)
    return [
        Alert(
            "model.rollback",
            Severity.WARNING,
            f"Champion v{from_version} rolled back to v{to_version}",
            f"Live wMAPE {cmp.wmape_a:.1f}% against the {promised:.1f}% its backtest promised (tolerance "
            f"{policy.tolerance:.0%}); v{to_version} scored {cmp.wmape_b:.1f}% on the same {cmp.points} points "
            f"({cmp.days} days). Evidence: tag rolled_back_because of version {from_version}.",
            link="/models",
        )
    ]


def watch_models(
    lh: Lakehouse, settings: Settings, evaluated_on: date, lifecycle: dict | None = None
) -> list[Alert]:
    """Decide tonight's canary and rollback moves (models.yml `lifecycle:`, or `lifecycle` given)."""
    champion = registry.by_alias(settings, registry.CHAMPION)
    if champion is None:
        return []
    conf = load_model_config(settings.conf_dir)
    canary, rollback = policies(conf.lifecycle if lifecycle is None else lifecycle, conf.gate)
    challenger = registry.by_alias(settings, registry.CHALLENGER)
    if not ((canary.enabled and challenger is not None) or rollback.automatic):
        return []
    days = max(canary.days, rollback.watch_days) + 28
    scored = _scored(lh, evaluated_on, days)
    if scored.empty:
        return []
    if rollback.automatic:
        alerts = _watch_rollback(lh, settings, scored, champion, rollback, evaluated_on)
        if alerts:
            return alerts  # the champion changed: the canary is judged against the new one from tomorrow
    if canary.enabled and challenger is not None and challenger.version != champion.version:
        return _watch_canary(settings, scored, champion, challenger, canary, evaluated_on)
    return []
