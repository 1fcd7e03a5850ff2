"""What-if budgets: move daily budget between ad sets and see the expected change in qualified leads, bookings
and ELV, with its likely range; or apply the recommended budgets. The arithmetic is elv_assets.ml.reallocation
on the spend response curves of the snapshot. An ad set's ELV is the sum of its leads' ELV, each lead valued on
its own by the value model. Without CRM leads (an ad export alone) the curves relate spend to the platforms'
reported conversions and their value instead, and the page says so in its labels."""

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from dashboard import data, filters, ui
from elv_assets.contracts.budget import OUTCOME_NAMES
from elv_assets.ml.reallocation import active_curves, recommend, what_if
from elv_assets.ml.response import saturating

DEFAULT_MAX_CHANGE = 0.3  # the pipeline's recommendation uses the same limit
PICK = 5  # ad sets offered as sliders at first: those the recommendation moves most
BUDGETS = "wi_budgets"  # session state: ad set id -> daily budget of the plan being tried
PLATFORM_OUTCOME = OUTCOME_NAMES[1]  # the curves' outcome when there are no scored leads

snap, flt = data.current(), filters.current()
names, adsets = data.campaign_names(snap), data.adset_names(snap)
cur = snap.currency
st.title("What-if budgets")

curves = data.table(snap, "spend_response")
if data.no_ads(snap):
    ui.needs_ads("This page", "The what-if learns from each ad set's daily spend how its results move with budget.")
    st.stop()
if curves is None or curves.empty:
    check = data.check(snap, "gold/spend_response", "enabled") or {}
    ui.not_computed("Spend response curves", check.get("description") or data.skipped(snap, "gold/spend_response")
                    or "The what-if needs each ad set's spend and results over time (ads.csv with spend).")
    st.stop()
on_conversions = bool((curves["outcome"] == PLATFORM_OUTCOME).any()) if "outcome" in curves.columns else False
# What each measure is called: (in a sentence, as a heading, as money?). Bookings need CRM leads.
MEASURES = ({"qualified": ("platform conversions", "Conversions per day", False),
             "elv": ("reported conversion value", "Conversion value per day", True)} if on_conversions else
            {"qualified": ("qualified leads", "Qualified leads per day", False),
             "bookings": ("bookings", "Bookings per day", False),
             "elv": ("expected lead value", "ELV per day", True)})
VALUE, VALUE_TITLE = ("conversion value", "Conversion value") if on_conversions else ("ELV", "ELV")
if on_conversions:
    ui.needs_crm("Lead value", "Until then these curves relate spend to the platforms' own reported conversions and "
                 "the value the platforms report for them.")
else:
    st.caption("An ad set's ELV is the sum of its leads' ELV, each lead valued on its own: its chance to qualify x "
               "what it is worth if it qualifies. The curves learn how that sum moves with daily spend.")
active = active_curves(curves)
if active.empty:
    st.info("No ad set has spent lately, so there is no budget to move.")
    st.stop()
current = dict(zip(active["adset_id"], active["current_budget"].astype(float), strict=True))
max_spend = dict(zip(active["adset_id"], active["max_spend"].astype(float), strict=True))


def label(adset_id: str) -> str:
    return adsets.get(adset_id, adset_id)


@st.cache_data(max_entries=16, show_spinner=False)
def recommended(version: str, total: float, max_change: float):
    """The recommendation for this total and limit (the published table for the pipeline's own settings), whether
    it is feasible, its note, its budgets (ad set id -> daily budget) and their expected change."""
    table = data.table(snap, "budget_recommendation")
    if table is not None and abs(total - sum(current.values())) < 0.5 and max_change == DEFAULT_MAX_CHANGE:
        rec, feasible, note = table, True, ""  # shared and read-only: this page never modifies rec
    else:
        rec = recommend(curves, total_budget=total, max_change=max_change)
        feasible, note = rec.attrs.get("feasible", True), rec.attrs.get("note", "")
    budgets = dict(zip(rec["adset_id"], rec["recommended_budget"].astype(float), strict=True))
    return rec, feasible, note, budgets, what_if(curves, budgets)


