"""The `bakery` console script: contract exit codes and argument errors that name the parameter."""

from __future__ import annotations

import pytest

from bakery.cli import EXIT_USAGE, main


def test_unknown_command_is_usage_error(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["frobnicate"])
    assert exc.value.code == EXIT_USAGE


def test_bad_date_names_the_parameter(capsys, tmp_path):
    with pytest.raises(SystemExit) as exc:
        main(["--home", str(tmp_path), "generate", "--out", str(tmp_path / "x"), "--start", "2026-13-01"])
    assert exc.value.code == EXIT_USAGE
    assert "--start" in capsys.readouterr().err


def test_start_after_end_is_usage_error(capsys, tmp_path):
    code = main(["--home", str(tmp_path), "generate", "--out", str(tmp_path / "x"),
                 "--start", "2026-02-01", "--end", "2026-01-01"])
    assert code == EXIT_USAGE
    assert "--start" in capsys.readouterr().err


def test_import_unknown_kind_lists_the_kinds(capsys, tmp_path):
    f = tmp_path / "x.csv"
    f.write_text("a\n1\n")
    code = main(["--home", str(tmp_path), "import", "croissants", str(f)])
    assert code == EXIT_USAGE
    err = capsys.readouterr().err
    assert "croissants" in err and "pos" in err


def test_import_missing_file_and_bad_mapping(capsys, tmp_path):
    assert main(["--home", str(tmp_path), "import", "sales", str(tmp_path / "nope.csv")]) == EXIT_USAGE
    f = tmp_path / "s.csv"
    f.write_text("date\n")
    m = tmp_path / "m.json"
    m.write_text("[1, 2]")
    assert main(["--home", str(tmp_path), "import", "sales", str(f), "--mapping", str(m)]) == EXIT_USAGE
    assert "--mapping" in capsys.readouterr().err


def test_homes_are_resolved_from_env(monkeypatch, tmp_path):
    from bakery.config import load_settings

    monkeypatch.setenv("BAKERY_HOME", str(tmp_path / "h"))
    assert load_settings().home == (tmp_path / "h").resolve()
