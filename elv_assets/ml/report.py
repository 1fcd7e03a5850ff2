"""One folder of artifacts per run: the serving model, metrics, metadata, a model card, a data card and
an HTML report with Plotly charts.

    runs/plotly.min.js          written once, shared by every report (so each report stays small)
    runs/<run_id>/model.joblib  a copy of the serving model
                  metrics.json  test metrics against the baselines, split boundaries, promotion, drift
                  metadata.json git commit, schema version, as_of, windows, join match rates, inputs' sha256
                  MODEL_CARD.md, DATA_CARD.md, report.html

Everything here takes plain DataFrames and dicts (`RunReportInputs`); the Dagster asset in
defs/report.py collects them from the warehouse and the object store.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import html
import io
import json
import math
import shutil
import subprocess
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.offline

import elv_assets
from elv_assets.contracts.tables import JOIN_METHODS
from elv_assets.ml.drift import REPORT_COLUMNS
from elv_assets.ml.metrics import DEFAULT_FRACTIONS, METRIC_KEYS
from elv_assets.ml.store import atomic_write

SCHEMA_VERSION = "elv-run-artifacts/1"
JOIN_STRATEGY = "id > mapping > name"
PLOTLY_JS = "plotly.min.js"
TOP_ROWS = 15
SCORE_NAMES = {
    "model": "model (calibrated)",
    "campaign_rate": "baseline: campaign's historical rate",
    "campaign_cpl": "baseline: campaign's CPL (cheaper first)",
}
METRIC_COLUMNS = list(METRIC_KEYS)
LIFT_PERCENTS = [round(f * 100) for f in DEFAULT_FRACTIONS]  # 5, 10, 20: the lift_* and capture_* keys
HEADLINE_METRICS = ("pr_auc", "roc_auc", "brier", "log_loss", "ece_width", "ece_mass", "lift_10", "capture_10")
BOARD_COLUMNS = ["rank", "{level}_id", "{level}_name", "campaign_id", "spend", "leads", "qualified_so_far",
                 "predicted_qualified", "predicted_elv", "elv_per_spend", "cpl", "cost_per_predicted_qualified",
                 "low_volume"]
DRIFT_COLUMNS = [*REPORT_COLUMNS, "importance"]


@dataclass
class RunReportInputs:
    """Everything one report needs, as plain values. Frames may be empty; dicts may lack optional keys."""

    run_id: str
    as_of: str  # YYYY-MM-DD
    serving_model_path: Path  # the joblib file of the serving model
    evaluation: dict  # the object store's "evaluation": model, calibration, n_test, metrics, lift, reliability_*
    model: dict  # the serving model: kind, calibration_method, n_numeric, n_categorical, trained_in_run,
    #              trained_as_of, value_source, value_overall
    promotion: dict  # promote, reason, new_pr_auc, new_ece, serving_pr_auc, serving_ece, run_id
    windows: dict  # label_window_days, feature_lag_days, leaderboard_window_days
    attribution: pd.DataFrame  # join_method, leads
    labels: pd.DataFrame  # label_status, mature, leads
    splits: pd.DataFrame  # split (train/calib/test), leads, positives, first, last (created_at)
    campaign_board: pd.DataFrame  # gold.campaign_leaderboard
    adset_board: pd.DataFrame  # gold.adset_leaderboard (empty when disabled)
    drift: pd.DataFrame  # monitoring.feature_drift
    data_quality: pd.DataFrame  # monitoring.data_quality_report
    tables: pd.DataFrame  # table, rows, date_column, first, last
    candidates: pd.DataFrame = field(default_factory=pd.DataFrame)  # kind, pr_auc_calib, params (dict)
    adset_disabled_reason: str | None = None
    currency: str | None = None
    data_dir: Path | None = None  # the input CSVs, fingerprinted in metadata.json
    code_dir: Path | None = None  # where to ask git for the commit (default: this package's folder)


class InputSummary:
    """The counts several artifacts show, each computed once on first use: the input files' fingerprints,
    leads per join method, match rates and label counts."""

    def __init__(self, inputs: RunReportInputs):
        self.inputs = inputs

    @cached_property
    def fingerprints(self) -> list[dict]:
        return input_fingerprints(self.inputs.data_dir)

    @cached_property
    def join_counts(self) -> dict[str, int]:
        return join_counts(self.inputs.attribution)

    @cached_property
    def match_rates(self) -> dict[str, float]:
        return _rates(self.join_counts)

    @cached_property
    def labels(self) -> dict[str, int | float | None]:
        return label_counts(self.inputs.labels)


def write_run_artifacts(run_dir: Path, inputs: RunReportInputs, metrics: dict | None = None) -> dict[str, Path]:
    """Write every artifact of one run into run_dir (and plotly.min.js beside it, once); returns their paths.

    `metrics` is `metrics_document(inputs)` when the caller already has it (it is what metrics.json holds).
    """
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    metrics = metrics_document(inputs) if metrics is None else metrics
    summary = InputSummary(inputs)
    return {
        "model": copy_model(run_dir, inputs),
        "metrics": write_json(run_dir / "metrics.json", metrics),
        "metadata": write_json(run_dir / "metadata.json", metadata_document(inputs, metrics, summary)),
        "model_card": write_text(run_dir / "MODEL_CARD.md", model_card(inputs, metrics, summary)),
        "data_card": write_text(run_dir / "DATA_CARD.md", data_card(inputs, summary)),
        "plotly_js": ensure_plotly_js(run_dir.parent),
        "report": write_text(run_dir / "report.html", report_html(inputs, metrics, summary)),
    }


# --- files ------------------------------------------------------------------------------------------


def write_text(path: Path, text: str) -> Path:
    """Write through a temporary file and a rename, so a reader never sees half a file."""
    return atomic_write(path, text, mode=0o644)  # readable by all: reports are for reading


def write_json(path: Path, doc: dict) -> Path:
    return write_text(path, json.dumps(json_clean(doc), indent=2, allow_nan=False) + "\n")


def copy_model(run_dir: Path, inputs: RunReportInputs) -> Path:
    target = run_dir / "model.joblib"
    shutil.copyfile(inputs.serving_model_path, target)
    return target


def ensure_plotly_js(runs_dir: Path) -> Path:
    """plotly.min.js once per runs/ folder; reports load it as ../plotly.min.js, so they work offline.

    Rewritten only when missing or from another Plotly version (its first line names the version).
    """
    path = Path(runs_dir) / PLOTLY_JS
    js = plotly.offline.get_plotlyjs()
    head = js[:200]
    if not path.exists() or path.open(encoding="utf-8", errors="replace").read(len(head)) != head:
        write_text(path, js)
    return path


def json_clean(value):
    """JSON-ready: numpy scalars to Python, NaN and infinities to None, dates to ISO strings, paths to str."""
    if isinstance(value, dict):
        return {str(k): json_clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | np.ndarray | pd.Series):
        return [json_clean(v) for v in value]
    if isinstance(value, pd.DataFrame):
        return [json_clean(r) for r in value.to_dict(orient="records")]
    if isinstance(value, np.datetime64):
        value = pd.Timestamp(value)
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return None if not math.isfinite(float(value)) else float(value)
    if isinstance(value, dt.date | dt.datetime | pd.Timestamp):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    return value if isinstance(value, str) else str(value)


# --- the numbers, once ------------------------------------------------------------------------------


def match_rates(attribution: pd.DataFrame) -> dict[str, float]:
    """Share of leads joined by each method (all five methods, 0 when absent), plus `matched` = id+mapping+name."""
    return _rates(join_counts(attribution))


def _rates(counts: dict[str, int]) -> dict[str, float]:
    total = sum(counts.values())
    rates = {m: (counts[m] / total if total else 0.0) for m in JOIN_METHODS}
    rates["matched"] = sum(rates[m] for m in ("id", "mapping", "name"))
    return rates


def join_counts(attribution: pd.DataFrame) -> dict[str, int]:
    by = dict(zip(attribution.get("join_method", []), attribution.get("leads", []), strict=True))
    return {m: int(by.get(m, 0)) for m in JOIN_METHODS}


def label_counts(labels: pd.DataFrame) -> dict[str, int | float | None]:
    def n(mask) -> int:
        return int(labels.loc[mask, "leads"].sum()) if len(labels) else 0

    status, mature = labels.get("label_status", pd.Series(dtype=str)), labels.get("mature", pd.Series(dtype=bool))
    mature = mature.astype(bool)
    out = {
        "total": n(slice(None)),
        "positive": n(status == "positive"),
        "negative": n(status == "negative"),
        "immature": n(status == "immature"),
        "mature": n(mature),
        "mature_positive": n(mature & (status == "positive")),
        "young": n(~mature),
        "young_qualified_so_far": n(~mature & (status == "positive")),
    }
    out["mature_positive_rate"] = out["mature_positive"] / out["mature"] if out["mature"] else None
    return out


def split_boundaries(splits: pd.DataFrame) -> dict[str, str | None]:
    """first (train start), calib_start, test_start and last, from the per-split first/last created_at."""
    by = splits.set_index("split") if len(splits) else pd.DataFrame(columns=["first", "last"])

    def at(split: str, col: str) -> str | None:
        return str(by.loc[split, col]) if split in by.index and pd.notna(by.loc[split, col]) else None

    return {"first": at("train", "first"), "calib_start": at("calib", "first"), "test_start": at("test", "first"),
            "last": at("test", "last")}


def drift_summary(drift: pd.DataFrame) -> dict:
    if drift.empty:
        return {"features": 0, "max_psi": None, "worst_feature": None, "worst_band": None, "bands": {}}
    worst = drift.sort_values("psi", ascending=False).iloc[0]
    return {
        "features": len(drift),
        "max_psi": float(worst["psi"]),
        "worst_feature": str(worst["feature"]),
        "worst_band": str(worst["band"]),
        "bands": {str(k): int(v) for k, v in drift["band"].value_counts().items()},
    }


def dq_highlights(dq: pd.DataFrame) -> pd.DataFrame:
    """Silver rules and cross-table checks that fired, most hits first."""
    cols = ["kind", "table_name", "check_name", "hits", "detail"]
    if dq.empty or "hits" not in dq:
        return pd.DataFrame(columns=cols)
    hits = pd.to_numeric(dq["hits"], errors="coerce").fillna(0)
    out = dq[dq["kind"].isin(["rule", "cross_table"]) & (hits > 0)]
    return out.assign(hits=hits[out.index].astype(int)).sort_values("hits", ascending=False)[cols]


def headline(metrics: dict) -> dict:
    """The flat figures an asset shows in its metadata: the same numbers as metrics.json."""
    scores = metrics["metrics"]
    model = scores.get("model", {})
    out: dict = {"model": metrics["model"], "calibration": metrics["calibration"], "test_leads": metrics["n_test"]}
    out |= {f"test/{k}": model.get(k) for k in HEADLINE_METRICS}
    for name in ("campaign_rate", "campaign_cpl"):
        if name in scores:
            out[f"baseline/{name}/pr_auc"] = scores[name].get("pr_auc")
            out[f"baseline/{name}/lift_10"] = scores[name].get("lift_10")
    out["promoted"] = metrics["promotion"].get("promote")
    out["drift/max_psi"] = metrics["drift"]["max_psi"]
    out["drift/worst_feature"] = metrics["drift"]["worst_feature"]
    return out


def metrics_document(inputs: RunReportInputs) -> dict:
    ev = inputs.evaluation
    doc = {
        "run_id": inputs.run_id,
        "as_of": inputs.as_of,
        "model": ev.get("model"),
        "calibration": ev.get("calibration"),
        "n_test": ev.get("n_test"),
        "metrics": ev.get("metrics", {}),
        "lift": ev.get("lift", {}),
        "reliability_width": ev.get("reliability_width", {}),
        "reliability_mass": ev.get("reliability_mass", {}),
        "single_feature_auc": ev.get("single_feature_auc", {}),
        "split_boundaries": split_boundaries(inputs.splits),
        "splits": inputs.splits,
        "promotion": inputs.promotion,
        "drift": drift_summary(inputs.drift),
    }
    doc = json_clean(doc)
    doc["headline"] = headline(doc)
    return doc


def git_sha(code_dir: Path | None = None) -> str | None:
    """The commit checked out where the code lives, or None (no git, not a repository)."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=code_dir or Path(elv_assets.__file__).parent,
                             capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    sha = out.stdout.strip()
    return sha if out.returncode == 0 and sha else None


