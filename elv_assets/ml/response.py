"""Spend response curves: how an ad set's expected qualified leads and ELV per day respond to its daily spend.

The curve is a saturating exponential, the shape of the demo world's truth and of most paid-media
delivery (each extra unit of spend buys a little less than the one before):

    y(s) = a * (1 - exp(-s * ln2 / h))

`a` is the level at saturation (qualified leads or ELV per day), `h` the "half spend": the daily spend
that buys half of `a`. The marginal return per extra unit of spend is y'(s) = a * ln2 / h * exp(-s ln2 / h).

Data: one row per (ad set, day) with spend > 0 in the history window, and the leads CREATED that day:
y = the sum of their calibrated p_qualified_14d (expected qualified) or of their ELV. Both are model-based,
so young leads count at once, without waiting for their outcome.

Fit (deterministic): for every h on a log-spaced grid the best `a` is closed-form least squares,
a = sum(b*y) / sum(b*b) with b = 1 - exp(-s ln2 / h); the h with the smallest squared error wins. The grid
is relative to the ad set's median daily spend (h from 0.02x to 50x it, 400 points, 1.6 % apart), so one
grid serves ad sets of any size. An h at the top of the grid means no saturation is visible (the curve is
near-linear over the spend seen); at the bottom, fully saturated (more spend buys nothing).

Pooling rule. `h` is what needs spend variation to be learned; `a` follows from the level. An ad set is
thin when it has fewer than `min_days` (14) days with spend, when its spend barely moves (coefficient of
variation below `min_cv`, 0.05: every day the same spend says nothing about the slope), or when its own
days do not pin h down (the p10-p90 range of its own bootstrap h spans more than `max_h_spread`, 2x).
The last test is the one that bites: daily spend that moves +-15 % around a budget (weekdays and noise)
leaves h within a factor of 10 or more, and on two demo worlds ad-set-only fits placed budget clearly
worse than pooled ones (benchmark in bench/budget_truth.py). A thin ad set takes its h from a pooled fit
of its campaign: every ad set of the campaign, spend measured relative to each ad set's own median spend,
each ad set's squared errors divided by the square of its mean y (normalised by its level, so a big ad
set does not drown a small one), each with its own a; the one relative h minimising the total is scaled
back by each ad set's median spend ("ad sets sit at a similar point of their own curve"). The thin ad
set then gets only its own a (closed form, given that h). When the campaign pool is itself thin (the
same three tests on the pool) or the campaign has one ad set, the pool is every fitted ad set
("overall"). Ad sets with fewer than `min_fit_days` (3) days with spend are not fitted at all.

Weekday: the value per lead is taken out of the weekday first (`weekday_adjust`): spend is lower at
weekends and weekend leads are often weaker, which would otherwise read as a steeper response than
spend buys (on the demo world it doubled the fitted h).

Uncertainty: a seeded bootstrap over days (each ad set's days resampled with replacement; a pooled fit
resamples every member ad set's days, so the pooled h varies too), the same resamples for the qualified
and ELV curves. p10/p90 of a, h and of the marginal ELV at today's spend come from it, and the draws
themselves are kept so sums over ad sets (a reallocation's total) get honest ranges.

Caveats: the fit reads the relation between day-to-day spend and same-day leads. Something else moving
both (a weekday effect on lead volume, a seasonal push) would be read as response; the bootstrap does not
see that. A pooled ad set's range is the range of the pool's shared shape: narrower than its own.
Bookings per qualified lead is a historical rate, shrunk towards the campaign's and overall.
"""

from __future__ import annotations

import datetime as dt
import math
import zlib

import numpy as np
import pandas as pd

from elv_assets.build import Build, Built, Skip
from elv_assets.contracts.budget import OUTCOME_NAMES
from elv_assets.skip_reasons import SPEND_UNKNOWN

LN2 = math.log(2.0)
RELATIVE_GRID = np.geomspace(0.02, 50.0, 400)  # h / the ad set's median daily spend
TARGETS = ("qualified", "elv")


def saturating(spend, a, h):
    """Expected y per day at daily spend `spend`: a * (1 - exp(-spend ln2 / h)). Broadcasts."""
    return a * -np.expm1(-np.asarray(spend, dtype=float) * LN2 / h)


