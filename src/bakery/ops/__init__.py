"""Operational records: run log, status, retention."""
