"""Budget reallocation on the spend response curves, and the what-if arithmetic behind the dashboard's sliders.

Input: the curves of `elv_assets.ml.response.fit_responses` (one row per ad set: current_budget, max_spend,
a/h of qualified and of ELV, bookings_per_qualified, and optionally the bootstrap draws boot_a_* / boot_h_*).

Budget and spend. A daily budget is taken as the daily spend it buys, up to the most the ad set has shown it
can spend in a day in the history window (`max_spend`): spend(b) = min(b, max_spend). So raising the budget
of an ad set that cannot spend it buys nothing, and its budget above what it spends is money to place
elsewhere. Where an ad set's recent spend is far from its budget (pacing), the reason says so.

Limits per ad set: lower = current x (1 - max_change), upper = min(current x (1 + max_change), max_spend).
The cap is absolute: never more than an ad set has shown it can spend, so an ad set whose budget is already
above that is brought down to it even when that is a larger cut than max_change (the reason says so).

Allocation: start every ad set at its lower limit and hand out the rest of the total in small steps, each to
the ad set whose next step buys the most ELV. The ELV curves are concave, so this greedy is optimal (up to the
step). When the total cannot be placed within the limits (above the sum of the upper limits, or below the sum
of the lower ones), the closest allocation is returned with `feasible` False and a note saying why.

Expected changes (qualified leads, bookings, ELV per day) are curve(spend(new)) - curve(spend(current)) per
ad set; bookings = qualified x the ad set's bookings per qualified lead. Ranges (p10/p90) come from the
bootstrap draws: the same draw for every ad set of a pool, summed over ad sets per draw for totals.
"""

from __future__ import annotations

import heapq

import numpy as np
import pandas as pd

from elv_assets.build import Build, Built, Check, Skip
from elv_assets.ml.response import marginal, saturating

QUANTILES = (0.1, 0.9)
METRICS = ("qualified", "bookings", "elv")


def active_curves(curves: pd.DataFrame) -> pd.DataFrame:
    """The ad sets a budget can go to: those that spent lately (`active`, when the column is there)."""
    c = curves[curves["active"].astype(bool)] if "active" in curves.columns else curves
    return c.reset_index(drop=True)


def limits(curves: pd.DataFrame, max_change: float = 0.3) -> tuple[np.ndarray, np.ndarray]:
    """Per ad set (lower, upper) budget limits: +-max_change around the current budget, never above max_spend."""
    if not max_change >= 0:
        raise ValueError(f"max_change must be >= 0, got {max_change}")
    cur = curves["current_budget"].to_numpy(float)
    cap = curves["max_spend"].to_numpy(float)
    upper = np.minimum(cur * (1 + max_change), cap)
    lower = np.minimum(np.maximum(cur * (1 - max_change), 0.0), upper)
    return lower, upper


def _draws(curves: pd.DataFrame, target: str) -> tuple[np.ndarray, np.ndarray] | None:
    """(a, h) of the bootstrap draws as (ad sets, draws) matrices, or None when the curves have none."""
    cols = (f"boot_a_{target}", f"boot_h_{target}")
    if not all(c in curves.columns for c in cols) or curves.empty:
        return None
    a = [np.asarray(v, dtype=float) for v in curves[cols[0]]]
    h = [np.asarray(v, dtype=float) for v in curves[cols[1]]]
    sizes = {len(v) for v in a + h}
    if len(sizes) != 1 or 0 in sizes:
        return None
    return np.vstack(a), np.vstack(h)


