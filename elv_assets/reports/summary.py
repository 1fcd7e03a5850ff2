"""The short summary printed after `make demo` / `elv run`: tables, data quality, where to look next."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from elv_assets.lakehouse.warehouse import SCHEMAS


def warehouse_summary(warehouse: Path, artifacts_dir: Path | None = None) -> str:
    if not warehouse.exists():
        return f"No warehouse at {warehouse} yet."
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        tables = con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema IN (" + ", ".join(f"'{s}'" for s in SCHEMAS) + ") AND table_name NOT LIKE '\\_%' ESCAPE '\\' "
            "ORDER BY list_position(['bronze', 'silver', 'gold', 'monitoring'], table_schema), table_name"
        ).fetchall()
        lines = ["Tables", "------"]
        for schema, name in tables:
            n = _rows(con, f"{schema}.{name}")
            lines.append(f"  {schema + '.' + name:<36} {n:>12,} rows")
        if ("gold", "adset_daily") in tables:
            lines += _adset_totals(con)
        if ("monitoring", "data_quality_report") in tables:
            hits = con.execute(
                "SELECT coalesce(table_name, 'across tables'), check_name, hits FROM monitoring.data_quality_report "
                "WHERE kind IN ('rule', 'cross_table') AND hits > 0 ORDER BY hits DESC"
            ).fetchall()
            lines += ["", "Data-quality highlights", "-----------------------"]
            lines += [f"  {table}: {check.replace('_', ' ')}: {n:,}" for table, check, n in hits] or ["  none"]
        if ("gold", "campaign_leaderboard") in tables and _rows(con, "gold.campaign_leaderboard"):
            lines += _elv_highlights(con, _latest_run(artifacts_dir))
    finally:
        con.close()
    report = _latest_run(artifacts_dir)
    lines += [
        "",
        "Where to look next",
        "------------------",
        *([f"  {report / 'report.html'}   the model report: metrics, lift, calibration, leaderboards, drift"]
          if report else []),
        "  make dashboard          the marketer dashboard on http://localhost:8501",
        "  make ui                 the Dagster UI: lineage, metadata, asset checks",
        f"  duckdb {warehouse}   query the lakehouse (stop the UI first: DuckDB has one writer)",
        "  elv validate            check a data folder before loading it",
    ]
    return "\n".join(lines)


def _rows(con: duckdb.DuckDBPyConnection, table: str) -> int:
    return int(con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0])


def _adset_totals(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Totals of gold.adset_daily; spend is NULL (unknown) without ads.csv, and then no ROAS or CPL. Without CRM
    leads (an ad export alone) the platform's own conversions and value stand in for them."""
    spend, leads, qualified, bookings, revenue, conversions, value, first, last = con.execute(
        "SELECT sum(spend), coalesce(sum(leads), 0), coalesce(sum(qualified), 0), coalesce(sum(bookings), 0), "
        "coalesce(sum(revenue), 0), coalesce(sum(platform_conversions), 0), "
        "coalesce(sum(platform_conversion_value), 0), min(date), max(date) FROM gold.adset_daily"
    ).fetchall()[0]
    if first is None:
        return ["", "Ad sets", "-------", "  no ad-set rows (no ad rows and no lead tied to an ad set)"]
    spent = "spend unknown (no ad rows)" if spend is None else f"spend {spend:,.0f}"
    lines = ["", f"Ad sets, {first:%d %b %Y} to {last:%d %b %Y}", "-" * 30]
    if not leads and conversions:
        ratio = f"   platform-reported ROAS {value / spend:.2f}" if spend else ""
        lines.append(f"  {spent}   platform conversions {conversions:,}   their reported value {value:,.0f}{ratio}")
        lines.append("  no CRM leads: add leads.csv and outcomes.csv for qualified leads, bookings, revenue and ELV")
        return lines
    lines.append(f"  {spent}   leads {leads:,}   qualified {qualified:,}   bookings {bookings:,}")
    ratios = f"   ROAS {revenue / spend:.2f}   CPL {spend / max(leads, 1):,.2f}" if spend else ""
    lines.append(f"  revenue {revenue:,.0f}{ratios}")
    return lines


def _latest_run(artifacts_dir: Path | None) -> Path | None:
    runs = sorted((artifacts_dir / "runs").glob("*/metrics.json"), key=lambda p: p.stat().st_mtime) \
        if artifacts_dir and (artifacts_dir / "runs").is_dir() else []
    return runs[-1].parent if runs else None


def _elv_highlights(con: duckdb.DuckDBPyConnection, run: Path | None) -> list[str]:
    """The model against the baseline, and the campaigns buying the most lead value per unit of spend."""
    lines = ["", "Lead value (ELV)", "----------------"]
    if run:
        head = json.loads((run / "metrics.json").read_text()).get("headline", {})
        if head:
            lines.append(
                f"  model {head['model']} ({head['calibration']} calibration): test PR-AUC {head['test/pr_auc']:.3f} "
                f"vs campaign-rate baseline {head['baseline/campaign_rate/pr_auc']:.3f}; ECE {head['test/ece_width']:.3f}"
            )
    board = con.execute(
        "SELECT campaign_id, coalesce(campaign_name, campaign_id), predicted_elv, elv_per_spend, window_start, "
        "window_end FROM gold.campaign_leaderboard WHERE rank IS NOT NULL ORDER BY rank LIMIT 3"
    ).fetchall()
    if board:
        lines.append(f"  best campaigns, {board[0][4]:%d %b} to {board[0][5]:%d %b}:")
        for _, name, elv, per, _start, _end in board:
            per_text = f"{per:.2f} ELV per unit of spend" if per is not None else "no spend recorded"
            lines.append(f"    {name[:44]:<44} predicted ELV {elv:>10,.0f}   {per_text}")
    return lines
