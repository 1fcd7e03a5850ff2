"""Jobs, schedules and sensors: the daily refresh, the weekly retrain, new files, failed runs.

- `daily_refresh` (06:00): loads the data folder, rebuilds silver and gold, scores leads with the serving
  model, forecasts bookings and pacing, checks drift and publishes the serving snapshot. No model is trained.
- `weekly_retrain` (Monday 05:00): retrains the lead model, recalibrates, evaluates, runs the promotion gate,
  retrains the bookings and pacing models, and writes the run report. Then the daily refresh uses them.
- `data_folder_sensor`: new or changed files in ELV_DATA_DIR trigger the daily refresh once per distinct
  set of files (the cursor is a fingerprint of names, sizes and modification times).
- `alert_on_run_failure`: logs a clear message and, when ELV_ALERT_WEBHOOK is set, posts a JSON summary.
Schedules pass their date as the run's as_of_date; the timezone is ELV_SCHEDULE_TIMEZONE (default UTC).
Steps retry with backoff on transient errors (a locked file, a flaky read); a contract failure is not
retried, and a failed run leaves the last good tables and snapshot serving.
"""

import hashlib
import os
from pathlib import Path

import dagster as dg

from elv_assets.alerts import failure_summary, post
from elv_assets.runner import error_text
from elv_assets.settings import Settings

# The lakehouse alone (no models): what loads and cleans the data. Useful on data too young to train on.
LAKEHOUSE_SELECTION = (
    "group:bronze or group:silver or key:gold/lead_attribution or key:gold/adset_daily "
    "or key:monitoring/data_quality_report"
)
# What the weekly job trains; the daily job reuses what these last wrote.
TRAINING_SELECTION = (
    "key:gold/training_table or key:ml/candidate_models or key:ml/model or key:ml/calibrator "
    "or key:ml/evaluation or key:ml/serving_model or key:ml/bookings_model or key:ml/pacing_risk_model "
    "or key:ml/run_report"
)
TRAINING_KEYS = [dg.AssetKey(k.split(":")[1].split("/")) for k in TRAINING_SELECTION.split(" or ")]

TRANSIENT_RETRIES = dg.RetryPolicy(max_retries=3, delay=2, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS)


def schedule_timezone() -> str:
    return os.environ.get("ELV_SCHEDULE_TIMEZONE") or "UTC"


def _as_of_request(context: dg.ScheduleEvaluationContext, job_name: str) -> dg.RunRequest:
    as_of = context.scheduled_execution_time.date().isoformat()
    return dg.RunRequest(
        run_key=f"{job_name}:{as_of}",
        run_config={"resources": {"run_window": {"config": {"as_of_date": as_of}}}},
        tags={"as_of_date": as_of},
    )


daily_refresh_job = dg.define_asset_job(
    "daily_refresh",
    selection=dg.AssetSelection.all() - dg.AssetSelection.assets(*TRAINING_KEYS),
    description="Load the data folder; rebuild silver and gold; score leads with the serving model; forecast "
                "bookings and pacing; check drift; publish the serving snapshot. Trains nothing.",
    op_retry_policy=TRANSIENT_RETRIES,
)

weekly_retrain_job = dg.define_asset_job(
    "weekly_retrain",
    selection=dg.AssetSelection.assets(*TRAINING_KEYS),
    description="Retrain the lead model, recalibrate, evaluate and run the promotion gate; retrain the bookings "
                "and pacing models; write the run report.",
    op_retry_policy=TRANSIENT_RETRIES,
)


@dg.schedule(
    job=daily_refresh_job,
    cron_schedule="0 6 * * *",
    execution_timezone=schedule_timezone(),
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every morning, as of the scheduled date.",
)
def daily_refresh_schedule(context: dg.ScheduleEvaluationContext):
    return _as_of_request(context, "daily_refresh")


@dg.schedule(
    job=weekly_retrain_job,
    cron_schedule="0 5 * * 1",
    execution_timezone=schedule_timezone(),
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every Monday before the daily refresh, as of the scheduled date.",
)
def weekly_retrain_schedule(context: dg.ScheduleEvaluationContext):
    return _as_of_request(context, "weekly_retrain")


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
