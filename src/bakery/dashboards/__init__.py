"""AI/BI (Lakeview) dashboards kept as `dashboards/*.lvdash.json`: the files the bundle deploys to Databricks SQL,
read here to validate them and to draw them locally (each dataset's SQL run by DuckDB over the Delta tables)."""
