"""Every notebook runs top to bottom on a small built lakehouse, so none of them rots.

The lakehouse is a copy of the session's built_small (the small demo through bakery.etl.run_etl, which the
ETL job entry point calls; tests/test_jobs.py runs that entry point), since notebooks may write to it.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from tests import REPO_ROOT
from tests.conftest import copy_home

NOTEBOOKS = sorted((REPO_ROOT / "notebooks").glob("*.ipynb"))
KERNEL = "python3"
# What each notebook must print when it ran for real (a new notebook adds its line here).
EXPECTED_TEXT = {
    "01_explore_sales.ipynb": ["closed days", "expectations"],
    "02_model_experiments.ipynb": ["series, data to", "logged run"],
    "03_monitoring.ipynb": ["drift: store", "live accuracy:"],
}
# Parameters a notebook runs with here besides `home` (fewer backtest cutoffs: same cells, less waiting).
TEST_PARAMETERS = {"02_model_experiments.ipynb": {"cutoffs": 2}}


def load_job(name: str):
    """A module from jobs/ (they are scripts, not a package)."""
    spec = importlib.util.spec_from_file_location(f"jobs_{name}", REPO_ROOT / "jobs" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def kernel_name() -> str:
    """A kernel that runs this interpreter (the venv): python3 if it does, else one installed into the venv."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    def runs_this_python(name: str) -> bool:
        try:
            argv0 = KernelSpecManager().get_kernel_spec(name).argv[0]
        except NoSuchKernel:
            return False
        # jupyter_client launches a spec whose argv[0] is plain `python` with sys.executable
        return argv0 in ("python", "python3") or Path(argv0).resolve() == Path(sys.executable).resolve()

    if runs_this_python(KERNEL):
        return KERNEL
    name = "bakery-venv"
    if not runs_this_python(name):
        subprocess.run(
            [sys.executable, "-m", "ipykernel", "install", "--sys-prefix", "--name", name],
            check=True,
            capture_output=True,
        )
    return name


@pytest.fixture(scope="module")
def built_home(tmp_path_factory, built_small) -> Path:
    assert built_small.report.ok, built_small.report.render()
    return copy_home(built_small.settings, tmp_path_factory.mktemp("notebooks") / "home").home


def with_parameters(nb: nbformat.NotebookNode, **params) -> nbformat.NotebookNode:
    """Rewrite the cell tagged `parameters` (as papermill would inject them)."""
    cells = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(cells) == 1, "a notebook has exactly one cell tagged `parameters`"
    names = {line.split("=")[0].strip() for line in cells[0].source.splitlines() if "=" in line}
    assert set(params) <= names, f"unknown parameters {sorted(set(params) - names)}"
    cells[0].source += "\n" + "\n".join(f"{k} = {v!r}" for k, v in params.items())
    return nb


def test_notebooks_are_thin_and_parameterised():
    assert NOTEBOOKS
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")
        with_parameters(nb)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert len(code) <= 12 and all(len(c.source.splitlines()) <= 25 for c in code), (
            f"{path.name} is not thin"
        )
        assert not any(c.get("outputs") for c in code), f"{path.name} is committed with outputs"
        assert "getOrCreate" not in "".join(c.source for c in code)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_on_a_small_lakehouse(path, built_home, kernel_name, tmp_path):
    from nbclient import NotebookClient

    nb = with_parameters(
        nbformat.read(path, as_version=4), home=str(built_home), **TEST_PARAMETERS.get(path.name, {})
    )
    NotebookClient(
        nb, kernel_name=kernel_name, timeout=900, resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert sum("image/png" in o.get("data", {}) for o in outputs) >= 2, "the plots were not drawn"
    text = "".join(o.get("text", "") for o in outputs)
    for expected in EXPECTED_TEXT[path.name]:
        assert expected in text, f"{path.name}: {expected!r} not printed"
