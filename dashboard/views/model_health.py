"""Model health: the serving model and what it learned from, what a qualified lead is worth (the value model) and
the check of that value on leads it never saw, the lead columns the leakage guard left out, how the model does
against the business baselines, its calibration and lift, the promotion history and the reasons it gives most."""

import re

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboard import data, ui
from elv_assets.ml.metrics import DEFAULT_FRACTIONS

SCORES = {"model": "The model", "campaign_rate": "Campaign's past rate", "campaign_cpl": "Cheapest CPL first"}
METRICS = {"pr_auc": "PR-AUC", "roc_auc": "ROC-AUC", "brier": "Brier", "ece_width": "Calibration error (ECE)",
           "lift_10": "Lift, top 10%", "capture_10": "Qualified found in top 10%"}
TOPS = tuple(round(f * 100) for f in DEFAULT_FRACTIONS)  # the evaluation's lift_<k> keys: top 5, 10, 20%
ALL_MATURE, HELD_OUT = "all mature leads", "train split"  # the model document's trained_on (ml/bundle.py)
BAND_SE = 3.0  # the value check's band in standard errors, unless its check names another (ValueConfig.band_se)
# How a qualified lead's value is found, by the value model's source: (in a few words, in a sentence).
VALUE_SOURCES = {
    "learned": ("Learned per lead", "What a lead is worth if it qualifies is its chance of a won deal x its deal "
                "size if won, both learned from the lead's own fields and, only as far as a check on the newest "
                "leads supports it, its platform, campaign and ad set."),
    "pooled": ("Campaign average", "Too few won deals to learn per lead: a qualified lead is worth its campaign's "
               "average, small campaigns pulled towards the overall average."),
    "configured": ("One set value", "A value per qualified lead set in the configuration, the same for every lead."),
    "no revenue": ("1 per qualified lead", "No won revenue on record (outcomes.csv has no deal values yet): every "
                   "qualified lead counts as 1, so ELV is the expected number of qualified leads, not money. Add "
                   "won_at and revenue to outcomes.csv, or set qualified_lead_value."),
}

snap = data.current()
st.title("Model health")


def day(value) -> str:
    return str(value or "")[:10]


def serving(model: dict) -> None:
    b = model.get("boundaries", {})
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Serving model", f"{model['kind']}", help=f"{model.get('calibration')} calibration", border=True)
    c2.metric("Trained in run", str(model.get("trained_in_run", ""))[:8], help=f"as of {model.get('as_of')}", border=True)
    c3.metric("Label window", f"{model.get('window_days')} days", help="Qualified within this many days.", border=True)
    c4.metric("Serves after learning from", {ALL_MATURE: "All mature leads", HELD_OUT: "The train split"}.get(
        model.get("trained_on"), ui.NONE), help=f"Leads created up to {day(model.get('trained_until'))}.", border=True)
    st.caption(f"Trained on leads from {day(b.get('first'))} to {day(b.get('calib_start'))}, calibrated to "
               f"{day(b.get('test_start'))}, tested to {day(b.get('last'))}. {served_as(model)}")


def served_as(model: dict) -> str:
    """Which version serves, and which one the test figures describe."""
    until = day(model.get("trained_until"))
    if model.get("trained_on") == ALL_MATURE:
        return (f"Having passed its test, it was refitted on all mature leads (created up to {until}) to serve; the "
                "test figures on this page are those of the held-out version, fitted on the train split only and "
                "tested on later leads it never saw.")
    if model.get("trained_on") == HELD_OUT:
        return (f"It serves as fitted on the train split (leads up to {until}); the test figures on this page are its "
                "own, on later leads it never saw.")
    return ""


