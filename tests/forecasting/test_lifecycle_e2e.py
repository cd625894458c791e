"""Canary and automatic rollback through the real MLflow registry: a challenger served to some stores is promoted
when the sales that follow prove it better, ended when they do not, and a new champion whose live accuracy
drops where the former one's would not is rolled back. The sales after the as-of date are written here (the
days the forecasts are judged on)."""

from __future__ import annotations

import json
import shutil
from datetime import timedelta

import pandas as pd
import pytest

from bakery.config import load_settings
from bakery.forecasting import registry
from bakery.forecasting.forecast import run_forecast
from bakery.forecasting.tables import write_forecasts
from bakery.forecasting.train import run_train
from bakery.lakehouse import Lakehouse
from bakery.models.config import load_model_config
from bakery.monitoring.model_watch import watch_models
from bakery.tables import DAILY_SALES, FORECASTS
from tests.forecasting.conftest import AS_OF

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning", "ignore::UserWarning"),
]
CANARY = {"canary": {"enabled": True, "share": 0.5, "days": 7}, "rollback": {"automatic": False}}
JUDGED_ON = AS_OF + timedelta(days=28)


@pytest.fixture
def two_versions(spark, trained_home, tmp_path) -> tuple[Lakehouse, object, str]:
    """A copy of the trained home with version 2 trained as the challenger (a gate it cannot pass)."""
    home = tmp_path / "home"
    shutil.copytree(trained_home, home)
    settings = load_settings(home=home)
    lh = Lakehouse(spark, settings)
    strict = load_model_config().with_overrides({"gate": {"max_wmape_ratio_vs_champion": 0.01}})
    result = run_train(lh, settings, as_of=AS_OF, cfg=strict)
    assert not result.promoted and registry.by_alias(settings, registry.CHALLENGER).version == result.version
    return lh, settings, result.version


def _sales_as_forecast_by(lh: Lakehouse, role: str, version: str | None, scale: float = 1.0) -> None:
    """The days after AS_OF sell what `version` (None: any) forecast as `role` (times scale), plus one unit."""
    fc = lh.read(*FORECASTS).toPandas()
    fc = fc[(fc["as_of"] == AS_OF) & (fc["role"] == role)]
    fc = fc if version is None else fc[fc["model_version"] == version]
    sales = pd.DataFrame(
        {
            "store_id": fc["store_id"],
            "product_id": fc["product_id"],
            "date": fc["date"],
            "quantity_sold": (fc["yhat"] * scale).round(0) + 1.0,
            "revenue": None,
            "n_transactions": None,
            "is_open": True,
            "is_offered": True,
            "status": "sold",
            "stockout": False,
            "promo": False,
            "source": "test",
        }
    )
    lh.append(lh.spark.createDataFrame(sales[DAILY_SALES.columns], DAILY_SALES.schema), *DAILY_SALES)


def _served(lh: Lakehouse) -> pd.DataFrame:
    fc = lh.read(*FORECASTS).toPandas()
    return fc[fc["as_of"] == AS_OF]


@pytest.mark.parametrize(("sold_as", "decision"), [("challenger", "promote"), ("champion", "end")])
def test_a_canary_serves_some_stores_then_is_promoted_or_ended(two_versions, sold_as, decision):
    """sold_as: the version whose forecasts the days bear out at the canary store."""
    lh, settings, v2 = two_versions
    run_forecast(lh, settings, as_of=AS_OF, lifecycle=CANARY)
    served = _served(lh)
    champion_rows = served[served["role"] == "champion"]
    stores = json.loads(registry.by_alias(settings, registry.CHALLENGER).tags["canary_stores"])
    assert len(stores) == 1 and len(champion_rows["store_id"].unique()) == 2
    by_store = champion_rows.groupby("store_id")["model_version"].unique().map(set).to_dict()
    assert all(by_store[s] == ({v2} if s in stores else {"1"}) for s in by_store), by_store
    shadow = (
        served[served["role"] == "shadow"].groupby("store_id")["model_version"].unique().map(set).to_dict()
    )
    assert all(shadow[s] == ({"1"} if s in stores else {v2}) for s in shadow), shadow

    # Both versions learnt from the same data; what sells decides. The days sell what was served, and the model
    # that should lose had forecast it badly at the canary store (an injected error).
    _sales_as_forecast_by(lh, "champion", None)
    worse_role, worse_version = ("shadow", "1") if sold_as == "challenger" else ("champion", v2)
    worse = served[(served["role"] == worse_role) & (served["model_version"] == worse_version)]
    write_forecasts(lh, worse.assign(yhat=worse["yhat"] * 2 + 5))
    alerts = watch_models(lh, settings, JUDGED_ON, lifecycle=CANARY)
    assert [a.kind for a in alerts] == [f"model.canary_{decision}"]
    champion = registry.by_alias(settings, registry.CHAMPION)
    if decision == "promote":
        assert champion.version == v2 and "canary beat v1" in champion.tags["promoted_because"]
    else:
        assert champion.version == "1" and registry.by_alias(settings, registry.CHALLENGER) is None
        ended = registry.versions(settings)
        evidence = json.loads(next(r for r in ended if r.version == v2).tags["canary_ended_because"])
        assert evidence["stores"] == stores and evidence["wmape_a"] > evidence["wmape_b"]


def test_a_new_champion_whose_accuracy_drops_is_rolled_back(two_versions):
    lh, settings, v2 = two_versions
    registry.set_champion(settings, v2, "promoted by hand for the test")
    rollback = {"rollback": {"automatic": True, "min_days": 7, "min_points": 20}}
    run_forecast(lh, settings, as_of=AS_OF, lifecycle=rollback)
    served = _served(lh)
    assert set(served.loc[served["role"] == "previous", "model_version"]) == {"1"}
    # The injected drop: the served forecasts are three times what sells, which the former champion foresaw.
    _sales_as_forecast_by(lh, "previous", "1")
    champ = served[served["role"] == "champion"].assign(yhat=lambda d: d["yhat"] * 3 + 10)
    write_forecasts(lh, champ)
    alerts = watch_models(lh, settings, JUDGED_ON, lifecycle=rollback)
    assert [(a.kind, a.severity.name) for a in alerts] == [("model.rollback", "WARNING")]
    assert registry.by_alias(settings, registry.CHAMPION).version == "1"
    rolled = next(r for r in registry.versions(settings) if r.version == v2)
    evidence = json.loads(rolled.tags["rolled_back_because"])
    assert evidence["wmape_a"] > evidence["expected_wmape"] * 1.3 > evidence["wmape_b"]
    # Nothing more to watch: the next night forecasts without a `previous`.
    assert registry.watched_previous(settings, registry.by_alias(settings, registry.CHAMPION), 28) is None


def test_a_champion_that_keeps_its_promise_stays(two_versions):
    lh, settings, v2 = two_versions
    registry.set_champion(settings, v2, "promoted by hand for the test")
    rollback = {"rollback": {"automatic": True, "min_days": 7, "min_points": 20}}
    run_forecast(lh, settings, as_of=AS_OF, lifecycle=rollback)
    _sales_as_forecast_by(lh, "champion", v2)
    assert watch_models(lh, settings, JUDGED_ON, lifecycle=rollback) == []
    assert registry.by_alias(settings, registry.CHAMPION).version == v2
