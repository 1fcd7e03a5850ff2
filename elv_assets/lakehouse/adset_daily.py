"""gold.adset_daily: one row per (date, ad set) joining delivery, budgets, platform conversions and
CRM results. CRM counts are dated by their own event (leads by created_at, qualified by qualified_at,
bookings by booked_at, revenue by won_at) and attributed through gold.lead_attribution. Nothing after
the run's as_of date is counted: the table is what a marketer could have known that day.

Delivery (spend, impressions, clicks) is known for the ad sets that ads.csv has, up to the last day the
export covers: a day without a row there is a day without delivery, so 0. For an ad set that ads.csv
lacks, with no ads.csv at all, or after the export's last day (an ad export that lags the CRM), it is
unknown, so NULL; every ratio built on it (CTR, CPC, CPM, pacing ratio, ROAS, CPL) is then NULL too,
as it is when its denominator is 0. CRM rows are there either way: one row per (date, ad set) with leads.
"""

from __future__ import annotations

import datetime as dt

from elv_assets.build import Build, Built


def adset_daily_select(as_of: dt.date) -> str:
    cutoff = f"DATE '{as_of}'"
    return f"""
    WITH delivery AS (
        SELECT date, adset_id, any_value(campaign_id) AS campaign_id, any_value(platform) AS platform,
               sum(spend) AS spend, sum(impressions) AS impressions, sum(clicks) AS clicks
        FROM silver.ads WHERE date <= {cutoff} GROUP BY ALL
    ),
    conversions AS (
        SELECT date, adset_id, sum(count) AS platform_conversions, sum(value) AS platform_conversion_value
        FROM silver.conversions WHERE date <= {cutoff} GROUP BY ALL
    ),
    events AS (
        SELECT a.adset_id, a.campaign_id, e.kind, e.at::DATE AS date, e.revenue
        FROM gold.lead_attribution a
        JOIN (
            SELECT lead_id, 'lead' AS kind, created_at AS at, 0.0 AS revenue FROM silver.leads
            UNION ALL SELECT lead_id, 'qualified', qualified_at, 0.0 FROM silver.outcomes WHERE qualified_at IS NOT NULL
            UNION ALL SELECT lead_id, 'booked', booked_at, 0.0 FROM silver.outcomes WHERE booked_at IS NOT NULL
            UNION ALL SELECT lead_id, 'won', won_at, coalesce(revenue, 0) FROM silver.outcomes WHERE won_at IS NOT NULL
        ) e USING (lead_id)
        WHERE a.adset_id IS NOT NULL AND e.at::DATE <= {cutoff}
    ),
    crm AS (
        SELECT date, adset_id, any_value(campaign_id) AS campaign_id,
               count(*) FILTER (WHERE kind = 'lead') AS leads,
               count(*) FILTER (WHERE kind = 'qualified') AS qualified,
               count(*) FILTER (WHERE kind = 'booked') AS bookings,
               coalesce(sum(revenue) FILTER (WHERE kind = 'won'), 0) AS revenue
        FROM events GROUP BY date, adset_id
    ),
    known AS (SELECT adset_id, min(platform) AS platform FROM silver.ads GROUP BY 1),
    last_ad_day AS (SELECT max(date) AS day FROM silver.ads),
    joined AS (
        SELECT coalesce(d.date, c.date) AS date, coalesce(d.adset_id, c.adset_id) AS adset_id,
               coalesce(d.campaign_id, c.campaign_id) AS campaign_id,
               coalesce(d.platform, k.platform) AS platform,
               CASE WHEN k.adset_id IS NOT NULL AND coalesce(d.date, c.date) <= (SELECT day FROM last_ad_day)
                    THEN coalesce(d.spend, 0) END AS spend,
               CASE WHEN k.adset_id IS NOT NULL AND coalesce(d.date, c.date) <= (SELECT day FROM last_ad_day)
                    THEN coalesce(d.impressions, 0) END::BIGINT AS impressions,
               CASE WHEN k.adset_id IS NOT NULL AND coalesce(d.date, c.date) <= (SELECT day FROM last_ad_day)
                    THEN coalesce(d.clicks, 0) END::BIGINT AS clicks,
               coalesce(c.leads, 0)::BIGINT AS leads, coalesce(c.qualified, 0)::BIGINT AS qualified,
               coalesce(c.bookings, 0)::BIGINT AS bookings, coalesce(c.revenue, 0)::DOUBLE AS revenue
        FROM delivery d
        FULL OUTER JOIN crm c ON c.date = d.date AND c.adset_id = d.adset_id
        LEFT JOIN known k ON k.adset_id = coalesce(d.adset_id, c.adset_id)
    )
    SELECT j.date::DATE AS date, j.adset_id, j.campaign_id, j.platform, j.spend, j.impressions, j.clicks,
           CASE WHEN j.impressions > 0 THEN j.clicks / j.impressions END AS ctr,
           CASE WHEN j.clicks > 0 THEN j.spend / j.clicks END AS cpc,
           CASE WHEN j.impressions > 0 THEN j.spend / j.impressions * 1000 END AS cpm,
           b.daily_budget,
           CASE WHEN b.daily_budget > 0 THEN j.spend / b.daily_budget END AS pacing_ratio,
           coalesce(b.pacing_status, 'unknown') AS pacing_status,
           coalesce(v.platform_conversions, 0)::BIGINT AS platform_conversions,
           coalesce(v.platform_conversion_value, 0)::DOUBLE AS platform_conversion_value,
           j.leads, j.qualified, j.bookings, j.revenue,
           CASE WHEN j.spend > 0 THEN j.revenue / j.spend END AS roas,
           CASE WHEN j.leads > 0 THEN j.spend / j.leads END AS cpl
    FROM joined j
    LEFT JOIN silver.adsets b ON b.adset_id = j.adset_id
        AND j.date >= coalesce(b.start_date, DATE '0001-01-01') AND j.date <= coalesce(b.end_date, DATE '9999-12-31')
    LEFT JOIN conversions v ON v.date = j.date AND v.adset_id = j.adset_id
    ORDER BY j.date, j.adset_id
    """


def build_adset_daily(b: Build) -> Built:
    staged = b.stage(adset_daily_select(b.as_of))
    spend, leads, qualified, bookings, revenue, first, last = b.con.execute(
        f"SELECT sum(spend), sum(leads), sum(qualified), sum(bookings), sum(revenue), min(date), max(date) "
        f"FROM {staged}").fetchall()[0]
    # spend is NULL (unknown) where ads.csv has no rows for the ad set; then no ratio is shown.
    return Built(metadata={
        "date_range": f"{first} to {last}",
        "spend": round(float(spend), 2) if spend is not None else None,
        "leads": int(leads or 0), "qualified": int(qualified or 0), "bookings": int(bookings or 0),
        "revenue": round(float(revenue or 0), 2),
        "roas": round(float(revenue or 0) / float(spend), 3) if spend else None,
        "cpl": round(float(spend) / float(leads), 2) if spend is not None and leads else None,
    })
