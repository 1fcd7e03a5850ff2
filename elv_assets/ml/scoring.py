"""Batch scoring of new leads with the serving model: `elv score --leads FILE --out FILE`.

The same path as the pipeline: the file is checked against the leads contract (and refused with the
validation report if it fails), typed and deduplicated like silver.leads, attributed to ad keys (ids,
mapping, names) against the warehouse's silver.ads and silver.mapping, given the same lagged rolling
ad features, and scored by the serving model bundle. The warehouse is opened read-only and attached
to a private in-memory database, so nothing in it changes.

`score_folder` does the same for a whole folder of uploaded files (the dashboard's "bring your own data"):
its ads, mapping and leads are checked, typed and cleaned in a private in-memory DuckDB, with no warehouse.
"""

from __future__ import annotations

import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from elv_assets.build import Build, Built, Skip
from elv_assets.contracts.inputs import INPUT_FILES, column_specs
from elv_assets.lakehouse.attribution import attribution_select
from elv_assets.lakehouse.cleaning import create_silver
from elv_assets.lakehouse.files import SERVING_MODEL_KEY, ArtifactStore
from elv_assets.lakehouse.ingest import (
    empty_raw_select,
    fetch_frame,
    quote_ident,
    sql_str,
    typed_select,
)
from elv_assets.lakehouse.validation import FileReport, cross_file_checks, inspect_file
from elv_assets.lakehouse.warehouse import columns, latest_dates, resolve_as_of, table_exists
from elv_assets.ml.age import DelayModel, fit_delays, p_given_age
from elv_assets.ml.bundle import ALL_MATURE, SCORE_CHUNK, ModelBundle, score_frame
from elv_assets.ml.features import attribute_kinds, lead_attribute_columns, lead_features_select
from elv_assets.ml.labels import NO_LEADS

OUTPUT_COLUMNS = ["lead_id", "created_at", "campaign_id", "adset_id", "join_method", "p_qualified_14d",
                  "expected_value_if_qualified", "elv", "rank", "decile", "reason_1", "reason_2", "reason_3",
                  "value_reason"]


