"""The marketer dashboard, driven by Streamlit's AppTest on a snapshot published by a real pipeline run.

The session's demo run (one generated world through the whole graph) serves the module. Each test points the
app at that snapshot, or at an empty folder, or at a copy with parts removed, through the same environment
variables a deployment uses.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import uploads
from dashboard.bundle import DEFAULT_BUNDLE, INFO, write_bundle
from dashboard.demo import RunProgress, build_demo
from dashboard.ui import NEEDS_ADS, NEEDS_CRM
from elv_assets.lakehouse.manifest import read_manifest, snapshot_path
from elv_assets.ml.reallocation import what_if
from elv_assets.ml.scoring import FolderRefused, score_folder
from elv_assets.settings import Settings
from elv_assets_tests.conftest import DASHBOARD_APP, settings_in
from elv_assets_tests.helpers import materialize_all
from elv_assets_tests.tiny_world import write_tiny_world

APP = DASHBOARD_APP
VIEWS = ["overview", "trends", "leaderboards", "pacing", "what_if", "leads", "model_health", "came_true", "drift_quality",
         "byod"]


def gold(settings: Settings, table: str) -> pd.DataFrame:
    manifest = read_manifest(settings.serving_dir)
    return pd.read_parquet(snapshot_path(settings.serving_dir, manifest) / manifest["tables"][table]["file"])


def document(settings: Settings, name: str):
    manifest = read_manifest(settings.serving_dir)
    return json.loads((snapshot_path(settings.serving_dir, manifest) / manifest["documents"][name]).read_text())


def frame_with(at: AppTest, column: str) -> pd.DataFrame:
    """The one table on the page that has this column."""
    found = [d.value for d in at.dataframe if column in d.value.columns]
    assert len(found) == 1, [list(d.value.columns) for d in at.dataframe]
    return found[0]


def chart(at: AppTest, key: str) -> dict:
    """The Plotly figure drawn under this key, as the browser gets it."""
    return next(json.loads(c.proto.spec) for c in at.get("plotly_chart") if c.proto.id.endswith(f"-{key}"))


def values(array) -> list[float]:
    """A figure's data array: Plotly sends numbers as a typed array ({"dtype": "f8", "bdata": base64}) or a list."""
    if isinstance(array, dict):
        return np.frombuffer(base64.b64decode(array["bdata"]), dtype=array["dtype"]).tolist()
    return list(array)


def texts(at: AppTest) -> str:
    return "\n".join(e.value for kind in (at.caption, at.markdown, at.info) for e in kind)


def amount(text: str) -> float:
    return float(re.sub(r"[^\d.\-]", "", text.replace("\u2212", "-")))  # money's minus sign: −£187


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
    assert not [i.value for i in at.info if NEEDS_CRM in i.value or NEEDS_ADS in i.value]  # every file is there


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
               "feature_drift", "data_quality_report", "campaign_leaderboard", "adset_leaderboard",
               "realised_vs_predicted", "elv_history"]
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


def _partial_world(root: Path, **missing: None) -> Settings:
    """A tiny world without some input files, through the whole graph: the snapshot of an ads-only or CRM-only
    folder (the lead chain or the spend chain skips, with its reason)."""
    settings = settings_in(root, write_tiny_world(root / "raw", **missing))
    assert materialize_all(settings, selection="*").success
    return settings


def test_an_ads_only_snapshot_says_the_lead_pages_need_crm_data(app, tmp_path):
    ads_only = _partial_world(tmp_path, leads_csv=None, outcomes_csv=None)
    for view in VIEWS[:-1]:
        at = app(ads_only.serving_dir, ads_only.artifacts_dir, view)
        no_failure(at)
        said = [i.value for i in at.info if NEEDS_CRM in i.value]
        if view in ("leads", "leaderboards", "model_health", "came_true"):
            assert said, (view, [i.value for i in at.info])
            assert not [i.value for i in at.info if "not computed yet" in i.value and "lead" in i.value.lower()]
        if view in ("leads", "leaderboards"):
            assert not at.dataframe and not at.metric  # the message instead of empty tables and zero figures
        if view == "model_health":
            assert "The other models" in at.expander[0].label  # the ad-side models keep their place
        assert not [i.value for i in at.info if NEEDS_ADS in i.value]  # the ad files are there


