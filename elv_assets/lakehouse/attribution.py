"""Which campaign, ad set and ad each lead came from, and how we know.

Strategy, best first (the first that applies wins):
1. `id`: the lead's own campaign_id / adset_id / ad_id, taken as given (an id need not appear in
   ads.csv; ad sets that ads.csv lacks are counted in the data-quality report). A missing ad set is
   filled from the ad, and a missing campaign from the ad set, through the catalogue.
2. `mapping`: a mapping.csv row for the lead's utm_content, adset_name, utm_campaign or campaign_name,
   in that order; a mapped ad set without a campaign gets it from the catalogue.
3. `name`: the lead's adset_name, else campaign_name, normalised (lower case, punctuation and spacing
   folded) against the catalogue's names. A name that matches more than one ad set or campaign is not
   guessed: the lead is `ambiguous`, with the candidates counted.
4. `lead_field` (only without ads.csv): a lead the first three leave unmatched is its own source. Its
   campaign is its campaign_name, else its utm_campaign, and its ad set its adset_name, else its utm_content,
   normalised like names: one campaign per distinct value, named by it. A CRM export of channel names and
   UTM values (no ad-platform ids anywhere) then still ranks its channels.
Leads matched by nothing are `unmatched`.

The catalogue says which ids and names exist and which ad belongs to which ad set and campaign. It is
silver.ads. When silver.ads is empty (no ads.csv: a folder of CRM exports only) it is the leads up to
as_of themselves, i.e. the ids and names that leads carry together. Then ids are accepted as the CRM
wrote them (join_detail says they were not checked), a name resolves only if some lead carries it beside
its id, and mapping.csv works as usual. Either way a fill (ad to ad set, ad set to campaign) is made only
when the catalogue gives one answer.
"""

from __future__ import annotations

import datetime as dt

import duckdb

from elv_assets.build import Build, Built, Check
from elv_assets.contracts.tables import JOIN_METHODS

MAPPING_PRIORITY = ("utm_content", "adset_name", "utm_campaign", "campaign_name")


def normalise_name_sql(expr: str) -> str:
    return f"NULLIF(trim(regexp_replace(lower({expr}), '[^a-z0-9]+', ' ', 'g')), '')"


UNCHECKED_IDS = "the lead's own ids, unchecked: no ads.csv rows to check them against"
NAMES_FROM_LEADS = " (names taken from leads that carry ids; no ads.csv rows)"


