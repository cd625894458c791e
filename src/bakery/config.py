"""Configuration: YAML in conf/ with environment overlays, and the per-source column specs."""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

CONF_DIR_ENV = "BAKERY_CONF_DIR"
EXTRA_ENV = "BAKERY_EXTRA_ENV"
CONF_DIR_HINT = f"set the conf/ directory with --conf-dir (jobs) or the variable {CONF_DIR_ENV}"


class ConfError(ValueError):
    """A conf directory or file that is missing, named with the path looked for and how to set it."""


SPARK_TYPES = {"string", "date", "timestamp", "double", "long", "boolean"}


@dataclass(frozen=True)
class ColumnSpec:
    """One template column: type, whether required, and the allowed range or values."""

    name: str
    type: str
    required: bool
    min: float | None = None
    max: float | None = None
    values: tuple[str, ...] | None = None
    pattern: str | None = None


@dataclass(frozen=True)
class SourceSpec:
    """One source: its import kind, table name, natural keys and columns."""

    kind: str
    table: str
    keys: tuple[str, ...]
    columns: tuple[ColumnSpec, ...]
    event_time: str | None = None
    freshness_days: int | None = None
    max_future_days: int = 0

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    def column(self, name: str) -> ColumnSpec:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"source {self.kind!r} has no column {name!r}")


def dotted_get(raw: dict[str, Any], dotted: str, default: Any = None) -> Any:
    """raw["a"]["b"] for "a.b", or default where a part is missing."""
    node: Any = raw
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return default
        node = node[part]
    return node


@dataclass(frozen=True)
class Settings:
    """Resolved settings for one run: the merged YAML plus the home directory."""

    home: Path
    raw: dict[str, Any]
    sources: dict[str, SourceSpec] = field(default_factory=dict)
    conf_dir: Path = field(default_factory=lambda: resolve_conf_dir())

    def get(self, dotted: str, default: Any = None) -> Any:
        return dotted_get(self.raw, dotted, default)

    def source(self, kind: str) -> SourceSpec:
        try:
            return self.sources[kind]
        except KeyError:
            raise ValueError(
                f"unknown source kind {kind!r}; expected one of {sorted(self.sources)}"
            ) from None

    # Paths under --home: everything a run writes lives here, so two homes never interfere.
    @property
    def landing_dir(self) -> Path:
        return self.home / "landing"

    @property
    def tables_dir(self) -> Path:
        return self.home / "tables"

    @property
    def mlflow_dir(self) -> Path:
        return self.home / "mlflow"

    @property
    def logs_dir(self) -> Path:
        return self.home / "logs"

    @property
    def reports_dir(self) -> Path:
        return self.home / "reports"


def deep_merge(base: dict[str, Any], overlay: dict[str, Any]) -> dict[str, Any]:
    """A copy of base with overlay's keys replaced, nested mappings merged key by key."""
    out = copy.deepcopy(base)
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def required(settings: Settings, dotted: str) -> Any:
    """A conf value the code has no default for; a conf dir without it is refused naming the key and the dir."""
    value = settings.get(dotted)
    if value is None:
        raise ValueError(
            f"conf {dotted} is missing from {settings.conf_dir} (base.yml or its overlay); "
            "copy it from the repository's conf/base.yml"
        )
    return value


def source_checkout() -> Path | None:
    """The source checkout this package runs from (editable install), or None when installed from a wheel."""
    root = Path(__file__).resolve().parents[2]
    return root if (root / "pyproject.toml").is_file() and (root / "src" / "bakery").is_dir() else None


def resolve_conf_dir(conf_dir: str | Path | None = None) -> Path:
    """The conf/ directory: conf_dir (--conf-dir), else $BAKERY_CONF_DIR, else ./conf in the working
    directory when it exists, else the conf/ of the source checkout (editable installs only). An installed
    wheel has no conf/ of its own: it is refused naming the flag and the variable."""
    chosen = conf_dir or os.environ.get(CONF_DIR_ENV)
    if chosen:
        return Path(chosen)
    if Path("conf").is_dir():
        return Path("conf").resolve()
    checkout = source_checkout()
    if checkout is not None:
        return checkout / "conf"
    raise ConfError(f"no conf directory: looked for {Path('conf').resolve()}; {CONF_DIR_HINT}")