class _Hashing(io.RawIOBase):
    """A binary file that feeds every byte read through it into a digest."""

    def __init__(self, raw, digest):
        self._raw, self._digest = raw, digest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = self._raw.readinto(buffer)
        if n:
            self._digest.update(memoryview(buffer)[:n])
        return n


def csv_fingerprint(path: Path) -> dict:
    """One pass over the file: the bytes are hashed as csv.reader reads them (records, quoted newlines kept)."""
    digest = hashlib.sha256()
    with path.open("rb") as raw:
        hashing = _Hashing(raw, digest)
        with io.TextIOWrapper(io.BufferedReader(hashing), encoding="utf-8-sig", errors="replace", newline="") as f:
            records = sum(1 for _ in csv.reader(f))
            while f.read(1 << 20):  # csv.reader stops at the end already; this only makes sure of it
                pass
    return {"file": path.name, "bytes": path.stat().st_size, "rows": max(records - 1, 0),
            "sha256": digest.hexdigest()}


def input_fingerprints(data_dir: Path | None) -> list[dict]:
    """sha256, size and row count (header excluded) of each CSV in the data folder (not its subfolders)."""
    if data_dir is None or not Path(data_dir).is_dir():
        return []
    return [csv_fingerprint(p) for p in sorted(Path(data_dir).glob("*.csv"), key=lambda p: p.name)]


