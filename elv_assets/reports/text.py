"""Small text helpers shared by the model card, the data card and the HTML report."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from elv_assets.reports.inputs import BOARD_COLUMNS, METRIC_COLUMNS, SCORE_NAMES, TOP_ROWS, RunReportInputs


def num(value, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, int | np.integer):
        return f"{int(value):,}"
    return f"{float(value):,.{digits}f}"


def pct(value) -> str:
    return "n/a" if value is None else f"{100 * float(value):.1f}%"


def metrics_table(metrics: dict) -> pd.DataFrame:
    """One row per score (model, then the baselines), the metric columns in a fixed order."""
    rows = [{"score": SCORE_NAMES.get(name, name), **{c: m.get(c) for c in METRIC_COLUMNS}}
            for name, m in metrics["metrics"].items()]
    return pd.DataFrame(rows, columns=["score", *METRIC_COLUMNS])


def markdown(df: pd.DataFrame, floatfmt: str = ".4f") -> str:
    if df.empty:
        return "_none_"
    # tabulate prints NaN as "nan"; as None it prints missingval.
    return df.astype(object).where(df.notna(), None).to_markdown(index=False, floatfmt=floatfmt, missingval="n/a")


def board_table(df: pd.DataFrame, level: str) -> pd.DataFrame:
    cols = dict.fromkeys(c.format(level=level) for c in BOARD_COLUMNS)  # campaign_id appears once
    return df[[c for c in cols if c in df.columns]].head(TOP_ROWS)


def day(value) -> str:
    return "n/a" if value is None or pd.isna(value) else str(pd.Timestamp(value).date())


def params_text(params: dict | None) -> str:
    return ", ".join(f"{k}={v}" for k, v in (params or {}).items()) or "defaults"


def model_params(inputs: RunReportInputs, kind: str | None) -> dict:
    """The parameters this run fitted the evaluated kind with (from the candidates)."""
    c = inputs.candidates
    if c.empty or kind is None:
        return {}
    rows = c[c["kind"] == kind]
    return dict(rows.iloc[0]["params"]) if len(rows) else {}


def ad_features_text(served: dict, windows: dict) -> str:
    """Ad features are named only when the model has them (not on CRM exports alone)."""
    if served.get("n_ad_features"):
        return (f", and its ad set's and campaign's rolling ad features ending {windows.get('feature_lag_days')} "
                "day(s) before the lead was created")
    return " (no ad features: there were no ad rows to compute them from)"
