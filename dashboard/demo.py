"""Score-first standalone mode: the dashboard builds the demo world itself when there is no snapshot yet.

The demo lives in its own folder (ELV_DEMO_DIR, default `<system temp>/elv-dashboard-demo`): its own CSVs,
warehouse, artifacts and serving snapshot. It never writes into the configured folders, so a demo model can
never become the serving model a real pipeline run is compared against, and the configured snapshot, once
published, always wins over the demo one.

A build is bounded: the size-s world (40k leads, 180 days), generated and run through every asset by `elv demo`
in a subprocess (the dashboard never imports the pipeline; the build's memory goes when it ends), which ends with
the serving snapshot. Its progress lines drive the progress bar. One build at a time per process.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

from elv_assets.settings import Settings

DEMO_SIZE = "s"
DEMO_SEED = 7
GENERATE_SHARE = 0.1  # of the progress bar; the run takes the rest
BUILD_TIMEOUT_SECONDS = 900

_build_lock = threading.Lock()

Progress = Callable[[float, str], None]


def demo_root() -> Path:
    return Path(os.environ.get("ELV_DEMO_DIR") or Path(tempfile.gettempdir()) / "elv-dashboard-demo")


def demo_settings(root: Path | None = None) -> Settings:
    root = demo_root() if root is None else Path(root)
    return Settings(root / "raw", root / "warehouse.duckdb", root / "serving", root / "artifacts", "")


class RunProgress:
    """Turns the runner's lines ("Materialising N asset(s) ...", "  ok   step  1.2 s") into a fraction."""

    START = re.compile(r"Materialising (\d+) asset")
    STEP = re.compile(r"^\s+(ok|FAIL)\s+(\S+)")

    def __init__(self, report: Progress, offset: float = 0.0):
        self.report, self.offset = report, offset
        self.total, self.done = 0, 0

    def __call__(self, line: str) -> None:
        if m := self.START.search(line):
            self.total = int(m.group(1))
            self.report(self.offset, "running the pipeline")
        elif m := self.STEP.match(line):
            self.done += 1
            share = min(self.done / self.total, 0.99) if self.total else 0.5
            verb = "done" if m.group(1) == "ok" else "FAILED"
            self.report(self.offset + (1 - self.offset) * share, f"{m.group(2)} {verb}")


def demo_command(settings: Settings) -> tuple[list[str], dict[str, str]]:
    """`elv demo` for the demo folder: the command and its environment (the demo's own folders, no DAGSTER_HOME)."""
    env = {**os.environ, "ELV_DATA_DIR": str(settings.data_dir), "ELV_WAREHOUSE": str(settings.warehouse),
           "ELV_SERVING_DIR": str(settings.serving_dir), "ELV_ARTIFACTS_DIR": str(settings.artifacts_dir),
           "PYTHONUNBUFFERED": "1"}
    for name in ("DAGSTER_HOME", "ELV_AS_OF"):  # a throwaway instance; the demo's own latest date
        env.pop(name, None)
    cmd = [sys.executable, "-m", "elv_assets.cli", "demo", "--size", DEMO_SIZE, "--seed", str(DEMO_SEED)]
    return cmd, env


def build_demo(progress: Progress, root: Path | None = None,
               timeout: float = BUILD_TIMEOUT_SECONDS) -> tuple[bool, list[str]]:
    """Generate the demo world and run every asset with `elv demo`; (success, failure messages). Refuses a second
    build while one runs; a build past `timeout` seconds is stopped."""
    if not _build_lock.acquire(blocking=False):
        return False, ["a demo build is already running in this dashboard; wait for it, then reload"]
    try:
        settings = demo_settings(root)
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        progress(0.0, "generating the demo world")
        run = RunProgress(progress, GENERATE_SHARE)
        cmd, env = demo_command(settings)
        lines: list[str] = []
        with subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              stdin=subprocess.DEVNULL) as proc:
            stopped = threading.Event()

            def stop() -> None:
                stopped.set()
                proc.kill()

            cap = threading.Timer(timeout, stop)  # the cap holds even while the run prints nothing
            cap.start()
            try:
                for line in proc.stdout:
                    lines.append(line.rstrip())
                    run(line.rstrip())
                code = proc.wait()
            finally:
                cap.cancel()
        ok = code == 0 and not stopped.is_set()
        if stopped.is_set():
            lines.append(f"demo build: stopped after {timeout:.0f} s, the cap on a build on this server")
        progress(1.0, "done" if ok else "failed")
        # the runner prints each failed step as "asset: message" on its own paragraph after the run line
        failures = [] if ok else [ln for ln in lines if ": " in ln and not ln.startswith(" ")][-5:] or lines[-5:]
        return ok, failures
    finally:
        _build_lock.release()
