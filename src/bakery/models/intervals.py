"""Prediction intervals from empirical residual quantiles (fast: no posterior sampling)."""

from __future__ import annotations

import numpy as np


def residual_bounds(
    yhat: np.ndarray, residuals: np.ndarray, width: float, relative: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Lower/upper bounds yhat + q(resid) at the (1-width)/2 and (1+width)/2 quantiles, clipped at 0.

    With relative=True residuals are y / yhat - 1 and scale with the forecast (multiplicative models).
    """
    yhat = np.asarray(yhat, dtype=float)
    res = np.asarray(residuals, dtype=float)
    res = res[np.isfinite(res)]
    if len(res) < 2:
        return np.clip(yhat, 0, None), np.clip(yhat, 0, None)
    lo_q, hi_q = np.quantile(res, [(1 - width) / 2, (1 + width) / 2])
    if relative:
        lower, upper = yhat * (1 + lo_q), yhat * (1 + hi_q)
    else:
        lower, upper = yhat + lo_q, yhat + hi_q
    return np.clip(np.minimum(lower, yhat), 0, None), np.clip(np.maximum(upper, yhat), 0, None)
