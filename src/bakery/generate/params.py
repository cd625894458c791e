"""Generator configuration: conf/generator.yml, optional overrides, and named random streams."""

from __future__ import annotations

import copy
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from bakery.config import conf_file

REQUIRED_SECTIONS = (
    "cities",
    "products",
    "categories",
    "store_types",
    "holidays",
    "events",
    "demand",
    "prices",
    "promotions",
    "inventory",
    "weather",
    "traffic",
    "ingredients",
    "defects",
)


def default_config_path() -> Path:
    """generator.yml of the conf dir in use (BAKERY_CONF_DIR wins, as for the settings)."""
    return conf_file(None, "generator.yml")


def _merge(base: dict[str, Any], overlay: Mapping[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in overlay.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def load_config(path: Path | None = None, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Read the generator YAML and deep-merge `overrides` over it (tests tune defect rates this way)."""
    path = path or default_config_path()
    with path.open(encoding="utf-8") as fh:
        cfg = yaml.safe_load(fh) or {}
    if overrides:
        cfg = _merge(cfg, overrides)
    missing = [s for s in REQUIRED_SECTIONS if s not in cfg]
    if missing:
        raise ValueError(f"{path}: missing section(s) {missing}")
    return cfg


def stream(seed: int, name: str, *keys: int) -> np.random.Generator:
    """An independent random generator for one named part (and e.g. one store) of the data set.

    Each part draws from its own stream, so adding stores or products never changes the numbers
    drawn for the others, and the same seed always gives the same bytes.
    """
    return np.random.Generator(
        np.random.PCG64(np.random.SeedSequence([seed, zlib.crc32(name.encode()), *keys]))
    )
