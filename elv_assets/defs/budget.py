"""Spend response curves per ad set and the budget reallocation they recommend."""

import dagster as dg
import pandas as pd

from elv_assets.contracts.budget import BudgetRecommendation, SpendResponse
from elv_assets.defs.gold import ADSET_DAILY_KEY
from elv_assets.defs.publishing import OWNERS, column_schema, publish_frame, table_metadata
from elv_assets.defs.resources import RunWindow, Warehouse
from elv_assets.defs.scores import SCORES_KEY
from elv_assets.ingest import fetch_frame
from elv_assets.ml.reallocation import METRICS, active_curves, recommend, round_to_cents
from elv_assets.ml.response import SPEND_UNKNOWN, curves_from_warehouse, spend_known
from elv_assets.warehouse import resolve_as_of

RESPONSE_KEY = dg.AssetKey(["gold", "spend_response"])
RECOMMENDATION_KEY = dg.AssetKey(["gold", "budget_recommendation"])

RESPONSE_PREVIEW = ["adset_id", "campaign_id", "pooling", "days_used", "today_spend", "max_spend", "a_elv", "h_elv",
                    "marginal_elv", "marginal_elv_p10", "marginal_elv_p90"]
RECOMMENDATION_PREVIEW = ["adset_id", "current_budget", "recommended_budget", "change_pct", "expected_elv_change",
                          "expected_elv_change_p10", "expected_elv_change_p90", "reason"]


def _sorted(frame: pd.DataFrame, by: list[str], ascending: list[bool]) -> pd.DataFrame:
    """The rows in the order they are published in (a stable sort; an empty frame may have no columns)."""
    return frame if frame.empty else frame.sort_values(by, ascending=ascending, kind="mergesort")


def _md(df: pd.DataFrame, columns: list[str]) -> dg.MetadataValue:
    if df.empty:
        return dg.MetadataValue.md("(no rows)")
    return dg.MetadataValue.md(df[columns].head(8).round(3).to_markdown(index=False))


class SpendResponseConfig(dg.Config):
    history_days: int = 90  # days of spend up to as_of the curves are fitted on
    recent_days: int = 7  # today's spend level: the mean daily spend of the last N days
    min_days: int = 14  # fewer days with spend than this: the ad set's shape is pooled
    min_spend_cv: float = 0.05  # daily spend varying less than this (coefficient of variation): pooled
    max_h_spread: float = 2.0  # its own bootstrap h (p90 / p10) wider than this factor: pooled
    bootstrap_samples: int = 200
    seed: int = 0


@dg.asset(
    key=RESPONSE_KEY,
    deps=[ADSET_DAILY_KEY, SCORES_KEY],
    group_name="gold",
    kinds={"duckdb", "numpy"},
    owners=OWNERS,
    description=(
        "Per ad set, how expected qualified leads and ELV per day respond to daily spend: a saturating curve "
        "a x (1 - exp(-spend ln2 / h)) fitted on the last 90 days (its shape pooled by campaign, or overall, where "
        "the ad set's own days cannot pin it down), with bootstrap p10/p90, today's spend and the ELV one more "
        "unit of spend buys there. Empty, with the reason, when spend is unknown (no ads.csv)."
    ),
    metadata={"dagster/column_schema": column_schema(SpendResponse)},
    check_specs=[
        dg.AssetCheckSpec("contract", asset=RESPONSE_KEY),
        dg.AssetCheckSpec("enabled", asset=RESPONSE_KEY, description="Spend is known, so curves can be fitted."),
    ],
)
def spend_response(context: dg.AssetExecutionContext, config: SpendResponseConfig, warehouse: Warehouse,
                   run_window: RunWindow):
    target = "gold.spend_response"
    with warehouse.get_connection() as con:
        as_of = resolve_as_of(con, run_window.as_of_date)
        curves = curves_from_warehouse(
            con, as_of, config.history_days, config.recent_days, min_days=config.min_days,
            min_cv=config.min_spend_cv, max_h_spread=config.max_h_spread, samples=config.bootstrap_samples,
            seed=config.seed)
        reason = curves.attrs.get("reason", "")
        if not curves.empty:
            curves["as_of_date"] = pd.Timestamp(as_of)
        gate = publish_frame(con, SpendResponse, _sorted(curves, ["adset_id"], [True]), target, typed=True)
        yield from gate.events()
        yield dg.AssetCheckResult(
            check_name="enabled", passed=not curves.empty, severity=dg.AssetCheckSeverity.WARN,
            description=reason or f"{len(curves)} ad sets have spend response curves.",
        )
        extra = {}
        if not curves.empty:
            active = active_curves(curves)
            extra = {
                "pooling": dg.MetadataValue.json(curves["pooling"].value_counts().to_dict()),
                "active_adsets": len(active),
                "median_marginal_elv": round(float(active["marginal_elv"].median()), 4) if len(active) else 0.0,
                "today_spend": round(float(active["today_spend"].sum()), 2),
                "today_elv": round(float(active["elv_today"].sum()), 2),
                "skipped_adsets": ", ".join(curves.attrs.get("skipped", [])) or "none",
                "weekday_factors": dg.MetadataValue.json(curves.attrs.get("weekday_factors", {})),
            }
        yield dg.MaterializeResult(metadata=table_metadata(
            con, target, as_of_date=str(as_of), history_days=config.history_days,
            bootstrap_samples=config.bootstrap_samples, empty_reason=reason,
            preview=_md(curves, RESPONSE_PREVIEW), **extra,
        ))


