"""Bronze: a raw copy of each input file (every cell as text) with its load metadata.

Each file is checked against its input contract before anything is written; a file that fails
leaves the previous bronze table in place and records a failed `input_contract` check that names
the file, the column, the rule and example lines.
"""


from pathlib import Path

import dagster as dg

from elv_assets.contracts.inputs import INPUT_FILES, InputFile
from elv_assets.defs.publishing import OWNERS, column_schema, failed_check, table_metadata
from elv_assets.defs.resources import ElvSettings, Warehouse
from elv_assets.ingest import empty_raw_select, sql_str
from elv_assets.validation import inspect_file
from elv_assets.warehouse import drop, ensure_schemas, stage_name, swap_in


def build_bronze_asset(spec: InputFile) -> dg.AssetsDefinition:
    key = dg.AssetKey(["bronze", spec.name])
    need = "required" if spec.required else "optional"

    @dg.asset(
        key=key,
        group_name="bronze",
        kinds={"duckdb", "csv"},
        owners=OWNERS,
        description=(
            f"Raw copy of {spec.filename} ({need}): every cell as text, plus _line (the line in the file), "
            f"_source_file, _loaded_at and _decimal_comma. Loaded only when the file passes its input contract. "
            f"{(spec.model.__doc__ or '').strip()}"
        ),
        metadata={"dagster/column_schema": column_schema(spec.model), "source_file": spec.filename},
        check_specs=[dg.AssetCheckSpec("input_contract", asset=key, description=f"{spec.filename} meets its contract.")],
    )
    def _bronze(context: dg.AssetExecutionContext, warehouse: Warehouse, elv: ElvSettings):
        path = Path(elv.data_dir) / spec.filename
        target = f"bronze.{spec.name}"
        staged, loaded = stage_name(target), f"bronze._load_{spec.name}"
        with warehouse.get_connection() as con:
            ensure_schemas(con)
            report = inspect_file(con, spec, path, loaded)
            if report.blocking:
                drop(con, loaded)
                gate = failed_check("input_contract", spec.filename, report.errors)
                yield gate.check
                raise dg.Failure(allow_retries=False, description=gate.failure, metadata={"report": dg.MetadataValue.md(report.to_text())})
            source = sql_str(str(path)) if report.present else "NULL"
            raw = loaded if report.present else f"({empty_raw_select(spec.model)})"
            con.execute(
                f"CREATE OR REPLACE TABLE {staged} AS SELECT *, {source} AS _source_file, "
                f"now() AS _loaded_at, {str(report.decimal_comma).lower()} AS _decimal_comma FROM {raw}"
            )
            drop(con, loaded)
            swap_in(con, staged, target)
            warnings = [p.describe(spec.filename) for p in report.warnings]
            yield dg.AssetCheckResult(
                check_name="input_contract",
                passed=True,
                metadata={"warnings": dg.MetadataValue.md("\n".join(f"- {w}" for w in warnings) or "none")},
            )
            for w in warnings:
                context.log.warning(w)
            yield dg.MaterializeResult(
                metadata=table_metadata(
                    con, target,
                    file_present=report.present,
                    source_file=str(path),
                    columns=", ".join(report.columns),
                    delimiter=report.delimiter or "",
                    decimal_comma=report.decimal_comma,
                    warnings=len(warnings),
                    validation_report=dg.MetadataValue.md(f"```\n{report.to_text()}\n```"),
                )
            )

    return _bronze


bronze_assets = [build_bronze_asset(spec) for spec in INPUT_FILES.values()]
