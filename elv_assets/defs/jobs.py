"""Jobs, schedules and sensors: the daily refresh, the weekly retrain, new files, failed runs.

- `daily_refresh` (06:00): loads the data folder, rebuilds silver and gold, scores leads with the serving
  model, forecasts bookings and pacing, checks drift, writes the run report and publishes the serving
  snapshot. No model is trained.
- `weekly_retrain` (Monday 05:00): everything, the model steps included: the lakehouse is rebuilt as of the
  same day first, so the models learn from the newest complete day and are stamped with it; the lead model
  is retrained, recalibrated, evaluated and put through the promotion gate; the bookings and pacing models
  are retrained; then the scores, boards and snapshot use them.
- `data_folder_sensor`: new or changed files in ELV_DATA_DIR trigger the daily refresh once per distinct
  set of files (the cursor is a fingerprint of names, sizes and modification times), as of the latest date in
  the data.
- `alert_on_run_failure`: logs a clear message and, when ELV_ALERT_WEBHOOK is set, posts a JSON summary.

The schedules run as of the last complete day: the day before the tick, in ELV_SCHEDULE_TIMEZONE (default
UTC). gold/as_of_date records that date once per run; every other asset reads it. Steps retry with backoff on
transient errors (a locked file, a flaky read); a contract failure is not retried, and a failed run leaves the
last good tables and snapshot serving.
"""

import datetime as dt
import hashlib
import os
from pathlib import Path

import dagster as dg

from elv_assets.alerts import error_text, failure_summary, post
from elv_assets.settings import Settings

# The lakehouse alone (no models): what loads and cleans the data. Useful on data too young to train on.
LAKEHOUSE_SELECTION = (
    "group:bronze or group:silver or key:gold/as_of_date or key:gold/lead_attribution or key:gold/adset_daily "
    "or key:monitoring/data_quality_report"
)
# What only the weekly job trains; the daily job reuses what these last wrote.
TRAINING_KEYS = [dg.AssetKey(k.split("/")) for k in (
    "gold/training_table", "ml/feature_screen", "ml/candidate_models", "ml/model", "ml/value_model", "ml/calibrator",
    "ml/evaluation", "ml/serving_model", "ml/bookings_model", "ml/pacing_risk_model")]

TRANSIENT_RETRIES = dg.RetryPolicy(max_retries=3, delay=2, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS)


def schedule_timezone() -> str:
    return os.environ.get("ELV_SCHEDULE_TIMEZONE") or "UTC"


def last_complete_day(tick: dt.datetime) -> dt.date:
    """The as-of date of a scheduled run: the day before the tick (the tick's own day is still running)."""
    return tick.date() - dt.timedelta(days=1)


def as_of_request(context: dg.ScheduleEvaluationContext, job_name: str) -> dg.RunRequest:
    as_of = last_complete_day(context.scheduled_execution_time).isoformat()
    return dg.RunRequest(
        run_key=f"{job_name}:{as_of}",
        run_config={"resources": {"run_window": {"config": {"as_of_date": as_of}}}},
        tags={"as_of_date": as_of},
    )


daily_refresh_job = dg.define_asset_job(
    "daily_refresh",
    selection=dg.AssetSelection.all() - dg.AssetSelection.assets(*TRAINING_KEYS),
    description="Load the data folder; rebuild silver and gold; score leads with the serving model; forecast "
                "bookings and pacing; check drift; write the run report; publish the serving snapshot. Trains nothing.",
    op_retry_policy=TRANSIENT_RETRIES,
)

weekly_retrain_job = dg.define_asset_job(
    "weekly_retrain",
    selection=dg.AssetSelection.all(),
    description="Everything the daily refresh does, and before the scores: retrain the lead model, recalibrate, "
                "evaluate and run the promotion gate; retrain the bookings and pacing models.",
    op_retry_policy=TRANSIENT_RETRIES,
)


def as_of_schedule(name: str, job, cron: str, description: str) -> dg.ScheduleDefinition:
    """A schedule that runs `job` as of the last complete day, running from the start."""
    return dg.ScheduleDefinition(
        name=name, job=job, cron_schedule=cron, execution_timezone=schedule_timezone(),
        default_status=dg.DefaultScheduleStatus.RUNNING, description=description,
        execution_fn=lambda context: as_of_request(context, job.name),
    )


daily_refresh_schedule = as_of_schedule("daily_refresh_schedule", daily_refresh_job, "0 6 * * *",
                                        "Every morning, as of the last complete day (yesterday).")
weekly_retrain_schedule = as_of_schedule("weekly_retrain_schedule", weekly_retrain_job, "0 5 * * 1",
                                         "Every Monday before the daily refresh, as of the last complete day (Sunday).")


def folder_fingerprint(folder: Path) -> str | None:
    """A fingerprint of the CSV files' names, sizes and modification times (None without any CSV)."""
    files = sorted(p for p in Path(folder).glob("*.csv") if p.is_file())
    if not files:
        return None
    text = "\n".join(f"{p.name}\t{p.stat().st_size}\t{p.stat().st_mtime_ns}" for p in files)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dg.sensor(
    job=daily_refresh_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="New or changed files in ELV_DATA_DIR trigger the daily refresh, once per distinct set of files.",
)
def data_folder_sensor(context: dg.SensorEvaluationContext):
    folder = Settings.from_env().data_dir
    fingerprint = folder_fingerprint(folder)
    if fingerprint is None:
        return dg.SkipReason(f"No CSV files in {folder}.")
    if fingerprint == context.cursor:
        return dg.SkipReason(f"The files in {folder} have not changed.")
    context.update_cursor(fingerprint)
    return dg.RunRequest(run_key=f"files:{fingerprint}", tags={"trigger": "data_folder", "fingerprint": fingerprint})


@dg.run_failure_sensor(
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Logs every failed run and posts a JSON summary to ELV_ALERT_WEBHOOK when it is set.",
)
def alert_on_run_failure(context: dg.RunFailureSensorContext):
    failed_steps = [ev.step_key.replace("__", "/") for ev in context.get_step_failure_events() if ev.step_key]
    errors = [error_text(ev.event_specific_data.error) for ev in context.get_step_failure_events()
              if ev.event_specific_data and ev.event_specific_data.error]
    payload = failure_summary(
        job=context.dagster_run.job_name, run_id=context.dagster_run.run_id, failed_steps=failed_steps,
        error=errors[0] if errors else (context.failure_event.message or "unknown error"),
        base_url=os.environ.get("ELV_DAGSTER_URL") or "http://localhost:3000",
    )
    context.log.error(f"{payload['text']}: {payload['error']} ({payload['link']})")
    url = os.environ.get("ELV_ALERT_WEBHOOK")
    if url:
        result = post(url, payload)
        (context.log.info if result.sent else context.log.warning)(f"Alert to the webhook: {result.detail}")


schedules = [daily_refresh_schedule, weekly_retrain_schedule]
sensors = [data_folder_sensor, alert_on_run_failure]
jobs = [daily_refresh_job, weekly_retrain_job]