def metadata_document(inputs: RunReportInputs, metrics: dict, summary: InputSummary | None = None) -> dict:
    summary = summary or InputSummary(inputs)
    return json_clean({
        "schema_version": SCHEMA_VERSION,
        "package_version": elv_assets.__version__,
        "git_sha": git_sha(inputs.code_dir),
        "run_id": inputs.run_id,
        "as_of": inputs.as_of,
        "written_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "currency": inputs.currency,
        "windows": inputs.windows,
        "join_strategy": JOIN_STRATEGY,
        "join_counts": summary.join_counts,
        "match_rates": summary.match_rates,
        "labels": summary.labels,
        "split_boundaries": metrics["split_boundaries"],
        "serving_model": inputs.model,
        "metrics": metrics["headline"],
        "inputs": summary.fingerprints,
    })


# --- text helpers -------------------------------------------------------------------------------------


def _num(value, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, int | np.integer):
        return f"{int(value):,}"
    return f"{float(value):,.{digits}f}"


def _pct(value) -> str:
    return "n/a" if value is None else f"{100 * float(value):.1f}%"


def metrics_table(metrics: dict) -> pd.DataFrame:
    """One row per score (model, then the baselines), the metric columns in a fixed order."""
    rows = [{"score": SCORE_NAMES.get(name, name), **{c: m.get(c) for c in METRIC_COLUMNS}}
            for name, m in metrics["metrics"].items()]
    return pd.DataFrame(rows, columns=["score", *METRIC_COLUMNS])


