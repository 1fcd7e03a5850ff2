"""Trends: a daily series against its 7-day baseline, and the bookings forecast against its backtest."""

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboard import data, filters, ui
from dashboard.ui import NEEDS_CRM

SPEND_BASED = {"spend", "cpl", "elv_per_spend"}  # need ads.csv
LEAD_BASED = {"leads", "qualified", "bookings", "revenue", "predicted_elv", "cpl", "elv_per_spend"}  # need the CRM
# metric -> (label, numerator, denominator or None, money?)
METRICS = {
    "spend": ("Spend", "spend", None, True),
    "leads": ("Leads", "leads", None, False),
    "qualified": ("Qualified leads", "qualified", None, False),
    "bookings": ("Bookings", "bookings", None, False),
    "revenue": ("Revenue", "revenue", None, True),
    "predicted_elv": ("Predicted ELV", "predicted_elv", None, True),
    "cpl": ("CPL", "spend", "leads", True),
    "elv_per_spend": ("ELV per unit of spend", "predicted_elv", "spend", False),
}
BASELINE_DAYS = 7

snap, flt = data.current(), filters.current()
st.title("Trends")
st.caption(flt.describe(data.campaign_names(snap)))

daily = data.daily(snap)
if daily.empty:
    ui.not_computed("Daily figures", "The snapshot has neither adset_daily nor lead_scores.")
    st.stop()

available = {k: v for k, v in METRICS.items() if v[1] in daily.columns and (v[2] is None or v[2] in daily.columns)}
first = "spend" if data.no_crm(snap) else "leads"  # without CRM leads, a series of zero leads says nothing
metric = st.segmented_control("Series", list(available), default=first if first in available else None,
                              format_func=lambda k: available[k][0], key="trend_metric") or next(iter(available))
label, num, den, is_money = available[metric]

# The baseline needs the 7 days before the range too: slice a week earlier, then cut back to the range.
lead_in = filters.Filters(flt.start - pd.Timedelta(days=BASELINE_DAYS - 1), flt.end, flt.platforms, flt.campaigns,
                          flt.allowed, flt.first_day)
cols = [num] + ([den] if den else [])
per_day = lead_in.apply(daily).groupby("date")[cols].sum(min_count=1)
per_day = per_day.reindex(pd.date_range(lead_in.start, flt.end, freq="D"))
if den is None:
    per_day = per_day.fillna(0) if per_day[num].notna().any() else per_day
    series = per_day[num]
    baseline = series.rolling(BASELINE_DAYS, min_periods=1).mean()
else:
    series = per_day[num] / per_day[den].where(per_day[den] > 0)
    rolled = per_day[[num, den]].rolling(BASELINE_DAYS, min_periods=1).sum()
    baseline = rolled[num] / rolled[den].where(rolled[den] > 0)
in_range = series.index >= pd.Timestamp(flt.start)
series, baseline = series[in_range], baseline[in_range]

if metric in SPEND_BASED and data.no_ads(snap):
    ui.needs_ads("This series")
elif metric in LEAD_BASED and data.no_crm(snap):
    ui.needs_crm("This series")
elif series.notna().sum() == 0:
    ui.not_computed(label, "This data has no such figure in the chosen days.")
else:
    fig = go.Figure()
    fig.add_scatter(x=series.index, y=series, name=label, mode="lines+markers", marker={"size": 4},
                    line={"color": "#1565c0"})
    fig.add_scatter(x=baseline.index, y=baseline, name=f"{BASELINE_DAYS}-day average (baseline)", mode="lines",
                    line={"color": "#ef6c00", "dash": "dash"})
    fig.update_layout(title=f"{label} per day" + (f" ({snap.currency})" if is_money else ""))
    ui.chart(fig, "trend_series")
    last, base = series.dropna().iloc[-1], baseline.dropna().iloc[-1]
    gap = ui.change(last, base)
    fmt = (lambda v: ui.money(v, snap.currency, 2 if den else 0)) if is_money else (lambda v: ui.number(v, 2 if den else 0))
    fallback = (f"{label} on {series.dropna().index[-1]:%d %b}: {fmt(last)}, against a {BASELINE_DAYS}-day "
                f"average of {fmt(base)}")
    fallback += f" ({gap:+.0%})." if gap is not None else "."
    ui.summary(f"daily {label}", {"metric": label, "last_day": str(series.dropna().index[-1].date()),
                                  "last_value": float(last), "baseline_7d": float(base),
                                  "period_mean": float(series.mean()), "days": flt.days}, fallback)

forecast = data.table(snap, "bookings_forecast")
# Without CRM leads the forecast is of the platforms' reported conversions (the table's measure column says).
what = ("platform conversions" if forecast is not None and "measure" in forecast.columns
        and (forecast["measure"] == "platform_conversions").any() else "bookings")
st.subheader(f"{what.capitalize()} forecast")
if forecast is None or forecast.empty:
    ui.not_computed("The bookings forecast", data.skipped(snap, "gold/bookings_forecast"))
    st.stop()
rows = flt.apply(forecast, date_col=None)
if what != "bookings":
    st.caption(f"This data has no CRM bookings, so the forecast is of the {what} the ad platforms report. Bookings "
               f"{NEEDS_CRM.replace('needs', 'need', 1)}.")
per_day = rows.groupby(["date", "kind"])[["actual", "predicted", "baseline"]].sum(min_count=1).reset_index()
backtest, ahead = per_day[per_day["kind"] == "backtest"], per_day[per_day["kind"] == "forecast"]
fig = go.Figure()
fig.add_scatter(x=backtest["date"], y=backtest["actual"], name=f"Actual {what}", mode="lines",
                line={"color": "#37474f"})
fig.add_scatter(x=backtest["date"], y=backtest["predicted"], name="Model (backtest)", mode="lines",
                line={"color": "#1565c0"})
fig.add_scatter(x=backtest["date"], y=backtest["baseline"], name="7-day average (baseline)", mode="lines",
                line={"color": "#ef6c00", "dash": "dash"})
if not ahead.empty:
    fig.add_scatter(x=ahead["date"], y=ahead["predicted"], name="Forecast", mode="markers",
                    marker={"color": "#1565c0", "size": 12, "symbol": "star"})
    fig.add_scatter(x=ahead["date"], y=ahead["baseline"], name="Baseline forecast", mode="markers",
                    marker={"color": "#ef6c00", "size": 10, "symbol": "diamond"})
fig.update_layout(title=f"{what.capitalize()} per day: the model's one-day-ahead backtest, and tomorrow's forecast")
ui.chart(fig, "trend_bookings")

err_model = (backtest["predicted"] - backtest["actual"]).abs().sum()
err_base = (backtest["baseline"] - backtest["actual"]).abs().sum()
total = backtest["actual"].sum()
tomorrow = float(ahead["predicted"].sum()) if not ahead.empty else None
fallback = ""
if tomorrow is not None:
    fallback = f"The model expects about {tomorrow:.1f} {what} on {ahead['date'].max():%d %b}. "
if total > 0:
    fallback += (f"In the backtest its errors added up to {err_model / total:.1%} of actual {what}, against "
                 f"{err_base / total:.1%} for the 7-day average.")
ui.summary(f"{what} forecast", {"forecast_next_day": tomorrow, "backtest_days": int(backtest["date"].nunique()),
                                 "actual_total": float(total), "model_abs_error": float(err_model),
                                 "baseline_abs_error": float(err_base)}, fallback or "No backtest in this filter.")
