"""The daily refresh after one new day against a full rebuild, at size m.

A size-m world (seed 5): the whole graph as of the day before its last day D (what the weekly retrain or the
first `elv run` leaves), then the scheduled `daily_refresh` job exactly as the daemon launches it at 06:00 on D + 1
(as of D: one new day of ads, leads and outcomes), then, for comparison, the whole graph again as of D. Each in
this process, in the in-process executor. Writes the `daily` section of docs/benchmarks.md. Budget (issue "Scale
and speed"): the daily refresh <= 25 % of a full rebuild.

    .venv/bin/python bench/daily.py            # size m
    .venv/bin/python bench/daily.py --size s   # a quick look
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine_line, peak_mb, run_graph, write_section  # noqa: E402

SHOWN = 8


def scheduled_daily(settings, tick: dt.datetime) -> tuple[float, dict[str, float]]:
    """The daily_refresh schedule evaluated at `tick` and its run launched as the daemon does; seconds and per-asset
    seconds (from the step events)."""
    import dagster as dg

    from elv_assets.defs import ALL_ASSETS
    from elv_assets.defs.jobs import jobs, schedules
    from elv_assets.defs.resources import build_resources

    defs = dg.Definitions(assets=ALL_ASSETS, jobs=jobs, schedules=schedules, resources=build_resources(settings),
                          executor=dg.in_process_executor)
    schedule = defs.resolve_schedule_def("daily_refresh_schedule")
    [request] = schedule.evaluate_tick(dg.build_schedule_context(scheduled_execution_time=tick)).run_requests
    t = time.perf_counter()
    result = defs.resolve_job_def(schedule.job_name).execute_in_process(run_config=request.run_config,
                                                                         tags=request.tags, raise_on_error=False)
    seconds = time.perf_counter() - t
    if not result.success:
        raise SystemExit("the daily refresh failed")
    steps = {event.step_key.replace("__", "/"): event.event_specific_data.duration_ms / 1000
             for event in result.all_events if event.event_type_value == "STEP_SUCCESS"}
    return seconds, steps


def main() -> None:
    import duckdb

    from elv_assets.demo.generator import generate_world
    from elv_assets.settings import Settings

    parser = argparse.ArgumentParser()
    parser.add_argument("--size", default="m", choices=["s", "m"])
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="elv-daily-"))
    try:
        summary = generate_world(folder / "raw", size=args.size, seed=5)
        con = duckdb.connect()
        last = con.execute(f"SELECT max(created_at)::DATE FROM read_csv('{folder / 'raw' / 'leads.csv'}')"
                           ).fetchall()[0][0]
        con.close()
        day_before = last - dt.timedelta(days=1)
        settings = Settings(folder / "raw", folder / "warehouse.duckdb", folder / "serving", folder / "artifacts",
                            day_before.isoformat())
        first = run_graph(settings)
        daily_s, daily_steps = scheduled_daily(settings, dt.datetime.combine(last + dt.timedelta(days=1),
                                                                             dt.time(6, 0), dt.timezone.utc))
        rebuild = run_graph(Settings(folder / "raw", folder / "warehouse.duckdb", folder / "serving",
                                     folder / "artifacts", last.isoformat()))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    full_s = rebuild.pop("total")
    slowest = sorted(daily_steps.items(), key=lambda kv: -kv[1])[:SHOWN]
    section = "\n".join([
        "### The daily refresh after one new day",
        "",
        machine_line(f"python bench/daily.py --size {args.size}"),
        "",
        f"Size {args.size} ({summary.get('leads.csv'):,} leads, seed 5). The whole graph as of {day_before} "
        f"({first['total']:.0f} s), then the scheduled `daily_refresh` as the daemon launches it at 06:00 on "
        f"{last + dt.timedelta(days=1)} (as of {last}: one new day): **{daily_s:.0f} s**, against the whole graph "
        f"rebuilt as of {last}: {full_s:.0f} s, so **{daily_s / full_s:.0%}** of a full rebuild (budget 25 %). "
        f"Peak memory of the process {peak_mb() / 1024:.1f} GB. The daily job trains nothing; its slowest assets:",
        "",
        "| asset | seconds |",
        "|---|---|",
        *[f"| {k} | {s:.1f} |" for k, s in slowest],
        "",
        "`gold/lead_scores` keeps the previous run's scores of settled leads (same serving model, label window "
        "closed, same label and features) and scores the rest; the other assets rebuild from the whole export, "
        "which the daily folder holds again each day.",
    ])
    if not args.no_write:
        write_section("daily", section)
    print(section)


if __name__ == "__main__":
    main()