def _attributed_features(con: duckdb.DuckDBPyConnection, lag_days: int,
                         as_of: str = "") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Over silver.leads / ads / mapping in `con`: attribution as the pipeline does it, then the lagged features.

    The as-of date follows the pipeline's rule: the configured one (ELV_AS_OF), else the latest date in the data.
    """
    as_of, _ = resolve_as_of(as_of, latest_dates(con))
    con.execute(f"CREATE TABLE gold.lead_attribution AS {attribution_select(as_of)}")
    kinds = attribute_kinds(con, lead_attribute_columns(columns(con, "silver.leads")))
    features = fetch_frame(con, lead_features_select(as_of, lag_days, kinds))
    joins = con.execute("SELECT lead_id, join_method FROM gold.lead_attribution").df()
    return features, joins


def _scored(bundle: ModelBundle, features: pd.DataFrame, joins: pd.DataFrame,
            with_reasons: bool) -> tuple[pd.DataFrame, float]:
    """The model step: OUTPUT_COLUMNS per lead, best first, and the seconds it took."""
    t = time.perf_counter()
    scored = score_frame(bundle, features, with_reasons=with_reasons)
    seconds = time.perf_counter() - t
    out = features[["lead_id", "created_at", "campaign_id", "adset_id"]].join(scored.drop(columns="lead_id"))
    out["join_method"] = out["lead_id"].map(joins.set_index("lead_id")["join_method"])
    return out[[c for c in OUTPUT_COLUMNS if c in out.columns]].sort_values("rank").reset_index(drop=True), seconds


class ScoringRefused(Exception):
    """The leads file or the warehouse cannot be scored; the message says why."""


@dataclass
class ScoreResult:
    scores: pd.DataFrame
    report: FileReport
    model: str
    seconds_prepare: float  # validation, typing, attribution and features (DuckDB)
    seconds_score: float  # the model: probabilities, ELV, ranks and reasons


def score_leads(leads_csv: Path, warehouse: Path, artifacts_dir: Path, with_reasons: bool = True,
                as_of: str = "") -> ScoreResult:
    bundle: ModelBundle = ArtifactStore(artifacts_dir).load(SERVING_MODEL_KEY)
    if not warehouse.exists():
        raise ScoringRefused(f"no warehouse at {warehouse}: run the pipeline (make demo / elv run) first")
    t0 = time.perf_counter()
    con = duckdb.connect()
    try:
        report = inspect_file(con, LEADS_REQUIRED, leads_csv, "raw_leads")
        report.file = leads_csv.name  # the person's own file name in every message
        if report.blocking:
            raise ScoringRefused(report.to_text())
        con.execute(f"ATTACH {sql_str(str(warehouse))} AS wh (READ_ONLY)")
        for schema in ("bronze", "silver", "gold"):
            con.execute(f"CREATE SCHEMA {schema}")
        for table in ("ads", "adsets", "mapping"):
            con.execute(f"CREATE VIEW silver.{table} AS SELECT * FROM wh.silver.{table}")
        # the validation already found the file's columns and number format: type with them
        typed = typed_select("raw_leads", column_specs(INPUT_FILES["leads"].model), report.columns,
                             report.decimal_comma)
        create_silver(con, "leads", typed, "silver.leads")
        features, joins = _attributed_features(con, bundle.lag_days, as_of)
    finally:
        con.close()
    missing = bundle.can_score(features)
    if missing:
        raise ScoringRefused(f"{leads_csv.name} lacks columns the serving model uses: {', '.join(missing)}")
    t1 = time.perf_counter()
    out, seconds = _scored(bundle, features, joins, with_reasons)
    return ScoreResult(out, report, bundle.kind, t1 - t0, seconds)


def write_scores(scores: pd.DataFrame, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix == ".parquet":
        scores.to_parquet(out, index=False)
    else:
        scores.to_csv(out, index=False, float_format="%.6g")


# --- a whole uploaded folder, without the warehouse -------------------------------------------------------

FOLDER_FILES = ("ads", "adsets", "mapping", "leads", "outcomes")  # what a folder may bring; leads.csv is needed
LEADS_REQUIRED = replace(INPUT_FILES["leads"], required=True)  # scoring has nothing to do without leads


class FolderRefused(ScoringRefused):
    """A file of the folder fails its contract; `reports` holds every file's report (and `cross_file`)."""

    def __init__(self, message: str, reports: dict[str, FileReport], cross_file: list):
        super().__init__(message)
        self.reports = reports
        self.cross_file = cross_file


@dataclass
class FolderScores:
    scores: pd.DataFrame  # OUTPUT_COLUMNS, one row per lead, best first
    reports: dict[str, FileReport]  # every file of FOLDER_FILES, present or not
    cross_file: list  # validation.Problem between files
    campaigns: pd.DataFrame  # per campaign: name, platform, spend over the leads' days, qualified so far
    spend_from: object  # the leads' first and last day: the window `spend` covers
    spend_to: object
    model: str
    seconds_prepare: float
    seconds_score: float


def score_folder(folder: Path, artifacts_dir: Path, with_reasons: bool = True,
                 display_names: dict[str, str] | None = None) -> FolderScores:
    """Score the leads of a folder (leads.csv, and optionally ads.csv, adsets.csv, mapping.csv, outcomes.csv) with the
    serving model, entirely in a private in-memory DuckDB: the same contracts, silver rules, attribution
    and lagged features as the pipeline and `score_leads`, but the ads and mapping come from the folder,
    not from the warehouse. Nothing is written anywhere. `display_names` (input name -> the person's own
    file name) is used in the reports. Raises FolderRefused when a file fails its contract."""
    folder = Path(folder)
    bundle: ModelBundle = ArtifactStore(artifacts_dir).load(SERVING_MODEL_KEY)
    t0 = time.perf_counter()
    con = duckdb.connect()
    try:
        reports, loaded = {}, {}
        for name in FOLDER_FILES:
            spec = LEADS_REQUIRED if name == "leads" else INPUT_FILES[name]
            if name == "outcomes":  # outcomes only add "qualified so far"; scoring does not need them
                spec = replace(spec, if_absent="no 'qualified so far' per campaign")
            report = inspect_file(con, spec, folder / spec.filename, f"raw_{name}")
            report.file = (display_names or {}).get(name, report.file)
            reports[name] = report
            if report.present and report.rows and not report.blocking:
                loaded[name] = f"raw_{name}"
        cross = cross_file_checks(con, loaded)
        if any(r.blocking for r in reports.values()) or any(p.severity == "error" for p in cross):
            text = "\n".join(r.to_text() for r in reports.values() if r.blocking)
            raise FolderRefused(text or "the files do not fit together", reports, cross)
        for schema in ("bronze", "silver", "gold"):
            con.execute(f"CREATE SCHEMA {schema}")
        for name in FOLDER_FILES:
            spec = INPUT_FILES[name]
            if name in loaded:
                raw, present = loaded[name], reports[name].columns
            else:
                raw, present = f"({empty_raw_select(spec.model)}) AS absent", []
            typed = typed_select(raw, column_specs(spec.model), present, reports[name].decimal_comma)
            create_silver(con, name, typed, f"silver.{name}")
        features, joins = _attributed_features(con, bundle.lag_days)
        spend_from, spend_to = con.execute(
            "SELECT min(created_at)::DATE, max(created_at)::DATE FROM gold.lead_attribution").fetchall()[0]
        campaigns = _folder_campaigns(con, "ads" in loaded, "outcomes" in loaded)
    finally:
        con.close()
    missing = bundle.can_score(features)
    if missing:
        raise FolderRefused(f"{reports['leads'].file} lacks columns the serving model uses: {', '.join(missing)}",
                            reports, cross)
    t1 = time.perf_counter()
    out, seconds = _scored(bundle, features, joins, with_reasons)
    return FolderScores(out, reports, cross, campaigns, spend_from, spend_to, bundle.kind, t1 - t0, seconds)


