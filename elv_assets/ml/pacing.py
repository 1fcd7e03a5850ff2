"""Pacing in words: the budget left in the month and a recommended action per ad set.

An ad set is at risk, and needs a person, when it is likely to under-spend tomorrow even against the usual pace
for tomorrow's weekday. Ad sets that will spend below budget only because the whole account usually spends less
that weekday (a Sunday) are told so, and the account's pattern is said once (`weekday_note`), not per ad set.
"""

from __future__ import annotations

import calendar
import datetime as dt

import duckdb
import numpy as np
import pandas as pd

from elv_assets.build import Build, Built, Skip
from elv_assets.ml.forecasting import NO_PACING, PACING_MODEL_KEY, daily_features

AT_RISK = 0.5  # probability (for its weekday) from which an ad set is called at risk of under-pacing
OVER = 1.10  # a 7-day pace above this is overspending


def month_budget_left(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> pd.DataFrame:
    """Per ad set: spend so far in the as_of month and what is left of (latest daily budget x days in month)."""
    first = as_of.replace(day=1)
    days = calendar.monthrange(as_of.year, as_of.month)[1]
    return con.execute(f"""
        SELECT adset_id, sum(spend) AS spend_month_to_date,
               arg_max(daily_budget, date) * {days} - sum(spend) AS budget_left_in_month
        FROM gold.adset_daily
        WHERE date BETWEEN DATE '{first}' AND DATE '{as_of}'
        GROUP BY adset_id
    """).df()


def _pct(x) -> str:
    return "unknown" if x is None or pd.isna(x) else f"{x:.0%}"


def _slow_day(row) -> str | None:
    """The row's weekday by name (Sunday) when the account usually spends less that weekday, else None."""
    pace, day = getattr(row, "weekday_pace", None), getattr(row, "date", None)
    if pace is None or pd.isna(pace) or pace >= 1 or day is None or pd.isna(day):
        return None
    return f"{pd.Timestamp(day):%A}"


def recommended_action(row) -> str:
    """One sentence a marketer can act on, from the risk for tomorrow's weekday, the risk against the budget, the
    recent pace and the budget (or, without a budget on record, the ad set's usual daily spend)."""
    p, pace, budget = row.p_under_pace, row.pace_7d, row.budget
    p_day = getattr(row, "p_under_weekday_pace", p)  # against the usual pace of tomorrow's weekday
    slow = _slow_day(row)
    even = f" even for a {slow}" if slow else ""
    usual = getattr(row, "budget_source", "adsets.csv") == "usual spend"
    if budget is None or pd.isna(budget) or budget == 0:
        return "No budget on record: add it to adsets.csv so pacing can be tracked."
    if slow and p_day < AT_RISK <= p:  # below budget, but no more than the account usually is on that weekday
        level, of = ("its usual level", "its usual daily spend") if usual else ("its budget", "its budget")
        return (f"Likely to spend below {level} tomorrow ({p:.0%}), as the account usually does on {slow}s; it spent "
                f"{_pct(pace)} of {of} over the last 7 days: no action needed.")
    if usual:
        if p_day >= AT_RISK:
            return (f"Likely to spend well below its usual level tomorrow{even} ({p_day:.0%}): it spent {_pct(pace)} "
                    "of its usual daily spend over the last 7 days. Check bids, audience size and ad approvals.")
        return f"At its usual spend ({_pct(pace)} over 7 days; no budget on record): no action needed."
    if p_day >= AT_RISK:
        if pace is not None and not pd.isna(pace) and pace < 1:
            gap = budget * (1 - pace)
            return (f"Likely to under-spend tomorrow{even} ({p_day:.0%}): it spent {_pct(pace)} of its budget over "
                    f"the last 7 days. Check bids, audience size and ad approvals, or move about {gap:,.0f} a day of "
                    "its budget to an ad set that spends it.")
        return (f"Risk of under-spending tomorrow{even} ({p_day:.0%}) although the last 7 days were on pace: "
                "watch delivery.")
    if pace is not None and not pd.isna(pace) and pace > OVER:
        return f"Spending above its budget ({_pct(pace)} over 7 days): check the budget cap and the bid strategy."
    return f"On pace ({_pct(pace)} of budget over 7 days): no action needed."


def weekday_note(risk: pd.DataFrame) -> str | None:
    """The account's weekday pattern, said once: why ad sets likely to spend below budget tomorrow are not at risk.
    None when no ad set is in that case (or the table predates the weekday columns)."""
    if "at_risk" not in risk.columns or risk.empty:
        return None
    slow = risk[(risk["p_under_pace"] >= AT_RISK) & ~risk["at_risk"].astype(bool)]
    first = risk.iloc[0]
    day = _slow_day(first)
    if slow.empty or day is None:
        return None
    return (f"The account usually spends less on {day}s (over the last 8 weeks, {first.weekday_pace:.0%} of its "
            f"usual pace): {len(slow)} of {len(risk)} ad sets are likely to spend below budget tomorrow for that "
            "reason alone, so they are not listed as at risk.")


RISK_COLUMNS = ["adset_id", "campaign_id", "platform", "date", "at_risk", "p_under_weekday_pace", "p_under_pace",
                "weekday_pace", "pace_7d", "pace_yesterday", "budget", "budget_source", "spend_month_to_date",
                "budget_left_in_month", "action"]


def build_pacing_risk(b: Build) -> Built:
    """Per ad set with a budget for as_of + 1: the risk of under-pacing against its budget and against the usual pace
    of tomorrow's weekday, whether it needs a person, the pace so far and what to do."""
    future = daily_features(b, future_only=True)
    future = future[future["budget"].notna()].copy()  # live tomorrow: a budget for the day
    if not b.has(PACING_MODEL_KEY):
        raise Skip(NO_PACING)
    if future.empty:
        raise Skip(f"No ad set has a budget for {b.as_of + dt.timedelta(days=1)} (adsets.csv: every end_date has passed).")
    model = b.load(PACING_MODEL_KEY)
    future["p_under_pace"] = model.probability(future)
    # Against the weekday's usual pace the bar is lower on a weekday the account usually spends less (a Sunday): a
    # narrower event, never the likelier. On other days the two events are one, and the budget's classifier answers.
    dip = (future["weekday_pace"] < 1).to_numpy()
    for_weekday = np.minimum(model.probability(future, against="weekday"), future["p_under_pace"])
    future["p_under_weekday_pace"] = np.where(dip, for_weekday, future["p_under_pace"])
    future["at_risk"] = future["p_under_weekday_pace"] >= AT_RISK
    frame = future.merge(month_budget_left(b.con, b.as_of), on="adset_id", how="left")
    frame = frame.assign(pace_7d=frame["pacing_ratio_avg7"], pace_yesterday=frame["pacing_ratio_lag1"])
    frame["action"] = [recommended_action(r) for r in frame.itertuples()]
    frame = frame[RISK_COLUMNS].sort_values(["p_under_weekday_pace", "p_under_pace"], ascending=False)
    frame = frame.reset_index(drop=True)
    b.stage_frame(frame)
    note = weekday_note(frame)
    return Built(metadata={"at_risk": int(frame["at_risk"].sum()), "ad_sets": len(frame),
                           "below_budget": int((frame["p_under_pace"] >= AT_RISK).sum()),
                           **({"weekday_pattern": note} if note else {})})
