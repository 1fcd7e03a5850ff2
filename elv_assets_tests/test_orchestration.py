"""Jobs, schedules and sensors: what each job runs, the dates they pass, new files, failed-run alerts."""

import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import dagster as dg

from elv_assets.definitions import defs
from elv_assets.defs import ALL_ASSETS
from elv_assets.defs.jobs import TRAINING_KEYS, alert_on_run_failure, data_folder_sensor
from elv_assets.defs.resources import build_resources
from elv_assets_tests.tiny_world import ADS


def _keys(job_name: str) -> set[str]:
    job = defs.resolve_job_def(job_name)
    return {k.to_user_string() for k in job.asset_layer.executable_asset_keys}


def test_daily_refresh_scores_and_publishes_but_trains_nothing():
    daily, weekly = _keys("daily_refresh"), _keys("weekly_retrain")
    assert {"gold/lead_scores", "monitoring/feature_drift", "serving/snapshot", "gold/bookings_forecast",
            "gold/pacing_risk", "bronze/leads"} <= daily
    assert not daily & {k.to_user_string() for k in TRAINING_KEYS}
    assert {"ml/candidate_models", "ml/calibrator", "ml/evaluation", "ml/serving_model", "ml/bookings_model",
            "ml/pacing_risk_model"} <= weekly
    assert daily | weekly == {s.key.to_user_string() for s in defs.resolve_asset_graph().asset_nodes}


def test_both_schedules_run_by_default_and_pass_their_date():
    for name, when, job in [("daily_refresh_schedule", dt.datetime(2026, 3, 9, 6), "daily_refresh"),
                            ("weekly_retrain_schedule", dt.datetime(2026, 3, 9, 5), "weekly_retrain")]:
        schedule = defs.resolve_schedule_def(name)
        assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING and schedule.job_name == job
        assert schedule.execution_timezone == "UTC"
        request = schedule.evaluate_tick(dg.build_schedule_context(scheduled_execution_time=when)).run_requests[0]
        assert request.run_config["resources"]["run_window"]["config"]["as_of_date"] == "2026-03-08"  # the day before
    for job in ("daily_refresh", "weekly_retrain"):
        assert defs.resolve_job_def(job).op_retry_policy.max_retries == 3


def test_the_data_folder_sensor_fires_once_per_distinct_set_of_files(tmp_path, monkeypatch):
    monkeypatch.setenv("ELV_DATA_DIR", str(tmp_path))
    assert isinstance(data_folder_sensor(dg.build_sensor_context()), dg.SkipReason)  # no CSV yet
    (tmp_path / "leads.csv").write_text("lead_id,created_at\nL1,2026-03-01\n")
    context = dg.build_sensor_context()
    first = data_folder_sensor(context)
    assert isinstance(first, dg.RunRequest)
    again = data_folder_sensor(dg.build_sensor_context(cursor=context.cursor))
    assert isinstance(again, dg.SkipReason) and "not changed" in again.skip_message
    (tmp_path / "leads.csv").write_text("lead_id,created_at\nL1,2026-03-01\nL2,2026-03-02\n")
    changed = data_folder_sensor(dg.build_sensor_context(cursor=context.cursor))
    assert isinstance(changed, dg.RunRequest) and changed.run_key != first.run_key


class _Hook(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Hook.received.append(json.loads(body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_a_failed_run_posts_a_summary_to_the_webhook(tiny_settings, monkeypatch):
    (tiny_settings.data_dir / "ads.csv").write_text(ADS.replace(",Meta,", ",,", 1))  # a blank platform: contract fails
    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize(ALL_ASSETS, resources=build_resources(tiny_settings), instance=instance,
                            selection=dg.AssetSelection.from_string("key:bronze/ads"), raise_on_error=False)
    assert not result.success
    run = instance.get_run_by_id(result.run_id)
    [failure] = instance.all_logs(result.run_id, of_type=dg.DagsterEventType.RUN_FAILURE)

    server = HTTPServer(("127.0.0.1", 0), _Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("ELV_ALERT_WEBHOOK", f"http://127.0.0.1:{server.server_port}/hook")
    monkeypatch.setenv("ELV_DAGSTER_URL", "http://dagster.example:3000")
    _Hook.received.clear()
    try:
        context = dg.build_run_status_sensor_context(
            sensor_name="alert_on_run_failure", dagster_event=failure.dagster_event, dagster_instance=instance,
            dagster_run=run).for_run_failure()
        alert_on_run_failure(context)
    finally:
        server.shutdown()
    [payload] = _Hook.received
    assert payload["run_id"] == result.run_id and payload["failed_steps"] == ["bronze/ads"]
    assert payload["error"].startswith("ads.csv failed its contract") and "column platform" in payload["error"]
    assert payload["link"] == f"http://dagster.example:3000/runs/{result.run_id}"
    assert payload["text"].startswith("ELV platform: run of ") and "failed at bronze/ads" in payload["text"]


def test_an_unreachable_webhook_does_not_break_the_sensor():
    from elv_assets.alerts import post

    result = post("http://127.0.0.1:9/nothing-listens-here", {"text": "x"}, timeout=1)
    assert not result.sent and result.detail.startswith("not sent")