def _folder_campaigns(con: duckdb.DuckDBPyConnection, has_ads: bool, has_outcomes: bool) -> pd.DataFrame:
    """Per campaign of the ads or the attributed leads: name, platform, spend on the leads' days (blank without
    ads.csv) and leads qualified so far (blank without outcomes.csv)."""
    spend = "sum(a.spend) FILTER (WHERE a.date BETWEEN s.lo AND s.hi)" if has_ads else "CAST(NULL AS DOUBLE)"
    qualified = ("(SELECT count(*) FROM gold.lead_attribution la JOIN silver.outcomes o USING (lead_id) "
                 "WHERE o.qualified_at IS NOT NULL AND la.campaign_id = k.campaign_id)"
                 if has_outcomes else "CAST(NULL AS BIGINT)")
    return con.execute(f"""
        WITH s AS (SELECT min(created_at)::DATE AS lo, max(created_at)::DATE AS hi FROM gold.lead_attribution),
        ads AS (
            SELECT a.campaign_id, any_value(a.campaign_name) AS campaign_name, any_value(a.platform) AS platform,
                   {spend} AS spend
            FROM silver.ads a, s GROUP BY a.campaign_id
        ),
        k AS (SELECT campaign_id FROM ads UNION SELECT campaign_id FROM gold.lead_attribution
              WHERE campaign_id IS NOT NULL)
        SELECT k.campaign_id, ads.campaign_name, ads.platform,
               {'coalesce(ads.spend, 0)' if has_ads else 'ads.spend'} AS spend, {qualified} AS qualified_so_far
        FROM k LEFT JOIN ads USING (campaign_id) ORDER BY k.campaign_id
    """).df()


