"""Driving the dashboard in a real browser: the Streamlit server on a free local port, a headless Chromium
under Selenium, and what the page shows. Used by test_browser.py and bench/dashboard.py.

Chromium and chromedriver are Debian's `chromium` and `chromium-driver`; `make browser` (part of `make test`)
installs them when they are missing. Nothing here installs anything.
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


def find_browser() -> tuple[str, str] | None:
    """(chromium, chromedriver) paths, or None."""
    browser = next((p for p in CHROMIUM if os.access(p, os.X_OK)), None) or shutil.which("chromium")
    driver = next((p for p in CHROMEDRIVER if os.access(p, os.X_OK)), None) or shutil.which("chromedriver")
    return (browser, driver) if browser and driver else None


def ensure_browser() -> tuple[str, str] | str:
    """(chromium, chromedriver), or why not (the Makefile's `browser` target installs them)."""
    return find_browser() or "Chromium and chromedriver are not installed: run `make browser` (part of `make test`)"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def run_app(serving_dir: Path, artifacts_dir: Path, log_path: Path, timeout: float = 120.0,
            env: dict | None = None) -> Iterator[str]:
    """The dashboard as `make dashboard` starts it (`python -m dashboard.serve`: `streamlit run dashboard/app.py`
    with the first page's imports done first) on a free local port, pointed at a snapshot; yields its URL."""
    port = free_port()
    environ = {**os.environ, "ELV_SERVING_DIR": str(serving_dir), "ELV_ARTIFACTS_DIR": str(artifacts_dir),
               "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false", **(env or {})}
    for name in ("LLM_ENDPOINT", "LLM_API_KEY"):  # rule-based summaries: deterministic, no network
        environ.pop(name, None)
    cmd = [sys.executable, "-m", "dashboard.serve", "--server.headless", "true",
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