def marginal(spend, a, h):
    """dy/dspend at `spend`: the return of one more unit of daily spend. Broadcasts."""
    return a * LN2 / h * np.exp(-np.asarray(spend, dtype=float) * LN2 / h)


# --- the profile least squares ---------------------------------------------------------------------

def _profile(x: np.ndarray, y: np.ndarray, weights: np.ndarray, grid: np.ndarray):
    """For every weight row (a resample) and grid h: sum(w b y), sum(w b b), sum(w y y)."""
    basis = -np.expm1(-np.outer(LN2 / grid, x))  # (G, n)
    by = weights @ (basis * y).T  # (R, G)
    bb = weights @ (basis * basis).T
    yy = weights @ (y * y)  # (R,)
    return by, bb, yy


def _sse(by, bb, yy):
    return yy[:, None] - by * by / np.maximum(bb, 1e-300)


def fit_curve(spend, y, grid: np.ndarray | None = None) -> tuple[float, float]:
    """The least-squares (a, h) of one set of (spend, y) points with spend > 0. Deterministic."""
    s, y = np.asarray(spend, dtype=float), np.asarray(y, dtype=float)
    keep = s > 0
    s, y = s[keep], y[keep]
    if len(s) == 0:
        raise ValueError("no days with spend > 0 to fit a response curve on")
    scale = float(np.median(s))
    grid = RELATIVE_GRID if grid is None else grid
    by, bb, yy = _profile(s / scale, y, np.ones((1, len(s))), grid)
    g = int(np.argmin(_sse(by, bb, yy)[0]))
    return float(by[0, g] / bb[0, g]), float(grid[g] * scale)


def _weights(key: str, n: int, samples: int, seed: int) -> np.ndarray:
    """Row 0 all ones (the point fit), then `samples` bootstrap count vectors; seeded by the ad set id."""
    rng = np.random.default_rng([seed, zlib.crc32(key.encode())])
    draws = rng.multinomial(n, np.full(n, 1.0 / n), size=samples) if samples else np.zeros((0, n))
    return np.vstack([np.ones((1, n)), draws]).astype(float)


def _fit_pool(members: list[dict], grid: np.ndarray, cache: dict | None = None) -> dict[str, dict[str, np.ndarray]]:
    """One relative h for all members (per resample), each member its own a. Returns per member id and
    target: arrays a and h over the resamples (index 0 = the point fit) and the grid index chosen.
    `cache` keeps each member's profile and normalised errors across pools."""
    cache = {} if cache is None else cache
    out: dict[str, dict[str, np.ndarray]] = {m["adset_id"]: {} for m in members}
    for target in TARGETS:
        profiles, total = [], 0.0
        for m in members:
            key = (m["adset_id"], target)
            if key not in cache:
                y = m[target]
                level = float(np.mean(y)) or 1.0
                by, bb, yy = _profile(m["x"], y, m["weights"], grid)
                cache[key] = (by, bb, _sse(by, bb, yy) / level**2)
            by, bb, sse = cache[key]
            profiles.append((by, bb))
            total = total + sse
        g = np.argmin(total, axis=1)  # (R,)
        rows = np.arange(len(g))
        for m, (by, bb) in zip(members, profiles, strict=True):
            out[m["adset_id"]][f"a_{target}"] = by[rows, g] / np.maximum(bb[rows, g], 1e-300)
            out[m["adset_id"]][f"h_{target}"] = grid[g] * m["median_spend"]
            out[m["adset_id"]][f"g_{target}"] = g
    return out


