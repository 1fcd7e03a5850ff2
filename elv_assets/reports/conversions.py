"""Offline conversions: each lead's value sent back to Google Ads and Meta, so their bidding buys value, not volume.

Two kinds of conversion go out (`ExportOptions` chooses which, from when, under which names):

- **predicted**: every lead created since the start date (default: the last 7 days up to the as-of date), valued at
  its predicted ELV at creation (`gold.lead_scores.elv`), at the moment it was created; conversion name "ELV lead".
  The platforms learn within days which clicks bring valuable leads, weeks before a deal closes.
- **won**: every lead whose deal was won since the same date (`silver.outcomes.won_at`), valued at the revenue the
  deal brought, at the moment it was won; conversion name "Won deal".

Each platform has its file and its rules:

- **Google Ads**, the click-conversion import file ("Import conversions from ad clicks into Google Ads",
  support.google.com/google-ads/answer/7014069): `Google Click ID`, `Conversion Name`, `Conversion Time`,
  `Conversion Value`, `Conversion Currency`. A row needs the lead's gclid: a lead without one is counted, not sent.
  Every time carries its offset (`2026-10-31 14:05:00+0000`, the API's `yyyy-mm-dd hh:mm:ss+|-hh:mm` without the
  colon, as the file import takes it), so the file needs no `Parameters:TimeZone=` line and its header is line 1.
  Google credits a conversion to a click of the last 90 days at most: a deal won later is counted, not sent.
- **Meta**, an offline / CRM event file for Events Manager: `event_name`, `event_time` (Unix seconds), `lead_id`,
  `value`, `currency`, and the customer information `email` and `phone` as SHA-256 hex of the normalised value, as the
  Conversions API's customer information parameters ask (developers.facebook.com/docs/marketing-api/conversions-api/
  parameters/customer-information-parameters): e-mail trimmed and lower-cased; phone digits only, country code
  first, no `+`, no leading zeros. A lead from another platform's campaign (and without an fbclid) is counted, not
  sent.

Raw e-mails and phone numbers never reach Python: DuckDB normalises and hashes them inside the query, so frames,
files, logs and metadata only ever hold the digests. A phone number written without its country code (a leading
single 0, national format) cannot be normalised and is left blank rather than hashed wrong.

The CRM's timestamps carry no time zone; `ExportOptions.timezone` says which one they are in (default UTC).

Three readers use these rows: `elv export-conversions` (read-only on the warehouse), the asset
`serving/offline_conversions` (both files under ELV_SERVING_DIR/conversions/), and the dashboard, which formats the
snapshot's `conversions` table (the same candidate rows, hashed) with the same `platform_export`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import duckdb
import numpy as np
import pandas as pd

from elv_assets.build import AS_OF_KEY, Build, Built, Skip
from elv_assets.contracts.inputs import LEAD_CONTACT_COLUMNS
from elv_assets.lakehouse.files import atomic_write
from elv_assets.lakehouse.ingest import fetch_frame, sql_str
from elv_assets.lakehouse.warehouse import columns, row_count, table_exists

KINDS = ("predicted", "won")
PLATFORMS = ("google", "meta")
PLATFORM_NAMES = {"google": "Google Ads", "meta": "Meta"}
FOLDER = "conversions"  # under ELV_SERVING_DIR
FILES = {"google": "google_ads.csv", "meta": "meta.csv"}
GOOGLE_COLUMNS = ["Google Click ID", "Conversion Name", "Conversion Time", "Conversion Value", "Conversion Currency"]
META_COLUMNS = ["event_name", "event_time", "lead_id", "value", "currency", "email", "phone"]
META_PLATFORMS = ("meta", "facebook", "instagram")
GOOGLE_CLICK_DAYS = 90  # Google attributes an imported conversion to a click of the last 90 days at most
# A click id is url-safe base64. Anything else is not one, and could be a formula in whoever opens the file.
CLICK_ID = r"[A-Za-z0-9_-]+"
GOOGLE_TIME = "%Y-%m-%d %H:%M:%S%z"
NO_GCLID = "without a Google click id (gclid)"  # a Google lead (or one of no known platform) the CRM kept no gclid of
READS = (AS_OF_KEY, "gold/lead_scores", "silver/leads", "silver/outcomes", "silver/ads")
# The tables the snapshot's `conversions` table reads besides gold/lead_scores, gold/as_of_date and silver/ads.
SERVED_ALSO_READS = ("silver/leads", "silver/outcomes")
# One row per conversion that could go out, hashed: what the snapshot serves and `platform_export` formats.
CANDIDATE_COLUMNS = ["lead_id", "kind", "conversion_name", "conversion_at", "created_at", "value", "currency",
                     "platform", "gclid", "has_fbclid", "email_sha256", "phone_sha256"]

NO_SCORES_TABLE = ("the warehouse has no lead scores (gold.lead_scores): no model has scored the leads yet. Run `elv run` "
                   "on a data folder with leads.csv and outcomes.csv, or `make demo`")
NO_SCORES_ROWS = ("gold.lead_scores is empty: the last run scored no leads (no leads.csv, no outcomes yet, or too few "
                  "labelled leads to train on; `elv run` lists what it skipped and why)")


class ExportRefused(Exception):
    """Nothing can be exported (no warehouse, no lead scores); the message says why and what to run."""


@dataclass(frozen=True)
class ExportOptions:
    """Which conversions go out, from when, under which names, in which currency and time zone."""

    kind: str = "both"  # predicted | won | both
    window_days: int = 7  # without `since`: leads created / deals won in the last N days up to the as-of date
    since: dt.date | None = None  # the first day, instead of the window
    predicted_name: str = "ELV lead"  # the conversion action's name in Google Ads / the event name in Meta
    won_name: str = "Won deal"
    default_currency: str = "GBP"  # when ads.csv names no currency
    timezone: str = "UTC"  # the zone the CRM's timestamps are in (an IANA name, e.g. Europe/London)

    def __post_init__(self):
        if self.kind not in (*KINDS, "both"):
            raise ValueError(f"kind must be predicted, won or both, not {self.kind!r}")
        if self.window_days < 1:
            raise ValueError(f"the window must be at least 1 day, not {self.window_days}")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {self.timezone!r} (use an IANA name such as Europe/London)") from None

    @classmethod
    def from_config(cls, config) -> ExportOptions:
        """From the asset's Config (or None: the defaults)."""
        if config is None:
            return cls()
        return cls(kind=config.kind, window_days=config.window_days,
                   since=dt.date.fromisoformat(config.since) if config.since else None,
                   predicted_name=config.predicted_name, won_name=config.won_name,
                   default_currency=config.default_currency, timezone=config.timezone)

    @property
    def kinds(self) -> tuple[str, ...]:
        return KINDS if self.kind == "both" else (self.kind,)

    def start(self, as_of: dt.date) -> dt.date:
        return self.since or as_of - dt.timedelta(days=self.window_days - 1)


