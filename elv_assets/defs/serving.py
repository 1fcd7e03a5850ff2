"""What a run publishes: the run report (HTML, cards, metrics) and the serving snapshot the dashboard reads."""

from elv_assets.build import AS_OF_KEY
from elv_assets.defs.declare import artifact_asset
from elv_assets.lakehouse.files import SERVING_MODEL_KEY
from elv_assets.ml.training import CANDIDATES_KEY, EVALUATION_KEY, MODEL_KEY, SCREEN_KEY, VALUE_KEY
from elv_assets.reports.run_report import build_run_report
from elv_assets.reports.snapshot import RUN_REPORT_KEY, SNAPSHOT_READS, build_snapshot

run_report = artifact_asset(
    RUN_REPORT_KEY, build_run_report, kinds={"html", "plotly"},
    reads=[AS_OF_KEY, SERVING_MODEL_KEY, CANDIDATES_KEY, MODEL_KEY, SCREEN_KEY, VALUE_KEY, EVALUATION_KEY,
           "gold/campaign_leaderboard",
           "gold/adset_leaderboard", "gold/lead_scores", "gold/lead_attribution", "gold/lead_labels",
           "gold/training_table", "monitoring/feature_drift", "monitoring/data_quality_report",
           *(f"silver/{n}" for n in ("ads", "adsets", "conversions", "leads", "outcomes", "mapping"))],
    description=(
        "Everything about one run in artifacts/runs/<run_id>/: a copy of the serving model, metrics.json (test "
        "metrics against the baselines, split boundaries, promotion, drift), metadata.json (git commit, as_of, "
        "windows, join match rates, sha256 of every input CSV), MODEL_CARD.md, DATA_CARD.md, and report.html with "
        "Plotly lift and calibration charts, the leaderboards and the drift table; it opens offline."),
)

snapshot = artifact_asset(
    "serving/snapshot", build_snapshot, kinds={"parquet", "duckdb"},
    reads=[AS_OF_KEY, *SNAPSHOT_READS],
    description=(
        "Everything the dashboard shows, as Parquet files and JSON documents plus a manifest (as_of_date, run id, "
        "model version, tables, row counts), written to a new folder and switched in with an atomic rename of "
        "manifest.json, so the dashboard never sees half a snapshot and never opens the warehouse. Its tables "
        "keep the column schemas of the assets they come from (listed in `served_from`): one snapshot holds "
        "many tables (SERVING_TABLES in lakehouse/serving.py), so it has no single schema of its own."),
)

serving_assets = [run_report, snapshot]
