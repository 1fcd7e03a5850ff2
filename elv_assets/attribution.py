"""Which campaign, ad set and ad each lead came from, and how we know.

Strategy, best first: the lead's own ids (filling the campaign from the ad set and the ad set from
the ad via ads.csv); then the mapping file (utm_content, adset_name, utm_campaign, campaign_name, in
that order); then normalised names (lower case, punctuation and spacing folded) against the names in
ads.csv. A name that matches more than one campaign or ad set is not guessed: the lead is marked
`ambiguous` with the candidates counted. Leads matched by nothing are `unmatched`.
"""

from __future__ import annotations

import datetime as dt

import duckdb

from elv_assets.contracts.tables import JOIN_METHODS

MAPPING_PRIORITY = ("utm_content", "adset_name", "utm_campaign", "campaign_name")


def normalise_name_sql(expr: str) -> str:
    return f"NULLIF(trim(regexp_replace(lower({expr}), '[^a-z0-9]+', ' ', 'g')), '')"


def attribution_select(as_of: dt.date) -> str:
    """SQL of gold.lead_attribution over silver.leads, silver.ads and silver.mapping."""
    mapping_joins = "\n        UNION ALL\n".join(
        f"""SELECT l.lead_id, {i} AS prio, m.campaign_id, m.adset_id, '{f}=' || m.value AS detail
        FROM l JOIN silver.mapping m ON m.field = '{f}' AND m.value = l.{f}"""
        for i, f in enumerate(MAPPING_PRIORITY, start=1)
    )
    n = normalise_name_sql
    return f"""
    WITH l AS (
        SELECT lead_id, created_at, campaign_id, adset_id, ad_id, utm_campaign, utm_content, campaign_name, adset_name
        FROM silver.leads WHERE created_at::DATE <= DATE '{as_of}'
    ),
    ad_keys AS (
        SELECT ad_id, any_value(adset_id) AS adset_id FROM silver.ads WHERE ad_id IS NOT NULL GROUP BY ad_id
    ),
    adset_keys AS (SELECT adset_id, any_value(campaign_id) AS campaign_id FROM silver.ads GROUP BY adset_id),
    by_id AS (
        SELECT l.lead_id, 1 AS tier, coalesce(l.campaign_id, s.campaign_id) AS campaign_id,
               coalesce(l.adset_id, a.adset_id) AS adset_id, l.ad_id, 'id' AS join_method, NULL AS join_detail
        FROM l
        LEFT JOIN ad_keys a ON a.ad_id = l.ad_id
        LEFT JOIN adset_keys s ON s.adset_id = coalesce(l.adset_id, a.adset_id)
        WHERE l.campaign_id IS NOT NULL OR l.adset_id IS NOT NULL OR l.ad_id IS NOT NULL
    ),
    by_mapping AS (
        SELECT h.lead_id, 2 AS tier, coalesce(h.campaign_id, s.campaign_id) AS campaign_id, h.adset_id,
               NULL AS ad_id, 'mapping' AS join_method, h.detail AS join_detail
        FROM ({mapping_joins}) h
        LEFT JOIN adset_keys s ON s.adset_id = h.adset_id
        QUALIFY row_number() OVER (PARTITION BY h.lead_id ORDER BY h.prio) = 1
    ),
    adset_names AS (
        SELECT {n('adset_name')} AS name, count(DISTINCT adset_id) AS k,
               min(adset_id) AS adset_id, min(campaign_id) AS campaign_id
        FROM silver.ads WHERE adset_name IS NOT NULL GROUP BY 1
    ),
    campaign_names AS (
        SELECT {n('campaign_name')} AS name, count(DISTINCT campaign_id) AS k, min(campaign_id) AS campaign_id
        FROM silver.ads WHERE campaign_name IS NOT NULL GROUP BY 1
    ),
    name_candidates AS (
        SELECT l.lead_id, 1 AS prio, a.k, a.adset_id, a.campaign_id, 'adset_name=' || l.adset_name AS detail, 'ad sets' AS what
        FROM l JOIN adset_names a ON a.name = {n('l.adset_name')}
        UNION ALL
        SELECT l.lead_id, 2, c.k, NULL, c.campaign_id, 'campaign_name=' || l.campaign_name, 'campaigns'
        FROM l JOIN campaign_names c ON c.name = {n('l.campaign_name')}
    ),
    by_name AS (
        SELECT lead_id, 3 AS tier,
               CASE WHEN k = 1 THEN campaign_id END AS campaign_id, CASE WHEN k = 1 THEN adset_id END AS adset_id,
               NULL AS ad_id, CASE WHEN k = 1 THEN 'name' ELSE 'ambiguous' END AS join_method,
               CASE WHEN k = 1 THEN detail ELSE detail || ' matches ' || k || ' ' || what END AS join_detail
        FROM name_candidates
        QUALIFY row_number() OVER (PARTITION BY lead_id ORDER BY (k = 1) DESC, prio) = 1
    ),
    resolved AS (
        SELECT * FROM (
            SELECT * FROM by_id UNION ALL SELECT * FROM by_mapping UNION ALL SELECT * FROM by_name
        ) QUALIFY row_number() OVER (PARTITION BY lead_id ORDER BY tier) = 1
    )
    SELECT l.lead_id, l.created_at, r.campaign_id, r.adset_id, r.ad_id,
           coalesce(r.join_method, 'unmatched') AS join_method,
           coalesce(r.join_detail, CASE WHEN r.lead_id IS NULL THEN 'no id, no mapping row and no matching name' END)
               AS join_detail
    FROM l LEFT JOIN resolved r USING (lead_id)
    ORDER BY l.created_at, l.lead_id
    """


def match_rates(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, float]:
    """Share of leads per join method (every method listed, zero when unused)."""
    rows = dict(con.execute(f"SELECT join_method, count(*) FROM {table} GROUP BY 1").fetchall())
    total = sum(rows.values()) or 1
    return {m: rows.get(m, 0) / total for m in JOIN_METHODS}
