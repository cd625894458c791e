"""The forecast page in a real browser, for a store whose products are sold in different units: no grand total, the
chosen product's total in its own unit, and the product table led by what to bake most of."""

from __future__ import annotations

import pytest

from tests.app.conftest import LiveServer, build_app, make_home
from tests.app.test_browser import CHROMIUM, DRIVER, _driver, _login, _wait

pytestmark = pytest.mark.skipif(
    not (CHROMIUM.exists() and DRIVER.exists()),
    reason="needs Debian's chromium and chromium-driver (.ci/install_browser.sh)",
)


def test_mixed_units_and_the_bake_order_on_a_phone(tmp_path):
    from deltalake import DeltaTable
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    settings = make_home(tmp_path)
    # the last product by forecast gets the biggest bake: it must lead the table all the same
    DeltaTable(str(settings.tables_dir / "gold" / "bake_plan")).update(
        predicate="store_id = 'S01' AND product_id = 'P004'", updates={"quantity": "500.0"}
    )
    srv = LiveServer(
        build_app(settings, warm=True, overrides={"units": {"products": {"P002": "kg"}}}), settings
    )
    srv.thread.start()
    names = srv.ctx.serving.product_names()
    d = _driver(390, 844)
    try:
        _login(d, srv, "mgr")
        WebDriverWait(d, 30).until(lambda drv: drv.find_elements(By.ID, "forecast-units-note"))
        first = d.find_element(By.CSS_SELECTOR, "#forecast-rows tbody tr td.fc-product").text
        assert names["P004"] in first and "Hornear 500" in first
        summary = d.find_element(By.ID, "forecast-summary").text
        assert "Total de todos los productos" not in summary
        note = d.find_element(By.ID, "forecast-units-note").text
        assert "unidades distintas (kg, uds.)" in note and f"El total es el de {names['P004']}" in note
        assert f"Total de {names['P004']}" in summary and "uds." in summary
        # picking the product sold by the kilo: its total in kg, the note names it
        box = d.find_element(By.CSS_SELECTOR, "#forecast-product input")
        box.send_keys(names["P002"], Keys.ENTER)
        WebDriverWait(d, 30).until(
            lambda drv: f"El total es el de {names['P002']}"
            in drv.find_element(By.ID, "forecast-summary").text
        )
        kpi = d.find_element(By.CSS_SELECTOR, "#forecast-summary .kpi").text
        assert kpi.split("\n")[0].endswith(" kg") and names["P002"] in kpi
        _wait(d, "forecast-rows")
    finally:
        d.quit()
        srv.server.shutdown()
        srv.thread.join(timeout=5)
