"""False alarms and detection of the nightly monitoring rules, replayed night by night over the demo chain.

The demo chain (conf/base.yml `demo`: 6 stores, 30 products, 3 years to 2026-11-24, seed 42) is simulated
in memory by the generator's own functions (bakery.monitoring.replay.simulate_chain), and each night the
same rule functions as the nightly step (live accuracy's breach rule, data drift, their alert builders,
with conf/monitoring.yml's settings) judge the data as it stood that night.

Forecaster (served nightly for D+1, D+7 and D+28, the horizons the backtest promises a figure for): a stand-in
for the champion, the unshifted chain's mean demand times a 10% log-normal error (the generator's own planner
error). Like a trained model it knows seasons, holidays, weather and promotions and nothing of a change after
its training; its promise is its own pooled wMAPE on the 35 days before each weekly retraining, as training
measures the champion. Prophet would make 300 nights take hours. The rules judge live accuracy relative to
that promise, so what matters is that the stand-in's errors are stationary without a shift, as a trained
model's are. `--forecaster naive` serves seasonal naive instead: it is harsher (it does not know the months,
so it really is worse than its 35-day promise when the season turns).

Scenarios: `none` replays the last --weeks weeks without a shift (target: no CRITICAL, at most 2 WARNINGs
about drift or accuracy); each shift of the test set is replayed from two weeks before its first day to
three weeks after (target: an alert naming its store within 7 nights; night 1 is the evening of the first
shifted day).

Usage: .venv/bin/python bench/monitoring_replay.py [--seed 42] [--weeks 26] [--out bench/out/monitoring_replay.json]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _measure import median  # noqa: E402

log = logging.getLogger("bench.monitoring_replay")

DETECT_NIGHTS = 7
MAX_FALSE_WARNINGS = 2


def test_set(end: date) -> dict[str, object]:
    """The injected shifts, fixed before the first replay (magnitudes are the events, not the rules' bars):
    a weekly market moving from Monday-Tuesday to Saturday, a 10-day heat wave 8 °C above the usual, and a
    broken forecast running 40% high for one store."""
    from bakery.monitoring.replay import ForecastBias, HeatWave, WeekdayChange

    monday = end - timedelta(days=end.weekday() + 10 * 7)  # a Monday ten weeks before the end
    return {
        "weekday_change": WeekdayChange("S002", monday, (0.5, 0.5, 1.0, 1.0, 1.0, 1.5, 1.0)),
        "heat_wave": HeatWave("S001", end - timedelta(days=18 * 7), days=10, degrees=8.0),
        "forecast_bias": ForecastBias("S004", end - timedelta(days=6 * 7 + 3), factor=1.4),
    }


def _summary(name: str, rep, shift, nights: list[date]) -> dict[str, object]:
    from bakery.monitoring.alerts import Severity

    out: dict[str, object] = {
        "nights": len(nights),
        "first_night": nights[0].isoformat(),
        "last_night": nights[-1].isoformat(),
        "by_severity": rep.severities(),
        "by_kind": rep.counts(),
        "monitoring_seconds_median": round(median([n.seconds for n in rep.nights]), 3),
        "alerts": [
            {"night": n.isoformat(), "severity": a.severity.name, "kind": a.kind, "stores": list(a.stores)}
            for n, a in rep.alerts()
        ],
    }
    watched = [
        a
        for _, a in rep.alerts()
        if a.kind.startswith(("accuracy.", "drift.")) and a.severity == Severity.WARNING
    ]
    if shift is None:
        critical = rep.severities()["CRITICAL"]
        out.update(
            warnings=len(watched),
            target=f"no CRITICAL, <= {MAX_FALSE_WARNINGS} WARNINGs about drift or accuracy",
            result="PASS" if critical == 0 and len(watched) <= MAX_FALSE_WARNINGS else "MISS",
        )
        return out
    first = rep.first_alert(shift.store, shift.first_day, shift.detected_by)
    after = (first - shift.first_day).days + 1 if first else None
    before = [
        (n, a.kind, a.stores) for n, a in rep.alerts() if n < shift.first_day or shift.store not in a.stores
    ]
    out.update(
        shift={"kind": type(shift).__name__, "store": shift.store, "first_day": shift.first_day.isoformat()},
        first_alert_night=first.isoformat() if first else None,
        nights_to_alert=after,
        other_alerts=len(before),
        target=f"an alert naming {shift.store} within {DETECT_NIGHTS} nights",
        result="PASS" if after is not None and after <= DETECT_NIGHTS else "MISS",
    )
    return out


def run_scenario(name, shift, args, cfg, rules, end: date) -> dict[str, object]:
    from bakery.monitoring.replay import replay, serve_forecasts, simulate_chain

    start = end - timedelta(days=365 * args.years - 1)
    if shift is None:
        nights = [end - timedelta(days=k) for k in range(7 * args.weeks - 1, -1, -1)]
    else:
        first = shift.first_day - timedelta(days=14)
        nights = [first + timedelta(days=k) for k in range(14 + 21)]
    t0 = time.perf_counter()
    shifts = [] if shift is None else [shift]
    chain = simulate_chain(cfg, args.stores, args.products, start, end, args.seed, shifts)
    forecasts = serve_forecasts(
        chain.sales,
        nights[0] - timedelta(days=70),
        nights[-1],
        shifts,
        forecaster=args.forecaster,
        seed=args.seed,
    )
    rep = replay(chain, forecasts, nights, *rules)
    out = _summary(name, rep, shift, nights)
    out["wall_seconds"] = round(time.perf_counter() - t0, 1)
    return out


def _print(name: str, r: dict) -> None:
    log.info("%s: %d nights %s..%s", name, r["nights"], r["first_night"], r["last_night"])
    log.info("  by severity: %s", r["by_severity"])
    for kind, n in r["by_kind"].items():
        log.info("    %-45s %d", kind, n)
    if "shift" in r:
        log.info(
            "  %s at %s from %s: first alert %s (night %s); other alerts %d",
            r["shift"]["kind"],
            r["shift"]["store"],
            r["shift"]["first_day"],
            r["first_alert_night"],
            r["nights_to_alert"],
            r["other_alerts"],
        )
    log.info(
        "  target: %s -> %s; monitoring per night: median %.2f s; wall %.0f s",
        r["target"],
        r["result"],
        r["monitoring_seconds_median"],
        r["wall_seconds"],
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seed", type=int, default=None, help="generator seed (default: conf demo.seed)")
    parser.add_argument("--weeks", type=int, default=26, help="weeks replayed without a shift")
    parser.add_argument("--only", choices=["none", "weekday_change", "heat_wave", "forecast_bias"], nargs="*")
    parser.add_argument("--forecaster", choices=["model", "naive"], default="model", help="served forecasts")
    parser.add_argument("--out", type=Path, default=Path("bench/out/monitoring_replay.json"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    from bakery.config import load_settings
    from bakery.generate.params import load_config
    from bakery.monitoring.config import load_monitoring
    from bakery.monitoring.drift import DriftRule
    from bakery.monitoring.live_accuracy import AccuracyRule

    settings = load_settings()
    end = date.fromisoformat(str(settings.get("demo.end")))
    args.seed = int(settings.get("demo.seed", 42)) if args.seed is None else args.seed
    args.stores, args.products = int(settings.get("demo.stores", 6)), int(settings.get("demo.products", 30))
    args.years = int(settings.get("demo.years", 3))
    raw = load_monitoring(settings.conf_dir).raw
    rules = (AccuracyRule.from_conf(raw), DriftRule.from_conf(raw))
    cfg = load_config()
    scenarios = {"none": None, **test_set(end)}
    results: dict[str, object] = {
        "date": date.today().isoformat(),
        "command": " ".join(["bench/monitoring_replay.py", *sys.argv[1:]]),
        "chain": {
            "stores": args.stores,
            "products": args.products,
            "end": end.isoformat(),
            "seed": args.seed,
        },
        "forecaster": args.forecaster,
        "rules": {"accuracy": rules[0].__dict__, "drift": rules[1].__dict__},
        "scenarios": {},
    }
    for name, shift in scenarios.items():
        if args.only and name not in args.only:
            continue
        results["scenarios"][name] = r = run_scenario(name, shift, args, cfg, rules, end)
        _print(name, r)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, default=str))
    log.info("wrote %s", args.out)


if __name__ == "__main__":
    main()
