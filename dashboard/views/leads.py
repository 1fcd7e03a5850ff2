"""Leads: the most valuable leads with their chance to qualify, their value if they qualify and the reasons for both,
filtered, and downloadable as CSV."""

import streamlit as st

from dashboard import data, filters, ui
from dashboard.downloads import csv_bytes
from elv_assets.reports.conversions import DEFAULTS, PLATFORM_NAMES

LIMITS = (100, 500, 1_000, 5_000, 10_000)
SCORED_BY_HELP = ("serving model: a lead the model never learned from. out of fold: an older lead the model learned "
                  "from, shown with the score of a model fitted on the leads before it. in sample: the oldest leads, "
                  "which have no earlier leads to be scored by.")

snap, flt = data.current(), filters.current()
names, adsets = data.campaign_names(snap), data.adset_names(snap)
st.title("Leads")
st.caption(f"Leads created {flt.describe(names)}, best expected value first.")

if data.no_crm(snap):
    ui.needs_crm("This page", "Each lead's chance to qualify and its value are learned from the CRM's leads and "
                 "what became of them.")
    st.stop()
if not snap.has("lead_scores") or snap.rows("lead_scores") == 0:
    ui.not_computed("Lead scores", data.skipped(snap, "gold/lead_scores") or "No model has scored the leads yet.")
    st.stop()
st.caption("ELV = the chance this lead qualifies within 14 days x what this lead is worth if it qualifies (its "
           "expected deal value, learned from the deals won by similar qualified leads).")

files = data.conversion_files(snap)
if files:
    with st.expander("Send these values to Google Ads and Meta (offline conversions)"):
        until = f" up to {snap.as_of:%d %b %Y}" if snap.as_of else ""
        st.caption(f"The leads created in the last {DEFAULTS.window_days} days{until} at their predicted "
                   "ELV (\"ELV lead\") and the deals won in those days at their revenue (\"Won deal\"), ready to "
                   "upload: in Google Ads under Tools > Conversions > Uploads, in Meta Events Manager as an offline / "
                   "CRM event upload. E-mails and phone numbers are in the Meta file only as SHA-256 hashes; see "
                   "docs/conversions.md, or `elv export-conversions` for other dates.")
        for column, platform in zip(st.columns(2), ("google", "meta"), strict=True):
            f = files[platform]
            column.download_button(f"{PLATFORM_NAMES[platform]}: {f['rows']:,} conversions", f["data"], f["file"],
                                   "text/csv", key=f"conversions_{platform}", on_click="ignore", disabled=not f["rows"])
            if f["left_out"]:
                column.caption("Left out: " + "; ".join(f"{n:,} leads {why}" for why, n in f["left_out"].items()))

deciles, splits = data.lead_options(snap)
c1, c2, c3 = st.columns(3)
chosen_deciles = c1.multiselect("Decile (1 = the best tenth)", deciles, key="leads_deciles", placeholder="All deciles")
chosen_splits = c2.multiselect("Split", splits, key="leads_splits", placeholder="All splits",
                               help="train / calib / test: the model's time split; unlabeled: too recent to know.")
limit = c3.selectbox("Show the top", LIMITS, key="leads_limit")

rows, stats = data.top_leads(snap, flt.start, flt.end, set(flt.allowed) if flt.allowed is not None else None,
                             chosen_deciles, chosen_splits, limit)
m1, m2, m3, m4 = st.columns(4)
m1.metric("Leads matching", ui.number(stats["leads"]), border=True)
m2.metric("Their predicted ELV", ui.money(stats["total_elv"], snap.currency), border=True)
m3.metric("Average chance to qualify", ui.percent(stats["mean_p"], 1), border=True)
m4.metric("Average value if qualified", ui.money(stats["mean_value"], snap.currency), border=True,
          help="What a lead is worth if it qualifies, averaged over the leads matching.")

if rows.empty:
    st.info("No leads match this filter.")
    st.stop()
rows.insert(2, "campaign", rows["campaign_id"].map(names).fillna(rows["campaign_id"]))
rows.insert(3, "ad_set", rows["adset_id"].map(adsets).fillna(rows["adset_id"]))
shown = rows.drop(columns=["campaign_id", "adset_id"])
ui.table(shown, hide_index=True, column_config={
    "lead_id": "Lead", "created_at": st.column_config.DatetimeColumn("Created", format="DD/MM/YYYY HH:mm"),
    "campaign": "Campaign", "ad_set": "Ad set", "split": "Split",
    "p_qualified_14d": ui.percent_column("Chance to qualify in 14 days"),
    "expected_value_if_qualified": ui.money_column("Value if qualified", snap.currency, 2,
                                                   help="What this lead is worth if it qualifies."),
    "elv": ui.money_column("ELV", snap.currency, 2, help="Chance to qualify x value if qualified."),
    "value_reason": st.column_config.TextColumn("Why this value", width="medium"),
    "rank": ui.count_column("Rank"), "decile": "Decile",
    "reason_1": "Reason 1", "reason_2": "Reason 2", "reason_3": "Reason 3",
    "scored_by": st.column_config.TextColumn("Chance from", help=SCORED_BY_HELP)})
older = int((rows["scored_by"] != "serving model").sum()) if "scored_by" in rows.columns else 0
if older:
    st.caption(f"{older:,} of these leads are old enough that the model learned from them: their chance to qualify "
               "comes from a model fitted without them (\"out of fold\"), so hindsight does not flatter it; the very "
               "oldest, with no earlier leads to learn from, keep the serving model's own (\"in sample\").")
st.download_button(f"Download these {len(rows):,} leads as CSV", lambda: csv_bytes(rows), "top_leads.csv",
                   "text/csv", key="leads_download", on_click="ignore")

by_campaign = rows.groupby("campaign")["elv"].agg(["count", "sum"]).sort_values("sum", ascending=False)
lead = by_campaign.index[0]
ui.summary("top leads by expected value", {
    "leads_matching": stats["leads"], "total_elv": stats["total_elv"], "shown": len(rows),
    "top_campaigns_among_shown": by_campaign.head(3).rename(columns={"count": "leads", "sum": "elv"})
    .reset_index().to_dict("records"),
}, f"Of the {len(rows):,} leads shown, {int(by_campaign.iloc[0]['count']):,} come from {lead}, "
   f"worth {ui.money(by_campaign.iloc[0]['sum'], snap.currency)} of predicted ELV.")
