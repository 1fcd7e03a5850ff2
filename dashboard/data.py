"""The dashboard's data layer: the published serving snapshot, read once per version and kept in memory.

Only the snapshot is read (the Parquet files and JSON documents that `manifest.json` names), never the DuckDB
warehouse: DuckDB has one writer and the pipeline must be free to run. The manifest is read on every rerun
(a small file, switched atomically by the pipeline), so a new publish shows on the next click; everything
else is cached under the snapshot's version, so a filter change only slices frames already in memory.

Frames are cached with `st.cache_resource`: one shared object per version, never copied on a rerun (a copy
of a large frame per click would cost more than the click may). They are read-only: pages filter and copy,
never modify in place. Lead-level rows (`lead_scores`, a million at size m) are never loaded whole: DuckDB
aggregates them per day and campaign once per version, and the Leads page asks it for the top rows only.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import streamlit as st

from elv_assets.lakehouse.manifest import read_manifest, snapshot_path
from elv_assets.ml.elv import UNKNOWN_CAMPAIGN
from elv_assets.settings import Settings
from elv_assets.skip_reasons import NO_LEADS, SPEND_UNKNOWN

SUM_COLUMNS = ["spend", "impressions", "clicks", "daily_budget", "leads", "qualified", "bookings", "revenue"]
LEAD_SUMS = ["scored_leads", "predicted_qualified", "predicted_elv"]
UNATTRIBUTED = UNKNOWN_CAMPAIGN


class SnapshotGone(Exception):
    """The snapshot this page started from was replaced and pruned while it was being read."""


@dataclass(frozen=True)
class Snapshot:
    serving_dir: Path
    artifacts_dir: Path
    manifest: dict
    demo: str = ""  # "built": by the dashboard's own "build the demo" button; "bundled": dashboard/demo_bundle

    @property
    def version(self) -> str:
        return str(self.manifest["version"])

    @property
    def folder(self) -> Path:
        return snapshot_path(self.serving_dir, self.manifest)

    @property
    def currency(self) -> str:
        return self.manifest.get("currency") or ""

    @property
    def as_of(self) -> dt.date | None:
        value = self.manifest.get("as_of_date")
        return dt.date.fromisoformat(str(value)[:10]) if value else None

    def has(self, table: str) -> bool:
        return table in self.manifest.get("tables", {})

    def rows(self, table: str) -> int | None:
        """The table's row count from the manifest (no file read), or None when it is not computed."""
        entry = self.manifest.get("tables", {}).get(table)
        return None if entry is None else int(entry.get("rows", 0))

    def file(self, table: str) -> str:
        return str(self.folder / self.manifest["tables"][table]["file"])


def find_snapshot() -> Snapshot | None:
    """The configured snapshot (ELV_SERVING_DIR), else the demo one this dashboard built, else the bundled demo
    (dashboard/bundle.py), else None."""
    from dashboard.bundle import bundle_settings
    from dashboard.demo import demo_settings

    candidates = [(Settings.from_env(), ""), (demo_settings(), "built"), (bundle_settings(), "bundled")]
    for candidate, demo in candidates:
        if candidate is None:
            continue
        try:
            manifest = read_manifest(candidate.serving_dir)
        except (OSError, ValueError):  # unreadable: treat as not published
            manifest = None
        if manifest and manifest.get("path"):
            return Snapshot(Path(candidate.serving_dir), Path(candidate.artifacts_dir), manifest, demo)
    return None


def current() -> Snapshot | None:
    """The snapshot the main script found for this rerun (pages read this one, so a rerun sees one version)."""
    return st.session_state.get("snapshot")


def artifacts_dir(snap: Snapshot | None) -> Path:
    """Where the serving model of the snapshot lives (the configured folder when there is no snapshot)."""
    return snap.artifacts_dir if snap else Path(Settings.from_env().artifacts_dir)


def _duck(sql: str, params: list | None = None) -> pd.DataFrame:
    """The result of one DuckDB query over snapshot files, on a connection of its own; a file pruned away by a
    newer publish in the meantime raises SnapshotGone."""
    con = duckdb.connect()
    try:
        return con.execute(sql, params or []).df()
    except duckdb.IOException as exc:
        raise SnapshotGone(str(exc)) from None
    finally:
        con.close()


# --- raw reads, cached per version --------------------------------------------------------------------------


@st.cache_resource(max_entries=48, show_spinner=False)
def _parquet(path: str, version: str) -> pd.DataFrame:
    try:
        return pd.read_parquet(path)
    except FileNotFoundError as exc:
        raise SnapshotGone(str(exc)) from None


