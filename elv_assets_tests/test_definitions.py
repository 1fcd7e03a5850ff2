"""The code location loads; its assets, checks, jobs and schedules are the documented ones, and a snapshot of the
asset specs (what each reads, its group, kinds and checks) makes every rename or new edge visible in review.

Refresh the snapshot after an intended change with: ELV_UPDATE_SNAPSHOT=1 pytest elv_assets_tests/test_definitions.py
"""

import datetime as dt
import json
import os
from pathlib import Path

import dagster as dg

from elv_assets.definitions import defs
from elv_assets.lakehouse.serving import SERVED_TABLE_KEYS

SNAPSHOT = Path(__file__).parent / "snapshots" / "definitions.json"
TABLES = sorted(
    [f"bronze/{n}" for n in ("ads", "adsets", "conversions", "leads", "outcomes", "mapping")]
    + [f"silver/{n}" for n in ("ads", "adsets", "conversions", "leads", "outcomes", "mapping")]
    + [f"gold/{n}" for n in ("as_of_date", "lead_attribution", "adset_daily", "lead_labels", "lead_features",
                             "training_table", "lead_scores", "campaign_leaderboard", "adset_leaderboard",
                             "adset_daily_features", "adset_weekly", "bookings_forecast", "pacing_risk")]
    + ["gold/spend_response", "gold/budget_recommendation"]
    + ["monitoring/data_quality_report", "monitoring/feature_drift", "monitoring/prediction_ledger",
       "monitoring/realised_vs_predicted", "monitoring/elv_history"]
)
MODELS = sorted(f"ml/{n}" for n in ("feature_screen", "candidate_models", "model", "value_model", "calibrator",
                                    "evaluation", "serving_model", "run_report", "bookings_model",
                                    "pacing_risk_model"))
EXPECTED_ASSETS = sorted(TABLES + MODELS + ["serving/snapshot", "serving/offline_conversions"])


def _specs():
    return {s.key.to_user_string(): s for s in defs.resolve_asset_graph().asset_nodes}


def _checks() -> set[tuple[str, str]]:
    return {(k.asset_key.to_user_string(), k.name) for k in defs.resolve_asset_graph().asset_check_keys}


def spec_snapshot() -> dict:
    """Per asset: what it reads, its group, kinds and checks; per job its assets; per schedule its cron and job."""
    checks = _checks()
    assets = {
        key: {"reads": sorted(d.to_user_string() for d in node.parent_keys), "group": node.group_name,
              "kinds": sorted(node.kinds), "checks": sorted(name for asset, name in checks if asset == key)}
        for key, node in sorted(_specs().items())
    }
    jobs = {j: sorted(k.to_user_string() for k in defs.resolve_job_def(j).asset_layer.executable_asset_keys)
            for j in ("daily_refresh", "weekly_retrain")}
    schedules = {s.name: {"cron": s.cron_schedule, "job": s.job_name} for s in defs.schedules}
    return {"assets": assets, "jobs": jobs, "schedules": schedules}


def test_the_asset_specs_match_the_reviewed_snapshot():
    now = spec_snapshot()
    if os.environ.get("ELV_UPDATE_SNAPSHOT"):
        SNAPSHOT.parent.mkdir(exist_ok=True)
        SNAPSHOT.write_text(json.dumps(now, indent=1, sort_keys=True) + "\n")
    assert now == json.loads(SNAPSHOT.read_text()), "asset specs changed: review, then refresh the snapshot"


def test_asset_names_are_the_documented_ones():
    assert sorted(_specs()) == EXPECTED_ASSETS


def test_every_asset_has_group_kinds_owner_description_and_column_schema():
    for key, node in _specs().items():
        assert node.group_name == key.split("/")[0], key
        assert node.kinds, key
        assert node.owners == ["team:data-platform"], key
        assert node.description and len(node.description) > 40, key
        if key in TABLES:
            schema = node.metadata.get("dagster/column_schema")
            assert schema is not None and schema.columns, key
            assert node.metadata["dagster/table_name"] == key.replace("/", "."), key


def test_every_table_declares_its_contract_check_and_the_statistical_checks_exist():
    checks = _checks()
    for key in TABLES:
        name = "input_contract" if key.startswith("bronze/") else "contract"
        assert (key, name) in checks
    for statistical in [("gold/lead_attribution", "match_rate"), ("gold/lead_labels", "enough_labels"),
                        ("ml/evaluation", "calibration"), ("ml/evaluation", "beats_campaign_rate"),
                        ("ml/evaluation", "leakage_tripwire"), ("ml/serving_model", "promotion"),
                        ("monitoring/feature_drift", "drift"), ("ml/bookings_model", "beats_baseline"),
                        ("ml/pacing_risk_model", "beats_naive"), ("gold/budget_recommendation", "feasible")]:
        assert statistical in checks


def test_the_tables_the_dashboard_reads_carry_a_freshness_policy():
    specs = _specs()
    served = [k for k in SERVED_TABLE_KEYS if k.startswith(("gold/", "monitoring/"))]
    assert len(served) >= 10
    for key in served:
        assert specs[key].freshness_policy is not None, key
    assert specs["bronze/ads"].freshness_policy is None


def test_every_asset_that_needs_a_date_reads_the_one_as_of_table():
    specs = _specs()
    as_of = dg.AssetKey(["gold", "as_of_date"])
    for key in ("gold/lead_attribution", "gold/adset_daily", "gold/lead_labels", "gold/pacing_risk",
                "gold/campaign_leaderboard", "monitoring/feature_drift", "serving/snapshot", "ml/calibrator"):
        assert as_of in specs[key].parent_keys, key


def test_the_daily_schedule_runs_by_default_as_of_the_last_complete_day():
    schedule = defs.resolve_schedule_def("daily_refresh_schedule")
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    assert schedule.job_name == "daily_refresh"
    context = dg.build_schedule_context(scheduled_execution_time=dt.datetime(2026, 3, 9, 6))
    request = schedule.evaluate_tick(context).run_requests[0]
    assert request.run_config["resources"]["run_window"]["config"]["as_of_date"] == "2026-03-08"
    assert request.tags["as_of_date"] == "2026-03-08"
