"""The "Did it come true?" page, driven by Streamlit's AppTest: on the demo run's snapshot (a ledger of one as-of
date), on a copy whose ledger tables hold several weeks and as-of dates (built with the pipeline's own
`realised_vs_predicted`), and on an older snapshot without them. The app fixtures are conftest.py's."""

from __future__ import annotations

import datetime as dt
import json
import re

import numpy as np
import pandas as pd
import pytest

from dashboard import ui
from elv_assets.lakehouse.manifest import read_manifest, snapshot_path
from elv_assets.ml.ledger import ALL_CAMPAIGNS, realised_vs_predicted
from elv_assets_tests.test_dashboard import _copy_without, chart, gold, no_failure, texts, values

VIEW = "came_true"
BACKFILL = "`elv run --as-of YYYY-MM-DD`"


def cohorts(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[frame["campaign_id"] == ALL_CAMPAIGNS].sort_values("cohort_week")


def verdicts(at) -> list[str]:
    return [m.value for m in at.markdown if m.value.startswith("**Verdict:**")]


def no_blank_words(at) -> None:
    """No table says None or nan: a figure that does not exist yet is a dash. The page writes its own (status,
    expected end, against the band); realised value stays a number for sorting, and ui.table writes its blanks."""
    for d in at.dataframe:
        frame = d.value.drop(columns=["realised_value"], errors="ignore")
        assert not frame.isna().any().any(), frame[frame.isna().any(axis=1)]
        words = frame.select_dtypes(include="object").astype(str)
        assert not words.isin(["None", "nan", "NaN", "NaT", "<NA>"]).any().any(), words


def test_on_a_ledger_of_one_day_the_page_shows_what_is_known_and_how_to_backfill(app, published):
    at = app(published.serving_dir, published.artifacts_dir, VIEW)
    no_failure(at)
    assert at.title[0].value == "Did it come true?"
    assert not [i.value for i in at.info if "not computed yet" in i.value]
    assert any("one as-of date" in i.value and BACKFILL in i.value for i in at.info), [i.value for i in at.info]

    table = cohorts(gold(published, "realised_vs_predicted"))
    traces = {t.get("name"): t for t in chart(at, "ct_cohorts")["data"]}
    assert values(traces["Predicted, with its 90 % band"]["y"]) == pytest.approx(
        table["predicted_qualified"].tolist())
    maturing = table[table["status"] == "maturing"]
    assert len(maturing) == len(table)  # one day of ledger: nothing has had its window yet
    assert values(traces["Expected end (estimate)"]["y"]) == pytest.approx(maturing["expected_qualified_now"].tolist())
    assert verdicts(at)[0].startswith("**Verdict:** No week has matured yet: the first, the week of")
    assert "ROC-AUC expected" in {t.get("name") for t in chart(at, "ct_ranking")["data"]}  # on day 1
    assert any("come from the calibrated probabilities alone" in c.value for c in at.caption)
    no_blank_words(at)


# --- a ledger of several weeks -------------------------------------------------------------------------------------


def ledger_tables(campaigns: list[str], as_of: dt.date) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Five weekly cohorts through the pipeline's own function: four matured (the third far below its band, the
    others exactly at their predicted count), the last still maturing; the first with its value known."""
    rng = np.random.default_rng(5)
    last_monday = pd.Timestamp(as_of) - pd.Timedelta(days=pd.Timestamp(as_of).weekday())
    weeks = [last_monday - pd.Timedelta(weeks=k) for k in (7, 6, 5, 4, 0)]
    leads = []
    for i, week in enumerate(weeks):
        n = 600
        p = rng.beta(2, 8, n)
        k = 0 if i == 2 else int(round(p.sum())) if i < 4 else int(round(p.sum() / 3))
        qualified = np.zeros(n, dtype=bool)
        qualified[rng.choice(n, k, replace=False, p=p / p.sum())] = True
        leads.append(pd.DataFrame({
            "cohort_week": week, "campaign_id": rng.choice(campaigns, n), "as_of_date": week + pd.Timedelta(days=7),
            "p": p, "elv": p * 1000.0, "mature": i < 4, "qualified": qualified, "value_closed": i == 0,
            "realised_value": np.where(qualified, 900.0, 0.0), "p_now": np.where(qualified, 1.0, p * 0.8) if i == 4
            else np.nan}))
    table = realised_vs_predicted(pd.concat(leads, ignore_index=True))
    days = [last_monday - pd.Timedelta(days=d) for d in (28, 14, 0)]
    history = pd.DataFrame([{"as_of_date": d.date(), "campaign_id": c, "leads": 100, "predicted_qualified": 20.0,
                             "predicted_elv": 20_000.0, "spend": 1_000.0 * (j + 1) * (1 + i),
                             "elv_per_spend": 20.0 / ((j + 1) * (1 + i)), "window_start": (d - pd.Timedelta(days=13)).date()}
                            for i, d in enumerate(days) for j, c in enumerate(campaigns)])
    return table, history


@pytest.fixture
def several_days(published, tmp_path):
    """A copy of the demo snapshot whose ledger tables hold five weeks and three as-of dates."""
    serving = _copy_without(published, tmp_path, [], [])
    manifest = read_manifest(serving)
    folder = snapshot_path(serving, manifest)
    campaigns = sorted(gold(published, "campaigns")["campaign_id"])[:4]
    table, history = ledger_tables(campaigns, dt.date.fromisoformat(str(manifest["as_of_date"])[:10]))
    for name, frame in (("realised_vs_predicted", table), ("elv_history", history)):
        frame.to_parquet(folder / f"{name}.parquet")
        manifest["tables"][name] = {"file": f"{name}.parquet", "rows": len(frame)}
    (serving / "manifest.json").write_text(json.dumps(manifest))
    return serving, table, history, campaigns


def test_matured_weeks_are_judged_against_their_band_in_words(app, published, several_days):
    serving, table, history, campaigns = several_days
    at = app(serving, published.artifacts_dir, VIEW)
    no_failure(at)
    weeks = cohorts(table)
    assert weeks["versus_band"].tolist()[:4] == ["inside", "inside", "below", "inside"]
    low = weeks.iloc[2]
    said = verdicts(at)[0]
    assert re.search(rf"3 of 4 matured weeks came in within the band; the week of {low['cohort_week'].day} "
                     rf"{low['cohort_week']:%b}( \d{{4}})? came in below: 0 qualified against "
                     rf"{low['predicted_qualified']:,.0f} predicted\. 1 week still maturing", said), said
    assert not any("one as-of date" in i.value for i in at.info)

    traces = {t.get("name"): t for t in chart(at, "ct_cohorts")["data"]}
    matured, maturing = weeks[weeks["status"] == "matured"], weeks[weeks["status"] == "maturing"]
    assert values(traces["Qualified (matured)"]["y"]) == pytest.approx(matured["qualified"].tolist())
    assert values(traces["Qualified so far (maturing)"]["y"]) == pytest.approx(maturing["qualified"].tolist())
    assert values(traces["Expected end (estimate)"]["y"]) == pytest.approx(maturing["expected_qualified_now"].tolist())
    band = traces["Predicted, with its 90 % band"]["error_y"]
    assert values(band["array"]) == pytest.approx((weeks["band_high"] - weeks["predicted_qualified"]).tolist())

    ranking = {t.get("name"): t for t in chart(at, "ct_ranking")["data"]}
    assert values(ranking["ROC-AUC realised"]["y"]) == pytest.approx(weeks["roc_auc"].dropna().tolist())
    assert values(ranking["ROC-AUC expected"]["y"]) == pytest.approx(weeks["expected_roc_auc"].tolist())

    value = {t.get("name"): t for t in chart(at, "ct_value")["data"]}
    known = weeks[weeks["realised_value"].notna()]
    assert len(known) == 1 and values(value["Realised value"]["y"]) == pytest.approx(known["realised_value"].tolist())

    names = gold(published, "campaigns").set_index("campaign_id")["campaign_name"].to_dict()
    lines = {t.get("name") for t in chart(at, "ct_history")["data"]}
    assert lines == {names.get(c, c) for c in campaigns}  # one line per campaign, by name

    cells = next(d.value for d in at.dataframe if "campaign" in d.value.columns)
    assert len(cells) == (table["campaign_id"] != ALL_CAMPAIGNS).sum()
    assert set(cells.loc[cells["status"] == "maturing", "versus_band"]) == {ui.NONE}
    no_blank_words(at)
    assert "nan" not in texts(at) and "None" not in texts(at)


def test_choosing_a_campaign_shows_its_weeks(app, published, several_days):
    serving, table, _, campaigns = several_days
    at = app(serving, published.artifacts_dir, VIEW)
    chosen = at.selectbox(key="ct_campaign").options[-1]
    at.selectbox(key="ct_campaign").select(chosen).run()
    no_failure(at)
    names = gold(published, "campaigns").set_index("campaign_id")["campaign_name"].to_dict()
    campaign = next(c for c in campaigns if names.get(c, c) == chosen)
    mine = table[table["campaign_id"] == campaign].sort_values("cohort_week")
    traces = {t.get("name"): t for t in chart(at, "ct_campaign_chart")["data"]}
    assert values(traces["Predicted, with its 90 % band"]["y"]) == pytest.approx(mine["predicted_qualified"].tolist())
    inside = int((mine["versus_band"] == "inside").sum())
    assert verdicts(at)[1].startswith(f"**Verdict:** {inside} of 4 matured weeks came in within the band")


def test_an_older_snapshot_without_the_ledger_tables_says_so(app, published, tmp_path):
    serving = _copy_without(published, tmp_path, ["realised_vs_predicted", "elv_history"], [])
    at = app(serving, published.artifacts_dir, VIEW)
    no_failure(at)
    said = [i.value for i in at.info if "not computed yet" in i.value]
    assert len(said) == 2 and all(BACKFILL in s for s in said), said
    assert not at.get("plotly_chart")
