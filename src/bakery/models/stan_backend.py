"""Prophet's cmdstanpy backend with a faster hand-off of the fit data to CmdStan, and configurable
L-BFGS stopping tolerances.

cmdstanpy writes its input JSON with stanio, which walks every number in Python and streams it through
json's pure-Python encoder: for a three-year daily series with holidays and regressors that is about
40% of a Prophet fit. Here the same data (Prophet's own `prepare_data`) is encoded once with orjson
(about 10x faster than the standard library's C encoder, about 3% of a fit, with the same shortest round-trip floats)
into a temporary file, and CmdStan reads that file.

Prophet optimises with L-BFGS from 100 observations (Newton below). CmdStan's default relative-gradient
tolerance (1e7, in units of machine epsilon) keeps iterating long after the forecast has stopped
moving; `lbfgs` options (conf/models.yml prophet.optimizer) are passed to those L-BFGS runs only.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from typing import Any

import orjson
from prophet import Prophet
from prophet.models import CmdStanPyBackend

# CmdStan's L-BFGS convergence options (cmdstanpy CmdStanModel.optimize keyword arguments).
LBFGS_OPTIONS = ("tol_obj", "tol_rel_obj", "tol_grad", "tol_rel_grad", "tol_param", "history_size")
NEWTON_BELOW = 100  # Prophet's rule: Newton for fewer observations, L-BFGS otherwise


class FastJsonBackend(CmdStanPyBackend):
    """CmdStanPyBackend whose fit passes CmdStan a pre-written data file instead of a dict."""

    def __init__(self, lbfgs: Mapping[str, Any] | None = None) -> None:
        super().__init__()
        unknown = sorted(set(lbfgs or {}) - set(LBFGS_OPTIONS))
        if unknown:
            raise ValueError(
                f"prophet.optimizer: unknown L-BFGS option(s) {unknown}; expected some of {list(LBFGS_OPTIONS)}"
            )
        self.lbfgs = dict(lbfgs or {})

    def fit(self, stan_init: dict[str, Any], stan_data: dict[str, Any], **kwargs: Any) -> dict:
        _, data = self.prepare_data(stan_init, stan_data)
        options = self.lbfgs if data["T"] >= NEWTON_BELOW and "algorithm" not in kwargs else {}
        fd, path = tempfile.mkstemp(suffix=".json", prefix="prophet-data-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(orjson.dumps(data))
            try:
                return super().fit(stan_init, stan_data, **{**options, "data": path, **kwargs})
            except ValueError:
                if not options:
                    raise
                # L-BFGS failed and Prophet's Newton fallback refused the L-BFGS options: its own defaults.
                return super().fit(stan_init, stan_data, **{"data": path, **kwargs})
        finally:
            os.remove(path)


def with_fast_backend(model: Prophet, lbfgs: Mapping[str, Any] | None = None) -> Prophet:
    """The same Prophet, fitting through FastJsonBackend (sampling and predict are untouched)."""
    model.stan_backend = FastJsonBackend(lbfgs)
    return model
