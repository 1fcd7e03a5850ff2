"""Leaderboards: campaigns and ad sets ranked by ELV per unit of spend, with their guardrails in words. A campaign's
ELV is the sum of its leads' ELV, each lead valued on its own by the value model."""

import plotly.express as px
import streamlit as st

from dashboard import data, filters, ui

snap, flt = data.current(), filters.current()
names = data.campaign_names(snap)
st.title("Leaderboards")


def column_config(currency: str) -> dict:
    return {
        "rank": st.column_config.NumberColumn("Rank", format="%d", help="Blank: not ranked (see the guardrails)."),
        "campaign_name": "Campaign", "adset_name": "Ad set",
        "spend": ui.money_column("Spend", currency),
        "leads": ui.count_column("Leads"),
        "qualified_so_far": ui.count_column("Qualified so far"),
        "predicted_qualified": ui.count_column("Predicted qualified", 1),
        "predicted_elv": ui.money_column("Predicted ELV", currency, help=ELV_HELP),
        "predicted_elv_at_creation": ui.money_column("Predicted ELV at creation", currency,
                                                     help="The sum of its leads' ELV as scored when they came in."),
        "elv_per_spend": ui.count_column("ELV per unit of spend", 2, help="Predicted ELV / spend."),
        "cpl": ui.money_column("CPL", currency, 2),
        "cost_per_predicted_qualified": ui.money_column("Cost per predicted qualified", currency, 2),
        "low_volume": st.column_config.CheckboxColumn("Low volume", help="Too few leads in the window to rank."),
    }


ELV_HELP = ("The sum of its leads' ELV: each lead's chance to qualify x what that lead is worth if it qualifies "
            "(learned per lead by the value model).")
COLUMNS = ["rank", "spend", "leads", "qualified_so_far", "predicted_qualified", "predicted_elv",
           "predicted_elv_at_creation", "elv_per_spend", "cpl", "cost_per_predicted_qualified", "low_volume"]


def guardrails(board, level: str) -> list[str]:
    notes = []
    low = board[board["low_volume"].astype(bool)]
    if not low.empty:
        notes.append(f"{len(low)} {level}(s) with too few leads in the window are flagged **low volume** and not "
                     f"ranked (at most {int(low['leads'].max())} leads): a handful of leads cannot support a comparison.")
    if board["spend"].isna().all():
        notes.append(f"There is no spend in this data: ranked by predicted ELV instead of ELV per spend, which "
                     f"{ui.NEEDS_ADS}.")
    unattributed = board[board["campaign_id"] == data.UNATTRIBUTED]
    if not unattributed.empty:
        notes.append(f"Leads tied to no campaign are shown as {data.UNATTRIBUTED} and never ranked.")
    return notes


def board(name: str, level: str, label_col: str) -> None:
    frame = data.table(snap, name)
    if frame is None:
        ui.not_computed(f"The {level} leaderboard")
        return
    if frame.empty:
        reason = data.check(snap, f"gold/{name}", "enabled")
        why = (reason or {}).get("description") or data.skipped(snap, f"gold/{name}") or "The pipeline left it empty."
        st.warning(f"**The {level} leaderboard is empty.** {why}", icon="🚧")
        return
    window = f"{frame['window_start'].iloc[0]} to {frame['window_end'].iloc[0]}"
    rows = frame[flt.campaign_mask(frame["campaign_id"]) | ((frame["campaign_id"] == data.UNATTRIBUTED)
                                                            & (not flt.narrowed))]
    rows = rows.sort_values(["rank", "predicted_elv"], ascending=[True, False], na_position="last")
    st.caption(f"Leads created and money spent from {window} (the leaderboard's own 28-day window). Predicted ELV "
               f"is the sum of the {level}'s leads' ELV, each lead valued on its own: its chance to qualify x what it "
               "is worth if it qualifies. Predicted qualified and predicted ELV count what is known today: a lead "
               "that has qualified counts in full, one whose window closed without it counts nothing, and a younger "
               "one the chance it still has at its age (Predicted ELV at creation is the sum as first scored).")
    if rows.empty:
        st.info("No rows for this filter.")
        return
    shown = rows.copy()
    named = shown["campaign_name"] if "campaign_name" in shown.columns else shown["campaign_id"].map(names)
    shown["campaign_name"] = named.fillna(shown["campaign_id"])
    if label_col == "adset_name":
        shown["adset_name"] = shown["adset_name"].fillna(shown["adset_id"])
    cols = [label_col] + (["campaign_name"] if label_col != "campaign_name" else []) + COLUMNS
    ui.table(shown[[c for c in cols if c in shown.columns]], hide_index=True,
             column_config=column_config(snap.currency))
    every_ranked = shown[shown["rank"].notna()]
    ranked = every_ranked.head(15)
    metric = "elv_per_spend" if rows["elv_per_spend"].notna().any() else "predicted_elv"
    if not ranked.empty:
        measure = "ELV per unit of spend" if metric == "elv_per_spend" else "predicted ELV"
        top = f"The top {len(ranked)} {level}s" if len(every_ranked) > len(ranked) else f"{level.capitalize()}s"
        fig = px.bar(ranked.iloc[::-1], x=metric, y=label_col, orientation="h", title=f"{top} by {measure}",
                     labels={metric: measure, label_col: ""})
        fig.update_traces(marker_color="#1565c0")
        ui.chart(fig, f"board_{level}", height=max(260, 28 * len(ranked) + 80))
    for note in guardrails(rows, level):
        st.caption(f"⚠️ {note}")
    best, worst = (every_ranked.iloc[0], every_ranked.iloc[-1]) if not every_ranked.empty else (None, None)
    if best is not None:
        def say(value) -> str:
            return (f"{value:.2f} of ELV per unit of spend" if metric == "elv_per_spend"
                    else f"{ui.money(value, snap.currency)} of predicted ELV")

        fallback = f"{best[label_col]} returns the most: {say(best[metric])}"
        if len(every_ranked) > 1:
            fallback += f", against {say(worst[metric])} for {worst[label_col]}, the lowest ranked"
        ui.summary(f"{level} leaderboard by ELV per spend", {
            "window": window, "ranked": len(every_ranked), "low_volume": int(rows["low_volume"].sum()),
            "best": {"name": str(best[label_col]), metric: float(best[metric])},
            "lowest_ranked": {"name": str(worst[label_col]), metric: float(worst[metric])},
        }, fallback + ".")


if data.no_crm(snap):
    ui.needs_crm("This page", "The leaderboards rank campaigns and ad sets by the value of the leads they bought.")
    st.stop()
st.subheader("Campaigns")
board("campaign_leaderboard", "campaign", "campaign_name")
st.subheader("Ad sets")
board("adset_leaderboard", "ad set", "adset_name")
