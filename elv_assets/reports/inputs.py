"""What one run report is made of: the plain inputs (`RunReportInputs`), the counts several artifacts share,
and metrics.json / metadata.json as documents. No Dagster: the report asset's build collects the inputs."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import math
import subprocess
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

import elv_assets
from elv_assets.contracts.tables import JOIN_METHODS
from elv_assets.ml.drift import REPORT_COLUMNS
from elv_assets.ml.metrics import DEFAULT_FRACTIONS, METRIC_KEYS

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
    #              trained_as_of, trained_on, trained_until, value_source, value_overall, served_trees
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
    choice: dict = field(default_factory=dict)  # reason, table (per candidate: PR-AUC, difference, standard error)
    screen: pd.DataFrame = field(default_factory=pd.DataFrame)  # the leakage guard: column, decision, why, ...
    value: dict = field(default_factory=dict)  # source, value_window_days, wins_within_window, deciles, by_campaign
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
    rates["matched"] = sum(rates[m] for m in ("id", "mapping", "name", "lead_field"))
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
    """sha256, size and rows (records after the header, as csv.reader counts them). A file without a quote
    character is read as bytes: its records are its line ends (LF, CR LF or a lone CR) plus an unterminated last
    line; a file with quotes (a value may hold a line break) is read by csv.reader as the bytes are hashed."""
    records, digest = _unquoted_records(path) or _csv_reader_records(path)
    return {"file": path.name, "bytes": path.stat().st_size, "rows": max(records - 1, 0), "sha256": digest}


def _unquoted_records(path: Path, block: int = 1 << 24) -> tuple[int, str] | None:
    """(records, sha256) in one pass over the bytes, or None as soon as a quote shows (csv.reader must read it)."""
    digest, ends, last = hashlib.sha256(), 0, b""
    with path.open("rb") as f:
        while data := f.read(block):
            if b'"' in data:
                return None
            digest.update(data)
            # every LF ends a record, and every CR not followed by LF (across the block boundary too)
            ends += data.count(b"\n") + data.count(b"\r") - data.count(b"\r\n") - (last == b"\r" and data[:1] == b"\n")
            last = data[-1:]
    return ends + (last not in (b"", b"\n", b"\r")), digest.hexdigest()


def _csv_reader_records(path: Path) -> tuple[int, str]:
    """(records, sha256) in one pass: the bytes are hashed as csv.reader reads them (quoted newlines kept)."""
    digest = hashlib.sha256()
    with path.open("rb") as raw:
        hashing = _Hashing(raw, digest)
        with io.TextIOWrapper(io.BufferedReader(hashing), encoding="utf-8-sig", errors="replace", newline="") as f:
            records = sum(1 for _ in csv.reader(f))
            while f.read(1 << 20):  # csv.reader stops at the end already; this only makes sure of it
                pass
    return records, digest.hexdigest()


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