def age_aware(leads: pd.DataFrame, p: np.ndarray, delays: DelayModel, as_of,
              segments: pd.Series | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Each lead's age (days, at the end of the as-of day) and its age-aware probability (ml/age.py). `leads` holds
    created_at, label and mature per lead; `segments` each lead's value of the column the delay model is split by
    (None when it is not split)."""
    end = pd.Timestamp(as_of) + pd.Timedelta(days=1)
    age = ((end - pd.to_datetime(leads["created_at"])) / pd.Timedelta(days=1)).to_numpy(dtype=float)
    return age, p_given_age(p, leads["label"], leads["mature"].to_numpy(dtype=bool), delays.cdf(age, segments))


def segment_columns(bundle: ModelBundle) -> list[str]:
    """The lead columns the delay curves may be split by: the serving model's categorical inputs (never a column the
    leakage guard left out) and the platform."""
    return list(dict.fromkeys(["platform", *bundle.columns.categorical]))


SCORE_COLUMNS = ["lead_id", "created_at", "campaign_id", "adset_id", "split", "label", "p_qualified_14d",
                 "expected_value_if_qualified", "elv", "scored_by", "reason_1", "reason_2", "reason_3",
                 "value_reason", "features_hash"]


def features_hash_sql(con: duckdb.DuckDBPyConnection, table: str = "gold.lead_features", alias: str = "f") -> str:
    """A hash of a lead's features row. Decimals are rounded to 6 places first: DuckDB's parallel sums (the
    rolling ad features) may differ in the last bit from one run to the next, which is not a change."""
    parts = [f"round({alias}.{quote_ident(name)}, 6)" if kind in ("DOUBLE", "FLOAT") else f"{alias}.{quote_ident(name)}"
             for name, kind, *_ in con.execute(f"DESCRIBE {table}").fetchall()]
    return f"hash({', '.join(parts)})"


SCORED = {"lead_id": "VARCHAR", "p_qualified_14d": "DOUBLE", "expected_value_if_qualified": "DOUBLE",
          "elv": "DOUBLE", "scored_by": "VARCHAR", "reason_1": "VARCHAR", "reason_2": "VARCHAR", "reason_3": "VARCHAR",
          "value_reason": "VARCHAR"}  # what the model step gives per lead (_fresh_scores)


def settle(b: Build, version: str) -> int:
    """`_settled`: the previous run's scores that cannot have changed, by lead_id: the same serving model, a lead
    whose label window had closed then and is closed now with the same label and split, and the same features
    (`_leads`' features_hash of its gold.lead_features row: a CRM edit or a late ad row rescores it). Empty on a
    first run, after a retrain, or when the previous table predates the hash. Found in DuckDB; returns how many."""
    kept = "s.lead_id, s.p_qualified_14d, s.expected_value_if_qualified, s.elv, s.scored_by"
    if not table_exists(b.con, "gold.lead_scores") or "features_hash" not in columns(b.con, "gold.lead_scores"):
        b.con.execute("CREATE OR REPLACE TEMP TABLE _settled (lead_id VARCHAR, p_qualified_14d DOUBLE, "
                      "expected_value_if_qualified DOUBLE, elv DOUBLE, scored_by VARCHAR)")
        return 0
    b.con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _settled AS
        SELECT {kept} FROM gold.lead_scores s
        JOIN _leads n ON n.lead_id = s.lead_id AND n.label = s.label AND n.split = s.split
                     AND n.features_hash = s.features_hash
        WHERE s.model_version = {sql_str(version)} AND s.label IS NOT NULL AND n.mature""")
    return b.con.execute("SELECT count(*) FROM _settled").fetchall()[0][0]


def score_fresh(b: Build, bundle: ModelBundle) -> int:
    """`_fresh_scores`: every lead not settled, scored by the serving model SCORE_CHUNK leads at a time (fetched
    from DuckDB a chunk at a time, oldest first: memory holds two chunks, one scored while the next is fetched).
    A lead the refitted serving model learned from takes its out-of-fold probability (score_frame). Returns how
    many were scored."""
    b.con.execute("CREATE OR REPLACE TEMP TABLE _fresh_scores ("
                  + ", ".join(f"{name} {kind}" for name, kind in SCORED.items()) + ")")
    b.con.execute("""CREATE OR REPLACE TEMP TABLE _todo AS
                     SELECT lead_id, created_at, row_number() OVER (ORDER BY i) AS i FROM _leads
                     WHERE lead_id NOT IN (SELECT lead_id FROM _settled)""")
    # Each chunk's created_at range: gold.lead_features is written in created_at order, so the range lets DuckDB
    # skip the row groups outside it (without it, every chunk probed all of the table: 50 chunks at 10M leads).
    # The range only prunes (a second of slack either side); which leads are in the chunk is still i.
    spans = b.con.execute(f"""SELECT min(created_at), max(created_at), count(*) FROM _todo
                              GROUP BY (i - 1) // {SCORE_CHUNK} ORDER BY (i - 1) // {SCORE_CHUNK}""").fetchall()
    todo = sum(n for _, _, n in spans)

    def score(chunk: pd.DataFrame) -> pd.DataFrame:
        learned = None
        if bundle.trained_on == ALL_MATURE:
            learned = chunk["created_at"] <= pd.Timestamp(bundle.trained_until)
            if getattr(bundle, "learned_ids", None) is not None:
                learned &= chunk["lead_id"].isin(bundle.learned_ids)  # a sampled refit never saw the other leads
        return score_frame(bundle, chunk, learned_from=learned)[list(SCORED)]

    def keep(scoring: Future, done: int) -> None:
        b.con.register("_chunk_scores", scoring.result())
        try:
            b.con.execute(f"INSERT INTO _fresh_scores SELECT {', '.join(SCORED)} FROM _chunk_scores")
        finally:
            b.con.unregister("_chunk_scores")
        b.log(f"scored {done:,} of {todo:,} leads")

    # The model scores one chunk in a second thread while this one fetches the next chunk and stores the one
    # before (DuckDB works without the GIL): only this thread uses the connection, and the chunks are stored in
    # their order.
    with ThreadPoolExecutor(max_workers=1) as model:
        previous: tuple[Future, int] | None = None
        for lo, (first, last, _) in zip(range(0, todo, SCORE_CHUNK), spans, strict=True):
            chunk = b.fetch(f"""SELECT f.* FROM _todo t JOIN gold.lead_features f USING (lead_id)
                                WHERE t.i > {lo} AND t.i <= {lo + SCORE_CHUNK}
                                  AND f.created_at BETWEEN TIMESTAMP '{first}' - INTERVAL 1 SECOND
                                                       AND TIMESTAMP '{last}' + INTERVAL 1 SECOND
                                ORDER BY t.i""")
            current = (model.submit(score, chunk), min(lo + SCORE_CHUNK, todo))  # queued behind the previous one
            del chunk
            if previous is not None:
                keep(*previous)  # stored while the model works on the chunk just fetched
            previous = current
        if previous is not None:
            keep(*previous)
    b.con.execute("DROP TABLE _todo")
    return todo


