"""Model health: the serving model, how it does against the business baselines, its calibration and lift, the
promotion history and the reasons it gives most often."""

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboard import data, ui
from elv_assets.ml.metrics import DEFAULT_FRACTIONS

SCORES = {"model": "The model", "campaign_rate": "Campaign's past rate", "campaign_cpl": "Cheapest CPL first"}
METRICS = {"pr_auc": "PR-AUC", "roc_auc": "ROC-AUC", "brier": "Brier", "ece_width": "Calibration error (ECE)",
           "lift_10": "Lift, top 10%", "capture_10": "Qualified found in top 10%"}
TOPS = tuple(round(f * 100) for f in DEFAULT_FRACTIONS)  # the evaluation's lift_<k> keys: top 5, 10, 20%

snap = data.current()
st.title("Model health")

model = data.document(snap, "model")
evaluation = data.document(snap, "evaluation")
if model is None:
    ui.not_computed("The serving model", "No model has been promoted yet (the model needs at least 500 labelled leads).")
else:
    b = model.get("boundaries", {})
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Serving model", f"{model['kind']}", help=f"{model.get('calibration')} calibration", border=True)
    c2.metric("Trained in run", str(model.get("trained_in_run", ""))[:8], help=f"as of {model.get('as_of')}", border=True)
    c3.metric("Label window", f"{model.get('window_days')} days", help="Qualified within this many days.", border=True)
    value = (model.get("value_per_qualified") or {}).get("overall")
    c4.metric("Value of a qualified lead", ui.money(value, snap.currency), border=True,
              help="Average, learned from outcomes; each campaign has its own.")
    st.caption(f"Trained on leads from {str(b.get('first', ''))[:10]} to {str(b.get('calib_start', ''))[:10]}, "
               f"calibrated to {str(b.get('test_start', ''))[:10]}, tested to {str(b.get('last', ''))[:10]}.")

st.subheader("Against the baselines (test split)")
if evaluation is None:
    ui.not_computed("The evaluation")
else:
    metrics = pd.DataFrame(evaluation["metrics"]).T
    table = metrics.reindex([s for s in SCORES if s in metrics.index])[[m for m in METRICS if m in metrics.columns]]
    table.index = [SCORES[s] for s in table.index]
    st.dataframe(table.rename(columns=METRICS).astype(float), column_config={
        c: st.column_config.NumberColumn(c, format="%.3f") for c in METRICS.values()})
    st.caption("Higher is better for PR-AUC, ROC-AUC, lift and share found; lower for Brier and calibration error. "
               "The CPL baseline is a ranking, not a probability, so it has no Brier or calibration error.")
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
    with right:
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

st.subheader("Promotion history")
promotions = data.document(snap, "promotions")
if not promotions:
    ui.not_computed("Promotion decisions")
else:
    history = pd.DataFrame(promotions).iloc[::-1]
    cols = [c for c in ["decided_at", "promote", "model", "as_of", "new_pr_auc", "serving_pr_auc", "new_ece", "reason"]
            if c in history.columns]
    st.dataframe(history[cols], hide_index=True, column_config={
        "decided_at": "Decided", "promote": st.column_config.CheckboxColumn("Promoted"), "model": "Model",
        "as_of": "As of", "new_pr_auc": st.column_config.NumberColumn("New PR-AUC", format="%.3f"),
        "serving_pr_auc": st.column_config.NumberColumn("Serving PR-AUC", format="%.3f"),
        "new_ece": st.column_config.NumberColumn("New ECE", format="%.4f"),
        "reason": st.column_config.TextColumn("Why", width="large")})

st.subheader("Top reasons across leads")
reasons = data.reason_counts(snap)
if reasons is None or reasons.empty:
    ui.not_computed("Lead reasons")
else:
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

with st.expander("The other models: next-day bookings and under-pacing"):
    bookings, pacing = data.document(snap, "bookings_model"), data.document(snap, "pacing_model")
    if bookings is None:
        ui.not_computed("The bookings model")
    else:
        overall = bookings["overall"]
        st.markdown("**Next-day bookings per ad set** (rolling-origin backtest; lower is better)")
        st.dataframe(pd.DataFrame({"Model": overall["model"], "7-day average": overall["baseline"]}).T,
                     column_config={c: st.column_config.NumberColumn(c.upper(), format="%.3f")
                                    for c in overall["model"]})
    if pacing is None:
        ui.not_computed("The pacing model")
    else:
        st.markdown("**Under-pacing tomorrow** (test split; higher is better)")
        st.dataframe(pd.DataFrame(pacing["metrics"]).T.rename(index={"model": "Model", "naive": "Today's status"}),
                     column_config={c: st.column_config.NumberColumn(c, format="%.3f")
                                    for c in ("accuracy", "f1", "roc_auc", "pr_auc", "positive_rate")})
