"""Pacing: which ad sets are likely to under-spend tomorrow, budget against spend, and what to do about it."""

import plotly.graph_objects as go
import streamlit as st

from dashboard import data, filters, ui
from elv_assets.ml.pacing import AT_RISK, weekday_note

snap, flt = data.current(), filters.current()
names, adsets = data.campaign_names(snap), data.adset_names(snap)
st.title("Pacing")

risk = data.table(snap, "pacing_risk")
no_ads = data.no_ads(snap)
if no_ads:
    ui.needs_ads("Pacing risk", "It learns from the ad sets' daily spend against their budgets.")
elif risk is None or risk.empty:
    ui.not_computed("Pacing risk", data.skipped(snap, "gold/pacing_risk")
                    or ("It needs daily delivery and budgets (ads.csv and adsets.csv) for the ad sets."
                        if risk is not None else ""))
else:
    rows = flt.apply(risk, date_col=None).copy()
    if "at_risk" not in rows.columns:  # a snapshot from before the weekday's usual pace was judged
        rows = rows.assign(p_under_weekday_pace=rows["p_under_pace"], at_risk=rows["p_under_pace"] >= AT_RISK)
    rows = rows.sort_values(["p_under_weekday_pace", "p_under_pace"], ascending=False)
    day = rows["date"].max() if not rows.empty else None
    st.caption(f"Risk of under-spending on {day:%A %d %b %Y}, from the last days' delivery, judged against the usual "
               f"pace of a {day:%A} (model as of {snap.manifest.get('as_of_date')})." if day is not None
               else "No ad sets in this filter.")
    at_risk = rows[rows["at_risk"].astype(bool)]
    note = weekday_note(rows)
    if note:
        st.info(note, icon="📅")
    left = at_risk["budget_left_in_month"].sum()
    c1, c2, c3 = st.columns(3)
    c1.metric("Ad sets at risk", f"{len(at_risk)} of {len(rows)}", border=True,
              help=f"Chance of under-spending tomorrow, against the usual pace of that weekday, at least {AT_RISK:.0%}.")
    c2.metric("Their daily budget", ui.money(at_risk["budget"].sum(), snap.currency), border=True)
    c3.metric("Their budget left this month", ui.money(left, snap.currency), border=True)

    rows["adset_name"] = rows["adset_id"].map(adsets).fillna(rows["adset_id"])
    rows["campaign_name"] = rows["campaign_id"].map(names).fillna(rows["campaign_id"])
    ui.table(
        rows[["adset_name", "campaign_name", "platform", "p_under_weekday_pace", "p_under_pace", "pace_7d", "budget",
              "spend_month_to_date", "budget_left_in_month", "action"]],
        hide_index=True,
        column_config={
            "adset_name": "Ad set", "campaign_name": "Campaign", "platform": "Platform",
            "p_under_weekday_pace": ui.percent_column(
                "Risk of under-spending", "The model's chance it spends under pace tomorrow, against the usual pace "
                "of that weekday: at risk from 50%."),
            "p_under_pace": ui.percent_column(
                "Chance of spending below budget", "The model's chance it spends under 80% of its budget tomorrow, "
                "including the dip the whole account usually has that weekday."),
            "pace_7d": st.column_config.NumberColumn("Pace, last 7 days", format="percent",
                                                     help="Spend / budget over the last 7 days."),
            "budget": ui.money_column("Daily budget", snap.currency),
            "spend_month_to_date": ui.money_column("Spent this month", snap.currency),
            "budget_left_in_month": ui.money_column("Budget left this month", snap.currency),
            "action": st.column_config.TextColumn("What to do", width="large"),
        },
    )

    if not rows.empty:
        top = rows.head(20).iloc[::-1]
        fig = go.Figure()
        fig.add_bar(y=top["adset_name"], x=top["budget"], name="Daily budget", orientation="h",
                    marker_color="#cfd8dc")
        fig.add_bar(y=top["adset_name"], x=top["budget"] * top["pace_7d"], name="Average daily spend, last 7 days",
                    orientation="h", marker_color="#1565c0")
        fig.update_layout(barmode="overlay", title=f"Budget against spend, the {len(top)} riskiest ad sets "
                                                   f"({snap.currency})")
        ui.chart(fig, "pacing_adsets", height=max(300, 24 * len(top) + 100))

    st.subheader("Recommended actions")
    if at_risk.empty:
        st.success("No ad set in this filter is at risk of under-spending tomorrow.")
    for r in at_risk.head(10).itertuples():
        st.markdown(f"- **{adsets.get(r.adset_id, r.adset_id)}** ({names.get(r.campaign_id, r.campaign_id)}): {r.action}")
    if len(at_risk) > 10:
        st.caption(f"… and {len(at_risk) - 10} more in the table above.")
    worst = at_risk.iloc[0] if not at_risk.empty else None
    below = int((rows["p_under_pace"] >= AT_RISK).sum())
    fallback = (f"{len(at_risk)} of {len(rows)} ad sets are likely to under-spend tomorrow, holding "
                f"{ui.money(left, snap.currency)} of budget left this month")
    if below > len(at_risk):
        fallback += (f"; {below - len(at_risk)} more will likely spend below budget only as the whole account usually "
                     f"does on a {day:%A}")
    if worst is not None:
        fallback += (f"; the riskiest is {adsets.get(worst.adset_id, worst.adset_id)} at "
                     f"{worst.p_under_weekday_pace:.0%}, spending {ui.percent(worst.pace_7d)} of its budget")
    ui.summary("ad-set pacing risk", {
        "adsets": len(rows), "at_risk": len(at_risk), "below_budget_as_usual_for_the_weekday": below - len(at_risk),
        "budget_left_at_risk": float(left),
        "riskiest": {"adset": adsets.get(worst.adset_id, worst.adset_id),
                     "p_under_weekday_pace": float(worst.p_under_weekday_pace),
                     "pace_7d": float(worst.pace_7d)} if worst is not None else None,
    }, fallback + ".")

st.subheader("Budget against spend per day")
daily = data.daily(snap)
per_day = flt.apply(daily).groupby("date")[["spend", "daily_budget"]].sum(min_count=1) if not daily.empty else None
if no_ads:
    ui.needs_ads("Budget against spend", "Spend comes from ads.csv, the daily budgets from adsets.csv.")
elif per_day is None or "daily_budget" not in per_day or per_day["daily_budget"].isna().all():
    ui.not_computed("Daily budgets", "This data has no budgets: add adsets.csv (the ad sets' daily budgets) beside "
                    "ads.csv, then run the pipeline again.")
else:
    fig = go.Figure()
    fig.add_scatter(x=per_day.index, y=per_day["daily_budget"], name="Daily budget", mode="lines",
                    line={"color": "#90a4ae", "dash": "dash"})
    fig.add_scatter(x=per_day.index, y=per_day["spend"], name="Spend", mode="lines", line={"color": "#1565c0"},
                    fill="tozeroy", fillcolor="rgba(21,101,192,0.12)")
    fig.update_layout(title=f"Spend against budget, {flt.start:%d %b} to {flt.end:%d %b} ({snap.currency})")
    ui.chart(fig, "pacing_daily")
    pace = ui.ratio(per_day["spend"].sum(), per_day["daily_budget"].sum())
    ui.summary("spend against budget", {"days": flt.days, "spend": float(per_day["spend"].sum()),
                                        "budget": float(per_day["daily_budget"].sum()), "pace": pace},
               f"Over these {flt.days} days the ad sets spent {ui.percent(pace)} of their budgets.")
