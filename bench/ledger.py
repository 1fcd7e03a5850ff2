"""Benchmark closing the loop: do the ledger's predictions come true, and do age-aware counts beat day-0 counts?

- Replays (size s, world v2): the whole graph runs as of the last day minus 7 x k days for k = WEEKS..0, in date
  order, each run retraining and appending its predictions to monitoring.prediction_ledger, as a new deployment
  would backfill its history. After the last run, from monitoring.realised_vs_predicted: the share of matured
  cohort x campaign cells (and whole cohorts) whose qualified count fell inside the 90 % band.
- Age-aware counts: for every replayed as-of date D but the last, the leads whose window was still open at D (the
  ledger's rows of D) whose outcome is known by the last run, per campaign: the sum of p at creation and the sum of
  the age-aware p of D, each against how many qualified; the mean absolute error of both.
- Ledger growth (size m, `--growth`): one whole run, then the day's ledger rows appended for 90 as-of dates (the
  same leads re-dated, which is what 90 daily runs append in size); the ledger's rows and bytes, the time of the
  90th append, and the three ledger assets' share of the run.
Results go between the `ledger` (and `ledger-growth`) markers of docs/benchmarks.md.

    .venv/bin/python bench/ledger.py              # replays on v2 seed 7, 8 weeks
    .venv/bin/python bench/ledger.py --growth     # the ledger's growth at size m (section ledger-growth)
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine_line, run_graph, write_section  # noqa: E402

LEDGER_ASSETS = ("monitoring/prediction_ledger", "monitoring/realised_vs_predicted", "monitoring/elv_history")


def _settings(folder: Path, as_of: str = ""):
    from elv_assets.settings import Settings

    return Settings(folder / "raw", folder / "warehouse.duckdb", folder / "serving", folder / "artifacts", as_of)


def replays(weeks: int, seed: int) -> str:
    import duckdb

    from elv_assets.demo.generator import generate_world

    folder = Path(tempfile.mkdtemp(prefix="bench-ledger-"))
    generate_world(folder / "raw", size="s", seed=seed, world="v2")
    created = pd.read_csv(folder / "raw" / "leads.csv", usecols=["created_at"], dtype=str)["created_at"]
    last = pd.to_datetime(created).max().date()
    days = [last - dt.timedelta(days=7 * k) for k in range(weeks, -1, -1)]
    seconds = []
    for day in days:
        print(f"  run as of {day} ...", flush=True)
        seconds.append(run_graph(_settings(folder, str(day)))["total"])
    con = duckdb.connect(str(folder / "warehouse.duckdb"), read_only=True)
    rvp = con.execute("SELECT * FROM monitoring.realised_vs_predicted").df()
    matured = rvp[rvp.status == "matured"]
    cells = matured[matured.campaign_id != "(all)"]
    whole = matured[matured.campaign_id == "(all)"]
    ledger_n, ledger_days = con.execute(
        "SELECT count(*), count(DISTINCT as_of_date) FROM monitoring.prediction_ledger").fetchall()[0]
    # age-aware against day-0 on the leads whose window was open at each replayed day, known by the last
    per = con.execute("""
        SELECT g.as_of_date::DATE AS as_of, coalesce(g.campaign_id, '(unattributed)') AS campaign_id,
               count(*) AS leads, sum(g.p_qualified_14d) AS at_creation, sum(g.p_given_age) AS given_age,
               sum(l.label) AS qualified
        FROM monitoring.prediction_ledger g JOIN gold.lead_labels l USING (lead_id)
        WHERE l.mature AND g.as_of_date < (SELECT max(as_of_date) FROM monitoring.prediction_ledger)
        GROUP BY ALL ORDER BY 1, 2""").df()
    con.close()
    per["err_creation"] = (per.at_creation - per.qualified).abs()
    per["err_age"] = (per.given_age - per.qualified).abs()
    by_day = per.groupby("as_of").agg(leads=("leads", "sum"), qualified=("qualified", "sum"),
                                      at_creation=("at_creation", "sum"), given_age=("given_age", "sum"),
                                      mae_creation=("err_creation", "mean"), mae_age=("err_age", "mean"))
    lines = [
        f"**Replays** (world v2, size s, seed {seed}): {len(days)} whole runs as of {days[0]} to {days[-1]}, one a "
        f"week, {sum(seconds) / len(seconds):.0f} s each on average. The ledger then holds {ledger_n:,} predictions "
        f"over {ledger_days} as-of dates.",
        "",
        f"- Matured cohort x campaign cells inside the 90 % band: **{(cells.versus_band == 'inside').mean():.0%}** "
        f"({(cells.versus_band == 'inside').sum()} of {len(cells)}; above {(cells.versus_band == 'above').sum()}, "
        f"below {(cells.versus_band == 'below').sum()}); goal at least 80 %.",
        f"- Whole matured cohorts inside their 90 % band: {(whole.versus_band == 'inside').sum()} of {len(whole)}.",
        f"- Age-aware counts against day-0 counts, per campaign and replayed day, for the leads whose window was "
        f"still open that day: mean absolute error **{per.err_age.mean():.1f}** qualified leads (age-aware) against "
        f"**{per.err_creation.mean():.1f}** (p at creation), over {len(per)} cells.",
        "",
        "| as of | open-window leads | qualified in the end | sum of p at creation | sum of age-aware p | MAE per "
        "campaign, at creation | MAE per campaign, age-aware |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for day, r in by_day.iterrows():
        lines.append(f"| {pd.Timestamp(day).date()} | {r.leads:,.0f} | {r.qualified:,.0f} | {r.at_creation:,.1f} | {r.given_age:,.1f} | "
                     f"{r.mae_creation:.1f} | {r.mae_age:.1f} |")
    cols = ["cohort_week", "leads", "predicted_qualified", "band_low", "band_high", "qualified", "versus_band",
            "expected_roc_auc", "roc_auc", "expected_pr_auc", "pr_auc"]
    lines += ["", "Whole cohorts (all campaigns) after the last run:", "",
              rvp[rvp.campaign_id == "(all)"][cols].assign(cohort_week=lambda d: d.cohort_week.dt.date)
              .round(3).to_markdown(index=False)]
    return "\n".join(lines)


def growth(runs: int = 90, seed: int = 7) -> str:
    import duckdb

    from elv_assets.demo.generator import generate_world
    from elv_assets.lakehouse.warehouse import append_in

    folder = Path(tempfile.mkdtemp(prefix="bench-ledger-m-"))
    generate_world(folder / "raw", size="m", seed=seed, world="v2")
    steps = run_graph(_settings(folder))
    ledger_s = sum(steps.get(k, 0.0) for k in LEDGER_ASSETS)
    wh = folder / "warehouse.duckdb"
    con = duckdb.connect(str(wh))
    day_rows = con.execute("SELECT count(*) FROM monitoring.prediction_ledger").fetchall()[0][0]
    con.execute("CREATE TABLE monitoring.day AS SELECT * FROM monitoring.prediction_ledger")
    size0 = wh.stat().st_size
    last = 0.0
    for i in range(1, runs):
        con.execute("CREATE OR REPLACE TABLE monitoring._stage_prediction_ledger AS SELECT * REPLACE "
                    f"(as_of_date - INTERVAL {i} DAY AS as_of_date) FROM monitoring.day")
        t = time.perf_counter()
        append_in(con, "monitoring._stage_prediction_ledger", "monitoring.prediction_ledger",
                  ("as_of_date", "model_version"))
        last = time.perf_counter() - t
    con.execute("DROP TABLE monitoring.day")
    con.execute("CHECKPOINT")
    rows = con.execute("SELECT count(*) FROM monitoring.prediction_ledger").fetchall()[0][0]
    con.close()
    grown = (wh.stat().st_size - size0) / 1e6
    return (f"**Ledger growth** (world v2, size m, seed {seed}): a whole run takes {steps['total']:.0f} s, of which "
            f"the three ledger assets {ledger_s:.1f} s (**+{ledger_s / (steps['total'] - ledger_s):.1%}** over the run "
            f"without them; budget +10 %). A day appends {day_rows:,} rows (the leads whose window is open); after "
            f"{runs} as-of dates the ledger holds {rows:,} rows and the warehouse file grew by about {grown:,.0f} MB; "
            f"the {runs}th append took {last:.2f} s.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weeks", type=int, default=8)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--growth", action="store_true", help="measure the ledger's growth at size m instead")
    args = parser.parse_args()
    if args.growth:
        section = "\n".join([machine_line("python bench/ledger.py --growth"), "", growth(seed=args.seed)])
        write_section("ledger-growth", section)
    else:
        section = "\n".join([machine_line("python bench/ledger.py"), "", replays(args.weeks, args.seed)])
        write_section("ledger", "## Closing the loop: the prediction ledger\n\n" + section)
    print(section)


if __name__ == "__main__":
    main()