def conf_file(conf_dir: str | Path | None, name: str) -> Path:
    """The path of one conf file; a missing one is refused naming the path looked for and how to set it."""
    path = resolve_conf_dir(conf_dir) / name
    if not path.is_file():
        raise ConfError(f"conf file {path} not found; {CONF_DIR_HINT}")
    return path


def read_yaml(path: Path) -> dict[str, Any]:
    """A YAML file whose top level is a mapping (empty file -> {})."""
    with path.open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping at the top level")
    return data


def parse_sources(raw: dict[str, Any]) -> dict[str, SourceSpec]:
    """Turn conf/sources.yml into SourceSpec objects, checking types as we go."""
    specs: dict[str, SourceSpec] = {}
    for kind, body in raw.get("sources", {}).items():
        cols = []
        for name, col in body["columns"].items():
            if col["type"] not in SPARK_TYPES:
                raise ValueError(f"sources.yml: {kind}.{name} has unknown type {col['type']!r}")
            cols.append(
                ColumnSpec(
                    name=name,
                    type=col["type"],
                    required=bool(col.get("required", False)),
                    min=col.get("min"),
                    max=col.get("max"),
                    values=tuple(col["values"]) if col.get("values") else None,
                    pattern=col.get("pattern"),
                )
            )
        specs[kind] = SourceSpec(
            kind=kind,
            table=body["table"],
            keys=tuple(body["keys"]),
            columns=tuple(cols),
            event_time=body.get("event_time"),
            freshness_days=body.get("freshness_days"),
            max_future_days=int(body.get("max_future_days", 0)),
        )
    return specs


def vacuum_hours(raw: dict[str, Any]) -> float:
    """retention.vacuum_hours, checked against retention.time_travel_hours (the time-travel window the
    disaster-recovery runbook promises): a VACUUM with a shorter horizon would delete files of versions a
    RESTORE must still reach, so such a configuration is refused."""
    window = dotted_get(raw, "retention.time_travel_hours", 168)
    hours = dotted_get(raw, "retention.vacuum_hours", 168)
    for key, value in (("retention.time_travel_hours", window), ("retention.vacuum_hours", hours)):
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise ValueError(f"conf {key} must be a number of hours >= 0, got {value!r}")
    if hours < window:
        raise ValueError(
            f"conf retention.vacuum_hours is {hours:g}: the minimum is {window:g}, the "
            "time-travel window retention.time_travel_hours (docs/runbooks/disaster_recovery.md)"
        )
    return float(hours)


def default_home() -> Path:
    return Path(os.environ.get("BAKERY_HOME", "lakehouse"))


def load_settings(
    home: str | Path | None = None,
    env: str | None = None,
    conf_dir: Path | None = None,
    overrides: dict[str, Any] | None = None,
) -> Settings:
    """Load conf/base.yml, then conf/<env>.yml (env from BAKERY_ENV), then the overlays named in
    BAKERY_EXTRA_ENV (comma-separated; CI's local stand-in for the platform is `local_catalog`), then
    explicit overrides."""
    conf = resolve_conf_dir(conf_dir)
    raw = read_yaml(conf_file(conf, "base.yml"))
    env = env or os.environ.get("BAKERY_ENV")
    extra = [e.strip() for e in os.environ.get(EXTRA_ENV, "").split(",") if e.strip()]
    for name, source in [(env, "--env or BAKERY_ENV"), *((e, EXTRA_ENV) for e in extra)]:
        if not name:
            continue
        overlay = conf / f"{name}.yml"
        if not overlay.is_file():
            raise ConfError(
                f"conf overlay {overlay} not found for environment {name!r} ({source}); "
                f"name a conf/<env>.yml that exists, or {CONF_DIR_HINT}"
            )
        raw = deep_merge(raw, read_yaml(overlay))
    if overrides:
        raw = deep_merge(raw, overrides)
    vacuum_hours(raw)  # refused here, before anything runs
    sources = parse_sources(read_yaml(conf_file(conf, "sources.yml")))
    home_path = Path(home) if home is not None else default_home()
    return Settings(home=home_path.resolve(), raw=raw, sources=sources, conf_dir=conf)
