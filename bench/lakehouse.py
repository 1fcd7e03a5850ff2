"""Benchmark the foundation: generate, bronze, silver, gold per world size, wall time and peak memory.

Each stage runs in its own process, so its peak resident memory (DuckDB included) is its own. The
Markdown table is written into docs/benchmarks.md between the `lakehouse` markers.

    .venv/bin/python bench/lakehouse.py                 # sizes s and m
    .venv/bin/python bench/lakehouse.py --sizes s m l   # l is 10M leads: minutes, a few GB of disk
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
from common import ROOT, machine_line, peak_mb, write_section  # noqa: E402

STAGES = {
    "bronze": "key:bronze/*",
    "silver": "key:silver/*",
    "gold": "key:gold/lead_attribution or key:gold/adset_daily or key:monitoring/data_quality_report",
}


def worker(stage: str, size: str, folder: Path) -> dict:
    """One stage in this process; returns seconds and peak memory."""
    start = time.perf_counter()
    if stage == "generate":
        from elv_assets.demo.generator import generate_world

        summary = generate_world(folder / "raw", size=size, seed=7)
        extra = {"leads": summary.get("leads.csv")}
    elif stage == "scan":
        import duckdb

        con = duckdb.connect()
        for csv in sorted((folder / "raw").glob("*.csv")):
            con.execute(f"SELECT count(*) FROM read_csv('{csv}', all_varchar = true)").fetchall()
        extra = {}
    elif stage == "definitions":
        import elv_assets.definitions  # noqa: F401

        extra = {}
    else:
        from elv_assets.runner import run_assets
        from elv_assets.settings import Settings

        settings = Settings(folder / "raw", folder / "warehouse.duckdb", folder / "serving", folder / "artifacts", "")
        outcome = run_assets(settings, selection=STAGES[stage], echo=lambda _m: None)
        if not outcome.success:
            raise SystemExit(f"{stage} failed: {outcome.failures}")
        extra = {}
    return {"seconds": time.perf_counter() - start, "peak_mb": peak_mb(), **extra}


def run_stage(stage: str, size: str, folder: Path) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--worker", stage, "--size", size, "--dir", str(folder)],
        check=True, capture_output=True, text=True, cwd=ROOT,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def demo_seconds() -> float:
    """`elv demo` end to end on size s in a fresh folder (what `make demo` runs after install)."""
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            "PATH": str(Path(sys.executable).parent), "ELV_DATA_DIR": f"{tmp}/raw",
            "ELV_WAREHOUSE": f"{tmp}/warehouse.duckdb", "ELV_SERVING_DIR": f"{tmp}/serving",
            "ELV_ARTIFACTS_DIR": f"{tmp}/artifacts", "DAGSTER_HOME": f"{tmp}/dagster_home",
        }
        start = time.perf_counter()
        subprocess.run([str(Path(sys.executable).parent / "elv"), "demo"], check=True, env=env, cwd=ROOT,
                       capture_output=True)
        return time.perf_counter() - start


def bench_size(size: str) -> dict:
    folder = Path(tempfile.mkdtemp(prefix=f"elv-bench-{size}-"))
    try:
        results = {"size": size}
        for stage in ("generate", "scan", "bronze", "silver", "gold"):
            results[stage] = run_stage(stage, size, folder)
            print(f"  {size} {stage:<9} {results[stage]['seconds']:7.1f} s  {results[stage]['peak_mb']:7.0f} MB",
                  flush=True)
        results["raw_mb"] = sum(p.stat().st_size for p in (folder / "raw").glob("*.csv")) / 1e6
        return results
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def markdown(rows: list[dict], demo: float, definitions: dict, command: str) -> str:
    lines = [
        "## Foundation: generate, bronze, silver, gold",
        "",
        machine_line(command),
        "Each stage runs in its own process; peak memory is that process's maximum resident set "
        "(Python, Dagster and DuckDB together).",
        "",
        "| size | leads | raw CSV | generate | bronze | silver | gold + DQ | bronze→gold | peak memory (stage) "
        "| DuckDB scan of the raw CSVs | bronze→gold / scan |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|",
    ]
    for r in rows:
        b2g = r["bronze"]["seconds"] + r["silver"]["seconds"] + r["gold"]["seconds"]
        peak = max(("bronze", "silver", "gold"), key=lambda s: r[s]["peak_mb"])
        lines.append(
            f"| {r['size']} | {r['generate'].get('leads') or 0:,} | {r['raw_mb']:,.0f} MB | "
            f"{r['generate']['seconds']:.1f} s | {r['bronze']['seconds']:.1f} s | {r['silver']['seconds']:.1f} s | "
            f"{r['gold']['seconds']:.1f} s | **{b2g:.1f} s** | {r[peak]['peak_mb']:,.0f} MB ({peak}) | "
            f"{r['scan']['seconds']:.2f} s | {b2g / r['scan']['seconds']:.1f}x |"
        )
    lines += [
        "",
        f"- `elv demo` end to end on size s (generate + every asset incl. the ELV chain, after install): **{demo:.1f} s** "
        "(budget 30 s).",
        f"- Loading the code location (`import elv_assets.definitions`, fresh process): "
        f"**{definitions['seconds']:.2f} s** (budget 5 s).",
        "- Budget for size m bronze to gold: under 60 s with peak memory under 3 GB.",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", nargs="+", default=["s", "m"], choices=["s", "m", "l"])
    parser.add_argument("--worker")
    parser.add_argument("--size")
    parser.add_argument("--dir")
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.size, Path(args.dir))))
        return
    rows = [bench_size(size) for size in args.sizes]
    definitions = run_stage("definitions", "s", ROOT)
    demo = demo_seconds()
    command = "python bench/lakehouse.py --sizes " + " ".join(args.sizes)
    section = markdown(rows, demo, definitions, command)
    write_section("lakehouse", section)
    print(section)


if __name__ == "__main__":
    main()
