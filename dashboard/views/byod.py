"""Bring your own data: upload ads, leads and outcomes exports, check them against the contracts, score the
leads with the serving model and rank their campaigns. Nothing is stored."""

import plotly.express as px
import streamlit as st

from dashboard import data, ui, uploads
from dashboard.downloads import csv_bytes
from elv_assets.ml.scoring import FolderRefused

FILES = {  # input name -> (label, required)
    "leads": ("Leads (CRM export, leads.csv)", True),
    "ads": ("Ads (daily ad-platform export, ads.csv): optional, gives spend and ELV per spend", False),
    "adsets": ("Ad sets (budgets, adsets.csv): optional, gives each ad set's spend against its budget", False),
    "outcomes": ("Outcomes (CRM export, outcomes.csv): optional, gives qualified so far", False),
    "mapping": ("Mapping (utm values or names to ad ids, mapping.csv): optional", False),
}
RESULT = "byod_result"

snap = data.current()
st.title("Bring your own data")
st.warning("**Do not upload personal data.** Remove names, e-mail addresses, phone numbers and any other column "
           "that identifies a person before uploading: the model needs ids, dates and attributes only.", icon="🔒")
limits = (uploads.max_megabytes(), uploads.max_rows())  # read on every run: a changed cap applies on the next click
st.caption(f"Up to {limits[0]} MB and {limits[1]:,} rows per file. Files stay in this "
           "session's memory; to be checked and scored they are written to a temporary folder that is deleted "
           "right after. They never enter the warehouse, and nothing is kept when you close the page. The columns "
           "each file needs are in docs/contracts.md.")

files = {}
for name, (label, _required) in FILES.items():
    file = st.file_uploader(label, key=f"byod_{name}", max_upload_size=limits[0])
    if file is not None:
        files[name] = file
# Which uploads these are, under which caps: the result is kept per set of uploads, not recomputed (nor the files
# read) on every click, and the files are checked again when a cap changes.
key = (limits, tuple(sorted((name, file.file_id, file.name, file.size) for name, file in files.items())))
stored = st.session_state.get(RESULT)
if stored is None or stored[0] != key:
    given: dict[str, uploads.Upload] = {}
    refused: list[str] = []
    for name, file in files.items():
        upload = uploads.Upload(file.name, file.getvalue())
        reason = uploads.refusal(upload)
        if reason:
            refused.append(reason)
        else:
            given[name] = upload
    for reason in refused:
        st.error(reason)
    if "leads" not in given:
        if not refused:
            st.info("Upload a leads file to start.")
        st.stop()
    if refused:
        st.stop()
    with st.spinner("Checking the files and scoring the leads…"):
        try:
            outcome = uploads.score_uploads(given, data.artifacts_dir(snap))
        except FolderRefused as refusal_:
            outcome = refusal_
        except FileNotFoundError:
            outcome = None
        scored = outcome is not None and not isinstance(outcome, FolderRefused)
        board = uploads.campaign_board(outcome) if scored else None
    st.session_state[RESULT] = stored = (key, outcome, board)
_, outcome, board = stored

if outcome is None:
    ui.not_computed("The serving model", "No model has been trained and promoted yet, so there is nothing to score "
                    "with. Run the pipeline (or build the demo) first.")
    st.stop()

st.subheader("Checks")
if isinstance(outcome, FolderRefused):
    st.error(f"These files cannot be scored yet: {str(outcome).splitlines()[0]}. The report says what to fix.")
for report in outcome.reports.values():
    if report.present:
        with st.expander(f"{report.file}: {'errors' if report.blocking else 'warnings' if report.problems else 'ok'}",
                         expanded=report.blocking):
            st.code(report.to_text(), language=None)
for problem in outcome.cross_file:
    st.caption(f"Across files ({problem.severity}): {problem.describe('')[2:]}")
if isinstance(outcome, FolderRefused):
    st.stop()

result = outcome
scores = result.scores
st.subheader("Your campaigns by expected lead value")
has_spend = board["spend"].notna().any()
c1, c2, c3 = st.columns(3)
c1.metric("Leads scored", ui.number(len(scores)), border=True)
c2.metric("Predicted qualified", ui.number(scores["p_qualified_14d"].sum(), 1), border=True)
c3.metric("Predicted ELV", ui.money(scores["elv"].sum(), snap.currency if snap else ""), border=True)
currency = snap.currency if snap else ""
st.caption(f"Leads created {result.spend_from} to {result.spend_to}; scored by the serving {result.model} model "
           f"(money in {currency or 'the model data currency'})."
           + (" Spend is the uploaded ads' spend over the same days." if has_spend else
              " Upload ads.csv too to see spend and ELV per unit of spend."))
ui.table(board, hide_index=True, column_config={
    "campaign_id": "Campaign id", "campaign_name": "Campaign", "platform": "Platform",
    "leads": ui.count_column("Leads"), "qualified_so_far": ui.count_column("Qualified so far"),
    "predicted_qualified": ui.count_column("Predicted qualified", 1),
    "predicted_elv": ui.money_column("Predicted ELV", currency), "spend": ui.money_column("Spend", currency),
    "elv_per_spend": ui.count_column("ELV per unit of spend", 2), "cpl": ui.money_column("CPL", currency, 2)})
metric = "elv_per_spend" if has_spend else "predicted_elv"
top = board.dropna(subset=[metric]).head(15)
if not top.empty:
    fig = px.bar(top.iloc[::-1], x=metric, y="campaign_name", orientation="h",
                 labels={metric: "ELV per unit of spend" if has_spend else "Predicted ELV", "campaign_name": ""},
                 title="Campaigns of your upload by " + ("ELV per unit of spend" if has_spend else "predicted ELV"))
    fig.update_traces(marker_color="#1565c0")
    ui.chart(fig, "byod_board", height=max(260, 28 * len(top) + 80))
    best = top.iloc[0]
    ui.summary("uploaded campaigns by expected lead value", {
        "campaigns": len(board), "leads": len(scores), "predicted_elv": float(scores["elv"].sum()),
        "best": {"campaign": str(best["campaign_name"]), metric: float(best[metric])},
    }, f"Of {len(board)} campaigns in your upload, {best['campaign_name']} returns the most: "
       + (f"{best[metric]:.2f} of ELV per unit of spend." if has_spend else
          f"{ui.money(best[metric], currency)} of predicted ELV."))

st.subheader("Top leads")
ui.table(scores.head(100), hide_index=True, column_config={
    "p_qualified_14d": ui.percent_column("Chance to qualify in 14 days"),
    "elv": ui.money_column("ELV", currency, 2)})
d1, d2 = st.columns(2)
d1.download_button(f"Download all {len(scores):,} scored leads (CSV)", lambda: csv_bytes(scores), "scored_leads.csv",
                   "text/csv", key="byod_dl_scores", on_click="ignore")
d2.download_button("Download the campaign leaderboard (CSV)", lambda: csv_bytes(board), "campaign_leaderboard.csv",
                   "text/csv", key="byod_dl_board", on_click="ignore")
