"""The job entry points in jobs/ run locally exactly as their Databricks tasks do (the ETL they call is run on
the small demo by the session's built_small fixture and tested in tests/test_etl_e2e.py)."""

from __future__ import annotations

import pytest

from tests.test_notebooks import load_job


def _runs(spark, home, job: str) -> list:
    from bakery.config import load_settings
    from bakery.lakehouse import Lakehouse

    lh = Lakehouse(spark, load_settings(home=home))
    return lh.read("ops", "runs").filter(f"job = '{job}'").collect()


def test_bad_parameters_name_the_parameter(capsys, tmp_path):
    with pytest.raises(SystemExit) as exc:
        load_job("retention").main(["--home", str(tmp_path), "--as-of", "2026-13-01"])
    assert exc.value.code == 2 and "--as-of" in capsys.readouterr().err


def test_ingest_job_lands_new_files_in_bronze_once(spark, tmp_path):
    home = tmp_path / "home"
    (home / "landing" / "stores").mkdir(parents=True)
    (home / "landing" / "stores" / "stores.csv").write_text(
        "store_id,name,city,country,timezone\nS01,Centro,Madrid,ES,Europe/Madrid\n", encoding="utf-8")
    ingest = load_job("ingest")
    assert ingest.main(["--home", str(home)]) == 0
    assert ingest.main(["--home", str(home)]) == 0  # nothing new: no new rows

    from bakery.config import load_settings
    from bakery.lakehouse import Lakehouse

    lh = Lakehouse(spark, load_settings(home=home))
    assert lh.read("bronze", "stores").count() == 1
    assert [r["status"] for r in _runs(spark, home, "ingest_landing")] == ["success", "success"]


def test_etl_job_takes_the_landing_zone_through_silver_and_records_its_run(spark, tmp_path):
    home = tmp_path / "home"
    (home / "landing" / "stores").mkdir(parents=True)
    (home / "landing" / "stores" / "stores.csv").write_text(
        "store_id,name,city,country,timezone\nS01,Centro,Madrid,ES,Europe/Madrid\n", encoding="utf-8")
    assert load_job("etl").main(["--home", str(home), "--as-of", "2026-05-01"]) == 0

    from bakery.config import load_settings
    from bakery.lakehouse import Lakehouse

    lh = Lakehouse(spark, load_settings(home=home))
    assert [r.store_id for r in lh.read("silver", "stores").collect()] == ["S01"]
    (run,) = _runs(spark, home, "ingest")
    assert run["status"] == "success"


def test_retention_job_records_its_run(spark, tmp_path):
    home = tmp_path / "home"
    assert load_job("retention").main(["--home", str(home), "--as-of", "2026-11-25"]) == 0
    (run,) = _runs(spark, home, "retention")
    assert run["status"] == "success" and run["message"].startswith("deleted 0 rows")


def test_retention_job_refuses_a_future_date(tmp_path):
    with pytest.raises(AssertionError, match="in the future"):
        load_job("retention").main(["--home", str(tmp_path / "home"), "--as-of", "2999-01-01"])


def test_a_job_refuses_to_write_a_home_another_process_is_writing(spark, tmp_path, capsys):
    from tests.ops.helpers import lock_held_by_another_process

    home = tmp_path / "home"
    with lock_held_by_another_process(home, tmp_path) as holder:
        assert load_job("retention").main(["--home", str(home), "--as-of", "2026-11-25"]) == 1
    err = capsys.readouterr().err
    assert f"another command is writing the home {home}: pid {holder.pid}" in err and "bakery test-holder" in err
    assert not (home / "tables").exists()  # no retention run was recorded


def test_every_bundle_job_runs_alone():
    """On Databricks the home is a volume without file locks: one run at a time per job is the guard there."""
    import yaml

    from bakery.config import REPO_ROOT

    jobs = {}
    for path in sorted((REPO_ROOT / "jobs" / "resources").glob("*.yml")):
        jobs.update(yaml.safe_load(path.read_text(encoding="utf-8"))["resources"]["jobs"])
    assert jobs and {name: job.get("max_concurrent_runs") for name, job in jobs.items()} == dict.fromkeys(jobs, 1)
