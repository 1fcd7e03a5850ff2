"""Shared by the benchmark scripts: the machine line and writing a marked section of docs/benchmarks.md."""

from __future__ import annotations

import os
import platform
import resource
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "benchmarks.md"


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def machine_line(command: str) -> str:
    return (f"Measured on {platform.machine()} with {os.cpu_count() or 0} cores, Python {platform.python_version()}, "
            f"on {time.strftime('%Y-%m-%d')}. Command: `{command}`.")


def write_section(name: str, section: str) -> None:
    """Replace the text between `<!-- name:start -->` and `<!-- name:end -->` (or append it)."""
    text = DOC.read_text() if DOC.exists() else "# Benchmarks\n\nEvery figure here comes from a script in `bench/`.\n"
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    body = f"{start}\n{section.strip()}\n{end}"
    if start in text:
        text = text[: text.index(start)] + body + text[text.index(end) + len(end):]
    else:
        text = text.rstrip() + "\n\n" + body + "\n"
    DOC.parent.mkdir(exist_ok=True)
    DOC.write_text(text)


class ResidentWatch:
    """The process's resident memory, sampled every `every` seconds by a thread (Linux: /proc/self/statm);
    `take()` returns the highest sample since the previous `take()`, in MB (0 where /proc is missing)."""

    def __init__(self, every: float = 0.02):
        self._every, self._high, self._stop = every, 0, threading.Event()
        self._page = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _resident(self) -> int:
        try:
            with open("/proc/self/statm") as f:
                return int(f.read().split()[1]) * self._page
        except OSError:
            return 0

    def _run(self) -> None:
        while not self._stop.wait(self._every):
            self._high = max(self._high, self._resident())

    def take(self) -> float:
        high, self._high = max(self._high, self._resident()), 0
        return high / 2**20

    def __enter__(self) -> ResidentWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def run_graph(settings, selection: str = "*", peaks: dict[str, float] | None = None) -> dict[str, float]:
    """Materialise `selection` in-process as `elv run` does; seconds per step (from its progress lines) and "total".
    `peaks`, when given, receives each step's highest resident memory in MB (sampled between the end of the step
    before and its own end, so it includes what earlier steps still hold). Exits with the failures when the run
    fails."""
    from elv_assets.runner import run_assets

    steps: dict[str, float] = {}
    watch = ResidentWatch()

    def echo(line: str) -> None:
        parts = line.split()
        if len(parts) >= 4 and parts[0] in ("ok", "FAIL") and parts[-1] == "s":
            steps[parts[1]] = float(parts[-2])
            if peaks is not None:
                peaks[parts[1]] = watch.take()

    t = time.perf_counter()
    with watch:
        outcome = run_assets(settings, selection=selection, as_of=settings.as_of, echo=echo)
    if not outcome.success:
        raise SystemExit(f"the run of {selection} as of {settings.as_of or 'the latest day'} failed: "
                         f"{outcome.failures}")
    steps["total"] = time.perf_counter() - t
    return steps