def weekday_adjust(days: pd.DataFrame) -> pd.DataFrame:
    """Take the weekday out of the value per lead: each day's qualified and ELV divided by its weekday's factor
    (that weekday's qualified or ELV per lead over all ad sets, relative to all days'). Without it, lower
    spend at weekends and weaker weekend leads read as a steeper response than spend really buys.
    The lead count itself is not adjusted: volume follows spend, and spend varies mostly by weekday."""
    out = days.copy()
    if out.empty:
        out.attrs["weekday_factors"] = {}
        return out
    weekday = pd.to_datetime(out["date"]).dt.weekday
    leads = out.groupby(weekday)["leads"].sum().astype(float)
    factors = {}
    for t in TARGETS:
        total_leads = float(out["leads"].sum())
        overall = float(out[t].sum()) / total_leads if total_leads > 0 else 0.0
        per = out.groupby(weekday)[t].sum() / leads.where(leads > 0)
        f = (per / overall).where(lambda v: v > 0) if overall > 0 else per * np.nan
        f = f.fillna(1.0)
        out[t] = out[t] / weekday.map(f).to_numpy(float)
        factors[t] = {int(k): round(float(v), 4) for k, v in f.items()}
    out.attrs["weekday_factors"] = factors
    return out


def _cv(values: np.ndarray) -> float:
    mean = float(np.mean(values)) if len(values) else 0.0
    return float(np.std(values) / mean) if mean > 0 else 0.0


def _shape(g: int, grid_size: int) -> str:
    if g >= grid_size - 1:
        return "near_linear"
    if g <= 0:
        return "saturated"
    return "saturating"


