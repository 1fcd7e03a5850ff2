"""The machinery every demo world shares: entities, ad delivery, and the CSV writers.

Campaigns on four platforms (meta, google, linkedin, tiktok) with their own CPM, CTR and lead
quality; ad sets with lognormal budgets, a spend capacity (some under-pace, some over-pace) and a
saturating response `leads/day = scale * (1 - 2^(-spend / half_spend))`; ads with creative strength
and fatigue. Leads are drawn per ad-day (Poisson); what a lead looks like and whether it qualifies
is the business of a world's lead law (`simple.py`, `v2.py`).

Realistic mess lives here too: UK dates in ads.csv, refunds (negative spend), exact duplicate rows,
pacing and conversion-type spellings, blank conversion values; and the mix drift in the last 21 days
(more mobile, a TikTok ramp-up).
"""

from __future__ import annotations

import math
import shutil
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
from scipy.optimize import brentq
from scipy.special import expit, logit

from elv_assets.lakehouse.ingest import sql_str

WORLD_END_DATE = date(2026, 10, 31)
CURRENCY = "GBP"

SIZES: dict[str, dict[str, int]] = {
    "s": {"days": 180, "campaigns": 8, "adsets": 30, "ads": 100, "leads": 40_000, "block_days": 180},
    "m": {"days": 180, "campaigns": 24, "adsets": 300, "ads": 1_000, "leads": 1_000_000, "block_days": 180},
    "l": {"days": 365, "campaigns": 60, "adsets": 1_500, "ads": 5_000, "leads": 10_000_000, "block_days": 28},
}

# --- platforms ------------------------------------------------------------------------------------
PLATFORMS = ("meta", "google", "linkedin", "tiktok")
PLATFORM_LABELS = ("Meta", "Google", "LinkedIn", "TikTok")
PLATFORM_CPM = np.array([6.0, 12.0, 35.0, 4.0])
PLATFORM_CTR = np.array([0.009, 0.03, 0.005, 0.007])
PLATFORM_CPL = np.array([30.0, 38.0, 70.0, 27.0])  # cost per lead at the planned spend, before scaling
PLATFORM_QUALITY = np.array([0.0, 0.25, 0.5, -0.5])  # logit effect on qualification
PLATFORM_LEAD_VALUE = np.array([25.0, 30.0, 60.0, 15.0])  # value the platform pixel reports per lead
PLATFORM_PATTERN = (0, 1, 2, 3, 0, 1, 0, 2)  # campaign i is on PLATFORM_PATTERN[i % 8]
TIKTOK = 3

CAMPAIGN_TEMPLATES = (
    (("Prospecting", "Lookalike UK"), ("Retargeting", "Website Visitors 30d"), ("Lead Gen", "Interests B2B"),
     ("Prospecting", "Broad UK"), ("Prospecting", "Lookalike IE"), ("Retargeting", "Video Viewers 50%")),
    (("Search", "Brand"), ("Search", "Generic UK"), ("Search", "Competitors"), ("PMax", "Lead Gen"),
     ("Display", "Remarketing"), ("YouTube", "In-Feed")),
    (("Lead Gen", "Job Titles UK"), ("Lead Gen", "Company Size 200+"), ("Sponsored Content", "ABM List"),
     ("Retargeting", "Site Visitors 90d"), ("Conversation Ads", "Directors UK")),
    (("Prospecting", "Broad 18-34"), ("Spark Ads", "Creators UK"), ("Prospecting", "Interest SMB"),
     ("Lead Gen", "Instant Form")),
)
ADSET_AUDIENCES = (
    (("LAL 1%", "lal1"), ("LAL 3%", "lal3"), ("Interests - SaaS", "int_saas"), ("Broad", "broad"),
     ("Retarget 30d", "rt30"), ("Engagers 90d", "eng90")),
    (("Exact", "exact"), ("Phrase", "phrase"), ("Broad Match", "bmatch"), ("Competitor Terms", "comp"),
     ("In-Market", "inmkt"), ("Custom Intent", "cint")),
    (("Job Title - Marketing", "jt_mkt"), ("Job Function - Finance", "jf_fin"), ("Seniority - Director+", "sen_dir"),
     ("Company List - Tier 1", "abm_t1"), ("Skills - Analytics", "sk_anl")),
    (("Broad", "broad"), ("Interest - Business", "int_biz"), ("Creators LAL", "cr_lal"), ("Hashtag - SmallBiz", "ht_smb")),
)
AGE_BANDS = (("25-44", "2544"), ("18-34", "1834"), ("35-54", "3554"), ("25-54", "2554"), ("All Ages", "all"))
AD_FORMATS = (
    ("Video", "Static", "Carousel", "UGC Video"),
    ("RSA", "Responsive Display", "Video"),
    ("Single Image", "Document", "Video", "Carousel"),
    ("Spark Video", "UGC Video", "Video"),
)
AD_ANGLES = ("Testimonial", "Pain Point", "Product Demo", "Free Trial Offer", "Case Study", "How-To",
             "Founder Story", "Comparison", "ROI Calculator")

