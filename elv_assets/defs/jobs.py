"""Jobs and schedules, built from asset selections."""


import dagster as dg

# The lakehouse alone (no models): what loads and cleans the data. Useful on data too young to train on.
LAKEHOUSE_SELECTION = (
    "group:bronze or group:silver or key:gold/lead_attribution or key:gold/adset_daily "
    "or key:monitoring/data_quality_report"
)

daily_refresh_job = dg.define_asset_job(
    "daily_refresh",
    selection=dg.AssetSelection.all(),
    description="Load the data folder and rebuild bronze, silver, gold and monitoring.",
)


@dg.schedule(
    job=daily_refresh_job,
    cron_schedule="0 6 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every morning, as of the scheduled date.",
)
def daily_refresh_schedule(context: dg.ScheduleEvaluationContext):
    as_of = context.scheduled_execution_time.date().isoformat()
    return dg.RunRequest(
        run_key=as_of,
        run_config={"resources": {"run_window": {"config": {"as_of_date": as_of}}}},
        tags={"as_of_date": as_of},
    )
