"""Per (date, ad set) lagged and rolling features, the next-day targets, and weekly aggregates, in SQL.

A row for day d describes what was known at the end of day d - 1: lag-1 values, 7- and 28-day
averages over d - 7 .. d - 1 and d - 28 .. d - 1, rates over 7 days, the budget and pacing of
yesterday and the last week, the weekday of d and the days since the ad set's first spend. The
targets are day d's own numbers (bookings, platform conversions, spend, under-pacing). One row per ad
set is added for as_of + 1, whose targets are unknown: that is the row the forecasts are for.

The calendar is dense from an ad set's first day to its last day + 1 (as_of + 1 for ad sets still
live), so "7 days" always means seven calendar days; a day without rows counts as zero delivery, up to the
last day the ad export covers (later days are unknown).

The budget an ad set paces against is its daily budget from adsets.csv. An ad set with no budget on record
(an ad export without adsets.csv, like most public ones) paces against its usual spend instead: the median
of its daily spend over the 28 days before (at least 7 of them with delivery known), and `budget_source`
says which. Under-pacing then means spending well below what it usually spends.

Most accounts spend less on some weekdays (weekends) whatever anyone does. `weekday_pace` is the whole account's
pace on the row's weekday as a share of its pace across the week, over the 8 weeks before the row; the second
pacing target, `target_under_paced_weekday`, judges the day against that usual pace (the budget share times
`weekday_pace`, capped at 1, so a weekday the account usually spends more on keeps the plain rule). An ad set
that spends less on a Sunday like the rest of the account is then not under-paced for a Sunday.
"""

from __future__ import annotations

import datetime as dt

from elv_assets.build import Build, Built

COUNTS = ("spend", "impressions", "clicks", "leads", "qualified", "bookings", "conversions")
BUDGET_SOURCES = ("adsets.csv", "usual spend")
USUAL_SPEND_DAYS, USUAL_SPEND_MIN_DAYS = 28, 7
# the account's usual pace per weekday: the 8 weeks before the day, known once at least 4 of that weekday were seen
WEEKDAY_PACE_DAYS, WEEKDAY_PACE_MIN_WEEKS = 56, 4