DEFAULTS = ExportOptions()


# --- the candidate rows, in SQL: the only place the raw contact columns are read ------------------------------------

def _contacts(present: Iterable[str]) -> str:
    """silver.leads' click ids and hashed contact details per lead (a column the table lacks reads as blank)."""
    have = set(present)

    def col(name: str) -> str:
        return f"nullif(trim(l.{name}), '')" if name in have else "NULL::VARCHAR"

    return f"""
        SELECT l.lead_id, l.created_at, {col("gclid")} AS gclid, {col("fbclid")} IS NOT NULL AS has_fbclid,
               lower(regexp_replace({col("email")}, '^\\s+|\\s+$', '', 'g')) AS e,
               -- international (+44 ..., 0044 ..., 44 ...) only: a national number (one leading 0) lacks its country
               CASE WHEN NOT regexp_matches({col("phone")}, '^\\s*0[^0]')
                    THEN ltrim(regexp_replace(replace({col("phone")}, '(0)', ''), '[^0-9]', '', 'g'), '0') END AS p
        FROM silver.leads l"""


def candidates_select(options: ExportOptions, start: str, end: str,
                      lead_columns: Iterable[str] = LEAD_CONTACT_COLUMNS) -> str:
    """SQL of every conversion that could go out, at or after `start` and before `end` (SQL expressions), one row per
    (lead, kind), with CANDIDATE_COLUMNS. E-mail and phone come out as SHA-256 hex only."""
    events = []
    if "predicted" in options.kinds:
        events.append(f"""
            SELECT lead_id, 'predicted' AS kind, {sql_str(options.predicted_name)} AS conversion_name,
                   created_at AS conversion_at, elv AS value, campaign_id
            FROM gold.lead_scores WHERE created_at >= {start} AND created_at < {end}""")
    if "won" in options.kinds:
        events.append(f"""
            SELECT o.lead_id, 'won' AS kind, {sql_str(options.won_name)} AS conversion_name, o.won_at AS conversion_at,
                   o.revenue AS value, s.campaign_id
            FROM silver.outcomes o LEFT JOIN gold.lead_scores s USING (lead_id)
            WHERE o.won_at >= {start} AND o.won_at < {end}""")
    return f"""
        WITH events AS ({" UNION ALL ".join(events)}),
        platforms AS (SELECT campaign_id, min(platform) AS platform FROM silver.ads GROUP BY campaign_id),
        currency AS (
            SELECT coalesce((SELECT upper(currency) FROM silver.ads WHERE currency IS NOT NULL
                             GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1), {sql_str(options.default_currency)}) AS code
        ),
        contacts AS ({_contacts(lead_columns)})
        SELECT e.lead_id, e.kind, e.conversion_name, e.conversion_at, c.created_at, e.value::DOUBLE AS value,
               cur.code AS currency, p.platform, c.gclid, c.has_fbclid,
               CASE WHEN regexp_matches(c.e, '^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$') THEN sha256(c.e) END AS email_sha256,
               CASE WHEN length(c.p) BETWEEN 7 AND 15 THEN sha256(c.p) END AS phone_sha256
        FROM events e
        JOIN contacts c USING (lead_id)
        LEFT JOIN platforms p ON p.campaign_id = e.campaign_id
        CROSS JOIN currency cur
        ORDER BY e.conversion_at, e.lead_id, e.kind"""


