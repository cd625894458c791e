"""Forecasting core: pure pandas in, pandas out, so it runs unchanged under applyInPandas."""