PACING_SPELLINGS = {
    "under": ("Under pacing", "UNDER_PACING", "underpacing", "Under-pacing"),
    "on": ("On track", "on_pace", "ON PACE", "On pace"),
    "over": ("Over-pacing", "over_pacing", "OVER PACING"),
}

# --- lead attributes: categories, per-platform mix, logit effects on qualification ------------------
FORMS = ("short", "long", "calculator")
COUNTRIES = ("GB", "IE", "US", "DE", "FR", "NL")
DEVICES = ("mobile", "desktop", "tablet")
COMPANY_SIZES = ("1-10", "11-50", "51-200", "201-1000", "1000+")
JOB_LEVELS = ("entry", "manager", "director", "c_level")
EMAIL_DOMAINS = ("business", "free")

FORM_MIX = np.array([[.60, .25, .15], [.40, .40, .20], [.35, .50, .15], [.75, .15, .10]])
COUNTRY_MIX = np.array([[.56, .10, .12, .08, .07, .07], [.55, .10, .13, .08, .07, .07],
                        [.45, .08, .22, .10, .08, .07], [.60, .10, .10, .07, .07, .06]])
COMPANY_MIX = np.array([[.30, .30, .20, .12, .08], [.20, .30, .25, .15, .10],
                        [.08, .17, .30, .25, .20], [.45, .30, .15, .07, .03]])
JOB_MIX = np.array([[.45, .35, .12, .08], [.35, .40, .15, .10], [.20, .40, .27, .13], [.60, .28, .08, .04]])
FREE_EMAIL = np.array([0.40, 0.30, 0.15, 0.60])
MOBILE_SHARE = np.array([0.40, 0.25, 0.25, 0.65])
TABLET_OF_REST = 0.10


SPEND_WEEKDAY = np.array([1.06, 1.06, 1.06, 1.05, 1.0, 0.8, 0.75])
HOUR_WEIGHTS = np.array([1.0, 0.6, 0.4, 0.3, 0.3, 0.5, 1.2, 2.5, 4.5, 6.0, 6.5, 6.5,
                         6.0, 6.2, 6.0, 5.5, 5.0, 4.8, 5.0, 5.5, 5.2, 4.2, 3.0, 1.8])
DRIFT_DAYS = 21
DRIFT_RAMP_DAYS = 3
MOBILE_TARGETS = (0.45, 0.70)  # overall mobile share of leads before and during the drift window
TIKTOK_RAMP = 1.5  # the ramped TikTok campaign ends at (1 + TIKTOK_RAMP) x its usual spend

LEAD_GROUPS = np.array([0.85, 0.015, 0.09, 0.04, 0.005])  # ids, ad id only, utm only, name only, orphan
LEAD_DUPLICATE_SHARE = 0.002
AD_DUPLICATE_SHARE = 0.002
REFUND_SHARE = 0.003
VALUE_BLANK_SHARE = 0.05

# Random streams: each part of the world draws from its own generator seeded with (seed, stream[, block]).
STREAM_ENTITIES, STREAM_DELIVERY, STREAM_BLOCK = 1, 2, 3

CSV_OPTIONS = "HEADER {header}, DELIMITER ','"
TS_FORMAT = "TIMESTAMPFORMAT '%Y-%m-%d %H:%M:%S'"

FILES = ("ads.csv", "adsets.csv", "conversions.csv", "leads.csv", "outcomes.csv", "mapping.csv",
         "truth/leads_truth.csv", "truth/adsets_truth.csv")


