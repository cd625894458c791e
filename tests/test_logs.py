"""Log lines as JSON with the run they belong to: the same id as the run's ops.runs row."""

from __future__ import annotations

import json
import logging

import pytest

from bakery.logs import run_context, run_tag, setup_logging
from bakery.ops.runs import track_run


def _lines(log_dir) -> list[dict]:
    for handler in logging.getLogger().handlers:
        handler.flush()
    return [json.loads(line) for line in (log_dir / "bakery.log").read_text(encoding="utf-8").splitlines()]


def test_json_lines_carry_the_outer_run_id_and_the_inner_step(tmp_path):
    setup_logging(log_dir=tmp_path, fmt="json")
    log = logging.getLogger("bakery.test")
    log.info("before any run")
    with run_context("job-1", "pipeline"), run_context("step-2", "ingest"):
        log.warning("a user value\n2026-01-01 INFO bakery.app.audit: forged")
        assert run_tag() == {"bakery.run_id": "job-1"}
    log.info("after")
    first, inner, after = _lines(tmp_path)
    assert (first["run_id"], after["run_id"], run_tag()) == ("-", "-", {})
    assert inner["run_id"] == "job-1" and inner["step"] == "ingest" and inner["level"] == "WARNING"
    assert inner["message"] == "a user value\n2026-01-01 INFO bakery.app.audit: forged"  # one line, escaped


def test_the_environment_chooses_the_format_and_a_bad_one_is_named(tmp_path, monkeypatch):
    monkeypatch.setenv("BAKERY_LOG_FORMAT", "json")
    setup_logging(log_dir=tmp_path, fmt="text")
    logging.getLogger("bakery.test").info("hello")
    assert _lines(tmp_path)[-1]["message"] == "hello"
    monkeypatch.setenv("BAKERY_LOG_FORMAT", "xml")
    with pytest.raises(ValueError, match="BAKERY_LOG_FORMAT.*'xml'"):
        setup_logging(log_dir=tmp_path)


def test_a_runs_log_lines_and_its_ops_runs_row_share_the_id(lh, tmp_path):
    setup_logging(log_dir=tmp_path, fmt="json")
    with track_run(lh, "forecast") as run:
        logging.getLogger("bakery.test").info("inside")
    (row,) = lh.read("ops", "runs").collect()
    inside = next(line for line in _lines(tmp_path) if line["message"] == "inside")
    assert inside["run_id"] == row.run_id == run.run_id and inside["step"] == "forecast"