def formatter(is_money: bool):
    return (lambda v: ui.signed_money(v, cur)) if is_money else (lambda v: ui.signed(v, 1))


def plain(result: dict) -> str:
    parts = []
    for key, (what, _, is_money) in MEASURES.items():
        r, fmt = result[key], formatter(is_money)
        parts.append(f"**{fmt(r['change'])} {what}** (likely {fmt(r['p10'])} to {fmt(r['p90'])})")
    return (f"a total daily budget of {ui.money(result['budget']['new'], cur)} (now "
            f"{ui.money(result['budget']['current'], cur)}) is expected to bring, per day, " + ", ".join(parts[:-1])
            + f" and {parts[-1]}.")


def apply_plan(budgets: dict[str, float]) -> None:
    """Budgets in whole units of money, as a platform takes them; the sliders follow."""
    st.session_state[BUDGETS] = {a: float(round(v)) for a, v in budgets.items()}
    for adset_id, value in st.session_state[BUDGETS].items():
        st.session_state[f"wi_b_{adset_id}"] = value


def reset_plan() -> None:
    st.session_state[BUDGETS] = {}
    for adset_id, value in current.items():
        st.session_state[f"wi_b_{adset_id}"] = float(round(value))


# --- the recommendation -----------------------------------------------------------------------------------------
st.subheader("Recommended budgets")
c1, c2 = st.columns(2)
total = c1.number_input(f"Total daily budget ({cur})", min_value=0.0, value=float(round(sum(current.values()), 2)),
                        step=100.0, key="wi_total")
max_change = c2.slider("Most change per ad set", 0.05, 1.0, DEFAULT_MAX_CHANGE, 0.05, format="percent",
                       key="wi_max_change")
rec, feasible, note, rec_budgets, rec_result = recommended(snap.version, float(total), float(max_change))
if not feasible:
    st.warning(note)
st.markdown("If you apply them, " + plain(rec_result))
st.button("Apply the recommended budgets", on_click=apply_plan, args=(rec_budgets,), type="primary",
          help="Sets every slider below to its recommended budget.")
shown = flt.apply(rec, date_col=None).copy()
shown["adset_name"] = shown["adset_id"].map(label)
ui.table(
    shown.sort_values("change", key=np.abs, ascending=False)[
        ["adset_name", "current_budget", "recommended_budget", "change_pct", "expected_elv_change", "reason"]],
    hide_index=True,
    column_config={"adset_name": "Ad set", "current_budget": ui.money_column("Budget now", cur),
                   "recommended_budget": ui.money_column("Recommended", cur),
                   "change_pct": st.column_config.NumberColumn("Change", format="percent"),
                   "expected_elv_change": ui.money_column(f"{VALUE_TITLE} change per day", cur),
                   "reason": st.column_config.TextColumn("Why", width="large")},
)

# --- your own plan ----------------------------------------------------------------------------------------------
st.subheader("Try your own budgets")
plan: dict[str, float] = st.session_state.setdefault(BUDGETS, {})
by_id = active.set_index("adset_id")
offered = [a for a in active["adset_id"] if flt.allowed is None or by_id.loc[a, "campaign_id"] in flt.allowed]
by_move = sorted(offered, key=lambda a: -abs(rec_budgets.get(a, current[a]) - current[a]))
# A filter change may remove remembered ad sets from the options; a widget refuses unknown values.
st.session_state["wi_pick"] = [a for a in st.session_state.get("wi_pick", by_move[:PICK]) if a in offered]
picked = st.multiselect("Ad sets to adjust", offered, format_func=label, key="wi_pick")
for adset_id in picked:
    key = f"wi_b_{adset_id}"
    top = float(np.ceil(max(current[adset_id], max_spend[adset_id]) * 1.5 / 10) * 10)
    if key not in st.session_state:
        st.session_state[key] = float(round(plan.get(adset_id, current[adset_id])))
    st.session_state[key] = min(max(st.session_state[key], 0.0), top)
    value = st.slider(f"{label(adset_id)} (now {ui.money(current[adset_id], cur)}, has spent at most "
                      f"{ui.money(max_spend[adset_id], cur)} a day)", 0.0, top, step=1.0, key=key,
                      format=f"{ui.symbol(cur)}%.0f")
    if abs(value - current[adset_id]) >= 0.5:
        plan[adset_id] = value
    else:
        plan.pop(adset_id, None)
