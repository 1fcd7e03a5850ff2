"""The ELV chain's plain functions: maturity, the feature lag, the split, ELV arithmetic, reasons."""

import datetime as dt

import duckdb
import numpy as np
import pandas as pd
import pytest

from elv_assets.ml.elv import feature_label, rank_and_decile, reasons
from elv_assets.ml.features import AttributeKinds, lead_features_select
from elv_assets.ml.labels import labels_select
from elv_assets.ml.split import assign, boundaries

AS_OF = dt.date(2026, 3, 31)


def _labels(leads: list[tuple], outcomes: list[tuple], window: int = 14) -> pd.DataFrame:
    con = duckdb.connect()
    con.execute("CREATE TABLE leads (lead_id VARCHAR, created_at TIMESTAMP, campaign_id VARCHAR, adset_id VARCHAR)")
    con.execute("CREATE TABLE outcomes (lead_id VARCHAR, qualified_at TIMESTAMP)")
    con.executemany("INSERT INTO leads VALUES (?, ?, 'c1', 'a1')", leads)
    con.executemany("INSERT INTO outcomes VALUES (?, ?)", outcomes)
    return con.execute(labels_select(AS_OF, window, "leads", "outcomes")).df().set_index("lead_id")


def test_maturity_positive_negative_immature_and_the_boundary_day():
    df = _labels(
        leads=[
            ("pos_late", "2026-03-01 10:00"),  # qualified on day 14 exactly: positive
            ("neg", "2026-03-01 10:00"),  # qualified on day 15: outside the window, window closed: negative
            ("boundary", "2026-03-17 10:00"),  # window ends 2026-03-31 10:00, within the as_of day: mature
            ("young", "2026-03-18 10:00"),  # window ends 2026-04-01 10:00, after as_of: immature
            ("young_pos", "2026-03-25 10:00"),  # already qualified though its window is open: positive, not mature
            ("future", "2026-04-01 09:00"),  # created after the as_of day: not a lead yet
        ],
        outcomes=[("pos_late", "2026-03-15 10:00"), ("neg", "2026-03-16 10:00:01"),
                  ("young_pos", "2026-03-26 12:00")],
    )
    assert "future" not in df.index
    assert df.loc["pos_late", ["label", "label_status", "mature"]].tolist() == [1, "positive", True]
    assert df.loc["neg", ["label", "label_status", "mature"]].tolist() == [0, "negative", True]
    assert df.loc["boundary", ["label", "label_status", "mature"]].tolist() == [0, "negative", True]
    assert pd.isna(df.loc["young", "label"]) and df.loc["young", "label_status"] == "immature"
    assert df.loc["young_pos", ["label", "label_status", "mature"]].tolist() == [1, "positive", False]
    assert df.loc["pos_late", "days_to_qualify"] == 14.0
    assert df.loc["young_pos", "days_to_qualify"] == pytest.approx(1.083, abs=1e-3)


def test_one_boundary_for_windows_and_outcomes_and_no_positive_before_creation():
    df = _labels(
        leads=[
            ("closes_at_end", "2026-03-18 00:00"),  # window closes at 2026-04-01 00:00, the end of the as_of day
            ("closes_before", "2026-03-17 23:59:59"),
            ("early", "2026-03-01 10:00"),  # its qualification is dated before it was created: a data error
        ],
        outcomes=[("early", "2026-03-01 09:00")],
    )
    # a window that closes exactly at the end is not closed yet: a qualification at that instant would be unknown
    assert df.loc["closes_at_end", "label_status"] == "immature"
    assert df.loc["closes_before", ["label", "label_status", "mature"]].tolist() == [0, "negative", True]
    assert df.loc["early", ["label", "label_status"]].tolist() == [0, "negative"]
    assert pd.isna(df.loc["early", "days_to_qualify"])


def test_an_outcome_after_as_of_is_not_known_yet():
    df = _labels(leads=[("x", "2026-03-25 10:00")], outcomes=[("x", "2026-04-02 10:00")])
    assert df.loc["x", "label_status"] == "immature" and pd.isna(df.loc["x", "days_to_qualify"])