# --- entities ---------------------------------------------------------------------------------------
@dataclass
class World:
    days: int
    start: date
    # campaigns
    camp_platform: np.ndarray
    camp_ids: list[str]
    camp_names: list[str]
    camp_slugs: list[str]
    # ad sets
    as_campaign: np.ndarray
    as_platform: np.ndarray
    as_ids: list[str]
    as_names: list[str]
    as_slugs: list[str]
    as_start: np.ndarray
    as_end: np.ndarray
    as_budget: np.ndarray
    as_capacity: np.ndarray
    as_target: np.ndarray
    as_pacing: list[str | None]
    as_half: np.ndarray
    as_scale: np.ndarray
    as_quality: np.ndarray
    as_cpm: np.ndarray
    as_ctr: np.ndarray
    as_ramp: np.ndarray
    # ads (sorted by ad set)
    ad_adset: np.ndarray
    ad_ids: list[str]
    ad_names: list[str]
    ad_utm: list[str]
    ad_start: np.ndarray
    ad_end: np.ndarray
    ad_creative: np.ndarray
    adset_first_ad: np.ndarray  # index of each ad set's first ad (ads are contiguous per ad set)


def campaigns(n: int) -> tuple[np.ndarray, list[str], list[str], list[str], list[str]]:
    platform = np.array([PLATFORM_PATTERN[i % len(PLATFORM_PATTERN)] for i in range(n)])
    seen = [0] * len(PLATFORMS)
    ids, names, slugs, objectives = [], [], [], []
    for i, p in enumerate(platform):
        templates = CAMPAIGN_TEMPLATES[p]
        k = seen[p]
        seen[p] += 1
        objective, audience = templates[k % len(templates)]
        if k >= len(templates):
            audience = f"{audience} {k // len(templates) + 1}"
        name = f"{PLATFORM_LABELS[p]} | {objective} | {audience}"
        ids.append(f"cmp_{i + 1:03d}")
        names.append(name)
        slugs.append(slug(name))
        objectives.append(objective)
    return platform, ids, names, slugs, objectives


def slug(text: str) -> str:
    out = "".join(ch if ch.isalnum() else "_" for ch in text.lower())
    return "_".join(part for part in out.split("_") if part)


