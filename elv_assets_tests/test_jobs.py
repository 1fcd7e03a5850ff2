"""The real jobs, run as their schedules run them, on new days of data.

The schedule's own tick makes the run request (its run config and tags); the job is the code location's own
job definition; only the resources point at a temporary folder. After a full run as of day D-1, the daily refresh
for day D must write every table as of D, with the bookings forecast and the pacing risk for D+1: a step that read
a table the same job rebuilds later would publish yesterday's "tomorrow".
"""

import datetime as dt

import dagster as dg
import pandas as pd
import pytest

from elv_assets.defs import ALL_ASSETS
from elv_assets.defs.jobs import TRAINING_KEYS, jobs, schedules
from elv_assets.defs.resources import build_resources
from elv_assets.lakehouse.files import SERVING_MODEL_KEY, ArtifactStore
from elv_assets.lakehouse.manifest import read_manifest
from elv_assets_tests.conftest import settings_in
from elv_assets_tests.helpers import materialize_all, query


def last_day(world) -> dt.date:
    dates = pd.read_csv(world / "ads.csv", usecols=["date"], dtype=str)["date"]
    return pd.to_datetime(dates, dayfirst=True).max().date()


def full_run(settings, as_of: dt.date):
    asked = {"resources": {"run_window": {"config": {"as_of_date": str(as_of)}}}}
    result = materialize_all(settings, selection="*", run_config=asked)
    assert result.success
    return result


def scheduled_run(settings, schedule_name: str, tick: dt.datetime) -> dg.ExecuteInProcessResult:
    """What the daemon does at `tick`: evaluate the schedule, then launch its job with the request's config and tags."""
    defs = dg.Definitions(assets=ALL_ASSETS, jobs=jobs, schedules=schedules, resources=build_resources(settings),
                          executor=dg.in_process_executor)
    schedule = defs.resolve_schedule_def(schedule_name)
    [request] = schedule.evaluate_tick(dg.build_schedule_context(scheduled_execution_time=tick)).run_requests
    job = defs.resolve_job_def(schedule.job_name)
    return job.execute_in_process(run_config=request.run_config, tags=request.tags, raise_on_error=False)


def materialised_in_order(result) -> list[str]:
    return [e.asset_key.to_user_string() for e in result.get_asset_materialization_events()]


def assert_upstream_first(result, job_name: str) -> None:
    """Within the run, every asset is materialised after everything it reads that the same run rebuilds."""
    order = {key: i for i, key in enumerate(materialised_in_order(result))}
    graph = {a.key.to_user_string(): [d.to_user_string() for dep in a.asset_deps.values() for d in dep]
             for a in ALL_ASSETS}
    for key, position in order.items():
        for parent in graph[key]:
            if parent in order:
                assert order[parent] < position, f"{job_name}: {key} ran before {parent}, which it reads"


def assert_tables_reflect(settings, result, day: dt.date) -> None:
    """Every table the run wrote is as of `day`; the forecasts are for the day after."""
    tomorrow = day + dt.timedelta(days=1)
    assert query(settings, "SELECT as_of_date FROM gold.as_of_date").as_of_date.dt.date.tolist() == [day]
    for event in result.get_asset_materialization_events():
        meta = event.materialization.metadata
        if "as_of_date" in meta:
            assert meta["as_of_date"].value == str(day), event.asset_key.to_user_string()
    def one(sql: str):
        value = query(settings, sql).iloc[0, 0]
        return value.date() if isinstance(value, pd.Timestamp) else value

    assert one("SELECT max(date)::DATE FROM gold.adset_daily") == day
    assert one("SELECT max(created_at)::DATE FROM gold.lead_scores") == day
    assert one("SELECT max(date)::DATE FROM gold.bookings_forecast WHERE kind = 'forecast'") == tomorrow
    assert one("SELECT min(date)::DATE FROM gold.pacing_risk") == one("SELECT max(date)::DATE FROM gold.pacing_risk") \
        == tomorrow
    assert one("SELECT max(date)::DATE FROM gold.adset_daily_features WHERE is_future") == tomorrow
    assert one("SELECT max(window_end)::DATE FROM gold.campaign_leaderboard") == day
    assert one("SELECT max(as_of_date)::DATE FROM gold.budget_recommendation") == day
    assert read_manifest(settings.serving_dir)["as_of_date"] == str(day)


@pytest.fixture
def day(demo_world) -> dt.date:
    return last_day(demo_world)


def test_the_daily_refresh_on_a_new_day_forecasts_the_day_after_it(demo_world, day, tmp_path):
    settings = settings_in(tmp_path, demo_world)
    full_run(settings, day - dt.timedelta(days=1))

    result = scheduled_run(settings, "daily_refresh_schedule", dt.datetime.combine(day + dt.timedelta(days=1),
                                                                                   dt.time(6)))

    assert result.success
    assert result.dagster_run.tags["as_of_date"] == str(day)
    written = set(materialised_in_order(result))
    assert not written & {k.to_user_string() for k in TRAINING_KEYS}, "the daily refresh trains nothing"
    assert {"gold/bookings_forecast", "gold/pacing_risk", "gold/lead_scores", "serving/snapshot"} <= written
    assert_upstream_first(result, "daily_refresh")
    assert_tables_reflect(settings, result, day)
    # the ledger kept yesterday's predictions and appended today's
    ledger = query(settings, "SELECT as_of_date::DATE::VARCHAR AS d, max(created_at)::DATE::VARCHAR AS newest, "
                             "min(created_at)::DATE::VARCHAR AS oldest FROM monitoring.prediction_ledger "
                             "GROUP BY 1 ORDER BY 1")
    days = [str(day - dt.timedelta(days=1)), str(day)]
    assert ledger.d.tolist() == days and ledger.newest.tolist() == days
    # only leads whose 14-day window is still open are predicted into the ledger
    bounds = [str(day - dt.timedelta(days=14)), str(day - dt.timedelta(days=13))]
    assert all(oldest >= bound for oldest, bound in zip(ledger.oldest, bounds, strict=True))


def test_the_weekly_retrain_then_the_daily_refresh(demo_world, day, tmp_path):
    settings = settings_in(tmp_path, demo_world)
    full_run(settings, day - dt.timedelta(days=2))
    sunday = day - dt.timedelta(days=1)

    weekly = scheduled_run(settings, "weekly_retrain_schedule", dt.datetime.combine(day, dt.time(5)))

    assert weekly.success
    assert_upstream_first(weekly, "weekly_retrain")
    assert_tables_reflect(settings, weekly, sunday)
    trained = ArtifactStore(settings.artifacts_dir).load("ml/calibrator")
    assert trained.as_of == str(sunday), "the model is stamped with the day its tables are as of"
    assert trained.boundaries["last"] < str(sunday - dt.timedelta(days=14 - 1))  # only mature leads trained it

    daily = scheduled_run(settings, "daily_refresh_schedule", dt.datetime.combine(day + dt.timedelta(days=1),
                                                                                  dt.time(6)))

    assert daily.success
    assert_upstream_first(daily, "daily_refresh")
    assert_tables_reflect(settings, daily, day)
    serving = ArtifactStore(settings.artifacts_dir).load(SERVING_MODEL_KEY)
    scores = {e.asset_key.to_user_string(): e.materialization.metadata for e in daily.get_asset_materialization_events()}
    assert scores["gold/lead_scores"]["model_run"].value == serving.run_id
