"""Forecasting jobs: Spark-parallel training, MLflow tracking and registry, batch forecasts and backtests."""
