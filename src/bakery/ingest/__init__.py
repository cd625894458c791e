"""Ingestion: landing files -> bronze (incremental), `bakery import` validation, templates, weather API client."""