def served_select(options: ExportOptions = DEFAULTS) -> str:
    """The candidate rows as of the run's as-of date, for the serving snapshot (the dashboard's downloads)."""
    as_of = "(SELECT max(as_of_date) FROM gold.as_of_date)"
    return candidates_select(options, f"({as_of} - INTERVAL {options.window_days - 1} DAY)",
                             f"({as_of} + INTERVAL 1 DAY)")


def missing_contacts(con: duckdb.DuckDBPyConnection, platform: str) -> list[str]:
    """What no lead of silver.leads has that the platform matches on (the column absent or blank everywhere)."""
    wanted = ("gclid",) if platform == "google" else ("email", "phone")
    present = set(columns(con, "silver.leads"))
    filled = {c: con.execute(f"SELECT count({c}) FROM silver.leads").fetchall()[0][0] if c in present else 0
              for c in wanted}
    return [f"note: no lead in leads.csv has a {c} (the column is missing or blank), so no lead can match on it"
            for c, n in filled.items() if not n]


def fetch_candidates(con: duckdb.DuckDBPyConnection, options: ExportOptions, as_of: dt.date) -> pd.DataFrame:
    start, end = options.start(as_of), as_of + dt.timedelta(days=1)
    return fetch_frame(con, candidates_select(options, f"TIMESTAMP '{start}'", f"TIMESTAMP '{end}'",
                                              columns(con, "silver.leads")))


# --- one platform's rows, from the candidates ---------------------------------------------------------------------