def _feature_world(ads: pd.DataFrame) -> pd.DataFrame:
    con = duckdb.connect()
    for schema in ("silver", "gold"):
        con.execute(f"CREATE SCHEMA {schema}")
    con.register("ads_df", ads)
    con.execute("CREATE TABLE silver.ads AS SELECT * FROM ads_df")
    con.execute("CREATE TABLE silver.adsets AS SELECT 'a1' AS adset_id, 20.0 AS daily_budget, "
                "NULL::DATE AS start_date, NULL::DATE AS end_date")
    con.execute("""CREATE TABLE silver.leads AS SELECT * FROM (VALUES
        ('L1', TIMESTAMP '2026-03-10 15:00', 'c1', 'a1', 'long'),
        ('L2', TIMESTAMP '2026-03-11 09:00', 'c1', 'a1', 'short')) t(lead_id, created_at, campaign_id, adset_id, form)""")
    con.execute("CREATE TABLE gold.lead_attribution AS SELECT lead_id, created_at, campaign_id, adset_id, "
                "CASE WHEN lead_id = 'L1' THEN 'ad1' END AS ad_id FROM silver.leads")
    return con.execute(lead_features_select(AS_OF, 1, AttributeKinds([], ["form"], {}))).df().set_index("lead_id")


def _ads(days: range, spend: float = 10.0) -> pd.DataFrame:
    return pd.DataFrame({
        "date": [dt.date(2026, 3, d) for d in days], "platform": "meta", "campaign_id": "c1", "adset_id": "a1",
        "campaign_name": "C", "adset_name": "A", "ad_id": "ad1", "spend": spend, "impressions": 1000, "clicks": 10,
    })


def test_day_d_ad_rows_do_not_move_features_of_day_d_leads():
    base = _ads(range(1, 12))
    before = _feature_world(base)
    changed = base.copy()
    day10 = changed["date"] == dt.date(2026, 3, 10)
    changed.loc[day10, ["spend", "impressions", "clicks"]] = [9999.0, 10**6, 10**5]
    after = _feature_world(changed)
    cols = [c for c in before.columns if c.startswith(("adset_", "campaign_")) and c != "adset_id"]
    # L1 was created on day 10: its features end on day 9, so day-10 rows cannot reach them.
    pd.testing.assert_series_equal(before.loc["L1", cols], after.loc["L1", cols])
    # L2 (day 11) does see day 10: the same change moves its features, so the test can tell.
    assert after.loc["L2", "adset_spend_7d"] != before.loc["L2", "adset_spend_7d"]


def test_rolling_windows_count_days_on_a_dense_calendar():
    ads = _ads(range(1, 10)).query("date != @dt.date(2026, 3, 5)")  # no delivery on day 5
    f = _feature_world(ads).loc["L1"]  # created day 10: window days 3..9 for 7d
    assert f["adset_spend_7d"] == 60.0  # days 3, 4, 6, 7, 8, 9 at 10 each
    assert f["adset_active_days_7d"] == 6
    assert f["adset_spend_28d"] == 80.0  # days 1..9 except 5
    assert f["adset_ctr_7d"] == pytest.approx(0.01)
    assert f["adset_cpm_7d"] == pytest.approx(10.0)
    # Trend: the 7 days before (days -4..2) hold days 1 and 2 only = 20; 60 / 20 - 1 = 2.
    assert f["adset_spend_trend"] == pytest.approx(2.0)
    assert f["weekday"] == "Tue" and f["hour"] == 15 and f["form"] == "long"


def test_time_split_boundaries_follow_created_at_never_random():
    created = pd.Series(pd.date_range("2026-01-01", periods=10, freq="D")).sample(frac=1, random_state=1)
    b = boundaries(created, (0.6, 0.2, 0.2))
    assert b.calib_start == pd.Timestamp("2026-01-07") and b.test_start == pd.Timestamp("2026-01-09")
    split = assign(created, pd.Series(True, index=created.index), b)
    by_day = dict(zip(created.dt.day, split, strict=True))
    assert [by_day[d] for d in range(1, 11)] == ["train"] * 6 + ["calib"] * 2 + ["test"] * 2
    immature = assign(created, pd.Series(False, index=created.index), b)
    assert set(immature) == {"unlabeled"}
    with pytest.raises(ValueError, match="sum to 1"):
        boundaries(created, (0.6, 0.3, 0.3))


def test_elv_rank_and_decile():
    elv = np.array([5.0, 50.0, 50.0, 1.0] + [0.5] * 16)
    ids = pd.Series([f"L{i:02d}" for i in range(20)])
    rank, decile = rank_and_decile(elv, ids)
    assert rank[:4].tolist() == [3, 1, 2, 4]  # the 50.0 tie goes to the smaller lead_id
    assert decile[:4].tolist() == [2, 1, 1, 2]  # 20 leads: ranks 1-2 are the top tenth
    assert sorted(rank.tolist()) == list(range(1, 21)) and decile.max() == 10


