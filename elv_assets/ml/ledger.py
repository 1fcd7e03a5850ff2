"""The prediction ledger and what came of it: did last month's predictions come true?

`monitoring.prediction_ledger` is append-only. Every scoring run appends, for each lead whose window is still
open at the run's as-of date (the predictions nothing can yet prove right or wrong), what the serving model said
that day: p at creation, the value if qualified, ELV, and the age-aware p. A replay (`elv run --as-of` for a past
day) appends that day's rows, replacing only its own earlier rows, so a new deployment can fill its history.

`monitoring.realised_vs_predicted` reads the ledger against what happened since. Each lead counts once, with its
first prediction (the earliest as-of at which it was in the ledger: before its outcome could be known). Per
weekly creation cohort (Monday to Sunday) and campaign, and for all campaigns together ("(all)"):

- predicted qualified (the sum of p) and its 90 % band: the 5th and 95th percentiles of a binomial with the
  cohort's leads and mean p (a little wider than the exact sum of Bernoullis, so the band is not too strict);
- qualified: within the window, once every lead of the cell has matured (before that, qualified so far);
- expected ROC-AUC and PR-AUC from the calibrated probabilities alone (what the ranking should achieve if the
  probabilities are right: the confidence-based estimate of monitoring), beside the realised ones once the cell
  has matured, so a cohort still maturing has a figure on day 1;
- predicted ELV against realised value (the revenue of deals won within the value window after qualifying),
  once every lead's value window has closed.

The `cohort_band` check fails when a recently matured cohort's qualified count falls outside its band.
`monitoring.elv_history` keeps, per as-of date and campaign, the predicted ELV of the leads created in the
window before it and the spend of those days: the campaign's ELV per spend as it was seen each day.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import binom
from sklearn.metrics import average_precision_score, roc_auc_score

from elv_assets.build import Build, Built, Check, Skip
from elv_assets.lakehouse.files import SERVING_MODEL_KEY
from elv_assets.ml.labels import NO_LEADS, as_of_end
from elv_assets.ml.training import VALUE_KEY
from elv_assets.ml.value import VALUE_WINDOW_DAYS

LEDGER = "monitoring.prediction_ledger"
ALL_CAMPAIGNS = "(all)"
MIN_CLASS = 5  # a realised ROC-AUC / PR-AUC needs this many qualified and not qualified leads


# --- the ledger --------------------------------------------------------------------------------------------

def build_prediction_ledger(b: Build) -> Built:
    """The day's predictions for every lead whose window is still open, to append to the ledger."""
    if not b.con.execute("SELECT count(*) FROM gold.lead_scores").fetchall()[0][0]:
        raise Skip(b.skipped_because("gold/lead_scores") or NO_LEADS)
    if b.has(SERVING_MODEL_KEY):
        trained_as_of = b.load(SERVING_MODEL_KEY).as_of
        if trained_as_of and str(trained_as_of) > str(b.as_of):
            raise Skip(f"The serving model was trained as of {trained_as_of}, after this run's as-of {b.as_of}: its "
                       "predictions for that day's leads would be made with hindsight, so none are recorded. Replay "
                       "past days in date order from a warehouse whose model is not newer (`elv run --as-of`).")
    staged = b.stage(f"""
        SELECT DATE '{b.as_of}' AS as_of_date, s.model_version, s.lead_id, s.created_at, s.campaign_id, s.adset_id,
               s.age_days, s.p_qualified_14d, s.expected_value_if_qualified, s.elv, s.p_given_age, s.elv_given_age,
               coalesce(s.label = 1, false) AS qualified_by_as_of, '{b.run_id}' AS run_id
        FROM gold.lead_scores s JOIN gold.lead_labels l USING (lead_id)
        WHERE NOT l.mature AND s.created_at < {as_of_end(b.as_of)}
        ORDER BY s.created_at, s.lead_id""")
    n, p, p_now = b.con.execute(
        f"SELECT count(*), sum(p_qualified_14d), sum(p_given_age) FROM {staged}").fetchall()[0]
    return Built(metadata={"as_of_date": str(b.as_of), "leads_with_open_window": int(n),
                           "predicted_qualified_at_creation": round(float(p or 0), 1),
                           "predicted_qualified_given_age": round(float(p_now or 0), 1)})


# --- realised against predicted ----------------------------------------------------------------------------

def expected_roc_auc(p: np.ndarray) -> float | None:
    """The ROC-AUC the ranking by p should reach if p is calibrated: over pairs of distinct leads, the expected
    share of (qualified, not qualified) pairs ordered right, ties counting half."""
    p = np.asarray(p, dtype=float)
    if len(p) < 2:
        return None
    order = np.argsort(p, kind="stable")
    ps = p[order]
    neg = 1.0 - ps
    # for each lead, the expected negatives strictly below it and among its ties (itself excluded)
    uniq, start = np.unique(ps, return_index=True)
    cum_neg = np.concatenate([[0.0], np.cumsum(neg)])
    end = np.append(start[1:], len(ps))
    below = np.repeat(cum_neg[start], end - start)
    tied = np.repeat(cum_neg[end] - cum_neg[start], end - start) - neg
    pairs = ps.sum() * neg.sum() - (ps * neg).sum()
    if pairs <= 0:
        return None
    return float((ps * (below + 0.5 * tied)).sum() / pairs)