@dataclass
class Export:
    """One platform's file: its rows (as written), and the leads left out, by reason."""

    platform: str
    rows: pd.DataFrame
    left_out: dict[str, int]  # reason -> leads
    per_kind: dict[str, int]  # kind -> rows
    options: ExportOptions = field(default_factory=ExportOptions)
    as_of: dt.date | None = None
    currency: str | None = None
    notes: list[str] = field(default_factory=list)  # what the data lacks for this platform, in words

    def csv_text(self) -> str:
        """The file: UTF-8, header on line 1, no index, no byte-order mark (both platforms read plain UTF-8)."""
        return self.rows.to_csv(index=False, lineterminator="\n")

    def write(self, path: Path) -> Path:
        """Write the file atomically: a temporary file beside it, then os.replace."""
        return atomic_write(Path(path), self.csv_text())

    def summary(self) -> list[str]:
        """What went out and what did not, in words (counts only: never a value of a lead)."""
        kinds = {"predicted": "leads at their predicted ELV", "won": "won deals at their revenue"}
        parts = ", ".join(f"{n:,} {kinds[k]}" for k, n in self.per_kind.items() if n) or "none"
        lines = [f"{len(self.rows):,} {PLATFORM_NAMES[self.platform]} conversions ({parts})"]
        if self.as_of is not None:
            start = self.options.start(self.as_of)
            lines.append(f"as of {self.as_of}: leads created and deals won from {start} to {self.as_of}; values in "
                         f"{self.currency or self.options.default_currency}; times in {self.options.timezone}")
        if self.left_out:
            lines.append("left out: " + "; ".join(f"{n:,} lead{'' if n == 1 else 's'} {why}"
                                                  for why, n in self.left_out.items()))
        else:
            lines.append("left out: none")
        return lines + self.notes


def _local(times: pd.Series, timezone: str) -> pd.Series:
    """Naive CRM timestamps read in `timezone` (a time that a clock change repeats is read as standard time; one it
    skips moves forward)."""
    stamps = pd.to_datetime(times)
    return stamps.dt.tz_localize(timezone, ambiguous=np.zeros(len(stamps), dtype=bool), nonexistent="shift_forward")


def _money(values: pd.Series) -> pd.Series:
    return values.map(lambda v: f"{v:.2f}")


def platform_export(candidates: pd.DataFrame, platform: str, options: ExportOptions = DEFAULTS,
                    as_of: dt.date | None = None) -> Export:
    """The platform's rows from the candidate rows, and the leads left out with their reasons."""
    if platform not in PLATFORMS:
        raise ValueError(f"platform must be one of {', '.join(PLATFORMS)}, not {platform!r}")
    c = candidates.reset_index(drop=True)
    conversion_at, created_at = pd.to_datetime(c["conversion_at"]), pd.to_datetime(c["created_at"])
    reason = pd.Series(None, index=c.index, dtype=object)

    def leave(mask, why: str) -> None:
        reason[np.asarray(mask, dtype=bool) & reason.isna().to_numpy()] = why

    leave(c["value"].isna() & (c["kind"] == "predicted"), "not scored yet (no predicted value)")
    leave(c["value"].isna() & (c["kind"] == "won"), "won with a blank revenue")
    leave(conversion_at < created_at, "won before they were created (a data error)")
    other_platform = c["platform"].notna() & ~c["platform"].isin(
        ("google",) if platform == "google" else META_PLATFORMS)
    if platform == "google":
        gclid = c["gclid"].astype(object)
        leave(gclid.isna() & other_platform, "from another platform's campaign, without a gclid")
        leave(gclid.isna(), NO_GCLID)
        leave(~gclid.fillna("").astype(str).str.fullmatch(CLICK_ID), "with a gclid that is not a click id")
        leave(conversion_at - created_at > pd.Timedelta(days=GOOGLE_CLICK_DAYS),
              f"won more than {GOOGLE_CLICK_DAYS} days after the click (Google's limit)")
        keys = c[["gclid", "conversion_name", "conversion_at"]].astype(str).agg("|".join, axis=1)
        leave(keys.duplicated() & reason.isna(), "with the same click, conversion and time as another lead")
    else:
        leave(other_platform & ~c["has_fbclid"].fillna(False).astype(bool),
              "from another platform's campaign, without an fbclid")
    kept = c[reason.isna()]
    when = _local(kept["conversion_at"], options.timezone)
    if platform == "google":
        rows = pd.DataFrame({
            "Google Click ID": kept["gclid"], "Conversion Name": kept["conversion_name"],
            "Conversion Time": when.dt.strftime(GOOGLE_TIME), "Conversion Value": _money(kept["value"]),
            "Conversion Currency": kept["currency"]}, columns=GOOGLE_COLUMNS)
    else:
        epoch = pd.Timestamp("1970-01-01", tz="UTC")
        rows = pd.DataFrame({
            "event_name": kept["conversion_name"], "event_time": (when - epoch) // pd.Timedelta(seconds=1),
            "lead_id": kept["lead_id"], "value": _money(kept["value"]), "currency": kept["currency"],
            "email": kept["email_sha256"].fillna(""), "phone": kept["phone_sha256"].fillna("")}, columns=META_COLUMNS)
    dropped = c.assign(reason=reason).dropna(subset=["reason"])
    left_out = {str(why): int(n) for why, n in dropped.groupby("reason", sort=False)["lead_id"].nunique().items()}
    per_kind = {k: int((kept["kind"] == k).sum()) for k in options.kinds}
    currency = str(c["currency"].iloc[0]) if len(c) else None
    return Export(platform, rows.reset_index(drop=True), left_out, per_kind, options, as_of, currency)


