"""The content security policy in a real browser: every page draws, and the browser reports no violation."""

from __future__ import annotations

import time

import pytest

from tests.app.conftest import PASSWORDS, LiveServer, build_app, make_home
from tests.app.test_browser import CHROMIUM, DRIVER, _wait

pytestmark = pytest.mark.skipif(
    not (CHROMIUM.exists() and DRIVER.exists()),
    reason="needs Debian's chromium and chromium-driver (.ci/install_browser.sh)",
)

CHART = ("css selector", "#history-graph svg")
PAGES = {
    "ana": [("/history", "history-graph"), ("/accuracy", "metrics-table"), ("/uploads", "uploads-file")],
    "admin": [("/admin/users", "users-table"), ("/admin/settings", "settings-table")],
}


def test_pages_work_under_the_policy_without_violations(tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    settings = make_home(tmp_path)
    srv = LiveServer(build_app(settings, warm=True), settings)
    srv.thread.start()
    opts = webdriver.ChromeOptions()
    opts.binary_location = str(CHROMIUM)
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1280,900",
    ):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    d = webdriver.Chrome(service=Service(str(DRIVER)), options=opts)
    try:
        messages = []
        for user, pages in PAGES.items():
            d.delete_all_cookies()
            d.get(f"{srv.url}/login")
            d.find_element(By.ID, "login-username").send_keys(user)
            d.find_element(By.ID, "login-password").send_keys(PASSWORDS[user])
            d.find_element(By.ID, "login-submit").click()
            _wait(d, "forecast-rows")
            for path, ready in pages:
                d.get(f"{srv.url}{path}")
                _wait(d, ready)
                if path == "/history":  # Plotly draws the chart (its scripts and styles are allowed)
                    WebDriverWait(d, 30).until(ec.presence_of_element_located(CHART))
                time.sleep(1)
                messages += [e["message"] for e in d.get_log("browser")]
        assert [m for m in messages if "Content Security Policy" in m or "Refused to" in m] == []
    finally:
        d.quit()
        srv.server.shutdown()
        srv.thread.join(timeout=5)
