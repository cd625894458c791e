"""A real browser (Debian's chromium through Selenium) logs in as each role; screenshots feed the user guide.

Screenshots go to a temporary folder; with BAKERY_UPDATE_SCREENSHOTS=1 they replace docs/user_guide/img/.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tests.app.conftest import PASSWORDS, LiveServer, build_app, make_home

CHROMIUM, DRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
pytestmark = pytest.mark.skipif(
    not (CHROMIUM.exists() and DRIVER.exists()),
    reason="needs Debian's chromium and chromium-driver (.ci/install_browser.sh)",
)
DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "user_guide" / "img"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from deltalake import DeltaTable

    settings = make_home(tmp_path_factory.mktemp("browser"))
    # P002 sold out on the last four days: the Stock page has an alert to show
    DeltaTable(str(settings.tables_dir / "silver" / "inventory_daily")).update(
        predicate="product_id = 'P002' AND date > '2026-04-26'", updates={"stockout": "true"}
    )
    srv = LiveServer(build_app(settings, warm=True), settings)
    srv.thread.start()
    yield srv
    srv.server.shutdown()


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    out = DOCS_IMG if os.environ.get("BAKERY_UPDATE_SCREENSHOTS") == "1" else tmp_path_factory.mktemp("shots")
    out.mkdir(parents=True, exist_ok=True)
    return out


def _driver(width: int, height: int):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = str(CHROMIUM)
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        f"--window-size={max(width, 500)},{height}",
        "--lang=es-ES",
        "--hide-scrollbars",
    ):
        opts.add_argument(arg)
    if width < 500:  # a phone: headless windows cannot be that narrow, so emulate the device instead
        opts.add_experimental_option(
            "mobileEmulation", {"deviceMetrics": {"width": width, "height": height, "pixelRatio": 2}}
        )
    return webdriver.Chrome(service=Service(str(DRIVER)), options=opts)


@pytest.fixture
def browser():
    drivers = []

    def make(width=1280, height=900):
        d = _driver(width, height)
        drivers.append(d)
        return d

    yield make
    for d in drivers:
        d.quit()


def _wait(d, element_id: str, timeout: float = 30):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(d, timeout).until(ec.presence_of_element_located((By.ID, element_id)))


def _login(d, server, user: str) -> None:
    from selenium.webdriver.common.by import By

    d.get(f"{server.url}/login")
    d.find_element(By.ID, "login-username").send_keys(user)
    d.find_element(By.ID, "login-password").send_keys(PASSWORDS[user])
    d.find_element(By.ID, "login-submit").click()
    _wait(d, "forecast-rows")


def _visit(d, server, path: str, ready: str, shots: Path | None = None, name: str | None = None) -> None:
    d.get(f"{server.url}{path}")
    _wait(d, ready)
    time.sleep(0.8)  # let charts finish drawing before the screenshot
    if shots is not None and name:
        d.save_screenshot(str(shots / f"{name}.png"))


def _fits(d) -> bool:
    """Nothing wider than the screen: no sideways scrolling."""
    return d.execute_script(
        "return document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )


def test_manager_on_a_phone(server, browser, shots):
    """390x844: the stale banner and the forecast's own dates in Spanish, the whole product table ("Por qué"
    included) on screen, Spanish chart months, stock alerts as cards, the events form in dd/mm/aaaa and cleared
    after saving; no page scrolls sideways. Regenerates the manager screenshots of the user guide."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    d = browser(390, 844)
    _login(d, server, "mgr")
    assert "no es de hoy" in _wait(d, "forecast-stale").text  # the sample's data ends on 30/04/2026
    assert d.find_element(By.ID, "forecast-dates").text == "Previsión para el viernes 1 de mayo de 2026"
    time.sleep(0.8)
    d.save_screenshot(str(shots / "manager_forecast_phone.png"))
    page = d.find_element(By.TAG_NAME, "body").text
    assert "Previsión de ventas" in page and "Panadería Madrid 1" in page and "Sevilla" not in page
    assert d.execute_script("return window.innerWidth") == 390
    assert _fits(d)
    why = d.find_element(By.XPATH, "//div[@id='forecast-rows']//th[normalize-space()='Por qué']")
    assert why.rect["x"] + why.rect["width"] <= 390
    d.execute_script("document.getElementById('forecast-rows').scrollIntoView()")
    time.sleep(0.3)
    d.save_screenshot(str(shots / "manager_forecast_table_phone.png"))
    d.execute_script("window.scrollTo(0, 0)")
    ticks = d.execute_script(
        "return [...document.querySelectorAll('#forecast-graph .xtick text')].map(e => e.textContent)"
    )
    assert any(m in " ".join(ticks) for m in ("abr", "may")) and not any(
        "Apr" in x or "May" in x for x in ticks
    )
    _visit(d, server, "/history", "history-graph", shots, "manager_history_phone")
    assert "Del " in _wait(d, "history-kpis").text and _fits(d)
    _visit(d, server, "/stock", "stock-table", shots, "manager_stock_phone")
    cards = d.find_elements(By.CSS_SELECTOR, "#stock-table .alert-card")
    assert cards and "Urgente" in cards[0].text and "Tienda" not in d.find_element(By.ID, "stock-alerts").text
    assert _fits(d)
    _visit(d, server, "/bake", "bake-list", shots, "manager_bake_phone")
    first = d.find_elements(By.CSS_SELECTOR, "#bake-list .bake-card")[0].text
    assert "Hornear" in first and "Previsión" in first and _fits(d)
    _visit(d, server, "/events", "events-submit", shots, "manager_events_phone")
    assert "pipeline" not in d.find_element(By.TAG_NAME, "body").text
    assert d.find_element(By.ID, "events-start").get_attribute("placeholder") == "dd/mm/aaaa"
    d.find_element(By.ID, "events-name").send_keys("Fiesta del barrio")
    for field in ("events-start", "events-end"):
        box = d.find_element(By.ID, field)
        box.send_keys(Keys.CONTROL, "a")  # select what is there (clear() does not reach React's state)
        box.send_keys("12/06/2026")
    d.find_element(By.ID, "events-submit").click()
    assert "Fiesta del barrio" in _wait(d, "events-ok").text
    assert d.find_element(By.ID, "events-name").get_attribute("value") == ""  # cleared for the next one
    assert "12/06/2026" in d.find_element(By.ID, "events-table").text and _fits(d)
    assert list((server.settings.landing_dir / "events").glob("app_event_S01_*.csv"))
    _visit(d, server, "/accuracy", "page-forbidden")