def fit_responses(
    days: pd.DataFrame,
    adsets: pd.DataFrame | None = None,
    *,
    min_days: int = 14,
    min_cv: float = 0.05,
    min_fit_days: int = 3,
    max_h_spread: float = 2.0,
    samples: int = 200,
    seed: int = 0,
    grid: np.ndarray | None = None,
) -> pd.DataFrame:
    """Fit every ad set's qualified and ELV response curves, with the pooling rule and the bootstrap.

    days: adset_id, campaign_id, spend, qualified, elv (one row per ad set and day; rows with spend <= 0
    are ignored). adsets (optional): one row per ad set with today_spend and any other columns to carry
    (current_budget, max_spend, bookings_per_qualified, ...); today_spend defaults to the mean spend.
    Returns one row per fitted ad set; `attrs["skipped"]` lists ad sets with too few days to fit. With
    samples=0 there is no bootstrap: ranges collapse to the fit and the max_h_spread test is off.
    """
    grid = RELATIVE_GRID if grid is None else np.asarray(grid, dtype=float)
    d = days[days["spend"] > 0].copy()
    d["campaign_id"] = d["campaign_id"].fillna("(none)")
    counts = d.groupby("adset_id").size()
    skipped = sorted(counts.index[counts < min_fit_days]) + sorted(
        set(adsets["adset_id"]) - set(counts.index) if adsets is not None else set())
    d = d[d["adset_id"].isin(counts.index[counts >= min_fit_days])]

    members: dict[str, dict] = {}
    for adset_id, g in d.sort_values("adset_id", kind="stable").groupby("adset_id", sort=True):
        s = g["spend"].to_numpy(float)
        med = float(np.median(s))
        members[adset_id] = {
            "adset_id": adset_id, "campaign_id": str(g["campaign_id"].iloc[0]), "x": s / med,
            "median_spend": med, "qualified": g["qualified"].to_numpy(float), "elv": g["elv"].to_numpy(float),
            "n": len(s), "cv": _cv(s), "weights": _weights(str(adset_id), len(s), samples, seed),
        }

    def spread(fit: dict) -> float:
        """p90 / p10 of the bootstrap half spend of ELV: how well the data pin the curve's shape."""
        h = fit["h_elv"][1:]
        return float(np.quantile(h, 0.9) / np.quantile(h, 0.1)) if len(h) else 1.0

    def thin(ms: list[dict], fit: dict) -> bool:
        n = sum(m["n"] for m in ms)
        cv = _cv(np.concatenate([m["x"] for m in ms]))
        return n < min_days or cv < min_cv or spread(fit) > max_h_spread

    fits: dict[str, dict] = {}
    pooling: dict[str, str] = {}
    pool_days: dict[str, int] = {}
    h_spread: dict[str, float] = {}
    by_campaign: dict[str, list[dict]] = {}
    for m in members.values():
        by_campaign.setdefault(m["campaign_id"], []).append(m)
    pools: dict[str, tuple[bool, dict]] = {}
    cache: dict = {}

    def pool_fit(key: str, ms: list[dict]) -> tuple[bool, dict]:
        if key not in pools:
            fit = _fit_pool(ms, grid, cache)
            pools[key] = (thin(ms, next(iter(fit.values()))), fit)
        return pools[key]

    for adset_id, m in members.items():
        own = _fit_pool([m], grid, cache)[adset_id]
        h_spread[adset_id] = spread(own)
        if not thin([m], own):
            fits[adset_id], pooling[adset_id], pool_days[adset_id] = own, "adset", m["n"]
            continue
        campaign = by_campaign[m["campaign_id"]]
        if len(campaign) > 1 and not pool_fit("campaign:" + m["campaign_id"], campaign)[0]:
            fits[adset_id] = pool_fit("campaign:" + m["campaign_id"], campaign)[1][adset_id]
            pooling[adset_id], pool_days[adset_id] = "campaign", sum(p["n"] for p in campaign)
        else:
            fits[adset_id] = pool_fit("overall", list(members.values()))[1][adset_id]
            pooling[adset_id], pool_days[adset_id] = "overall", sum(p["n"] for p in members.values())

    info = adsets.set_index("adset_id") if adsets is not None else pd.DataFrame()
    rows = []
    for adset_id, m in members.items():
        f = fits[adset_id]
        extra = info.loc[adset_id].to_dict() if adset_id in info.index else {}
        today = extra.get("today_spend")
        today = float(np.mean(m["x"]) * m["median_spend"]) if today is None or pd.isna(today) else float(today)
        campaign = extra.get("campaign_id")
        row = {"adset_id": adset_id, **extra, "today_spend": today,
               "campaign_id": m["campaign_id"] if campaign is None or pd.isna(campaign) else campaign,
               "pooling": pooling[adset_id], "days_used": m["n"], "pool_days": pool_days[adset_id],
               "median_spend": m["median_spend"], "spend_cv": m["cv"], "own_h_spread": h_spread[adset_id]}
        for t in TARGETS:
            a, h = f[f"a_{t}"], f[f"h_{t}"]
            row[f"a_{t}"], row[f"h_{t}"] = float(a[0]), float(h[0])
            boot_a, boot_h = (a[1:], h[1:]) if len(a) > 1 else (a, h)
            for name, arr in (("a", boot_a), ("h", boot_h)):
                row[f"{name}_{t}_p10"], row[f"{name}_{t}_p90"] = (float(v) for v in np.quantile(arr, [0.1, 0.9]))
            row[f"shape_{t}"] = _shape(int(f[f"g_{t}"][0]), len(grid))
            row[f"{t}_today"] = float(saturating(today, a[0], h[0]))
            row[f"marginal_{t}"] = float(marginal(today, a[0], h[0]))
            m_boot = marginal(today, boot_a, boot_h)
            row[f"marginal_{t}_p10"], row[f"marginal_{t}_p90"] = (float(v) for v in np.quantile(m_boot, [0.1, 0.9]))
            row[f"boot_a_{t}"], row[f"boot_h_{t}"] = boot_a.tolist(), boot_h.tolist()
        row["elv_per_spend"] = row["elv_today"] / today if today > 0 else float("nan")
        rows.append(row)
    out = pd.DataFrame(rows)
    out.attrs["skipped"] = skipped
    return out


# --- the data, from the warehouse -----------------------------------------------------------------------

def _window(as_of: dt.date, history_days: int) -> tuple[str, str]:
    return f"DATE '{as_of}' - INTERVAL {int(history_days) - 1} DAY", f"DATE '{as_of}'"


OUTCOMES = dict(zip(("elv", "platform"), OUTCOME_NAMES, strict=True))


