"""World "simple": the first demo world's lead law, a plain additive logistic regression.

A lead ever qualifies with p_ever = expit(QUAL_BASE + platform + ad-set quality + form + country
+ device + company size + job level + free email + weekday), each a constant per category (the
*_EFFECT arrays). It qualifies after a lognormal delay (median QUAL_DELAY_MEDIAN_DAYS, a little
longer for larger companies, sigma QUAL_DELAY_SIGMA: ~20% take longer than 14 days);
p_qualified_true = p_ever * P(delay <= 14 days). Given qualified it books with p_book (seniority,
form, free email), wins with p_won (company size, c-level), and a won deal's revenue is lognormal
around REVENUE_MEDIAN[company size]; value_true = p_qualified_true * p_book * p_won * E[revenue].

Every term is observable and additive, so a one-hot logistic regression reaches the oracle: this
world tests the plumbing, not the models. Its output is frozen: same seed, same bytes as ever.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy.special import expit, logit, ndtr

from elv_assets.demo.worlds.common import (
    COMPANY_MIX,
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
    pick,
    source_columns,
    with_duplicates,
    write_outcomes,
)

NAME = "simple"

QUAL_BASE = -1.05
FORM_EFFECT = np.array([0.0, 0.5, 0.7])
COUNTRY_EFFECT = np.array([0.3, 0.2, -0.2, -0.3, -0.3, -0.1])
DEVICE_EFFECT = np.array([-0.35, 0.0, -0.15])
COMPANY_EFFECT = np.array([-0.6, -0.2, 0.2, 0.5, 0.7])
JOB_EFFECT = np.array([-0.5, 0.0, 0.6, 0.9])
FREE_EMAIL_EFFECT = -1.4
WEEKDAY_EFFECT = np.array([0.1, 0.0, 0.0, 0.0, -0.05, -0.3, -0.3])  # Monday .. Sunday

QUAL_DELAY_MEDIAN_DAYS = 4.0
QUAL_DELAY_SIGMA = 1.49  # P(delay > 14 d) = 1 - ndtr(ln(14 / 4) / 1.49) ~ 20%
QUAL_DELAY_SIZE_SLOPE = 0.12  # larger companies qualify a little slower (log-days per size step)
QUAL_WINDOW_DAYS = 14.0
REVENUE_MEDIAN = np.array([1200.0, 2000.0, 3000.0, 5000.0, 8500.0])
REVENUE_SIGMA = 0.6


def leads_block(
    sinks: dict[str, Sink], w: World, dl: Delivery, ctx: None, d0: int, d1: int,
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

    # attributes; the device mix drifts toward mobile in the last 21 days
    form = pick(rng.random(n), FORM_MIX, plat)
    country = pick(rng.random(n), COUNTRY_MIX, plat)
    company = pick(rng.random(n), COMPANY_MIX, plat)
    job = pick(rng.random(n), JOB_MIX, plat)
    free = (rng.random(n) < FREE_EMAIL[plat]).astype(int)
    shift0, shift1 = dl.mobile_shift
    shift = shift0 + (shift1 - shift0) * np.clip((day - (days - DRIFT_DAYS) + 1) / DRIFT_RAMP_DAYS, 0.0, 1.0)
    p_mobile = expit(logit(MOBILE_SHARE[plat]) + shift)
    device = np.where(rng.random(n) < p_mobile, 0, np.where(rng.random(n) < TABLET_OF_REST, 2, 1))

    # qualification: ever qualifies with p_ever, after a lognormal delay with a long tail
    z = (QUAL_BASE + PLATFORM_QUALITY[plat] + w.as_quality[s] + FORM_EFFECT[form] + COUNTRY_EFFECT[country]
         + DEVICE_EFFECT[device] + COMPANY_EFFECT[company] + JOB_EFFECT[job] + FREE_EMAIL_EFFECT * free
         + WEEKDAY_EFFECT[weekday])
    p_ever = expit(z)
    mu = math.log(QUAL_DELAY_MEDIAN_DAYS) + QUAL_DELAY_SIZE_SLOPE * (company - 2)
    p14 = p_ever * ndtr((math.log(QUAL_WINDOW_DAYS) - mu) / QUAL_DELAY_SIGMA)
    senior = (job >= 2).astype(float)
    p_book = expit(logit(0.45) - 0.12 + 0.35 * senior + 0.2 * (form > 0) - 0.3 * free)
    p_won = expit(logit(0.30) - 0.05 + 0.15 * (company - 2) + 0.2 * (job == 3))
    rev_mean = REVENUE_MEDIAN[company] * math.exp(REVENUE_SIGMA**2 / 2)
    value_true = p14 * p_book * p_won * rev_mean

    qualifies = rng.random(n) < p_ever
    q_delay = np.exp(mu + QUAL_DELAY_SIGMA * rng.standard_normal(n))
    books = qualifies & (rng.random(n) < p_book)
    b_delay = np.exp(math.log(3.0) + 0.8 * rng.standard_normal(n))
    wins = books & (rng.random(n) < p_won)
    w_delay = np.exp(math.log(14.0) + 0.45 * rng.standard_normal(n))
    revenue = np.round(REVENUE_MEDIAN[company] * np.exp(REVENUE_SIGMA * rng.standard_normal(n)), 2)
    end_s = days * 86400 - 1
    q_at = created + np.round(q_delay * 86400).astype(np.int64)
    b_at = q_at + np.round(b_delay * 86400).astype(np.int64)
    won_at = b_at + np.round(w_delay * 86400).astype(np.int64)
    q_obs = qualifies & (q_at <= end_s)
    b_obs = q_obs & books & (b_at <= end_s)
    w_obs = b_obs & wins & (won_at <= end_s)

    stats["leads"] += n
    stats["p14_sum"] += float(p14.sum())
    stats["qualified_observed"] += int(q_obs.sum())
    stats["qualified_late"] += int((q_obs & (q_delay > QUAL_WINDOW_DAYS)).sum())
    stats["won"] += int(w_obs.sum())
    count_device_drift(stats, device, day, days)

    # how the CRM captured the source: ids, ad id only, utm only, a retyped campaign name, or nothing
    leads = pd.DataFrame({
        **source_columns(w, rng, lead_no, created, camp, s, ad),
        "form": cat(form, FORMS),
        "country": cat(country, COUNTRIES),
        "device": cat(device, DEVICES),
        "company_size": cat(company, COMPANY_SIZES),
        "job_level": cat(job, JOB_LEVELS),
        "email_domain": cat(free, EMAIL_DOMAINS),
    })
    lead_id = f"'L' || lpad(lead_no::VARCHAR, {counter.width}, '0') AS lead_id"
    rows = with_duplicates(n, LEAD_DUPLICATE_SHARE, rng)
    sinks["leads.csv"].write(leads.iloc[rows], f"SELECT {lead_id}, * EXCLUDE (lead_no) FROM t")

    write_outcomes(sinks["outcomes.csv"], w, lead_no, lead_id, q_at, q_obs, b_at, b_obs, won_at, w_obs, revenue)
    truth = pd.DataFrame({"lead_no": lead_no, "p": np.round(p14, 6), "v": np.round(value_true, 6)})
    sinks["truth/leads_truth.csv"].write(
        truth, f"SELECT {lead_id}, p::DECIMAL(9, 6) AS p_qualified_true, v::DECIMAL(18, 6) AS value_true FROM t")

STAT_KEYS = ("leads", "p14_sum", "qualified_observed", "qualified_late", "won", "mobile_before", "leads_before",
             "mobile_drift", "leads_drift")


def budget_levels(w: World, seed: int) -> None:
    """No budget edits in this world: every ad set aims at its planned spend all along."""
    return None


def prepare(w: World, dl: Delivery, seed: int) -> None:
    return None


def summary(stats: dict[str, float]) -> str:
    n_leads = max(stats["leads"], 1.0)
    return (
        f"true 14-day qualification rate {stats['p14_sum'] / n_leads:.1%}, "
        f"observed qualifications later than 14 days {stats['qualified_late'] / max(stats['qualified_observed'], 1):.1%}, "
        f"{int(stats['won']):,} won, mobile share {stats['mobile_before'] / max(stats['leads_before'], 1):.0%} -> "
        f"{stats['mobile_drift'] / max(stats['leads_drift'], 1):.0%} in the last {DRIFT_DAYS} days"
    )
