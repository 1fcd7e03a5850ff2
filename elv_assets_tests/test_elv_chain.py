"""The whole ELV chain materialised in-process on a generated world, and its refusals."""

import pandas as pd
import pytest

from elv_assets.cli import main
from elv_assets.lakehouse.files import SERVING_MODEL_KEY, ArtifactStore
from elv_assets.ml.training import EVALUATION_KEY
from elv_assets_tests.conftest import settings_in
from elv_assets_tests.helpers import check_results, materialize_all, query


@pytest.fixture
def chain(demo_run):
    return demo_run.settings, demo_run.result


def test_the_whole_graph_materialises_with_its_checks(chain):
    settings, result = chain
    assert result.success
    checks = check_results(result)
    for key in [("gold/lead_labels", "enough_labels"), ("ml/evaluation", "calibration"),
                ("ml/evaluation", "beats_campaign_rate"), ("ml/evaluation", "leakage_tripwire"),
                ("ml/serving_model", "promotion"), ("gold/lead_scores", "contract"),
                ("gold/adset_leaderboard", "contract"), ("gold/pacing_risk", "contract"),
                ("gold/bookings_forecast", "contract"), ("ml/pacing_risk_model", "beats_naive")]:
        assert checks[key].passed, (key, checks[key].description)
    assert checks[("ml/serving_model", "promotion")].description == "Promoted: no model was serving"


def test_labels_split_and_scores_hang_together(chain):
    settings, _ = chain
    labels = query(settings, "SELECT label_status, count(*) n FROM gold.lead_labels GROUP BY 1").set_index("label_status")
    scores = query(settings, "SELECT split, count(*) n, count(label) labelled, min(p_qualified_14d) lo, "
                             "max(p_qualified_14d) hi FROM gold.lead_scores GROUP BY 1").set_index("split")
    assert scores["n"].sum() == labels["n"].sum()  # every lead is scored, labelled or not
    mature = labels.loc["negative", "n"] + query(
        settings, "SELECT count(*) n FROM gold.lead_labels WHERE mature AND label = 1").iloc[0, 0]
    assert scores.loc[["train", "calib", "test"], "n"].sum() == mature
    assert scores.loc["test", "n"] == pytest.approx(0.2 * mature, abs=2)
    assert (scores["lo"] >= 0).all() and (scores["hi"] <= 1).all()
    bounds = query(settings, "SELECT split, min(created_at) lo, max(created_at) hi FROM gold.training_table "
                             "GROUP BY 1").set_index("split")
    assert bounds.loc["train", "hi"] < bounds.loc["calib", "lo"] <= bounds.loc["calib", "hi"] < bounds.loc["test", "lo"]


def test_the_model_beats_the_baseline_and_is_calibrated_on_the_test_split(chain):
    settings, _ = chain
    evaluation = ArtifactStore(settings.artifacts_dir).load(EVALUATION_KEY)
    model, base = evaluation["metrics"]["model"], evaluation["metrics"]["campaign_rate"]
    assert model["pr_auc"] > base["pr_auc"] + 0.05
    assert model["ece_width"] < 0.03
    assert model["n"] == evaluation["n_test"]
    truth = pd.read_csv(settings.data_dir / "truth" / "leads_truth.csv")
    test = query(settings, "SELECT lead_id, label, p_qualified_14d FROM gold.lead_scores WHERE split = 'test'")
    joined = test.merge(truth, on="lead_id")
    from sklearn.metrics import average_precision_score

    best = average_precision_score(joined["label"], joined["p_qualified_true"])
    assert model["pr_auc"] / best > 0.9  # close to what the true probabilities achieve


def test_elv_is_probability_times_the_lead_value_and_ranks_are_dense(chain):
    settings, _ = chain
    scores = query(settings, "SELECT s.*, f.* EXCLUDE (lead_id, campaign_id, adset_id, created_at) "
                             "FROM gold.lead_scores s JOIN gold.lead_features f USING (lead_id)")
    bundle = ArtifactStore(settings.artifacts_dir).load(SERVING_MODEL_KEY)
    value = bundle.value.expected(scores)
    assert bundle.value.source == "learned" and value.std() > 0.2 * value.mean()  # per lead, not per campaign
    assert (scores["expected_value_if_qualified"] - value).abs().max() < 1e-6 * value.max()
    assert (scores["elv"] - scores["p_qualified_14d"] * value).abs().max() < 1e-6 * value.max()
    assert sorted(scores["rank"]) == list(range(1, len(scores) + 1))
    top = scores.sort_values("rank")
    assert top["elv"].is_monotonic_decreasing and top["decile"].is_monotonic_increasing
    assert scores["reason_1"].str.contains(r" is .+ \((?:raises|lowers) the chance\)$").all()


