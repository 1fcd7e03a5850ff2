"""The per-run artifacts, written from small hand-built inputs (no Dagster, no warehouse)."""

import hashlib
import json
import re
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import plotly.offline
import pytest

from elv_assets.reports.inputs import SCHEMA_VERSION, RunReportInputs, json_clean
from elv_assets.reports.run_report import write_run_artifacts

RUN_ID = "run-1234"
SECTIONS = ["Join summary", "Maturity summary", "Split boundaries", "As-of date and windows",
            "Test metrics: model against the baselines", "Lift", "Calibration (reliability)",
            "Campaign leaderboard", "Ad-set leaderboard", "Feature drift (PSI)"]


def _metrics(pr_auc, roc_auc, brier, ece, lift_10, capture_10) -> dict:
    return {"n": 400, "positives": 80, "base_rate": 0.2, "pr_auc": pr_auc, "roc_auc": roc_auc, "brier": brier,
            "log_loss": None if brier is None else 0.41, "ece_width": ece, "ece_mass": ece,
            "lift_5": lift_10 + 0.3, "lift_10": lift_10, "lift_20": lift_10 - 0.4,
            "capture_5": capture_10 / 2, "capture_10": capture_10, "capture_20": capture_10 * 1.7}


def _inputs(tmp_path: Path, adset_board: pd.DataFrame | None = None, disabled: str | None = None) -> RunReportInputs:
    model_file = tmp_path / "ml" / "serving_model.joblib"
    model_file.parent.mkdir(parents=True)
    joblib.dump({"kind": "logistic"}, model_file)
    data = tmp_path / "raw"
    data.mkdir()
    (data / "leads.csv").write_text("lead_id,created_at\nL1,2026-01-01\nL2,2026-01-02\nL3,2026-01-03\n")
    (data / "ads.csv").write_text("date,spend\n2026-01-01,10.5\n")
    evaluation = {
        "model": "logistic", "calibration": "sigmoid", "n_test": 400,
        "metrics": {"model": _metrics(0.4321, 0.7654, 0.1234, 0.0123, 2.75, 0.275),
                    "campaign_rate": _metrics(0.3111, 0.6222, 0.1444, 0.0111, 2.05, 0.205),
                    "campaign_cpl": _metrics(0.1555, 0.3555, None, None, 0.45, 0.045)},
        "reliability_width": {"bin": [0, 1, 2], "p_mean": [0.1, 0.3, 0.6], "y_rate": [0.12, 0.28, float("nan")],
                              "n": [200, 150, 50]},
        "reliability_mass": {"bin": [0, 1], "p_mean": [0.1, 0.4], "y_rate": [0.11, 0.39], "n": [200, 200]},
        "lift": {"fraction": [0.05, 0.1, 0.2], "k": [20, 40, 80], "positives": [12, 22, 37],
                 "precision": [0.6, 0.55, 0.4625], "lift": [3.05, 2.75, 2.35], "capture": [0.15, 0.275, 0.4625]},
        "single_feature_auc": {"job_level": 0.64, "hour": 0.5},
    }
    campaigns = pd.DataFrame({
        "campaign_id": [f"cmp_{i:03d}" for i in range(20)], "campaign_name": [f"Campaign {i}" for i in range(20)],
        "spend": np.linspace(1000, 100, 20), "leads": [100] * 20, "qualified_so_far": [10] * 20,
        "predicted_qualified": [20.0] * 20, "predicted_elv": np.linspace(9000, 500, 20),
        "elv_per_spend": np.linspace(9, 5, 20), "cpl": [10.0] * 20, "cost_per_predicted_qualified": [50.0] * 20,
        "low_volume": [False] * 20, "rank": list(range(1, 21)),
        "window_start": pd.Timestamp("2026-02-04"), "window_end": pd.Timestamp("2026-03-03"),
    })
    return RunReportInputs(
        run_id=RUN_ID, as_of="2026-03-03", serving_model_path=model_file, evaluation=evaluation,
        model={"kind": "logistic", "calibration_method": "sigmoid", "n_numeric": 12, "n_categorical": 4,
               "trained_in_run": RUN_ID, "trained_as_of": "2026-03-03", "value_source": "learned",
               "value_overall": 512.5},
        promotion={"promote": True, "reason": "no model was serving", "new_pr_auc": 0.4321, "new_ece": 0.0123,
                   "serving_pr_auc": None, "serving_ece": None, "run_id": RUN_ID},
        windows={"label_window_days": 14, "feature_lag_days": 1, "leaderboard_window_days": 28},
        attribution=pd.DataFrame({"join_method": ["id", "mapping", "name", "unmatched"], "leads": [700, 150, 100, 50]}),
        labels=pd.DataFrame({"label_status": ["positive", "negative", "positive", "immature"],
                             "mature": [True, True, False, False], "leads": [180, 720, 20, 80]}),
        splits=pd.DataFrame({"split": ["train", "calib", "test"], "leads": [300, 200, 400], "positives": [60, 40, 80],
                             "first": pd.to_datetime(["2026-01-01", "2026-01-20", "2026-02-01"]),
                             "last": pd.to_datetime(["2026-01-19", "2026-01-31", "2026-02-17"])}),
        campaign_board=campaigns,
        adset_board=pd.DataFrame() if adset_board is None else adset_board,
        drift=pd.DataFrame({"feature": ["job_level", "adset_spend_7d"], "kind": ["categorical", "numeric"],
                            "psi": [0.0123, 0.3141], "band": ["stable", "major"],
                            "biggest_shift": ["director", "(10.0, 20.0]"], "n_reference": [300, 300],
                            "n_current": [90, 90], "importance": [0.6, 0.2]}),
        data_quality=pd.DataFrame({"kind": ["rule", "rule", "profile"], "table_name": ["silver.ads"] * 3,
                                   "check_name": ["negative_spend_set_to_zero", "duplicate_rows_removed", None],
                                   "hits": [34, 0, None], "detail": [None, None, None]}),
        tables=pd.DataFrame({"table": ["silver.leads"], "rows": [1000], "date_column": ["created_at"],
                             "first": ["2026-01-01"], "last": ["2026-03-03"]}),
        candidates=pd.DataFrame({"kind": ["logistic", "lightgbm"], "pr_auc_calib": [0.4411, 0.4222],
                                 "params": [{"C": 0.1, "max_iter": 2000}, {"n_estimators": 300}]}),
        adset_disabled_reason=disabled, currency="GBP", data_dir=data,
    )


