"""The driver JVM's options: a profile's java_options extend the ones the session always needs."""

from __future__ import annotations

from bakery.config import load_settings
from bakery.spark import _java_options


def test_java_options_from_the_conf_extend_derby_and_log4j(tmp_path):
    settings = load_settings(
        home=tmp_path, overrides={"spark": {"java_options": ["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"]}}
    )
    options = _java_options(settings, tmp_path / "_spark")
    assert options[0] == f'"-Dderby.system.home={tmp_path / "_spark"}"'
    assert any("log4j2.configurationFile" in o for o in options)
    assert options[-2:] == ["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"]


def test_the_local_catalog_profile_sets_small_data_options(tmp_path, monkeypatch):
    monkeypatch.setenv("BAKERY_EXTRA_ENV", "local_catalog")
    settings = load_settings(home=tmp_path, env="databricks")
    assert "-XX:TieredStopAtLevel=1" in _java_options(settings, tmp_path)
    assert settings.get("spark.conf")["spark.sql.catalogImplementation"] == "hive"
    assert settings.get("spark.conf")["spark.ui.enabled"] == "false"  # base.yml's keys stay
    monkeypatch.delenv("BAKERY_EXTRA_ENV")
    assert "-XX:TieredStopAtLevel=1" not in _java_options(
        load_settings(home=tmp_path), tmp_path
    )  # local mode


def test_a_local_session_lists_storage_for_vacuum_in_a_few_tasks(spark):
    """A full VACUUM lists the table's storage in spark.sql.sources.parallelPartitionDiscovery.parallelism tasks:
    Spark's default of 10,000 made one VACUUM of a two-file table take 20-30 s in local mode."""
    from tests.conftest import TEST_SPARK

    assert TEST_SPARK["conf"].get("spark.sql.sources.parallelPartitionDiscovery.parallelism") is None
    assert int(spark.conf.get("spark.sql.sources.parallelPartitionDiscovery.parallelism")) <= 16