def build_world(cfg: dict[str, int], seed: int) -> World:
    rng = np.random.default_rng([seed, STREAM_ENTITIES])
    days, n_c, n_as, n_ad = cfg["days"], cfg["campaigns"], cfg["adsets"], cfg["ads"]
    start = WORLD_END_DATE - timedelta(days=days - 1)

    camp_platform, camp_ids, camp_names, camp_slugs, camp_objectives = campaigns(n_c)

    # ad sets: every campaign gets at least one, the rest spread at random; numbered in campaign order
    as_campaign = np.sort(np.concatenate([np.arange(n_c), rng.integers(0, n_c, n_as - n_c)]))
    as_platform = camp_platform[as_campaign]
    as_ids = [f"as_{i + 1:04d}" for i in range(n_as)]
    aud_pick = rng.integers(0, 1_000_000, n_as)
    age_pick = rng.integers(0, len(AGE_BANDS), n_as)
    as_names, as_slugs, used_slugs, used_names = [], [], {}, {}
    for i in range(n_as):
        p = int(as_platform[i])
        label, aud_slug = ADSET_AUDIENCES[p][aud_pick[i] % len(ADSET_AUDIENCES[p])]
        age_label, age_slug = AGE_BANDS[age_pick[i]]
        slug = f"{aud_slug}_{age_slug}"
        name = f"{PLATFORM_LABELS[p]} | {camp_objectives[as_campaign[i]]} | {label} | {age_label}"
        used_slugs[slug] = k = used_slugs.get(slug, 0) + 1
        as_slugs.append(slug if k == 1 else f"{slug}_{k}")  # utm_content stays unique per ad set
        used_names[name] = k = used_names.get(name, 0) + 1
        as_names.append(name if k == 1 else f"{name} ({k})")

    # life spans: most run from day 0, some launch later, a few end early
    late = rng.random(n_as) < 0.4
    as_start = np.where(late, rng.integers(1, max(2, int(0.6 * days)), n_as), 0)
    early_end = rng.random(n_as) < 0.12
    end_lo = as_start + 28
    as_end = np.where(early_end & (end_lo < days - 8),
                      end_lo + (rng.random(n_as) * np.maximum(days - 8 - end_lo, 0)).astype(int), days - 1)

    # the drift ramp: the first TikTok campaign's ad sets spend more and more in the last 21 days
    tiktok_campaigns = np.flatnonzero(camp_platform == TIKTOK)
    as_ramp = np.isin(as_campaign, tiktok_campaigns[:1])
    as_start = np.where(as_ramp, np.minimum(as_start, days - 60), as_start)
    as_end = np.where(as_ramp, days - 1, as_end)

    # budgets and capacities: median ~250 at size s, scaled with the leads each ad set must deliver
    leads_per_adset_day = cfg["leads"] / (n_as * days)
    median_budget = 250.0 * leads_per_adset_day / (40_000 / (30 * 180))
    as_budget = np.maximum(5.0, np.round(median_budget * rng.lognormal(0.0, 0.6, n_as) / 5.0) * 5.0)
    order = rng.permutation(n_as)
    category = np.zeros(n_as, dtype=int)  # 0 on pace, 1 capacity-limited (under), 2 over-spends
    category[order[: round(0.20 * n_as)]] = 1
    category[order[round(0.20 * n_as): round(0.35 * n_as)]] = 2
    category[as_ramp] = 3  # ramped: spends over budget at the end
    u = rng.random(n_as)
    as_capacity = np.select(
        [category == 1, category == 2, category == 3],
        [as_budget * (0.55 + 0.30 * u), as_budget * (1.05 + 0.20 * u), as_budget * (1 + TIKTOK_RAMP) * 1.1],
        as_budget * (1.3 + 0.7 * u),
    )
    as_capacity = np.round(as_capacity, 2)
    as_target = np.where(category == 2, as_capacity, np.minimum(as_budget, as_capacity))
    pacing_kind = np.array(["on", "under", "over", "over"])[category]
    counters = {"on": 0, "under": 0, "over": 0}
    as_pacing: list[str | None] = []
    for kind in pacing_kind:
        spellings = PACING_SPELLINGS[str(kind)]
        as_pacing.append(spellings[counters[str(kind)] % len(spellings)])
        counters[str(kind)] += 1
    for i in rng.choice(n_as, size=max(2, round(0.08 * n_as)), replace=False):
        as_pacing[int(i)] = None

    # the true response: half of saturation at `half`, sized so the planned spend buys leads at the CPL
    as_half = np.round(as_target * rng.lognormal(0.0, 0.3, n_as), 2)
    cpl = PLATFORM_CPL[as_platform] * rng.lognormal(0.0, 0.25, n_as)
    as_scale = as_target / cpl / (1.0 - np.exp(-as_target / as_half * math.log(2)))
    as_quality = rng.normal(0.0, 0.35, n_as)
    as_cpm = PLATFORM_CPM[as_platform] * rng.lognormal(0.0, 0.2, n_as)
    as_ctr = PLATFORM_CTR[as_platform] * rng.lognormal(0.0, 0.2, n_as)

    # ads: at least one per ad set; the first runs the ad set's whole life, others rotate in and out
    per_adset = 1 + rng.multinomial(n_ad - n_as, np.full(n_as, 1.0 / n_as))
    ad_adset = np.repeat(np.arange(n_as), per_adset)
    adset_first_ad = np.concatenate([[0], np.cumsum(per_adset)[:-1]])
    version = np.arange(n_ad) - adset_first_ad[ad_adset] + 1
    s0, s1 = as_start[ad_adset], as_end[ad_adset]
    life = s1 - s0 + 1
    ad_start = np.where(version == 1, s0, s0 + (rng.random(n_ad) * 0.7 * life).astype(int))
    paused = (version > 1) & (rng.random(n_ad) < 0.3) & (ad_start + 14 < s1)
    ad_end = np.where(paused, ad_start + 14 + (rng.random(n_ad) * np.maximum(s1 - ad_start - 14, 0)).astype(int), s1)
    ad_creative = rng.lognormal(0.0, 0.3, n_ad)
    fmt_pick = rng.integers(0, 1_000_000, n_ad)
    angle_pick = rng.integers(0, len(AD_ANGLES), n_ad)
    ad_ids = [f"ad_{i + 1:05d}" for i in range(n_ad)]
    ad_names, ad_utm = [], []
    for i in range(n_ad):
        p = int(as_platform[ad_adset[i]])
        formats = AD_FORMATS[p]
        ad_names.append(f"{formats[fmt_pick[i] % len(formats)]} v{version[i]} - {AD_ANGLES[angle_pick[i]]}")
        ad_utm.append(f"{as_slugs[ad_adset[i]]}_v{version[i]}")

    return World(
        days=days, start=start,
        camp_platform=camp_platform, camp_ids=camp_ids, camp_names=camp_names, camp_slugs=camp_slugs,
        as_campaign=as_campaign, as_platform=as_platform, as_ids=as_ids, as_names=as_names, as_slugs=as_slugs,
        as_start=as_start, as_end=as_end, as_budget=as_budget, as_capacity=as_capacity, as_target=as_target,
        as_pacing=as_pacing, as_half=as_half, as_scale=as_scale, as_quality=as_quality, as_cpm=as_cpm,
        as_ctr=as_ctr, as_ramp=as_ramp,
        ad_adset=ad_adset, ad_ids=ad_ids, ad_names=ad_names, ad_utm=ad_utm, ad_start=ad_start, ad_end=ad_end,
        ad_creative=ad_creative, adset_first_ad=adset_first_ad,
    )


