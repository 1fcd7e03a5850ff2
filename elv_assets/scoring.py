"""Batch scoring of new leads with the serving model: `elv score --leads FILE --out FILE`.

The same path as the pipeline: the file is checked against the leads contract (and refused with the
validation report if it fails), typed and deduplicated like silver.leads, attributed to ad keys (ids,
mapping, names) against the warehouse's silver.ads and silver.mapping, given the same lagged rolling
ad features, and scored by the serving model bundle. The warehouse is opened read-only and attached
to a private in-memory database, so nothing in it changes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from elv_assets.attribution import attribution_select
from elv_assets.cleaning import silver_select
from elv_assets.contracts.inputs import INPUT_FILES, column_specs
from elv_assets.ingest import fetch_frame, sniff, sql_str, typed_select
from elv_assets.ml.bundle import ModelBundle, score_frame
from elv_assets.ml.features import lead_attribute_columns, lead_features_select
from elv_assets.ml.store import ObjectStore
from elv_assets.validation import FileReport, inspect_file
from elv_assets.warehouse import columns

SERVING_NAME = "serving_model"
OUTPUT_COLUMNS = ["lead_id", "created_at", "campaign_id", "adset_id", "join_method", "p_qualified_14d", "elv",
                  "rank", "decile", "reason_1", "reason_2", "reason_3"]


class ScoringRefused(Exception):
    """The leads file or the warehouse cannot be scored; the message says why."""


@dataclass
class ScoreResult:
    scores: pd.DataFrame
    report: FileReport
    model: str
    seconds_prepare: float  # validation, typing, attribution and features (DuckDB)
    seconds_score: float  # the model: probabilities, ELV, ranks and reasons


def score_leads(leads_csv: Path, warehouse: Path, artifacts_dir: Path, with_reasons: bool = True) -> ScoreResult:
    bundle: ModelBundle = ObjectStore(artifacts_dir).load(SERVING_NAME)
    if not warehouse.exists():
        raise ScoringRefused(f"no warehouse at {warehouse}: run the pipeline (make demo / elv run) first")
    t0 = time.perf_counter()
    con = duckdb.connect()
    try:
        report = inspect_file(con, INPUT_FILES["leads"], leads_csv, "raw_leads")
        report.file = leads_csv.name  # the person's own file name in every message
        if report.blocking:
            raise ScoringRefused(report.to_text())
        con.execute(f"ATTACH {sql_str(str(warehouse))} AS wh (READ_ONLY)")
        for schema in ("bronze", "silver", "gold"):
            con.execute(f"CREATE SCHEMA {schema}")
        for table in ("ads", "mapping"):
            con.execute(f"CREATE VIEW silver.{table} AS SELECT * FROM wh.silver.{table}")
        raw_cols = [c for c in columns(con, "raw_leads") if c != "_line"]
        fmt = sniff(leads_csv)
        typed = typed_select("raw_leads", column_specs(INPUT_FILES["leads"].model), raw_cols, fmt.decimal_comma)
        con.execute(f"CREATE TABLE silver.leads AS {silver_select('leads', typed)}")
        as_of = con.execute("SELECT max(created_at)::DATE FROM silver.leads").fetchall()[0][0]
        con.execute(f"CREATE TABLE gold.lead_attribution AS {attribution_select(as_of)}")
        attrs = lead_attribute_columns(columns(con, "silver.leads"))
        features = fetch_frame(con, lead_features_select(as_of, bundle.lag_days, attrs))
        joins = con.execute("SELECT lead_id, join_method FROM gold.lead_attribution").df()
    finally:
        con.close()
    missing = bundle.can_score(features)
    if missing:
        raise ScoringRefused(f"{leads_csv.name} lacks columns the serving model uses: {', '.join(missing)}")
    t1 = time.perf_counter()
    scored = score_frame(bundle, features, with_reasons=with_reasons)
    t2 = time.perf_counter()
    out = features[["lead_id", "created_at", "campaign_id", "adset_id"]].join(scored.drop(columns="lead_id"))
    out["join_method"] = out["lead_id"].map(joins.set_index("lead_id")["join_method"])
    out = out[[c for c in OUTPUT_COLUMNS if c in out.columns]].sort_values("rank").reset_index(drop=True)
    return ScoreResult(out, report, bundle.kind, t1 - t0, t2 - t1)


def write_scores(scores: pd.DataFrame, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix == ".parquet":
        scores.to_parquet(out, index=False)
    else:
        scores.to_csv(out, index=False, float_format="%.6g")
