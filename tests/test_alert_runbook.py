"""The runbook has a section for every kind of alert the code can raise."""

from __future__ import annotations

import ast
import re

from tests import REPO_ROOT

RUNBOOK = REPO_ROOT / "docs" / "runbooks" / "alerts.md"


def _raised_kinds() -> set[str]:
    """Each `kind=` given to an Alert in src/bakery/monitoring, as its literal prefix (f-strings and
    concatenations up to their first computed part)."""
    kinds = set()
    for path in (REPO_ROOT / "src" / "bakery" / "monitoring").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            value = None
            if isinstance(node, ast.keyword) and node.arg == "kind":
                value = node.value
            elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Alert" and node.args:
                value = node.args[0]
            while isinstance(value, ast.BinOp):
                value = value.left
            if isinstance(value, ast.JoinedStr):
                value = value.values[0]
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                kinds.add(value.value)
    return kinds


def test_every_alert_kind_has_a_section():
    headings = re.findall(r"^## (.+)$", RUNBOOK.read_text(encoding="utf-8"), flags=re.M)
    kinds = _raised_kinds()
    assert {"run.no_forecasts", "run.step_failed.", "accuracy.breach", "drift.", "model.rollback"} <= kinds, (
        kinds
    )
    for kind in kinds:
        assert any(h.replace("\\", "").startswith(kind) or kind in h for h in headings), (
            f"no section of {RUNBOOK.name} for alerts of kind {kind!r}"
        )


def test_every_step_a_night_can_fail_has_a_section():
    from bakery.monitoring.run_alerts import NIGHT_STEPS

    text = RUNBOOK.read_text(encoding="utf-8")
    for step in NIGHT_STEPS:
        assert f"run.step_failed.{step}" in text, step
