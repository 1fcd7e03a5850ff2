"""Lead features: the lead's own attributes, calendar, and lagged rolling ad features, in DuckDB SQL.

For a lead created on day d, the ad features of its ad set and campaign are sums over windows that
end on day d - `lag_days` (default 1): ad data from day d itself is never used, because a daily ad
export for day d is complete only after the day ends, and a same-day feature would leak (a day with
many leads has many clicks). Windows are 7 and 28 days long, on a dense day grid per ad set (days
without delivery count as zeros), plus a trend: the last 7 days against the 7 before.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from elv_assets.build import Build, Built
from elv_assets.contracts.inputs import LeadsInput, column_specs
from elv_assets.lakehouse.warehouse import columns
from elv_assets.ml.labels import as_of_end

LEVELS = {"adset": "adset_id", "campaign": "campaign_id"}
WINDOWS = (7, 28)
WINDOW_METRICS = ("spend", "impressions", "clicks", "ctr", "cpc", "cpm", "active_days")
TREND_METRICS = ("spend", "clicks")
# The columns the leads contract names (ids, timestamps, source keys): everything else in silver.leads is an attribute.
LEAD_CONTRACT_COLUMNS = tuple(column_specs(LeadsInput))
CALENDAR_NUMERIC = ("hour",)
CALENDAR_CATEGORICAL = ("weekday",)
CONTEXT_CATEGORICAL = ("platform", "campaign_id")


def ad_feature_names() -> list[str]:
    names = [f"{lvl}_{m}_{w}d" for lvl in LEVELS for w in WINDOWS for m in WINDOW_METRICS]
    return names + [f"{lvl}_{m}_trend" for lvl in LEVELS for m in TREND_METRICS]


def _rolled(level: str, key: str, as_of: dt.date) -> str:
    """Per (key, day) on a dense calendar: rolling sums ending that day, and derived ratios."""
    sums = []
    for w in WINDOWS:
        frame = f"OVER (PARTITION BY k ORDER BY date ROWS BETWEEN {w - 1} PRECEDING AND CURRENT ROW)"
        sums += [f"sum(spend) {frame} AS spend_{w}d", f"sum(impressions) {frame} AS impressions_{w}d",
                 f"sum(clicks) {frame} AS clicks_{w}d", f"sum(active) {frame} AS active_days_{w}d"]
    prev = "OVER (PARTITION BY k ORDER BY date ROWS BETWEEN 13 PRECEDING AND 7 PRECEDING)"
    sums += [f"sum(spend) {prev} AS spend_prev_7d", f"sum(clicks) {prev} AS clicks_prev_7d"]
    out = []
    for w in WINDOWS:
        s, i, c = f"spend_{w}d", f"impressions_{w}d", f"clicks_{w}d"
        out += [
            f"{s} AS {level}_spend_{w}d", f"{i} AS {level}_impressions_{w}d", f"{c} AS {level}_clicks_{w}d",
            f"{c} / nullif({i}, 0) AS {level}_ctr_{w}d", f"{s} / nullif({c}, 0) AS {level}_cpc_{w}d",
            f"{s} / nullif({i}, 0) * 1000 AS {level}_cpm_{w}d", f"{f'active_days_{w}d'} AS {level}_active_days_{w}d",
        ]
    out += [f"{m}_7d / nullif({m}_prev_7d, 0) - 1 AS {level}_{m}_trend" for m in TREND_METRICS]
    return f"""
        daily_{level} AS (
            SELECT {key} AS k, date, sum(spend) AS spend, sum(impressions) AS impressions, sum(clicks) AS clicks,
                   (sum(spend) > 0 OR sum(impressions) > 0)::INT AS active
            FROM silver.ads WHERE date <= DATE '{as_of}' AND {key} IS NOT NULL GROUP BY ALL
        ), grid_{level} AS (
            SELECT k, unnest(generate_series(min(date)::TIMESTAMP, TIMESTAMP '{as_of}', INTERVAL 1 DAY))::DATE AS date
            FROM daily_{level} GROUP BY k
        ), sums_{level} AS (
            SELECT k, date, {", ".join(sums)}
            FROM (SELECT g.k, g.date, coalesce(d.spend, 0) AS spend, coalesce(d.impressions, 0) AS impressions,
                         coalesce(d.clicks, 0) AS clicks, coalesce(d.active, 0) AS active
                  FROM grid_{level} g LEFT JOIN daily_{level} d USING (k, date))
        ), rolled_{level} AS (
            SELECT k, date, {", ".join(out)} FROM sums_{level}
        )"""


@dataclass(frozen=True)
class FeatureColumns:
    numeric: list[str]
    categorical: list[str]

    @property
    def all(self) -> list[str]:
        return self.numeric + self.categorical


def lead_attribute_columns(silver_leads_columns: list[str]) -> list[str]:
    """The extra columns of leads.csv (form, country, device, ...): categorical features."""
    return [c for c in silver_leads_columns if c not in LEAD_CONTRACT_COLUMNS]


# Columns of gold.lead_features (and the training table) that are neither attributes nor ad features.
FEATURE_TABLE_KEYS = ("lead_id", "created_at", "adset_id", "label", "split")


def attributes_in(table_columns: list[str]) -> list[str]:
    """The lead attributes among a lead-features table's columns (whatever leads.csv brought beyond its contract)."""
    known = set(FEATURE_TABLE_KEYS) | set(CONTEXT_CATEGORICAL) | set(CALENDAR_NUMERIC) | set(CALENDAR_CATEGORICAL)
    return [c for c in table_columns if c not in known and c not in ad_feature_names()]