def _markdown(df: pd.DataFrame, floatfmt: str = ".4f") -> str:
    if df.empty:
        return "_none_"
    # tabulate prints NaN as "nan"; as None it prints missingval.
    return df.astype(object).where(df.notna(), None).to_markdown(index=False, floatfmt=floatfmt, missingval="n/a")


def _board(df: pd.DataFrame, level: str) -> pd.DataFrame:
    cols = dict.fromkeys(c.format(level=level) for c in BOARD_COLUMNS)  # campaign_id appears once
    return df[[c for c in cols if c in df.columns]].head(TOP_ROWS)


def _day(value) -> str:
    return "n/a" if value is None or pd.isna(value) else str(pd.Timestamp(value).date())


def _params_text(params: dict | None) -> str:
    return ", ".join(f"{k}={v}" for k, v in (params or {}).items()) or "defaults"


def _model_params(inputs: RunReportInputs, kind: str | None) -> dict:
    """The parameters this run fitted the evaluated kind with (from the candidates)."""
    c = inputs.candidates
    if c.empty or kind is None:
        return {}
    rows = c[c["kind"] == kind]
    return dict(rows.iloc[0]["params"]) if len(rows) else {}


# --- model card ---------------------------------------------------------------------------------------


def model_card(inputs: RunReportInputs, metrics: dict, summary: InputSummary | None = None) -> str:
    summary = summary or InputSummary(inputs)
    m = metrics["metrics"].get("model", {})
    base = metrics["metrics"].get("campaign_rate", {})
    w = inputs.windows
    b = metrics["split_boundaries"]
    promo = inputs.promotion
    rates = summary.match_rates
    labels = summary.labels
    drift = metrics["drift"]
    currency = inputs.currency or "the data's currency"
    kind = metrics["model"]
    served = inputs.model
    serving_line = (
        f"This run's model was **promoted** and serves now ({promo.get('reason', '')})."
        if promo.get("promote") else
        f"This run's model was **not promoted** ({promo.get('reason', '')}); the model that keeps serving is "
        f"`{served.get('kind')}` trained in run `{served.get('trained_in_run')}` (as_of {served.get('trained_as_of')})."
    )
    cands = inputs.candidates
    cand_md = _markdown(cands[["kind", "pr_auc_calib"]]) if not cands.empty else "_not recorded_"
    verdict = ("beats" if (m.get("pr_auc") or 0) > (base.get("pr_auc") or 0) else "does not beat")
    return f"""# Model card: lead qualification within {w.get('label_window_days')} days

Run `{inputs.run_id}`, as_of **{inputs.as_of}**. Every number below comes from this run.

## What it predicts
- `p_qualified_{w.get('label_window_days')}d`: the probability that a lead qualifies within \
{w.get('label_window_days')} days of being created.
- **ELV** = p x the expected value of a qualified lead of its campaign, in {currency} \
(value source: {served.get('value_source', 'n/a')}; overall value of a qualified lead \
{_num(served.get('value_overall'), 2)} {inputs.currency or ''}).

## Model
- Kind: **{kind}**; parameters: {_params_text(_model_params(inputs, kind))}.
- Calibration: **{metrics['calibration']}**, fitted on the calib split.
- Features: {served.get('n_numeric', 'n/a')} numeric and {served.get('n_categorical', 'n/a')} categorical: the \
lead's own attributes and calendar{_ad_features_text(served, w)}.
- Chosen among the candidates by PR-AUC on the calib split (a simpler model wins a near tie):

{cand_md}

- {serving_line}

## Training data and time split
Mature leads only, split by `created_at` (never at random): train from {b['first']}, calib from \
{b['calib_start']}, test from {b['test_start']} to {b['last']}.

{_markdown(inputs.splits, floatfmt='.0f')}

## Test metrics against the baselines
{metrics['n_test']:,} test leads, {_num(m.get('positives'))} qualified (base rate {_pct(m.get('base_rate'))}).
The model {verdict} the campaign's historical rate on PR-AUC ({_num(m.get('pr_auc'))} against \
{_num(base.get('pr_auc'))}); expected calibration error {_num(m.get('ece_width'))} (equal-width bins), \
{_num(m.get('ece_mass'))} (equal-mass).

{_markdown(metrics_table(metrics))}

The CPL baseline is a ranking, not a probability: only its ranking metrics (PR-AUC, ROC-AUC, lift, capture) \
mean something.

## Intended use
- Ranking and valuing leads and the campaigns and ad sets that bought them, to guide budget between them.
- Comparing campaigns on predicted ELV per unit of spend while most of their recent leads are too young to
  have qualified.

## Not for
- Decisions about an individual person; a single lead's score is a noisy estimate.
- Data from another business, currency or funnel without retraining.

## Limitations
- **Label maturity (right-censoring).** A lead is labelled only once its {w.get('label_window_days')}-day \
window has closed: {labels['mature']:,} mature leads ({labels['mature_positive']:,} qualified, \
{_pct(labels['mature_positive_rate'])}), {labels['young']:,} still young. Young leads' qualification so far is \
incomplete and biased, so it never trains or evaluates the model; the newest {w.get('label_window_days')} days \
are always missing from training.
- **Time split.** Test metrics describe the latest mature weeks ({b['test_start']} to {b['last']}); if the mix \
of campaigns or the market shifts, they age quickly. Drift now: largest PSI {_num(drift['max_psi'])} on \
`{drift['worst_feature']}` ({drift['worst_band']}).
- **Attribution.** Leads are joined to ads by {JOIN_STRATEGY}: {_pct(rates['matched'])} matched, \
{_pct(rates['unmatched'])} unmatched and {_pct(rates['ambiguous'])} ambiguous; the last two carry no campaign \
features and get the overall lead value.
- **Lead values** are learned from won revenue of qualified leads in the train and calib splits and pulled \
towards the overall value for small campaigns; they lag recent changes in deal size.
"""