def stage_scores(b: Build, ages: pd.DataFrame, version: str, reused: int) -> None:
    """gold.lead_scores staged in DuckDB: the leads scored now (`_fresh_scores`) and the settled ones copied from the
    live table, with every lead's rank, decile and age-aware figures (`ages`, by `_leads`' row number i)."""
    cols = ", ".join(f'"{c}"' for c in SCORE_COLUMNS)
    settled = f"UNION ALL SELECT {cols} FROM gold.lead_scores WHERE lead_id IN (SELECT lead_id FROM _settled)" \
        if reused else ""
    b.con.register("_ages", ages)
    try:
        b.stage(f"""
            WITH fresh AS (
                SELECT n.lead_id, CAST(n.created_at AS TIMESTAMP_NS) AS created_at, n.campaign_id, n.adset_id,
                       n.split, n.label, s.p_qualified_14d, s.expected_value_if_qualified, s.elv, s.scored_by,
                       s.reason_1, s.reason_2, s.reason_3, s.value_reason, n.features_hash
                FROM _fresh_scores s JOIN _leads n USING (lead_id)
            ), u AS (SELECT {cols} FROM fresh {settled}),
            k AS (SELECT u.*, n.i FROM u JOIN _leads n USING (lead_id))
            SELECT lead_id, created_at, campaign_id, adset_id, split, label, p_qualified_14d,
                   expected_value_if_qualified, elv, a.rank, a.decile, scored_by, reason_1, reason_2, reason_3,
                   value_reason, a.age_days, a.p_given_age, a.elv_given_age, {sql_str(version)} AS model_version,
                   features_hash
            FROM k JOIN _ages a USING (i) ORDER BY a.rank""")
    finally:
        b.con.unregister("_ages")