st.button("Back to the current budgets", on_click=reset_plan)

if not plan:
    st.info("Move a slider (or apply the recommended budgets) to see what changes.")
else:
    result = what_if(curves, plan)
    st.markdown("With your budgets, " + plain(result))
    for col, (key, (_, title, is_money)) in zip(st.columns(len(MEASURES)), MEASURES.items(), strict=True):
        r, fmt = result[key], formatter(is_money)
        col.metric(title, fmt(r["change"]), help=f"Likely between {fmt(r['p10'])} and {fmt(r['p90'])} (10th to "
                   "90th percentile of the curves' bootstrap).", border=True)
    if result["note"]:
        st.caption(result["note"])
    per = result["per_adset"]
    per = per[per["adset_id"].isin(plan)].copy()
    per["name"] = per["adset_id"].map(label)
    per["budget_change"] = [result["budgets"][a] - current[a] for a in per["adset_id"]]
    fig = go.Figure()
    fig.add_bar(x=per["name"], y=per["budget_change"], name=f"Budget change ({cur}/day)", marker_color="#90a4ae")
    fig.add_bar(x=per["name"], y=per["expected_elv_change"], name=f"Expected {VALUE} change ({cur}/day)",
                marker_color="#1565c0",
                error_y={"type": "data", "symmetric": False,
                         "array": per["expected_elv_change_p90"] - per["expected_elv_change"],
                         "arrayminus": per["expected_elv_change"] - per["expected_elv_change_p10"]})
    fig.update_layout(barmode="group", title=f"Per ad set: the budget you moved and the {VALUE} it is expected to buy")
    ui.chart(fig, "whatif_bars")
    elv = result["elv"]
    ui.summary("budget what-if", {
        "budget_now": result["budget"]["current"], "budget_new": result["budget"]["new"], "adsets_changed": len(plan),
        **{what.replace(" ", "_") + "_change": result[k]["change"] for k, (what, _, _) in MEASURES.items()},
        "value_change_p10": elv["p10"], "value_change_p90": elv["p90"],
    }, f"These {len(plan)} changes are expected to {'add' if elv['change'] >= 0 else 'lose'} about "
       f"{ui.money(abs(elv['change']), cur)} of {VALUE} a day (likely "
       f"{ui.signed_money(elv['p10'], cur)} to {ui.signed_money(elv['p90'], cur)}).")

with st.expander("Why: an ad set's response curve"):
    chosen = st.selectbox("Ad set", list(active["adset_id"]), format_func=label, key="wi_curve")
    row = by_id.loc[chosen]
    grid = np.linspace(0, max(row["max_spend"], row["current_budget"]) * 1.5, 120)
    fig = go.Figure()
    fig.add_scatter(x=grid, y=saturating(grid, row["a_elv"], row["h_elv"]), name=f"Expected {VALUE} per day",
                    mode="lines", line={"color": "#1565c0"})
    new = min(plan.get(chosen, current[chosen]), row["max_spend"])
    for x, name, colour in ((min(row["current_budget"], row["max_spend"]), "now", "#37474f"), (new, "your plan", "#ef6c00")):
        fig.add_scatter(x=[x], y=[saturating(x, row["a_elv"], row["h_elv"])], name=name, mode="markers",
                        marker={"size": 11, "color": colour})
    fig.add_vline(x=row["max_spend"], line_dash="dot", annotation_text="most it has spent in a day")
    fig.update_layout(xaxis_title=f"Daily spend ({cur})", yaxis_title=f"{VALUE_TITLE} per day ({cur})",
                      title="More spend buys less and less: each extra unit is worth the slope here")
    ui.chart(fig, "whatif_curve")