def test_a_manager_overrides_a_quantity_on_a_phone(server, browser, shots):
    """390x844 on Hornear hoy: the change form opens from a full-width summary; a quantity far above the plan asks
    for a note and the confirmation, then the card shows the new quantity with the plan's struck; every control
    is at least 44 px tall and nothing scrolls sideways."""
    from selenium.webdriver.common.by import By

    d = browser(390, 844)
    _login(d, server, "mgr2")  # S02: the other tests' S01 plan stays as the sample made it
    _visit(d, server, "/bake", "bake-list")
    plan = server.ctx.serving.bake_plan("S02").sort_values(
        ["quantity", "product_id"], ascending=[False, True]
    )
    row = plan.iloc[0]
    name = server.ctx.serving.product_names()[row.product_id]
    summary = d.find_element(By.CSS_SELECTOR, "#bake-ov-form summary")
    summary.click()
    d.find_element(By.CSS_SELECTOR, "#bake-ov-product .Select-control").click()
    d.find_element(
        By.XPATH, f"//*[contains(@class, 'VirtualizedSelectOption')][contains(., '{name}')]"
    ).click()
    far = str(int(3 * row.quantity + 3))
    d.find_element(By.ID, "bake-ov-quantity").send_keys(far)
    d.find_element(By.ID, "bake-ov-note").send_keys("feria en la plaza")
    save = d.find_element(By.ID, "bake-ov-save")
    save.click()
    assert "Marque la confirmación" in _wait(d, "bake-ov-error").text
    tick = d.find_element(By.CSS_SELECTOR, "#bake-ov-confirm label")
    for control in (summary, save, d.find_element(By.ID, "bake-ov-quantity"), tick):
        assert control.rect["height"] >= 44, control.get_attribute("outerHTML")[:80]
    tick.click()
    save.click()
    assert f"a {far}" in _wait(d, "bake-ov-ok").text
    card = d.find_elements(By.CSS_SELECTOR, "#bake-list .bake-card")[0]
    assert f"Hornear {far}" in card.text and "Cambiado por mgr2 · Evento" in card.text
    assert card.find_element(By.TAG_NAME, "s").text == f"Plan {int(row.quantity)}"
    assert _fits(d)
    d.execute_script("document.getElementById('bake-ov-quantity').scrollIntoView()")  # the form and the card
    time.sleep(0.5)
    d.save_screenshot(str(shots / "manager_bake_override_phone.png"))


