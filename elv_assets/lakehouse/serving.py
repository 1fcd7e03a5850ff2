"""The serving snapshot: what the dashboard shows, as Parquet files plus a manifest, published atomically.

Layout of `ELV_SERVING_DIR`:

    manifest.json              the current snapshot: version, as_of_date, run id, model, tables, row counts
    snapshots/<version>/       one folder per published snapshot: <table>.parquet, *.json, manifest.json

A publish writes a new version folder completely, then replaces `manifest.json` with `os.replace` (an
atomic rename on POSIX): a reader that reads the manifest first and then the files it names sees the old
snapshot or the new one, never a mix. The last `KEEP` versions stay, so a reader still on the previous
version finishes its reads. The dashboard never opens the DuckDB warehouse: DuckDB allows one writer and
a reader would block the pipeline.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import tempfile
from pathlib import Path

import duckdb

from elv_assets.build import table_name
from elv_assets.lakehouse.files import atomic_write
from elv_assets.lakehouse.ingest import sql_str
from elv_assets.lakehouse.manifest import MANIFEST, SNAPSHOTS
from elv_assets.reports.conversions import SERVED_ALSO_READS as CONVERSIONS_ALSO_READ
from elv_assets.reports.conversions import served_select as served_conversions

KEEP = 3
SCHEMA_VERSION = "elv-serving/1"



def _whole(key: str) -> tuple[str, str]:
    return key, f"SELECT * FROM {table_name(key)}"


# table name in the snapshot -> (the asset it comes from, the warehouse query that fills it). The one list of
# what the dashboard reads: the snapshot asset's reads and the freshness policy follow from it.
SERVING_TABLES: dict[str, tuple[str, str]] = {
    "adset_daily": _whole("gold/adset_daily"),
    "adset_weekly": _whole("gold/adset_weekly"),
    "campaigns": ("silver/ads", """SELECT campaign_id, any_value(campaign_name) AS campaign_name,
                                          any_value(platform) AS platform, any_value(currency) AS currency
                                   FROM silver.ads GROUP BY campaign_id"""),
    "adsets": ("silver/ads", """SELECT adset_id, any_value(adset_name) AS adset_name,
                                       any_value(campaign_id) AS campaign_id, any_value(platform) AS platform
                                FROM silver.ads GROUP BY adset_id"""),
    "campaign_leaderboard": _whole("gold/campaign_leaderboard"),
    "adset_leaderboard": _whole("gold/adset_leaderboard"),
    # every column but the hash that lets the next run keep a settled lead's score (absent in older tables)
    "lead_scores": ("gold/lead_scores", "SELECT COLUMNS(lambda c: c <> 'features_hash') FROM gold.lead_scores"),
    "pacing_risk": _whole("gold/pacing_risk"),
    "bookings_forecast": _whole("gold/bookings_forecast"),
    "spend_response": _whole("gold/spend_response"),
    "budget_recommendation": _whole("gold/budget_recommendation"),
    "feature_drift": _whole("monitoring/feature_drift"),
    "data_quality_report": _whole("monitoring/data_quality_report"),
    "realised_vs_predicted": _whole("monitoring/realised_vs_predicted"),
    "elv_history": _whole("monitoring/elv_history"),
    # the offline conversions the dashboard offers for download: candidate rows, e-mail and phone hashed
    "conversions": ("gold/lead_scores", served_conversions()),
}
SERVED_TABLE_KEYS = sorted({key for key, _ in SERVING_TABLES.values()} | set(CONVERSIONS_ALSO_READ))


def _exists(con: duckdb.DuckDBPyConnection, query: str) -> bool:
    try:
        con.execute(f"DESCRIBE {query}")
        return True
    except duckdb.CatalogException:
        return False


def publish(con: duckdb.DuckDBPyConnection, serving_dir: Path, info: dict, documents: dict[str, object]) -> dict:
    """Write every available table and document into a new version folder, then switch the manifest to it."""
    serving_dir = Path(serving_dir)
    root = serving_dir / SNAPSHOTS
    root.mkdir(parents=True, exist_ok=True)
    created = dt.datetime.now(dt.timezone.utc)
    version = f"{created:%Y%m%dT%H%M%S%fZ}-{str(info.get('run_id', 'local'))[:8]}"
    work = Path(tempfile.mkdtemp(prefix=".publishing-", dir=root))
    try:
        tables, missing = {}, []
        for name, (_key, query) in SERVING_TABLES.items():
            if not _exists(con, query):
                missing.append(name)
                continue
            path = work / f"{name}.parquet"
            con.execute(f"COPY ({query}) TO {sql_str(str(path))} (FORMAT parquet, COMPRESSION zstd)")
            rows = con.execute(f"SELECT count(*) FROM read_parquet({sql_str(str(path))})").fetchall()[0][0]
            tables[name] = {"file": path.name, "rows": int(rows)}
        docs = {}
        for name, obj in documents.items():
            (work / f"{name}.json").write_text(json.dumps(obj, indent=1, default=str, allow_nan=False))
            docs[name] = f"{name}.json"
        manifest = {
            "schema_version": SCHEMA_VERSION, "version": version, "created_at": created.isoformat(),
            **info, "tables": tables, "documents": docs, "not_computed": missing,
        }
        (work / MANIFEST).write_text(json.dumps(manifest, indent=1, default=str))
        final = root / version
        os.replace(work, final)  # the folder is complete before anyone can find it
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    _switch_manifest(serving_dir, {**manifest, "path": f"{SNAPSHOTS}/{version}"})
    _prune(root, keep=KEEP, current=version)
    return manifest


def _switch_manifest(serving_dir: Path, manifest: dict) -> None:
    atomic_write(serving_dir / MANIFEST, json.dumps(manifest, indent=1, default=str), fsync=True)


def _prune(root: Path, keep: int, current: str) -> None:
    versions = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    for old in versions[:-keep]:
        if old.name != current:
            shutil.rmtree(old, ignore_errors=True)