def _delta(curves: pd.DataFrame, target: str, s0: np.ndarray, s1: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Point change per ad set, and the change per ad set and bootstrap draw (a 1-column copy without draws)."""
    a, h = curves[f"a_{target}"].to_numpy(float), curves[f"h_{target}"].to_numpy(float)
    point = saturating(s1, a, h) - saturating(s0, a, h)
    draws = _draws(curves, target)
    if draws is None:
        return point, point[:, None]
    ba, bh = draws
    return point, saturating(s1[:, None], ba, bh) - saturating(s0[:, None], ba, bh)


def expected_changes(curves: pd.DataFrame, budgets) -> tuple[pd.DataFrame, dict]:
    """Per ad set and in total: the expected daily change in qualified leads, bookings and ELV when the budgets
    go from current_budget to `budgets` (array in the curves' order). Spend is min(budget, max_spend)."""
    new = np.maximum(np.asarray(budgets, dtype=float), 0.0)
    cap = curves["max_spend"].to_numpy(float)
    s0 = np.minimum(curves["current_budget"].to_numpy(float), cap)
    s1 = np.minimum(new, cap)
    rate = curves["bookings_per_qualified"].to_numpy(float) if "bookings_per_qualified" in curves else np.zeros(len(new))
    per = pd.DataFrame({"adset_id": curves["adset_id"].to_numpy()})
    totals: dict = {"spend_change": float((s1 - s0).sum()), "budget_change": float((new - curves["current_budget"]).sum())}
    dq, dq_draws = _delta(curves, "qualified", s0, s1)
    de, de_draws = _delta(curves, "elv", s0, s1)
    for name, point, draws in (("qualified", dq, dq_draws), ("bookings", dq * rate, dq_draws * rate[:, None]),
                               ("elv", de, de_draws)):
        per[f"expected_{name}_change"] = point
        lo, hi = np.quantile(draws, QUANTILES, axis=1)
        per[f"expected_{name}_change_p10"], per[f"expected_{name}_change_p90"] = lo, hi
        total_draws = draws.sum(axis=0)
        totals[name] = {"change": float(point.sum()), "p10": float(np.quantile(total_draws, QUANTILES[0])),
                        "p90": float(np.quantile(total_draws, QUANTILES[1]))}
    return per, totals


def _greedy(a: np.ndarray, h: np.ndarray, lower: np.ndarray, upper: np.ndarray, amount: float,
            step: float) -> tuple[np.ndarray, float]:
    """Hand `amount` out above `lower`, `step` at a time, each step to the best next-step ELV gain per unit.
    Returns the budgets and the gain per unit of the last step (the level budget stopped moving at)."""
    b = lower.astype(float).copy()
    heap: list[tuple[float, int]] = []

    def push(i: int) -> None:
        inc = min(step, upper[i] - b[i])
        if inc > 1e-12:
            gain = (saturating(b[i] + inc, a[i], h[i]) - saturating(b[i], a[i], h[i])) / inc
            heapq.heappush(heap, (-float(gain), i))

    for i in range(len(b)):
        push(i)
    remaining, level = amount, float("nan")
    while remaining > 1e-9 and heap:
        neg_gain, i = heapq.heappop(heap)
        inc = min(step, upper[i] - b[i], remaining)
        b[i] += inc
        remaining -= inc
        level = -neg_gain
        push(i)
    return b, level


def recommend(curves: pd.DataFrame, total_budget: float | None = None, max_change: float = 0.3,
              step: float | None = None) -> pd.DataFrame:
    """Budgets per ad set that place `total_budget` (default: the current total) where the next unit of spend
    buys the most ELV, within the limits. One row per active ad set; `attrs` holds feasible, note, the total,
    the allocated sum, the marginal level budget stopped at, and the total expected changes with ranges."""
    c = active_curves(curves)
    cur = c["current_budget"].to_numpy(float)
    total = float(cur.sum()) if total_budget is None else float(total_budget)
    lower, upper = limits(c, max_change)
    a_e, h_e = c["a_elv"].to_numpy(float), c["h_elv"].to_numpy(float)
    room = float((upper - lower).sum())
    amount = total - float(lower.sum())
    feasible, note = True, ""
    if amount < -1e-6:
        feasible = False
        note = (f"The total budget {total:,.2f} is below the {lower.sum():,.2f} the limits allow at least "
                f"(every ad set at -{max_change:.0%} or at the most it has spent); every ad set is at its lower limit.")
        amount = 0.0
    elif amount > room + 1e-6:
        feasible = False
        note = (f"The total budget {total:,.2f} is above the {upper.sum():,.2f} the ad sets can take within the "
                f"limits (+{max_change:.0%}, never above the most each has spent in a day); "
                f"{total - upper.sum():,.2f} is left unallocated.")
        amount = room
    step = float(step) if step else max(room / 2000.0, 0.01)
    new, level = _greedy(a_e, h_e, lower, upper, amount, step)

    per, totals = expected_changes(c, new)
    out = pd.DataFrame({
        "adset_id": c["adset_id"].to_numpy(),
        "campaign_id": c["campaign_id"].to_numpy() if "campaign_id" in c else None,
        "current_budget": cur,
        "recommended_budget": new,
        "change": new - cur,
        "change_pct": np.divide(new - cur, cur, out=np.zeros_like(cur), where=cur > 0),
        "lower_limit": lower,
        "upper_limit": upper,
        "max_spend": c["max_spend"].to_numpy(float),
        "marginal_elv_now": marginal(np.minimum(cur, c["max_spend"].to_numpy(float)), a_e, h_e),
        "marginal_elv_after": marginal(new, a_e, h_e),
    })
    out = pd.concat([out, per.drop(columns="adset_id")], axis=1)
    out["capped_by_max_spend"] = upper < cur * (1 + max_change) - 1e-9
    out["feasible"] = feasible
    today = c["today_spend"].to_numpy(float) if "today_spend" in c else cur
    out["reason"] = [_reason(r, level, max_change, t) for r, t in zip(out.itertuples(index=False), today, strict=True)]
    out.attrs.update(feasible=feasible, note=note, total_budget=total, allocated=float(new.sum()),
                     marginal_level=level, max_change=max_change, totals=totals)
    return out


def _reason(r, level: float, max_change: float, today_spend: float) -> str:
    cur, rec = r.current_budget, r.recommended_budget
    pct = rec / cur - 1 if cur > 0 else 0.0
    now = f"an extra 1 of spend here buys {r.marginal_elv_now:.2f} of ELV"
    if cur > r.max_spend + 1e-9 and rec <= r.max_spend + 1e-9:
        text = (f"Cut to {rec:,.2f}: its budget of {cur:,.2f} is more than it has spent in any day "
                f"(at most {r.max_spend:,.2f}); the rest is placed where it can be spent.")
    elif pct > 0.005:
        text = f"Raise {pct:+.0%}: {now}, more than where the money comes from"
        if rec >= r.upper_limit - 1e-6:
            text += (" (stopped at the most it has spent in a day)" if r.capped_by_max_spend
                     else f" (stopped at the +{max_change:.0%} limit)")
        text += "."
    elif pct < -0.005:
        text = f"Cut {pct:+.0%}: {now}; the money buys more elsewhere"
        if rec <= r.lower_limit + 1e-6:
            text += f" (stopped at the -{max_change:.0%} limit)"
        text += "."
    else:
        text = f"Keep: {now}, about where budget stops paying more elsewhere"
        if r.capped_by_max_spend and rec >= r.upper_limit - 1e-6:
            text += " (and it cannot spend more than it has)"
        text += "."
    if cur > 0 and today_spend > 0 and not 0.8 <= today_spend / cur <= 1.25:
        text += f" Note: it spent {today_spend:,.2f} a day lately against a budget of {cur:,.2f}."
    return text


def round_to_cents(values, total: float | None = None) -> np.ndarray:
    """Budgets rounded to 2 decimals whose sum is `total` rounded (default: the values' own sum): rounded
    down, then the missing cents to the largest remainders (so nothing moves by more than a cent)."""
    v = np.asarray(values, dtype=float)
    cents = np.round(v * 100, 6)
    low = np.floor(cents)
    target = round((float(v.sum()) if total is None else float(total)) * 100)
    missing = int(min(max(target - low.sum(), 0), len(v)))
    order = np.argsort(-(cents - low), kind="stable")
    low[order[:missing]] += 1
    return low / 100


def what_if(curves: pd.DataFrame, budgets: dict[str, float]) -> dict:
    """The expected daily change in qualified leads, bookings and ELV (with p10/p90) if the ad sets had
    `budgets` (ad set id -> daily budget; the others keep their current budget). A budget above the most an
    ad set has spent in a day is clipped to that, and listed in `clipped`; unknown ids are listed too."""
    c = active_curves(curves)
    index = {a: i for i, a in enumerate(c["adset_id"])}
    new = c["current_budget"].to_numpy(float).copy()
    cap = c["max_spend"].to_numpy(float)
    clipped: dict[str, float] = {}
    unknown = sorted(k for k in budgets if k not in index)
    for adset_id, budget in budgets.items():
        if adset_id not in index:
            continue
        i = index[adset_id]
        value = max(float(budget), 0.0)
        if value > cap[i] + 1e-9:
            clipped[adset_id] = float(cap[i])
            value = float(cap[i])
        new[i] = value
    per, totals = expected_changes(c, new)
    notes = []
    if clipped:
        notes.append(f"{len(clipped)} budget(s) above the most the ad set has spent in a day were clipped to it: "
                     + ", ".join(f"{k} to {v:,.2f}" for k, v in clipped.items()))
    if unknown:
        notes.append(f"unknown or inactive ad sets ignored: {', '.join(unknown)}")
    return {
        **{m: totals[m] for m in METRICS},
        "budget": {"current": float(c["current_budget"].sum()), "new": float(new.sum())},
        "spend_change": totals["spend_change"],
        "budgets": dict(zip(c["adset_id"], new.tolist(), strict=True)),
        "per_adset": per,
        "clipped": clipped,
        "unknown": unknown,
        "note": "; ".join(notes),
    }


RECOMMENDATION_PREVIEW = ["adset_id", "current_budget", "recommended_budget", "change_pct", "expected_elv_change",
                          "expected_elv_change_p10", "expected_elv_change_p90", "reason"]


def build_budget_recommendation(b: Build) -> Built:
    """The total daily budget moved to where one more unit of spend buys the most ELV, within the limits."""
    curves = b.fetch("SELECT * FROM gold.spend_response ORDER BY adset_id")
    active = active_curves(curves) if not curves.empty else curves
    if active.empty:
        raise Skip("No active ad set with a response curve: gold.spend_response is empty (see why there) or no "
                   "ad set spent anything lately.")
    cfg = b.config
    rec = recommend(active, cfg.total_budget, cfg.max_change, cfg.step)
    rec["recommended_budget"] = round_to_cents(rec["recommended_budget"])
    rec["change"] = rec["recommended_budget"] - rec["current_budget"]
    rec["as_of_date"] = pd.Timestamp(b.as_of)
    b.stage_frame(rec.sort_values(["change", "adset_id"], ascending=[False, True], kind="mergesort"), typed=True)
    feasible = Check("feasible", passed=bool(rec.attrs.get("feasible", True)),
                     description=rec.attrs.get("note") or "The total budget fits within the limits.")
    totals, extra = rec.attrs["totals"], {}
    for m in METRICS:
        extra[f"expected_{m}_change"] = round(totals[m]["change"], 3)
        extra[f"expected_{m}_change_range"] = f"{totals[m]['p10']:,.2f} to {totals[m]['p90']:,.2f}"
    return Built(checks=[feasible], metadata={
        "max_change": cfg.max_change, **extra,
        "total_budget": round(rec.attrs["total_budget"], 2), "allocated": round(rec.attrs["allocated"], 2),
        "moved": round(float(rec["change"].clip(lower=0).sum()), 2), "raised": int((rec["change"] > 0.005).sum()),
        "cut": int((rec["change"] < -0.005).sum()), "marginal_level": round(float(rec.attrs["marginal_level"]), 4),
        "feasible_note": rec.attrs["note"],
        "preview": rec.sort_values("change", ascending=False)[RECOMMENDATION_PREVIEW].head(8).round(3),
    })