def adset_features_select(as_of: dt.date, under_pacing_share: float = 0.8) -> str:
    # under-paced for its weekday: below the share of the budget scaled by the account's usual pace that weekday
    under_weekday_pace = f"spend < {under_pacing_share} * budget * least(coalesce(weekday_pace, 1), 1)"
    lagged = []
    for m in COUNTS:
        lagged += [
            f"lag({m}) OVER w AS {m}_lag1",
            f"avg({m}) OVER (w ROWS BETWEEN 7 PRECEDING AND 1 PRECEDING) AS {m}_avg7",
            f"avg({m}) OVER (w ROWS BETWEEN 28 PRECEDING AND 1 PRECEDING) AS {m}_avg28",
        ]
    w7 = "OVER (w ROWS BETWEEN 7 PRECEDING AND 1 PRECEDING)"
    lagged += [
        f"sum(clicks) {w7} / nullif(sum(impressions) {w7}, 0) AS ctr_7d",
        f"sum(spend) {w7} / nullif(sum(clicks) {w7}, 0) AS cpc_7d",
        f"sum(spend) {w7} / nullif(sum(impressions) {w7}, 0) * 1000 AS cpm_7d",
        "lag(budget) OVER w AS budget_lag1",
        "lag(spend) OVER w / nullif(lag(budget) OVER w, 0) AS pacing_ratio_lag1",
        f"sum(spend) {w7} / nullif(sum(budget) {w7}, 0) AS pacing_ratio_avg7",
        f"lag(spend < {under_pacing_share} * budget) OVER w AS under_paced_lag1",
        f"lag({under_weekday_pace}) OVER w AS under_paced_weekday_lag1",
    ]
    usual = f"OVER (PARTITION BY adset_id ORDER BY date ROWS BETWEEN {USUAL_SPEND_DAYS} PRECEDING AND 1 PRECEDING)"
    known = "g.date <= (SELECT last_day FROM delivered)"
    return f"""
        WITH base AS (
            SELECT date::DATE AS date, adset_id, campaign_id, platform, spend, impressions, clicks, daily_budget,
                   leads, qualified, bookings, platform_conversions AS conversions
            FROM gold.adset_daily WHERE date <= DATE '{as_of}'
        ), delivered AS (SELECT max(date) FILTER (WHERE spend IS NOT NULL) AS last_day FROM base),
        bounds AS (
            SELECT adset_id, any_value(campaign_id) AS campaign_id, any_value(platform) AS platform,
                   min(date) AS first_day, max(date) AS last_day,
                   min(date) FILTER (WHERE spend > 0) AS first_spend, count(daily_budget) > 0 AS has_budget
            FROM base GROUP BY adset_id
        ), grid AS (
            SELECT adset_id, campaign_id, platform, first_spend, has_budget,
                   unnest(generate_series(first_day::TIMESTAMP,
                                          least(last_day + 1, DATE '{as_of}' + 1)::TIMESTAMP, INTERVAL 1 DAY))::DATE
                       AS date
            FROM bounds
        ), dense AS (
            SELECT g.date, g.adset_id, g.campaign_id, g.platform, g.first_spend, g.has_budget,
                   g.date > DATE '{as_of}' AS is_future,
                   -- delivery is known up to the last day with spend on record (none without ads.csv)
                   CASE WHEN {known} THEN coalesce(b.spend, 0) END AS spend,
                   CASE WHEN {known} THEN coalesce(b.impressions, 0) END AS impressions,
                   CASE WHEN {known} THEN coalesce(b.clicks, 0) END AS clicks,
                   CASE WHEN {known} THEN coalesce(b.conversions, 0) END AS conversions,
                   CASE WHEN g.date <= DATE '{as_of}' THEN coalesce(b.leads, 0) END AS leads,
                   CASE WHEN g.date <= DATE '{as_of}' THEN coalesce(b.qualified, 0) END AS qualified,
                   CASE WHEN g.date <= DATE '{as_of}' THEN coalesce(b.bookings, 0) END AS bookings,
                   -- the day's budget (none after the ad set's end date); tomorrow's is today's
                   CASE WHEN g.date <= DATE '{as_of}' THEN b.daily_budget
                        ELSE lag(b.daily_budget) OVER (PARTITION BY g.adset_id ORDER BY g.date) END AS daily_budget
            FROM grid g LEFT JOIN base b USING (date, adset_id)
        ), budgeted AS (
            SELECT * EXCLUDE (daily_budget),
                   CASE WHEN has_budget THEN daily_budget
                        WHEN count(spend) {usual} >= {USUAL_SPEND_MIN_DAYS} THEN median(spend) {usual} END AS budget,
                   CASE WHEN has_budget THEN '{BUDGET_SOURCES[0]}' ELSE '{BUDGET_SOURCES[1]}' END AS budget_source
            FROM dense
        ), account AS (
            -- the whole account's spend and budget per day, over the ad-set days whose pace is known
            SELECT date, sum(spend) FILTER (WHERE spend IS NOT NULL AND budget > 0) AS spend,
                   sum(budget) FILTER (WHERE spend IS NOT NULL AND budget > 0) AS budget
            FROM budgeted GROUP BY date
        ), weekday_paces AS (
            SELECT date,
                   CASE WHEN count(budget) OVER same_weekday >= {WEEKDAY_PACE_MIN_WEEKS} THEN
                       (sum(spend) OVER same_weekday / nullif(sum(budget) OVER same_weekday, 0))
                       / nullif(sum(spend) OVER whole_week / nullif(sum(budget) OVER whole_week, 0), 0)
                   END AS weekday_pace
            FROM account
            WINDOW same_weekday AS (PARTITION BY isodow(date) ORDER BY date
                                    RANGE BETWEEN INTERVAL {WEEKDAY_PACE_DAYS} DAYS PRECEDING AND INTERVAL 1 DAY PRECEDING),
                   whole_week AS (ORDER BY date
                                  RANGE BETWEEN INTERVAL {WEEKDAY_PACE_DAYS} DAYS PRECEDING AND INTERVAL 1 DAY PRECEDING)
        ), paced AS (
            SELECT * FROM budgeted LEFT JOIN weekday_paces USING (date)
        )
        SELECT date, adset_id, campaign_id, platform, is_future,
               isodow(date) AS weekday, weekday_pace,
               CASE WHEN first_spend IS NOT NULL AND date > first_spend THEN date - first_spend END AS days_since_launch,
               {", ".join(lagged)},
               budget, budget_source,
               bookings AS target_bookings,
               conversions AS target_conversions,
               spend AS target_spend,
               CASE WHEN spend IS NOT NULL AND budget > 0 THEN spend < {under_pacing_share} * budget END
                   AS target_under_paced,
               CASE WHEN spend IS NOT NULL AND budget > 0 THEN {under_weekday_pace} END AS target_under_paced_weekday
        FROM paced
        WINDOW w AS (PARTITION BY adset_id ORDER BY date)
        ORDER BY date, adset_id
    """