def test_leaderboards_add_up_to_the_scores_in_their_window(chain):
    settings, _ = chain
    board = query(settings, "SELECT * FROM gold.campaign_leaderboard")
    window = query(settings, "SELECT count(*) n, sum(elv) elv, sum(elv_given_age) elv_now, sum(p_given_age) p_now, "
                             "count(*) FILTER (WHERE label = 1) qualified FROM gold.lead_scores WHERE created_at >= "
                             "(SELECT min(window_start) FROM gold.campaign_leaderboard)").iloc[0]
    assert board["leads"].sum() == window["n"]
    # the board sums the age-aware figures; the ELV scored at creation stays beside them
    assert board["predicted_elv"].sum() == pytest.approx(window["elv_now"])
    assert board["predicted_qualified"].sum() == pytest.approx(window["p_now"])
    assert board["predicted_elv_at_creation"].sum() == pytest.approx(window["elv"])
    assert board["predicted_qualified"].sum() >= window["qualified"]  # a lead that has qualified counts 1
    ranked = board.dropna(subset=["rank"]).sort_values("rank")
    with_spend = ranked["elv_per_spend"].notna()
    assert ranked.loc[with_spend, "elv_per_spend"].is_monotonic_decreasing
    assert with_spend.iloc[: with_spend.sum()].all()  # segments with spend rank before those without
    assert board.loc[board["campaign_id"] == "(unattributed)", "rank"].isna().all()
    assert (board.loc[board["low_volume"], "rank"].isna()).all()
    adsets = query(settings, "SELECT count(*) n FROM gold.adset_leaderboard").iloc[0, 0]
    assert adsets > 0


def test_drift_finds_the_injected_shift_and_the_report_is_written(chain):
    settings, result = chain
    drift = query(settings, "SELECT * FROM monitoring.feature_drift")
    assert 5 <= len(drift) <= 10
    assert set(drift["band"]) <= {"stable", "moderate", "major"}
    check = check_results(result)[("monitoring/feature_drift", "drift")]
    assert check.passed == (drift["band"] == "stable").all()


def test_a_second_run_keeps_or_promotes_with_a_reason(demo_run, tmp_path):
    import shutil

    settings = settings_in(tmp_path, demo_run.settings.data_dir)
    shutil.copy(demo_run.settings.warehouse, settings.warehouse)
    shutil.copytree(demo_run.settings.artifacts_dir, settings.artifacts_dir)
    again = materialize_all(settings, selection="key:ml/serving_model")
    assert again.success
    description = check_results(again)[("ml/serving_model", "promotion")].description
    # the same recipe on the same window is as good: promoted, judged by its recipe refitted on the train split
    assert description.startswith("Promoted: not worse beyond the noise")
    assert "it had learned from leads of the test window" in description


def test_elv_score_gives_the_pipeline_scores_for_the_same_leads(chain, tmp_path, monkeypatch, capsys):
    settings, _ = chain
    monkeypatch.setenv("ELV_WAREHOUSE", str(settings.warehouse))
    monkeypatch.setenv("ELV_ARTIFACTS_DIR", str(settings.artifacts_dir))
    lines = (settings.data_dir / "leads.csv").read_text().splitlines()
    # the leads the pipeline scored with the serving model (those it learned from show out-of-fold scores)
    fresh = set(query(settings, "SELECT lead_id FROM gold.lead_scores WHERE scored_by = 'serving model'")["lead_id"])
    new = tmp_path / "new_leads.csv"
    new.write_text("\n".join(lines[:1] + [ln for ln in lines[1:] if ln.split(",")[0] in fresh][:400]) + "\n")
    out = tmp_path / "scored.csv"
    assert main(["score", "--leads", str(new), "--out", str(out)]) == 0
    kind = ArtifactStore(settings.artifacts_dir).load(SERVING_MODEL_KEY).kind
    assert f"with the serving {kind} model" in capsys.readouterr().out
    scored = pd.read_csv(out)
    pipeline = query(settings, "SELECT lead_id, p_qualified_14d FROM gold.lead_scores")
    both = scored.merge(pipeline, on="lead_id", suffixes=("_cli", "_pipeline"))
    assert len(both) == len(scored) >= 390
    assert (both["p_qualified_14d_cli"] - both["p_qualified_14d_pipeline"]).abs().max() < 1e-5