def response_days_select(as_of: dt.date, history_days: int, outcome: str = "elv") -> str:
    """Per (ad set, day) with spend > 0 in the window: spend, leads created, and the outcome the curves relate to
    spend: the leads' expected qualified count and ELV, or (`platform`: no scored leads, e.g. an ad export without
    a CRM) the platform's reported conversions and their value."""
    lo, hi = _window(as_of, history_days)
    created = f"""
        SELECT adset_id, created_at::DATE AS date, count(*) AS leads, sum(p_qualified_14d) AS qualified,
               sum(elv) AS elv
        FROM gold.lead_scores
        WHERE adset_id IS NOT NULL AND created_at::DATE BETWEEN {lo} AND {hi}
        GROUP BY ALL""" if outcome == "elv" else f"""
        SELECT adset_id, date::DATE AS date, 0 AS leads, platform_conversions AS qualified,
               platform_conversion_value AS elv
        FROM gold.adset_daily WHERE date::DATE BETWEEN {lo} AND {hi}"""
    return f"""
    WITH spend AS (
        SELECT adset_id, campaign_id, date::DATE AS date, spend FROM gold.adset_daily
        WHERE spend > 0 AND date::DATE BETWEEN {lo} AND {hi}
    ),
    created AS ({created}
    )
    SELECT s.adset_id, s.campaign_id, s.date, s.spend::DOUBLE AS spend, coalesce(c.leads, 0)::BIGINT AS leads,
           coalesce(c.qualified, 0)::DOUBLE AS qualified, coalesce(c.elv, 0)::DOUBLE AS elv
    FROM spend s LEFT JOIN created c USING (adset_id, date)
    ORDER BY s.adset_id, s.date
    """


def adset_state_select(as_of: dt.date, history_days: int, recent_days: int = 7) -> str:
    """Per ad set with known spend: campaign, platform, current budget (the latest daily_budget by as_of,
    else the mean spend of the last `recent_days`), today's spend (that mean), the most it spent in a day in
    the window, and its qualified and bookings counts over all history (for bookings per qualified)."""
    lo, hi = _window(as_of, history_days)
    recent = f"DATE '{as_of}' - INTERVAL {int(recent_days) - 1} DAY"
    return f"""
    WITH a AS (
        SELECT adset_id,
               arg_max(campaign_id, date) FILTER (WHERE campaign_id IS NOT NULL) AS campaign_id,
               arg_max(platform, date) FILTER (WHERE platform IS NOT NULL) AS platform,
               arg_max(daily_budget, date) FILTER (WHERE daily_budget IS NOT NULL) AS latest_budget,
               coalesce(sum(spend) FILTER (WHERE date::DATE >= {recent}), 0) / {int(recent_days)} AS today_spend,
               max(spend) FILTER (WHERE date::DATE BETWEEN {lo} AND {hi}) AS max_spend,
               max(date::DATE) FILTER (WHERE spend > 0) AS last_spend_date,
               sum(qualified) AS qualified_to_date, sum(bookings) AS bookings_to_date
        FROM gold.adset_daily WHERE date::DATE <= {hi}
        GROUP BY adset_id
        HAVING count(spend) > 0
    )
    SELECT adset_id, campaign_id, platform,
           coalesce(latest_budget, today_spend)::DOUBLE AS current_budget,
           CASE WHEN latest_budget IS NOT NULL THEN 'daily_budget' ELSE 'recent_spend' END AS budget_source,
           today_spend::DOUBLE AS today_spend, coalesce(max_spend, 0)::DOUBLE AS max_spend,
           today_spend > 0 AS active, last_spend_date,
           coalesce(qualified_to_date, 0)::BIGINT AS qualified_to_date,
           coalesce(bookings_to_date, 0)::BIGINT AS bookings_to_date
    FROM a ORDER BY adset_id
    """


def bookings_per_qualified(state: pd.DataFrame, prior: float = 20.0) -> pd.Series:
    """Bookings per qualified lead per ad set, shrunk towards its campaign's rate (shrunk towards the overall
    rate) by `prior` pseudo-qualified leads. Counts are by event date, so the latest weeks' qualified leads
    may not have booked yet: a slight underestimate."""
    q, b = state["qualified_to_date"].astype(float), state["bookings_to_date"].astype(float)
    overall = float(b.sum() / q.sum()) if q.sum() > 0 else 0.0
    camp = state.assign(q=q, b=b).groupby(state["campaign_id"].fillna("(none)"))[["q", "b"]].sum()
    camp_rate = (camp["b"] + prior * overall) / (camp["q"] + prior)
    base = state["campaign_id"].fillna("(none)").map(camp_rate).fillna(overall)
    return ((b + prior * base) / (q + prior)).rename("bookings_per_qualified")