def build_lead_scores(b: Build) -> Built:
    """gold.lead_scores: every lead, labelled and new, scored by the serving model; with its age-aware probability.

    DuckDB finds which leads are settled (their previous score is kept) and hands the others to the model a chunk
    at a time; pandas sees every lead only through a few narrow numeric columns (the age-aware step), keyed by the
    lead's row number in created_at order, and the metadata's counts and sums are SQL over the staged table."""
    if not b.con.execute("SELECT count(*) FROM gold.lead_features").fetchall()[0][0]:
        raise Skip(NO_LEADS)
    if not b.has(SERVING_MODEL_KEY):
        raise Skip(b.skipped_because(SERVING_MODEL_KEY) or "No serving model yet: it is trained once enough leads "
                   "are labelled (the weekly_retrain job, or `elv run`).")
    bundle: ModelBundle = b.load(SERVING_MODEL_KEY)
    features = columns(b.con, "gold.lead_features")
    missing = [c for c in bundle.columns.all if c not in features]
    if missing:
        raise Skip(f"The serving model needs features that gold.lead_features lacks: {', '.join(missing)}. "
                   "Re-train (materialise ml/*) to replace it.")
    version = bundle.run_id or bundle.kind
    b.con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _leads AS
        SELECT row_number() OVER (ORDER BY f.created_at, f.lead_id) AS i, f.lead_id, f.created_at, f.campaign_id,
               f.adset_id, l.label, l.mature, l.days_to_qualify,
               coalesce(t.split, 'unlabeled') AS split, f.features_hash
        FROM (SELECT f.lead_id, f.created_at, f.campaign_id, f.adset_id, {features_hash_sql(b.con)} AS features_hash
              FROM gold.lead_features f) f  -- hashed first: the numbering then sorts narrow rows, not every feature
        JOIN gold.lead_labels l USING (lead_id)
        LEFT JOIN gold.training_table t USING (lead_id)""")
    try:
        reused = settle(b, version)
        scored_now = score_fresh(b, bundle)
        segments = [c for c in segment_columns(bundle) if c in features]
        picked = ", ".join(f"f.{quote_ident(c)}" for c in segments)
        positives = b.fetch(f"""SELECT n.created_at, n.days_to_qualify{', ' + picked if picked else ''}
                                FROM _leads n JOIN gold.lead_features f USING (lead_id)
                                WHERE n.mature AND n.label = 1 ORDER BY n.created_at, n.lead_id""")
        delays = fit_delays(positives, bundle.window_days, segments)
        by = f", f.{quote_ident(delays.column)} AS segment" if delays.column is not None else ""
        leads = b.fetch(f"""
            SELECT n.created_at, n.label, n.mature,
                   coalesce(s.p_qualified_14d, x.p_qualified_14d) AS p,
                   coalesce(s.expected_value_if_qualified, x.expected_value_if_qualified) AS value,
                   row_number() OVER (ORDER BY coalesce(s.elv, x.elv) DESC, n.lead_id) AS rank{by}
            FROM _leads n LEFT JOIN _settled s USING (lead_id) LEFT JOIN _fresh_scores x USING (lead_id)
            {'JOIN gold.lead_features f USING (lead_id)' if by else ''}
            ORDER BY n.i""")
        p, value = leads["p"].to_numpy(dtype=float), leads["value"].to_numpy(dtype=float)
        age, p_now = age_aware(leads, p, delays, b.as_of, leads["segment"] if by else None)
        rank = leads["rank"].to_numpy(dtype=np.int64)  # 1: the highest ELV; ties by lead_id
        ages = pd.DataFrame({"i": np.arange(1, len(leads) + 1), "rank": rank,
                             "decile": np.ceil(rank * 10 / len(rank)).astype(np.int64), "age_days": age.round(3),
                             "p_given_age": p_now, "elv_given_age": p_now * value})
        open_window = ~leads["mature"].astype(bool).to_numpy()
        del leads
        stage_scores(b, ages, version, reused)
        del ages
        by_split = b.fetch(f"SELECT split, count(*) AS leads, avg(p_qualified_14d) AS mean_p, sum(elv) AS elv "
                           f"FROM {b.staged} GROUP BY split ORDER BY split")
        scored_by = dict(b.con.execute(f"SELECT scored_by, count(*) FROM {b.staged} GROUP BY 1 "
                                       "ORDER BY 2 DESC, 1").fetchall())
    finally:
        b.con.execute("DROP TABLE IF EXISTS _leads; DROP TABLE IF EXISTS _settled; DROP TABLE IF EXISTS _fresh_scores")
    return Built(metadata={"model": bundle.kind, "model_run": bundle.run_id,
                           "scored_now": scored_now, "kept_from_last_run": reused,
                           "scored_by": scored_by,
                           "total_elv": round(float(by_split["elv"].sum()), 2),
                           "delays": delays.describe(), "delay_medians": delays.medians(),
                           "open_window_leads": int(open_window.sum()),
                           "open_window_p_at_creation": round(float(p[open_window].sum()), 1),
                           "open_window_p_given_age": round(float(p_now[open_window].sum()), 1),
                           "by_split": by_split.round(4)})
