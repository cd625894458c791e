"""The CI/CD workflow (.github/workflows/ci.yml): valid against GitHub's workflow schema (check-jsonschema's
vendored copy, run as its command), and it does what the deploy runbook says: the checks on every push,
staging on main, prod on a tag behind an approval, with the commands the Makefile and the bundle define."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests import REPO_ROOT

WORKFLOW = REPO_ROOT / ".github" / "workflows" / "ci.yml"
CHECK_JSONSCHEMA = Path(sys.executable).parent / "check-jsonschema"


def _workflow() -> dict:
    # PyYAML reads the bare key `on` as True (YAML 1.1); GitHub reads it as the string.
    raw = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    return {("on" if key is True else key): value for key, value in raw.items()}


def _runs(job: dict) -> list[str]:
    return [step["run"] for step in job["steps"] if "run" in step]


def _uses(job: dict) -> list[str]:
    return [step["uses"].split("@")[0] for step in job["steps"] if "uses" in step]


def _schema_check(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(CHECK_JSONSCHEMA), "--builtin-schema", "vendor.github-workflows", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_every_workflow_is_valid_against_the_github_workflow_schema():
    workflows = sorted((REPO_ROOT / ".github" / "workflows").glob("*.y*ml"))
    assert WORKFLOW in workflows
    for path in workflows:
        done = _schema_check(path)
        assert done.returncode == 0, f"{path.name}: {done.stdout}{done.stderr}"


@pytest.mark.parametrize(
    "broken, named",
    [
        (("runs-on: ubuntu-latest", "run-on: ubuntu-latest"), "run-on"),
        (("timeout-minutes: 20", "timeout-minutes: twenty"), "twenty"),
        (("pull_request:", "pull-request:"), "pull-request"),
    ],
    ids=["misspelt key", "wrong type", "unknown event"],
)
def test_the_schema_check_catches_a_broken_workflow(tmp_path, broken, named):
    old, new = broken
    bad = tmp_path / "ci.yml"
    bad.write_text(WORKFLOW.read_text(encoding="utf-8").replace(old, new, 1), encoding="utf-8")
    done = _schema_check(bad)
    assert done.returncode != 0 and named in done.stdout + done.stderr


def test_the_checks_run_on_every_push_and_pull_request():
    wf = _workflow()
    assert {"push", "pull_request"} <= set(wf["on"])
    jobs = wf["jobs"]
    for job_key, command in {"lint": "make lint", "unit": "make test-fast", "test": "make test"}.items():
        assert command in _runs(jobs[job_key]), f"job {job_key} does not run `{command}`"
        assert "if" not in jobs[job_key], f"job {job_key} must run on every event"
    bundle_build = yaml.safe_load((REPO_ROOT / "bundle.yml").read_text())["artifacts"]["bakery"]["build"]
    assert bundle_build.replace("python3 ", "python ") in _runs(jobs["wheel"])  # the wheel the bundle deploys
    assert any("make test-packaged" in run for run in _runs(jobs["packaged-jobs"]))
    assert any("tests/test_bundle.py" in run for run in _runs(jobs["bundle"]))
    validate_staging = "databricks bundle validate -t staging"
    (validate,) = [s for s in jobs["bundle"]["steps"] if s.get("run") == validate_staging]
    assert validate["if"] == "env.DATABRICKS_HOST != ''"  # only where the workspace secrets exist
    assert "databricks/setup-cli" in _uses(jobs["bundle"])


def test_staging_deploys_from_main_and_prod_from_a_tag_after_approval():
    jobs = _workflow()["jobs"]
    checks = {"lint", "unit", "test", "wheel", "packaged-jobs", "bundle"}
    staging, prod = jobs["deploy-staging"], jobs["deploy-prod"]
    assert "refs/heads/main" in staging["if"] and staging["environment"] == "staging"
    assert "refs/tags/v" in prod["if"] and prod["environment"] == "prod"
    for job, target in ((staging, "staging"), (prod, "prod")):
        assert set(job["needs"]) == checks, "a deploy waits for every check"
        assert f"databricks bundle deploy -t {target}" in _runs(job)
        assert "databricks/setup-cli" in _uses(job)
        assert job["env"]["DATABRICKS_TOKEN"] == "${{ secrets.DATABRICKS_TOKEN }}"
    assert set(_workflow()["on"]["push"]["tags"]) == {"v*"}


def test_needs_name_jobs_and_make_targets_exist():
    jobs = _workflow()["jobs"]
    for key, job in jobs.items():
        needs = job.get("needs", [])
        assert set([needs] if isinstance(needs, str) else needs) <= set(jobs), key
    targets = set(re.findall(r"(?m)^([a-z][\w-]*):", (REPO_ROOT / "Makefile").read_text()))
    for job in jobs.values():
        for run in _runs(job):
            for target in re.findall(r"\bmake ([a-z][\w-]*)", run):
                assert target in targets, f"`make {target}` has no Makefile target"


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_lint_checks_and_format_checks_the_same_folders():
    done = subprocess.run(["make", "-n", "lint"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)
    lines = [line for line in done.stdout.splitlines() if "ruff" in line]
    assert [line.split("ruff ", 1)[1] for line in lines] == [
        "check src tests jobs bench",
        "format --check src tests jobs bench",
    ]


def test_no_credentials_in_the_workflow():
    text = WORKFLOW.read_text(encoding="utf-8")
    assert not re.search(r"dapi[0-9a-f]{16,}", text)
    for line in re.findall(r"(?im)^\s*(?:DATABRICKS_[A-Z_]+|[A-Z_]*TOKEN[A-Z_]*)\s*:\s*(.+)$", text):
        assert line.startswith("${{ secrets.") or line.startswith("${{ vars."), line
