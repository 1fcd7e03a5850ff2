"""monitoring.data_quality_report: column profiles, silver rule hits and cross-table checks.

One long table with a `kind` column, so a person can filter it in the UI and a test can query it:
`profile` rows describe each column of the silver and gold tables; `rule` rows say how often each
silver cleaning rule fired; `cross_table` rows count problems no single file shows.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

from elv_assets.build import Build, Built, table_name
from elv_assets.contracts.inputs import LEAD_CONTACT_COLUMNS
from elv_assets.lakehouse.cleaning import SILVER, rule_hits, typed_bronze_select
from elv_assets.lakehouse.ingest import quote_ident
from elv_assets.lakehouse.warehouse import row_count

PROFILED_KEYS = [f"silver/{n}" for n in SILVER] + ["gold/lead_attribution", "gold/adset_daily"]
PROFILED_TABLES = [table_name(k) for k in PROFILED_KEYS]
DQ_COLUMNS = [
    "kind", "table_name", "column_name", "check_name", "column_type", "rows", "null_fraction",
    "distinct_count", "min_value", "max_value", "mean", "hits", "detail",
]


NUMERIC = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT",
           "FLOAT", "DOUBLE", "DECIMAL")


def profile_rows(con: duckdb.DuckDBPyConnection, table: str) -> list[dict]:
    """Per column: rows, null fraction, approximate distinct count, min and max as text, mean of a number. The
    figures of DuckDB's SUMMARIZE, in one pass that skips what the report does not show (its quartiles, which sort
    every column, took most of its time)."""
    kinds = con.execute(f"DESCRIBE {table}").fetchall()
    parts = ["count(*)"]
    for name, kind, *_ in kinds:
        q = quote_ident(name)
        mean = f"avg({q})::DOUBLE" if kind.split("(")[0] in NUMERIC else "NULL::DOUBLE"
        parts += [f"count({q})", f"approx_count_distinct({q})", f"min({q})::VARCHAR", f"max({q})::VARCHAR", mean]
    values = con.execute(f"SELECT {', '.join(parts)} FROM {table}").fetchall()[0]
    total, rows = int(values[0]), []
    for k, (name, kind, *_) in enumerate(kinds):
        present, distinct, low, high, mean = values[1 + 5 * k:6 + 5 * k]
        # the smallest and largest e-mail or phone number are a person's: the report (served, shown) keeps none
        hidden = name in LEAD_CONTACT_COLUMNS
        rows.append({
            "kind": "profile", "table_name": table, "column_name": name, "column_type": kind, "rows": total,
            "null_fraction": round(100.0 * (total - present) / total, 2) / 100.0 if total else float("nan"),
            "distinct_count": int(distinct),
            "min_value": None if low is None or hidden else low,
            "max_value": None if high is None or hidden else high,
            "mean": None if mean is None or pd.isna(mean) else float(mean),
        })
    return rows


def rule_rows(con: duckdb.DuckDBPyConnection) -> list[dict]:
    rows = []
    for name in SILVER:
        hits = rule_hits(con, name, typed_bronze_select(con, name), row_count(con, f"silver.{name}"))
        rows += [{"kind": "rule", "table_name": f"silver.{name}", "check_name": rule, "hits": n} for rule, n in hits.items()]
    return rows


def cross_table_checks(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> dict[str, tuple[int, str]]:
    """Problems between tables: name -> (count, what it means)."""
    cutoff = f"TIMESTAMP '{as_of} 23:59:59.999999'"
    queries = {
        "unmatched_leads": (
            "SELECT count(*) FROM gold.lead_attribution WHERE join_method = 'unmatched'",
            "leads tied to no campaign (no id, no mapping row, no matching name)",
        ),
        "ambiguous_leads": (
            "SELECT count(*) FROM gold.lead_attribution WHERE join_method = 'ambiguous'",
            "leads whose name matches several campaigns or ad sets; not guessed",
        ),
        "leads_with_unknown_adset": (
            "SELECT count(*) FROM silver.leads WHERE adset_id IS NOT NULL AND (SELECT count(*) FROM silver.ads) > 0 "
            "AND adset_id NOT IN (SELECT DISTINCT adset_id FROM silver.ads)",
            "leads naming an ad set that ads.csv does not have",
        ),
        "adset_days_spend_unknown": (
            "SELECT count(*) FROM gold.adset_daily WHERE spend IS NULL",
            "ad-set days with CRM leads but no delivery data (ad set not in ads.csv, or no ads.csv): "
            "spend and its ratios blank",
        ),
        "outcomes_for_unknown_leads": (
            "SELECT count(*) FROM silver.outcomes WHERE lead_id NOT IN (SELECT lead_id FROM silver.leads)",
            "outcome rows whose lead is not in leads.csv (ignored)",
        ),
        "outcomes_before_created_at": (
            "SELECT count(*) FROM silver.outcomes o JOIN silver.leads l USING (lead_id) "
            "WHERE o.qualified_at < l.created_at OR o.booked_at < l.created_at OR o.won_at < l.created_at",
            "an outcome dated before its lead was created",
        ),
        "ads_end_before_as_of": (
            f"SELECT coalesce(greatest(DATE '{as_of}' - max(date), 0), 0) FROM silver.ads",
            "days between the last day in ads.csv and the as-of date: spend and ad features of those days are "
            "unknown (blank), not zero",
        ),
        "future_ad_rows": (
            f"SELECT count(*) FROM silver.ads WHERE date > {cutoff}",
            f"ad rows after as_of {as_of} (excluded from gold)",
        ),
        "future_leads": (
            f"SELECT count(*) FROM silver.leads WHERE created_at > {cutoff}",
            f"leads created after as_of {as_of} (excluded from gold)",
        ),
        "future_outcomes": (
            f"SELECT count(*) FROM silver.outcomes WHERE qualified_at > {cutoff} OR booked_at > {cutoff} "
            f"OR won_at > {cutoff}",
            f"outcomes dated after as_of {as_of} (not counted)",
        ),
    }
    return {name: (int(con.execute(sql).fetchall()[0][0]), what) for name, (sql, what) in queries.items()}


def data_quality_frame(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> pd.DataFrame:
    rows = [r for table in PROFILED_TABLES for r in profile_rows(con, table)]
    rows += rule_rows(con)
    rows += [
        {"kind": "cross_table", "check_name": name, "hits": n, "detail": what}
        for name, (n, what) in cross_table_checks(con, as_of).items()
    ]
    df = pd.DataFrame(rows).reindex(columns=DQ_COLUMNS)
    for col in ("rows", "distinct_count", "hits"):
        df[col] = df[col].astype("Int64")
    for col in ("null_fraction", "mean"):
        df[col] = df[col].astype(float)
    for col in ("kind", "table_name", "column_name", "check_name", "column_type", "min_value", "max_value", "detail"):
        df[col] = df[col].astype(object).where(df[col].notna(), None)
    return df


def build_data_quality_report(b: Build) -> Built:
    report = data_quality_frame(b.con, b.as_of)
    b.stage_frame(report)
    highlights = report[report["kind"].isin(["rule", "cross_table"]) & (report["hits"] > 0)]
    return Built(metadata={"highlights": highlights[["kind", "table_name", "check_name", "hits", "detail"]]})
