"""Where things live. The one place that reads the environment, always with a local default.

Every path setting can be overridden by an environment variable; nothing is read at import time,
so tests can point a fresh `Settings` at a temporary folder.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

DEFAULTS = {
    "ELV_DATA_DIR": "data/raw",
    "ELV_WAREHOUSE": "data/warehouse.duckdb",
    "ELV_SERVING_DIR": "data/serving",
    "ELV_ARTIFACTS_DIR": "data/artifacts",
    "ELV_AS_OF": "",
    "ELV_FEATURES_STRICT": "",  # 1/true: a lead column that looks filled in after contact stops the run
    "ELV_FEATURES_INCLUDE": "",  # comma-separated lead columns to keep although the leakage guard flags them
    "ELV_FEATURES_EXCLUDE": "",  # comma-separated lead columns never to use as features
    "ELV_FIT_LEADS": "100000",  # the most leads a model fit reads (a time-stratified sample past it); 0: every lead
    "ELV_JUDGE_LEADS": "250000",  # the most leads of a held-out split a step judges on (a sample past it); 0: all
    "ELV_DUCKDB_MEMORY": "1GB",  # what DuckDB may hold in memory while the pipeline runs; past it, it spills to disk
    # what DuckDB may hold in a step whose work is all SQL (bronze, silver, the SQL gold tables): no data frames
    # sit beside it in Python there, so it may take more and spill less
    "ELV_DUCKDB_SQL_MEMORY": "3GB",
}


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    warehouse: Path
    serving_dir: Path
    artifacts_dir: Path
    as_of: str  # YYYY-MM-DD, or "" for "the latest date in the data"
    features_strict: bool = False
    features_include: tuple[str, ...] = ()
    features_exclude: tuple[str, ...] = ()
    fit_leads: int = int(DEFAULTS["ELV_FIT_LEADS"])
    judge_leads: int = int(DEFAULTS["ELV_JUDGE_LEADS"])
    duckdb_memory: str = DEFAULTS["ELV_DUCKDB_MEMORY"]
    duckdb_sql_memory: str = DEFAULTS["ELV_DUCKDB_SQL_MEMORY"]

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env

        def get(name: str) -> str:
            return env.get(name) or DEFAULTS[name]

        def names(name: str) -> tuple[str, ...]:
            return tuple(n.strip() for n in get(name).split(",") if n.strip())

        return cls(
            data_dir=Path(get("ELV_DATA_DIR")),
            warehouse=Path(get("ELV_WAREHOUSE")),
            serving_dir=Path(get("ELV_SERVING_DIR")),
            artifacts_dir=Path(get("ELV_ARTIFACTS_DIR")),
            as_of=env.get("ELV_AS_OF", ""),
            features_strict=get("ELV_FEATURES_STRICT").strip().lower() in ("1", "true", "yes"),
            features_include=names("ELV_FEATURES_INCLUDE"),
            features_exclude=names("ELV_FEATURES_EXCLUDE"),
            fit_leads=_whole_number("ELV_FIT_LEADS", get("ELV_FIT_LEADS")),
            judge_leads=_whole_number("ELV_JUDGE_LEADS", get("ELV_JUDGE_LEADS")),
            duckdb_memory=memory_size("ELV_DUCKDB_MEMORY", get("ELV_DUCKDB_MEMORY")),
            duckdb_sql_memory=memory_size("ELV_DUCKDB_SQL_MEMORY", get("ELV_DUCKDB_SQL_MEMORY")),
        )


def _whole_number(name: str, value: str) -> int:
    try:
        number = int(value.replace("_", "").replace(",", "").strip())
    except ValueError:
        number = -1
    if number < 0:
        raise ValueError(f"{name}={value!r}: expected a whole number of leads (0 for no cap), e.g. {name}=300000")
    return number


def memory_size(name: str, value: str) -> str:
    """A DuckDB memory limit as DuckDB reads it ("1GB", "512MB", "2.5GiB")."""
    text = value.strip().replace(" ", "")
    if not re.fullmatch(r"\d+(\.\d+)?(KB|MB|GB|TB|KiB|MiB|GiB|TiB)", text, flags=re.IGNORECASE):
        raise ValueError(f"{name}={value!r}: expected an amount of memory, e.g. {name}=1GB or {name}=512MB")
    return text
