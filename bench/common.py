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
