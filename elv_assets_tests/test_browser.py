"""The dashboard as a person sees it: the real Streamlit server, a real headless Chromium.

A small world (size s) goes through the whole asset graph into a serving snapshot; the dashboard, started
as `make dashboard` starts it (`python -m dashboard.serve`), serves it on a free port on 127.0.0.1; Chromium (Debian's `chromium` and
`chromium-driver`, driven by Selenium) opens it and waits for the overview's KPIs. No page may show a
Streamlit exception, a traceback or the app's "could not be shown" message. A screenshot of the overview
is kept in the test's tmp folder, and copied to docs/img/dashboard-overview.png when ELV_SAVE_SCREENSHOT=1.

`make test` installs Chromium first when it is missing (the Makefile's `browser` target). Run alone without
it, the test skips; it fails instead when CI is set: a CI run must not pass without the browser. The helpers
are in browser.py (bench/dashboard.py uses them too).
"""

from __future__ import annotations

import os
import shutil
import time
import urllib.parse
import urllib.request

import pytest

from elv_assets_tests.browser import (
    KPI_LABEL,
    ROOT,
    campaigns_input,
    chrome,
    ensure_browser,
    kpis_ready,
    page_state,
    problems,
    run_app,
    settled,
    wait_until,
)

# ---------------------------------------------------------------------------------------------------------
# The tests


@pytest.fixture(scope="module")
def browser_paths() -> tuple[str, str]:
    found = ensure_browser()
    if isinstance(found, str):
        if os.environ.get("CI"):
            pytest.fail(f"{found} (CI must run the browser test)")
        pytest.skip(found)
    return found


@pytest.fixture(scope="module")
def snapshot(demo_run):
    return demo_run.settings


@pytest.fixture(scope="module")
def app(snapshot, browser_paths, tmp_path_factory):
    log = tmp_path_factory.mktemp("browser_app") / "streamlit.log"
    with run_app(snapshot.serving_dir, snapshot.artifacts_dir, log) as url:
        yield url, log


@pytest.fixture(scope="module")
def driver(app, browser_paths):
    with chrome(browser_paths) as d:
        yield d


def test_overview_shows_kpis_without_errors(app, driver, tmp_path):
    url, log = app
    driver.get(url)
    wait_until(lambda: kpis_ready(driver) or problems(page_state(driver)), 120, f"the overview's {KPI_LABEL} KPI")
    state = wait_until(lambda: settled(driver), 60, "the overview's script run to finish")
    assert problems(state) == [], state["text"][:2000]
    shown = kpis_ready(driver)

    assert shown and any(label.startswith(KPI_LABEL) for label in shown), shown
    assert all(value for value in shown.values()), shown
    assert "Traceback" not in log.read_text(errors="replace")

    driver.set_window_size(1440, 1400)  # the KPIs and the whole chart in one picture
    time.sleep(1.0)  # charts draw after the script run, and again after the resize
    shot = tmp_path / "dashboard-overview.png"
    assert driver.save_screenshot(str(shot)) and shot.stat().st_size > 10_000
    if os.environ.get("ELV_SAVE_SCREENSHOT") == "1":
        target = ROOT / "docs" / "img" / "dashboard-overview.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, target)


def test_every_page_opens_without_errors(app, driver):
    from selenium.webdriver.common.by import By

    url, log = app
    driver.get(url)
    wait_until(lambda: settled(driver) and kpis_ready(driver), 120, "the overview")
    for button in driver.find_elements(By.CSS_SELECTOR, '[data-testid="stSidebarNavViewButton"]'):
        button.click()  # "View more": show every page
    links = driver.find_elements(By.CSS_SELECTOR, '[data-testid="stSidebarNavLink"]')
    targets = [(a.get_attribute("href"), a.text.strip()) for a in links]
    assert len(targets) >= 2, targets

    seen = {}
    for href, title in targets:
        link = next(a for a in driver.find_elements(By.CSS_SELECTOR, '[data-testid="stSidebarNavLink"]')
                    if a.get_attribute("href") == href)
        link.click()
        path = urllib.parse.urlparse(href).path or "/"
        state = wait_until(lambda p=path: (s := settled(driver)) and s["path"] == p and s, 120,
                           f"the page {title!r} to finish")
        time.sleep(0.3)  # a late exception (a fragment, a chart) would show by now
        state = page_state(driver)
        seen[title] = problems(state)
        assert not seen[title], f"{title}: {seen[title]}\n{state['text'][:2000]}"
    assert "Traceback" not in log.read_text(errors="replace")


def test_choosing_a_campaign_updates_the_kpis(app, driver):
    from selenium.webdriver.common.by import By

    url, _ = app
    driver.get(url)
    wait_until(lambda: settled(driver) and kpis_ready(driver), 120, "the overview")
    before = kpis_ready(driver)
    box = campaigns_input(driver)
    box.click()
    options = wait_until(lambda: [o for o in driver.find_elements(By.CSS_SELECTOR, '[role="option"]')
                                  if o.text.strip() and o.text.strip() != "Select all"], 20, "the campaign list")
    name = options[0].text.strip()
    options[0].click()
    after = wait_until(lambda: settled(driver) and (k := kpis_ready(driver)) != before and k, 60,
                       "the KPIs to change")
    state = page_state(driver)
    assert problems(state) == [], state["text"][:2000]
    assert after["Spend"] != before["Spend"], (before, after)
    assert name and name in state["text"]  # the caption says which campaign the figures are for
