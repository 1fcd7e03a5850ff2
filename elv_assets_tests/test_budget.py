"""Spend response curves and budget reallocation: plain functions, no Dagster."""

import datetime as dt
import importlib.util
import math
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pandera.errors as pa_errors
import pytest

from elv_assets.contracts.budget import BudgetRecommendation, SpendResponse
from elv_assets.ml.reallocation import limits, recommend, round_to_cents, what_if
from elv_assets.ml.response import (
    adset_state_select,
    bookings_per_qualified,
    curves_from_warehouse,
    fit_curve,
    fit_responses,
    marginal,
    response_days_select,
    saturating,
    weekday_adjust,
)

ROOT = Path(__file__).resolve().parents[1]


def _days(adset_id: str, campaign_id: str, a: float, h: float, spend: np.ndarray, rng, noise: float = 0.08):
    """Daily rows on a known curve: y = truth x lognormal noise, ELV = 50 x qualified."""
    q = saturating(spend, a, h) * rng.lognormal(0.0, noise, len(spend))
    return pd.DataFrame({"adset_id": adset_id, "campaign_id": campaign_id, "spend": spend, "qualified": q,
                         "elv": 50.0 * q, "leads": np.round(q * 5).astype(int)})


# --- the response fit -----------------------------------------------------------------------------------

def test_saturating_and_marginal_arithmetic():
    assert saturating(200.0, 10.0, 200.0) == pytest.approx(5.0)  # half of a at the half spend
    assert marginal(0.0, 10.0, 200.0) == pytest.approx(10 * math.log(2) / 200)
    eps = 1e-4
    assert marginal(150.0, 10.0, 200.0) == pytest.approx(
        (saturating(150 + eps, 10.0, 200.0) - saturating(150 - eps, 10.0, 200.0)) / (2 * eps), rel=1e-6)


def test_known_curve_recovered_from_noisy_samples():
    rng = np.random.default_rng(3)
    spend = rng.uniform(50, 600, 150)
    y = saturating(spend, 12.0, 220.0) + rng.normal(0, 0.4, len(spend))
    a, h = fit_curve(spend, y)
    assert a == pytest.approx(12.0, rel=0.05)
    assert h == pytest.approx(220.0, rel=0.08)
    assert fit_curve(spend, y) == (a, h)  # deterministic


def test_fit_responses_recovers_the_curve_and_its_bootstrap_range_contains_the_truth():
    # an 80 % range: over 100 noise seeds it held the true h 79 times and the true marginal 83 times
    rng = np.random.default_rng(0)
    days = _days("as_1", "c1", 9.0, 150.0, rng.uniform(40, 450, 120), rng)
    state = pd.DataFrame({"adset_id": ["as_1"], "today_spend": [200.0]})
    fit = fit_responses(days, state, samples=200, seed=1)
    row = fit.iloc[0]
    assert row["pooling"] == "adset" and row["days_used"] == 120
    for target, a in (("qualified", 9.0), ("elv", 450.0)):
        assert row[f"a_{target}"] == pytest.approx(a, rel=0.1)
        assert row[f"h_{target}"] == pytest.approx(150.0, rel=0.1)
        assert row[f"a_{target}_p10"] <= row[f"a_{target}"] <= row[f"a_{target}_p90"]
        assert row[f"h_{target}_p10"] <= 150.0 <= row[f"h_{target}_p90"]
    true_marginal = marginal(200.0, 450.0, 150.0)
    assert row["marginal_elv_p10"] <= true_marginal <= row["marginal_elv_p90"]
    assert row["marginal_elv"] == pytest.approx(marginal(200.0, row["a_elv"], row["h_elv"]))
    assert len(row["boot_a_elv"]) == 200
    again = fit_responses(days, state, samples=200, seed=1)
    assert again.iloc[0]["marginal_elv_p90"] == row["marginal_elv_p90"]  # seeded


