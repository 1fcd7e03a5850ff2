"""Score the budget reallocation against the demo world's truth.

The generator writes every ad set's true response (truth/adsets_truth.csv: leads per day =
response_scale x (1 - 2^(-spend / response_half_spend)), spend capped at `capacity`) and every lead's true
expected value (truth/leads_truth.csv: value_true). An ad set's true ELV curve is its true leads curve times
the mean value_true of its leads (leads joined to ad sets through gold.lead_scores).

`truth_share` evaluates the recommended budgets on those true curves, and divides the true ELV gain by the
gain of the best reallocation under the same limits (same totals, the same +-max_change, the same
never-more-than-shown cap), found by the same greedy on the true curves. For context it also scores the
leaderboard's rule of thumb: the same limits, but budget ranked by average ELV per unit of spend (a straight
line through today's level) instead of the marginal return; and a reallocation with no model at all (every
budget brought within its limits, the money that frees spread over the others' room), which shows how much
of the gain is only moving budget that an ad set cannot spend.

    .venv/bin/python bench/budget_truth.py <world>/raw <world>/warehouse.duckdb [history_days]

It reads gold.spend_response when the warehouse has it (and history_days is the default 90), else fits.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from elv_assets.ml.reallocation import active_curves, limits, recommend  # noqa: E402
from elv_assets.ml.response import saturating  # noqa: E402

KEEP = ["adset_id", "campaign_id", "current_budget", "max_spend", "today_spend", "active"]


def true_curves(curves: pd.DataFrame, raw_dir: Path, lead_adsets: pd.DataFrame) -> pd.DataFrame:
    """The fitted curves' ad sets with their TRUE qualified and ELV curves (no bootstrap draws)."""
    truth = pd.read_csv(Path(raw_dir) / "truth" / "adsets_truth.csv")
    leads = pd.read_csv(Path(raw_dir) / "truth" / "leads_truth.csv").merge(lead_adsets, on="lead_id")
    per_lead = leads.groupby("adset_id")[["value_true", "p_qualified_true"]].mean()
    t = curves[[c for c in KEEP if c in curves]].merge(
        truth[["adset_id", "response_scale", "response_half_spend", "capacity"]], on="adset_id")
    t = t.join(per_lead, on="adset_id")
    return t.assign(
        a_elv=t["response_scale"] * t["value_true"].fillna(0), h_elv=t["response_half_spend"],
        a_qualified=t["response_scale"] * t["p_qualified_true"].fillna(0), h_qualified=t["response_half_spend"],
        bookings_per_qualified=0.0)


def true_gain(t: pd.DataFrame, budgets: pd.Series) -> float:
    """True daily ELV gain of `budgets` (indexed by adset_id) over the current budgets; spend capped at capacity."""
    b = t["adset_id"].map(budgets).fillna(t["current_budget"]).to_numpy(float)
    cap = t["capacity"].to_numpy(float)
    s0, s1 = np.minimum(t["current_budget"].to_numpy(float), cap), np.minimum(b, cap)
    return float((saturating(s1, t["a_elv"], t["h_elv"]) - saturating(s0, t["a_elv"], t["h_elv"])).sum())


def truth_share(curves: pd.DataFrame, raw_dir: Path, lead_adsets: pd.DataFrame, max_change: float = 0.3,
                total_budget: float | None = None) -> dict:
    curves = active_curves(curves)
    t = true_curves(curves, raw_dir, lead_adsets)
    ours = recommend(curves, total_budget, max_change).set_index("adset_id")["recommended_budget"]
    best = recommend(t, total_budget, max_change).set_index("adset_id")["recommended_budget"]
    big = 1e7  # a straight line: marginal = average ELV per unit of spend at today's level
    per_spend = (curves["elv_today"] / curves["today_spend"].where(curves["today_spend"] > 0)).fillna(0)
    line = curves.assign(h_elv=big, a_elv=per_spend * big / math.log(2))
    thumb = recommend(line, total_budget, max_change).set_index("adset_id")["recommended_budget"]
    lower, upper = limits(curves, max_change)  # no model: each budget into its limits, the rest spread by room
    clipped = np.clip(curves["current_budget"].to_numpy(float), lower, upper)
    room = upper - clipped
    total = float(curves["current_budget"].sum()) if total_budget is None else float(total_budget)
    spread = clipped + room / room.sum() * min(max(total - clipped.sum(), 0.0), room.sum()) if room.sum() else clipped
    blind = pd.Series(spread, index=curves["adset_id"])
    g_ours, g_best, g_thumb = true_gain(t, ours), true_gain(t, best), true_gain(t, thumb)
    g_blind = true_gain(t, blind)
    return {
        "adsets": len(t), "true_elv_today": float(saturating(np.minimum(t["current_budget"], t["capacity"]),
                                                             t["a_elv"], t["h_elv"]).sum()),
        "gain_ours": g_ours, "gain_best": g_best, "gain_rule_of_thumb": g_thumb, "gain_no_model": g_blind,
        "share": g_ours / g_best if g_best > 0 else float("nan"),
        "share_rule_of_thumb": g_thumb / g_best if g_best > 0 else float("nan"),
        "share_no_model": g_blind / g_best if g_best > 0 else float("nan"),
        "moved": float(ours.sub(t.set_index("adset_id")["current_budget"]).abs().sum() / 2),
    }


def main(raw_dir: str, warehouse: str, history_days: int = 90) -> dict:
    import duckdb

    from elv_assets.lakehouse.warehouse import table_exists
    from elv_assets.ml.response import curves_from_warehouse

    con = duckdb.connect(warehouse, read_only=True)
    try:
        if table_exists(con, "gold.spend_response") and history_days == 90:  # the asset's own curves
            curves = con.execute("SELECT * FROM gold.spend_response ORDER BY adset_id").df()
        else:
            as_of = con.execute("SELECT as_of_date FROM gold.as_of_date").fetchall()[0][0]
            curves = curves_from_warehouse(con, as_of, history_days)
        lead_adsets = con.execute("SELECT lead_id, adset_id FROM gold.lead_scores WHERE adset_id IS NOT NULL").df()
    finally:
        con.close()
    out = truth_share(curves, Path(raw_dir), lead_adsets)
    print({k: round(v, 4) if isinstance(v, float) else v for k, v in out.items()})
    return out


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], *(int(a) for a in sys.argv[3:]))