# --- the warehouse: read-only for the command, through the declaration for the asset --------------------------------

def _scores_missing(con: duckdb.DuckDBPyConnection) -> str | None:
    if not table_exists(con, "gold.lead_scores"):
        return NO_SCORES_TABLE
    if row_count(con, "gold.lead_scores") == 0:
        return NO_SCORES_ROWS
    return None


def warehouse_as_of(con: duckdb.DuckDBPyConnection) -> dt.date:
    """The as-of date the warehouse's tables were built for (a warehouse from before gold.as_of_date: the newest lead)."""
    if table_exists(con, "gold.as_of_date"):
        return con.execute("SELECT max(as_of_date)::DATE FROM gold.as_of_date").fetchall()[0][0]
    return con.execute("SELECT max(created_at)::DATE FROM gold.lead_scores").fetchall()[0][0]


def export_from_warehouse(warehouse: Path, platform: str, options: ExportOptions = DEFAULTS) -> Export:
    """One platform's export from the warehouse file, opened read-only and closed before returning."""
    warehouse = Path(warehouse)
    if not warehouse.exists():
        raise ExportRefused(f"no warehouse at {warehouse} yet: run `make demo` (the demo world) or `elv run` (your "
                            "data folder) first")
    try:
        con = duckdb.connect(str(warehouse), read_only=True)
    except duckdb.Error as exc:
        raise ExportRefused(f"cannot open {warehouse} read-only ({str(exc).splitlines()[0]}): a run may be writing it "
                            "(DuckDB allows one writer); try again when it has finished") from None
    try:
        missing = _scores_missing(con)
        if missing:
            raise ExportRefused(missing)
        as_of = warehouse_as_of(con)
        candidates = fetch_candidates(con, options, as_of)
        notes = missing_contacts(con, platform)
    finally:
        con.close()
    export = platform_export(candidates, platform, options, as_of)
    export.notes = notes
    return export


def build_offline_conversions(b: Build) -> Built:
    """Both platforms' files under ELV_SERVING_DIR/conversions/, each swapped in whole."""
    missing = _scores_missing(b.con)
    if missing:
        raise Skip(b.skipped_because("gold/lead_scores") or missing)
    options = ExportOptions.from_config(b.config)
    candidates = fetch_candidates(b.con, options, b.as_of)
    folder = Path(b.paths.serving_dir) / FOLDER
    metadata: dict = {"since": str(options.start(b.as_of)), "kinds": ", ".join(options.kinds),
                      "time_zone": options.timezone, "hashed": "email, phone (SHA-256 of the normalised value)"}
    for platform in PLATFORMS:
        export = platform_export(candidates, platform, options, b.as_of)
        export.notes = missing_contacts(b.con, platform)
        path = export.write(folder / FILES[platform])
        b.log(f"{path}: " + "; ".join(export.summary()))
        metadata.update({
            f"{platform}_rows": len(export.rows), f"{platform}_file": path,
            f"{platform}_left_out": export.left_out or "none",
            **({f"{platform}_note": "; ".join(export.notes)} if export.notes else {}),
        })
        metadata["currency"] = export.currency or options.default_currency
    return Built(metadata=metadata)
