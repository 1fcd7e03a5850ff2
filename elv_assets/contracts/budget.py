"""Contracts of the budget tables: spend response curves and the budget recommendation."""

from __future__ import annotations

import pandera.pandas as pa
from pandera.typing import Series

from elv_assets.contracts.inputs import NULLABLE_INT
from elv_assets.contracts.tables import _Table

POOLING = ["adset", "campaign", "overall"]
SHAPES = ["saturating", "near_linear", "saturated"]
BUDGET_SOURCES = ["daily_budget", "recent_spend"]
TOLERANCE = 0.01  # budgets are rounded to 2 decimals
OUTCOME_NAMES = ["lead value (ELV)", "platform-reported conversions"]


class SpendResponse(_Table):
    """Per ad set: the saturating response y = a (1 - exp(-spend ln2 / h)) of expected qualified leads and of
    ELV per day to daily spend, with bootstrap ranges, today's level and the marginal return there."""

    adset_id: Series[str] = pa.Field(nullable=False, unique=True)
    campaign_id: Series[str] = pa.Field(nullable=True)
    platform: Series[str] = pa.Field(nullable=True)
    as_of_date: Series[pa.DateTime] = pa.Field(nullable=False)
    outcome: Series[str] = pa.Field(isin=OUTCOME_NAMES, description=(
        "What the curves relate spend to: the scored leads' ELV (a_qualified: expected qualified leads), or, with "
        "no scored leads, the platform's reported conversions (a_qualified) and their value (a_elv)."))
    active: Series[bool] = pa.Field(description="Spent in the last 7 days up to as_of: budget can go to it.")
    current_budget: Series[float] = pa.Field(ge=0, description="Latest daily_budget by as_of, else today's spend.")
    budget_source: Series[str] = pa.Field(isin=BUDGET_SOURCES, description="Where current_budget came from.")
    today_spend: Series[float] = pa.Field(ge=0, description="Mean daily spend of the last 7 days up to as_of.")
    max_spend: Series[float] = pa.Field(ge=0, description="The most it spent in a day in the history window.")
    days_used: Series[NULLABLE_INT] = pa.Field(ge=1, description="Its days with spend in the history window.")
    pooling: Series[str] = pa.Field(isin=POOLING, description="Where its curve's shape (h) was learned.")
    pool_days: Series[NULLABLE_INT] = pa.Field(ge=1, description="Days behind the fitted h (the pool's).")
    spend_cv: Series[float] = pa.Field(ge=0, description="Coefficient of variation of its daily spend.")
    own_h_spread: Series[float] = pa.Field(ge=1, description="p90/p10 of h fitted on its own days alone.")
    median_spend: Series[float] = pa.Field(gt=0, description="Its median daily spend in the window (the h grid's unit).")
    a_qualified: Series[float] = pa.Field(ge=0, description="Expected qualified leads per day at saturation.")
    h_qualified: Series[float] = pa.Field(gt=0, description="Daily spend buying half of a_qualified.")
    a_qualified_p10: Series[float] = pa.Field(ge=0, description="Bootstrap 10th percentile of a_qualified.")
    a_qualified_p90: Series[float] = pa.Field(ge=0, description="Bootstrap 90th percentile of a_qualified.")
    h_qualified_p10: Series[float] = pa.Field(gt=0, description="Bootstrap 10th percentile of h_qualified.")
    h_qualified_p90: Series[float] = pa.Field(gt=0, description="Bootstrap 90th percentile of h_qualified.")
    shape_qualified: Series[str] = pa.Field(isin=SHAPES, description="saturating, near_linear or saturated.")
    a_elv: Series[float] = pa.Field(ge=0, description="ELV per day at saturation, in the data's currency.")
    h_elv: Series[float] = pa.Field(gt=0, description="Daily spend buying half of a_elv.")
    a_elv_p10: Series[float] = pa.Field(ge=0, description="Bootstrap 10th percentile of a_elv.")
    a_elv_p90: Series[float] = pa.Field(ge=0, description="Bootstrap 90th percentile of a_elv.")
    h_elv_p10: Series[float] = pa.Field(gt=0, description="Bootstrap 10th percentile of h_elv.")
    h_elv_p90: Series[float] = pa.Field(gt=0, description="Bootstrap 90th percentile of h_elv.")
    shape_elv: Series[str] = pa.Field(isin=SHAPES, description="saturating, near_linear or saturated.")
    qualified_today: Series[float] = pa.Field(ge=0, description="Fitted expected qualified per day at today's spend.")
    elv_today: Series[float] = pa.Field(ge=0, description="Fitted ELV per day at today's spend.")
    marginal_qualified: Series[float] = pa.Field(ge=0, description="Extra qualified per extra unit of spend today.")
    marginal_elv: Series[float] = pa.Field(ge=0, description="Extra ELV per extra unit of spend at today's level.")
    marginal_elv_p10: Series[float] = pa.Field(ge=0, description="Bootstrap 10th percentile of marginal_elv.")
    marginal_elv_p90: Series[float] = pa.Field(ge=0, description="Bootstrap 90th percentile of marginal_elv.")
    elv_per_spend: Series[float] = pa.Field(nullable=True, ge=0, description="Average ELV per unit at today's spend.")
    bookings_per_qualified: Series[float] = pa.Field(ge=0, description="Historical, shrunk to campaign and overall.")
    boot_a_qualified: Series[object] = pa.Field(description="Bootstrap draws of a_qualified (a list).")
    boot_h_qualified: Series[object] = pa.Field(description="Bootstrap draws of h_qualified (a list).")
    boot_a_elv: Series[object] = pa.Field(description="Bootstrap draws of a_elv (a list).")
    boot_h_elv: Series[object] = pa.Field(description="Bootstrap draws of h_elv (a list).")

    @pa.dataframe_check(error="every p10 is at most its p90")
    def ranges_ordered(cls, df) -> bool:
        return bool(all((df[f"{c}_p10"] <= df[f"{c}_p90"] + 1e-9).all()
                        for c in ("a_qualified", "h_qualified", "a_elv", "h_elv", "marginal_elv")))