# --- delivery: spend, impressions, clicks and lead counts per (day, ad) ------------------------------
@dataclass
class Delivery:
    live: np.ndarray  # (days, ads) bool
    spend: np.ndarray  # (days, ads) rounded to pence, negative for refunds
    impressions: np.ndarray
    clicks: np.ndarray
    leads: np.ndarray  # (days, ads) lead counts
    adset_leads: np.ndarray  # (days, adsets)
    mobile_shift: tuple[float, float] = (0.0, 0.0)  # logit shifts of the mobile share: before, drift


def share_shift(weights: np.ndarray, base: np.ndarray, target: float) -> float:
    """The logit shift c with sum_p weights_p * expit(logit(base_p) + c) = target (weights sum to 1)."""
    return float(brentq(lambda c: float(weights @ expit(logit(base) + c)) - target, -10.0, 10.0, xtol=1e-10))


def per_adset(w: World, x: np.ndarray) -> np.ndarray:
    """Sum a (days, ads) matrix over the ads of each ad set (ads are contiguous per ad set)."""
    return np.add.reduceat(x, w.adset_first_ad, axis=1)


def simulate_delivery(
    w: World, cfg: dict[str, int], seed: int, budget_level: np.ndarray | None = None,
) -> Delivery:
    """Spend, impressions, clicks and leads per (day, ad). `budget_level` (days, ad sets), when given,
    multiplies each ad set's planned spend day by day (budget edits); the capacity still caps it."""
    rng = np.random.default_rng([seed, STREAM_DELIVERY])
    days = w.days
    d = np.arange(days)[:, None]
    weekday = (w.start.weekday() + np.arange(days)) % 7

    live_as = (d >= w.as_start) & (d <= w.as_end)
    ramp = 1.0 + TIKTOK_RAMP * np.clip((d - (days - DRIFT_DAYS) + 1) / DRIFT_DAYS, 0.0, 1.0) * w.as_ramp
    noise = rng.lognormal(0.0, 0.08, (days, len(w.as_ids)))
    planned = w.as_target * SPEND_WEEKDAY[weekday][:, None] * ramp * noise
    if budget_level is not None:
        planned = planned * budget_level
    adset_spend = np.minimum(planned, w.as_capacity) * live_as

    a = w.ad_adset
    live = (d >= w.ad_start) & (d <= w.ad_end)
    age = np.maximum(d - w.ad_start, 0)
    fatigue = 0.6 + 0.4 * np.exp(-age / 25.0)
    weight = live * w.ad_creative * fatigue * rng.gamma(8.0, 1.0 / 8.0, live.shape)
    weight_sum = per_adset(w, weight)[:, a]
    share = np.divide(weight, weight_sum, out=np.zeros_like(weight), where=weight_sum > 0)
    spend = np.round(adset_spend[:, a] * share, 2)

    refund = live & (rng.random(live.shape) < REFUND_SHARE)
    refund_amount = -np.round(rng.uniform(0.5, 15.0, live.shape), 2)
    spend = np.where(refund, refund_amount, spend)
    paid = np.where(refund, 0.0, spend)

    cpm = w.as_cpm[a] * rng.lognormal(0.0, 0.1, live.shape)
    impressions = np.round(paid / cpm * 1000.0).astype(np.int64)
    ctr = np.minimum(w.as_ctr[a] * w.ad_creative**0.8 * fatigue, 0.5)
    clicks = rng.binomial(impressions, ctr)

    # the ad set's expected leads follow its response to what it really spent; ads share by clicks
    effective = per_adset(w, paid)
    response = 1.0 - np.exp(-effective / w.as_half * math.log(2))
    k = cfg["leads"] / float((w.as_scale * response).sum())
    w.as_scale = w.as_scale * k
    expected_clicks = impressions * ctr
    click_sum = per_adset(w, expected_clicks)[:, a]
    click_share = np.divide(expected_clicks, click_sum, out=np.zeros_like(expected_clicks), where=click_sum > 0)
    leads = rng.poisson((w.as_scale * response)[:, a] * click_share)
    clicks = np.maximum(clicks, leads)
    adset_leads = per_adset(w, leads)

    # the device mix: calibrated on this world's platform mix so ~45% of leads are mobile, ~70% in the drift
    by_platform = np.zeros((days, len(PLATFORMS)))
    np.add.at(by_platform.T, w.as_platform, adset_leads.T.astype(float))
    before, drift = by_platform[: days - DRIFT_DAYS].sum(0), by_platform[days - DRIFT_DAYS:].sum(0)
    shift0 = share_shift(before / before.sum(), MOBILE_SHARE, MOBILE_TARGETS[0])
    shift1 = share_shift(drift / drift.sum(), MOBILE_SHARE, MOBILE_TARGETS[1])
    return Delivery(live=live, spend=spend, impressions=impressions, clicks=clicks, leads=leads,
                     adset_leads=adset_leads, mobile_shift=(shift0, shift1))


