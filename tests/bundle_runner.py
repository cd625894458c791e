"""Running the bundle's job tasks as the platform would, on this machine: `${...}` and `{{job.parameters.*}}`
references resolved for a target, tasks in depends_on order, each a `python <file> <parameters>` process,
run or skipped by its `run_if` on the outcomes of the tasks it depends on."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

# The test report's property holding each task's wall time, printed in the run's summary (tests/conftest.py).
TASK_SECONDS = "bundle_task_seconds"

_BUNDLE_REF = re.compile(r"\$\{([a-z_]+(?:\.[a-z_]+)+)\}")
_JOB_PARAM = re.compile(r"\{\{\s*job\.parameters\.([a-z_]+)\s*\}\}")


@dataclass(frozen=True)
class Task:
    """One spark_python_task: its key, the file it runs and its resolved parameters."""

    key: str
    python_file: Path
    parameters: list[str]
    depends_on: tuple[str, ...] = ()
    run_if: str = "ALL_SUCCESS"


# The platform's run_if conditions over the outcomes of a task's dependencies ("success", "failed" or
# "skipped": a skipped task is one whose own condition did not hold, "upstream failed" on the platform).
RUN_IF = {
    "ALL_SUCCESS": lambda o: all(x == "success" for x in o),
    "AT_LEAST_ONE_SUCCESS": lambda o: any(x == "success" for x in o),
    "NONE_FAILED": lambda o: not any(x == "failed" for x in o),
    "ALL_DONE": lambda o: True,
    "AT_LEAST_ONE_FAILED": lambda o: any(x == "failed" for x in o),
    "ALL_FAILED": lambda o: all(x == "failed" for x in o),
}


def bundle_refs(
    bundle: Mapping[str, Any], target: str, workspace: Path, variables: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The values of `${var.*}`, `${bundle.*}` and `${workspace.file_path}` for one target: variable
    defaults, then the target's variables, then `variables` (a test target's own)."""
    values = {name: str(spec.get("default", "")) for name, spec in bundle["variables"].items()}
    target_vars = (bundle["targets"].get(target) or {}).get("variables") or {}
    values.update({k: str(v) for k, v in target_vars.items()})
    values.update(variables or {})
    refs = {f"var.{k}": v for k, v in values.items()}
    refs.update(
        {
            "bundle.target": target,
            "bundle.name": bundle["bundle"]["name"],
            "workspace.file_path": str(workspace),
        }
    )
    return refs


def resolve(text: str, refs: Mapping[str, str], job_parameters: Mapping[str, str]) -> str:
    """text with every reference replaced (variables may refer to variables); an unknown one is an error."""
    for _ in range(10):
        new = _BUNDLE_REF.sub(lambda m: refs[m.group(1)], text)
        if new == text:
            break
        text = new
    return _JOB_PARAM.sub(lambda m: job_parameters[m.group(1)], text)


def job_tasks(
    resource: Path, job: str, refs: Mapping[str, str], job_parameters: Mapping[str, str]
) -> list[Task]:
    """The tasks of one job of a resource file, in an order that respects depends_on."""
    spec = yaml.safe_load(resource.read_text(encoding="utf-8"))["resources"]["jobs"][job]
    defaults = {p["name"]: str(p.get("default", "")) for p in spec.get("parameters", [])}
    params = {**defaults, **job_parameters}
    pending = {t["task_key"]: t for t in spec["tasks"]}
    ordered: list[Task] = []
    while pending:
        done = {t.key for t in ordered}
        ready = [k for k, t in pending.items() if {d["task_key"] for d in t.get("depends_on", [])} <= done]
        assert ready, f"{job}: tasks {sorted(pending)} depend on each other"
        for key in ready:
            spec_task = pending.pop(key)
            task = spec_task["spark_python_task"]
            run_if = spec_task.get("run_if", "ALL_SUCCESS")
            assert run_if in RUN_IF, f"{job}.{key}: unknown run_if {run_if}"
            ordered.append(
                Task(
                    key,
                    (resource.parent / resolve(task["python_file"], refs, params)).resolve(),
                    [resolve(str(p), refs, params) for p in task.get("parameters", [])],
                    tuple(d["task_key"] for d in spec_task.get("depends_on", [])),
                    run_if,
                )
            )
    return ordered


def run_task(python: Path, task: Task, cwd: Path, env: Mapping[str, str], log: Path) -> int:
    """One task as its own process (as a job cluster runs it); stdout and stderr to `log`."""
    with log.open("w", encoding="utf-8") as out:
        return subprocess.run(
            [str(python), str(task.python_file), *task.parameters],
            cwd=cwd,
            env=dict(env),
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=1800,
        ).returncode


def should_run(task: Task, outcomes: Mapping[str, str]) -> bool:
    """Whether the platform would run `task` given its dependencies' outcomes (no dependencies: always)."""
    return not task.depends_on or RUN_IF[task.run_if]([outcomes[d] for d in task.depends_on])