class BudgetRecommendation(_Table):
    """Per active ad set: today's budget, the recommended one, and the expected daily change it brings."""

    adset_id: Series[str] = pa.Field(nullable=False, unique=True)
    campaign_id: Series[str] = pa.Field(nullable=True)
    as_of_date: Series[pa.DateTime] = pa.Field(nullable=False)
    current_budget: Series[float] = pa.Field(ge=0, description="Today's daily budget (or recent spend without one).")
    recommended_budget: Series[float] = pa.Field(ge=0, description="The daily budget to set, rounded to cents.")
    change: Series[float] = pa.Field(description="recommended - current.")
    change_pct: Series[float] = pa.Field(description="change / current.")
    lower_limit: Series[float] = pa.Field(ge=0, description="current x (1 - max_change), never above upper_limit.")
    upper_limit: Series[float] = pa.Field(ge=0, description="min(current x (1 + max_change), max_spend).")
    max_spend: Series[float] = pa.Field(ge=0, description="The most it has spent in a day in the history window.")
    marginal_elv_now: Series[float] = pa.Field(ge=0, description="ELV per extra unit of spend at the current budget.")
    marginal_elv_after: Series[float] = pa.Field(ge=0, description="The same at the recommended budget.")
    expected_qualified_change: Series[float] = pa.Field(description="Expected qualified leads per day, change.")
    expected_qualified_change_p10: Series[float] = pa.Field(description="Bootstrap 10th percentile of the change.")
    expected_qualified_change_p90: Series[float] = pa.Field(description="Bootstrap 90th percentile of the change.")
    expected_bookings_change: Series[float] = pa.Field(description="Expected bookings per day, change.")
    expected_bookings_change_p10: Series[float] = pa.Field(description="Bootstrap 10th percentile of the change.")
    expected_bookings_change_p90: Series[float] = pa.Field(description="Bootstrap 90th percentile of the change.")
    expected_elv_change: Series[float] = pa.Field(description="Expected ELV per day, change, in the data's currency.")
    expected_elv_change_p10: Series[float] = pa.Field(description="Bootstrap 10th percentile of the change.")
    expected_elv_change_p90: Series[float] = pa.Field(description="Bootstrap 90th percentile of the change.")
    capped_by_max_spend: Series[bool] = pa.Field(description="The upper limit is what it has shown it can spend.")
    feasible: Series[bool] = pa.Field(description="The total budget fits within the limits (same for every row).")
    reason: Series[str] = pa.Field(nullable=False, description="Why, in plain words.")

    @pa.dataframe_check(error="never recommend more than an ad set has shown it can spend")
    def within_shown_spend(cls, df) -> bool:
        return bool((df["recommended_budget"] <= df["max_spend"] + TOLERANCE).all())

    @pa.dataframe_check(error="every recommended budget lies within its limits")
    def within_limits(cls, df) -> bool:
        return bool(((df["recommended_budget"] >= df["lower_limit"] - TOLERANCE)
                     & (df["recommended_budget"] <= df["upper_limit"] + TOLERANCE)).all())