def test_a_thin_adset_takes_its_shape_from_its_campaign():
    rng = np.random.default_rng(11)
    # every ad set at the same point of its own curve: h = its typical spend
    frames = [
        _days("thick_1", "c1", 10.0, 200.0, 200.0 * rng.uniform(0.3, 2.0, 90), rng),
        _days("thick_2", "c1", 4.0, 80.0, 80.0 * rng.uniform(0.3, 2.0, 90), rng),
        _days("thin", "c1", 6.0, 300.0, 300.0 * np.linspace(0.5, 1.8, 8), rng),  # 8 days: too few alone
        _days("alone", "c2", 5.0, 100.0, 100.0 * rng.uniform(0.9, 1.1, 8), rng),  # thin, campaign of one
        _days("gone", "c2", 5.0, 100.0, np.array([100.0, 90.0]), rng),  # 2 days: not fitted
    ]
    fit = fit_responses(pd.concat(frames, ignore_index=True), samples=100, seed=0).set_index("adset_id")
    assert fit.loc["thick_1", "pooling"] == "adset" and fit.loc["thick_2", "pooling"] == "adset"
    assert fit.loc["thin", "pooling"] == "campaign"
    assert fit.loc["thin", "pool_days"] == 188 and fit.loc["thin", "days_used"] == 8
    assert fit.loc["thin", "h_elv"] == pytest.approx(300.0, rel=0.2)
    assert fit.loc["thin", "a_elv"] == pytest.approx(300.0, rel=0.2)
    relative = fit["h_elv"] / fit["median_spend"]  # one shape, relative to each ad set's own spend
    assert relative["thin"] == pytest.approx(relative["thick_1"], rel=0.2)
    assert fit.loc["alone", "pooling"] == "overall"
    assert "gone" not in fit.index and fit.attrs["skipped"] == ["gone"]


def test_an_adset_whose_spend_barely_moves_is_pooled():
    rng = np.random.default_rng(2)
    frames = [_days(f"as_{i}", "c1", 8.0, 150.0, 150.0 * rng.uniform(0.3, 2.0, 60), rng) for i in range(2)]
    frames.append(_days("flat", "c1", 8.0, 150.0, np.full(60, 150.0), rng))
    fit = fit_responses(pd.concat(frames, ignore_index=True), samples=50).set_index("adset_id")
    assert fit.loc["flat", "spend_cv"] == 0.0 and fit.loc["flat", "pooling"] == "campaign"


def test_weekday_adjust_takes_the_weekday_out_of_the_value_per_lead():
    dates = pd.date_range("2026-03-02", periods=28, freq="D")  # Monday first
    weekend = dates.weekday >= 5
    days = pd.DataFrame({"adset_id": "a", "campaign_id": "c", "date": dates, "spend": 100.0, "leads": 10,
                         "qualified": np.where(weekend, 1.0, 2.0), "elv": np.where(weekend, 50.0, 100.0)})
    out = weekday_adjust(days)
    assert out["elv"].nunique() == 1 and out["qualified"].nunique() == 1
    assert out["elv"].sum() == pytest.approx(days["elv"].sum())
    assert out.attrs["weekday_factors"]["elv"][5] < 1 < out.attrs["weekday_factors"]["elv"][0]


def test_bookings_per_qualified_is_shrunk_towards_the_campaign():
    state = pd.DataFrame({"adset_id": ["a", "b", "c"], "campaign_id": ["c1", "c1", "c2"],
                          "qualified_to_date": [100, 0, 100], "bookings_to_date": [50, 0, 10]})
    rate = bookings_per_qualified(state, prior=20)
    overall = 60 / 200
    camp = (50 + 20 * overall) / (100 + 20)
    assert rate[0] == pytest.approx((50 + 20 * camp) / 120)
    assert rate[1] == pytest.approx(camp)  # no history of its own: its campaign's rate
    assert rate[2] < rate[0]


# --- the warehouse queries ----------------------------------------------------------------------------