def spend_known(con) -> bool:
    """Whether gold.adset_daily knows any ad set's spend (it does not without ads.csv)."""
    return bool(con.execute("SELECT count(spend) FROM gold.adset_daily").fetchall()[0][0])


def response_outcome(con) -> str | None:
    """What the curves relate spend to: scored leads' ELV when any lead with an ad set is scored, else the
    platform's reported conversions when there are any, else None."""
    if con.execute("SELECT count(*) FROM gold.lead_scores WHERE adset_id IS NOT NULL").fetchall()[0][0]:
        return "elv"
    if con.execute("SELECT coalesce(sum(platform_conversions), 0) FROM gold.adset_daily").fetchall()[0][0]:
        return "platform"
    return None


def curves_from_warehouse(con, as_of: dt.date, history_days: int = 90, recent_days: int = 7,
                          **fit_kwargs) -> pd.DataFrame:
    """The response curves of every ad set with spend, from gold.adset_daily and gold.lead_scores (or the platform's
    conversions, see `response_days_select`). Empty, with `attrs["reason"]`, when spend is unknown, when there is
    nothing to relate it to, or none in the window."""
    if not spend_known(con):
        empty = pd.DataFrame()
        empty.attrs["reason"] = SPEND_UNKNOWN
        return empty
    outcome = response_outcome(con)
    if outcome is None:
        empty = pd.DataFrame()
        empty.attrs["reason"] = ("No scored leads with an ad set and no platform-reported conversions: nothing to "
                                 "relate spend to.")
        return empty
    days = con.execute(response_days_select(as_of, history_days, outcome)).df()
    if days.empty:
        empty = pd.DataFrame()
        empty.attrs["reason"] = f"No ad set spent anything in the {history_days} days up to {as_of}."
        return empty
    state = con.execute(adset_state_select(as_of, history_days, recent_days)).df()
    state["bookings_per_qualified"] = bookings_per_qualified(state)
    adjusted = weekday_adjust(days)
    curves = fit_responses(adjusted, state, **fit_kwargs)
    curves["outcome"] = OUTCOMES[outcome]
    curves.attrs["weekday_factors"] = adjusted.attrs["weekday_factors"]
    curves.attrs["reason"] = ""
    return curves


RESPONSE_PREVIEW = ["adset_id", "campaign_id", "pooling", "days_used", "today_spend", "max_spend", "a_elv", "h_elv",
                    "marginal_elv", "marginal_elv_p10", "marginal_elv_p90"]


def build_spend_response(b: Build) -> Built:
    cfg = b.config
    curves = curves_from_warehouse(
        b.con, b.as_of, cfg.history_days, cfg.recent_days, min_days=cfg.min_days, min_cv=cfg.min_spend_cv,
        max_h_spread=cfg.max_h_spread, samples=cfg.bootstrap_samples, seed=cfg.seed)
    if curves.empty:
        raise Skip(curves.attrs.get("reason") or "No response curves.")
    curves["as_of_date"] = pd.Timestamp(b.as_of)
    b.stage_frame(curves.sort_values("adset_id", kind="mergesort"), typed=True)
    active = curves[curves["active"]]  # spent in the recent days: where a budget can go
    return Built(metadata={
        "outcome": str(curves["outcome"].iloc[0]),
        "history_days": cfg.history_days, "bootstrap_samples": cfg.bootstrap_samples,
        "preview": curves[RESPONSE_PREVIEW].head(8).round(3),
        "pooling": curves["pooling"].value_counts().to_dict(), "active_adsets": len(active),
        "median_marginal_elv": round(float(active["marginal_elv"].median()), 4) if len(active) else 0.0,
        "today_spend": round(float(active["today_spend"].sum()), 2),
        "today_elv": round(float(active["elv_today"].sum()), 2),
        "skipped_adsets": ", ".join(curves.attrs.get("skipped", [])) or "none",
        "weekday_factors": curves.attrs.get("weekday_factors", {}),
    })