def expected_pr_auc(p: np.ndarray) -> float | None:
    """The average precision the ranking by p should reach if p is calibrated (ratio of expectations): the expected
    precision at each rank, weighted by the chance the lead at that rank qualifies."""
    p = np.sort(np.asarray(p, dtype=float))[::-1]
    total = p.sum()
    if total <= 0:
        return None
    precision = np.cumsum(p) / np.arange(1, len(p) + 1)
    return float((p * precision).sum() / total)


def _realised_metric(metric, y: np.ndarray, p: np.ndarray) -> float | None:
    positives = int(y.sum())
    if positives < MIN_CLASS or len(y) - positives < MIN_CLASS:
        return None
    return float(metric(y, p))


def ledger_leads_select(as_of, window_days: int, value_window_days: int) -> str:
    """Each ledger lead once, with its first prediction and what is known of it at the as-of date."""
    end = as_of_end(as_of)
    vw = f"INTERVAL {int(value_window_days)} DAY"
    return f"""
        WITH first AS (
            SELECT * FROM {LEDGER} WHERE created_at < {end} AND as_of_date <= DATE '{as_of}'
            QUALIFY row_number() OVER (PARTITION BY lead_id ORDER BY as_of_date, model_version) = 1
        )
        SELECT f.lead_id, f.created_at, date_trunc('week', f.created_at)::DATE AS cohort_week,
               coalesce(f.campaign_id, '(unattributed)') AS campaign_id, f.as_of_date,
               f.p_qualified_14d AS p, f.elv, l.mature, coalesce(l.label = 1, false) AS qualified,
               f.created_at + INTERVAL {int(window_days)} DAY + {vw} < {end} AS value_closed,
               CASE WHEN l.label = 1 AND o.won_at >= o.qualified_at AND o.won_at <= o.qualified_at + {vw}
                         AND o.won_at < {end} THEN coalesce(o.revenue, 0) ELSE 0 END AS realised_value,
               s.p_given_age AS p_now
        FROM first f JOIN gold.lead_labels l USING (lead_id)
        LEFT JOIN silver.outcomes o USING (lead_id)
        LEFT JOIN gold.lead_scores s USING (lead_id)
        ORDER BY f.created_at, f.lead_id"""


def cell_row(g: pd.DataFrame, level: float) -> dict:
    n = len(g)
    p = g["p"].to_numpy(dtype=float)
    y = g["qualified"].to_numpy(dtype=bool)
    mean_p = float(p.mean()) if n else 0.0
    lo, hi = binom.ppf([(1 - level) / 2, (1 + level) / 2], n, min(max(mean_p, 0.0), 1.0))
    matured = bool(g["mature"].all())
    value_closed = bool(g["value_closed"].all())
    qualified = int(y.sum())
    return {
        "leads": n, "first_predicted": g["as_of_date"].min(), "last_predicted": g["as_of_date"].max(),
        "mature_leads": int(g["mature"].sum()), "status": "matured" if matured else "maturing",
        "predicted_qualified": float(p.sum()), "band_low": float(lo), "band_high": float(hi),
        "qualified": qualified,
        "versus_band": (("below" if qualified < lo else "above" if qualified > hi else "inside") if matured else None),
        "expected_qualified_now": float(g["p_now"].fillna(g["p"]).sum()),
        "expected_roc_auc": expected_roc_auc(p), "expected_pr_auc": expected_pr_auc(p),
        "roc_auc": _realised_metric(roc_auc_score, y, p) if matured else None,
        "pr_auc": _realised_metric(average_precision_score, y, p) if matured else None,
        "predicted_elv": float(g["elv"].sum()),
        "realised_value": float(g["realised_value"].sum()) if value_closed else None,
    }


def realised_vs_predicted(leads: pd.DataFrame, level: float = 0.9) -> pd.DataFrame:
    """One row per (cohort week, campaign) and per cohort week for all campaigns (ALL_CAMPAIGNS)."""
    rows = []
    for week, cohort in leads.groupby("cohort_week", sort=True):
        rows.append({"cohort_week": week, "campaign_id": ALL_CAMPAIGNS, **cell_row(cohort, level)})
        for campaign, g in cohort.groupby("campaign_id", sort=True):
            rows.append({"cohort_week": week, "campaign_id": campaign, **cell_row(g, level)})
    return pd.DataFrame(rows)


