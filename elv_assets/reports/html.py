"""report.html of a run: Plotly lift and calibration charts, the metrics, the leaderboards and drift; it opens
offline (plotly.min.js sits beside the run folders)."""

from __future__ import annotations

import html
import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from elv_assets.contracts.tables import JOIN_METHODS
from elv_assets.reports.inputs import (
    DRIFT_COLUMNS,
    JOIN_STRATEGY,
    LIFT_PERCENTS,
    PLOTLY_JS,
    SCORE_NAMES,
    TOP_ROWS,
    InputSummary,
    RunReportInputs,
    dq_highlights,
)
from elv_assets.reports.text import board_table, day, metrics_table, num, pct


def lift_figure(metrics: dict) -> go.Figure:
    """Lift at the top 5/10/20 % of leads, the model beside each baseline; 1 is random."""
    fig = go.Figure()
    for name, m in metrics["metrics"].items():
        lifts = [m.get(f"lift_{k}") for k in LIFT_PERCENTS]
        captures = [m.get(f"capture_{k}") for k in LIFT_PERCENTS]
        fig.add_bar(name=SCORE_NAMES.get(name, name), x=[f"top {k}%" for k in LIFT_PERCENTS], y=lifts,
                    customdata=captures,
                    hovertemplate="%{x}: lift %{y:.2f}, captures %{customdata:.1%} of qualified<extra></extra>")
    fig.add_hline(y=1, line_dash="dash", line_color="grey", annotation_text="random")
    fig.update_layout(barmode="group", title="Lift on the test split", yaxis_title="lift (x base rate)",
                      xaxis_title="leads ranked by score", height=420, margin=dict(l=60, r=20, t=60, b=50),
                      legend=dict(orientation="h", y=-0.2))
    return fig


def calibration_figure(metrics: dict) -> go.Figure:
    """Reliability: mean predicted probability against the observed qualification rate, per bin."""
    fig = go.Figure()
    top = 0.0
    for key, label, symbol in (("reliability_width", "equal-width bins", "circle"),
                               ("reliability_mass", "equal-mass bins", "diamond")):
        r = metrics.get(key) or {}
        if not r.get("p_mean"):
            continue
        top = max(top, *[v for v in r["p_mean"] + r["y_rate"] if v is not None])
        fig.add_scatter(name=label, x=r["p_mean"], y=r["y_rate"], mode="lines+markers",
                        marker=dict(symbol=symbol, size=8), customdata=r.get("n"),
                        hovertemplate="predicted %{x:.3f}, observed %{y:.3f} (%{customdata} leads)<extra></extra>")
    top = min(1.0, top * 1.05 + 0.01)
    fig.add_scatter(name="perfect calibration", x=[0, top], y=[0, top], mode="lines",
                    line=dict(dash="dash", color="grey"))
    m = metrics["metrics"].get("model", {})
    fig.update_layout(title=f"Calibration on the test split (ECE {num(m.get('ece_width'))})",
                      xaxis_title="mean predicted probability", yaxis_title="observed qualification rate",
                      height=420, margin=dict(l=60, r=20, t=60, b=50), legend=dict(orientation="h", y=-0.2))
    return fig


def _figure_html(fig: go.Figure, div_id: str) -> str:
    return fig.to_html(full_html=False, include_plotlyjs=False, div_id=div_id,
                       config={"displaylogo": False, "responsive": True})


def _table_html(df: pd.DataFrame, digits: int = 4) -> str:
    if df.empty:
        return "<p class='muted'>No rows.</p>"
    shown = df.copy()
    for c in shown.columns:
        shown[c] = [_cell(v, digits) for v in shown[c]]
    return shown.to_html(index=False, border=0, classes="t", escape=True, na_rep="n/a")


def _cell(value, digits: int) -> str:
    if value is None or value is pd.NA or value is pd.NaT:
        return "n/a"
    if isinstance(value, float | np.floating) and not math.isfinite(float(value)):
        return "n/a"
    if isinstance(value, bool | np.bool_ | int | np.integer | float | np.floating):
        return num(value, digits)
    return str(value)


def _section(anchor: str, title: str, body: str) -> str:
    return f"<section id='{anchor}'>\n<h2>{html.escape(title)}</h2>\n{body}\n</section>"