def test_analyst_pages_and_an_upload(server, browser, shots, tmp_path):
    """On a 1366 px desktop: models in words, the data's cutoff, the history range on one line, and an upload
    whose rejection disables "Cargar"."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    d = browser(1366, 900)
    _login(d, server, "ana")
    time.sleep(0.8)
    d.save_screenshot(str(shots / "analyst_forecast.png"))
    _visit(d, server, "/accuracy", "metrics-table", shots, "analyst_metrics")
    page = d.find_element(By.TAG_NAME, "body").text
    assert "Referencia: mismo día de la semana anterior" in page and "seasonal_naive" not in page
    assert "Evaluado con datos hasta el" in page and "Por tienda · horizonte D+1" in page
    _visit(d, server, "/waste", "waste-compare-kpis", shots, "analyst_waste")
    waste = d.find_element(By.TAG_NAME, "body").text.lower()
    assert "mermas sobre lo horneado" in waste and "coste con el plan" in waste and "€" in waste
    _visit(d, server, "/models", "models-table", shots, "analyst_models")
    assert "Modelo en servicio" in d.find_element(By.ID, "models-table").text
    _visit(d, server, "/drivers", "drivers-rows", shots, "analyst_drivers")
    _visit(d, server, "/history", "history-weeks")  # a period picker on one line, not a wrapping date range
    _visit(d, server, "/uploads", "uploads-file")
    assert not d.find_element(By.ID, "uploads-load-button").is_enabled()  # nothing to load yet
    d.find_element(By.ID, "uploads-validate").click()
    assert "Primero suba un archivo" in _wait(d, "uploads-no-file").text
    sample = tmp_path / "ventas_marzo.csv"
    sample.write_text(
        "Fecha,Tienda,Producto,Cantidad,Notas\n2026-03-01,S01,P001,12,\n2026-03-02,S01,P001,-3,\n"
        "2026-03-03,S01,P002,=1+1,\n",
        encoding="utf-8",
    )
    d.find_element(By.CSS_SELECTOR, "#uploads-file input[type=file]").send_keys(str(sample))
    _wait(d, "uploads-mapping-table")
    WebDriverWait(d, 10).until(
        lambda drv: not drv.find_elements(By.ID, "uploads-no-file")
    )  # stale message gone
    assert d.find_element(By.ID, "uploads-load-button").is_enabled()
    d.find_element(By.ID, "uploads-validate").click()
    _wait(d, "uploads-errors")
    report = d.find_element(By.ID, "uploads-report").text
    assert "La carga sería rechazada" in report and "66,67" in report and "--max-error-rate" not in report
    WebDriverWait(d, 10).until(lambda drv: not drv.find_element(By.ID, "uploads-load-button").is_enabled())
    assert not d.find_element(By.ID, "uploads-delete-button").is_enabled()  # no batch chosen
    d.execute_script("document.getElementById('uploads-report').scrollIntoView()")
    time.sleep(0.5)
    d.save_screenshot(str(shots / "analyst_upload.png"))
    errors = d.find_element(By.ID, "uploads-errors").text
    assert "quantity_sold" in errors and "fuera de rango" in errors


def test_a_product_named_in_markdown_is_shown_as_plain_text(browser, tmp_path):
    """The name stays literal for every manager: no link to follow, no image fetched from another host."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from tests.app.test_render_text import EVIL, rename

    settings = make_home(tmp_path)
    rename(settings, "products", "product_id", "P001", EVIL)
    srv = LiveServer(build_app(settings, warm=True), settings)
    srv.thread.start()
    try:
        d = browser()
        _login(d, srv, "mgr")
        WebDriverWait(d, 30).until(lambda drv: EVIL in drv.find_element(By.ID, "forecast-rows").text)
        assert d.find_elements(By.CSS_SELECTOR, "#forecast-rows a, #forecast-rows img") == []
        assert d.find_elements(By.CSS_SELECTOR, "img[src*='9999'], a[href*='example.org']") == []
    finally:
        srv.server.shutdown()
        srv.thread.join(timeout=5)


