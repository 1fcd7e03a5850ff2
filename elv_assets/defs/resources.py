"""Resources built from the environment (with local defaults) by one function."""


import time
from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
import duckdb

from elv_assets.lakehouse.files import ArtifactStore
from elv_assets.lakehouse.ingest import sql_str
from elv_assets.ml.sampling import FIT_LEADS, JUDGE_LEADS
from elv_assets.settings import DEFAULTS, Settings


class Warehouse(dg.ConfigurableResource):
    """The DuckDB warehouse file.

    Like dagster-duckdb's DuckDBResource, but the connection is closed even when the asset body
    raises (DuckDBResource 0.29 leaves it open, which keeps the file locked after a failed
    contract), and a file locked by another process is retried with backoff before giving up.
    """

    database: str
    lock_retries: int = 6
    # What DuckDB may hold in memory (ELV_DUCKDB_MEMORY); past it, sorts, joins and temporary tables spill to a
    # folder beside the warehouse. DuckDB's own default is 80 % of the machine's memory, which a run at 10M leads
    # filled beside pandas.
    memory_limit: str = DEFAULTS["ELV_DUCKDB_MEMORY"]
    # A step whose work is all SQL holds no data frames beside DuckDB, so its connection may take more
    # (ELV_DUCKDB_SQL_MEMORY): at 10M leads silver/leads spilled its dedup sort at 1GB (74 s; 1M leads 3.9 s).
    sql_memory_limit: str = DEFAULTS["ELV_DUCKDB_SQL_MEMORY"]

    @contextmanager
    def get_connection(self, sql_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection to the warehouse with its memory limit; `sql_only` for a step that keeps its data in DuckDB
        (the larger limit). Set here, not in `_connect`, so a warehouse opened another way gets the same limits."""
        con = self._connect()
        try:
            con.execute(f"SET memory_limit = {sql_str(self.sql_memory_limit if sql_only else self.memory_limit)}")
            yield con
        finally:
            con.close()

    def _connect(self) -> duckdb.DuckDBPyConnection:
        for attempt in range(self.lock_retries + 1):
            try:
                return duckdb.connect(self.database, config={"custom_user_agent": "elv"})
            except duckdb.IOException as exc:
                if attempt == self.lock_retries or "lock" not in str(exc).lower():
                    raise
                time.sleep(min(0.5 * 2**attempt, 8.0))
        raise AssertionError("unreachable")


class ElvSettings(dg.ConfigurableResource):
    """Folders the assets read and write."""

    data_dir: str
    serving_dir: str
    artifacts_dir: str


class Artifacts(dg.ConfigurableResource):
    """The artefact store: one joblib file per model or report asset, keyed by its asset key."""

    root: str

    @property
    def store(self) -> ArtifactStore:
        return ArtifactStore(self.root)

    def exists(self, key: str) -> bool:
        return self.store.exists(key)

    def load(self, key: str):
        return self.store.load(key)

    def save(self, key: str, obj) -> None:
        self.store.save(key, obj)


class RunWindow(dg.ConfigurableResource):
    """The as-of date asked for, YYYY-MM-DD; "" means the latest date in the data.

    Read once per run, by gold/as_of_date, which records the date every other asset then reads. Its own
    resource so a schedule or a launch can set it alone:
    run_config = {"resources": {"run_window": {"config": {"as_of_date": "2025-03-31"}}}}.
    """

    as_of_date: str = ""


class FeatureSettings(dg.ConfigurableResource):
    """What a person decides about lead columns, over the leakage guard (ml/feature_screen).

    run_config = {"resources": {"features": {"config": {"strict": True, "exclude": ["lead_status"]}}}};
    locally from ELV_FEATURES_STRICT, ELV_FEATURES_INCLUDE and ELV_FEATURES_EXCLUDE.
    """

    strict: bool = False  # stop the run, naming the columns, instead of leaving them out with a warning
    include: list[str] = []  # keep these although the guard flags them
    exclude: list[str] = []  # never use these


class ChainSettings(dg.ConfigurableResource):
    """Windows every asset of the ELV chain must agree on, so they are one resource, not per-asset config.

    run_config = {"resources": {"chain": {"config": {"label_window_days": 21}}}}.
    """

    label_window_days: int = 14
    feature_lag_days: int = 1
    min_labelled: int = 500
    min_positives: int = 50
    # The most leads a fit reads (a time-stratified sample past it; 0: every lead), so every fitting step reads
    # the same sample (ml/sampling.py). ELV_FIT_LEADS for `elv run`.
    fit_leads: int = FIT_LEADS
    # The most leads of a held-out split (calib, test, the value check's later leads, the drift reference) a step
    # judges on: a time-stratified sample past it, so memory stays bounded at 10M leads. ELV_JUDGE_LEADS.
    judge_leads: int = JUDGE_LEADS


def build_resources(settings: Settings | None = None) -> dict:
    settings = settings or Settings.from_env()
    settings.warehouse.parent.mkdir(parents=True, exist_ok=True)
    return {
        "warehouse": Warehouse(database=str(settings.warehouse), memory_limit=settings.duckdb_memory,
                               sql_memory_limit=settings.duckdb_sql_memory),
        "elv": ElvSettings(
            data_dir=str(settings.data_dir),
            serving_dir=str(settings.serving_dir),
            artifacts_dir=str(settings.artifacts_dir),
        ),
        "artifacts": Artifacts(root=str(settings.artifacts_dir)),
        "run_window": RunWindow(as_of_date=settings.as_of),
        "chain": ChainSettings(fit_leads=settings.fit_leads, judge_leads=settings.judge_leads),
        "features": FeatureSettings(strict=settings.features_strict, include=list(settings.features_include),
                                    exclude=list(settings.features_exclude)),
    }