# --- writing ----------------------------------------------------------------------------------------
class Sink:
    """Writes a DataFrame through a DuckDB SELECT to a CSV, appending blocks after the first."""

    def __init__(self, con: duckdb.DuckDBPyConnection, path: Path, options: str = ""):
        self.con, self.path, self.options, self.rows, self.started = con, path, options, 0, False
        self.tmp = path.with_name(path.name + ".part")

    def write(self, df: pd.DataFrame, select: str) -> None:
        self.con.register("t", df)
        try:
            target = self.tmp if self.started else self.path
            opts = CSV_OPTIONS.format(header="false" if self.started else "true")
            if self.options:
                opts += ", " + self.options
            self.con.execute(f"COPY ({select}) TO {sql_str(str(target))} ({opts})")
        finally:
            self.con.unregister("t")
        if self.started:
            with open(self.path, "ab") as out, open(self.tmp, "rb") as part:
                shutil.copyfileobj(part, out, 1 << 22)
            self.tmp.unlink()
        self.started = True
        self.rows += len(df)


def cat(codes: np.ndarray, categories: list[str] | tuple[str, ...]) -> pd.Categorical:
    """A categorical column from integer codes into `categories` (-1 = blank); repeated labels are merged."""
    labels, inverse = np.unique(np.array(categories, dtype=object), return_inverse=True)
    codes = np.where(codes >= 0, inverse[np.maximum(codes, 0)], -1)
    return pd.Categorical.from_codes(codes.astype(np.int32), categories=pd.Index(labels, dtype=object))


def with_duplicates(n: int, share: float, rng: np.random.Generator) -> np.ndarray:
    """Row order with a few rows written twice, the copy right after the original."""
    dup = rng.choice(n, size=int(round(share * n)), replace=False) if n else np.empty(0, dtype=int)
    return np.sort(np.concatenate([np.arange(n), dup]), kind="stable")


def write_static(con: duckdb.DuckDBPyConnection, w: World, out: Path) -> dict[str, int]:
    n_as = len(w.as_ids)
    end_known = w.as_end < w.days - 1
    adsets = pd.DataFrame({
        "adset_id": w.as_ids,
        "campaign_id": [w.camp_ids[c] for c in w.as_campaign],
        "adset_name": w.as_names,
        "daily_budget": w.as_budget,
        "pacing_status": w.as_pacing,
        "start_day": w.as_start,
        "end_day": np.where(end_known, w.as_end, -1),
    })
    Sink(con, out / "adsets.csv").write(adsets, f"""
        SELECT adset_id, campaign_id, adset_name, daily_budget::DECIMAL(14, 2) AS daily_budget, pacing_status,
               DATE '{w.start}' + start_day::INTEGER AS start_date,
               CASE WHEN end_day >= 0 THEN DATE '{w.start}' + end_day::INTEGER END AS end_date
        FROM t""")

    mapping = pd.DataFrame({
        "field": "utm_content",
        "value": w.ad_utm,
        "campaign_id": [w.camp_ids[w.as_campaign[s]] for s in w.ad_adset],
        "adset_id": [w.as_ids[s] for s in w.ad_adset],
    })
    Sink(con, out / "mapping.csv").write(mapping, "SELECT * FROM t")

    truth = pd.DataFrame({
        "adset_id": w.as_ids,
        "campaign_id": [w.camp_ids[c] for c in w.as_campaign],
        "platform": [PLATFORMS[p] for p in w.as_platform],
        "response_scale": np.round(w.as_scale, 4),
        "response_half_spend": w.as_half,
        "capacity": w.as_capacity,
        "daily_budget": w.as_budget,
        "quality_logit": np.round(w.as_quality, 4),
    })
    Sink(con, out / "truth" / "adsets_truth.csv").write(truth, """
        SELECT adset_id, campaign_id, platform, response_scale::DECIMAL(18, 4) AS response_scale,
               response_half_spend::DECIMAL(14, 2) AS response_half_spend, capacity::DECIMAL(14, 2) AS capacity,
               daily_budget::DECIMAL(14, 2) AS daily_budget, quality_logit::DECIMAL(10, 4) AS quality_logit
        FROM t""")
    return {"adsets.csv": n_as, "mapping.csv": len(mapping), "truth/adsets_truth.csv": n_as}