def attribution_select(as_of: dt.date) -> str:
    """SQL of gold.lead_attribution over silver.leads, silver.ads and silver.mapping.

    Each strategy looks only at the leads the earlier ones left, so the strategies split the leads between them
    and their rows are simply stacked (no window over every lead, no join back to the leads): at 10M leads a
    window picking each lead's first strategy took most of the time and more memory than DuckDB's limit."""
    mapping_joins = "\n        UNION ALL\n".join(
        f"""SELECT l.lead_id, l.created_at, {i} AS prio, m.campaign_id, m.adset_id, '{f}=' || m.value AS detail
        FROM after_ids l JOIN silver.mapping m ON m.field = '{f}' AND m.value = l.{f}"""
        for i, f in enumerate(MAPPING_PRIORITY, start=1)
    )
    n = normalise_name_sql
    no_ads = "(SELECT NOT has_ads FROM source)"
    return f"""
    WITH l AS (
        SELECT lead_id, created_at, campaign_id, adset_id, ad_id, utm_campaign, utm_content, campaign_name, adset_name
        FROM silver.leads WHERE created_at::DATE <= DATE '{as_of}'
    ),
    source AS (SELECT count(*) > 0 AS has_ads FROM silver.ads),
    catalogue AS (
        SELECT campaign_id, campaign_name, adset_id, adset_name, ad_id FROM silver.ads
        UNION ALL
        SELECT campaign_id, campaign_name, adset_id, adset_name, ad_id FROM l WHERE {no_ads}
    ),
    ad_keys AS (
        SELECT ad_id, CASE WHEN count(DISTINCT adset_id) = 1 THEN min(adset_id) END AS adset_id
        FROM catalogue WHERE ad_id IS NOT NULL GROUP BY ad_id
    ),
    adset_keys AS (
        SELECT adset_id, CASE WHEN count(DISTINCT campaign_id) = 1 THEN min(campaign_id) END AS campaign_id
        FROM catalogue WHERE adset_id IS NOT NULL GROUP BY adset_id
    ),
    by_id AS (
        SELECT l.lead_id, l.created_at, coalesce(l.campaign_id, s.campaign_id) AS campaign_id,
               coalesce(l.adset_id, a.adset_id) AS adset_id, l.ad_id, 'id' AS join_method,
               CASE WHEN {no_ads} THEN '{UNCHECKED_IDS.replace("'", "''")}' END AS join_detail
        FROM l
        LEFT JOIN ad_keys a ON a.ad_id = l.ad_id
        LEFT JOIN adset_keys s ON s.adset_id = coalesce(l.adset_id, a.adset_id)
        WHERE l.campaign_id IS NOT NULL OR l.adset_id IS NOT NULL OR l.ad_id IS NOT NULL
    ),
    after_ids AS (
        SELECT * FROM l WHERE l.campaign_id IS NULL AND l.adset_id IS NULL AND l.ad_id IS NULL
    ),
    by_mapping AS (
        SELECT h.lead_id, h.created_at, coalesce(h.campaign_id, s.campaign_id) AS campaign_id, h.adset_id,
               NULL AS ad_id, 'mapping' AS join_method, h.detail AS join_detail
        FROM ({mapping_joins}) h
        LEFT JOIN adset_keys s ON s.adset_id = h.adset_id
        QUALIFY row_number() OVER (PARTITION BY h.lead_id ORDER BY h.prio) = 1
    ),
    after_mapping AS (SELECT * FROM after_ids ANTI JOIN by_mapping USING (lead_id)),
    adset_names AS (
        SELECT {n('adset_name')} AS name, count(DISTINCT adset_id) AS k, min(adset_id) AS adset_id
        FROM catalogue WHERE adset_name IS NOT NULL AND adset_id IS NOT NULL GROUP BY 1
    ),
    campaign_names AS (
        SELECT {n('campaign_name')} AS name, count(DISTINCT campaign_id) AS k, min(campaign_id) AS campaign_id
        FROM catalogue WHERE campaign_name IS NOT NULL AND campaign_id IS NOT NULL GROUP BY 1
    ),
    name_candidates AS (
        SELECT l.lead_id, l.created_at, 1 AS prio, a.k, a.adset_id, s.campaign_id,
               'adset_name=' || l.adset_name AS detail, 'ad sets' AS what
        FROM after_mapping l JOIN adset_names a ON a.name = {n('l.adset_name')} LEFT JOIN adset_keys s ON s.adset_id = a.adset_id
        UNION ALL
        SELECT l.lead_id, l.created_at, 2, c.k, NULL, c.campaign_id, 'campaign_name=' || l.campaign_name, 'campaigns'
        FROM after_mapping l JOIN campaign_names c ON c.name = {n('l.campaign_name')}
    ),
    by_name AS (
        SELECT lead_id, created_at,
               CASE WHEN k = 1 THEN campaign_id END AS campaign_id, CASE WHEN k = 1 THEN adset_id END AS adset_id,
               NULL AS ad_id, CASE WHEN k = 1 THEN 'name' ELSE 'ambiguous' END AS join_method,
               CASE WHEN k = 1 THEN detail ELSE detail || ' matches ' || k || ' ' || what END
                   || CASE WHEN {no_ads} THEN '{NAMES_FROM_LEADS}' ELSE '' END AS join_detail
        FROM name_candidates
        QUALIFY row_number() OVER (PARTITION BY lead_id ORDER BY (k = 1) DESC, prio) = 1
    ),
    after_names AS (SELECT * FROM after_mapping ANTI JOIN by_name USING (lead_id)),
    lead_fields AS (
        SELECT *, {n('coalesce(campaign_name, utm_campaign)')} AS field_campaign,
               {n('coalesce(adset_name, utm_content)')} AS field_adset
        FROM after_names
    ),
    by_lead_field AS (
        SELECT lead_id, created_at, field_campaign AS campaign_id, field_adset AS adset_id, NULL AS ad_id,
               'lead_field' AS join_method,
               'campaign from the lead''s ' || CASE WHEN campaign_name IS NOT NULL THEN 'campaign_name'
                                                    ELSE 'utm_campaign' END || ' (no ads.csv)' AS join_detail
        FROM lead_fields WHERE {no_ads} AND field_campaign IS NOT NULL
    ),
    unmatched AS (
        SELECT lead_id, created_at, NULL AS campaign_id, NULL AS adset_id, NULL AS ad_id, 'unmatched' AS join_method,
               'no id, no mapping row and no matching name' AS join_detail
        FROM lead_fields WHERE NOT ({no_ads} AND field_campaign IS NOT NULL)
    )
    SELECT lead_id, created_at, campaign_id, adset_id, ad_id, join_method, join_detail FROM (
        SELECT * FROM by_id UNION ALL SELECT * FROM by_mapping UNION ALL SELECT * FROM by_name
        UNION ALL SELECT * FROM by_lead_field UNION ALL SELECT * FROM unmatched
    )
    ORDER BY created_at, lead_id
    """


def match_rates(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, float]:
    """Share of leads per join method (every method listed, zero when unused)."""
    rows = dict(con.execute(f"SELECT join_method, count(*) FROM {table} GROUP BY 1").fetchall())
    total = sum(rows.values()) or 1
    return {m: rows.get(m, 0) / total for m in JOIN_METHODS}


def build_lead_attribution(b: Build) -> Built:
    """gold.lead_attribution, and the match_rate check against the configured warn and fail levels."""
    rates = match_rates(b.con, b.stage(attribution_select(b.as_of)))
    matched = rates["id"] + rates["mapping"] + rates["name"] + rates["lead_field"]
    warn, fail = b.config.warn_match_rate_below, b.config.fail_match_rate_below
    rate_meta = {f"match_rate/{m}": round(r, 4) for m, r in rates.items()}
    check = Check(
        "match_rate", passed=matched >= warn, severity="error" if matched < fail else "warn",
        description=f"{matched:.1%} of leads matched (warn below {warn:.0%}, fail below {fail:.0%}).",
        metadata={"matched": round(matched, 4), **rate_meta},
    )
    return Built(metadata={"matched": round(matched, 4), **rate_meta}, checks=[check])
