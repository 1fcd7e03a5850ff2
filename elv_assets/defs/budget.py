"""Spend response curves per ad set and the budget reallocation they recommend."""

import dagster as dg

from elv_assets.build import AS_OF_KEY
from elv_assets.contracts.budget import BudgetRecommendation, SpendResponse
from elv_assets.defs.declare import CheckDecl, table_asset
from elv_assets.ml.reallocation import build_budget_recommendation
from elv_assets.ml.response import build_spend_response


class SpendResponseConfig(dg.Config):
    history_days: int = 90  # days of spend up to as_of the curves are fitted on
    recent_days: int = 7  # today's spend level: the mean daily spend of the last N days
    min_days: int = 14  # fewer days with spend than this: the ad set's shape is pooled
    min_spend_cv: float = 0.05  # daily spend varying less than this (coefficient of variation): pooled
    max_h_spread: float = 2.0  # its own bootstrap h (p90 / p10) wider than this factor: pooled
    bootstrap_samples: int = 200
    seed: int = 0


spend_response = table_asset(
    "gold/spend_response", build_spend_response, contract=SpendResponse, config=SpendResponseConfig,
    kinds={"numpy"}, reads=[AS_OF_KEY, "gold/adset_daily", "gold/lead_scores"],
    description=(
        "Per ad set, how expected qualified leads and ELV per day respond to daily spend: a saturating curve "
        "a x (1 - exp(-spend ln2 / h)) fitted on the last 90 days (its shape pooled by campaign, or overall, where "
        "the ad set's own days cannot pin it down), with bootstrap p10/p90, today's spend and the ELV one more unit "
        "of spend buys there. Skipped (empty, with the reason) when spend is unknown (no ads.csv)."),
)


class BudgetConfig(dg.Config):
    max_change: float = 0.3  # each ad set's budget moves at most this share up or down
    total_budget: float | None = None  # the daily total to place; None: today's total of the active ad sets
    step: float | None = None  # the greedy's increment; None: 1/2000 of the room to move


budget_recommendation = table_asset(
    "gold/budget_recommendation", build_budget_recommendation, contract=BudgetRecommendation, config=BudgetConfig,
    kinds={"pandas"}, reads=[AS_OF_KEY, "gold/spend_response"],
    checks=[CheckDecl("feasible", "The total budget can be placed within the limits.")],
    description=(
        "Budget reallocation: the total daily budget moved from ad sets where one more unit of spend buys little ELV "
        "to where it buys most, each within +-30 % of its budget and never above the most it has spent in a day; "
        "with the expected daily change in qualified leads, bookings and ELV (p10/p90) and a reason per ad set. "
        "Skipped (empty, with the reason) when there are no response curves."),
)

budget_assets = [spend_response, budget_recommendation]
