"""Drift and data quality: have the model's inputs moved since training, what did cleaning fix, which checks failed."""

import plotly.graph_objects as go
import streamlit as st

from dashboard import data, ui
from elv_assets.ml.drift import MAJOR_ABOVE, STABLE_BELOW

snap = data.current()
st.title("Drift and data quality")

st.subheader("Feature drift (PSI)")
drift = data.table(snap, "feature_drift")
if data.no_crm(snap):
    ui.needs_crm("Feature drift", "It compares the lead model's inputs now with those it learned from.")
elif drift is None or drift.empty:
    ui.not_computed("Feature drift", data.skipped(snap, "monitoring/feature_drift"))
else:
    rows = drift.sort_values("psi", ascending=False)
    fig = go.Figure()
    fig.add_bar(x=rows["psi"], y=rows["feature"], orientation="h", marker_color=rows["band"].map(ui.BAND_COLOURS),
                text=rows["band"], textposition="outside", customdata=rows["biggest_shift"],
                hovertemplate="%{y}: PSI %{x:.3f}<br>biggest shift: %{customdata}<extra></extra>")
    for x, name in ((STABLE_BELOW, "moderate"), (MAJOR_ABOVE, "major")):
        fig.add_vline(x=x, line_dash="dot", annotation_text=name, annotation_position="bottom right")
    fig.update_layout(title="Population stability of the model's most important features: training against the "
                            "last 14 days", yaxis={"autorange": "reversed"}, xaxis_title="PSI", showlegend=False)
    ui.chart(fig, "drift_psi", height=max(300, 28 * len(rows) + 100))
    st.caption(f"PSI under {STABLE_BELOW:g}: stable (green); {STABLE_BELOW:g} to {MAJOR_ABOVE:g}: moderate (amber); "
               f"above {MAJOR_ABOVE:g}: major (red): the inputs "
               "differ from those the model learnt on, so its scores deserve a second look.")
    ui.table(rows[["feature", "band", "psi", "biggest_shift", "importance", "n_reference", "n_current"]],
             hide_index=True, column_config={
                 "feature": "Feature", "band": "Band", "psi": st.column_config.NumberColumn("PSI", format="%.3f"),
                 "biggest_shift": "Biggest shift in", "importance": st.column_config.NumberColumn(
                     "Importance", format="%.3f"),
                 "n_reference": ui.count_column("Training leads"), "n_current": ui.count_column("Recent leads")})
    major = rows[rows["band"] == "major"]
    fallback = (f"{len(major)} of {len(rows)} watched features drifted a lot"
                + (f", most of all {major.iloc[0]['feature']} (PSI {major.iloc[0]['psi']:.2f})." if len(major) else "."))
    ui.summary("feature drift", {"features": len(rows), "major": len(major),
                                 "moderate": int((rows["band"] == "moderate").sum()),
                                 "worst": {"feature": rows.iloc[0]["feature"], "psi": float(rows.iloc[0]["psi"])}},
               fallback)

st.subheader("Data quality")
dq = data.table(snap, "data_quality_report")
if dq is None or dq.empty:
    ui.not_computed("The data-quality report")
else:
    rules = dq[dq["kind"] == "rule"][["table_name", "check_name", "hits"]]
    cross = dq[dq["kind"] == "cross_table"][["check_name", "hits", "detail"]]
    left, right = st.columns(2)
    with left:
        st.markdown("**What cleaning fixed** (silver rules, rows touched)")
        ui.table(rules, hide_index=True, column_config={
            "table_name": "Table", "check_name": "Rule", "hits": ui.count_column("Rows")})
    with right:
        st.markdown("**Across tables**")
        ui.table(cross, hide_index=True, column_config={
            "check_name": "Check", "hits": ui.count_column("Rows"), "detail": st.column_config.TextColumn("Meaning")})
    with st.expander("Column profile (nulls, distinct values, ranges)"):
        ui.table(dq[dq["kind"] == "profile"].drop(columns=["kind", "check_name", "hits", "detail"]),
                 hide_index=True)
    flagged = cross[cross["hits"] > 0]
    ui.summary("data quality", {"rule_hits": float(rules["hits"].sum()),
                                "cross_table_issues": {r.check_name: float(r.hits) for r in flagged.itertuples()}},
               f"Cleaning touched {ui.number(rules['hits'].sum())} rows; "
               + ("; ".join(f"{r.check_name.replace('_', ' ')}: {ui.number(r.hits)}" for r in flagged.itertuples())
                  or "no cross-table problems") + ".")

st.subheader("Failed checks")
checks = data.document(snap, "checks")
if checks is None:
    ui.not_computed("Asset checks")
else:
    failed = [c for c in checks if not c.get("passed")]
    st.caption(f"{len(checks) - len(failed)} of {len(checks)} checks passed in the run that published this snapshot.")
    if not failed:
        st.success("Every check passed.")
    else:
        ui.table(failed, hide_index=True, column_order=["severity", "asset", "check", "description"],
                 column_config={"severity": "Severity", "asset": "Asset", "check": "Check",
                                "description": st.column_config.TextColumn("What it says", width="large")})
