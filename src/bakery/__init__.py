"""Bakery sales-forecasting lakehouse: medallion ETL on Spark + Delta, forecasts, app."""

__version__ = "0.1.0"