@st.cache_data(max_entries=48, show_spinner=False)
def _json(path: str, version: str):
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError as exc:
        raise SnapshotGone(str(exc)) from None


def table(snap: Snapshot, name: str) -> pd.DataFrame | None:
    """A snapshot table (shared, read-only), or None when the pipeline has not computed it."""
    if not snap.has(name):
        return None
    return _parquet(snap.file(name), snap.version)


def document(snap: Snapshot, name: str):
    """A snapshot JSON document (model, evaluation, promotions, bookings_model, pacing_model, checks) or None."""
    file = snap.manifest.get("documents", {}).get(name)
    if not file:
        return None
    return _json(str(snap.folder / file), snap.version)


def skipped(snap: Snapshot, asset: str) -> str | None:
    """Why the pipeline skipped an asset in the run that published the snapshot, or None when it ran."""
    return (document(snap, "skipped") or {}).get(asset)


def no_crm(snap: Snapshot) -> bool:
    """The data folder had no CRM leads (no leads.csv, or an empty one): nothing about leads can be shown."""
    return NO_LEADS in (document(snap, "skipped") or {}).values()


def no_ads(snap: Snapshot) -> bool:
    """The data folder had no ad-platform rows (no ads.csv): no spend, budgets or campaigns' platform names."""
    return snap.rows("campaigns") == 0 or SPEND_UNKNOWN in (document(snap, "skipped") or {}).values()


def check(snap: Snapshot, asset: str, name: str) -> dict | None:
    """One asset check's result from the checks document."""
    for c in document(snap, "checks") or []:
        if c.get("asset") == asset and c.get("check") == name:
            return c
    return None


# --- aggregates, once per version ---------------------------------------------------------------------------


@st.cache_resource(max_entries=6, show_spinner=False)
def _catalogue(version: str, files: tuple[tuple[str, str], ...]) -> pd.DataFrame:
    paths = dict(files)
    parts = []
    if "campaigns" in paths:
        parts.append(_parquet(paths["campaigns"], version)[["campaign_id", "campaign_name", "platform"]])
    if "adset_daily" in paths:
        daily = _parquet(paths["adset_daily"], version)
        parts.append(daily[["campaign_id", "platform"]].drop_duplicates("campaign_id"))
    if "campaign_leaderboard" in paths:
        parts.append(_parquet(paths["campaign_leaderboard"], version)[["campaign_id", "campaign_name"]])
    if not parts:
        return pd.DataFrame({"campaign_id": [], "campaign_name": [], "platform": []}, dtype=object)
    cat = pd.concat(parts, ignore_index=True)
    cat = cat[cat["campaign_id"].notna() & (cat["campaign_id"] != UNATTRIBUTED)]
    cat = cat.groupby("campaign_id", as_index=False).agg(campaign_name=("campaign_name", "first"),
                                                         platform=("platform", "first"))
    cat["campaign_name"] = cat["campaign_name"].fillna(cat["campaign_id"])
    return cat.sort_values("campaign_name").reset_index(drop=True)


def _files(snap: Snapshot, *names: str) -> tuple[tuple[str, str], ...]:
    return tuple((n, snap.file(n)) for n in names if snap.has(n))


def catalogue(snap: Snapshot) -> pd.DataFrame:
    """One row per campaign: campaign_id, campaign_name, platform."""
    return _catalogue(snap.version, _files(snap, "campaigns", "adset_daily", "campaign_leaderboard"))


@st.cache_resource(max_entries=6, show_spinner=False)
def _campaign_names(version: str, files: tuple[tuple[str, str], ...]) -> dict[str, str]:
    cat = _catalogue(version, files)
    return dict(zip(cat["campaign_id"], cat["campaign_name"], strict=True))


def campaign_names(snap: Snapshot) -> dict[str, str]:
    """Campaign id -> name (shared, read-only)."""
    return _campaign_names(snap.version, _files(snap, "campaigns", "adset_daily", "campaign_leaderboard"))


@st.cache_resource(max_entries=6, show_spinner=False)
def _adset_names(version: str, files: tuple[tuple[str, str], ...]) -> dict[str, str]:
    names: dict[str, str] = {}
    for _, path in files:
        frame = _parquet(path, version)
        if {"adset_id", "adset_name"} <= set(frame.columns):
            names.update(frame.dropna(subset=["adset_id", "adset_name"]).set_index("adset_id")["adset_name"].to_dict())
    return names