def _warehouse(spend_known: bool = True) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("CREATE SCHEMA gold")
    con.execute("""CREATE TABLE gold.adset_daily (date DATE, adset_id VARCHAR, campaign_id VARCHAR, platform VARCHAR,
                   spend DOUBLE, daily_budget DOUBLE, qualified BIGINT, bookings BIGINT)""")
    con.execute("""CREATE TABLE gold.lead_scores (lead_id VARCHAR, created_at TIMESTAMP, campaign_id VARCHAR,
                   adset_id VARCHAR, p_qualified_14d DOUBLE, elv DOUBLE)""")
    rows, leads = [], []
    start = dt.date(2026, 3, 1)
    for i in range(30):
        d = start + dt.timedelta(days=i)
        spend = 100.0 + 40 * (i % 5)
        rows.append((d, "a1", "c1", "meta", spend if spend_known else None, 150.0 if i < 29 else 160.0, 1, i % 2))
        rows.append((d, "a2", "c1", "meta", (50.0 if i >= 25 else 0.0) if spend_known else None, None, 0, 0))
        for k in range(int(spend // 40)):
            leads.append((f"L{i}_{k}", dt.datetime.combine(d, dt.time(10)), "c1", "a1", 0.2, 10.0))
    con.executemany("INSERT INTO gold.adset_daily VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
    con.executemany("INSERT INTO gold.lead_scores VALUES (?, ?, ?, ?, ?, ?)", leads)
    return con


def test_response_days_join_spend_with_the_leads_created_that_day():
    con = _warehouse()
    days = con.execute(response_days_select(dt.date(2026, 3, 30), 20)).df()
    a1 = days[days["adset_id"] == "a1"]
    assert len(a1) == 20 and a1["date"].min() == pd.Timestamp("2026-03-11")
    first = a1.iloc[0]
    assert first["leads"] == first["spend"] // 40
    assert first["qualified"] == pytest.approx(0.2 * first["leads"])
    assert first["elv"] == pytest.approx(10.0 * first["leads"])
    assert set(days[days["adset_id"] == "a2"]["spend"]) == {50.0}  # days without spend are left out


def test_adset_state_current_budget_today_spend_and_shown_maximum():
    con = _warehouse()
    state = con.execute(adset_state_select(dt.date(2026, 3, 30), 20)).df().set_index("adset_id")
    assert state.loc["a1", "current_budget"] == 160.0  # the latest daily_budget
    assert state.loc["a1", "budget_source"] == "daily_budget"
    expected_today = sum(100.0 + 40 * (i % 5) for i in range(23, 30)) / 7
    assert state.loc["a1", "today_spend"] == pytest.approx(expected_today)
    assert state.loc["a1", "max_spend"] == 260.0
    assert state.loc["a2", "budget_source"] == "recent_spend"  # no budget known: the last 7 days' mean spend
    assert state.loc["a2", "current_budget"] == pytest.approx(5 * 50.0 / 7)
    assert bool(state.loc["a2", "active"])


def test_curves_from_warehouse_is_empty_with_a_reason_when_spend_is_unknown():
    empty = curves_from_warehouse(_warehouse(spend_known=False), dt.date(2026, 3, 30))
    assert empty.empty and "Spend is unknown" in empty.attrs["reason"]
    curves = curves_from_warehouse(_warehouse(), dt.date(2026, 3, 30), history_days=30, samples=20)
    assert set(curves["adset_id"]) == {"a1", "a2"} and curves.attrs["reason"] == ""
    validated = SpendResponse.validate(curves.assign(as_of_date=pd.Timestamp("2026-03-30")))
    assert len(validated) == 2


# --- reallocation ---------------------------------------------------------------------------------------

def _curves() -> pd.DataFrame:
    """Five ad sets; marginal ELV at the current budget rises from a (poor) to e (best)."""
    return pd.DataFrame({
        "adset_id": ["a", "b", "c", "d", "e"],
        "campaign_id": ["c1", "c1", "c2", "c2", "c3"],
        "current_budget": [200.0, 150.0, 300.0, 100.0, 250.0],
        "max_spend": [400.0, 300.0, 330.0, 200.0, 260.0],
        "today_spend": [200.0, 150.0, 300.0, 100.0, 250.0],
        "a_elv": [300.0, 400.0, 1500.0, 600.0, 2500.0],
        "h_elv": [100.0, 150.0, 300.0, 150.0, 400.0],
        "a_qualified": [6.0, 8.0, 30.0, 12.0, 50.0],
        "h_qualified": [100.0, 150.0, 300.0, 150.0, 400.0],
        "bookings_per_qualified": [0.5, 0.4, 0.5, 0.3, 0.45],
        "active": True,
    })


def test_reallocation_keeps_the_total_and_the_limits():
    curves = _curves()
    rec = recommend(curves)
    assert rec.attrs["feasible"] and rec["feasible"].all()
    assert rec["recommended_budget"].sum() == pytest.approx(curves["current_budget"].sum(), abs=1e-6)
    cur, new = rec["current_budget"], rec["recommended_budget"]
    assert (new >= cur * 0.7 - 1e-9).all() and (new <= cur * 1.3 + 1e-9).all()
    assert (new <= rec["max_spend"] + 1e-9).all()  # never more than it has shown it can spend
    assert new[rec["adset_id"] == "e"].item() == 260.0  # best marginal, stopped at its shown maximum
    assert rec.set_index("adset_id").loc["e", "capped_by_max_spend"]
    assert "most it has spent" in rec.set_index("adset_id").loc["e", "reason"]


def test_budget_moves_from_low_to_high_marginal_elv():
    rec = recommend(_curves()).set_index("adset_id")
    assert rec.loc["a", "change"] < 0 and rec.loc["a", "recommended_budget"] == pytest.approx(140.0)
    raised = rec[rec["change"] > 1e-6]
    cut = rec[rec["change"] < -1e-6]
    assert raised["marginal_elv_now"].min() > cut["marginal_elv_now"].max()
    assert rec["expected_elv_change"].sum() > 0
    # optimality (concave curves): every ad set strictly inside its limits ends at the same marginal ELV,
    # those at their upper limit are above it, those at their lower limit below it
    level = rec.attrs["marginal_level"]
    inside = (rec["recommended_budget"] > rec["lower_limit"] + 1) & (rec["recommended_budget"] < rec["upper_limit"] - 1)
    assert np.allclose(rec.loc[inside, "marginal_elv_after"], level, rtol=0.02)
    at_top = rec["recommended_budget"] >= rec["upper_limit"] - 1e-6
    at_bottom = rec["recommended_budget"] <= rec["lower_limit"] + 1e-6
    assert (rec.loc[at_top, "marginal_elv_after"] >= level * 0.98).all()
    assert (rec.loc[at_bottom, "marginal_elv_after"] <= level * 1.02).all()


def test_a_budget_above_what_the_adset_has_ever_spent_is_cut_to_that():
    curves = _curves()
    curves.loc[curves["adset_id"] == "c", ["current_budget", "max_spend"]] = [400.0, 320.0]
    rec = recommend(curves).set_index("adset_id")
    assert rec.loc["c", "recommended_budget"] <= 320.0 + 1e-9
    assert rec.loc["c", "upper_limit"] == 320.0
    assert "more than it has spent in any day" in rec.loc["c", "reason"]
    assert rec["recommended_budget"].sum() == pytest.approx(curves["current_budget"].sum())
    # the 80 it could not spend went where it buys ELV: no ELV lost on "c" (its spend does not change)
    assert rec.loc["c", "expected_elv_change"] == pytest.approx(0.0, abs=1e-9)


def test_a_chosen_total_and_an_infeasible_one():
    curves = _curves()
    lower, upper = limits(curves)
    rec = recommend(curves, total_budget=1100.0)
    assert rec.attrs["feasible"] and rec["recommended_budget"].sum() == pytest.approx(1100.0)
    too_much = recommend(curves, total_budget=5000.0)
    assert not too_much.attrs["feasible"] and not too_much["feasible"].any()
    assert too_much["recommended_budget"].to_numpy() == pytest.approx(upper)
    assert "unallocated" in too_much.attrs["note"]
    too_little = recommend(curves, total_budget=100.0)
    assert not too_little.attrs["feasible"]
    assert too_little["recommended_budget"].to_numpy() == pytest.approx(lower)
    assert "below" in too_little.attrs["note"]


def test_max_change_and_inactive_adsets():
    curves = _curves()
    curves.loc[curves["adset_id"] == "b", "active"] = False
    rec = recommend(curves, max_change=0.1)
    assert "b" not in set(rec["adset_id"])
    cur, new = rec["current_budget"], rec["recommended_budget"]
    assert (new >= cur * 0.9 - 1e-9).all() and (new <= cur * 1.1 + 1e-9).all()
    assert new.sum() == pytest.approx(cur.sum())


def test_expected_changes_and_ranges_from_the_bootstrap_draws():
    curves = _curves()
    rng = np.random.default_rng(0)
    for t in ("elv", "qualified"):
        curves[f"boot_a_{t}"] = [list(a * rng.lognormal(0, 0.1, 50)) for a in curves[f"a_{t}"]]
        curves[f"boot_h_{t}"] = [list(h * rng.lognormal(0, 0.1, 50)) for h in curves[f"h_{t}"]]
    rec = recommend(curves)
    assert (rec["expected_elv_change_p10"] <= rec["expected_elv_change_p90"]).all()
    i = 4  # "e": budget 250 -> 260
    a, h = curves.loc[i, "a_elv"], curves.loc[i, "h_elv"]
    assert rec.loc[i, "expected_elv_change"] == pytest.approx(saturating(260.0, a, h) - saturating(250.0, a, h))
    draws = saturating(260.0, np.array(curves.loc[i, "boot_a_elv"]), np.array(curves.loc[i, "boot_h_elv"])) \
        - saturating(250.0, np.array(curves.loc[i, "boot_a_elv"]), np.array(curves.loc[i, "boot_h_elv"]))
    assert rec.loc[i, "expected_elv_change_p10"] == pytest.approx(np.quantile(draws, 0.1))
    totals = rec.attrs["totals"]
    assert totals["elv"]["change"] == pytest.approx(rec["expected_elv_change"].sum())
    assert totals["elv"]["p10"] <= totals["elv"]["change"] <= totals["elv"]["p90"]


def test_what_if_matches_the_curves_arithmetic_and_reports_clipping():
    curves = _curves()
    out = what_if(curves, {"a": 250.0, "d": 500.0, "zz": 10.0})
    a = curves.iloc[0]
    dq_a = saturating(250.0, a["a_qualified"], a["h_qualified"]) - saturating(200.0, a["a_qualified"], a["h_qualified"])
    d = curves.iloc[3]
    dq_d = saturating(200.0, d["a_qualified"], d["h_qualified"]) - saturating(100.0, d["a_qualified"], d["h_qualified"])
    de = (saturating(250.0, a["a_elv"], a["h_elv"]) - saturating(200.0, a["a_elv"], a["h_elv"])
          + saturating(200.0, d["a_elv"], d["h_elv"]) - saturating(100.0, d["a_elv"], d["h_elv"]))
    assert out["qualified"]["change"] == pytest.approx(dq_a + dq_d)
    assert out["bookings"]["change"] == pytest.approx(dq_a * 0.5 + dq_d * 0.3)
    assert out["elv"]["change"] == pytest.approx(de)
    assert out["elv"]["p10"] == pytest.approx(de) and out["elv"]["p90"] == pytest.approx(de)  # no draws: no range
    assert out["clipped"] == {"d": 200.0} and out["budgets"]["d"] == 200.0  # d has never spent more than 200
    assert out["unknown"] == ["zz"] and "clipped" in out["note"]
    assert out["budget"]["new"] - out["budget"]["current"] == pytest.approx(50.0 + 100.0)
    assert what_if(curves, {})["elv"]["change"] == 0.0


def test_the_recommendation_contract_and_cents():
    rec = recommend(_curves()).assign(as_of_date=pd.Timestamp("2026-03-30"))
    rec["recommended_budget"] = round_to_cents(rec["recommended_budget"])
    assert rec["recommended_budget"].sum() == pytest.approx(1000.0)
    assert (rec["recommended_budget"] * 100).round(6).mod(1).eq(0).all()
    BudgetRecommendation.validate(rec)
    bad = rec.copy()
    bad.loc[0, "recommended_budget"] = bad.loc[0, "max_spend"] + 5
    with pytest.raises(pa_errors.SchemaError, match="shown it can spend"):
        BudgetRecommendation.validate(bad)


def test_round_to_cents_keeps_the_total():
    values = np.array([100.004, 200.004, 299.992])
    out = round_to_cents(values)
    assert out.sum() == pytest.approx(600.0) and np.abs(out - values).max() < 0.01


# --- the benchmark helper -------------------------------------------------------------------------------

def test_truth_share_is_one_when_the_curves_are_the_truth(tmp_path):
    spec = importlib.util.spec_from_file_location("budget_truth", ROOT / "bench" / "budget_truth.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    curves = _curves()
    (tmp_path / "truth").mkdir()
    pd.DataFrame({"adset_id": curves["adset_id"], "response_scale": curves["a_elv"] / 10,
                  "response_half_spend": curves["h_elv"], "capacity": curves["max_spend"]}
                 ).to_csv(tmp_path / "truth" / "adsets_truth.csv", index=False)
    pd.DataFrame({"lead_id": list("abcde"), "value_true": 10.0, "p_qualified_true": 0.2}
                 ).to_csv(tmp_path / "truth" / "leads_truth.csv", index=False)
    lead_adsets = pd.DataFrame({"lead_id": list("abcde"), "adset_id": curves["adset_id"]})
    curves["elv_today"] = saturating(curves["today_spend"], curves["a_elv"], curves["h_elv"])
    out = bench.truth_share(curves, tmp_path, lead_adsets)
    assert out["share"] == pytest.approx(1.0, abs=1e-3) and out["gain_best"] > 0