def value_model(model: dict, check: dict | None) -> None:
    value = model.get("value_per_qualified") or {}
    learned = value.get("learned_from") or {}
    words, sentence = VALUE_SOURCES.get(value.get("source"), (value.get("source") or ui.NONE, ""))
    window = (check or {}).get("value_window_days")
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Value found by", words, help=sentence, border=True)
    c2.metric("Average value if qualified", ui.money(value.get("overall"), snap.currency), border=True,
              help="Across leads; each lead has its own value (see the Leads page).")
    c3.metric("Learned from", f"{ui.number(learned.get('qualified'))} qualified", border=True,
              help="Qualified leads whose value window has closed.")
    c4.metric("Won among them", ui.number(learned.get("won")), border=True,
              help=f"Deals won within {window} days of qualifying." if window else None)
    within = (check or {}).get("wins_within_window")
    closed = (f" {ui.percent(within)} of the wins on record closed within that window; a later deal does not count."
              if within is not None else "")
    st.caption("ELV is per lead: a lead's chance to qualify x what this lead is worth if it qualifies. "
               f"{sentence} It learns from qualified leads whose "
               f"{f'{window}-day ' if window else ''}value window has closed: the revenue of a deal won within it, "
               f"else nothing.{closed}")


def band_width(snap: data.Snapshot) -> float:
    """How many standard errors the value check's band spans (its check says; else the default)."""
    said = (data.check(snap, "ml/value_model", "value_calibration") or {}).get("description", "")
    found = re.search(r"([\d.]+) standard errors", said)
    return float(found.group(1)) if found else BAND_SE


def value_chart(deciles: pd.DataFrame, band: float) -> go.Figure:
    upper = deciles["predicted"] + band * deciles["se"]
    lower = (deciles["predicted"] - band * deciles["se"]).clip(lower=0)
    fig = go.Figure()
    fig.add_scatter(x=deciles["decile"], y=upper, mode="lines", line={"width": 0}, showlegend=False, hoverinfo="skip")
    fig.add_scatter(x=deciles["decile"], y=lower, mode="lines", line={"width": 0}, fill="tonexty",
                    fillcolor="rgba(21,101,192,0.15)", name=f"Band: predicted ± {band:g} standard errors",
                    hoverinfo="skip")
    fig.add_scatter(x=deciles["decile"], y=deciles["predicted"], mode="lines+markers", name="Predicted",
                    line={"color": "#1565c0"}, hovertemplate="decile %{x}<br>predicted %{y:,.0f}<extra></extra>")
    inside = deciles["within_band"].astype(bool)
    fig.add_scatter(x=deciles["decile"], y=deciles["realised"], mode="markers", name="Realised",
                    marker={"size": 11, "color": inside.map({True: "#2e7d32", False: "#c62828"}),
                            "symbol": inside.map({True: "circle", False: "x"})},
                    customdata=deciles[["leads", "won"]],
                    hovertemplate="decile %{x}<br>realised %{y:,.0f}<br>%{customdata[0]} leads, "
                                  "%{customdata[1]} won<extra></extra>")
    fig.update_layout(title="Value of a qualified lead: predicted against realised, on leads the model never saw",
                      xaxis={"title": "Tenth of leads by predicted value (1 = lowest)", "dtick": 1},
                      yaxis_title=f"Mean value per qualified lead ({snap.currency})")
    return fig


