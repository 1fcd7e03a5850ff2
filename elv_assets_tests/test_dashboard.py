"""The marketer dashboard, driven by Streamlit's AppTest on a snapshot published by a real pipeline run.

The session's demo run (one generated world through the whole graph) serves the module. Each test points the
app at that snapshot, or at an empty folder, or at a copy with parts removed, through the same environment
variables a deployment uses.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import uploads
from dashboard.demo import RunProgress
from elv_assets.lakehouse.serving import read_manifest, snapshot_path
from elv_assets.ml.reallocation import what_if
from elv_assets.ml.scoring import FolderRefused, score_folder
from elv_assets.settings import Settings

APP = str(Path(__file__).resolve().parent.parent / "dashboard" / "app.py")
VIEWS = ["overview", "trends", "leaderboards", "pacing", "what_if", "leads", "model_health", "drift_quality", "byod"]


@pytest.fixture
def published(demo_run) -> Settings:
    return demo_run.settings


@pytest.fixture
def app(monkeypatch, tmp_path):
    """AppTest factory: the app pointed at a serving folder (and artifacts), with no LLM and no demo."""
    monkeypatch.delenv("LLM_ENDPOINT", raising=False)
    monkeypatch.setenv("ELV_DEMO_DIR", str(tmp_path / "demo"))

    def start(serving: Path, artifacts: Path, view: str | None = None) -> AppTest:
        monkeypatch.setenv("ELV_SERVING_DIR", str(serving))
        monkeypatch.setenv("ELV_ARTIFACTS_DIR", str(artifacts))
        at = AppTest.from_file(APP, default_timeout=120).run()
        if view:
            at.switch_page(f"views/{view}.py").run()
        return at

    return start


def gold(settings: Settings, table: str) -> pd.DataFrame:
    manifest = read_manifest(settings.serving_dir)
    return pd.read_parquet(snapshot_path(settings.serving_dir, manifest) / manifest["tables"][table]["file"])


def amount(text: str) -> float:
    return float(re.sub(r"[^\d.\-]", "", text))


def metric(at: AppTest, label: str):
    return next(m for m in at.metric if m.label == label)


def no_failure(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


# --- every page --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("view", VIEWS)
def test_every_page_renders_on_a_published_snapshot(app, published, view):
    at = app(published.serving_dir, published.artifacts_dir, view)
    no_failure(at)
    assert at.title and at.title[0].value
    assert not [i.value for i in at.info if "not computed yet" in i.value]  # the full graph computed everything


def test_overview_kpis_are_the_gold_figures_of_the_last_28_days(app, published):
    at = app(published.serving_dir, published.artifacts_dir)
    daily = gold(published, "adset_daily")
    days = pd.to_datetime(daily["date"])
    end = days.max()
    now = daily[days > end - pd.Timedelta(days=28)]
    before = daily[(days <= end - pd.Timedelta(days=28)) & (days > end - pd.Timedelta(days=56))]
    assert amount(metric(at, "Spend").value) == pytest.approx(now["spend"].sum(), abs=0.5)
    assert amount(metric(at, "Leads").value) == now["leads"].sum()
    assert amount(metric(at, "Bookings").value) == now["bookings"].sum()
    assert amount(metric(at, "CPL").value) == pytest.approx(now["spend"].sum() / now["leads"].sum(), abs=0.005)
    expected = f"{now['spend'].sum() / before['spend'].sum() - 1:+.1%} vs previous 28 days"
    assert metric(at, "Spend").delta == expected
    scores = gold(published, "lead_scores")
    created = scores["created_at"].dt.normalize()
    elv = scores.loc[created > end - pd.Timedelta(days=28), "elv"].sum()
    assert amount(metric(at, "Predicted ELV").value) == pytest.approx(elv, abs=0.5)


def test_a_platform_filter_narrows_the_kpis_to_its_campaigns(app, published):
    at = app(published.serving_dir, published.artifacts_dir)
    at.multiselect(key="flt_platforms").select("google").run()
    at.date_input(key="flt_dates").set_value((dt.date(2026, 9, 1), dt.date(2026, 9, 30))).run()
    no_failure(at)
    daily = gold(published, "adset_daily")
    days = pd.to_datetime(daily["date"])
    rows = daily[(daily["platform"] == "google") & (days >= "2026-09-01") & (days <= "2026-09-30")]
    assert amount(metric(at, "Spend").value) == pytest.approx(rows["spend"].sum(), abs=0.5)
    assert amount(metric(at, "Leads").value) == rows["leads"].sum()
    assert "30 days" in at.caption[0].value and "google" in at.caption[0].value


# --- before any run, and with parts missing ----------------------------------------------------------------------


def test_before_any_run_the_app_offers_to_build_the_demo(app, tmp_path):
    at = app(tmp_path / "nothing" / "serving", tmp_path / "nothing" / "artifacts")
    no_failure(at)
    assert at.button(key="build_demo").label == "Build the demo world"
    assert "Nothing computed yet" in at.info[0].value
    at.switch_page("views/byod.py").run()  # the other page of the empty state: uploads need a model
    no_failure(at)


def _copy_without(settings: Settings, root: Path, tables: list[str], documents: list[str]) -> Path:
    """A serving folder whose manifest lacks some tables and documents, as after a partial pipeline."""
    manifest = read_manifest(settings.serving_dir)
    serving = root / "serving"
    shutil.copytree(snapshot_path(settings.serving_dir, manifest), serving / manifest["path"])
    for name in tables:
        manifest["tables"].pop(name)
    for name in documents:
        manifest["documents"].pop(name)
    manifest["not_computed"] = tables
    (serving / "manifest.json").write_text(json.dumps(manifest))
    return serving


@pytest.mark.parametrize("view", VIEWS[:-1])
def test_a_part_not_computed_says_so_instead_of_failing(app, published, tmp_path, view):
    missing = ["lead_scores", "pacing_risk", "bookings_forecast", "spend_response", "budget_recommendation",
               "feature_drift", "data_quality_report", "campaign_leaderboard", "adset_leaderboard"]
    serving = _copy_without(published, tmp_path, missing, ["model", "evaluation", "promotions", "checks"])
    at = app(serving, tmp_path / "no_artifacts", view)
    no_failure(at)
    if view != "overview":
        assert any("not computed yet" in i.value for i in at.info)


def test_an_empty_adset_leaderboard_shows_the_guardrail_reason(app, published, tmp_path):
    serving = _copy_without(published, tmp_path, [], [])
    manifest = read_manifest(serving)
    folder = snapshot_path(serving, manifest)
    board = pd.read_parquet(folder / "adset_leaderboard.parquet")
    board.head(0).to_parquet(folder / "adset_leaderboard.parquet")
    checks = json.loads((folder / "checks.json").read_text())
    reason = "Only 12% of leads carry an ad set (at least 50% needed): the ad-set board is disabled."
    checks.append({"asset": "gold/adset_leaderboard", "check": "enabled", "passed": False, "severity": "WARN",
                   "description": reason})
    checks = [c for c in checks if not (c["asset"] == "gold/adset_leaderboard" and c["check"] == "enabled"
                                        and c["passed"])]
    (folder / "checks.json").write_text(json.dumps(checks))
    at = app(serving, published.artifacts_dir, "leaderboards")
    no_failure(at)
    assert any(reason in w.value for w in at.warning)


# --- interactions --------------------------------------------------------------------------------------------------


def test_applying_the_recommended_budgets_shows_their_expected_change(app, published):
    at = app(published.serving_dir, published.artifacts_dir, "what_if")
    at.button[0].click().run()  # "Apply the recommended budgets"
    no_failure(at)
    recommended = gold(published, "budget_recommendation")
    expected = what_if(gold(published, "spend_response"),
                       dict(zip(recommended["adset_id"], recommended["recommended_budget"].round(), strict=True)))
    shown = metric(at, "ELV per day").value
    assert amount(shown) == pytest.approx(expected["elv"]["change"], abs=1.0)
    assert any(m.value.startswith("With your budgets, a total daily budget") and "likely" in m.value for m in at.markdown)


def test_the_leads_page_filters_by_decile_and_offers_a_download(app, published):
    at = app(published.serving_dir, published.artifacts_dir, "leads")
    at.multiselect(key="leads_deciles").select(1).run()
    no_failure(at)
    table = at.dataframe[0].value
    assert set(table["decile"]) == {1}
    assert table["elv"].is_monotonic_decreasing
    assert at.get("download_button")


# --- bring your own data ---------------------------------------------------------------------------------------------


def _head(path: Path, lines: int) -> bytes:
    with path.open("rb") as f:
        return b"".join(next(f) for _ in range(lines))


def _header_and_tail(path: Path, lines: int) -> bytes:
    """The header and the newest `lines` rows (leads.csv is in created_at order)."""
    rows = path.read_bytes().splitlines(keepends=True)
    return b"".join(rows[:1] + rows[-lines:])


def test_uploaded_leads_are_scored_and_their_campaigns_ranked(app, published):
    at = app(published.serving_dir, published.artifacts_dir, "byod")
    at.file_uploader(key="byod_leads").set_value(("my leads.csv", _head(published.data_dir / "leads.csv", 2001),
                                                  "text/csv"))
    at.file_uploader(key="byod_ads").set_value(("ads.csv", (published.data_dir / "ads.csv").read_bytes(), "text/csv"))
    at.run()
    no_failure(at)
    scored = amount(metric(at, "Leads scored").value)
    assert 1900 < scored <= 2000  # duplicates in the export are dropped, like silver does
    board = at.dataframe[0].value
    assert board["spend"].notna().any() and board["elv_per_spend"].notna().any()
    assert board["leads"].sum() == scored
    assert any("my leads.csv" in e.label for e in at.expander)


def test_an_upload_over_the_caps_is_refused_with_a_reason(app, published, monkeypatch):
    monkeypatch.setenv("ELV_UPLOAD_MAX_ROWS", "1000")
    at = app(published.serving_dir, published.artifacts_dir, "byod")
    at.file_uploader(key="byod_leads").set_value(("leads.csv", _head(published.data_dir / "leads.csv", 2001),
                                                  "text/csv")).run()
    no_failure_but_refusal = [e.value for e in at.error]
    assert not at.exception
    assert len(no_failure_but_refusal) == 1 and "limit here is 1,000 rows" in no_failure_but_refusal[0]
    assert not at.metric

    monkeypatch.setenv("ELV_UPLOAD_MAX_MB", "1")
    big = b"lead_id,created_at,campaign_id\n" + b"L1,2026-01-01,c1\n" * 70_000
    assert uploads.refusal(uploads.Upload("leads.csv", big)).endswith("the limit here is 1 MB per file.")


def test_a_malformed_or_non_csv_upload_shows_the_report_not_a_traceback(app, published):
    at = app(published.serving_dir, published.artifacts_dir, "byod")
    at.file_uploader(key="byod_leads").set_value(("leads.xlsx", b"PK\x03\x04binary", "application/zip")).run()
    assert not at.exception
    assert "leads.xlsx is not a CSV file" in at.error[0].value

    no_date = b"lead_id,campaign_id,form\nL1,cmp_001,demo\nL2,cmp_002,demo\n"
    at.file_uploader(key="byod_leads").set_value(("crm.csv", no_date, "text/csv")).run()
    assert not at.exception
    assert "cannot be scored" in at.error[0].value
    assert any("missing required column(s): created_at" in c.value for c in at.code)

    at.file_uploader(key="byod_leads").set_value(("leads.csv", b"\x00\x01\x02 not text", "text/csv")).run()
    assert not at.exception
    assert any("not a CSV text file" in c.value for c in at.code)


# --- the plain functions behind the pages ------------------------------------------------------------------------------


def test_score_folder_scores_like_the_pipeline_without_the_warehouse(published, tmp_path):
    folder = tmp_path / "upload"
    folder.mkdir()
    # the newest leads: the pipeline scored them with the serving model too (it shows the leads it learned from
    # with their out-of-fold scores, which an upload of new leads never gets)
    (folder / "leads.csv").write_bytes(_header_and_tail(published.data_dir / "leads.csv", 3000))
    for name in ("ads.csv", "adsets.csv", "mapping.csv", "outcomes.csv"):
        shutil.copy(published.data_dir / name, folder / name)
    result = score_folder(folder, published.artifacts_dir)
    pipeline = gold(published, "lead_scores").set_index("lead_id")
    mine = result.scores.set_index("lead_id")
    assert len(mine) > 2900 and mine.index.isin(pipeline.index).all()
    assert (pipeline.loc[mine.index, "scored_by"] == "serving model").all()
    both = pipeline.loc[mine.index]
    assert (mine["p_qualified_14d"] - both["p_qualified_14d"]).abs().max() < 1e-9
    assert (mine["elv"] - both["elv"]).abs().max() < 1e-6
    assert result.campaigns["spend"].notna().all() and result.campaigns["qualified_so_far"].notna().all()
    assert all(r.present and not r.blocking for r in result.reports.values())


def test_score_folder_refuses_a_bad_leads_file_with_every_report(published, tmp_path):
    folder = tmp_path / "upload"
    folder.mkdir()
    (folder / "leads.csv").write_text("lead_id,created_at,campaign_id\nL1,not a date,cmp_001\nL2,,cmp_001\n")
    with pytest.raises(FolderRefused) as refused:
        score_folder(folder, published.artifacts_dir, display_names={"leads": "crm_export.csv"})
    report = refused.value.reports["leads"]
    assert report.blocking and report.file == "crm_export.csv"
    assert "crm_export.csv, column created_at" in str(refused.value)


def test_demo_progress_follows_the_runner_lines():
    seen = []
    progress = RunProgress(lambda share, text: seen.append((round(share, 3), text)), offset=0.1)
    progress("Materialising 4 asset(s) from raw into warehouse.duckdb")
    progress("  ok   bronze/ads                           0.55 s")
    progress("       bronze/ads: a warning line")
    progress("  FAIL silver/ads                           0.10 s")
    assert seen == [(0.1, "running the pipeline"), (0.325, "bronze/ads done"), (0.55, "silver/ads FAILED")]
