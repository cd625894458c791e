"""The `bakery` console script: contract exit codes and argument errors that name the parameter."""

from __future__ import annotations

import argparse

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
    code = main(
        [
            "--home",
            str(tmp_path),
            "generate",
            "--out",
            str(tmp_path / "x"),
            "--start",
            "2026-02-01",
            "--end",
            "2026-01-01",
        ]
    )
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


# The commands that write the home, as docs/runbooks/operations.md lists them; the others never wait for it.
WRITERS = {
    "demo",
    "import",
    "ingest",
    "pipeline",
    "monitor",
    "retention",
    "train",
    "forecast",
    "backtest",
    "model promote",
    "model rollback",
}


def test_the_commands_that_write_the_home_are_the_ones_that_take_its_lock():
    from bakery.cli import WAIT_FLAG, build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    locked = set()
    for name, command in sub.choices.items():
        writes = command.get_default("writes_home")
        for action in ["list", "promote", "rollback"] if name == "model" else [None]:
            if writes is not None and writes(argparse.Namespace(action=action)):
                locked.add(f"{name} {action}" if action else name)
    assert locked == WRITERS
    args = parser.parse_args(["pipeline", "--wait"])
    assert args.wait is WAIT_FLAG  # `--wait` alone: conf lock.wait_flag_seconds


def test_a_negative_wait_names_the_parameter(capsys, tmp_path):
    with pytest.raises(SystemExit) as exc:
        main(["--home", str(tmp_path), "ingest", "--wait", "-5"])
    assert exc.value.code == EXIT_USAGE and "--wait" in capsys.readouterr().err


def test_model_settings_come_from_the_conf_dir_in_use(monkeypatch, capsys, tmp_path):
    """An installed wheel has no conf/ beside its code: models.yml is read from BAKERY_CONF_DIR (the jobs'
    --conf-dir), never from a folder computed from the package's location."""
    import shutil

    from tests import REPO_ROOT

    conf = tmp_path / "conf"
    shutil.copytree(REPO_ROOT / "conf", conf)
    models = conf / "models.yml"
    text = models.read_text(encoding="utf-8")
    models.write_text(text.replace("max_horizon: 28", "max_horizon: 30", 1), encoding="utf-8")
    assert "max_horizon: 30" in models.read_text(encoding="utf-8")
    monkeypatch.setenv("BAKERY_CONF_DIR", str(conf))
    code = main(
        [
            "--home",
            str(tmp_path / "h"),
            "backtest",
            "--start",
            "2026-01-01",
            "--end",
            "2026-02-01",
            "--horizons",
            "1,7,35",
            "--out",
            str(tmp_path / "r.json"),
        ]
    )
    assert code == EXIT_USAGE
    assert "at most 30 days" in capsys.readouterr().err
