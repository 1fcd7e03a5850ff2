"""Lead features: the lead's own attributes, calendar, and lagged rolling ad features, in DuckDB SQL.

For a lead created on day d, the ad features of its ad set and campaign are sums over windows that
end on day d - `lag_days` (default 1): ad data from day d itself is never used, because a daily ad
export for day d is complete only after the day ends, and a same-day feature would leak (a day with
many leads has many clicks). Windows are 7 and 28 days long, on a dense day grid per ad set (days
without delivery count as zeros), plus a trend: the last 7 days against the 7 before. The grid stops at
the last day ads.csv covers: when the ad export lags the CRM, the days after it are unknown, so a lead
whose window ends there has blank ad features, not zeros.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from elv_assets.build import Build, Built
from elv_assets.contracts.inputs import LEAD_CONTACT_COLUMNS, LeadsInput, column_specs
from elv_assets.lakehouse.warehouse import columns
from elv_assets.ml.labels import as_of_end

LEVELS = {"adset": "adset_id", "campaign": "campaign_id"}
WINDOWS = (7, 28)
WINDOW_METRICS = ("spend", "impressions", "clicks", "ctr", "cpc", "cpm", "active_days")
TREND_METRICS = ("spend", "clicks")
# The columns the leads contract names (ids, timestamps, source keys): everything else in silver.leads is an attribute.
LEAD_CONTRACT_COLUMNS = tuple(column_specs(LeadsInput))
# Click ids, e-mail and phone identify a person or a click, not a kind of lead: never features, whatever the contract
# or the identifier rule below would make of them (the offline-conversion export reads them from silver.leads).
NEVER_FEATURES = frozenset(LEAD_CONTRACT_COLUMNS) | frozenset(LEAD_CONTACT_COLUMNS)
CALENDAR_NUMERIC = ("hour",)
CALENDAR_CATEGORICAL = ("weekday",)
CONTEXT_CATEGORICAL = ("platform", "campaign_id")


PACE_FEATURE = "adset_pace_7d"  # the ad set's spend over its daily budgets (adsets.csv), the last 7 days


def ad_feature_names() -> list[str]:
    names = [f"{lvl}_{m}_{w}d" for lvl in LEVELS for w in WINDOWS for m in WINDOW_METRICS]
    return names + [f"{lvl}_{m}_trend" for lvl in LEVELS for m in TREND_METRICS] + [PACE_FEATURE]


def _rolled(level: str, key: str, as_of: dt.date) -> str:
    """Per (key, day) on a dense calendar: rolling sums ending that day, and derived ratios. Counts are summed as
    DOUBLE (exact for whole numbers below 2^53): DuckDB sums BIGINT into HUGEINT, which every reader then
    converts to a float at about three times the cost."""
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
    # an ad set pushed past its planned budget reaches further down its audience: its spend against its budget
    budget = "0.0"
    if level == "adset":
        budget = ("(SELECT max(b.daily_budget) FROM silver.adsets b WHERE b.adset_id = g.k AND g.date BETWEEN "
                  "coalesce(b.start_date, DATE '0001-01-01') AND coalesce(b.end_date, DATE '9999-12-31'))")
        sums.append("sum(budget) OVER (PARTITION BY k ORDER BY date ROWS BETWEEN 6 PRECEDING AND CURRENT ROW) "
                    "AS budget_7d")
        out.append(f"spend_7d / nullif(budget_7d, 0) AS {PACE_FEATURE}")
    return f"""
        daily_{level} AS (
            SELECT {key} AS k, date, sum(spend) AS spend, sum(impressions)::DOUBLE AS impressions,
                   sum(clicks)::DOUBLE AS clicks, (sum(spend) > 0 OR sum(impressions) > 0)::DOUBLE AS active
            FROM silver.ads WHERE date <= DATE '{as_of}' AND {key} IS NOT NULL GROUP BY ALL
        ), grid_{level} AS (  -- to the last day ads.csv covers: later days are unknown, not days without delivery
            SELECT k, unnest(generate_series(min(date)::TIMESTAMP,
                                             least((SELECT max(date) FROM silver.ads), DATE '{as_of}')::TIMESTAMP,
                                             INTERVAL 1 DAY))::DATE AS date
            FROM daily_{level} GROUP BY k
        ), sums_{level} AS (
            SELECT k, date, {", ".join(sums)}
            FROM (SELECT g.k, g.date, coalesce(d.spend, 0) AS spend, coalesce(d.impressions, 0) AS impressions,
                         coalesce(d.clicks, 0) AS clicks, coalesce(d.active, 0) AS active, {budget} AS budget
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

    def without(self, names: list[str]) -> FeatureColumns:
        return FeatureColumns([c for c in self.numeric if c not in names], [c for c in self.categorical
                                                                             if c not in names])


def lead_attribute_columns(silver_leads_columns: list[str]) -> list[str]:
    """The extra columns of leads.csv (form, country, device, employees, ...): the lead's own attributes; never the
    contract's columns, nor the contact columns (gclid, fbclid, email, phone)."""
    return [c for c in silver_leads_columns if c not in NEVER_FEATURES]


@dataclass(frozen=True)
class AttributeKinds:
    """How the lead attributes are used: as numbers, as categories, or not at all (identifiers)."""

    numeric: list[str]
    categorical: list[str]
    identifiers: dict[str, int]  # column -> distinct values: one value (nearly) per lead, so no feature

    @property
    def features(self) -> list[str]:
        return self.numeric + self.categorical


NUMERIC_SHARE = 0.98  # of an attribute's non-blank values that must read as numbers for it to be numeric
NUMERIC_MIN_DISTINCT = 10  # fewer distinct numbers are codes (1/2/3), better used as categories
IDENTIFIER_SHARE = 0.5  # distinct values per non-blank value above which a text attribute identifies the lead
IDENTIFIER_MIN_DISTINCT = 50


def attribute_kinds(con, attributes: list[str], leads: str = "silver.leads") -> AttributeKinds:
    """Sort leads.csv's extra columns, by their values: numbers (employees, pages viewed) become numeric
    features; text with (nearly) one value per lead (emails, phone numbers, click ids) is an identifier, never a
    feature and never copied into gold; the rest are categories."""
    if not attributes:
        return AttributeKinds([], [], {})
    stats = ", ".join(f"count({_q(a)}), count(try_cast({_q(a)} AS DOUBLE)), count(DISTINCT {_q(a)})"
                      for a in attributes)
    row = con.execute(f"SELECT {stats} FROM {leads}").fetchall()[0]
    numeric, categorical, identifiers = [], [], {}
    for i, a in enumerate(attributes):
        filled, numbers, distinct = row[3 * i: 3 * i + 3]
        if filled and numbers >= NUMERIC_SHARE * filled and distinct >= NUMERIC_MIN_DISTINCT:
            numeric.append(a)
        elif distinct >= IDENTIFIER_MIN_DISTINCT and distinct > IDENTIFIER_SHARE * filled:
            identifiers[a] = int(distinct)
        else:
            categorical.append(a)
    return AttributeKinds(numeric, categorical, identifiers)


# Columns of gold.lead_features (and the training table) that are neither attributes nor ad features.
FEATURE_TABLE_KEYS = ("lead_id", "created_at", "adset_id", "label", "split")
# How long the lead's ad and ad set had been delivering when the lead came: creatives and audiences tire.
AGE_FEATURES = ("ad_age_days", "adset_age_days")


def attributes_in(frame) -> AttributeKinds:
    """The lead attributes among a lead-features frame's columns, by their dtype (as lead_features typed them)."""
    known = (set(FEATURE_TABLE_KEYS) | set(CONTEXT_CATEGORICAL) | set(CALENDAR_NUMERIC) | set(CALENDAR_CATEGORICAL)
             | set(AGE_FEATURES) | set(ad_feature_names()))
    attrs = [c for c in frame.columns if c not in known]
    numeric = [c for c in attrs if str(frame[c].dtype).startswith(("float", "int", "Int", "Float"))]
    return AttributeKinds(numeric, [c for c in attrs if c not in numeric], {})


def feature_columns(kinds: AttributeKinds) -> FeatureColumns:
    return FeatureColumns(
        numeric=ad_feature_names() + list(AGE_FEATURES) + list(CALENDAR_NUMERIC) + kinds.numeric,
        categorical=list(CONTEXT_CATEGORICAL) + list(CALENDAR_CATEGORICAL) + kinds.categorical,
    )


def lead_features_select(as_of: dt.date, lag_days: int, kinds: AttributeKinds,
                         leads: str = "gold.lead_attribution") -> str:
    """SELECT of one row per lead created by as_of: lead_id, created_at, adset_id and every feature."""
    ctes = ",".join(_rolled(level, key, as_of) for level, key in LEVELS.items())
    ad_cols = ", ".join(f"r_{lvl}.{name}" for lvl in LEVELS for name in ad_feature_names()
                        if name.startswith(lvl + "_"))
    attrs = "".join(f", s.{_q(a)}" for a in kinds.categorical)
    attrs += "".join(f", try_cast(s.{_q(a)} AS DOUBLE) AS {_q(a)}" for a in kinds.numeric)
    joins = "".join(
        f" LEFT JOIN rolled_{lvl} r_{lvl} ON r_{lvl}.k = a.{key} "
        f"AND r_{lvl}.date = a.created_at::DATE - INTERVAL {int(lag_days)} DAY"
        for lvl, key in LEVELS.items()
    )
    return f"""
        WITH {ctes},
        platforms AS (SELECT campaign_id, min(platform) AS platform FROM silver.ads GROUP BY campaign_id),
        ad_start AS (SELECT ad_id, min(date) AS first_day FROM silver.ads WHERE ad_id IS NOT NULL GROUP BY ad_id),
        adset_start AS (SELECT adset_id, min(date) AS first_day FROM silver.ads GROUP BY adset_id)
        SELECT a.lead_id, a.created_at, a.adset_id,
               p.platform, a.campaign_id, strftime(a.created_at, '%a') AS weekday, hour(a.created_at) AS hour{attrs},
               {ad_cols},
               CASE WHEN ad.first_day <= a.created_at::DATE THEN (a.created_at::DATE - ad.first_day)::DOUBLE END
                   AS ad_age_days,
               CASE WHEN st.first_day <= a.created_at::DATE THEN (a.created_at::DATE - st.first_day)::DOUBLE END
                   AS adset_age_days
        FROM {leads} a
        JOIN silver.leads s USING (lead_id)
        LEFT JOIN platforms p ON p.campaign_id = a.campaign_id
        LEFT JOIN ad_start ad ON ad.ad_id = a.ad_id
        LEFT JOIN adset_start st ON st.adset_id = a.adset_id{joins}
        WHERE a.created_at < {as_of_end(as_of)}
        ORDER BY a.created_at, a.lead_id
    """


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def ads_lag_days(con, as_of: dt.date) -> int | None:
    """Days the ad export ends before the as-of date (0: up to date; None: no ads.csv rows)."""
    last = con.execute("SELECT max(date) FROM silver.ads").fetchall()[0][0]
    return None if last is None else max((as_of - last).days, 0)


def build_lead_features(b: Build) -> Built:
    kinds = attribute_kinds(b.con, lead_attribute_columns(columns(b.con, "silver.leads")))
    lag = ads_lag_days(b.con, b.as_of)
    if lag:
        b.warn(f"ads.csv ends {lag} day(s) before the as-of date {b.as_of}: the ad features of the leads of the "
               f"last {lag} day(s) are unknown (blank), not zero")
    if kinds.identifiers:
        b.log("Left out as identifiers (one value per lead, no pattern to learn, not copied into gold): "
              + ", ".join(kinds.identifiers))
    b.stage(lead_features_select(b.as_of, b.chain.feature_lag_days, kinds))
    cols = feature_columns(kinds)
    return Built(metadata={
        "ads_lag_days": lag, "feature_lag_days": b.chain.feature_lag_days, "numeric_features": len(cols.numeric),
        "categorical_features": len(cols.categorical),
        "numeric_attributes": ", ".join(kinds.numeric) or "none",
        "categorical_attributes": ", ".join(kinds.categorical) or "none",
        "identifiers_left_out": ", ".join(f"{c} ({n:,} distinct)" for c, n in kinds.identifiers.items()) or "none",
    })
