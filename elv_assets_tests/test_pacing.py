"""Pacing and bookings: the lag rule, the baseline arithmetic, the backtest folds, the pacing labels (against the
budget and against the weekday's usual pace), and what the risk table tells a person."""

import datetime as dt

import duckdb
import numpy as np
import pandas as pd
import pytest

from elv_assets.ml import forecasting as F
from elv_assets.ml.adset_features import adset_features_select
from elv_assets.ml.pacing import recommended_action, weekday_note

AS_OF = dt.date(2026, 3, 10)


def _daily(rows: list[tuple]) -> pd.DataFrame:
    """rows: (day of March, spend, budget, leads, qualified, bookings) for ad set a1."""
    con = duckdb.connect()
    con.execute("CREATE SCHEMA gold")
    df = pd.DataFrame(rows, columns=["day", "spend", "daily_budget", "leads", "qualified", "bookings"])
    df["date"] = [dt.date(2026, 3, d) for d in df.pop("day")]
    df = df.assign(adset_id="a1", campaign_id="c1", platform="meta", impressions=1000, clicks=10,
                   platform_conversions=0)
    con.register("d", df)
    con.execute("CREATE TABLE gold.adset_daily AS SELECT * FROM d")
    return con.execute(adset_features_select(AS_OF, under_pacing_share=0.8)).df().set_index("date")


def _ten_days(**override) -> list[tuple]:
    rows = {d: (d, 100.0, 100.0, 5, 2, d % 3) for d in range(1, 11)}
    for day, values in override.items():
        rows[int(day[1:])] = values
    return list(rows.values())


def test_a_row_for_day_d_sees_only_days_before_it():
    base = _daily(_ten_days())
    changed = _daily(_ten_days(d8=(8, 5000.0, 100.0, 50, 20, 9)))
    d8 = pd.Timestamp("2026-03-08")
    features = [c for c in base.columns if not c.startswith("target_") and c not in ("budget",)]
    pd.testing.assert_series_equal(base.loc[d8, features], changed.loc[d8, features])
    assert changed.loc[d8, "target_bookings"] == 9  # the day's own number is the target, not a feature
    d9 = pd.Timestamp("2026-03-09")
    assert changed.loc[d9, "spend_lag1"] == 5000.0 and changed.loc[d9, "bookings_lag1"] == 9


def test_the_baseline_is_the_mean_of_the_seven_days_before():
    f = _daily(_ten_days())
    # bookings are day % 3: days 2..8 -> 2,0,1,2,0,1,2 = 8, over 7 days
    assert f.loc[pd.Timestamp("2026-03-09"), "bookings_avg7"] == pytest.approx(8 / 7)
    # day 3 has only days 1 and 2 before it: (1 + 2) / 2
    assert f.loc[pd.Timestamp("2026-03-03"), "bookings_avg7"] == pytest.approx(1.5)
    assert pd.isna(f.loc[pd.Timestamp("2026-03-01"), "bookings_avg7"])


def test_there_is_one_future_row_and_it_has_no_targets():
    f = _daily(_ten_days())
    future = f[f["is_future"]]
    assert list(future.index) == [pd.Timestamp("2026-03-11")]
    assert pd.isna(future["target_bookings"].iloc[0]) and pd.isna(future["target_under_paced"].iloc[0])
    assert future["budget"].iloc[0] == 100.0 and future["spend_lag1"].iloc[0] == 100.0


def test_a_day_without_rows_counts_as_zero_and_an_ended_ad_set_has_no_budget():
    rows = [r for r in _ten_days() if r[0] != 5]
    f = _daily(rows)
    assert f.loc[pd.Timestamp("2026-03-06"), "spend_lag1"] == 0.0  # day 5 missing: zero delivery
    assert pd.isna(f.loc[pd.Timestamp("2026-03-05"), "target_under_paced"])  # no budget known that day: no label
    ended = _daily([r if r[0] < 9 else (r[0], 0.0, None, 0, 0, 1) for r in _ten_days()])
    assert pd.isna(ended[ended["is_future"]]["budget"].iloc[0])


def test_the_pacing_label_is_spend_below_the_share_of_budget():
    f = _daily(_ten_days(d4=(4, 79.0, 100.0, 5, 2, 0), d6=(6, 80.0, 100.0, 5, 2, 0)))
    assert f.loc[pd.Timestamp("2026-03-04"), "target_under_paced"]  # 79 < 0.8 x 100
    assert not f.loc[pd.Timestamp("2026-03-06"), "target_under_paced"]  # 80 is not below 80
    assert f.loc[pd.Timestamp("2026-03-05"), "under_paced_lag1"]  # the naive baseline: yesterday's status
    assert f.loc[pd.Timestamp("2026-03-05"), "pacing_ratio_lag1"] == pytest.approx(0.79)


