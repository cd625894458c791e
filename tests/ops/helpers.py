"""Helpers for the ops tests: tiny tables written through the Lakehouse, settings with retention overrides."""

from __future__ import annotations

from pathlib import Path

from bakery.config import Settings, load_settings


def write(lh, layer: str, name: str, rows: list[tuple], schema: str) -> None:
    lh.append(lh.spark.createDataFrame(rows, schema), layer, name)


def tiny_settings(home: Path, **retention) -> Settings:
    return load_settings(home=home, overrides={"retention": retention} if retention else None)
