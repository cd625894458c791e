"""docs/runbooks/deploy.md: every block marked `<!-- runnable -->` (or `<!-- runnable: exit N -->`) runs
here as a bash script (-euo pipefail), in a copy of the repository with a fresh home, and exits as the
runbook says. Unmarked shell blocks hold only what needs a workspace or a Git remote (`databricks`, `git`)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests import REPO_ROOT

RUNBOOK = REPO_ROOT / "docs" / "runbooks" / "deploy.md"
_BLOCK = re.compile(r"(?:<!-- runnable(?::\s*exit\s+(\d+))?\s*-->\n)?( *)```(\w*)\n(.*?)\n\2```", re.DOTALL)
# Left out of the copy: the environment and what runs write (the copy links .venv and .jars instead).
_NOT_COPIED = shutil.ignore_patterns(
    ".git",
    ".venv",
    ".jars",
    "lakehouse",
    "mlruns",
    "dist",
    "build",
    "*.egg-info",
    "__pycache__",
    ".pytest_cache",
    ".ruff_cache",
    ".hypothesis",
    "spark-warehouse",
)


@dataclass(frozen=True)
class Block:
    """A fenced block of the runbook: its language, text, and the exit code a runnable one must give."""

    lang: str
    text: str
    exit_code: int | None

    @property
    def runnable(self) -> bool:
        return self.exit_code is not None


def _blocks() -> list[Block]:
    out = []
    for m in _BLOCK.finditer(RUNBOOK.read_text(encoding="utf-8")):
        marked = m.group(0).startswith("<!-- runnable")
        text = "\n".join(line[len(m.group(2)) :] for line in m.group(4).splitlines())
        out.append(Block(m.group(3), text, (int(m.group(1) or 0)) if marked else None))
    return out


def _runnable() -> list[Block]:
    return [b for b in _blocks() if b.runnable]


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the repository as a user has it after `make install` (the environment linked, not copied)."""
    root = tmp_path_factory.mktemp("runbook") / "repo"
    shutil.copytree(REPO_ROOT, root, ignore=_NOT_COPIED, symlinks=True)
    for linked in (".venv", ".jars"):
        if (REPO_ROOT / linked).exists():
            (root / linked).symlink_to(REPO_ROOT / linked)
    stamp = REPO_ROOT / ".venv" / ".installed"
    if stamp.exists():  # the linked environment is the installed one: make must not rebuild it in the copy
        older = stamp.stat().st_mtime - 1
        for name in ("requirements.txt", "constraints.txt", "pyproject.toml"):
            os.utime(root / name, (older, older))
    return root


def test_the_runbook_marks_the_commands_that_can_run_here():
    blocks = _blocks()
    runnable = [line for b in _runnable() for line in b.text.splitlines()]
    wheel = "python -m pip wheel --no-deps --wheel-dir dist ."
    assert {"make lint", wheel, "bakery app-db status"} <= set(runnable)
    for block in blocks:
        if block.runnable or block.lang != "bash":
            continue
        for line in block.text.splitlines():  # what is left needs a workspace, a Git remote, or a placeholder
            assert line.split()[0] in {"databricks", "git", "export"}, f"unmarked, yet runs here: {line}"


@pytest.mark.slow  # each block runs in a subprocess: `make test` runs these, not test-fast
@pytest.mark.parametrize("block", _runnable(), ids=lambda b: b.text.splitlines()[0][:60])
def test_runnable_block(block: Block, checkout: Path, tmp_path: Path):
    venv_bin = Path(sys.executable).parent
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("BAKERY_", "DATABRICKS_", "PYTEST_"))
    }
    env |= {
        "PATH": f"{venv_bin}:{env.get('PATH', '/usr/bin:/bin')}",
        "BAKERY_HOME": str(tmp_path / "home"),
    }
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", block.text],
        cwd=checkout,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        stdin=subprocess.DEVNULL,
    )
    output = done.stdout + done.stderr
    assert done.returncode == block.exit_code, f"{block.text}\n-> exit {done.returncode}\n{output[-4000:]}"
    if "pip wheel" in block.text:
        assert list((checkout / "dist").glob("bakery*.whl")), "no wheel in dist/"
    if "bakery users add" in block.text:
        assert re.search(r"(?m)^marta@example\.com\tmanager\tS01\tactive$", done.stdout)
    if block.exit_code == 2:
        assert "refusing to start" in output and "DATABRICKS_APP_NAME" in output