def test_elv_score_refuses_a_file_that_fails_the_contract(chain, tmp_path, monkeypatch, capsys):
    settings, _ = chain
    monkeypatch.setenv("ELV_WAREHOUSE", str(settings.warehouse))
    monkeypatch.setenv("ELV_ARTIFACTS_DIR", str(settings.artifacts_dir))
    bad = tmp_path / "bad.csv"
    bad.write_text("lead_id,created_at,campaign_id\nX1,31/02/2026,cmp_001\n")
    assert main(["score", "--leads", str(bad), "--out", str(tmp_path / "o.csv")]) == 1
    err = capsys.readouterr().err
    assert "bad.csv, column created_at: unparseable date" in err and "line 2" in err
    assert not (tmp_path / "o.csv").exists()


def test_too_few_labels_skips_the_model_and_says_how_many_more(tiny_settings):
    result = materialize_all(tiny_settings, selection="*")
    assert result.success  # partial data runs with what it has
    check = check_results(result)[("gold/lead_labels", "enough_labels")]
    assert not check.passed
    assert "need 500:" in check.description and "more)" in check.description
    skipped = {e.asset_key.to_user_string(): e.materialization.metadata["skipped"].value
               for e in result.get_asset_materialization_events() if "skipped" in e.materialization.metadata}
    assert "need 500:" in skipped["ml/candidate_models"]
    # the real cause travels down the chain, not "no model yet"
    assert skipped["gold/lead_scores"] == skipped["ml/serving_model"] and "need 500:" in skipped["gold/lead_scores"]
    assert "need 500:" in skipped["gold/campaign_leaderboard"] and "need 500:" in skipped["ml/run_report"]
    assert not ArtifactStore(tiny_settings.artifacts_dir).exists(SERVING_MODEL_KEY)
    assert query(tiny_settings, "SELECT count(*) n FROM gold.lead_scores").iloc[0, 0] == 0


def test_leads_and_outcomes_alone_still_score_and_rank_campaigns(demo_world, tmp_path):
    crm = tmp_path / "raw"
    crm.mkdir()
    for name in ("leads.csv", "outcomes.csv"):
        (crm / name).write_bytes((demo_world / name).read_bytes())
    settings = settings_in(tmp_path, crm)
    result = materialize_all(settings, selection="*")
    assert result.success
    features = query(settings, "SELECT count(adset_spend_7d) n FROM gold.lead_features").iloc[0, 0]
    assert features == 0  # no ads: ad features are absent
    bundle = ArtifactStore(settings.artifacts_dir).load(SERVING_MODEL_KEY)
    assert not any(c.startswith(("adset_", "campaign_")) and c not in ("adset_id", "campaign_id")
                   for c in bundle.columns.all)
    board = query(settings, "SELECT * FROM gold.campaign_leaderboard")
    assert len(board) > 0 and board["spend"].isna().all() and board["rank"].notna().any()
    skipped = {e.asset_key.to_user_string(): e.materialization.metadata["skipped"].value
               for e in result.get_asset_materialization_events() if "skipped" in e.materialization.metadata}
    assert "No ads.csv rows" in skipped["gold/adset_leaderboard"]
    assert query(settings, "SELECT count(*) n FROM gold.adset_leaderboard").iloc[0, 0] == 0
    assert query(settings, "SELECT count(*) n FROM gold.pacing_risk").iloc[0, 0] == 0  # no spend, no pacing
    assert "Pacing cannot be learned" in skipped["ml/pacing_risk_model"]
    assert "Pacing cannot be learned" in check_results(result)[("ml/pacing_risk_model", "beats_naive")].description
    assert query(settings, "SELECT count(*) n FROM gold.bookings_forecast WHERE kind = 'forecast'").iloc[0, 0] > 0


def test_pacing_and_bookings_tables_describe_tomorrow(chain):
    settings, _ = chain
    risk = query(settings, "SELECT * FROM gold.pacing_risk")
    as_of = query(settings, "SELECT max(date) d FROM gold.adset_daily").iloc[0, 0]
    assert len(risk) > 0 and (risk["date"] == as_of + pd.Timedelta(days=1)).all()
    assert risk["p_under_pace"].between(0, 1).all() and risk["action"].str.len().gt(20).all()
    # the ad sets the demo world makes capacity-limited are at risk; those spending fine are not all at risk
    assert 0 < (risk["p_under_pace"] >= 0.5).sum() < len(risk)
    # tomorrow is a Sunday, when the whole account spends less: the ad sets below budget only for that are not at
    # risk, and the ones at risk are told so against a Sunday's usual pace
    assert (risk["date"].dt.day_name() == "Sunday").all() and (risk["weekday_pace"] < 0.9).all()
    assert (risk["at_risk"] == (risk["p_under_weekday_pace"] >= 0.5)).all()
    assert (risk["p_under_weekday_pace"] <= risk["p_under_pace"]).all()
    assert 0 < risk["at_risk"].sum() < (risk["p_under_pace"] >= 0.5).sum()
    assert risk.loc[risk["at_risk"], "action"].str.contains("even for a Sunday").all()
    forecast = query(settings, "SELECT kind, count(*) n, count(DISTINCT fold) folds FROM gold.bookings_forecast "
                               "GROUP BY 1").set_index("kind")
    assert forecast.loc["backtest", "folds"] == 4 and forecast.loc["forecast", "n"] == len(
        query(settings, "SELECT * FROM gold.adset_daily_features WHERE is_future"))