def adset_weekly_select() -> str:
    """Weeks (Monday first) per ad set from gold.adset_daily: sums, and pacing over the week's budget."""
    return """
        SELECT date_trunc('week', date)::DATE AS week_start, adset_id, any_value(campaign_id) AS campaign_id,
               count(*) AS days, sum(spend) AS spend, sum(impressions) AS impressions, sum(clicks) AS clicks,
               sum(daily_budget) AS budget, sum(spend) / nullif(sum(daily_budget), 0) AS pacing_ratio,
               sum(leads) AS leads, sum(qualified) AS qualified, sum(bookings) AS bookings, sum(revenue) AS revenue,
               sum(spend) / nullif(sum(leads), 0) AS cpl, sum(revenue) / nullif(sum(spend), 0) AS roas
        FROM gold.adset_daily
        GROUP BY ALL
        ORDER BY week_start, adset_id
    """


_WHAT = {"spend": "spend", "impressions": "impressions", "clicks": "clicks", "leads": "CRM leads",
         "qualified": "qualified leads", "bookings": "bookings", "conversions": "platform-reported conversions",
         "budget": "daily budget (or usual spend)",
         "pacing_ratio": "spend / budget", "under_paced": "whether it under-paced",
         "under_paced_weekday": "whether it under-paced for its weekday (against the account's usual pace that weekday)"}


def describe_daily_feature(column: str) -> str | None:
    """A column of gold.adset_daily_features in words (the lagged families are named by a pattern)."""
    metric, _, window = column.rpartition("_")
    if metric in _WHAT and window == "lag1":
        return f"The day before's {_WHAT[metric]} (d-1)."
    if metric in _WHAT and window in ("avg7", "avg28"):
        return f"Mean daily {_WHAT[metric]} over the {window[3:]} days before (d-{window[3:]} .. d-1)."
    ratios = {"ctr_7d": "clicks / impressions", "cpc_7d": "spend / clicks", "cpm_7d": "spend / impressions x 1000"}
    if column in ratios:
        return f"{ratios[column]} over d-7 .. d-1."
    targets = {"target_spend": "Spend on the day itself (a target: blank for as_of + 1).",
               "target_conversions": "Platform-reported conversions on the day itself (a target).",
               "budget_source": "adsets.csv (its daily budget) or usual spend (median daily spend of the 28 days "
                                "before: no budget on record).",
               "target_under_paced": "Whether the day itself under-paced (the pacing model's target).",
               "target_under_paced_weekday": "Whether the day itself under-paced for its weekday: spend below the "
                                             "under-pacing share of the budget x weekday_pace (capped at 1).",
               "weekday_pace": "The account's pace on this weekday as a share of its pace across the week, over the "
                               "8 weeks before (blank until 4 of this weekday are seen)."}
    return targets.get(column)


def build_adset_daily_features(b: Build) -> Built:
    staged = b.stage(adset_features_select(b.as_of, b.config.under_pacing_share))
    share, weekday_share = b.con.execute(f"""SELECT avg(target_under_paced::INT), avg(target_under_paced_weekday::INT)
                                             FROM {staged}""").fetchall()[0]
    return Built(metadata={"under_pacing_share": b.config.under_pacing_share,
                           "under_paced_day_share": round(float(share), 4) if share is not None else None,
                           "under_paced_for_weekday_share": (round(float(weekday_share), 4)
                                                             if weekday_share is not None else None)})


def build_adset_weekly(b: Build) -> Built:
    b.stage(adset_weekly_select())
    return Built()
