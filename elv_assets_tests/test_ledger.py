"""The prediction ledger and age-aware scores: the estimates they rest on, checked against simulation, and the
append-only write."""

import duckdb
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

from elv_assets.lakehouse.warehouse import append_in, ensure_schemas
from elv_assets.ml.age import fit_delays, p_given_age
from elv_assets.ml.ledger import (
    ALL_CAMPAIGNS,
    band_check,
    expected_pr_auc,
    expected_roc_auc,
    realised_vs_predicted,
)

WINDOW = 14


def test_expected_auc_from_calibrated_p_matches_simulated_outcomes():
    rng = np.random.default_rng(1)
    p = rng.beta(1.2, 5, 3000)
    draws = [rng.random(len(p)) < p for _ in range(200)]
    roc = np.mean([roc_auc_score(y, p) for y in draws])
    pr = np.mean([average_precision_score(y, p) for y in draws])
    assert expected_roc_auc(p) == pytest.approx(roc, abs=0.005)
    assert expected_pr_auc(p) == pytest.approx(pr, abs=0.01)


def test_expected_roc_auc_of_tied_scores_is_a_coin_toss():
    assert expected_roc_auc(np.full(50, 0.3)) == pytest.approx(0.5)
    assert expected_roc_auc(np.array([0.5])) is None


def test_p_given_age_uses_what_is_known():
    p = np.array([0.4, 0.4, 0.4, 0.4, 0.4])
    label = pd.Series([1, 0, None, None, None], dtype="Int64")
    mature = np.array([False, True, False, False, False])
    cdf = np.array([0.2, 1.0, 0.0, 0.5, 1.0])
    out = p_given_age(p, label, mature, cdf)
    assert out[0] == 1.0 and out[1] == 0.0  # qualified; window closed without it
    assert out[2] == pytest.approx(0.4)  # just created: nothing learned yet
    assert out[3] == pytest.approx(0.4 * 0.5 / (1 - 0.4 * 0.5))  # half the qualifiers would have by now
    assert out[4] == 0.0  # every qualifier would have by now


def simulated_leads(n: int, seed: int, medians: dict[str, float]) -> pd.DataFrame:
    """Leads over 120 days, each qualifying within the window with p, after a lognormal delay by channel."""
    rng = np.random.default_rng(seed)
    channel = rng.choice(list(medians), n)
    created = pd.Timestamp("2026-01-01") + pd.to_timedelta(rng.uniform(0, 120, n), unit="D")
    p = rng.beta(2, 6, n)
    qualifies = rng.random(n) < p  # p is the chance within the window: calibrated by construction
    delay = np.full(n, np.inf)
    mu = np.log(np.array([medians[c] for c in channel]))
    while (todo := qualifies & (delay > WINDOW)).any():  # the delay of those who qualify within the window
        delay[todo] = np.exp(mu[todo] + 0.9 * rng.standard_normal(int(todo.sum())))
    return pd.DataFrame({"created_at": created, "channel": channel, "form": rng.choice(["a", "b"], n), "p": p,
                         "qualifies": qualifies, "delay": np.where(qualifies, delay, np.nan)})


def test_delays_are_segmented_by_the_column_that_splits_them():
    leads = simulated_leads(40_000, 3, {"meta": 1.5, "linkedin": 7.0, "google": 2.5})
    positives = leads[leads.qualifies].assign(days_to_qualify=lambda d: d.delay)
    model = fit_delays(positives, WINDOW)
    assert model.column == "channel"
    assert model.medians()["linkedin"] > 2 * model.medians()["meta"]
    same = simulated_leads(40_000, 4, {"meta": 3.0, "linkedin": 3.0})
    assert fit_delays(same[same.qualifies].assign(days_to_qualify=lambda d: d.delay), WINDOW).column is None


def test_age_aware_counts_are_closer_to_what_happens_than_day_zero_counts():
    leads = simulated_leads(60_000, 5, {"meta": 1.5, "linkedin": 7.0, "google": 2.5})
    as_of_end = pd.Timestamp("2026-04-20")
    known = leads[leads.created_at < as_of_end - pd.Timedelta(days=WINDOW)]
    model = fit_delays(known[known.qualifies].assign(days_to_qualify=lambda d: d.delay), WINDOW)
    young = leads[(leads.created_at >= as_of_end - pd.Timedelta(days=WINDOW)) & (leads.created_at < as_of_end)]
    age = ((as_of_end - young.created_at) / pd.Timedelta(days=1)).to_numpy()
    qualified_by_now = young.qualifies & (young.delay <= age)
    label = pd.Series(np.where(qualified_by_now, 1, pd.NA), dtype="Int64", index=young.index)
    p_now = p_given_age(young.p.to_numpy(), label, np.zeros(len(young), bool), model.cdf(age, young.channel))
    cells = [young.channel, young.created_at.dt.date]  # per channel and creation day
    truth = young.qualifies.groupby(cells).sum()
    by_now = pd.Series(p_now, index=young.index).groupby(cells).sum()
    at_creation = young.p.groupby(cells).sum()
    assert (by_now - truth).abs().mean() < 0.7 * (at_creation - truth).abs().mean()
    assert abs(by_now.sum() - truth.sum()) < 3 * np.sqrt((young.p * (1 - young.p)).sum())  # and not biased


