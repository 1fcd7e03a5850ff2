"""The code location loads, and its asset, check, job and schedule names are the documented ones."""

import datetime as dt

import dagster as dg

from elv_assets.definitions import defs

TABLES = sorted(
    [f"bronze/{n}" for n in ("ads", "adsets", "conversions", "leads", "outcomes", "mapping")]
    + [f"silver/{n}" for n in ("ads", "adsets", "conversions", "leads", "outcomes", "mapping")]
    + [f"gold/{n}" for n in ("lead_attribution", "adset_daily", "lead_labels", "lead_features", "training_table",
                             "lead_scores", "campaign_leaderboard", "adset_leaderboard", "adset_daily_features",
                             "adset_weekly", "bookings_forecast", "pacing_risk")]
    + ["gold/spend_response", "gold/budget_recommendation"]
    + ["monitoring/data_quality_report", "monitoring/feature_drift"]
)
MODELS = sorted(f"ml/{n}" for n in ("candidate_models", "model", "calibrator", "evaluation", "serving_model",
                                    "run_report", "bookings_model", "pacing_risk_model"))
EXPECTED_ASSETS = sorted(TABLES + MODELS + ["serving/snapshot"])


def _specs():
    return {s.key.to_user_string(): s for s in defs.resolve_asset_graph().asset_nodes}


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


def test_every_asset_declares_its_contract_check():
    checks = {(k.asset_key.to_user_string(), k.name) for k in defs.resolve_asset_graph().asset_check_keys}
    for key in TABLES:
        name = "input_contract" if key.startswith("bronze/") else "contract"
        assert (key, name) in checks
    assert ("gold/lead_attribution", "match_rate") in checks
    for statistical in [("gold/lead_labels", "enough_labels"), ("ml/evaluation", "calibration"),
                        ("ml/evaluation", "beats_campaign_rate"), ("ml/evaluation", "leakage_tripwire"),
                        ("ml/serving_model", "promotion"), ("monitoring/feature_drift", "drift"),
                        ("gold/adset_leaderboard", "enabled"), ("ml/bookings_model", "beats_baseline"),
                        ("ml/pacing_risk_model", "beats_naive")]:
        assert statistical in checks


def test_daily_schedule_runs_by_default_and_passes_its_date():
    schedule = defs.resolve_schedule_def("daily_refresh_schedule")
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    assert schedule.job_name == "daily_refresh"
    context = dg.build_schedule_context(scheduled_execution_time=dt.datetime(2026, 3, 9, 6))
    request = schedule.evaluate_tick(context).run_requests[0]
    assert request.run_config["resources"]["run_window"]["config"]["as_of_date"] == "2026-03-09"