SATURDAY = dt.date(2026, 3, 14)


def _weeks(sunday_spend: dict[dt.date, float] | None = None) -> pd.DataFrame:
    """Ten weeks (Monday 5 January to Saturday 14 March) of two ad sets with a budget of 100: 100 spent on other
    days, 70 on Sundays (the whole account's Sunday dip), or what `sunday_spend` says for a Sunday of ad set a1."""
    con = duckdb.connect()
    con.execute("CREATE SCHEMA gold")
    days = pd.date_range("2026-01-05", SATURDAY, freq="D").date
    rows = []
    for adset in ("a1", "a2"):
        for day in days:
            spend = 70.0 if day.isoweekday() == 7 else 100.0
            if adset == "a1" and sunday_spend and day in sunday_spend:
                spend = sunday_spend[day]
            rows.append((day, adset, spend))
    df = pd.DataFrame(rows, columns=["date", "adset_id", "spend"]).assign(
        daily_budget=100.0, campaign_id="c1", platform="meta", impressions=1000, clicks=10, leads=1, qualified=0,
        bookings=0, platform_conversions=0)
    con.register("d", df)
    con.execute("CREATE TABLE gold.adset_daily AS SELECT * FROM d")
    out = con.execute(adset_features_select(SATURDAY, under_pacing_share=0.8)).df()
    return out.set_index(["adset_id", "date"])


def test_the_weekday_pace_is_the_accounts_usual_pace_that_weekday_from_the_weeks_before():
    f = _weeks()
    week = (6 * 100 + 70) / 700  # the account's pace across a week
    tomorrow = f.loc[("a1", pd.Timestamp("2026-03-15"))]
    assert tomorrow["is_future"] and tomorrow["weekday_pace"] == pytest.approx(0.7 / week)
    assert f.loc[("a1", pd.Timestamp("2026-03-13")), "weekday_pace"] == pytest.approx(1 / week)  # a Friday
    # fewer than 4 Sundays before it: not known yet, so the Sunday is judged against the budget alone
    early = f.loc[("a1", pd.Timestamp("2026-01-25"))]
    assert pd.isna(early["weekday_pace"]) and early["target_under_paced"] and early["target_under_paced_weekday"]


def test_a_sunday_dip_like_the_accounts_is_under_budget_but_not_under_pace_for_a_sunday():
    sunday, worse = pd.Timestamp("2026-03-08"), pd.Timestamp("2026-03-01")
    f = _weeks({worse.date(): 40.0})
    usual = f.loc[("a2", sunday)]
    assert usual["target_under_paced"] and not usual["target_under_paced_weekday"]  # 70 < 80, 70 > 80 x 0.73
    assert f.loc[("a1", worse), "target_under_paced_weekday"]  # 40 is below even a Sunday's usual pace
    assert f.loc[("a1", worse + pd.Timedelta(days=1)), "under_paced_weekday_lag1"]  # the naive baseline: yesterday's
    monday = f.loc[("a2", pd.Timestamp("2026-03-09"))]
    assert monday["weekday_pace"] > 1 and not monday["target_under_paced_weekday"]  # capped: weekdays keep the rule
    assert f.loc[("a1", pd.Timestamp("2026-03-10")), "target_under_paced_weekday"] == \
        f.loc[("a1", pd.Timestamp("2026-03-10")), "target_under_paced"]


def test_the_weekday_columns_are_not_model_features():
    f = _weeks().reset_index()
    numeric, _ = F.feature_names(f)
    assert "weekday" in numeric
    assert not {"weekday_pace", "under_paced_weekday_lag1", "target_under_paced_weekday"} & set(numeric)


def test_backtest_folds_are_consecutive_windows_after_an_expanding_training_set():
    dates = pd.Series(pd.date_range("2026-01-01", periods=100, freq="D"))
    folds = F.rolling_folds(dates, folds=4, horizon_days=14, min_train_days=28)
    assert [f.test_start for f in folds] == [pd.Timestamp("2026-02-14") + pd.Timedelta(days=14 * k) for k in range(4)]
    assert [f.test_end for f in folds][-1] == pd.Timestamp("2026-04-10")  # the last day
    for a, b in zip(folds, folds[1:], strict=False):
        assert b.test_start == a.test_end + pd.Timedelta(days=1)  # no gap, no overlap
        assert b.train_end > a.train_end  # expanding
    assert all(f.train_end == f.test_start for f in folds)  # trains on every day before its window
    with pytest.raises(ValueError, match="needs 84 days"):
        F.rolling_folds(dates.head(60), folds=4, horizon_days=14, min_train_days=28)