def test_a_crm_only_snapshot_says_the_spend_pages_need_ad_platform_data(app, tmp_path):
    crm_only = _partial_world(tmp_path, ads_csv=None, adsets_csv=None, conversions_csv=None)
    for view, parts in (("pacing", 2), ("what_if", 1)):
        at = app(crm_only.serving_dir, crm_only.artifacts_dir, view)
        no_failure(at)
        assert len([i.value for i in at.info if NEEDS_ADS in i.value]) == parts, [i.value for i in at.info]
    at = app(crm_only.serving_dir, crm_only.artifacts_dir, "overview")
    no_failure(at)
    assert any(c.value.startswith("Spend, ROAS, CPL and ELV per spend need ad-platform data: add ads.csv")
               for c in at.caption)
    assert not any(NEEDS_CRM.replace("needs", "need", 1) in c.value for c in at.caption)  # the leads are there


# --- the lead value on the pages ---------------------------------------------------------------------------------


def test_model_health_shows_the_value_check_and_the_columns_left_out(app, published):
    at = app(published.serving_dir, published.artifacts_dir, "model_health")
    no_failure(at)
    model, check = document(published, "model"), document(published, "value_check")
    expected = pd.DataFrame(check["deciles"])
    assert len(expected) == 10  # the demo world has enough held-out qualified leads for the check

    shown = frame_with(at, "within_band")
    pd.testing.assert_frame_equal(shown[expected.columns].reset_index(drop=True), expected, check_dtype=False)
    fig = chart(at, "mh_value_check")
    traces = {t.get("name"): t for t in fig["data"]}
    assert values(traces["Realised"]["y"]) == pytest.approx(expected["realised"].tolist())
    assert values(traces["Predicted"]["y"]) == pytest.approx(expected["predicted"].tolist())
    band = next(t for name, t in traces.items() if name and name.startswith("Band: predicted ± 3 standard errors"))
    lower = (expected["predicted"] - 3 * expected["se"]).clip(lower=0)
    assert values(band["y"]) == pytest.approx(lower.tolist())
    inside = int(expected["within_band"].sum())
    assert any(f"within the band in {inside} of 10 tenths" in c.value for c in at.caption)

    campaigns, by_campaign = frame_with(at, "campaign"), pd.DataFrame(check["by_campaign"])
    assert campaigns[["qualified", "won", "predicted", "realised"]].sum().to_dict() == pytest.approx(
        by_campaign[["qualified", "won", "predicted", "realised"]].sum().to_dict())
    names = gold(published, "campaigns").set_index("campaign_id")["campaign_name"].to_dict()
    assert set(campaigns["campaign"]) == {names.get(c, c) for c in by_campaign["campaign"]}
    assert not campaigns["campaign"].str.startswith("cmp_").any()  # names, not ids

    left_out = frame_with(at, "why").set_index("column")["why"]
    assert "sales_stage" in left_out.index  # the demo's post-contact column, kept out by the guard
    assert left_out.to_dict() == {c: "; ".join(r) for c, r in model["excluded_features"].items()}

    learned = model["value_per_qualified"]["learned_from"]
    assert amount(metric(at, "Learned from").value) == learned["qualified"]
    assert amount(metric(at, "Won among them").value) == learned["won"]
    assert metric(at, "Value found by").value == "Learned per lead"
    assert model["trained_on"] == "all mature leads"
    assert metric(at, "Serves after learning from").value == "All mature leads"
    page = texts(at)
    assert "refitted on all mature leads" in page and "held-out version" in page
    assert f"{check['value_window_days']}-day value window" in page
    assert "each campaign has its own" not in page


def test_the_leads_page_shows_each_leads_value_if_qualified_and_why(app, published):
    at = app(published.serving_dir, published.artifacts_dir, "leads")
    no_failure(at)
    table = at.dataframe[0].value
    scores = gold(published, "lead_scores").set_index("lead_id")
    mine = table.set_index("lead_id")
    both = scores.loc[mine.index]
    assert mine["expected_value_if_qualified"].to_numpy() == pytest.approx(both["expected_value_if_qualified"].to_numpy())
    assert mine["elv"].to_numpy() == pytest.approx((mine["p_qualified_14d"] * mine["expected_value_if_qualified"])
                                                   .to_numpy())
    assert (mine["value_reason"] == both["value_reason"]).all() and mine["value_reason"].str.contains("deal").any()
    columns = list(table.columns)
    assert columns.index("p_qualified_14d") < columns.index("expected_value_if_qualified") < columns.index("elv")
    assert any(c.value.startswith("ELV = the chance this lead qualifies") for c in at.caption)
    older = int((mine["scored_by"] != "serving model").sum())
    assert older > 0  # the last 28 days reach back into the leads the refitted model learned from
    assert any(c.value.startswith(f"{older:,} of these leads are old enough") and "out of fold" in c.value
               for c in at.caption)

    daily = gold(published, "adset_daily")
    last = max(pd.to_datetime(daily["date"]).max(), scores["created_at"].max().normalize())
    window = scores[scores["created_at"] >= last - pd.Timedelta(days=27)]
    assert amount(metric(at, "Average value if qualified").value) == pytest.approx(
        window["expected_value_if_qualified"].mean(), abs=0.5)


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


