"""A real browser (Debian's chromium through Selenium) opens the Cuadros de mando page as an analyst: every tile
of "Forecast accuracy" has data (plotted traces, table rows, counter values) and none is an error; the
screenshot is the analyst guide's (BAKERY_UPDATE_SCREENSHOTS=1 writes it to docs/user_guide/img/)."""

from __future__ import annotations

import os
import time

import pytest

from tests.app.conftest import LiveServer, build_app, make_home
from tests.app.test_browser import CHROMIUM, DOCS_IMG, DRIVER, _driver, _login, _wait

pytestmark = pytest.mark.skipif(
    not (CHROMIUM.exists() and DRIVER.exists()),
    reason="needs Debian's chromium and chromium-driver (.ci/install_browser.sh)",
)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("BAKERY_SECRET_KEY", "test-only-cookie-key-01234567890")
    settings = make_home(tmp_path_factory.mktemp("dash_browser"))
    srv = LiveServer(build_app(settings), settings)
    srv.thread.start()
    yield srv
    srv.server.shutdown()
    mp.undo()


def test_analyst_sees_the_forecast_accuracy_dashboard_with_data(server, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    d = _driver(1280, 1700)
    try:
        _login(d, server, "ana")
        d.get(f"{server.url}/dashboards?d=forecast_accuracy")
        _wait(d, "dashboards-tile-per_store", timeout=60)
        WebDriverWait(d, 60).until(
            lambda drv: len(drv.find_elements(By.CSS_SELECTOR, ".dash-figure .main-svg .trace")) >= 4
        )
        time.sleep(1.0)  # let the charts finish drawing before the screenshot
        out = DOCS_IMG if os.environ.get("BAKERY_UPDATE_SCREENSHOTS") == "1" else tmp_path
        d.save_screenshot(str(out / "dashboards.png"))
        assert not d.find_elements(By.CSS_SELECTOR, ".dash-error, .dash-unsupported")
        for tile in d.find_elements(By.CSS_SELECTOR, ".dash-figure"):
            assert tile.find_elements(By.CSS_SELECTOR, ".main-svg .trace"), tile.get_attribute("id")
            assert tile.find_element(By.CSS_SELECTOR, ".main-svg").size["height"] >= 250, tile.get_attribute(
                "id"
            )
        for tile in d.find_elements(By.CSS_SELECTOR, ".dash-table"):
            assert tile.find_elements(By.CSS_SELECTOR, "tbody tr"), tile.get_attribute("id")
        values = [v.text for v in d.find_elements(By.CSS_SELECTOR, ".dash-counter .kpi-value")]
        assert len(values) == 2 and all(v and v != "—" for v in values)
        assert "Bakery · Forecast accuracy" in d.find_element(By.TAG_NAME, "body").text
    finally:
        d.quit()
