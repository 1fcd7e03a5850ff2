"""Import a real public ad-performance export into the input contracts.

The Kaggle "Online Advertising Performance Data" file (../shared/data/real/online_advertising_performance)
is a daily display-advertising export of one anonymised advertiser: month, day, campaign_number,
user_engagement, banner, placement, displays, cost, clicks, revenue, post_click_conversions,
post_click_sales_amount. It has no year and no lead-level rows, so it yields ads.csv and
conversions.csv only; ELV needs the CRM's leads and outcomes beside them.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from elv_assets.lakehouse.ingest import sql_str

DEFAULT_YEAR = 2020  # the source gives April to June without a year; 2020 per its documentation
REAL_FILE = Path(__file__).resolve().parents[3] / "shared/data/real/online_advertising_performance" / (
    "online_advertising_performance_data.csv"
)


def import_online_advertising(source: Path, out_dir: Path, year: int = DEFAULT_YEAR) -> dict[str, int]:
    """Write ads.csv and conversions.csv in the input-contract shape; returns row counts."""
    out_dir.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute(
        f"""CREATE TABLE src AS SELECT *,
              make_date({int(year)}, month(strptime(month, '%B')), day::INTEGER) AS date,
              campaign_number || '|' || placement AS adset_id
            FROM read_csv({sql_str(str(source))}, header = true, all_varchar = false)"""
    )
    con.execute(
        f"""COPY (
              SELECT date, 'display' AS platform, campaign_number AS campaign_id, campaign_number AS campaign_name,
                     adset_id, 'placement ' || placement AS adset_name,
                     adset_id || '|' || banner || '|' || user_engagement AS ad_id,
                     banner || ' banner, ' || lower(user_engagement) || ' engagement' AS ad_name,
                     cost AS spend, displays AS impressions, clicks, 'USD' AS currency
              FROM src ORDER BY date, ad_id
            ) TO {sql_str(str(out_dir / 'ads.csv'))} (HEADER)"""
    )
    con.execute(
        f"""COPY (
              SELECT date, adset_id, 'post_click_conversion' AS conversion_type, 'post_click' AS attribution_window,
                     sum(post_click_conversions)::BIGINT AS count, round(sum(post_click_sales_amount), 4) AS value
              FROM src GROUP BY date, adset_id ORDER BY date, adset_id
            ) TO {sql_str(str(out_dir / 'conversions.csv'))} (HEADER)"""
    )
    counts = {
        name: con.execute(f"SELECT count(*) FROM read_csv({sql_str(str(out_dir / name))})").fetchall()[0][0]
        for name in ("ads.csv", "conversions.csv")
    }
    con.close()
    return counts