# --- data card ----------------------------------------------------------------------------------------


def data_card(inputs: RunReportInputs, summary: InputSummary | None = None) -> str:
    summary = summary or InputSummary(inputs)
    files = pd.DataFrame(summary.fingerprints, columns=["file", "bytes", "rows", "sha256"])
    files["sha256"] = files["sha256"].str[:16]
    counts = summary.join_counts
    rates = summary.match_rates
    joins = pd.DataFrame({"method": list(JOIN_METHODS), "leads": [counts[m] for m in JOIN_METHODS],
                          "share": [_pct(rates[m]) for m in JOIN_METHODS]})
    labels = summary.labels
    dq = dq_highlights(inputs.data_quality)
    w = inputs.windows
    return f"""# Data card

Run `{inputs.run_id}`, as_of **{inputs.as_of}**. Currency: {inputs.currency or 'not stated'}.

## Input files
From `{inputs.data_dir}`; rows exclude the header, sha256 shortened to 16 characters (full in metadata.json).

{_markdown(files, floatfmt='.0f')}

## Tables after cleaning (silver) and their date ranges

{_markdown(inputs.tables, floatfmt='.0f')}

## Attribution: leads joined to campaigns by {JOIN_STRATEGY}
Matched: {_pct(rates['matched'])} of {sum(counts.values()):,} leads.

{_markdown(joins)}

## Labels ({w.get('label_window_days')}-day window)
- positive: {labels['positive']:,} ({labels['mature_positive']:,} mature, \
{labels['young_qualified_so_far']:,} young leads that already qualified)
- negative: {labels['negative']:,}
- immature (window still open, not yet qualified): {labels['immature']:,}
- mature cohort: {labels['mature']:,} leads, positive rate {_pct(labels['mature_positive_rate'])}; only \
these train and evaluate the model.

## Data-quality highlights
Silver rules and cross-table checks that fired:

{_markdown(dq)}
"""