def ads_block(sink: Sink, w: World, dl: Delivery, d0: int, d1: int, rng: np.random.Generator) -> None:
    dd, aa = np.nonzero(dl.live[d0:d1])
    order = with_duplicates(len(dd), AD_DUPLICATE_SHARE, rng)
    dd, aa = dd[order] + d0, aa[order]
    s = w.ad_adset[aa]
    df = pd.DataFrame({
        "day": dd,
        "platform": cat(w.as_platform[s], PLATFORM_LABELS),
        "campaign_id": cat(w.as_campaign[s], w.camp_ids),
        "campaign_name": cat(w.as_campaign[s], w.camp_names),
        "adset_id": cat(s, w.as_ids),
        "adset_name": cat(s, w.as_names),
        "ad_id": cat(aa, w.ad_ids),
        "ad_name": cat(aa, w.ad_names),
        "spend": dl.spend[dd, aa],
        "impressions": dl.impressions[dd, aa],
        "clicks": dl.clicks[dd, aa],
    })
    sink.write(df, f"""
        SELECT DATE '{w.start}' + day::INTEGER AS date, platform, campaign_id, campaign_name, adset_id, adset_name,
               ad_id, ad_name, spend::DECIMAL(14, 2) AS spend, impressions, clicks, '{CURRENCY}' AS currency
        FROM t""")


def conversions_block(sink: Sink, w: World, dl: Delivery, d0: int, d1: int, rng: np.random.Generator) -> None:
    block_days = np.arange(d0, d1)[:, None]
    dd, ss = np.nonzero((block_days >= w.as_start) & (block_days <= w.as_end))
    leads = dl.adset_leads[d0:d1][dd, ss].astype(float)
    plat = w.as_platform[ss]
    parts = []
    # (combo, type, window): lead 7d click (always), lead 1d view and purchase 7d click (when counted)
    for combo, (mean, type_cat, window_cat) in enumerate(((1.05, 0, 0), (0.12, 0, 1), (0.02, 1, 0))):
        count = rng.poisson(mean * leads + (0.02 if combo == 0 else 0.0))
        if combo == 2:
            value = count * rng.lognormal(math.log(3000.0), 0.5, len(count))
        else:
            value = count * PLATFORM_LEAD_VALUE[plat]
        keep = np.ones(len(count), dtype=bool) if combo == 0 else count > 0
        parts.append(pd.DataFrame({
            "day": dd[keep] + d0, "adset": ss[keep], "combo": combo, "count": count[keep],
            "value": np.round(value[keep], 2),
            "type_code": type_cat * 2 + rng.integers(0, 2, int(keep.sum())),
            "window_code": window_cat * 2 + rng.integers(0, 2, int(keep.sum())),
        }))
    df = pd.concat(parts, ignore_index=True)
    df = df.iloc[np.lexsort((df["combo"].to_numpy(), df["adset"].to_numpy(), df["day"].to_numpy()))]
    value = df["value"].to_numpy().copy()
    value[rng.random(len(df)) < VALUE_BLANK_SHARE] = np.nan
    out = pd.DataFrame({
        "day": df["day"].to_numpy(),
        "adset_id": cat(df["adset"].to_numpy(), w.as_ids),
        "conversion_type": cat(df["type_code"].to_numpy(), ("Lead", "lead", "purchase", "Purchase")),
        "attribution_window": cat(df["window_code"].to_numpy(), ("7d_click", "7D_CLICK", "1d_view", "1D_VIEW")),
        "count": df["count"].to_numpy(),
        "value": value,
    })
    sink.write(out, f"""
        SELECT DATE '{w.start}' + day::INTEGER AS date, adset_id, conversion_type, attribution_window, count,
               value::DECIMAL(16, 2) AS value
        FROM t""")


