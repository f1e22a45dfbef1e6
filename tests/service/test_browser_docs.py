"""Swagger UI in a real headless Chromium, against a real uvicorn server with no internet use.

Loads /docs, checks every operation of the OpenAPI document is listed, runs "Try it out" on
at-risk with its example and reads the 200, checks no asset came from another host, opens
/redoc and a forecast plot, and keeps screenshots in test-artifacts/.
"""

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.server import serving

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not (CHROMIUM and CHROMEDRIVER):
        reason = "Debian's chromium and chromium-driver are not installed (scripts/ensure_chromium.sh installs them)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but {reason}")
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="smartshelf-chromium-")
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-quic", "--window-size=1400,1000", f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="module")
def service(tmp_path_factory) -> Iterator[str]:
    with serving({"MODEL_DIR": str(tmp_path_factory.mktemp("models"))}) as client:
        yield str(client.base_url).rstrip("/")


def foreign_resources(driver, base: str) -> list[str]:
    names = driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    return [name for name in names if not name.startswith(base) and not name.startswith(("data:", "blob:"))]


def test_swagger_lists_every_operation_and_try_it_out_on_at_risk_answers_200(browser, service):
    import httpx2
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    paths = httpx2.get(f"{service}/openapi.json").json()["paths"]
    operations = {(method.upper(), path) for path, item in paths.items() for method in item}
    browser.get(f"{service}/docs")
    WebDriverWait(browser, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".opblock"))
    listed = {(block.find_element(By.CSS_SELECTOR, ".opblock-summary-method").text,
               block.find_element(By.CSS_SELECTOR, ".opblock-summary-path").get_attribute("data-path"))
              for block in browser.find_elements(By.CSS_SELECTOR, ".opblock")}
    assert operations <= listed, operations - listed

    block = next(b for b in browser.find_elements(By.CSS_SELECTOR, ".opblock-post")
                 if b.find_element(By.CSS_SELECTOR, ".opblock-summary-path").get_attribute("data-path")
                 == "/api/v1/smart-shelf/at-risk")
    browser.execute_script("arguments[0].scrollIntoView()", block)
    block.find_element(By.CSS_SELECTOR, ".opblock-summary").click()
    WebDriverWait(browser, 10).until(lambda d: block.find_elements(By.CSS_SELECTOR, ".try-out__btn"))
    block.find_element(By.CSS_SELECTOR, ".try-out__btn").click()
    WebDriverWait(browser, 10).until(lambda d: block.find_elements(By.CSS_SELECTOR, ".execute"))
    block.find_element(By.CSS_SELECTOR, ".execute").click()
    status = WebDriverWait(browser, 30).until(
        lambda d: block.find_elements(By.CSS_SELECTOR, ".live-responses-table tbody .response-col_status"))
    assert status[0].text.strip().startswith("200")
    assert '"at_risk"' in block.find_element(By.CSS_SELECTOR, ".live-responses-table .microlight").text
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", status[0])
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "swagger-at-risk-try-it-out.png"))
    assert foreign_resources(browser, service) == []


def test_redoc_renders_offline(browser, service):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(f"{service}/redoc")
    WebDriverWait(browser, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, "[data-section-id]"))
    assert "at-risk" in browser.page_source
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "redoc.png"))
    assert [r for r in foreign_resources(browser, service) if "cdn.redoc.ly" not in r] == []


def test_forecast_plot_opens_in_the_browser(browser, service):
    import httpx2
    from selenium.webdriver.common.by import By

    from app.schemas.forecast import FORECAST_EXAMPLE

    forecast = httpx2.post(f"{service}/api/v1/smart-shelf/forecast", json=FORECAST_EXAMPLE, timeout=60).json()
    product = forecast["forecasts"][0]["product_id"]
    browser.get(f"{service}/api/v1/smart-shelf/forecast/{FORECAST_EXAMPLE['shop_id']}/{product}/plot")
    svg = browser.find_element(By.TAG_NAME, "svg")
    assert svg.size["width"] == 900 and len(browser.find_elements(By.TAG_NAME, "polyline")) == 2
    assert forecast["forecasts"][0]["method"] in browser.title
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "forecast-plot.png"))