def test_admin_pages_and_language_switch(server, browser, shots):
    """On a 1366 px desktop: a manager's store picked from the stores table, the health page in words, and the
    audit log as sentences with the admin's address and times in UTC."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    d = browser(1366, 900)
    _login(d, server, "admin")
    _visit(d, server, "/admin/users", "users-table")
    d.find_element(By.ID, "users-new-name").send_keys("marta")
    d.find_element(By.CSS_SELECTOR, "#users-new-stores input").send_keys("S01", Keys.ENTER)
    d.find_element(By.ID, "users-new-password").send_keys("marta-pass-123")
    time.sleep(0.3)
    d.save_screenshot(str(shots / "admin_users.png"))
    d.find_element(By.ID, "users-create").click()
    assert "marta" in _wait(d, "users-ok").text and "marta" in d.find_element(By.ID, "users-table").text
    _visit(d, server, "/admin/settings", "settings-table", shots, "admin_settings")
    _visit(d, server, "/admin/health", "health-runs", shots, "admin_health")
    health = d.find_element(By.TAG_NAME, "body").text
    assert "Últimas ventas" in health and "WARNING" not in health and "expect_" not in health
    _visit(d, server, "/admin/audit", "audit-rows", shots, "admin_audit")
    audit = d.find_element(By.ID, "audit-rows").text
    assert "Inicio de sesión" in audit and "login.ok" not in audit and " UTC" in audit
    created = next(line for line in audit.splitlines() if "Usuario creado" in line and "marta" in line)
    assert "127.0.0.1" in created and "tiendas: S01" in created and "{" not in created
    d.find_element(By.ID, "nav-lang").click()
    _wait(d, "audit-rows")
    assert "Audit log" in d.find_element(By.TAG_NAME, "body").text


def test_login_page_and_first_page_load(server, browser, shots):
    """The login page and, after signing in, the first forecast page with its rows come up in a headless browser
    (how fast is measured by bench/app_latency.py against its 1.5 s target, not asserted here)."""
    d = browser(390, 844)
    d.get(f"{server.url}/login")
    d.save_screenshot(str(shots / "login_phone.png"))
    from selenium.webdriver.common.by import By

    _login(d, server, "ana")
    assert "/login" not in d.current_url  # signed in and moved on to the first page
    assert d.find_element(By.ID, "forecast-rows").text.strip()  # with its forecast rows


def test_screenshots_are_in_the_user_guide():
    expected = {"manager_forecast_phone", "analyst_metrics", "analyst_upload", "admin_health"}
    present = {p.stem for p in DOCS_IMG.glob("*.png")}
    missing = expected - present
    assert not missing, f"run BAKERY_UPDATE_SCREENSHOTS=1 pytest tests/app/test_browser.py; missing {missing}"
