"""The headline figures of a period, from the daily aggregates (adset_daily plus the lead scores)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from dashboard import data, ui

SUMMED = data.SUM_COLUMNS + data.LEAD_SUMS  # every column of the daily figures that adds up


def totals(frame: pd.DataFrame) -> dict[str, float | None]:
    """Sums of the period (None where the data has no such figure) and the ratios built from them."""
    out: dict[str, float | None] = {}
    for col in SUMMED:
        value = frame[col].sum(min_count=1) if col in frame.columns else None
        out[col] = None if value is None or pd.isna(value) else float(value)
    out["roas"] = ui.ratio(out["revenue"], out["spend"])
    out["cpl"] = ui.ratio(out["spend"], out["leads"])
    out["elv_per_spend"] = ui.ratio(out["predicted_elv"], out["spend"])
    return out


@dataclass(frozen=True)
class Kpi:
    key: str
    label: str
    kind: str  # money | money2 | count | ratio
    better: str  # up | down | none: which way is good news
    help: str


def kpi_list(currency: str) -> list[Kpi]:
    unit = (ui.symbol(currency) or currency + " ") if currency else ""
    return [
        Kpi("spend", "Spend", "money", "none", "Money spent on the ad platforms (ads.csv)."),
        Kpi("revenue", "Revenue", "money", "up", "Revenue of deals won from these leads (outcomes.csv)."),
        Kpi("roas", "ROAS", "ratio", "up", "Revenue per unit of spend."),
        Kpi("leads", "Leads", "count", "up", "CRM leads tied to an ad set."),
        Kpi("qualified", "Qualified leads", "count", "up", "Leads that have qualified so far."),
        Kpi("bookings", "Bookings", "count", "up", "Meetings booked with these leads."),
        Kpi("cpl", "CPL", "money2", "down", "Cost per lead: spend / leads."),
        Kpi("predicted_elv", "Predicted ELV", "money", "up",
            "Expected lead value, summed over the leads: each lead's chance to qualify within 14 days x what that "
            "lead is worth if it qualifies."),
        Kpi("elv_per_spend", f"ELV per {unit}1 spent", "ratio", "up",
            "Predicted ELV / spend: how much expected value each unit of spend bought."),
    ]


def show(kpi: Kpi, value, currency: str) -> str:
    if kpi.kind == "money":
        return ui.money(value, currency)
    if kpi.kind == "money2":
        return ui.money(value, currency, 2)
    if kpi.kind == "ratio":
        return ui.number(value, 2)
    return ui.number(value)