def test_every_gold_and_monitoring_column_is_described(chain):
    """The column schema a table is published with describes every column (the UI's column list, and docs)."""
    _, result = chain
    missing = {}
    for event in result.get_asset_materialization_events():
        key = event.asset_key.to_user_string()
        if key.split("/")[0] in ("gold", "monitoring"):
            schema = event.materialization.metadata["dagster/column_schema"].value
            blank = [c.name for c in schema.columns if not (c.description or "").strip()]
            if blank:
                missing[key] = blank
    assert missing == {}


def test_a_daily_rescore_keeps_settled_scores_and_equals_a_full_rescore(demo_run, tmp_path):
    """The second run of gold/lead_scores with the same serving model copies the settled leads' scores (window
    closed, same label and features) and scores the rest; the table is the one a rescore of every lead gives. A
    settled lead whose features changed since (a CRM edit) is scored again."""
    import shutil

    import duckdb

    settings = settings_in(tmp_path, demo_run.settings.data_dir)
    shutil.copy(demo_run.settings.warehouse, settings.warehouse)
    shutil.copytree(demo_run.settings.artifacts_dir, settings.artifacts_dir)
    con = duckdb.connect(str(settings.warehouse))
    edited = con.execute("SELECT lead_id FROM gold.lead_scores WHERE label IS NOT NULL ORDER BY lead_id LIMIT 1"
                         ).fetchall()[0][0]
    # as if its features had been different when it was last scored
    con.execute("UPDATE gold.lead_scores SET features_hash = features_hash + 1, reason_1 = 'stale' "
                "WHERE lead_id = ?", [edited])
    con.close()
    again = materialize_all(settings, selection="key:gold/lead_scores")
    assert again.success
    meta = again.asset_materializations_for_node("gold__lead_scores")[0].metadata
    kept, scored_now = meta["kept_from_last_run"].value, meta["scored_now"].value
    assert kept > 0.6 * (kept + scored_now) and scored_now > 0
    incremental = query(settings, "SELECT * FROM gold.lead_scores ORDER BY lead_id")
    assert incremental.loc[incremental["lead_id"] == edited, "reason_1"].iloc[0] != "stale"
    con = duckdb.connect(str(settings.warehouse))
    con.execute("DROP TABLE gold.lead_scores")  # nothing to keep: every lead scored
    con.close()
    full = materialize_all(settings, selection="key:gold/lead_scores")
    assert full.asset_materializations_for_node("gold__lead_scores")[0].metadata["kept_from_last_run"].value == 0
    pd.testing.assert_frame_equal(incremental, query(settings, "SELECT * FROM gold.lead_scores ORDER BY lead_id"),
                                  check_exact=False, rtol=1e-9)


def test_the_fit_and_judge_caps_are_settings_every_step_reads(demo_run, tmp_path):
    """ELV_FIT_LEADS (the chain resource's fit_leads) caps what the candidates learn from: a time-stratified sample
    of the train split. ELV_JUDGE_LEADS (judge_leads) caps the calib leads the choice judges on the same way; at
    its default the demo's calib split is read whole."""
    import dataclasses
    import shutil

    settings = dataclasses.replace(settings_in(tmp_path, demo_run.settings.data_dir), fit_leads=5_000,
                                   judge_leads=2_000)
    shutil.copy(demo_run.settings.warehouse, settings.warehouse)
    shutil.copytree(demo_run.settings.artifacts_dir, settings.artifacts_dir)
    result = materialize_all(settings, selection="key:ml/candidate_models",
                             run_config={"ops": {"ml__candidate_models": {"config": {"kinds": ["logistic_plain"]}}}})
    assert result.success
    meta = result.asset_materializations_for_node("ml__candidate_models")[0].metadata
    train, fitted = meta["train_leads"].value, meta["fitted_on_leads"].value
    assert train > 20_000 and 4_000 < fitted < 6_000
    assert 1_500 < meta["judged_on_calib_leads"].value < 2_500
    whole = demo_run.result.asset_materializations_for_node("ml__candidate_models")[0].metadata
    calib = query(settings, "SELECT count(*) AS n FROM gold.training_table WHERE split = 'calib'")["n"].iloc[0]
    assert whole["judged_on_calib_leads"].value == calib > 2_500