def value_check(check: dict | None) -> None:
    deciles = pd.DataFrame((check or {}).get("deciles") or [])
    if deciles.empty:
        said = (data.check(snap, "ml/value_model", "value_calibration") or {}).get("description")
        st.info(f"**The value check did not run.** {said or 'Too few qualified leads the value model never saw.'}")
        return
    band = band_width(snap)
    st.caption(f"The value model that was tested learned from the train split only; these "
               f"{ui.number(check.get('held_out_leads'))} qualified leads came later. A tenth whose realised value "
               f"lies within {band:g} standard errors of the predicted one passes: with few won deals in a tenth, "
               "luck alone moves the realised mean a lot.")
    left, right = st.columns([3, 2])
    with left:
        ui.chart(value_chart(deciles, band), "mh_value_check")
    with right:
        ui.table(deciles[["decile", "leads", "won", "predicted", "realised", "se", "within_band"]],
                 hide_index=True, column_config={
                     "decile": "Tenth", "leads": ui.count_column("Qualified leads"), "won": ui.count_column("Won"),
                     "predicted": ui.money_column("Predicted", snap.currency),
                     "realised": ui.money_column("Realised", snap.currency),
                     "se": ui.money_column("Standard error", snap.currency),
                     "within_band": st.column_config.CheckboxColumn("Within the band")})
    outside = deciles.loc[~deciles["within_band"].astype(bool), "decile"].tolist()
    first, last = deciles.iloc[0], deciles.iloc[-1]
    fallback = (f"Realised value lies within the band in {len(deciles) - len(outside)} of {len(deciles)} tenths"
                + (f" (outside: {', '.join(map(str, outside))})" if outside else "")
                + f"; from the lowest tenth to the highest, predicted value goes from "
                  f"{ui.money(first['predicted'], snap.currency)} to {ui.money(last['predicted'], snap.currency)} and "
                  f"realised from {ui.money(first['realised'], snap.currency)} to "
                  f"{ui.money(last['realised'], snap.currency)}.")
    ui.summary("value of a qualified lead, predicted against realised on held-out leads", {
        "held_out_leads": check.get("held_out_leads"), "band_standard_errors": band, "deciles_outside_band": outside,
        "deciles": deciles[["decile", "predicted", "realised", "won"]].to_dict("records")}, fallback)
    by_campaign = pd.DataFrame(check.get("by_campaign") or [])
    if not by_campaign.empty:
        names = data.campaign_names(snap)
        by_campaign["campaign"] = by_campaign["campaign"].map(lambda c: names.get(c, c))
        st.markdown("**Per campaign** (the same held-out qualified leads; totals)")
        ui.table(by_campaign[["campaign", "qualified", "won", "predicted", "realised"]], hide_index=True,
                 column_config={"campaign": "Campaign", "qualified": ui.count_column("Qualified leads"),
                                "won": ui.count_column("Won"),
                                "predicted": ui.money_column("Predicted value", snap.currency),
                                "realised": ui.money_column("Realised value", snap.currency)})
        st.caption("A campaign with a handful of won deals can land far from its prediction by luck alone: one big "
                   "deal more or less moves its total a lot.")


def leakage_guard(excluded: dict) -> None:
    st.caption("A lead column that looks filled in after contact (by sales, once they know how the lead went) "
               "would make the model look better in testing than it is on new leads: the guard keeps such columns "
               "out of every model.")
    if not excluded:
        st.markdown("Left out: **none**. No lead column looks filled in after contact.")
        return
    ui.table(pd.DataFrame({"column": list(excluded), "why": ["; ".join(r) for r in excluded.values()]}),
             hide_index=True, column_config={"column": "Lead column",
                                             "why": st.column_config.TextColumn("Why it was left out", width="large")})


def baselines(evaluation: dict, model: dict | None) -> None:
    metrics = pd.DataFrame(evaluation["metrics"]).T
    table = metrics.reindex([s for s in SCORES if s in metrics.index])[[m for m in METRICS if m in metrics.columns]]
    table.index = [SCORES[s] for s in table.index]
    ui.table(table.rename(columns=METRICS).astype(float), column_config={
        c: st.column_config.NumberColumn(c, format="%.3f") for c in METRICS.values()})
    refitted = (model or {}).get("trained_on") == ALL_MATURE
    st.caption("Higher is better for PR-AUC, ROC-AUC, lift and share found; lower for Brier and calibration error. "
               "The CPL baseline is a ranking, not a probability, so it has no Brier or calibration error."
               + (" These are the held-out version's figures: the serving model is the same recipe refitted on all "
                  "mature leads, which leaves no later leads to test it on." if refitted else ""))
    m = evaluation["metrics"]["model"]
    base = evaluation["metrics"].get("campaign_rate", {})
    ui.summary("lead model against baselines", {
        "model_pr_auc": m.get("pr_auc"), "campaign_rate_pr_auc": base.get("pr_auc"), "model_lift_10": m.get("lift_10"),
        "model_capture_10": m.get("capture_10"), "ece": m.get("ece_width"), "n_test": evaluation.get("n_test"),
    }, f"On {evaluation.get('n_test', 0):,} test leads the top 10% by score hold {ui.percent(m.get('capture_10'))} of "
       f"the qualified ones ({ui.number(m.get('lift_10'), 1)} times the average); PR-AUC {ui.number(m.get('pr_auc'), 3)} "
       f"against {ui.number(base.get('pr_auc'), 3)} for each campaign's past rate.")
    left, right = st.columns(2)
    with left:
        reliability(evaluation, m)
    with right:
        lift(evaluation, m, base)