def adset_names(snap: Snapshot) -> dict[str, str]:
    return _adset_names(snap.version, _files(snap, "adsets", "adset_leaderboard"))


@st.cache_resource(max_entries=6, show_spinner=False)
def _daily(version: str, files: tuple[tuple[str, str], ...], platforms: tuple[tuple[str, str], ...]) -> pd.DataFrame:
    paths = dict(files)
    keys = ["date", "platform", "campaign_id"]
    parts = []
    if "adset_daily" in paths:
        ad = _parquet(paths["adset_daily"], version)
        cols = [c for c in SUM_COLUMNS if c in ad.columns]
        frame = ad[["date", "platform", "campaign_id", *cols]].copy()
        frame["date"] = pd.to_datetime(frame["date"])
        parts.append(frame.groupby(keys, dropna=False)[cols].sum(min_count=1).reset_index())
    if "lead_scores" in paths:
        leads = _duck("""SELECT created_at::DATE AS date, campaign_id, count(*)::DOUBLE AS scored_leads,
                                sum(p_qualified_14d) AS predicted_qualified, sum(elv) AS predicted_elv
                         FROM read_parquet(?) GROUP BY ALL""", [paths["lead_scores"]])
        leads["date"] = pd.to_datetime(leads["date"])
        leads["platform"] = leads["campaign_id"].map(dict(platforms))
        parts.append(leads)
    if not parts:
        return pd.DataFrame(columns=keys + SUM_COLUMNS + LEAD_SUMS)
    for part in parts:  # keys as text on both sides, even where one side has none (no ads.csv: no platform)
        part[["platform", "campaign_id"]] = part[["platform", "campaign_id"]].astype(object)
    out = parts[0]
    for extra in parts[1:]:
        out = out.merge(extra, on=keys, how="outer")
    # Every column always there (blank when its table is not computed), so pages need no special case.
    return out.reindex(columns=keys + SUM_COLUMNS + LEAD_SUMS).sort_values("date").reset_index(drop=True)


def daily(snap: Snapshot) -> pd.DataFrame:
    """Per (date, platform, campaign_id): the adset_daily sums (spend, leads, qualified, bookings, revenue, ...)
    and the lead scores' sums (scored_leads, predicted_qualified, predicted_elv). Spend stays blank (NaN), not
    0, where the data has no ads.csv."""
    cat = catalogue(snap)
    platforms = tuple(zip(cat["campaign_id"], cat["platform"].fillna(""), strict=True))
    return _daily(snap.version, _files(snap, "adset_daily", "lead_scores"), platforms)


@st.cache_resource(max_entries=6, show_spinner=False)
def _date_bounds(version: str, files: tuple[tuple[str, str], ...], _frame: pd.DataFrame):
    """Keyed by version and files only (`_frame` is not hashed: it is the daily frame of that same version)."""
    if _frame.empty:
        return None
    return _frame["date"].min().date(), _frame["date"].max().date()


def date_bounds(snap: Snapshot) -> tuple[dt.date, dt.date] | None:
    """The first and last day of the daily figures, or None when there are none."""
    return _date_bounds(snap.version, _files(snap, "adset_daily", "lead_scores"), daily(snap))


# --- lead-level questions, answered by DuckDB over the Parquet file -----------------------------------------


@st.cache_data(max_entries=6, show_spinner=False)
def _reason_counts(path: str, version: str) -> pd.DataFrame:
    return _duck(
        """WITH r AS (
               SELECT unnest([reason_1, reason_2, reason_3]) AS reason FROM read_parquet(?)
           ), n AS (SELECT count(*) AS leads FROM read_parquet(?))
           SELECT split_part(reason, ' is ', 1) AS feature, count(*) AS mentions,
                  count(*) FILTER (WHERE reason LIKE '%(raises the chance)%') AS raises,
                  count(*) FILTER (WHERE reason LIKE '%(lowers the chance)%') AS lowers,
                  count(*) / any_value(n.leads) AS share_of_leads
           FROM r, n WHERE reason IS NOT NULL AND reason <> '' GROUP BY 1 ORDER BY mentions DESC""",
        [path, path])


def reason_counts(snap: Snapshot) -> pd.DataFrame | None:
    """How often each feature is one of a lead's three reasons (the text before " is "), across all leads."""
    if not snap.has("lead_scores"):
        return None
    return _reason_counts(snap.file("lead_scores"), snap.version)


# The Leads page's columns, in the order shown: the chance, the value if it qualifies and their product side by side.
LEAD_COLUMNS = ["lead_id", "created_at", "campaign_id", "adset_id", "split", "p_qualified_14d",
                "expected_value_if_qualified", "elv", "value_reason", "rank", "decile", "reason_1", "reason_2",
                "reason_3", "scored_by"]