@pytest.fixture
def written(tmp_path: Path):
    inputs = _inputs(tmp_path, disabled="Only 12% of leads carry an ad-set id")
    run_dir = tmp_path / "artifacts" / "runs" / RUN_ID
    return inputs, run_dir, write_run_artifacts(run_dir, inputs)


def test_every_file_is_written_and_the_model_is_a_copy(written):
    inputs, run_dir, paths = written
    for name in ("model.joblib", "metrics.json", "metadata.json", "MODEL_CARD.md", "DATA_CARD.md", "report.html"):
        assert (run_dir / name).is_file(), name
    assert set(paths) == {"model", "metrics", "metadata", "model_card", "data_card", "plotly_js", "report"}
    assert all(p.exists() for p in paths.values())
    assert joblib.load(paths["model"]) == {"kind": "logistic"}


def test_metrics_json_round_trips_the_numbers(written):
    _, run_dir, _ = written
    doc = json.loads((run_dir / "metrics.json").read_text())  # strict JSON: NaN would not be valid
    assert doc["run_id"] == RUN_ID and doc["n_test"] == 400
    assert doc["metrics"]["model"]["pr_auc"] == 0.4321
    assert doc["metrics"]["campaign_rate"]["pr_auc"] == 0.3111
    assert doc["metrics"]["campaign_cpl"]["brier"] is None
    assert doc["reliability_width"]["y_rate"][2] is None  # NaN became null
    assert doc["split_boundaries"] == {"first": "2026-01-01 00:00:00", "calib_start": "2026-01-20 00:00:00",
                                       "test_start": "2026-02-01 00:00:00", "last": "2026-02-17 00:00:00"}
    assert doc["promotion"]["promote"] is True
    assert doc["drift"]["max_psi"] == 0.3141 and doc["drift"]["worst_feature"] == "adset_spend_7d"
    assert doc["drift"]["bands"] == {"stable": 1, "major": 1}
    assert doc["headline"]["test/pr_auc"] == 0.4321
    assert doc["headline"]["baseline/campaign_rate/pr_auc"] == 0.3111
    assert "NaN" not in (run_dir / "metrics.json").read_text()


