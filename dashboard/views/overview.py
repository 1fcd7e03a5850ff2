"""Overview: the period's money and leads at a glance, against the period of equal length before it."""

import plotly.graph_objects as go
import streamlit as st

from dashboard import data, filters, kpis, ui

snap, flt = data.current(), filters.current()
names = data.campaign_names(snap)
st.title("Overview")
st.caption(flt.describe(names))

daily = data.daily(snap)
if daily.empty:
    ui.not_computed("Daily figures", "The snapshot has neither adset_daily nor lead_scores.")
    st.stop()

period = flt.apply(daily)
now = kpis.totals(period)
before_filter = flt.previous()
before = kpis.totals(before_filter.apply(daily)) if before_filter else None
if before_filter is None:
    st.caption(f"No change shown: the data does not reach {flt.days} days before {flt.start:%d %b %Y}.")
if data.no_ads(snap):
    st.caption(f"Spend, ROAS, CPL and ELV per spend {ui.NEEDS_ADS.replace('needs', 'need', 1)}.")
if data.no_crm(snap):
    st.caption(f"Leads, qualified leads, bookings, revenue and predicted ELV {ui.NEEDS_CRM.replace('needs', 'need', 1)}.")

for row in range(3):
    cols = st.columns(3)
    for col, kpi in zip(cols, kpis.kpi_list(snap.currency)[row * 3:row * 3 + 3], strict=True):
        value = now[kpi.key]
        delta = ui.change(value, before[kpi.key]) if before else None
        col.metric(
            kpi.label, kpis.show(kpi, value, snap.currency),
            delta=None if delta is None else f"{delta:+.1%} vs previous {flt.days} days",
            delta_color={"up": "normal", "down": "inverse"}.get(kpi.better, "off"),
            help=kpi.help if value is not None else f"{kpi.help} Not in this data (not computed).",
            border=True,
        )

per_day = period.groupby("date")[["spend", "predicted_elv"]].sum(min_count=1)
fig = go.Figure()
if per_day["spend"].notna().any():
    fig.add_bar(x=per_day.index, y=per_day["spend"], name="Spend", marker_color="#90a4ae")
if "predicted_elv" in per_day and per_day["predicted_elv"].notna().any():
    fig.add_scatter(x=per_day.index, y=per_day["predicted_elv"], name="Predicted ELV", mode="lines",
                    line={"color": "#1565c0", "width": 2})
fig.update_layout(title=f"Spend and predicted ELV per day ({snap.currency})", yaxis_title=snap.currency)
ui.chart(fig, "overview_daily")

def money(value) -> str:
    return ui.money(value, snap.currency)


eps_change = ui.change(now["elv_per_spend"], before["elv_per_spend"]) if before else None
leads = (f"{ui.number(now['leads'])} leads ({ui.number(now['qualified'])} qualified so far) with "
         f"{money(now['predicted_elv'])} of predicted ELV")
fallback = (f"In these {flt.days} days, {money(now['spend'])} of spend bought {leads}" if now["spend"] is not None
            else f"In these {flt.days} days {leads} came in (this data has no spend)")
if now["elv_per_spend"] is not None:
    fallback += f": {now['elv_per_spend']:.2f} of ELV per unit of spend"
    if eps_change is not None:
        fallback += f", {'up' if eps_change >= 0 else 'down'} {abs(eps_change):.0%} on the previous {flt.days} days"
ui.summary("marketing overview for the selected period", {
    "days": flt.days, "currency": snap.currency,
    "now": {k: now[k] for k in ("spend", "leads", "qualified", "bookings", "revenue", "predicted_elv", "elv_per_spend")},
    "previous": {k: before[k] for k in ("spend", "leads", "predicted_elv", "elv_per_spend")} if before else None,
}, fallback + ".")