def test_reasons_name_the_strongest_features_in_words_and_merge_windows():
    contrib = pd.DataFrame({"adset_cpc_7d": [1.0, 0.0], "adset_cpc_28d": [-0.7, 0.0],
                            "job_level": [0.2, -2.0], "form": [0.5, 0.1]})
    X = pd.DataFrame({"adset_cpc_7d": [3.456, 1.0], "adset_cpc_28d": [2.0, 1.0],
                      "job_level": ["director", "entry"], "form": ["long", None]})
    r = reasons(contrib, X, top=3)
    # Lead 0: the cpc family sums to 0.3, form 0.5, job level 0.2.
    assert r.loc[0].tolist() == ["form is long (raises the chance)",
                                 "ad set cost per click, last 7 days is 3.46 (raises the chance)",
                                 "job level is director (raises the chance)"]
    assert r.loc[1, "reason_1"] == "job level is entry (lowers the chance)"
    assert r.loc[1, "reason_2"] == "form is unknown (raises the chance)"
    assert feature_label("campaign_spend_trend") == "campaign spend trend (last 7 days vs the 7 before)"


def test_ad_and_ad_set_age_count_days_since_their_first_delivery():
    features = _feature_world(_ads(range(3, 12)))
    assert features.loc["L1", ["ad_age_days", "adset_age_days"]].tolist() == [7.0, 7.0]  # created 10 March
    assert pd.isna(features.loc["L2", "ad_age_days"]) and features.loc["L2", "adset_age_days"] == 8.0  # no ad known


def test_days_after_the_ad_export_ends_are_unknown_not_zero():
    features = _feature_world(_ads(range(1, 10)))  # ads.csv ends on 9 March; L2 (11 March) reads 10 March
    assert features.loc["L1", "adset_spend_7d"] == 70.0  # 3..9 March
    assert features.loc["L1", "adset_pace_7d"] == 0.5  # against 7 days of its 20 a day budget
    assert pd.isna(features.loc["L2", "adset_spend_7d"]) and pd.isna(features.loc["L2", "adset_active_days_28d"])


def _toy_leads(n: int = 3000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"lead_id": [f"L{i:05d}" for i in range(n)],
                       "created_at": pd.Timestamp("2026-01-01") + pd.to_timedelta(np.sort(rng.uniform(0, 90, n)), "D"),
                       "pages": rng.gamma(2.0, 2.0, n), "job_level": rng.choice(["entry", "manager", "director"], n)})
    logit = -1.5 + 0.3 * np.sin(df["pages"]) + (df["job_level"] == "director") * 1.2
    df["label"] = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return df


@pytest.mark.parametrize("kind", ["logistic", "lightgbm", "xgboost"])
def test_contributions_add_up_to_the_probability_the_model_gives(kind):
    """Scoring with reasons takes the probability from the contributions (one pass over the trees): the same
    probability as predict_proba."""
    from elv_assets.ml import models as M
    from elv_assets.ml.features import FeatureColumns

    df = _toy_leads()
    cols = FeatureColumns(["pages"], ["job_level"])
    recipe, pipe, _ = M.fit_kind(kind, df, df["label"].to_numpy(), cols, 7)
    contrib, margin = M.contributions_and_margin(pipe, df, recipe.columns)
    assert contrib.shape == (len(df), 2)
    np.testing.assert_allclose(1 / (1 + np.exp(-margin)), M.raw_probability(pipe, df, recipe.columns), atol=1e-6)


def test_uniform_spline_is_scikit_learns_spline_basis_built_sparse():
    from sklearn.preprocessing import SplineTransformer

    from elv_assets.ml.models import UniformSpline

    rng = np.random.default_rng(3)
    X = np.c_[rng.random(500), rng.normal(size=500)]
    outside = np.array([[1.7, -9.0], [-0.2, 9.0], [X[:, 0].max(), X[:, 1].min()]])  # beyond and at the edges
    ours, theirs = UniformSpline(5).fit(X), SplineTransformer(n_knots=5, degree=3).fit(X)
    for rows in (X, outside):
        np.testing.assert_allclose(ours.transform(rows).toarray(), theirs.transform(rows), atol=1e-12)
    assert ours.n_features_out_ == theirs.n_features_out_


def test_fit_sample_keeps_every_day_and_the_same_leads_every_time():
    from elv_assets.ml.sampling import sample_share, sample_where

    df = _toy_leads(20000)
    assert sample_where(sample_share(10, 10)) == "TRUE"
    con = duckdb.connect()
    where = sample_where(sample_share(len(df), 5000))
    kept = con.execute(f"SELECT * FROM df WHERE {where} ORDER BY lead_id").df()
    assert 4500 < len(kept) < 5500 and kept.equals(con.execute(f"SELECT * FROM df WHERE {where} ORDER BY lead_id").df())
    share_by_month = kept.groupby(kept["created_at"].dt.month).size() / df.groupby(df["created_at"].dt.month).size()
    assert share_by_month.between(0.2, 0.3).all()  # the same share of every period, not the oldest leads