def test_metadata_has_windows_match_rates_and_input_fingerprints(written):
    inputs, run_dir, _ = written
    meta = json.loads((run_dir / "metadata.json").read_text())
    assert meta["schema_version"] == SCHEMA_VERSION
    assert "git_sha" in meta and (meta["git_sha"] is None or len(meta["git_sha"]) == 40)
    assert meta["as_of"] == "2026-03-03"
    assert meta["windows"] == {"label_window_days": 14, "feature_lag_days": 1, "leaderboard_window_days": 28}
    assert meta["join_strategy"] == "id > mapping > name"
    assert meta["match_rates"]["id"] == pytest.approx(0.7)
    assert meta["match_rates"]["matched"] == pytest.approx(0.95)
    assert meta["match_rates"]["ambiguous"] == 0.0
    assert meta["metrics"]["test/pr_auc"] == 0.4321
    files = {f["file"]: f for f in meta["inputs"]}
    assert set(files) == {"ads.csv", "leads.csv"}
    leads = inputs.data_dir / "leads.csv"
    assert files["leads.csv"]["rows"] == 3
    assert files["leads.csv"]["bytes"] == leads.stat().st_size
    assert files["leads.csv"]["sha256"] == hashlib.sha256(leads.read_bytes()).hexdigest()


def test_report_html_has_plotly_divs_sections_and_the_shared_script(written):
    _, run_dir, paths = written
    page = (run_dir / "report.html").read_text()
    assert 'id="lift-plot"' in page and 'id="calibration-plot"' in page
    assert "Plotly.newPlot" in page
    assert '<script src="../plotly.min.js"></script>' in page
    shared = run_dir.parent / "plotly.min.js"
    assert shared.is_file() and shared.stat().st_size > 1_000_000 and paths["plotly_js"] == shared
    assert len(page) < 200_000  # the library is not inlined
    for heading in SECTIONS:
        assert f"<h2>{heading}</h2>" in page, heading
    assert RUN_ID in page and "2026-03-03" in page
    assert "0.4321" in page and "0.3111" in page  # model and baseline PR-AUC in the metrics table
    assert "Campaign 14" in page and "Campaign 15" not in page  # top 15 rows only
    assert "Only 12% of leads carry an ad-set id" in page  # the ad-set board's disabled reason
    assert "adset_spend_7d" in page and "0.3141" in page


def test_cards_carry_the_real_numbers(written):
    _, run_dir, _ = written
    card = (run_dir / "MODEL_CARD.md").read_text()
    for text in ("logistic", "C=0.1", "max_iter=2000", "sigmoid", "0.4321", "0.3111", "0.7654", "0.0123",
                 "right-censoring", "14-day", "2026-02-01", "400 test leads", "GBP", "512.50"):
        assert text in card, text
    assert not re.search(r"\bnan\b", card)  # missing values read n/a
    data = (run_dir / "DATA_CARD.md").read_text()
    for text in ("leads.csv", "ads.csv", "silver.leads", "2026-01-01", "95.0%", "70.0%", "negative_spend_set_to_zero",
                 "positive: 200", "negative: 720", "immature (window still open, not yet qualified): 80"):
        assert text in data, text
    assert re.search(r"negative_spend_set_to_zero \|\s+34 \|", data)
    assert "duplicate_rows_removed" not in data  # a rule that never fired is no highlight


