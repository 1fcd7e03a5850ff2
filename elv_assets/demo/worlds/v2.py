"""World "v2": a lead law that is hard the way real B2B funnels are, with a truth a pipeline can reach.

Same ad economics and mess as "simple" (common.py: same campaigns, ad sets and ads for a seed), plus
budget edits: every ad set except the ramped TikTok one changes its daily budget about every
BUDGET_EDIT_EVERY_DAYS (21) days to a lognormal level (sigma BUDGET_EDIT_SIGMA, kept within
BUDGET_LEVEL_RANGE x the budget in adsets.csv, which is the latest one), so its spend moves over
time (capacity still caps it) and lagged spend features carry signal.

Lead fields (leads.csv, after the v1 columns; all text, blanks allowed)
- employees: company headcount, lognormal around a platform median (EMPLOYEES_MEDIAN: TikTok small
  firms, LinkedIn large; sigma EMPLOYEES_SIGMA), 2 to 20,000; blank for EMPLOYEES_BLANK (12%).
  company_size is its band (1-10, 11-50, 51-200, 201-1000, 1000+), blank for COMPANY_SIZE_BLANK (8%)
  independently. FOUNDER_SHARE (30%) of the leads at 1-10 firms are made c-level (founders).
- pages_viewed: pages seen before converting: 1 + a negative binomial (mean PAGES_MEAN extra pages,
  x PAGES_MOBILE on mobile); BOT_SHARE (3%) are bots or researchers with 20-60 pages; at most 60.
- industry: one of INDUSTRIES (8), mixed per platform.
- form, country, device, job_level, email_domain: as in v1.
- sales_stage: the CRM stage as the export stands at WORLD_END_DATE, written after sales made
  contact: the leakage trap. Qualified leads carry SQL / Meeting booked / Closed won / Closed lost,
  consistent with their booking and win (qualified, never booked: SQL for STAGE_SQL_DAYS, then
  Closed lost); unqualified leads older than STAGE_YOUNG_DAYS (3) carry Contacted / Nurture /
  Disqualified; younger ones are blank or New; STAGE_NOISE (5%) get a random stage. On mature leads
  this column alone separates the 14-day label with ROC-AUC ~0.96-0.97.
- gclid (GCLID_SHARE, 90%, of Google leads), fbclid (FBCLID_SHARE, 85%, of Meta leads), email
  (consistent with email_domain and country) and phone (country prefixes), unique per lead, each of
  email and phone blank for PII_BLANK (10%): synthetic, see pii.py.

Qualification. A lead ever qualifies with p_ever = expit(z), z the sum of
- QUAL_BASE and the v1 additive terms: platform (PLATFORM_QUALITY), the ad set's quality random
  effect (quality_logit in truth/adsets_truth.csv), FORM_EFFECT, COUNTRY_EFFECT, DEVICE_EFFECT,
  JOB_EFFECT, FREE_EMAIL_EFFECT and WEEKDAY_EFFECT of the day the lead was created;
- interactions: JOB_SIZE_EFFECT[job level, size band] (a c-level at a 1-10 firm is a founder, +1.2;
  a c-level at 1000+ rarely a serious buyer, -1.8; entry level -0.8 at 1-10 firms, +0.8 at 1000+)
  and DEVICE_FORM_EFFECT[device, form] (mobile + long form -1.3, mobile + calculator +0.7; tablet a
  third of that). The size band is company_size, else the band of employees; none if both blank;
- pages: PAGES_EFFECT = (a, b), a*x + b*x^2 with x = ln(pages_viewed): from 1 page it rises by ~2
  logits to a peak near 6 pages, falls back to the 1-page level at ~40 and 1 logit below it at 60
  (bots, researchers);
- employees: -EMPLOYEES_CURVE * (ln(employees / EMPLOYEES_PEAK)^2 - EMPLOYEES_CENTRE): a sweet spot
  at ~200 employees (+0.5), -1.6 at 2 or at 20,000; 0 when employees is blank (EMPLOYEES_CENTRE is about
  the average square, so a blank counts as an average firm);
- INDUSTRY_EFFECT (software +0.35 ... agency -0.7);
- spend pressure: -SPEND_PRESSURE * ln(r), r = the ad set's mean daily spend on its days with rows
  in ads.csv among the SPEND_LOOKBACK_DAYS (7) days before the lead's day (refund rows count as 0,
  duplicate rows once), divided by its daily_budget in adsets.csv, clipped to SPEND_RATIO_RANGE; 0
  when the ad set has no such day (its first day). Pushing an ad set buys worse leads;
- creative age: -AD_AGE_EFFECT * min(days since the lead's ad first appeared in ads.csv, 60) / 60;
- concept drift in the last CONCEPT_DRIFT_DAYS (35) days, after a 3-day ramp: TikTok + mobile leads
  DRIFT_DOWN (-0.8: a new placement full of accidental form fills), Google + calculator leads
  DRIFT_UP (+0.6: a rebuilt ROI calculator). The mix drifts too (common.py), separately.

Delay. A lead that qualifies does so after a lognormal delay with median DELAY_MEDIAN_DAYS[platform]
(Meta 3.5, Google 2.5, LinkedIn 6, TikTok 3 days) x exp(DELAY_SIZE_SLOPE x (size band - 2)) (each
band up is 16% slower; none without a band) x DELAY_DRIFT (1.3) for leads created in the last
DELAY_DRIFT_DAYS (42) days (3-day ramp), and sigma DELAY_SIGMA (~14-19% of qualifications take more
than 14 days). p_qualified_true = p_ever x P(delay <= 14 days | platform, band, creation day).

Value. Given qualified, a lead books a meeting with p_book = expit(BOOK_BASE + 0.35 director or
c-level + 0.2 long or calculator form - 0.3 free email) BOOK_DELAY (~3) days later; the deal closes
CLOSE_DELAY (~20) days after booking (won_at at most CLOSE_CAP_DAYS = 60 days after qualifying), won
with p_won = expit(WON_BASE + WON_SIZE_SLOPE x (band - 2) + WON_C_LEVEL + WON_COUNTRY +
WON_INDUSTRY). Revenue | won is lognormal with median REVENUE_AT_50 x (employees / 50)^0.35 x
REVENUE_JOB x REVENUE_COUNTRY x REVENUE_INDUSTRY (employees blank: the middle of its band, else 50)
and sigma REVENUE_SIGMA (0.9); ENTERPRISE_SHARE (2%) of deals are 4-8x larger, so
E[revenue] = median x exp(sigma^2 / 2) x 1.1. value_if_qualified_true = p_book x p_won x E[revenue];
value_true = p_qualified_true x value_if_qualified_true (the expected 14-day value of the lead as
created, under the world's own law). Leads qualified later than 14 days still book and win.

Observability. Every term reads what the exports show: the lead's row (fields, created_at and its
campaign, ad set and ad ids), adsets.csv and the ads.csv rows of days before the lead's day; the
tests recompute p_ever and p_qualified_true from those files. The exceptions: the ad-set quality
effect is a hidden constant per ad set (a model learns it from the ad set's history); leads whose
CRM row has no ad_id (utm-only ~9%: their ad is named only by the "_vN" suffix of utm_content, which
mapping.csv resolves to the ad set but not to the ad; name-only ~4% and orphans ~0.5%: not even the
ad set) have a creative age, and the name-only and orphan leads a spend pressure, that a pipeline
cannot see exactly. The truth therefore sits a little above what any pipeline can reach.

How hard (size s, seeds 7/41/67): on leads 14+ days old, time-ordered, LightGBM on the lead fields,
campaign/ad set ids, ad age and trailing 7-day spend reaches ~0.93-0.95 of the truth's PR-AUC; a
one-hot logistic regression on the categoricals ~0.80.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import expit, logit, ndtr

from elv_assets.demo.worlds import pii
from elv_assets.demo.worlds.common import (
    COMPANY_SIZES,
    COUNTRIES,
    COUNTRY_MIX,
    DEVICES,
    DRIFT_DAYS,
    DRIFT_RAMP_DAYS,
    EMAIL_DOMAINS,
    FORM_MIX,
    FORMS,
    FREE_EMAIL,
    HOUR_WEIGHTS,
    JOB_LEVELS,
    JOB_MIX,
    LEAD_DUPLICATE_SHARE,
    MOBILE_SHARE,
    PLATFORM_QUALITY,
    TABLET_OF_REST,
    Delivery,
    LeadCounter,
    Sink,
    World,
    cat,
    count_device_drift,
    per_adset,
    pick,
    source_columns,
    with_duplicates,
    write_outcomes,
)

NAME = "v2"
META, GOOGLE, TIKTOK = 0, 1, 3
MOBILE, CALCULATOR, C_LEVEL = 0, 2, 3

# --- budget edits -------------------------------------------------------------------------------
BUDGET_EDIT_EVERY_DAYS = 21.0
BUDGET_EDIT_SIGMA = 0.55
BUDGET_LEVEL_RANGE = (0.4, 2.5)
STREAM_BUDGET = 4

# --- lead fields ----------------------------------------------------------------------------------
INDUSTRIES = ("software", "finance", "healthcare", "retail", "manufacturing", "education", "agency", "other")
INDUSTRY_MIX = np.array([[.18, .10, .10, .16, .10, .10, .12, .14], [.24, .14, .10, .10, .12, .08, .10, .12],
                         [.26, .18, .12, .06, .14, .06, .08, .10], [.12, .06, .06, .24, .06, .14, .16, .16]])
EMPLOYEES_MEDIAN = np.array([35.0, 70.0, 300.0, 15.0])  # per platform
EMPLOYEES_SIGMA = 1.5
EMPLOYEES_RANGE = (2, 20_000)
BAND_EDGES = np.array([10, 50, 200, 1000])  # upper ends of the company_size bands
BAND_MIDDLE = np.array([5.0, 25.0, 100.0, 450.0, 3000.0])  # geometric middles, for revenue when employees is blank
EMPLOYEES_BLANK = 0.12
COMPANY_SIZE_BLANK = 0.08
FOUNDER_SHARE = 0.30
PAGES_MEAN = 5.0  # extra pages beyond the first (negative binomial)
PAGES_DISPERSION = 1.5
PAGES_MOBILE = 0.7  # mobile visitors view fewer pages
BOT_SHARE = 0.03
PAGES_MAX = 60
GCLID_SHARE, FBCLID_SHARE = 0.90, 0.85
PII_BLANK = 0.10
SALES_STAGES = ("New", "Contacted", "Nurture", "Disqualified", "SQL", "Meeting booked", "Closed won", "Closed lost")
STAGE_YOUNG_DAYS = 3.0
STAGE_SQL_DAYS = 10.0  # qualified leads that never book stay "SQL" this long, then "Closed lost"
STAGE_NOISE = 0.05

# --- qualification (logit terms) --------------------------------------------------------------------
QUAL_BASE = -2.24
FORM_EFFECT = np.array([0.0, 0.45, 0.55])
COUNTRY_EFFECT = np.array([0.3, 0.2, -0.2, -0.3, -0.3, -0.1])
DEVICE_EFFECT = np.array([-0.2, 0.0, -0.1])
JOB_EFFECT = np.array([-0.4, 0.0, 0.55, 0.8])
FREE_EMAIL_EFFECT = -1.2
WEEKDAY_EFFECT = np.array([0.1, 0.0, 0.0, 0.0, -0.05, -0.3, -0.3])  # Monday .. Sunday
JOB_SIZE_EFFECT = np.array([  # rows: job level; columns: 1-10, 11-50, 51-200, 201-1000, 1000+
    [-0.8, -0.4, 0.0, 0.4, 0.8],  # entry
    [0.0, 0.0, 0.0, 0.0, 0.0],  # manager
    [-0.1, 0.0, 0.0, 0.1, 0.1],  # director
    [1.2, 0.5, 0.0, -0.8, -1.8],  # c_level
])
DEVICE_FORM_EFFECT = np.array([  # rows: device; columns: short, long, calculator
    [0.0, -1.3, 0.7],  # mobile
    [0.0, 0.0, 0.0],  # desktop
    [0.0, -0.4, 0.25],  # tablet
])
PAGES_EFFECT = (2.2, -0.6)
EMPLOYEES_PEAK = 200.0
EMPLOYEES_CURVE = 0.10
EMPLOYEES_CENTRE = 5.0
INDUSTRY_EFFECT = np.array([0.35, 0.25, 0.1, -0.3, 0.15, -0.45, -0.7, -0.2])
SPEND_PRESSURE = 1.0
SPEND_LOOKBACK_DAYS = 7
SPEND_RATIO_RANGE = (0.25, 4.0)
AD_AGE_EFFECT = 0.8
AD_AGE_CAP_DAYS = 60
CONCEPT_DRIFT_DAYS = 35
DRIFT_DOWN = -0.8  # TikTok + mobile
DRIFT_UP = 0.6  # Google + calculator

# --- qualification delay ------------------------------------------------------------------------------
DELAY_MEDIAN_DAYS = np.array([3.5, 2.5, 6.0, 3.0])  # per platform
DELAY_SIZE_SLOPE = 0.15
DELAY_SIGMA = 1.4
DELAY_DRIFT_DAYS = 42
DELAY_DRIFT = 1.3
QUAL_WINDOW_DAYS = 14.0

# --- value --------------------------------------------------------------------------------------------
BOOK_BASE = logit(0.45)
WON_BASE = logit(0.30)
WON_SIZE_SLOPE = 0.15
WON_C_LEVEL = 0.2
WON_COUNTRY = np.array([0.0, 0.0, -0.1, 0.1, -0.1, 0.0])
WON_INDUSTRY = np.array([0.1, 0.1, 0.0, -0.1, 0.1, -0.2, -0.3, -0.1])
REVENUE_AT_50 = 3000.0
REVENUE_ELASTICITY = 0.35
REVENUE_JOB = np.array([0.8, 1.0, 1.2, 1.3])
REVENUE_COUNTRY = np.array([1.0, 0.9, 1.3, 1.1, 0.9, 1.0])
REVENUE_INDUSTRY = np.array([1.2, 1.4, 1.1, 0.8, 1.0, 0.6, 0.7, 0.8])
REVENUE_SIGMA = 0.9
ENTERPRISE_SHARE = 0.02
ENTERPRISE_RANGE = (4.0, 8.0)
BOOK_DELAY = (3.0, 0.6, 20.0)  # median days, sigma, cap
CLOSE_DELAY = (20.0, 0.45)  # median days after booking, sigma; won_at at most 60 days after qualifying
CLOSE_CAP_DAYS = 60.0

STAT_KEYS = ("leads", "p14_sum", "p_ever_sum", "qualified_observed", "qualified_late", "won", "revenue",
             "mobile_before", "leads_before", "mobile_drift", "leads_drift")


def budget_levels(w: World, seed: int) -> np.ndarray:
    """(days, ad sets) multipliers of the planned spend: piecewise constant, ending at 1 (today's budget)."""
    rng = np.random.default_rng([seed, STREAM_BUDGET])
    level = np.ones((w.days, len(w.as_ids)))
    for i in range(len(w.as_ids)):
        s0, s1 = int(w.as_start[i]), int(w.as_end[i])
        k = int(rng.poisson((s1 - s0 + 1) / BUDGET_EDIT_EVERY_DAYS))
        if w.as_ramp[i] or k == 0:
            continue
        cuts = np.sort(rng.integers(s0 + 1, s1 + 1, k))
        levels = np.clip(rng.lognormal(0.0, BUDGET_EDIT_SIGMA, k), *BUDGET_LEVEL_RANGE)
        for j, (a, b) in enumerate(zip(np.concatenate([[s0], cuts[:-1]]), cuts, strict=True)):
            level[a:b, i] = levels[j]
    return level


@dataclass
class Context:
    seed: int
    pressure: np.ndarray  # (days, ad sets) the spend-pressure logit term of a lead created that day


def prepare(w: World, dl: Delivery, seed: int) -> Context:
    """Per (day, ad set): the mean daily spend over the lookback days with rows, against the daily budget."""
    paid = per_adset(w, np.clip(dl.spend, 0.0, None))
    live = per_adset(w, dl.live.astype(np.int64)) > 0
    zero = np.zeros((1, paid.shape[1]))
    spend_cum = np.concatenate([zero, np.cumsum(paid, axis=0)])
    live_cum = np.concatenate([zero, np.cumsum(live, axis=0)])
    d = np.arange(w.days)
    back = np.maximum(d - SPEND_LOOKBACK_DAYS, 0)
    spend = spend_cum[d] - spend_cum[back]
    days_live = live_cum[d] - live_cum[back]
    mean = np.divide(spend, days_live, out=np.zeros_like(spend), where=days_live > 0)
    ratio = np.clip(mean / w.as_budget, *SPEND_RATIO_RANGE)
    return Context(seed=seed, pressure=np.where(days_live > 0, -SPEND_PRESSURE * np.log(ratio), 0.0))


def size_band(employees: np.ndarray) -> np.ndarray:
    return np.searchsorted(BAND_EDGES, employees, side="left")


def _ramp(day: np.ndarray, days: int, window: int) -> np.ndarray:
    return np.clip((day - (days - window) + 1) / DRIFT_RAMP_DAYS, 0.0, 1.0)


def leads_block(
    sinks: dict[str, Sink], w: World, dl: Delivery, ctx: Context, d0: int, d1: int,
    rng: np.random.Generator, counter: LeadCounter, stats: dict[str, float],
) -> None:
    """Draw the leads of days d0..d1-1 and write their rows to leads.csv, outcomes.csv and the truth."""
    days = w.days
    dd, aa = np.nonzero(dl.leads[d0:d1])
    n_per = dl.leads[d0:d1][dd, aa]
    day = np.repeat(dd + d0, n_per)
    ad = np.repeat(aa, n_per)
    hour = rng.choice(24, size=len(day), p=HOUR_WEIGHTS / HOUR_WEIGHTS.sum())
    created = day.astype(np.int64) * 86400 + hour * 3600 + rng.integers(0, 3600, len(day))  # s since start
    order = np.argsort(created, kind="stable")
    created, day, ad = created[order], day[order], ad[order]
    n = len(day)
    lead_no = counter.next_no + np.arange(n, dtype=np.int64)
    counter.next_no += n
    s = w.ad_adset[ad]
    camp = w.as_campaign[s]
    plat = w.as_platform[s]
    weekday = (w.start.weekday() + day) % 7

    # --- the lead's fields ---------------------------------------------------------------------------
    form = pick(rng.random(n), FORM_MIX, plat)
    country = pick(rng.random(n), COUNTRY_MIX, plat)
    job = pick(rng.random(n), JOB_MIX, plat)
    free = (rng.random(n) < FREE_EMAIL[plat]).astype(int)
    shift0, shift1 = dl.mobile_shift
    shift = shift0 + (shift1 - shift0) * _ramp(day, days, DRIFT_DAYS)
    p_mobile = expit(logit(MOBILE_SHARE[plat]) + shift)
    device = np.where(rng.random(n) < p_mobile, 0, np.where(rng.random(n) < TABLET_OF_REST, 2, 1))
    industry = pick(rng.random(n), INDUSTRY_MIX, plat)
    headcount = np.clip(np.round(EMPLOYEES_MEDIAN[plat] * np.exp(EMPLOYEES_SIGMA * rng.standard_normal(n))),
                        *EMPLOYEES_RANGE).astype(np.int64)
    band = size_band(headcount)
    job = np.where((band == 0) & (rng.random(n) < FOUNDER_SHARE), C_LEVEL, job)
    show_employees = rng.random(n) >= EMPLOYEES_BLANK
    show_band = rng.random(n) >= COMPANY_SIZE_BLANK
    band_seen = np.where(show_band | show_employees, band, -1)  # what the CRM row tells about firm size
    extra = rng.negative_binomial(PAGES_DISPERSION, PAGES_DISPERSION / (
        PAGES_DISPERSION + PAGES_MEAN * np.where(device == MOBILE, PAGES_MOBILE, 1.0)))
    bot = rng.random(n) < BOT_SHARE
    pages = np.minimum(np.where(bot, rng.integers(20, PAGES_MAX + 1, n), 1 + extra), PAGES_MAX)

    # --- qualification: ever (p_ever), after a delay that depends on segment and time -----------------
    x = np.log(pages)
    log_emp = np.log(headcount / EMPLOYEES_PEAK)
    known_band = band_seen >= 0
    concept = (DRIFT_DOWN * ((plat == TIKTOK) & (device == MOBILE))
               + DRIFT_UP * ((plat == GOOGLE) & (form == CALCULATOR))) * _ramp(day, days, CONCEPT_DRIFT_DAYS)
    z = (QUAL_BASE + PLATFORM_QUALITY[plat] + w.as_quality[s] + FORM_EFFECT[form] + COUNTRY_EFFECT[country]
         + DEVICE_EFFECT[device] + JOB_EFFECT[job] + FREE_EMAIL_EFFECT * free + WEEKDAY_EFFECT[weekday]
         + np.where(known_band, JOB_SIZE_EFFECT[job, np.maximum(band_seen, 0)], 0.0)
         + DEVICE_FORM_EFFECT[device, form]
         + PAGES_EFFECT[0] * x + PAGES_EFFECT[1] * x**2
         + np.where(show_employees, -EMPLOYEES_CURVE * (log_emp**2 - EMPLOYEES_CENTRE), 0.0)
         + INDUSTRY_EFFECT[industry]
         + ctx.pressure[day, s]
         - AD_AGE_EFFECT * np.minimum(day - w.ad_start[ad], AD_AGE_CAP_DAYS) / AD_AGE_CAP_DAYS
         + concept)
    p_ever = expit(z)
    mu = (np.log(DELAY_MEDIAN_DAYS[plat]) + DELAY_SIZE_SLOPE * np.where(known_band, band_seen - 2, 0)
          + math.log(DELAY_DRIFT) * _ramp(day, days, DELAY_DRIFT_DAYS))
    p14 = p_ever * ndtr((math.log(QUAL_WINDOW_DAYS) - mu) / DELAY_SIGMA)

    # --- value given qualified -------------------------------------------------------------------------
    p_book = expit(BOOK_BASE + 0.35 * (job >= 2) + 0.2 * (form > 0) - 0.3 * free)
    p_won = expit(WON_BASE + WON_SIZE_SLOPE * np.where(known_band, band_seen - 2, 0) + WON_C_LEVEL * (job == C_LEVEL)
                  + WON_COUNTRY[country] + WON_INDUSTRY[industry])
    size_for_revenue = np.where(show_employees, headcount, np.where(known_band, BAND_MIDDLE[np.maximum(band_seen, 0)], 50.0))
    rev_median = (REVENUE_AT_50 * (size_for_revenue / 50.0) ** REVENUE_ELASTICITY * REVENUE_JOB[job]
                  * REVENUE_COUNTRY[country] * REVENUE_INDUSTRY[industry])
    enterprise_mean = (ENTERPRISE_RANGE[0] + ENTERPRISE_RANGE[1]) / 2
    rev_mean = rev_median * math.exp(REVENUE_SIGMA**2 / 2) * (1 + ENTERPRISE_SHARE * (enterprise_mean - 1))
    value_if_q = p_book * p_won * rev_mean
    value_true = p14 * value_if_q

    # --- what happened ---------------------------------------------------------------------------------
    qualifies = rng.random(n) < p_ever
    q_delay = np.exp(mu + DELAY_SIGMA * rng.standard_normal(n))
    books = qualifies & (rng.random(n) < p_book)
    b_delay = np.minimum(np.exp(math.log(BOOK_DELAY[0]) + BOOK_DELAY[1] * rng.standard_normal(n)), BOOK_DELAY[2])
    wins = books & (rng.random(n) < p_won)
    c_delay = np.minimum(np.exp(math.log(CLOSE_DELAY[0]) + CLOSE_DELAY[1] * rng.standard_normal(n)),
                         CLOSE_CAP_DAYS - b_delay)
    enterprise = np.where(rng.random(n) < ENTERPRISE_SHARE, rng.uniform(*ENTERPRISE_RANGE, n), 1.0)
    revenue = np.round(rev_median * np.exp(REVENUE_SIGMA * rng.standard_normal(n)) * enterprise, 2)
    end_s = days * 86400 - 1
    q_at = created + np.round(q_delay * 86400).astype(np.int64)
    b_at = q_at + np.round(b_delay * 86400).astype(np.int64)
    closed_at = b_at + np.round(c_delay * 86400).astype(np.int64)
    q_obs = qualifies & (q_at <= end_s)
    b_obs = q_obs & books & (b_at <= end_s)
    closed = b_obs & (closed_at <= end_s)
    w_obs = closed & wins

    # --- the CRM stage at the world's end: filled in after contact (the leakage trap) -------------------
    u = rng.random(n)
    young = (end_s - created) < STAGE_YOUNG_DAYS * 86400
    stage = np.select(
        [w_obs, closed, b_obs, q_obs & books, q_obs & (end_s - q_at < STAGE_SQL_DAYS * 86400), q_obs, young,
         qualifies],  # the last: will qualify after the export, being worked on
        [7, 8, 6, 5, 5, 8, np.where(u < 0.55, 0, 1), np.where(u < 0.6, 2, 3)],
        np.where(u < 0.4, 4, np.where(u < 0.7, 3, 2)),
    ) - 1
    noisy = rng.random(n) < STAGE_NOISE
    stage = np.where(noisy, rng.integers(-1, len(SALES_STAGES), n), stage)

    # --- identities ------------------------------------------------------------------------------------
    has_gclid = (plat == GOOGLE) & (rng.random(n) < GCLID_SHARE)
    has_fbclid = (plat == META) & (rng.random(n) < FBCLID_SHARE)
    gclid, fbclid = np.full(n, None, dtype=object), np.full(n, None, dtype=object)
    gclid[has_gclid] = pii.click_ids(rng, int(has_gclid.sum()), pii.GCLID_PREFIX)
    fbclid[has_fbclid] = pii.click_ids(rng, int(has_fbclid.sum()), pii.FBCLID_PREFIX)
    email = pii.email_codes(lead_no, free, ctx.seed)
    email["e_first"] = np.where(rng.random(n) < PII_BLANK, -1, email["e_first"])
    phone = np.where(rng.random(n) < PII_BLANK, -1, pii.phone_codes(lead_no, country, ctx.seed))

    stats["leads"] += n
    stats["p14_sum"] += float(p14.sum())
    stats["p_ever_sum"] += float(p_ever.sum())
    stats["qualified_observed"] += int(q_obs.sum())
    stats["qualified_late"] += int((q_obs & (q_delay > QUAL_WINDOW_DAYS)).sum())
    stats["won"] += int(w_obs.sum())
    stats["revenue"] += float(revenue[w_obs].sum())
    count_device_drift(stats, device, day, days)

    # --- how the CRM captured the source (as in v1) and the rows ----------------------------------------
    leads = pd.DataFrame({
        **source_columns(w, rng, lead_no, created, camp, s, ad),
        "form": cat(form, FORMS),
        "country": cat(country, COUNTRIES),
        "device": cat(device, DEVICES),
        "company_size": cat(np.where(show_band, band, -1), COMPANY_SIZES),
        "job_level": cat(job, JOB_LEVELS),
        "email_domain": cat(free, EMAIL_DOMAINS),
        "employees": pd.arrays.IntegerArray(headcount, ~show_employees),
        "pages_viewed": pages,
        "industry": cat(industry, INDUSTRIES),
        "sales_stage": cat(stage, SALES_STAGES),
        "gclid": gclid,
        "fbclid": fbclid,
        "country_code": country,
        "free": free,
        **email,
        "p_code": phone,
    })
    lead_id = f"'L' || lpad(lead_no::VARCHAR, {counter.width}, '0') AS lead_id"
    rows = with_duplicates(n, LEAD_DUPLICATE_SHARE, rng)
    sinks["leads.csv"].write(leads.iloc[rows], f"""
        SELECT {lead_id}, created_at, campaign_id, adset_id, ad_id, utm_campaign, utm_content, campaign_name, form,
               country, device, company_size, job_level, email_domain, employees, pages_viewed, industry,
               sales_stage, gclid, fbclid, {pii.email_sql()} AS email, {pii.phone_sql()} AS phone
        FROM t""")

    write_outcomes(sinks["outcomes.csv"], w, lead_no, lead_id, q_at, q_obs, b_at, b_obs, closed_at, w_obs, revenue)
    truth = pd.DataFrame({"lead_no": lead_no, "p": np.round(p14, 6), "v": np.round(value_true, 6),
                          "vq": np.round(value_if_q, 6), "pe": np.round(p_ever, 6)})
    sinks["truth/leads_truth.csv"].write(truth, f"""
        SELECT {lead_id}, p::DECIMAL(9, 6) AS p_qualified_true, v::DECIMAL(18, 6) AS value_true,
               vq::DECIMAL(18, 6) AS value_if_qualified_true, pe::DECIMAL(9, 6) AS p_ever_true
        FROM t""")


def summary(stats: dict[str, float]) -> str:
    n_leads = max(stats["leads"], 1.0)
    return (
        f"true 14-day qualification rate {stats['p14_sum'] / n_leads:.1%} (ever {stats['p_ever_sum'] / n_leads:.1%}), "
        f"observed qualifications later than 14 days {stats['qualified_late'] / max(stats['qualified_observed'], 1):.1%}, "
        f"{int(stats['won']):,} won (revenue {stats['revenue']:,.0f}), "
        f"mobile share {stats['mobile_before'] / max(stats['leads_before'], 1):.0%} -> "
        f"{stats['mobile_drift'] / max(stats['leads_drift'], 1):.0%} in the last {DRIFT_DAYS} days"
    )
