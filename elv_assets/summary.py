"""The short summary printed after `make demo` / `elv run`: tables, data quality, where to look next."""

from __future__ import annotations

from pathlib import Path

import duckdb

from elv_assets.warehouse import SCHEMAS


def warehouse_summary(warehouse: Path) -> str:
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
            n = con.execute(f"SELECT count(*) FROM {schema}.{name}").fetchall()[0][0]
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
    finally:
        con.close()
    lines += [
        "",
        "Where to look next",
        "------------------",
        "  make ui                 the Dagster UI: lineage, metadata, asset checks",
        f"  duckdb {warehouse}   query the lakehouse (stop the UI first: DuckDB has one writer)",
        "  elv validate            check a data folder before loading it",
    ]
    return "\n".join(lines)


def _adset_totals(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Totals of gold.adset_daily; spend is NULL (unknown) without ads.csv, and then no ROAS or CPL."""
    spend, leads, qualified, bookings, revenue, first, last = con.execute(
        "SELECT sum(spend), coalesce(sum(leads), 0), coalesce(sum(qualified), 0), coalesce(sum(bookings), 0), "
        "coalesce(sum(revenue), 0), min(date), max(date) FROM gold.adset_daily"
    ).fetchall()[0]
    if first is None:
        return ["", "Ad sets", "-------", "  no ad-set rows (no ad rows and no lead tied to an ad set)"]
    spent = "spend unknown (no ad rows)" if spend is None else f"spend {spend:,.0f}"
    lines = ["", f"Ad sets, {first:%d %b %Y} to {last:%d %b %Y}", "-" * 30]
    lines.append(f"  {spent}   leads {leads:,}   qualified {qualified:,}   bookings {bookings:,}")
    ratios = f"   ROAS {revenue / spend:.2f}   CPL {spend / max(leads, 1):,.2f}" if spend else ""
    lines.append(f"  revenue {revenue:,.0f}{ratios}")
    return lines
