"""Shared by the benchmark scripts: the machine line and writing a marked section of docs/benchmarks.md."""

from __future__ import annotations

import os
import platform
import resource
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


def run_graph(settings, selection: str = "*") -> dict[str, float]:
    """Materialise `selection` in-process as `elv run` does; seconds per step (from its progress lines) and "total".
    Exits with the failures when the run fails."""
    from elv_assets.runner import run_assets

    steps: dict[str, float] = {}

    def echo(line: str) -> None:
        parts = line.split()
        if len(parts) >= 4 and parts[0] in ("ok", "FAIL") and parts[-1] == "s":
            steps[parts[1]] = float(parts[-2])

    t = time.perf_counter()
    outcome = run_assets(settings, selection=selection, as_of=settings.as_of, echo=echo)
    if not outcome.success:
        raise SystemExit(f"the run of {selection} as of {settings.as_of or 'the latest day'} failed: "
                         f"{outcome.failures}")
    steps["total"] = time.perf_counter() - t
    return steps
