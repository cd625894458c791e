"""The manager's pages on a phone pass an accessibility audit in a real browser: axe-core finds no serious or
critical violation (colour contrast included), nothing scrolls sideways and every control is big enough for a
finger.

axe-core (tests/app/vendor/axe-core, pinned) is injected by the test driver through the DevTools protocol, so the
app's content security policy stays as strict as it is: the app never serves it.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.app.test_browser import CHROMIUM, DRIVER, _driver, _login, _wait, server  # noqa: F401

pytestmark = pytest.mark.skipif(
    not (CHROMIUM.exists() and DRIVER.exists()),
    reason="needs Debian's chromium and chromium-driver (.ci/install_browser.sh)",
)
AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
MANAGER_PAGES = [
    ("/", "forecast-rows"),
    ("/bake", "bake-list"),
    ("/stock", "stock-table"),
    ("/events", "events-submit"),
    ("/history", "history-graph"),
]
# WCAG 2.1 A and AA (colour contrast is wcag2aa) plus axe's best practices, at the impacts that block people.
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
BLOCKING = {"serious", "critical"}
MIN_TARGET = 44  # px, WCAG 2.5.5 (AAA) and both platforms' touch guidelines

# The tap target of a control: a radio's or checkbox's label, a dropdown's whole box, else the control itself.
TARGETS_JS = """
const sel = 'a[href], button, input:not([type=hidden]), select, textarea, [role=button], summary';
const small = [];
for (const el of document.querySelectorAll(sel)) {
  if (el.closest('.modebar, .js-plotly-plot .main-svg')) continue;  // the chart's own toolbar, hidden on touch
  const target = el.closest('label, .Select-control, .dash-dropdown') || el;
  const r = target.getBoundingClientRect();
  const style = getComputedStyle(target);
  if (r.width === 0 || r.height === 0 || style.visibility === 'hidden') continue;
  if (r.height < arguments[0] || r.width < arguments[0]) {
    small.push(`${target.tagName.toLowerCase()}#${target.id || el.id}.${target.className} `
               + `"${(target.innerText || el.value || '').trim().slice(0, 30)}" ${Math.round(r.width)}x${Math.round(r.height)}`);
  }
}
return small;
"""


def axe_violations(d, context: str = "document") -> list[dict]:
    """Run axe-core on the current page; the serious and critical violations, each with the elements it names."""
    if not d.execute_script("return typeof window.axe !== 'undefined'"):
        d.execute_script(AXE.read_text(encoding="utf-8"))
    result = d.execute_async_script(
        f"""const done = arguments[arguments.length - 1];
        axe.run({context}, {{runOnly: {{type: 'tag', values: {TAGS!r}}}, resultTypes: ['violations']}})
           .then(r => done(r.violations), e => done([{{id: 'axe-error', impact: 'critical', help: String(e),
                                                       nodes: []}}]));"""
    )
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"]][:5],
        }
        for v in result
        if v["impact"] in BLOCKING
    ]


def small_targets(d) -> list[str]:
    return d.execute_script(TARGETS_JS, MIN_TARGET)


def _fits(d) -> bool:
    return d.execute_script(
        "return document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )


@pytest.mark.parametrize("width", [360, 390])
def test_manager_pages_pass_axe_on_a_phone(server, width):  # noqa: F811
    """Each manager page, once drawn: no serious or critical axe violation, and at 360 px no sideways scroll and
    every button, link and input at least 44 px in both directions."""
    d = _driver(width, 800)
    d.set_script_timeout(60)
    try:
        _login(d, server, "mgr")
        found = {}
        for path, ready in MANAGER_PAGES:
            d.get(f"{server.url}{path}")
            _wait(d, ready)
            time.sleep(1.0)  # callbacks fill the page after the element appears
            problems = axe_violations(d)
            if width == 360:
                problems += [{"id": "wide", "nodes": []}] if not _fits(d) else []
                problems += [{"id": "small-target", "nodes": small_targets(d)}] if small_targets(d) else []
            if problems:
                found[path] = problems
        assert found == {}, json.dumps(found, indent=1, ensure_ascii=False)
    finally:
        d.quit()


def test_the_audit_catches_a_low_contrast_text(server):  # noqa: F811
    """The check can fail: a pale grey line added to the forecast page is reported as a contrast violation, and
    a 20 px button as a small target."""
    d = _driver(360, 800)
    d.set_script_timeout(60)
    try:
        _login(d, server, "mgr")
        time.sleep(1.0)
        d.execute_script(
            """const p = document.createElement('p'); p.id = 'pale'; p.textContent = 'Texto casi invisible';
            p.style.color = '#cccccc'; p.style.background = '#ffffff';
            const b = document.createElement('button'); b.id = 'tiny'; b.textContent = 'x';
            b.style.cssText = 'width:20px;height:20px;padding:0';
            document.querySelector('.page').prepend(p, b);"""
        )
        contrast = [v for v in axe_violations(d) if v["id"] == "color-contrast"]
        assert contrast and ["#pale"] in contrast[0]["nodes"]
        assert any(s.startswith("button#tiny") for s in small_targets(d))
    finally:
        d.quit()