def reliability(evaluation: dict, m: dict) -> None:
    strategy = st.segmented_control("Reliability bins", ["mass", "width"], default="mass", key="mh_bins",
                                    format_func=lambda s: {"mass": "equal count", "width": "equal width"}[s]) or "mass"
    rel = pd.DataFrame(evaluation.get(f"reliability_{strategy}", {}))
    fig = go.Figure()
    fig.add_scatter(x=[0, 1], y=[0, 1], mode="lines", name="Perfect calibration",
                    line={"color": "#90a4ae", "dash": "dash"})
    if not rel.empty:
        fig.add_scatter(x=rel["p_mean"], y=rel["y_rate"], mode="lines+markers", name="The model",
                        marker={"size": 8}, line={"color": "#1565c0"}, text=rel["n"],
                        hovertemplate="predicted %{x:.1%}<br>qualified %{y:.1%}<br>%{text} leads")
    fig.update_layout(title="Reliability: predicted against actual",
                      xaxis_title="Predicted chance to qualify", yaxis_title="Share that qualified",
                      xaxis_tickformat=".0%", yaxis_tickformat=".0%")
    ui.chart(fig, "mh_reliability")
    fallback = f"Predicted chances are off by {ui.percent(m.get('ece_width'), 1)} on average (calibration error)"
    if not rel.empty:
        high = rel.iloc[-1]
        fallback += (f"; for the leads it rates highest it predicted {high['p_mean']:.0%} and "
                     f"{high['y_rate']:.0%} qualified")
    ui.summary("model calibration", {"ece": m.get("ece_width"), "ece_equal_count": m.get("ece_mass"),
                                     "top_bin": rel.iloc[-1][["p_mean", "y_rate", "n"]].to_dict()
                                     if not rel.empty else None}, fallback + ".")


def lift(evaluation: dict, m: dict, base: dict) -> None:
    lifts = pd.DataFrame([{"score": SCORES.get(s, s), "top": f"top {k}%", "lift": v.get(f"lift_{k}")}
                          for s, v in evaluation["metrics"].items() for k in TOPS])
    fig = go.Figure()
    for score, part in lifts.groupby("score", sort=False):
        fig.add_bar(x=part["top"], y=part["lift"], name=score)
    fig.add_hline(y=1, line_dash="dot", annotation_text="random")
    fig.update_layout(barmode="group", title="Lift: the top of the list against the average",
                      yaxis_title="times the average rate")
    ui.chart(fig, "mh_lift")
    ui.summary("model lift", {"lift_5": m.get("lift_5"), "lift_10": m.get("lift_10"), "lift_20": m.get("lift_20"),
                              "campaign_rate_lift_10": base.get("lift_10")},
               f"The top 5% of leads by score qualify {ui.number(m.get('lift_5'), 1)} times as often as the "
               f"average lead; ranking by the campaign's past rate gives {ui.number(base.get('lift_5'), 1)}.")


def promotion_history() -> None:
    promotions = data.document(snap, "promotions")
    if not promotions:
        ui.not_computed("Promotion decisions")
        return
    history = pd.DataFrame(promotions).iloc[::-1]
    cols = [c for c in ["decided_at", "promote", "model", "as_of", "new_pr_auc", "serving_pr_auc", "new_ece", "reason"]
            if c in history.columns]
    ui.table(history[cols], hide_index=True, column_config={
        "decided_at": "Decided", "promote": st.column_config.CheckboxColumn("Promoted"), "model": "Model",
        "as_of": "As of", "new_pr_auc": st.column_config.NumberColumn("New PR-AUC", format="%.3f"),
        "serving_pr_auc": st.column_config.NumberColumn("Serving PR-AUC", format="%.3f"),
        "new_ece": st.column_config.NumberColumn("New ECE", format="%.4f"),
        "reason": st.column_config.TextColumn("Why", width="large")})


