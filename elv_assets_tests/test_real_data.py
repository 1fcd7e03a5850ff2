"""Bring-your-own-data on a real public export: it maps onto the contracts and loads through silver."""

import pytest

from elv_assets.demo.real_data import REAL_FILE, import_online_advertising
from elv_assets.lakehouse.validation import validate_folder
from elv_assets.settings import Settings
from elv_assets_tests.helpers import materialize_all, query

pytestmark = pytest.mark.skipif(not REAL_FILE.exists(), reason="../shared/data/real is not beside this checkout")


def test_real_export_validates_and_loads_into_silver(tmp_path):
    counts = import_online_advertising(REAL_FILE, tmp_path / "raw")
    assert counts == {"ads.csv": 15408, "conversions.csv": 1248}

    report = validate_folder(tmp_path / "raw")
    ads = report.files["ads"]
    assert not ads.blocking, ads.to_text()
    assert ads.date_range["date"] == ["2020-04-01", "2020-06-30"]
    warnings = {p.rule: p.count for p in ads.warnings}
    assert warnings["exact duplicate rows (silver keeps one)"] == 5
    assert warnings["more clicks than impressions"] == 2
    assert not report.files["conversions"].blocking

    settings = Settings(tmp_path / "raw", tmp_path / "w.duckdb", tmp_path / "s", tmp_path / "a", "")
    result = materialize_all(settings, selection="key:bronze/ads or key:silver/ads or key:bronze/conversions or key:silver/conversions")
    assert result.success
    totals = query(settings, "SELECT count(*) AS n, round(sum(spend)) AS spend, sum(clicks) AS clicks FROM silver.ads")
    # The source's documented totals (SOURCE.md): cost 175,193 and clicks 2,492,837, less the 5 duplicates.
    assert totals.n.item() == 15403
    assert abs(totals.spend.item() - 175193) < 200
    assert abs(totals.clicks.item() - 2492837) < 5000


def test_the_real_ad_export_alone_runs_end_to_end(tmp_path):
    """No CRM files: the lakehouse, pacing against usual spend, spend response and next-day forecasts on the
    platform's own conversions run; the lead chain is skipped with its reason; the run succeeds."""
    from elv_assets.runner import run_assets

    import_online_advertising(REAL_FILE, tmp_path / "raw")
    settings = Settings(tmp_path / "raw", tmp_path / "w.duckdb", tmp_path / "s", tmp_path / "a", "")
    outcome = run_assets(settings, echo=lambda _line: None)
    assert outcome.success, outcome.failures
    assert "No CRM leads (leads.csv is absent or empty)" in outcome.skipped["ml/candidate_models"]
    assert set(outcome.skipped) >= {"gold/lead_scores", "gold/campaign_leaderboard", "ml/run_report"}
    # every lead asset names the real cause (no CRM export), not "no model yet"
    lead_chain = ("gold/lead_scores", "gold/campaign_leaderboard", "gold/adset_leaderboard", "ml/run_report",
                  "monitoring/feature_drift")
    assert all(outcome.skipped[k].startswith("No CRM leads") for k in lead_chain), \
        {k: outcome.skipped[k] for k in lead_chain}
    assert not {"gold/pacing_risk", "gold/spend_response", "gold/bookings_forecast"} & set(outcome.skipped)

    risk = query(settings, "SELECT * FROM gold.pacing_risk")
    assert len(risk) > 5 and (risk.budget_source == "usual spend").all() and risk.p_under_pace.between(0, 1).all()
    curves = query(settings, "SELECT outcome, a_qualified FROM gold.spend_response")
    assert len(curves) > 5 and (curves.outcome == "platform-reported conversions").all()
    forecast = query(settings, "SELECT measure, kind, max(date)::DATE AS last FROM gold.bookings_forecast GROUP BY ALL")
    assert set(forecast.measure) == {"platform_conversions"}
    assert str(forecast.loc[forecast.kind == "forecast", "last"].item())[:10] == "2020-07-01"  # the day after