def pick(u: np.ndarray, mix: np.ndarray, row: np.ndarray) -> np.ndarray:
    """Categorical draw per lead: u uniform, mix[row] the lead's category probabilities."""
    cum = np.cumsum(mix, axis=1)[:, :-1]
    return (u[:, None] > cum[row]).sum(axis=1)


@dataclass
class LeadCounter:
    next_no: int = 1
    width: int = 7


# --- the lead rows every world writes alike ------------------------------------------------------------------

def count_device_drift(stats: dict[str, float], device: np.ndarray, day: np.ndarray, days: int) -> None:
    """The mobile share before and during the last DRIFT_DAYS, for the world's summary."""
    drift = day >= days - DRIFT_DAYS
    stats["mobile_before"] += int((device[~drift] == 0).sum())
    stats["leads_before"] += int((~drift).sum())
    stats["mobile_drift"] += int((device[drift] == 0).sum())
    stats["leads_drift"] += int(drift.sum())


def source_columns(w: World, rng: np.random.Generator, lead_no: np.ndarray, created: np.ndarray, camp: np.ndarray,
                   s: np.ndarray, ad: np.ndarray) -> dict:
    """The lead's number, creation time and source as the CRM captured it: ids, ad id only, utm only, a retyped
    campaign name, or nothing (LEAD_GROUPS). Draws from `rng` in a fixed order, so a world stays reproducible."""
    n = len(lead_no)
    group = pick(rng.random(n), LEAD_GROUPS[None, :], np.zeros(n, dtype=int))
    none = np.full(n, -1)
    utm_content = np.where(group <= 2, ad, np.where(group == 4, len(w.ad_ids) + s * 2 + rng.integers(0, 2, n), -1))
    orphan_utm = [v for slug in w.as_slugs for v in (f"{slug}_old", f"copy_of_{slug}")]
    variants = []
    for name in w.camp_names:
        variants += [name.lower(), name.upper(), " " + name.replace(" ", "  ") + " ", name.lower().replace(" | ", " |  ")]
    return {
        "lead_no": lead_no,
        "created_at": np.datetime64(w.start.isoformat(), "s") + created.astype("timedelta64[s]"),
        "campaign_id": cat(np.where(group == 0, camp, none), w.camp_ids),
        "adset_id": cat(np.where(group == 0, s, none), w.as_ids),
        "ad_id": cat(np.where(group <= 1, ad, none), w.ad_ids),
        "utm_campaign": cat(camp, w.camp_slugs),
        "utm_content": cat(utm_content, w.ad_utm + orphan_utm),
        "campaign_name": cat(np.where(group == 3, camp * 4 + rng.integers(0, 4, n), none), variants),
    }


def write_outcomes(sink: Sink, w: World, lead_no: np.ndarray, lead_id: str, q_at: np.ndarray, q_obs: np.ndarray,
                   b_at: np.ndarray, b_obs: np.ndarray, won_at: np.ndarray, w_obs: np.ndarray,
                   revenue: np.ndarray) -> None:
    """outcomes.csv: one row per observed qualification, with its booking and won deal where observed."""
    base, nat = np.datetime64(w.start.isoformat(), "s"), np.datetime64("NaT", "s")

    def stamp(at: np.ndarray, observed: np.ndarray) -> np.ndarray:
        return np.where(observed, base + at.astype("timedelta64[s]"), nat)

    outcomes = pd.DataFrame({
        "lead_no": lead_no[q_obs],
        "qualified_at": stamp(q_at, q_obs)[q_obs],
        "booked_at": stamp(b_at, b_obs)[q_obs],
        "won_at": stamp(won_at, w_obs)[q_obs],
        "revenue": np.where(w_obs, revenue, np.nan)[q_obs],
    })
    sink.write(outcomes, f"SELECT {lead_id}, qualified_at, booked_at, won_at, revenue::DECIMAL(14, 2) AS revenue FROM t")