def ledger_frame(as_of: str, version: str, leads: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"as_of_date": pd.Timestamp(as_of), "model_version": version, "lead_id": leads,
                         "p": 0.2})


def test_the_ledger_appends_and_a_replayed_day_replaces_only_itself(tmp_path):
    con = duckdb.connect(str(tmp_path / "wh.duckdb"))
    ensure_schemas(con)

    def append(frame: pd.DataFrame) -> None:
        con.register("f", frame)
        con.execute("CREATE OR REPLACE TABLE monitoring._stage_ledger AS SELECT * FROM f")
        con.unregister("f")
        append_in(con, "monitoring._stage_ledger", "monitoring.ledger", ("as_of_date", "model_version"))

    append(ledger_frame("2026-01-01", "m1", ["a", "b"]))
    append(ledger_frame("2026-01-02", "m1", ["a", "b", "c"]))
    append(ledger_frame("2026-01-01", "m1", ["a"]).assign(p=0.5))  # a replay of the first day
    append(ledger_frame("2026-01-02", "m2", ["c"]).assign(extra="new column"))  # another model, a new column
    rows = con.execute("SELECT as_of_date::DATE::VARCHAR, model_version, lead_id, p, extra FROM monitoring.ledger "
                       "ORDER BY 1, 2, 3").fetchall()
    assert rows == [("2026-01-01", "m1", "a", 0.5, None),
                    ("2026-01-02", "m1", "a", 0.2, None), ("2026-01-02", "m1", "b", 0.2, None),
                    ("2026-01-02", "m1", "c", 0.2, None), ("2026-01-02", "m2", "c", 0.2, "new column")]
    assert not con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name LIKE '_stage%'"
                           ).fetchall()[0][0]


def test_a_failed_append_leaves_the_ledger_as_it_was(tmp_path):
    con = duckdb.connect(str(tmp_path / "wh.duckdb"))
    ensure_schemas(con)
    con.execute("CREATE TABLE monitoring.ledger AS SELECT DATE '2026-01-01' AS as_of_date, 'm1' AS model_version, "
                "'a' AS lead_id, 0.2::DOUBLE AS p")
    con.execute("CREATE TABLE monitoring._stage_ledger AS SELECT DATE '2026-01-01' AS as_of_date, 'm1' AS "
                "model_version, 'b' AS lead_id, 'not a number' AS p")
    with pytest.raises(duckdb.Error):
        append_in(con, "monitoring._stage_ledger", "monitoring.ledger", ("as_of_date", "model_version"))
    assert con.execute("SELECT lead_id, p FROM monitoring.ledger").fetchall() == [("a", 0.2)]


def cohort_leads(rng, week: str, campaign: str, n: int, p: float, rate: float, mature: bool = True) -> pd.DataFrame:
    return pd.DataFrame({
        "lead_id": [f"{week}-{campaign}-{i}" for i in range(n)], "cohort_week": pd.Timestamp(week),
        "campaign_id": campaign, "as_of_date": pd.Timestamp(week) + pd.Timedelta(days=7), "p": p, "elv": p * 100,
        "mature": mature, "qualified": rng.random(n) < rate, "value_closed": False, "realised_value": 0.0,
        "p_now": np.nan})


def test_matured_cohorts_are_judged_against_the_binomial_band_of_their_predictions():
    rng = np.random.default_rng(0)
    leads = pd.concat([
        cohort_leads(rng, "2026-01-05", "c1", 1000, 0.2, 0.2), cohort_leads(rng, "2026-01-05", "c2", 1000, 0.2, 0.2),
        cohort_leads(rng, "2026-01-12", "c1", 1000, 0.2, 0.35), cohort_leads(rng, "2026-01-12", "c2", 1000, 0.2, 0.35),
        cohort_leads(rng, "2026-01-19", "c1", 500, 0.2, 0.0, mature=False),
    ])
    table = realised_vs_predicted(leads)
    whole = table[table.campaign_id == ALL_CAMPAIGNS].set_index("cohort_week")
    assert whole.loc["2026-01-05", "versus_band"] == "inside"
    assert whole.loc["2026-01-12", "versus_band"] == "above"
    assert whole.loc["2026-01-19", "status"] == "maturing" and pd.isna(whole.loc["2026-01-19", "versus_band"])
    assert whole.loc["2026-01-05", "band_low"] < 400 < whole.loc["2026-01-05", "band_high"]
    assert whole.loc["2026-01-19", "expected_roc_auc"] == pytest.approx(0.5)  # one p for all: no ranking
    check = band_check(table, level=0.99, recent=4)
    assert not check.passed and "2026-01-12" in check.description
    assert band_check(table[table.cohort_week < "2026-01-12"], 0.99, 4).passed
