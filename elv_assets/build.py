"""What a build function receives and returns: the contract between plain logic and its Dagster asset.

Every asset is declared once in `defs/` (its key, contract, the tables and artefacts it reads, its
checks) and built by one plain function `build(b: Build) -> Built` that lives beside the logic it
uses (`lakehouse/`, `ml/`, `reports/`). The function never imports Dagster:

- it reads what it declared: tables through `b.con`, artefacts through `b.load(key)`, the run's
  as-of date through `b.as_of` (only when it declared the as-of table);
- a table build stages its result with `b.stage(sql)` or `b.stage_frame(frame)` and may measure the
  staged table; the declaration then validates it against its contract and swaps it in;
- a model or report build returns its artefact in `Built(artifact=...)`; the declaration stores it
  under the asset's key;
- it says what it found in `Built(metadata=..., checks=[Check(...)])`, or `raise Skip(reason)` when
  the data cannot support it (no ad files, too few labels): the table is then published empty and
  typed, and the reason shows in the UI and the run summary.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pandas as pd

AS_OF_KEY = "gold/as_of_date"


class Skip(Exception):  # noqa: N818 (a decision, not an error)
    """The data cannot support this asset (in words: why, and what would make it run)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class InputRefused(Exception):
    """The build's own input failed its contract (bronze: the file); nothing was written. `problems` are
    validation Problems, each naming the column, the rule and example lines."""

    def __init__(self, where: str, problems: list, detail: str = ""):
        super().__init__(where)
        self.where, self.problems, self.detail = where, problems, detail


class Refused(Exception):
    """The build must not go on (e.g. the strict leakage guard found columns filled in after contact); the
    message says why, in the user's words. The run fails; nothing is written."""


class UndeclaredRead(Exception):
    """A build asked for a table or artefact its declaration does not list."""


@dataclass(frozen=True)
class Check:
    """The result of one of the asset's declared checks."""

    name: str
    passed: bool
    description: str
    severity: str = "warn"  # "warn" or "error"
    metadata: dict = field(default_factory=dict)


@dataclass
class Built:
    metadata: dict = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)
    artifact: Any = None  # model and report assets: what is stored under the asset's key


def table_name(key: str) -> str:
    """gold/lead_scores -> gold.lead_scores: the DuckDB table of a table asset."""
    return key.replace("/", ".")


class Build:
    """What one build may use. Created by the asset's declaration for one materialisation."""

    def __init__(self, key: str, reads: tuple[str, ...], con: duckdb.DuckDBPyConnection, *, config: Any = None,
                 chain: Any = None, paths: Any = None, artifacts: Any = None, run_id: str = "", features: Any = None,
                 log: Callable[[str], None] = print, warn: Callable[[str], None] = print,
                 stage: Callable[[str], str] | None = None, stage_frame: Callable[..., str] | None = None,
                 stage_name: Callable[[], str] | None = None, as_of: Callable[[], dt.date] | None = None,
                 run_facts: Callable[[str], Any] | None = None,
                 asked_as_of: str = "", tag_run: Callable[[dict], None] | None = None):
        self.key, self.reads, self.con = key, reads, con
        self.target = table_name(key)
        self.config, self.chain, self.paths, self.run_id, self.features = config, chain, paths, run_id, features
        self.log, self.warn = log, warn
        self._artifacts, self._stage, self._stage_frame, self._stage_name = artifacts, stage, stage_frame, stage_name
        self._as_of, self._as_of_value, self._run_facts = as_of, None, run_facts
        self.asked_as_of = asked_as_of  # the date the run asked for ("" = the latest in the data): gold/as_of_date only
        self._tag_run = tag_run
        self.staged: str | None = None

    # --- reading what was declared ----------------------------------------------------------------
    def _declared(self, key: str) -> None:
        if key not in self.reads and key != self.key:  # its own last artefact is always its own to read
            raise UndeclaredRead(f"{self.key} reads {key}, which its declaration does not list in reads=[...]")

    @property
    def as_of(self) -> dt.date:
        """The run's as-of date, resolved once per run by gold/as_of_date."""
        self._declared(AS_OF_KEY)
        if self._as_of_value is None:
            self._as_of_value = self._as_of()
        return self._as_of_value

    def load(self, key: str):
        """A declared artefact (a model, an evaluation); FileNotFoundError when it was never written."""
        self._declared(key)
        return self._artifacts.load(key)

    def artifact_path(self, key: str):
        self._declared(key)
        return self._artifacts.store.path(key)

    def has(self, key: str) -> bool:
        self._declared(key)
        return self._artifacts.exists(key)

    def fetch(self, sql: str) -> pd.DataFrame:
        from elv_assets.lakehouse.ingest import fetch_frame

        return fetch_frame(self.con, sql)

    def tag_run(self, tags: dict[str, str]) -> None:
        """Record run-level facts (the resolved as-of date) in the run's tags."""
        if self._tag_run:
            self._tag_run(tags)

    def run_facts(self, what: str):
        """Facts about this run from the orchestrator ("checks": every check evaluated so far; "skipped": the
        assets skipped so far, with their reasons)."""
        return self._run_facts(what) if self._run_facts else None

    def skipped_because(self, key: str) -> str | None:
        """Why `key` was skipped earlier in this run (None when it ran, or ran in another run)."""
        return (self.run_facts("skipped") or {}).get(key)

    # --- writing the result -----------------------------------------------------------------------
    def stage(self, select_sql: str) -> str:
        """Materialise the table's new content beside the live table; returns the staged name to measure."""
        self.staged = self._stage(select_sql)
        return self.staged

    def stage_in_place(self) -> str:
        """The staging table's name, for a build that writes it itself (bronze loads a file straight into it, so
        the rows are written once); from here on it is the staged table, dropped if the build fails."""
        self.staged = self._stage_name()
        return self.staged

    def stage_frame(self, frame: pd.DataFrame, typed: bool = False) -> str:
        """The same for a pandas frame (rows in its order); `typed`: the contract's columns and types only."""
        self.staged = self._stage_frame(frame, typed)
        return self.staged
