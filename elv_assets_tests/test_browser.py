"""The dashboard as a person sees it: the real Streamlit server, a real headless Chromium.

A small world (size s) goes through the whole asset graph into a serving snapshot; `streamlit run
dashboard/app.py` serves it on a free port on 127.0.0.1; Chromium (Debian's `chromium` and
`chromium-driver`, driven by Selenium) opens it and waits for the overview's KPIs. No page may show a
Streamlit exception, a traceback or the app's "could not be shown" message. A screenshot of the overview
is kept in the test's tmp folder, and copied to docs/img/dashboard-overview.png when ELV_SAVE_SCREENSHOT=1.

`make test` installs Chromium first when it is missing (the Makefile's `browser` target); the test tries
the same when run alone, and skips only when Chromium is neither there nor installable (it fails instead
when CI is set: a CI run must not pass without the browser). bench/dashboard.py uses the helpers here.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
CHROMEDRIVER = ("/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver")
CHROME_FLAGS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--disable-extensions", "--hide-scrollbars", "--mute-audio",
)
KPI_LABEL = "Spend"
ERROR_TEXTS = ("Traceback", "could not be shown")

# The KPIs of the page as [[label, value, stale?], ...] (Streamlit's own test ids).
METRICS_JS = """
return [...document.querySelectorAll('[data-testid="stMetric"]')].map(m => [
  ((m.querySelector('[data-testid="stMetricLabel"]') || {}).innerText || '').trim(),
  ((m.querySelector('[data-testid="stMetricValue"]') || {}).innerText || '').trim(),
  !!m.closest('[data-stale="true"]')]);
"""
STATE_JS = """
const app = document.querySelector('[data-testid="stApp"]');
return {state: app ? app.getAttribute('data-test-script-state') : null,
        stale: document.querySelectorAll('[data-stale="true"]').length,
        exceptions: document.querySelectorAll('[data-testid="stException"]').length,
        path: location.pathname,
        text: document.body ? document.body.innerText : ''};
"""


# ---------------------------------------------------------------------------------------------------------
# Helpers (also used by bench/dashboard.py)


def find_browser() -> tuple[str, str] | None:
    """(chromium, chromedriver) paths, or None."""
    browser = next((p for p in CHROMIUM if os.access(p, os.X_OK)), None) or shutil.which("chromium")
    driver = next((p for p in CHROMEDRIVER if os.access(p, os.X_OK)), None) or shutil.which("chromedriver")
    return (browser, driver) if browser and driver else None


def ensure_browser() -> tuple[str, str] | str:
    """(chromium, chromedriver), installing them with the Makefile's `browser` target if needed; else why not."""
    found = find_browser()
    if found:
        return found
    if not shutil.which("make"):
        return "Chromium and chromedriver are not installed, and there is no `make` to run `make browser`"
    try:
        done = subprocess.run(["make", "-s", "browser"], cwd=ROOT, capture_output=True, text=True, timeout=900)
    except (OSError, subprocess.TimeoutExpired) as err:
        return f"Chromium is not installed and `make browser` did not finish: {err}"
    found = find_browser()
    if found:
        return found
    out = (done.stdout + done.stderr).strip().splitlines()
    return ("Chromium and chromedriver are not installed and `make browser` could not install them"
            + (f": {out[-1]}" if out else ""))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _streamlit() -> list[str]:
    exe = Path(sys.executable).with_name("streamlit")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "streamlit"]


@contextlib.contextmanager
def run_app(serving_dir: Path, artifacts_dir: Path, log_path: Path, timeout: float = 120.0,
            env: dict | None = None) -> Iterator[str]:
    """`streamlit run dashboard/app.py` on a free local port, pointed at a snapshot; yields its URL."""
    port = free_port()
    environ = {**os.environ, "ELV_SERVING_DIR": str(serving_dir), "ELV_ARTIFACTS_DIR": str(artifacts_dir),
               "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false", **(env or {})}
    for name in ("LLM_ENDPOINT", "LLM_API_KEY"):  # rule-based summaries: deterministic, no network
        environ.pop(name, None)
    cmd = [*_streamlit(), "run", "dashboard/app.py", "--server.headless", "true",
           "--server.port", str(port), "--server.address", "127.0.0.1",
           "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false",
           "--global.developmentMode", "false"]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=environ, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"streamlit exited with {proc.returncode}:\n{log_path.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"streamlit did not answer in {timeout:.0f} s:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.2)
        yield url
    finally:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)  # the group of the server this function started
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)


@contextlib.contextmanager
def chrome(paths: tuple[str, str], width: int = 1440, height: int = 1000) -> Iterator:
    """A headless Chromium under Selenium with a fresh profile, closed and cleaned afterwards."""
    os.environ.setdefault("SE_OFFLINE", "true")  # never let Selenium Manager look for downloads
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="elv-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = paths[0]
    for flag in (*CHROME_FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=paths[1]), options=options)
    driver.set_page_load_timeout(120)
    try:
        yield driver
    finally:
        with contextlib.suppress(Exception):
            driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def page_state(driver) -> dict:
    return driver.execute_script(STATE_JS)


def metrics(driver) -> list[list]:
    return driver.execute_script(METRICS_JS)


def wait_until(predicate, timeout: float, what: str, poll: float = 0.02):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {timeout:.0f} s for {what}")
        time.sleep(poll)


def kpis_ready(driver, label: str = KPI_LABEL) -> dict[str, str] | None:
    """The KPIs by label once one labelled `label` shows a value and none is stale; else None."""
    shown = metrics(driver)
    if shown and not any(stale for _, _, stale in shown) and any(
            lab.startswith(label) and value for lab, value, _ in shown):
        return {lab: value for lab, value, _ in shown}
    return None


def settled(driver) -> dict | None:
    """The page state once the script run has finished and nothing is stale; else None."""
    state = page_state(driver)
    return state if state["state"] == "notRunning" and not state["stale"] else None


def problems(state: dict) -> list[str]:
    found = [f"{state['exceptions']} Streamlit exception element(s)"] if state["exceptions"] else []
    return found + [f"the text {t!r}" for t in ERROR_TEXTS if t in state["text"]]


def campaigns_input(driver):
    """The text input of the sidebar's Campaigns multiselect."""
    from selenium.webdriver.common.by import By

    for box in driver.find_elements(By.CSS_SELECTOR, '[data-testid="stSidebar"] [data-testid="stMultiSelect"]'):
        if box.text.strip().startswith("Campaigns"):
            return box.find_element(By.CSS_SELECTOR, "input")
    raise AssertionError("no Campaigns box in the sidebar")


def build_snapshot(folder: Path, size: str = "s"):
    """Generate a world of `size` in folder/raw and run the whole graph; returns its Settings."""
    from elv_assets.generator import generate_world
    from elv_assets.settings import Settings
    from elv_assets_tests.helpers import materialize_all

    generate_world(folder / "raw", size=size, seed=7)
    settings = Settings(folder / "raw", folder / "warehouse.duckdb", folder / "serving", folder / "artifacts", "")
    result = materialize_all(settings, selection="*")
    assert result.success, "the asset graph failed on the browser test's world"
    return settings


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
def snapshot(tmp_path_factory):
    return build_snapshot(tmp_path_factory.mktemp("browser_world"))


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