def test_ad_set_board_is_shown_when_enabled_and_the_script_is_written_once(tmp_path: Path):
    boards = _inputs(tmp_path).campaign_board.rename(columns={"campaign_id": "adset_id", "campaign_name": "adset_name"})
    inputs = _inputs(tmp_path / "second", adset_board=boards.assign(campaign_id="cmp_001"))
    runs = tmp_path / "runs"
    runs.mkdir()
    (runs / "plotly.min.js").write_text("/** plotly.js v0.1 */")  # another version: replaced
    write_run_artifacts(runs / "r1", inputs)
    shared = runs / "plotly.min.js"
    assert shared.read_text()[:200] == plotly.offline.get_plotlyjs()[:200]
    written_at = shared.stat().st_mtime_ns
    write_run_artifacts(runs / "r2", inputs)
    assert shared.stat().st_mtime_ns == written_at  # the same version: written once
    page = (runs / "r2" / "report.html").read_text()
    assert "Disabled" not in page and "<td>cmp_001</td>" in page


def test_json_clean_makes_numpy_and_missing_values_plain():
    out = json_clean({"a": np.float64("nan"), "b": np.int64(3), "c": [np.inf, 1.5], "d": pd.Timestamp("2026-01-02"),
                      "e": np.bool_(True), "f": pd.NaT})
    assert out == {"a": None, "b": 3, "c": [None, 1.5], "d": "2026-01-02T00:00:00", "e": True, "f": None}
    json.dumps(out, allow_nan=False)


def test_a_kept_serving_model_is_named_in_the_card_and_the_report(tmp_path: Path):
    inputs = _inputs(tmp_path)
    inputs.promotion = {**inputs.promotion, "promote": False,
                        "reason": "PR-AUC 0.4321 is below the serving model's 0.4600 by more than 0.01"}
    inputs.model = {**inputs.model, "trained_in_run": "older-run", "trained_as_of": "2026-02-01"}
    write_run_artifacts(tmp_path / "runs" / RUN_ID, inputs)
    card = (tmp_path / "runs" / RUN_ID / "MODEL_CARD.md").read_text()
    page = (tmp_path / "runs" / RUN_ID / "report.html").read_text()
    assert "**not promoted**" in card and "older-run" in card and "0.4600" in card
    assert "Not promoted" in page and "older-run" in page


@pytest.mark.parametrize("text", [
    "a,b\n1,2\n3,4\n",  # the usual file
    "a,b\r\n1,2\r\n3,4",  # Windows line ends, no line end after the last record
    "a,b\r1,2\r3,4\r",  # old Mac line ends
    "a,b\n\n1,2\n\n",  # blank lines are records to csv.reader too
    "\ufeffa,b\n1,2\r\n",  # a byte-order mark
    "a,b\n",  # header only
    "",
    'a,b\n"x\ny",2\n3,"4"\n',  # quotes: a value holding a line break (read by csv.reader)
])
@pytest.mark.parametrize("block", [3, 1 << 24])  # a tiny block puts \r and \n of one line end in two blocks
def test_the_byte_count_of_records_is_csv_readers(tmp_path, text, block, monkeypatch):
    from elv_assets.reports import inputs as I

    path = tmp_path / "x.csv"
    path.write_bytes(text.encode("utf-8"))
    monkeypatch.setattr(I._unquoted_records, "__defaults__", (block,))
    records, digest = I._csv_reader_records(path)  # csv.reader's count and the file's hash
    assert I.csv_fingerprint(path) == {"file": path.name, "bytes": len(text.encode("utf-8")),
                                       "rows": max(records - 1, 0), "sha256": digest}
    assert (I._unquoted_records(path) is None) == ('"' in text)  # quotes: csv.reader counts
