"""Fixtures for the forecasting core: the model config and tiny synthetic gold.features series."""

from __future__ import annotations

import logging

import pytest

from bakery.models.config import ModelConfig, load_model_config

logging.getLogger("cmdstanpy").disabled = True
logging.getLogger("prophet").setLevel(logging.WARNING)


@pytest.fixture(scope="session")
def cfg() -> ModelConfig:
    return load_model_config()