def feature_columns(attributes: list[str]) -> FeatureColumns:
    return FeatureColumns(
        numeric=ad_feature_names() + list(CALENDAR_NUMERIC),
        categorical=list(CONTEXT_CATEGORICAL) + list(CALENDAR_CATEGORICAL) + attributes,
    )


def lead_features_select(as_of: dt.date, lag_days: int, attributes: list[str],
                         leads: str = "gold.lead_attribution") -> str:
    """SELECT of one row per lead created by as_of: lead_id, created_at, adset_id and every feature."""
    ctes = ",".join(_rolled(level, key, as_of) for level, key in LEVELS.items())
    ad_cols = ", ".join(f"r_{lvl}.{name}" for lvl in LEVELS for name in ad_feature_names() if name.startswith(lvl))
    attrs = "".join(f", s.{_q(a)}" for a in attributes)
    joins = "".join(
        f" LEFT JOIN rolled_{lvl} r_{lvl} ON r_{lvl}.k = a.{key} "
        f"AND r_{lvl}.date = a.created_at::DATE - INTERVAL {int(lag_days)} DAY"
        for lvl, key in LEVELS.items()
    )
    return f"""
        WITH {ctes},
        platforms AS (SELECT campaign_id, min(platform) AS platform FROM silver.ads GROUP BY campaign_id)
        SELECT a.lead_id, a.created_at, a.adset_id,
               p.platform, a.campaign_id, strftime(a.created_at, '%a') AS weekday, hour(a.created_at) AS hour{attrs},
               {ad_cols}
        FROM {leads} a
        JOIN silver.leads s USING (lead_id)
        LEFT JOIN platforms p ON p.campaign_id = a.campaign_id{joins}
        WHERE a.created_at < {as_of_end(as_of)}
        ORDER BY a.created_at, a.lead_id
    """


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def build_lead_features(b: Build) -> Built:
    attrs = lead_attribute_columns(columns(b.con, "silver.leads"))
    b.stage(lead_features_select(b.as_of, b.chain.feature_lag_days, attrs))
    cols = feature_columns(attrs)
    return Built(metadata={
        "feature_lag_days": b.chain.feature_lag_days, "numeric_features": len(cols.numeric),
        "categorical_features": len(cols.categorical), "lead_attributes": ", ".join(attrs) or "none",
    })
