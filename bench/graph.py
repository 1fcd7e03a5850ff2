"""The whole graph (`elv run`) per world size: wall time per asset, the process's peak memory, and the time from
bronze to gold against a bare DuckDB load of the same CSVs measured in the same run.

Each size runs in its own process (its peak memory is its own): generate (seed 5, the default world, as the
acceptance check `perf-size-m` does), a bare DuckDB load of every CSV (`read_csv(all_varchar)` into a table),
then every asset in-process as `elv run` materialises them. Writes the `graph` section of docs/benchmarks.md.
Budgets (issue "Scale and speed"): size m whole graph <= 60 s and <= 3 GB; bronze to gold <= 10x the bare load;
size l (10M leads) <= 10 min and <= 8 GB.

    .venv/bin/python bench/graph.py                # size m
    .venv/bin/python bench/graph.py --sizes m l    # l: 10M leads, a few GB of disk
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, machine_line, peak_mb, run_graph, write_section  # noqa: E402

LAKEHOUSE = ("bronze/", "silver/", "gold/as_of_date", "gold/lead_attribution", "gold/adset_daily",
             "gold/lead_features", "gold/lead_labels", "gold/adset_daily_features", "gold/adset_weekly",
             "monitoring/data_quality_report")
SHOWN = 14  # the slowest assets listed by name; the rest summed


def worker(size: str, folder: Path) -> dict:
    import duckdb

    from elv_assets.demo.generator import generate_world
    from elv_assets.settings import Settings

    t = time.perf_counter()
    summary = generate_world(folder / "raw", size=size, seed=5)
    generate = time.perf_counter() - t
    t = time.perf_counter()
    con = duckdb.connect()
    for csv in sorted((folder / "raw").glob("*.csv")):
        con.execute(f"CREATE OR REPLACE TABLE t AS SELECT * FROM read_csv('{csv}', all_varchar = true)")
    con.close()
    scan = time.perf_counter() - t
    settings = Settings(folder / "raw", folder / "warehouse.duckdb", folder / "serving", folder / "artifacts", "")
    peaks: dict[str, float] = {}
    steps = run_graph(settings, peaks=peaks)
    return {"size": size, "leads": summary.get("leads.csv"), "generate_s": generate, "scan_s": scan,
            "total_s": steps.pop("total"), "steps": steps, "peaks_mb": peaks, "peak_mb": peak_mb()}


def bench_size(size: str) -> dict:
    folder = Path(tempfile.mkdtemp(prefix=f"elv-graph-{size}-"))
    try:
        out = subprocess.run([sys.executable, __file__, "--worker", size, "--dir", str(folder)], check=True,
                             capture_output=True, text=True, cwd=ROOT)
        return json.loads(out.stdout.strip().splitlines()[-1])
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def markdown(rows: list[dict], command: str) -> str:
    lines = ["### The whole graph", "", machine_line(command), ""]
    for r in rows:
        steps, peaks = r["steps"], r.get("peaks_mb", {})
        lakehouse = sum(s for k, s in steps.items() if k.startswith(LAKEHOUSE))
        slowest = sorted(steps.items(), key=lambda kv: -kv[1])
        shown = slowest[:SHOWN]
        rest = sum(s for _, s in slowest[SHOWN:])
        lines += [
            f"Size {r['size']} ({r['leads']:,} leads; generated in {r['generate_s']:.0f} s): whole graph "
            f"**{r['total_s']:.0f} s**, peak memory **{r['peak_mb'] / 1024:.1f} GB**. Bronze to gold (every bronze "
            f"and silver table, the gold lakehouse tables and data quality) {lakehouse:.1f} s = "
            f"**{lakehouse / r['scan_s']:.1f}x** a bare DuckDB load of the same CSVs ({r['scan_s']:.1f} s).",
            "",
            "| asset | seconds | share | resident memory at its peak |",
            "|---|---|---|---|",
            *[f"| {k} | {s:.1f} | {s / r['total_s']:.0%} | {_mb(peaks.get(k))} |" for k, s in shown],
            f"| the other {len(slowest) - len(shown)} assets | {rest:.1f} | {rest / r['total_s']:.0%} | "
            f"{_mb(max((peaks.get(k, 0) for k, _ in slowest[SHOWN:]), default=None))} (the highest) |",
            f"| Dagster's own work (run start, events, between steps) | {r['total_s'] - sum(steps.values()):.1f} | "
            f"{(r['total_s'] - sum(steps.values())) / r['total_s']:.0%} | |",
            "",
            "Resident memory at a step's peak is the process's highest resident set while the step ran, sampled "
            "every 20 ms: it includes what earlier steps still hold. "
            + ("The highest: " + ", ".join(f"{k} {v:,.0f} MB" for k, v in
                                           sorted(peaks.items(), key=lambda kv: -kv[1])[:3]) + "." if peaks else ""),
            "",
        ]
    return "\n".join(lines)


def _mb(mb: float | None) -> str:
    return f"{mb:,.0f} MB" if mb else "-"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", nargs="+", default=["m"], choices=["s", "m", "l"])
    parser.add_argument("--worker")
    parser.add_argument("--dir")
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, Path(args.dir))))
        return
    rows = [bench_size(size) for size in args.sizes]
    section = markdown(rows, "python bench/graph.py --sizes " + " ".join(args.sizes))
    write_section("graph", section)
    print(section)


if __name__ == "__main__":
    main()