# --- HTML report --------------------------------------------------------------------------------------


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
    fig.update_layout(title=f"Calibration on the test split (ECE {_num(m.get('ece_width'))})",
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
        return _num(value, digits)
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
                          "share": [_pct(rates[m]) for m in JOIN_METHODS]})
    maturity = pd.DataFrame([
        {"cohort": "mature, qualified (positive)", "leads": labels["mature_positive"]},
        {"cohort": "mature, not qualified (negative)", "leads": labels["negative"]},
        {"cohort": "young, qualified already", "leads": labels["young_qualified_so_far"]},
        {"cohort": "young, window still open (immature)", "leads": labels["immature"]},
    ])
    splits = inputs.splits.copy()
    if not splits.empty:
        splits["positive rate"] = [_pct(p / n if n else None) for p, n in zip(splits["positives"], splits["leads"],
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
        span = (f"Leads created and money spent from {_day(start.iloc[0])} to {_day(end.iloc[0])}"
                if start is not None and end is not None else "The leaderboard window")
        return (_p(f"{span}; ranked by predicted ELV per unit of spend{money}; low-volume rows are not ranked. "
                   f"Top {min(TOP_ROWS, len(df))} of {len(df)}.")
                + _table_html(_board(df, level), digits=2))

    sections = [
        _section("join", "Join summary", _p(
            f"Leads are joined to campaigns, ad sets and ads by {JOIN_STRATEGY}: {_pct(rates['matched'])} of "
            f"{sum(counts.values()):,} leads matched.") + _table_html(joins)),
        _section("maturity", "Maturity summary", _p(
            f"A lead is labelled once its {w.get('label_window_days')}-day window has closed. "
            f"{labels['mature']:,} mature leads, {_pct(labels['mature_positive_rate'])} qualified; only they train "
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
            f"{metrics['model']} model, {metrics['calibration']} calibration, {_num(metrics['n_test'])} test leads "
            f"(base rate {_pct(metrics['metrics'].get('model', {}).get('base_rate'))}). {promo_text}")
            + _table_html(table)
            + "<p class='muted'>The CPL baseline is a ranking, not a probability: its Brier, log loss and ECE "
              "are not defined.</p>"),
        _section("lift", "Lift", _figure_html(lift_figure(metrics), "lift-plot")),
        _section("calibration", "Calibration (reliability)", _figure_html(calibration_figure(metrics),
                                                                          "calibration-plot")),
        _section("campaign-leaderboard", "Campaign leaderboard", board(inputs.campaign_board, "campaign", None)),
        _section("adset-leaderboard", "Ad-set leaderboard",
                 board(inputs.adset_board, "adset", inputs.adset_disabled_reason)),
        _section("drift", "Feature drift (PSI)", _p(
            f"Training window against the latest leads. Largest PSI {_num(drift['max_psi'])} on "
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


def _ad_features_text(served: dict, windows: dict) -> str:
    """Ad features are named only when the model has them (not on CRM exports alone)."""
    if served.get("n_ad_features"):
        return (f", and its ad set's and campaign's rolling ad features ending {windows.get('feature_lag_days')} "
                "day(s) before the lead was created")
    return " (no ad features: there were no ad rows to compute them from)"