# --- the bundled demo (dashboard/bundle.py) ----------------------------------------------------------------------


def test_with_nothing_published_the_app_opens_on_the_bundled_demo_and_scores_uploads(app, published, tmp_path,
                                                                                      monkeypatch):
    bundle = tmp_path / "bundle"
    info = write_bundle(published, bundle)
    assert sorted(p.name for p in bundle.iterdir()) == ["artifacts", INFO, "serving"]
    assert info["lead_scores"] == read_manifest(published.serving_dir)["tables"]["lead_scores"]["rows"]
    monkeypatch.setenv("ELV_DEMO_BUNDLE", str(bundle))
    nothing = tmp_path / "nothing"
    at = app(nothing / "serving", nothing / "artifacts")
    no_failure(at)
    assert any("bundled demo" in w.value for w in at.warning)
    spend, leads = metric(at, "Spend").value, metric(at, "Leads").value

    at.switch_page("views/byod.py").run()  # score-first: an upload is scored with the bundle's model at once
    upload = _header_and_tail(published.data_dir / "leads.csv", 500)
    at.file_uploader(key="byod_leads").set_value(("my_leads.csv", upload, "text/csv")).run()
    no_failure(at)
    distinct = pd.read_csv(io.BytesIO(upload), usecols=["lead_id"])["lead_id"].nunique()  # the demo repeats a few
    assert metric(at, "Leads scored").value == f"{distinct:,}"
    at.switch_page("views/get_started.py").run()
    assert "bundled demo" in at.info[0].value and at.button(key="build_demo")

    own = app(published.serving_dir, published.artifacts_dir)  # a snapshot of one's own wins over the bundle
    assert not any("bundled demo" in w.value for w in own.warning)
    assert (metric(own, "Spend").value, metric(own, "Leads").value) == (spend, leads)  # the bundle is that run's


def test_the_committed_bundle_has_every_table_and_its_model_still_scores(published, tmp_path):
    """dashboard/demo_bundle is built by `make demo-bundle` and committed: it must publish what a run publishes now
    and its pickled model must load with this code (else: rebuild it with `make demo-bundle` and commit it)."""
    info = json.loads((DEFAULT_BUNDLE / INFO).read_text())
    assert info["bytes"] < 5_000_000
    manifest = read_manifest(DEFAULT_BUNDLE / "serving")
    now = read_manifest(published.serving_dir)
    assert set(manifest["tables"]) == set(now["tables"]), "make demo-bundle: the snapshot's tables changed"
    assert set(manifest["documents"]) == set(now["documents"]), "make demo-bundle: the snapshot's documents changed"
    folder = snapshot_path(DEFAULT_BUNDLE / "serving", manifest)
    for name, entry in manifest["tables"].items():
        assert len(pd.read_parquet(folder / entry["file"])) == entry["rows"], name
    upload = tmp_path / "upload"
    upload.mkdir()
    (upload / "leads.csv").write_bytes(_header_and_tail(published.data_dir / "leads.csv", 300))
    result = score_folder(upload, DEFAULT_BUNDLE / "artifacts")
    assert len(result.scores) == result.scores["lead_id"].nunique() > 290
    assert result.scores["p_qualified_14d"].between(0, 1).all()
    assert result.scores["elv"].gt(0).all()


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


def test_a_demo_build_past_its_cap_is_stopped_and_says_so(tmp_path):
    seen = []
    ok, failures = build_demo(lambda share, text: seen.append(text), tmp_path / "demo", timeout=1.0)
    assert not ok and "stopped after 1 s" in failures[-1]
    assert seen[0] == "generating the demo world" and seen[-1] == "failed"
    assert not (tmp_path / "demo" / "serving" / "manifest.json").exists()