def _p(text: str) -> str:
    return f"<p>{html.escape(text)}</p>"


CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0 auto;max-width:1180px;padding:24px;
color:#1f2933;line-height:1.45}
h1{margin-bottom:4px}h2{border-bottom:1px solid #d9dee3;padding-bottom:4px;margin-top:36px}
.muted{color:#66717d}.kv{display:grid;grid-template-columns:max-content auto;gap:4px 16px}
.kv dt{color:#66717d}.kv dd{margin:0}
table.t{border-collapse:collapse;font-size:13px;margin:8px 0}
table.t th,table.t td{padding:4px 8px;border-bottom:1px solid #e6e9ec;text-align:right}
table.t th:first-child,table.t td:first-child{text-align:left}
table.t thead th{background:#f3f5f7}
nav a{margin-right:12px}.warn{background:#fff6e0;padding:8px 12px;border-left:4px solid #e0a800}
"""


def _kv(pairs: list[tuple[str, str]]) -> str:
    items = "".join(f"<dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd>" for k, v in pairs)
    return f"<dl class='kv'>{items}</dl>"


def report_html(inputs: RunReportInputs, metrics: dict, summary: InputSummary | None = None) -> str:
    summary = summary or InputSummary(inputs)
    w = inputs.windows
    counts, rates, labels = summary.join_counts, summary.match_rates, summary.labels
    b = metrics["split_boundaries"]
    promo = inputs.promotion
    drift = metrics["drift"]
    money = f" ({inputs.currency})" if inputs.currency else ""

    joins = pd.DataFrame({"join method": list(JOIN_METHODS), "leads": [counts[m] for m in JOIN_METHODS],
                          "share": [pct(rates[m]) for m in JOIN_METHODS]})
    maturity = pd.DataFrame([
        {"cohort": "mature, qualified (positive)", "leads": labels["mature_positive"]},
        {"cohort": "mature, not qualified (negative)", "leads": labels["negative"]},
        {"cohort": "young, qualified already", "leads": labels["young_qualified_so_far"]},
        {"cohort": "young, window still open (immature)", "leads": labels["immature"]},
    ])
    splits = inputs.splits.copy()
    if not splits.empty:
        splits["positive rate"] = [pct(p / n if n else None) for p, n in zip(splits["positives"], splits["leads"],
                                                                              strict=True)]
    table = metrics_table(metrics).drop(columns=["n", "positives", "base_rate"])
    serving = inputs.model
    reason = str(promo.get("reason", "")).strip()
    promo_text = ("Promoted: this run's model serves now" if promo.get("promote") else
                  f"Not promoted: the {serving.get('kind')} model trained in run {serving.get('trained_in_run')} "
                  "keeps serving") + (f" ({reason})." if reason else ".")

    def board(df: pd.DataFrame, level: str, disabled: str | None) -> str:
        if df.empty:
            reason = disabled or "The leaderboard is empty."
            return f"<p class='warn'>Disabled: {html.escape(reason)}</p>"
        start, end = df.get("window_start"), df.get("window_end")
        span = (f"Leads created and money spent from {day(start.iloc[0])} to {day(end.iloc[0])}"
                if start is not None and end is not None else "The leaderboard window")
        return (_p(f"{span}; ranked by predicted ELV per unit of spend{money}; low-volume rows are not ranked. "
                   f"Top {min(TOP_ROWS, len(df))} of {len(df)}.")
                + _table_html(board_table(df, level), digits=2))

    sections = [
        _section("join", "Join summary", _p(
            f"Leads are joined to campaigns, ad sets and ads by {JOIN_STRATEGY}: {pct(rates['matched'])} of "
            f"{sum(counts.values()):,} leads matched.") + _table_html(joins)),
        _section("maturity", "Maturity summary", _p(
            f"A lead is labelled once its {w.get('label_window_days')}-day window has closed. "
            f"{labels['mature']:,} mature leads, {pct(labels['mature_positive_rate'])} qualified; only they train "
            f"and evaluate the model. Young leads' qualification so far is right-censored (incomplete) and shown "
            f"for monitoring only.") + _table_html(maturity)),
        _section("split", "Split boundaries", _p(
            f"Mature leads split by created_at, never at random: train from {b['first']}, calib from "
            f"{b['calib_start']}, test from {b['test_start']} to {b['last']}.") + _table_html(splits, digits=0)),
        _section("windows", "As-of date and windows", _kv([
            ("as_of_date", inputs.as_of),
            ("feature_lag_days", str(w.get("feature_lag_days"))),
            ("label_window_days", str(w.get("label_window_days"))),
            ("leaderboard_window_days", str(w.get("leaderboard_window_days"))),
        ]) + _p(f"Ad features for a lead created on day d use ad data up to d - {w.get('feature_lag_days')}.")),
        _section("metrics", "Test metrics: model against the baselines", _p(
            f"{metrics['model']} model, {metrics['calibration']} calibration, {num(metrics['n_test'])} test leads "
            f"(base rate {pct(metrics['metrics'].get('model', {}).get('base_rate'))}). {promo_text}")
            + _table_html(table)
            + "<p class='muted'>The CPL baseline is a ranking, not a probability: its Brier, log loss and ECE "
              "are not defined.</p>"),
        _section("choice", "Model choice", _p(inputs.choice.get("reason", "not recorded")) +
                 (_table_html(inputs.choice["table"]) if inputs.choice else "")),
        _section("leakage-guard", "Leakage guard", _p(
            "Lead columns that look filled in after contact are left out of every model, with the reason:")
                 + (_table_html(inputs.screen[["column", "kind", "single_auc", "fill_qualified", "fill_others",
                                               "decision", "why"]]) if not inputs.screen.empty else "")),
        _section("value", "Value of a qualified lead: predicted against realised", _p(
            f"Held out: the value model fitted on the train split's qualified leads, checked on later qualified "
            f"leads whose {inputs.value.get('value_window_days', 'n/a')}-day value window has closed, per decile of "
            "predicted value.") + (_table_html(inputs.value["deciles"])
                                   if len(inputs.value.get("deciles", [])) else _p("Not checked: too few leads."))),
        _section("lift", "Lift", _figure_html(lift_figure(metrics), "lift-plot")),
        _section("calibration", "Calibration (reliability)", _figure_html(calibration_figure(metrics),
                                                                          "calibration-plot")),
        _section("campaign-leaderboard", "Campaign leaderboard", board(inputs.campaign_board, "campaign", None)),
        _section("adset-leaderboard", "Ad-set leaderboard",
                 board(inputs.adset_board, "adset", inputs.adset_disabled_reason)),
        _section("drift", "Feature drift (PSI)", _p(
            f"Training window against the latest leads. Largest PSI {num(drift['max_psi'])} on "
            f"{drift['worst_feature']} ({drift['worst_band']}); below 0.1 stable, 0.1 to 0.25 moderate, above "
            f"0.25 major.") + _table_html(inputs.drift[[c for c in DRIFT_COLUMNS if c in inputs.drift.columns]])),
        _section("data-quality", "Data-quality highlights", _table_html(dq_highlights(inputs.data_quality))),
    ]
    nav = " ".join(f"<a href='#{a}'>{html.escape(t)}</a>" for a, t in (
        ("join", "Join"), ("maturity", "Maturity"), ("split", "Split"), ("windows", "Windows"),
        ("metrics", "Metrics"), ("lift", "Lift"), ("calibration", "Calibration"),
        ("campaign-leaderboard", "Campaigns"), ("adset-leaderboard", "Ad sets"), ("drift", "Drift"),
        ("data-quality", "Data quality")))
    title = f"ELV run report: as_of {inputs.as_of}"
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{html.escape(title)}</title>
<style>{CSS}</style>
<script src="../{PLOTLY_JS}"></script>
</head>
<body>
<h1>{html.escape(title)}</h1>
<p class="muted">Run {html.escape(inputs.run_id)} &middot; as_of {html.escape(inputs.as_of)} &middot; model \
{html.escape(str(metrics['model']))} ({html.escape(str(metrics['calibration']))}) &middot; \
currency {html.escape(inputs.currency or 'n/a')}</p>
<nav>{nav}</nav>
{chr(10).join(sections)}
</body>
</html>
"""
