"""Quality suites as config: every shipped suite builds, defaults come from sources.yml, mistakes are named."""

from __future__ import annotations

import pytest

from bakery.config import load_settings
from bakery.silver.quality import ExpectationSpec, QualityRunner, load_suite, resolve


def test_every_shipped_suite_builds_with_spec_defaults(settings):
    names = QualityRunner(settings).build_suites()
    assert len(names) == len(settings.sources)
    pos = settings.source("pos")
    between = ExpectationSpec("expect_column_values_to_be_between", "quantity_sold", {}, "CRITICAL")
    assert resolve(between, pos) == (
        "expect_column_values_to_be_between",
        {"min_value": 0, "max_value": 1000, "column": "quantity_sold"},
    )
    unique = ExpectationSpec("expect_compound_columns_to_be_unique", None, {}, "CRITICAL")
    assert resolve(unique, pos)[1]["column_list"] == ["transaction_id", "product_id"]
    assert resolve(unique, settings.source("stores")) == (
        "expect_column_values_to_be_unique",
        {"column": "store_id"},
    )
    assert load_suite(settings, pos).freshness_severity == "WARNING"


@pytest.mark.parametrize(
    "body,message",
    [
        (
            "expectations:\n  - {type: expect_column_values_to_not_be_null, column: qty, severity: CRITICAL}\n",
            "column 'qty' is not a silver column of pos",
        ),
        (
            "expectations:\n  - {type: expect_column_values_to_not_be_null, column: store_id, severity: urgent}\n",
            "severity 'urgent' must be one of",
        ),
        ("expectations:\n  - {column: store_id, severity: CRITICAL}\n", "needs a `type`"),
    ],
)
def test_suite_mistakes_name_the_file_and_the_problem(tmp_path, body, message):
    (tmp_path / "pos.yml").write_text(body)
    settings = load_settings(home=tmp_path / "home", overrides={"quality": {"suites_dir": str(tmp_path)}})
    with pytest.raises(ValueError, match=message) as err:
        load_suite(settings, settings.source("pos"))
    assert "pos.yml: expectation 1" in str(err.value)


def test_unknown_expectation_type_is_named(tmp_path):
    (tmp_path / "pos.yml").write_text(
        "expectations:\n  - {type: expect_bread_to_be_fresh, severity: WARNING}\n"
    )
    settings = load_settings(home=tmp_path / "home", overrides={"quality": {"suites_dir": str(tmp_path)}})
    with pytest.raises(ValueError, match="unknown Great Expectations expectation 'expect_bread_to_be_fresh'"):
        QualityRunner(settings).build_suites()
