"""DuckDB warehouse helpers: staging, the atomic swap, and the run's as_of date.

Tables are written as `<schema>._stage_<name>` first, validated, and only then swapped in with a
DROP + RENAME inside one transaction, so a failed validation leaves the previous good table.
Writing with CREATE OR REPLACE (not an IO manager's DELETE + INSERT) lets a table's columns change.
"""

from __future__ import annotations

import datetime as dt

import duckdb

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


def swap_in(con: duckdb.DuckDBPyConnection, staged: str, target: str) -> None:
    """Replace `target` by the staging table in one transaction."""
    name = target.split(".")[1]
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(f"DROP TABLE IF EXISTS {target}")
        con.execute(f"ALTER TABLE {staged} RENAME TO {name}")
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise


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


def resolve_as_of(con: duckdb.DuckDBPyConnection, configured: str = "") -> dt.date:
    """The run's as_of date: the configured one, else the latest day in the silver ads and leads.

    Either table may be empty (ads.csv is optional). max() over the union skips the empty side's NULL
    by the SQL standard. (DuckDB's greatest() skips NULLs too, checked on 2.0; MySQL's and Oracle's do not.)
    """
    if configured:
        try:
            return dt.date.fromisoformat(configured)
        except ValueError:
            raise ValueError(f"as_of_date {configured!r} is not a date of the form YYYY-MM-DD") from None
    latest = con.execute(
        "SELECT max(d) FROM (SELECT max(date) AS d FROM silver.ads "
        "UNION ALL SELECT max(created_at)::DATE FROM silver.leads)"
    ).fetchall()[0][0]
    if latest is None:
        raise ValueError("as_of_date cannot default to the latest date: silver.ads and silver.leads are empty")
    return latest.date() if isinstance(latest, dt.datetime) else latest
