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
        "store_id,name,city,country,timezone\nS01,Centro,Madrid,ES,Europe/Madrid\n", encoding="utf-8"
    )
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
        "store_id,name,city,country,timezone\nS01,Centro,Madrid,ES,Europe/Madrid\n", encoding="utf-8"
    )
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


def test_retention_job_refuses_a_future_date(capsys, tmp_path):
    with pytest.raises(SystemExit) as exc:
        load_job("retention").main(["--home", str(tmp_path / "home"), "--as-of", "2999-01-01"])
    assert exc.value.code == 2 and "--as-of 2999-01-01 is in the future" in capsys.readouterr().err
    assert not (tmp_path / "home").exists()  # refused before anything was created


def test_a_job_refuses_to_write_a_home_another_process_is_writing(spark, tmp_path, capsys):
    from tests.ops.helpers import lock_held_by_another_process

    home = tmp_path / "home"
    with lock_held_by_another_process(home, tmp_path) as holder:
        assert load_job("retention").main(["--home", str(home), "--as-of", "2026-11-25"]) == 1
    err = capsys.readouterr().err
    assert (
        f"another command is writing the home {home}: pid {holder.pid}" in err and "bakery test-holder" in err
    )
    assert not (home / "tables").exists()  # no retention run was recorded


def test_every_bundle_job_runs_alone():
    """On Databricks the home is a volume without file locks: one run at a time per job is the guard there."""
    import yaml

    from tests import REPO_ROOT

    jobs = {}
    for path in sorted((REPO_ROOT / "jobs" / "resources").glob("*.yml")):
        jobs.update(yaml.safe_load(path.read_text(encoding="utf-8"))["resources"].get("jobs") or {})
    assert jobs and {name: job.get("max_concurrent_runs") for name, job in jobs.items()} == dict.fromkeys(
        jobs, 1
    )


def test_a_missing_conf_dir_or_overlay_is_named_with_the_flag_that_sets_it(tmp_path):
    missing = tmp_path / "no_conf"
    with pytest.raises(SystemExit) as exc:
        load_job("retention").main(["--home", str(tmp_path / "home"), "--conf-dir", str(missing)])
    assert str(missing / "base.yml") in str(exc.value.code)
    assert "--conf-dir" in str(exc.value.code) and "BAKERY_CONF_DIR" in str(exc.value.code)

    with pytest.raises(SystemExit) as exc:
        load_job("retention").main(["--home", str(tmp_path / "home"), "--env", "databrick"])
    assert "databrick.yml" in str(exc.value.code) and "--env" in str(exc.value.code)
    assert not (tmp_path / "home").exists()


def test_a_missing_models_yml_is_named_with_the_path_looked_for(tmp_path):
    from bakery.config import ConfError
    from bakery.models.config import load_model_config

    with pytest.raises(ConfError, match=r"no_conf/models\.yml not found.*--conf-dir.*BAKERY_CONF_DIR"):
        load_model_config(tmp_path / "no_conf")


def _catalog_conf(tmp_path, create_schemas: list[str]):
    """A conf dir whose `catalog` overlay is catalog mode on local Spark, creating only create_schemas."""
    import shutil

    import yaml

    from tests import REPO_ROOT

    conf = tmp_path / "conf"
    shutil.copytree(REPO_ROOT / "conf", conf)
    (conf / "catalog.yml").write_text(
        yaml.safe_dump(
            {"storage": {"mode": "databricks", "local_catalog": True, "create_schemas": create_schemas}}
        ),
        encoding="utf-8",
    )
    return conf


def test_a_job_with_a_wrong_catalog_stops_before_writing_and_names_it(spark, tmp_path):
    conf = _catalog_conf(tmp_path, ["bronze", "silver", "gold", "ops"])
    home = tmp_path / "home"
    with pytest.raises(SystemExit) as exc:
        load_job("retention").main(
            [
                "--home",
                str(home),
                "--env",
                "catalog",
                "--conf-dir",
                str(conf),
                "--catalog",
                "bakery_stagng",
                "--as-of",
                "2026-11-25",
            ]
        )
    assert "catalog 'bakery_stagng' not found" in str(exc.value.code) and "--catalog" in str(exc.value.code)
    assert not (home / "tables").exists()


def test_a_job_with_a_wrong_schema_prefix_stops_before_writing_and_names_the_schemas(spark, tmp_path):
    conf = _catalog_conf(tmp_path, ["bronze", "silver", "gold"])  # ops is created once by an administrator
    with pytest.raises(SystemExit) as exc:
        load_job("retention").main(
            [
                "--home",
                str(tmp_path / "home"),
                "--env",
                "catalog",
                "--conf-dir",
                str(conf),
                "--catalog",
                "spark_catalog",
                "--schema-prefix",
                "typo_",
                "--as-of",
                "2026-11-25",
            ]
        )
    assert "schema spark_catalog.typo_ops not found" in str(exc.value.code)
    assert "--schema-prefix" in str(exc.value.code)
    assert not spark.catalog.databaseExists("spark_catalog.typo_bronze")  # nothing created either