def top_reasons() -> None:
    reasons = data.reason_counts(snap)
    if reasons is None or reasons.empty:
        ui.not_computed("Lead reasons")
        return
    top = reasons.head(12)
    fig = go.Figure()
    fig.add_bar(y=top["feature"].iloc[::-1], x=top["raises"].iloc[::-1], name="raises the chance", orientation="h",
                marker_color="#2e7d32")
    fig.add_bar(y=top["feature"].iloc[::-1], x=top["lowers"].iloc[::-1], name="lowers the chance", orientation="h",
                marker_color="#c62828")
    fig.update_layout(barmode="stack", title="How often each feature is one of a lead's three reasons",
                      xaxis_title="leads")
    ui.chart(fig, "mh_reasons", height=max(300, 26 * len(top) + 100))
    first = top.iloc[0]
    ui.summary("most frequent reasons behind lead scores",
               {"top_features": top[["feature", "mentions", "share_of_leads"]].head(5).to_dict("records")},
               f"The reason the model gives most is {first['feature']}: among the three reasons of "
               f"{first['share_of_leads']:.0%} of leads.")


PACING_ROWS = {"model": "Model, against the budget", "naive": "Today's status, against the budget",
               "weekday_model": "Model, against the weekday's usual pace",
               "weekday_naive": "Today's status, against the weekday's usual pace"}


def other_models() -> None:
    what = "platform conversions" if data.no_crm(snap) else "bookings"  # what the forecast learns without a CRM
    with st.expander(f"The other models: next-day {what} and under-pacing"):
        bookings, pacing = data.document(snap, "bookings_model"), data.document(snap, "pacing_model")
        if bookings is None:
            ui.not_computed("The bookings model", data.skipped(snap, "ml/bookings_model"))
        else:
            overall = bookings["overall"]
            st.markdown(f"**Next-day {what} per ad set** (rolling-origin backtest; lower is better)")
            ui.table(pd.DataFrame({"Model": overall["model"], "7-day average": overall["baseline"]}).T,
                     column_config={c: st.column_config.NumberColumn(c.upper(), format="%.3f")
                                    for c in overall["model"]})
        if pacing is None:
            ui.not_computed("The pacing model", data.skipped(snap, "ml/pacing_risk_model"))
        else:
            st.markdown("**Under-pacing tomorrow**, against the budget and against the usual pace of the weekday "
                        "(test split; higher is better)")
            ui.table(pd.DataFrame(pacing["metrics"]).T.rename(index=PACING_ROWS),
                     column_config={c: st.column_config.NumberColumn(c, format="%.3f")
                                    for c in ("accuracy", "f1", "roc_auc", "pr_auc", "positive_rate")})


def lead_model() -> None:
    model = data.document(snap, "model")
    evaluation = data.document(snap, "evaluation")
    check = data.document(snap, "value_check")
    if model is None:
        ui.not_computed("The serving model", data.skipped(snap, "ml/serving_model")
                        or "No model has been promoted yet (the model needs at least 500 labelled leads).")
    else:
        serving(model)

    st.subheader("What a qualified lead is worth")
    if model is None:
        ui.not_computed("The value model", data.skipped(snap, "ml/value_model"))
    else:
        value_model(model, check)
        st.markdown("**The value check, on qualified leads the value model never saw**")
        value_check(check)

    st.subheader("Lead columns left out by the leakage guard")
    if model is None and evaluation is None:
        ui.not_computed("The leakage guard", data.skipped(snap, "ml/feature_screen"))
    else:
        leakage_guard((model or {}).get("excluded_features") or (evaluation or {}).get("excluded_features") or {})

    st.subheader("Against the baselines, on test leads it never saw")
    if evaluation is None:
        ui.not_computed("The evaluation", data.skipped(snap, "ml/evaluation"))
    else:
        baselines(evaluation, model)

    st.subheader("Promotion history")
    promotion_history()
    st.subheader("Top reasons across leads")
    top_reasons()


if data.no_crm(snap):
    ui.needs_crm("The lead model", "It learns which leads qualify, and what a qualified lead is worth, from the CRM's "
                 "leads and what became of them; its value check and leakage guard need them too.")
else:
    lead_model()
other_models()
