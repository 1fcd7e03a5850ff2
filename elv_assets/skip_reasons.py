"""Why a part of the chain is skipped on partial data, in the words the run and the dashboard both show.

Plain strings in a module of their own: the assets that skip raise them, and the dashboard recognises them in
the snapshot's `skipped` document without importing the pipeline."""

NO_LEADS = ("No CRM leads (leads.csv is absent or empty): the lead model, ELV and the leaderboards need leads.csv "
            "and outcomes.csv; the ad data alone gives pacing, spend response and forecasts.")
SPEND_UNKNOWN = ("Spend is unknown: gold.adset_daily has no spend (no ads.csv in the data folder), so there is no "
                 "spend to relate leads to.")