def band_check(table: pd.DataFrame, level: float, recent: int) -> Check:
    """The latest `recent` matured cohorts (all campaigns) against their band at `level`."""
    cohorts = table[(table["campaign_id"] == ALL_CAMPAIGNS) & (table["status"] == "matured")]
    judged = cohorts.sort_values("cohort_week").tail(recent)
    if judged.empty:
        return Check("cohort_band", passed=True, description=(
            "No cohort in the ledger has matured yet: the first is judged once its leads' windows have closed "
            "(replay past days with `elv run --as-of` to fill the ledger's history)."))
    rows = []
    for _, c in judged.iterrows():
        lo, hi = binom.ppf([(1 - level) / 2, (1 + level) / 2], c["leads"], c["predicted_qualified"] / c["leads"])
        rows.append({"cohort_week": str(c["cohort_week"])[:10], "leads": int(c["leads"]),
                     "predicted": round(float(c["predicted_qualified"]), 1), "band": f"{lo:.0f} to {hi:.0f}",
                     "qualified": int(c["qualified"]), "inside": bool(lo <= c["qualified"] <= hi)})
    outside = [r for r in rows if not r["inside"]]
    said = "; ".join(f"week of {r['cohort_week']}: {r['qualified']} qualified, predicted {r['predicted']} "
                     f"(band {r['band']})" for r in outside)
    return Check(
        "cohort_band", passed=not outside, severity="error",
        description=(f"Outside the {level:.0%} band of the predictions: {said}. The model's probabilities no longer "
                     "match what happens: look at drift and retrain." if outside else
                     f"The last {len(rows)} matured cohort(s) qualified within the {level:.0%} band of what was "
                     "predicted."),
        metadata={"cohorts": pd.DataFrame(rows), "level": level})


def require_ledger(b: Build) -> None:
    """Skip, saying why, while the ledger holds no prediction."""
    if not b.con.execute(f"SELECT count(*) FROM {LEDGER}").fetchall()[0][0]:
        raise Skip(b.skipped_because("monitoring/prediction_ledger")
                   or "The prediction ledger is empty: it fills as scoring runs record their predictions.")


def build_realised_vs_predicted(b: Build) -> Built:
    cfg = b.config
    require_ledger(b)
    # the value window the value model learned with (its artefact records it), so both judge value alike
    value_window = (b.load(VALUE_KEY) or {}).get("value_window_days", VALUE_WINDOW_DAYS) if b.has(VALUE_KEY) \
        else VALUE_WINDOW_DAYS
    leads = b.fetch(ledger_leads_select(b.as_of, b.chain.label_window_days, value_window))
    table = realised_vs_predicted(leads, cfg.band_level)
    b.stage_frame(table, typed=True)
    check = band_check(table, cfg.check_level, cfg.judged_cohorts)
    cells = table[(table["campaign_id"] != ALL_CAMPAIGNS) & (table["status"] == "matured")]
    inside = (cells["versus_band"] == "inside").mean() if len(cells) else None
    return Built(checks=[check], metadata={
        "cohorts": int(table["cohort_week"].nunique()), "matured_cohorts": int(
            (table[(table["campaign_id"] == ALL_CAMPAIGNS)]["status"] == "matured").sum()),
        "matured_cells": len(cells), "cells_inside_band": round(float(inside), 3) if inside is not None else None,
        "band_level": cfg.band_level, "value_window_days": value_window,
    })


# --- the history of each campaign's ELV per spend ---------------------------------------------------------

def build_elv_history(b: Build) -> Built:
    """Per as-of date in the ledger and campaign: the leads created in the window before it, their predicted ELV
    (at creation) and the spend of those days."""
    window = int(b.chain.label_window_days)
    require_ledger(b)
    b.stage(f"""
        WITH days AS (SELECT DISTINCT as_of_date FROM {LEDGER} WHERE as_of_date <= DATE '{b.as_of}'),
        leads AS (
            SELECT as_of_date, coalesce(campaign_id, '(unattributed)') AS campaign_id, count(*) AS leads,
                   sum(p_qualified_14d) AS predicted_qualified, sum(elv) AS predicted_elv
            FROM {LEDGER}
            WHERE as_of_date <= DATE '{b.as_of}'
              AND created_at >= as_of_date - INTERVAL {window - 1} DAY
            GROUP BY ALL
        ), spend AS (
            SELECT d.as_of_date, a.campaign_id, sum(a.spend) AS spend
            FROM days d JOIN silver.ads a
              ON a.date BETWEEN d.as_of_date - INTERVAL {window - 1} DAY AND d.as_of_date
            GROUP BY ALL
        )
        SELECT l.as_of_date, l.campaign_id, l.leads, l.predicted_qualified, l.predicted_elv, s.spend,
               l.predicted_elv / nullif(s.spend, 0) AS elv_per_spend,
               (l.as_of_date - INTERVAL {window - 1} DAY)::DATE AS window_start
        FROM leads l LEFT JOIN spend s USING (as_of_date, campaign_id)
        ORDER BY l.as_of_date, l.campaign_id""")
    days = b.con.execute(f"SELECT count(DISTINCT as_of_date) FROM {LEDGER}").fetchall()[0][0]
    return Built(metadata={"as_of_dates": int(days), "window_days": window})
