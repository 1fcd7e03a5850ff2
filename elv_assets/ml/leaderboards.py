"""Campaign and ad-set ELV leaderboards, in DuckDB SQL over gold.lead_scores and silver.ads.

The window is the last `window_days` days up to as_of: leads created in it and money spent in it.
Most of those leads are too young to have qualified yet, which is why the board shows predicted
qualified leads and predicted ELV beside what has qualified so far. Both are age-aware (ml/age.py): a lead
that has qualified counts 1, one whose window closed without it 0, and a young one the chance left at its
age; `predicted_elv_at_creation` keeps the sum of the ELVs scored at creation. Rank 1 is the best ELV per unit
of spend (predicted ELV where there is no spend); segments with fewer than `min_leads` leads are
flagged `low_volume` and left unranked, because a handful of leads cannot support a comparison.
Leads tied to no campaign form one `(unattributed)` row, shown but never ranked.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from elv_assets.build import Build, Built, Skip
from elv_assets.ml.elv import UNKNOWN_CAMPAIGN
from elv_assets.ml.labels import as_of_end

WINDOW_DAYS = 28  # leads created and money spent in the last N days up to as_of
MIN_LEADS = 30  # fewer leads than this: flagged low_volume and not ranked
MIN_ADSET_KEY_SHARE = 0.5  # the ad-set board needs at least this share of leads with an ad set


def leaderboard_select(level: str, as_of: dt.date, window_days: int, min_leads: int) -> str:
    if level not in ("campaign", "adset"):
        raise ValueError(f"level must be campaign or adset, not {level!r}")
    key = f"{level}_id"
    start = as_of - dt.timedelta(days=window_days - 1)
    # an ad set belongs to one campaign; the unattributed row mixes campaigns, so it names none
    extra_key = (f", CASE WHEN coalesce({key}, '{UNKNOWN_CAMPAIGN}') <> '{UNKNOWN_CAMPAIGN}' "
                 "THEN any_value(campaign_id) END AS campaign_id") if level == "adset" else ""
    name_col = f"{level}_name"
    return f"""
        WITH leads AS (
            SELECT coalesce({key}, '{UNKNOWN_CAMPAIGN}') AS k, count(*) AS leads,
                   count(*) FILTER (WHERE label = 1) AS qualified_so_far,
                   sum(p_given_age) AS predicted_qualified, sum(elv_given_age) AS predicted_elv,
                   sum(elv) AS predicted_elv_at_creation{extra_key}
            FROM gold.lead_scores
            WHERE created_at >= DATE '{start}' AND created_at < {as_of_end(as_of)}
            GROUP BY 1
        ), spend AS (
            SELECT {key} AS k, sum(spend) AS spend, any_value({name_col}) AS name
            FROM silver.ads WHERE date BETWEEN DATE '{start}' AND DATE '{as_of}' GROUP BY 1
        ), joined AS (
            SELECT coalesce(l.k, s.k) AS {key}, s.name AS {name_col}, {"l.campaign_id, " if level == "adset" else ""}
                   s.spend, coalesce(l.leads, 0) AS leads, coalesce(l.qualified_so_far, 0) AS qualified_so_far,
                   coalesce(l.predicted_qualified, 0) AS predicted_qualified,
                   coalesce(l.predicted_elv, 0) AS predicted_elv,
                   coalesce(l.predicted_elv_at_creation, 0) AS predicted_elv_at_creation
            FROM leads l FULL JOIN spend s ON l.k = s.k
        ), measured AS (
            SELECT *, predicted_elv / nullif(spend, 0) AS elv_per_spend, spend / nullif(leads, 0) AS cpl,
                   spend / nullif(predicted_qualified, 0) AS cost_per_predicted_qualified,
                   leads < {int(min_leads)} AS low_volume
            FROM joined
        )
        SELECT *, CASE WHEN NOT low_volume AND {key} <> '{UNKNOWN_CAMPAIGN}' THEN
                   rank() OVER (PARTITION BY low_volume OR {key} = '{UNKNOWN_CAMPAIGN}' ORDER BY elv_per_spend DESC NULLS LAST, predicted_elv DESC,
                                {key}) END AS rank,
               DATE '{start}' AS window_start, DATE '{as_of}' AS window_end
        FROM measured
        ORDER BY rank NULLS LAST, predicted_elv DESC, {key}
    """


def adset_keys_missing(con, min_share: float) -> str | None:
    """Why the ad-set leaderboard is disabled, or None when enough leads carry an ad set."""
    if not con.execute("SELECT count(*) FROM silver.ads").fetchall()[0][0]:
        return ("No ads.csv rows: ad sets have no spend and their ids cannot be checked against the platform, "
                "so only the campaign leaderboard (from the leads' own fields) is built.")
    n, with_key = con.execute(
        "SELECT count(*), count(adset_id) FROM gold.lead_scores"
    ).fetchall()[0]
    share = with_key / n if n else 0.0
    if share >= min_share:
        return None
    return (f"Only {share:.0%} of leads carry an ad-set id (by id, mapping or name); ranking ad sets needs at "
            f"least {min_share:.0%}. Export the ad set in the CRM or add UTM values to mapping.csv.")


def leaderboard_build(level: str) -> Callable[[Build], Built]:
    """The campaign or ad-set board; the ad-set board is skipped when too few leads carry an ad set to rank them."""
    def build(b: Build) -> Built:
        cfg = b.config
        if not b.con.execute("SELECT count(*) FROM gold.lead_scores").fetchall()[0][0]:
            raise Skip(b.skipped_because("gold/lead_scores")
                       or "No scored leads yet: the boards rank by lead value (gold/lead_scores says why it is empty).")
        disabled = adset_keys_missing(b.con, cfg.min_adset_key_share) if level == "adset" else None
        if disabled:
            raise Skip(disabled)
        staged = b.stage(leaderboard_select(level, b.as_of, cfg.window_days, cfg.min_leads))
        top = b.con.execute(f"SELECT {level}_id FROM {staged} WHERE rank = 1").fetchall()
        return Built(metadata={"window_days": cfg.window_days, "min_leads": cfg.min_leads,
                               "best": top[0][0] if top else "none"})

    return build
