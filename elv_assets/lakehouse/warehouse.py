"""DuckDB warehouse helpers: staging, the contract check of a staged table, the atomic swap, and the
rule that resolves a run's as-of date.

Tables are written as `<schema>._stage_<name>` first, validated, and only then swapped in with a
DROP + RENAME inside one transaction, so a failed validation leaves the previous good table.
Writing with CREATE OR REPLACE (not an IO manager's DELETE + INSERT) lets a table's columns change.
"""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager

import duckdb
import pandas as pd
import pandera.pandas as pa

from elv_assets.build import Build, Built
from elv_assets.lakehouse.validation import Problem
from elv_assets.lakehouse.validation import contract_problems as sql_contract_problems

SCHEMAS = ("bronze", "silver", "gold", "monitoring")


def ensure_schemas(con: duckdb.DuckDBPyConnection) -> None:
    for schema in SCHEMAS:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")


def stage_name(target: str) -> str:
    schema, name = target.split(".")
    return f"{schema}._stage_{name}"


def stage(con: duckdb.DuckDBPyConnection, target: str, select_sql: str) -> str:
    """Materialise `select_sql` as the staging table of `target`; returns the staging name."""
    ensure_schemas(con)
    staged = stage_name(target)
    con.execute(f"CREATE OR REPLACE TABLE {staged} AS {select_sql}")
    return staged


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection):
    """All of the block's statements, or none of them."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise


def swap_in(con: duckdb.DuckDBPyConnection, staged: str, target: str) -> None:
    """Replace `target` by the staging table in one transaction."""
    name = target.split(".")[1]
    with transaction(con):
        con.execute(f"DROP TABLE IF EXISTS {target}")
        con.execute(f"ALTER TABLE {staged} RENAME TO {name}")


def append_in(con: duckdb.DuckDBPyConnection, staged: str, target: str, key: tuple[str, ...]) -> int:
    """Append the staging table to `target` in one transaction, replacing the rows of the same `key` values (a
    replayed day replaces its own rows, never another day's); columns new to `target` are added first. Returns the
    rows appended."""
    name = target.split(".")[1]
    added = row_count(con, staged)
    with transaction(con):
        if not table_exists(con, target):
            con.execute(f"ALTER TABLE {staged} RENAME TO {name}")
            return added
        have = set(columns(con, target))
        for col, sql_type, *_ in con.execute(f"DESCRIBE {staged}").fetchall():
            if col not in have:
                con.execute(f'ALTER TABLE {target} ADD COLUMN "{col}" {sql_type}')
        match = " AND ".join(f't."{k}" IS NOT DISTINCT FROM s."{k}"' for k in key)
        keys = ", ".join(f'"{k}"' for k in key)
        con.execute(f"DELETE FROM {target} t USING (SELECT DISTINCT {keys} FROM {staged}) s WHERE {match}")
        con.execute(f"INSERT INTO {target} BY NAME SELECT * FROM {staged}")
        con.execute(f"DROP TABLE {staged}")
    return added


def drop(con: duckdb.DuckDBPyConnection, table: str) -> None:
    con.execute(f"DROP TABLE IF EXISTS {table}")


def table_exists(con: duckdb.DuckDBPyConnection, target: str) -> bool:
    schema, name = target.split(".")
    return bool(
        con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
            [schema, name],
        ).fetchall()[0][0]
    )


def row_count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    return int(con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0])


def columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    return [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()]


def latest_dates(con: duckdb.DuckDBPyConnection, ads: str = "silver.ads", leads: str = "silver.leads") -> dict:
    """The last day of delivery data and of leads (None where a table has no rows)."""
    last_ad, last_lead = con.execute(
        f"SELECT (SELECT max(date) FROM {ads}), (SELECT max(created_at)::DATE FROM {leads})").fetchall()[0]
    return {"ads": last_ad, "leads": last_lead}


def resolve_as_of(configured: str, latest: dict) -> tuple[dt.date, str]:
    """The one rule for a run's as-of date, and which part of it decided: the configured date (a schedule's
    last complete day, `--as-of`, ELV_AS_OF), else the latest day in the data (ads or leads, whichever is later:
    either file may be absent)."""
    if configured:
        try:
            return dt.date.fromisoformat(configured), "configured"
        except ValueError:
            raise ValueError(f"as_of_date {configured!r} is not a date of the form YYYY-MM-DD") from None
    days = [d.date() if isinstance(d, dt.datetime) else d for d in latest.values() if d is not None]
    if not days:
        raise ValueError("the as-of date cannot default to the latest date in the data: there are no ad rows "
                         "and no leads")
    return max(days), "latest date in the data"


# pandas dtype of a contract column -> its warehouse type, for frames staged against a contract
_SQL_TYPES = {"str": "VARCHAR", "float64": "DOUBLE", "bool": "BOOLEAN", "Int64": "BIGINT", "uint64": "UBIGINT",
              "object": "DOUBLE[]", "datetime64[ns]": "TIMESTAMP"}


def contract_select(model: type[pa.DataFrameModel], frame: str | None) -> str:
    """SELECT the model's columns cast to their warehouse types from a registered frame (None: no rows)."""
    cols = []
    for name, col in model.to_schema().columns.items():
        source = f'"{name}"' if frame else "NULL"
        cols.append(f'CAST({source} AS {_SQL_TYPES[str(col.dtype)]}) AS "{name}"')
    return f"SELECT {', '.join(cols)} " + (f"FROM {frame}" if frame else "WHERE false")


def stage_frame(con: duckdb.DuckDBPyConnection, target: str, frame: pd.DataFrame,
                model: type[pa.DataFrameModel] | None = None) -> str:
    """Stage a pandas frame as `target`'s staging table, rows in the frame's order. With `model`: only the
    contract's columns, cast to their warehouse types, so an empty frame still makes a fully typed table."""
    if model is not None and frame.empty:
        return stage(con, target, contract_select(model, None))
    con.register("_stage_frame", frame)
    try:
        return stage(con, target, contract_select(model, "_stage_frame") if model is not None
                     else "SELECT * FROM _stage_frame")
    finally:
        con.unregister("_stage_frame")


def contract_problems(con: duckdb.DuckDBPyConnection, model: type[pa.DataFrameModel], staged: str) -> list[Problem]:
    """The staged table checked against its pandera contract, in DuckDB (contracts/sql.py): [] when it passes.
    Row numbers + 2 read as the line a spreadsheet of the table would show."""
    return sql_contract_problems(con, model, staged, line_offset=2)


def build_as_of_date(b: Build) -> Built:
    """gold.as_of_date: the run's one as-of date, resolved once from silver and recorded for every other asset."""
    latest = latest_dates(b.con)
    as_of, rule = resolve_as_of(b.asked_as_of, latest)

    def lit(d) -> str:
        return "NULL::DATE" if d is None else f"DATE '{d}'"

    b.stage(f"SELECT DATE '{as_of}' AS as_of_date, '{rule}' AS rule, {lit(latest['ads'])} AS last_ad_date, "
            f"{lit(latest['leads'])} AS last_lead_date, '{b.run_id}' AS run_id, current_timestamp AT TIME ZONE 'UTC' AS resolved_at")
    b.tag_run({"as_of_date": str(as_of)})
    return Built(metadata={"as_of_date": str(as_of), "rule": rule, "last_ad_date": str(latest["ads"]),
                           "last_lead_date": str(latest["leads"])})