@st.cache_data(max_entries=6, show_spinner=False)
def _columns(path: str, version: str) -> list[str]:
    return _duck("SELECT name FROM parquet_schema(?)", [path])["name"].tolist()


@st.cache_data(max_entries=32, show_spinner=False)
def _top_leads(path: str, version: str, start: dt.date, end: dt.date, campaigns: tuple[str, ...] | None,
               deciles: tuple[int, ...], splits: tuple[str, ...], limit: int) -> tuple[pd.DataFrame, dict]:
    where, params = ["created_at >= ?", "created_at < ?"], [start, end + dt.timedelta(days=1)]
    if campaigns is not None:
        where.append("list_contains(?, campaign_id)")
        params.append(list(campaigns))
    if deciles:
        where.append("list_contains(?, decile)")
        params.append(list(deciles))
    if splits:
        where.append("list_contains(?, split)")
        params.append(list(splits))
    sql_where = " AND ".join(where)
    present = set(_columns(path, version))
    shown = ", ".join(c for c in LEAD_COLUMNS if c in present)  # a snapshot from before a column came stays readable
    rows = _duck(
        f"""SELECT {shown} FROM read_parquet(?) WHERE {sql_where} ORDER BY elv DESC, lead_id LIMIT {int(limit)}""",
        [path, *params])
    # coalesce: no matching lead gives 0 (a SQL NULL would reach pandas as NaN)
    value = "avg(expected_value_if_qualified)" if "expected_value_if_qualified" in present else "NULL"
    n, total, mean_p, mean_value = next(_duck(
        f"""SELECT count(*), coalesce(sum(elv), 0)::DOUBLE, coalesce(avg(p_qualified_14d), 0)::DOUBLE,
                   {value}::DOUBLE
            FROM read_parquet(?) WHERE {sql_where}""", [path, *params]).itertuples(index=False, name=None))
    return rows, {"leads": int(n), "total_elv": float(total), "mean_p": float(mean_p),
                  "mean_value": None if pd.isna(mean_value) else float(mean_value)}


def top_leads(snap: Snapshot, start: dt.date, end: dt.date, campaigns: set[str] | None, deciles: list[int],
              splits: list[str], limit: int) -> tuple[pd.DataFrame, dict]:
    """The `limit` leads with the highest ELV among those matching, and the count, total ELV, mean chance to qualify
    and mean value if qualified of all matching."""
    chosen = tuple(sorted(campaigns)) if campaigns is not None else None
    return _top_leads(snap.file("lead_scores"), snap.version, start, end, chosen, tuple(sorted(deciles)),
                      tuple(sorted(splits)), limit)


@st.cache_data(max_entries=6, show_spinner=False)
def _lead_options(path: str, version: str) -> tuple[list[int], list[str]]:
    deciles = _duck("SELECT DISTINCT decile FROM read_parquet(?) WHERE decile IS NOT NULL ORDER BY 1", [path])
    splits = _duck("SELECT DISTINCT split FROM read_parquet(?) WHERE split IS NOT NULL ORDER BY 1", [path])
    return deciles["decile"].tolist(), splits["split"].tolist()


def lead_options(snap: Snapshot) -> tuple[list[int], list[str]]:
    """The deciles and splits present in lead_scores."""
    return _lead_options(snap.file("lead_scores"), snap.version)


# --- offline conversions: the upload files, from the snapshot's hashed candidate rows ------------------------------


@st.cache_data(max_entries=6, show_spinner=False)
def _conversion_files(path: str, version: str) -> dict[str, dict]:
    from elv_assets.reports import conversions  # the pipeline's exporter: imported by the Leads page only

    candidates = _duck("SELECT * FROM read_parquet(?)", [path])
    files = {}
    for platform in conversions.PLATFORMS:
        export = conversions.platform_export(candidates, platform)
        files[platform] = {"data": export.csv_text().encode("utf-8"), "file": conversions.FILES[platform],
                           "rows": len(export.rows), "left_out": export.left_out}
    return files


def conversion_files(snap: Snapshot) -> dict[str, dict] | None:
    """Per platform (google, meta): the upload file's bytes, its name, its row count and the leads left out by reason,
    built by the same function as `elv export-conversions` with its defaults; None for a snapshot without them."""
    if not snap.has("conversions"):
        return None
    return _conversion_files(snap.file("conversions"), snap.version)
