"""Validate-then-write for every table: the contract gate between a staged table and the warehouse."""


from dataclasses import dataclass

import dagster as dg
import duckdb
import pandas as pd
import pandera.errors as pa_errors
import pandera.pandas as pa

from elv_assets.contracts.inputs import model_columns_sql
from elv_assets.ingest import fetch_frame
from elv_assets.validation import Problem, failures_to_problems
from elv_assets.warehouse import drop, row_count, stage, swap_in

OWNERS = ["team:data-platform"]
PREVIEW_ROWS = 8


def column_schema(model: type[pa.DataFrameModel]) -> dg.TableSchema:
    """The Dagster column schema of a pandera model, for the asset's metadata."""
    return dg.TableSchema(
        columns=[
            dg.TableColumn(
                name=name,
                type=str(col.dtype),
                description=col.description,
                constraints=dg.TableColumnConstraints(nullable=col.nullable, unique=col.unique),
            )
            for name, col in model.to_schema().columns.items()
        ]
    )


@dataclass
class GateResult:
    check: dg.AssetCheckResult
    failure: str | None  # None when the table was swapped in

    def events(self):
        """The contract check for the asset to yield; a failed contract then stops the asset, unretried."""
        yield self.check
        if self.failure:
            raise dg.Failure(allow_retries=False, description=self.failure)


def problems_text(where: str, problems: list[Problem]) -> str:
    return "\n".join(f"- {p.describe(where)}" for p in problems)


def failed_check(check_name: str, where: str, problems: list[Problem]) -> GateResult:
    text = problems_text(where, problems)
    return GateResult(
        dg.AssetCheckResult(
            check_name=check_name,
            passed=False,
            severity=dg.AssetCheckSeverity.ERROR,
            description=f"{where} failed its contract; nothing was written and the previous table stays.",
            metadata={"problems": dg.MetadataValue.md(text), "problem_count": len(problems)},
        ),
        f"{where} failed its contract; nothing was written and the previous table stays:\n{text}",
    )


def gate_and_swap(
    con: duckdb.DuckDBPyConnection, model: type[pa.DataFrameModel], staged: str, target: str,
    check_name: str = "contract",
) -> GateResult:
    """Validate the staged table against `model`; swap it in if it passes, drop it if not."""
    df = fetch_frame(con, f"SELECT {model_columns_sql(model)} FROM {staged}")
    try:
        model.validate(df, lazy=True)
    except pa_errors.SchemaErrors as exc:
        drop(con, staged)
        # Row positions (0-based) + 2 read as the line a spreadsheet of this table would show.
        fc = exc.failure_cases
        problems = failures_to_problems(fc.assign(index=pd.to_numeric(fc["index"], errors="coerce") + 2))
        return failed_check(check_name, target, problems)
    swap_in(con, staged, target)
    return GateResult(
        dg.AssetCheckResult(check_name=check_name, passed=True, metadata={"rows": len(df)}), None
    )


# pandas dtype of a contract column -> its warehouse type, for frames published with `typed=True`
_SQL_TYPES = {"str": "VARCHAR", "float64": "DOUBLE", "bool": "BOOLEAN", "Int64": "BIGINT", "object": "DOUBLE[]",
              "datetime64[ns]": "TIMESTAMP"}


def typed_select(model: type[pa.DataFrameModel], frame: str | None) -> str:
    """SELECT the model's columns cast to their warehouse types from a registered frame (None: no rows)."""
    cols = []
    for name, col in model.to_schema().columns.items():
        source = f'"{name}"' if frame else "NULL"
        cols.append(f'CAST({source} AS {_SQL_TYPES[str(col.dtype)]}) AS "{name}"')
    return f"SELECT {', '.join(cols)} " + (f"FROM {frame}" if frame else "WHERE false")


def publish_frame(con: duckdb.DuckDBPyConnection, model: type[pa.DataFrameModel], frame: pd.DataFrame,
                  target: str, check_name: str = "contract", typed: bool = False) -> GateResult:
    """Stage a pandas frame as `target`'s staging table, then validate and swap it in like any other table.

    Rows keep the frame's order. `typed=True` keeps only the model's columns, cast to their warehouse types,
    so an empty frame still makes a fully typed (empty) table.
    """
    if typed and frame.empty:
        return gate_and_swap(con, model, stage(con, target, typed_select(model, None)), target, check_name)
    con.register("_publish_frame", frame)
    try:
        select = typed_select(model, "_publish_frame") if typed else "SELECT * FROM _publish_frame"
        staged = stage(con, target, select)
    finally:
        con.unregister("_publish_frame")
    return gate_and_swap(con, model, staged, target, check_name)


def preview(con: duckdb.DuckDBPyConnection, table: str, n: int = PREVIEW_ROWS) -> dg.MetadataValue:
    return dg.MetadataValue.md(con.execute(f"SELECT * FROM {table} LIMIT {n}").df().to_markdown(index=False))


def table_metadata(con: duckdb.DuckDBPyConnection, table: str, **extra) -> dict:
    """Row count, name and a preview (unless the caller brings its own) of a published table."""
    return {
        "dagster/row_count": row_count(con, table),
        "table": table,
        **({} if "preview" in extra else {"preview": preview(con, table)}),
        **extra,
    }