def test_backtest_never_trains_on_its_test_window():
    rng = np.random.default_rng(0)
    days = pd.date_range("2026-01-01", periods=90, freq="D")
    df = pd.DataFrame({"date": np.repeat(days, 3), "adset_id": np.tile(["a", "b", "c"], 90), "is_future": False,
                       "campaign_id": "c1", "platform": "meta", "bookings_avg7": 1.0,
                       "x": rng.normal(size=270)})
    df["target_bookings"] = rng.poisson(np.exp(0.5 * df["x"]))
    folds = F.rolling_folds(df["date"], folds=4, horizon_days=10, min_train_days=30)
    per_fold, preds = F.backtest_bookings(df, folds, {"n_estimators": 20})
    assert list(per_fold["train_rows"]) == [3 * (50 + 10 * k) for k in range(4)]  # 90 days - 4 x 10 test days
    assert list(per_fold["test_rows"]) == [30] * 4
    assert preds.groupby("fold")["date"].min().tolist() == [f.test_start for f in folds]


def test_regression_metrics_arithmetic():
    m = F.regression_metrics([0, 2, 4], [1, 2, 2])
    assert m["mae"] == pytest.approx(1.0)  # (1 + 0 + 2) / 3
    assert m["rmse"] == pytest.approx(np.sqrt(5 / 3))
    assert m["wape"] == pytest.approx(0.5)  # 3 / 6
    assert m["r2"] == pytest.approx(1 - 5 / 8)  # SSE 5, SST 8


def test_poisson_floor_matches_a_simulation():
    rng = np.random.default_rng(1)
    mu = rng.uniform(0.2, 3, 100_000)
    y = rng.poisson(mu)
    assert F.poisson_wape_floor(mu, y.sum()) == pytest.approx(np.abs(y - mu).sum() / y.sum(), rel=0.01)


def test_recommended_actions_read_the_risk_and_the_pace():
    def row(p, pace, budget=100.0):
        return pd.Series({"p_under_pace": p, "pace_7d": pace, "budget": budget})

    assert recommended_action(row(0.9, 0.6)).startswith("Likely to under-spend tomorrow (90%): it spent 60%")
    assert "about 40 a day" in recommended_action(row(0.9, 0.6))
    assert recommended_action(row(0.2, 1.3)).startswith("Spending above its budget (130%")
    assert recommended_action(row(0.2, 0.95)).startswith("On pace (95%")
    assert recommended_action(row(0.9, 0.6, budget=None)).startswith("No budget on record")


def _tomorrow(p_budget: float, p_weekday: float, pace: float = 0.97, weekday_pace: float = 0.79) -> pd.Series:
    return pd.Series({"p_under_pace": p_budget, "p_under_weekday_pace": p_weekday, "pace_7d": pace, "budget": 100.0,
                      "date": pd.Timestamp("2026-11-01"), "weekday_pace": weekday_pace})  # a Sunday


def test_an_ad_set_below_budget_only_as_the_account_is_on_sundays_needs_no_action():
    said = recommended_action(_tomorrow(0.84, 0.06))
    assert said.startswith("Likely to spend below its budget tomorrow (84%), as the account usually does on Sundays")
    assert said.endswith("no action needed.") and "Check bids" not in said
    chronic = recommended_action(_tomorrow(0.97, 0.95, pace=0.53))
    assert chronic.startswith("Likely to under-spend tomorrow even for a Sunday (95%): it spent 53%")
    assert "Check bids" in chronic
    # on a day the account does not usually spend less, there is no weekday to blame
    assert recommended_action(_tomorrow(0.9, 0.9, pace=0.6, weekday_pace=1.04)).startswith(
        "Likely to under-spend tomorrow (90%)")


def test_the_weekday_pattern_is_said_once_for_the_ad_sets_it_explains():
    risk = pd.DataFrame([_tomorrow(0.95, 0.9, pace=0.5), _tomorrow(0.8, 0.1), _tomorrow(0.7, 0.05),
                         _tomorrow(0.1, 0.02)])
    risk["at_risk"] = risk["p_under_weekday_pace"] >= 0.5
    assert weekday_note(risk) == ("The account usually spends less on Sundays (over the last 8 weeks, 79% of its "
                                  "usual pace): 2 of 4 ad sets are likely to spend below budget tomorrow for that "
                                  "reason alone, so they are not listed as at risk.")
    assert weekday_note(risk.assign(weekday_pace=1.03)) is None  # a weekday without a dip
    assert weekday_note(risk.drop(columns="at_risk")) is None  # a table from before the weekday was judged
