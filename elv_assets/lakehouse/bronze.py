"""Bronze: a raw copy of one input file (every cell as text) with its load metadata.

The file is checked against its input contract before anything is written: a file that fails leaves the
previous bronze table in place and the failure names the file, the column, the rule and example lines.
An optional file that is absent loads as an empty table with the contract's columns.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from elv_assets.build import Build, Built, InputRefused
from elv_assets.contracts.inputs import InputFile
from elv_assets.lakehouse.ingest import empty_raw_select, sql_str
from elv_assets.lakehouse.validation import inspect_file


def bronze_build(spec: InputFile) -> Callable[[Build], Built]:
    def build(b: Build) -> Built:
        path = Path(b.paths.data_dir) / spec.filename
        staged = b.stage_in_place()  # loaded and checked where it lies: the rows are written once
        report = inspect_file(b.con, spec, path, staged)
        if report.blocking:
            raise InputRefused(spec.filename, report.errors, report.to_text())  # the staged table is dropped
        if report.present:
            for name, kind, value in (("_source_file", "VARCHAR", sql_str(str(path))),
                                      ("_loaded_at", "TIMESTAMP WITH TIME ZONE", "now()"),
                                      ("_decimal_comma", "BOOLEAN", str(report.decimal_comma).lower())):
                b.con.execute(f"ALTER TABLE {staged} ADD COLUMN {name} {kind} DEFAULT {value}")
        else:
            b.stage(f"SELECT *, NULL AS _source_file, now() AS _loaded_at, false AS _decimal_comma "
                    f"FROM ({empty_raw_select(spec.model)})")
        warnings = [p.describe(spec.filename) for p in report.warnings]
        for w in warnings:
            b.warn(w)
        return Built(metadata={
            "file_present": report.present, "source_file": str(path), "columns": ", ".join(report.columns),
            "delimiter": report.delimiter or "", "decimal_comma": report.decimal_comma, "warnings": len(warnings),
            "warning_list": "\n".join(f"- {w}" for w in warnings) or "none",
            "validation_report": f"```\n{report.to_text()}\n```",
        })

    return build