class BudgetConfig(dg.Config):
    max_change: float = 0.3  # each ad set's budget moves at most this share up or down
    total_budget: float | None = None  # the daily total to place; None: today's total of the active ad sets
    step: float | None = None  # the greedy's increment; None: 1/2000 of the room to move


@dg.asset(
    key=RECOMMENDATION_KEY,
    deps=[RESPONSE_KEY],
    group_name="gold",
    kinds={"duckdb", "pandas"},
    owners=OWNERS,
    description=(
        "Budget reallocation: the total daily budget moved from ad sets where one more unit of spend buys little "
        "ELV to where it buys most, each within +-30 % of its budget and never above the most it has spent in a "
        "day; with the expected daily change in qualified leads, bookings and ELV (p10/p90) and a reason per ad "
        "set. Empty, with the reason, when there are no response curves."
    ),
    metadata={"dagster/column_schema": column_schema(BudgetRecommendation)},
    check_specs=[
        dg.AssetCheckSpec("contract", asset=RECOMMENDATION_KEY),
        dg.AssetCheckSpec("enabled", asset=RECOMMENDATION_KEY,
                          description="There are active ad sets with response curves to reallocate between."),
        dg.AssetCheckSpec("feasible", asset=RECOMMENDATION_KEY,
                          description="The total budget can be placed within the limits."),
    ],
)
def budget_recommendation(context: dg.AssetExecutionContext, config: BudgetConfig, warehouse: Warehouse,
                          run_window: RunWindow):
    target = "gold.budget_recommendation"
    with warehouse.get_connection() as con:
        as_of = resolve_as_of(con, run_window.as_of_date)
        curves = fetch_frame(con, "SELECT * FROM gold.spend_response ORDER BY adset_id")
        active = active_curves(curves) if not curves.empty else curves
        reason = ""
        if active.empty:
            reason = (
                SPEND_UNKNOWN if not spend_known(con) else
                "No ad set with a response curve spent anything lately (gold.spend_response has no active rows)."
            )
            rec = pd.DataFrame()
        else:
            rec = recommend(active, config.total_budget, config.max_change, config.step)
            rec["recommended_budget"] = round_to_cents(rec["recommended_budget"])
            rec["change"] = rec["recommended_budget"] - rec["current_budget"]
            rec["as_of_date"] = pd.Timestamp(as_of)
        gate = publish_frame(con, BudgetRecommendation, _sorted(rec, ["change", "adset_id"], [False, True]), target,
                             typed=True)
        yield from gate.events()
        yield dg.AssetCheckResult(
            check_name="enabled", passed=not rec.empty, severity=dg.AssetCheckSeverity.WARN,
            description=reason or f"{len(rec)} active ad sets to reallocate between.",
        )
        feasible = bool(rec.attrs.get("feasible", True))
        yield dg.AssetCheckResult(
            check_name="feasible", passed=feasible, severity=dg.AssetCheckSeverity.WARN,
            description=rec.attrs.get("note") or ("No reallocation (no curves)." if rec.empty else
                                                  "The total budget fits within the limits."),
        )
        extra = {}
        if not rec.empty:
            totals = rec.attrs["totals"]
            for m in METRICS:
                t = totals[m]
                extra[f"expected_{m}_change"] = round(t["change"], 3)
                extra[f"expected_{m}_change_range"] = f"{t['p10']:,.2f} to {t['p90']:,.2f}"
            extra.update(
                total_budget=round(rec.attrs["total_budget"], 2), allocated=round(rec.attrs["allocated"], 2),
                moved=round(float(rec["change"].clip(lower=0).sum()), 2), raised=int((rec["change"] > 0.005).sum()),
                cut=int((rec["change"] < -0.005).sum()), marginal_level=round(float(rec.attrs["marginal_level"]), 4),
                feasible_note=rec.attrs["note"],
            )
        yield dg.MaterializeResult(metadata=table_metadata(
            con, target, as_of_date=str(as_of), max_change=config.max_change, empty_reason=reason,
            preview=_md(rec.sort_values("change", ascending=False) if not rec.empty else rec, RECOMMENDATION_PREVIEW),
            **extra,
        ))


budget_assets = [spend_response, budget_recommendation]
