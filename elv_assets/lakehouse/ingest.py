"""Reading raw CSV files into DuckDB and typing their text, in SQL.

The raw copy keeps every cell as text plus its line number in the file, so every later problem
can name the file, the column and the lines. Typing is one SELECT built from the input contract:
dates accept ISO and UK day-first forms, numbers accept a decimal comma in `;`-separated files,
and each value that fails to type is counted and shown, never silently dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from elv_assets.contracts.inputs import ColumnSpec, column_specs

DELIMITERS = (",", ";", "\t", "|")
SNIFF_BYTES = 64 * 1024
LINE_COLUMN = "_line"  # the 1-based line in the file (the header is line 1), as a spreadsheet shows it


class UnreadableFile(Exception):
    """A file that cannot be read as CSV at all; the message is the one-line reason."""


@dataclass(frozen=True)
class CsvFormat:
    delimiter: str
    decimal_comma: bool
    header: tuple[str, ...]


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def sniff(path: Path) -> CsvFormat:
    """Delimiter, decimal separator and header of a CSV file, or UnreadableFile with the reason."""
    if not path.exists():
        raise UnreadableFile(f"{path.name}: file not found in {path.parent}")
    if path.stat().st_size == 0:
        raise UnreadableFile(f"{path.name}: the file is empty")
    head = path.open("rb").read(SNIFF_BYTES)
    if b"\x00" in head:
        raise UnreadableFile(f"{path.name}: not a CSV text file (it contains binary data; is it an Excel file?)")
    try:
        text = head.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut by the end of the sniffed block is fine; anything else is not UTF-8.
        if len(head) < SNIFF_BYTES or exc.start < len(head) - 4:
            raise UnreadableFile(
                f"{path.name}: not UTF-8 text (byte {exc.start}); save it as 'CSV UTF-8' and try again"
            ) from None
        text = head[: exc.start].decode("utf-8-sig")
    lines = text.splitlines()
    header_line = lines[0] if lines else ""
    if not header_line.strip():
        raise UnreadableFile(f"{path.name}: the first line is blank; the first line must be the column names")
    delimiter = max(DELIMITERS, key=header_line.count)
    header = tuple(h.strip().strip('"').strip() for h in header_line.split(delimiter))
    if len(header) < 2:
        raise UnreadableFile(
            f"{path.name}: only one column found ({header_line[:60]!r}); expected a header separated by ',', ';', tab or '|'"
        )
    # A ';' file from a European spreadsheet writes 1,5 for 1.5.
    decimal_comma = delimiter == ";" and any(
        _looks_decimal_comma(cell) for line in lines[1:50] for cell in line.split(";")
    )
    return CsvFormat(delimiter=delimiter, decimal_comma=decimal_comma, header=header)


def _looks_decimal_comma(cell: str) -> bool:
    cell = cell.strip().strip('"')
    whole, _, frac = cell.partition(",")
    return bool(frac) and whole.lstrip("-").isdigit() and frac.isdigit()


def load_raw(con: duckdb.DuckDBPyConnection, path: Path, table: str, fmt: CsvFormat) -> int:
    """Copy a CSV into `table`, every cell as text, with its line number. Returns the row count.

    The line number is the row's position (`rowid`, in the file's order: DuckDB keeps insertion order unless told
    not to) plus the header's line, filled in after the load: numbering in the load itself (a window over the whole
    file) made DuckDB read it on one thread, which took longer than the read."""
    def read(parallel: bool) -> None:
        con.execute(
            f"""
            CREATE OR REPLACE TABLE {table} AS
            SELECT * FROM read_csv({sql_str(str(path))}, header = true, all_varchar = true,
                                   delim = {sql_str(fmt.delimiter)}, quote = '"', escape = '"',
                                   normalize_names = false, null_padding = true, parallel = {str(parallel).lower()})
            """
        )

    try:
        try:
            read(parallel=True)
        except duckdb.Error as exc:
            # DuckDB's parallel reader cannot pad short lines when a quoted value spans lines (a CRM note with a
            # line break) in a file larger than one of its buffers: such a file is read on one thread
            if "parallel=false" not in str(exc):
                raise
            read(parallel=False)
    except duckdb.Error as exc:
        first = str(exc).strip().splitlines()[0]
        raise UnreadableFile(f"{path.name}: could not be read as CSV: {first}") from None
    con.execute(f"ALTER TABLE {table} ADD COLUMN {LINE_COLUMN} BIGINT")
    con.execute(f"UPDATE {table} SET {LINE_COLUMN} = rowid + 2")
    renames = {c: c.strip() for c in _columns(con, table) if c != c.strip()}
    for old, new in renames.items():
        con.execute(f"ALTER TABLE {table} RENAME COLUMN {quote_ident(old)} TO {quote_ident(new)}")
    return con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]


def empty_raw_select(model) -> str:
    """A raw table of `model`'s columns with no rows: what an absent optional file reads as."""
    cols = ", ".join(f"CAST(NULL AS VARCHAR) AS {quote_ident(c)}" for c in column_specs(model))
    return f"SELECT {cols}, CAST(NULL AS BIGINT) AS {LINE_COLUMN} WHERE false"


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    return [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()]


# --- typing ---------------------------------------------------------------------------------------

_ISO = r"^\d{4}[-/]\d{1,2}[-/]\d{1,2}([ T]\d{1,2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]00:?00)?)?$"
_UK = r"^\d{1,2}[/.-]\d{1,2}[/.-]\d{4}( \d{1,2}:\d{2}(:\d{2})?)?$"
_TWO_DIGIT_YEAR = r"^\d{1,2}[/.-]\d{1,2}[/.-]\d{2}( .*)?$"


def _text(col: str) -> str:
    return f"NULLIF(trim({quote_ident(col)}), '')"


# A form's "not answered" default in a free column ("Select", "-- Select --", "N/A", "null", "-"): blank, not a
# value. Only the extra columns of a file are read this way; the contract's own columns have their own rules.
PLACEHOLDER = r"^\s*(-*\s*(please\s+)?select(\s+one)?\s*-*|n/a|#n/a|null|-+)\s*$"


def placeholder_sql(col: str) -> str:
    """The cell is a placeholder (see PLACEHOLDER)."""
    return f"regexp_matches({quote_ident(col)}, '{PLACEHOLDER}', 'i')"


def extra_text(col: str) -> str:
    """An extra column's text: trimmed, blank and placeholders read as NULL."""
    return f"CASE WHEN {placeholder_sql(col)} THEN NULL ELSE {_text(col)} END"


def parse_timestamp_sql(col: str) -> str:
    """SQL for a TIMESTAMP from ISO or UK day-first text; NULL when it does not parse."""
    v = _text(col)
    iso = (
        f"try_cast(regexp_replace(regexp_replace({v}, '(Z|[+-]00:?00)$', ''), '^(\\d{{4}})/(\\d{{1,2}})/(\\d{{1,2}})', "
        f"'\\1-\\2-\\3') AS TIMESTAMP)"
    )
    uk = (
        f"try_strptime(regexp_replace(split_part({v}, ' ', 1), '[.-]', '/', 'g') || "
        f"CASE WHEN strpos({v}, ' ') > 0 THEN ' ' || split_part({v}, ' ', 2) ELSE '' END, "
        f"['%d/%m/%Y %H:%M:%S', '%d/%m/%Y %H:%M', '%d/%m/%Y'])"
    )
    return (
        f"CASE WHEN regexp_matches({v}, '{_ISO}') THEN {iso} "
        f"WHEN regexp_matches({v}, '{_UK}') THEN {uk} END"
    )


def date_problem_sql(col: str) -> str:
    """SQL naming why a date text did not parse (NULL when it parsed or was blank)."""
    v = _text(col)
    second = f"try_cast(regexp_extract({v}, '^\\d{{1,2}}[/.-](\\d{{1,2}})', 1) AS INTEGER)"
    return (
        f"CASE WHEN {v} IS NULL OR ({parse_timestamp_sql(col)}) IS NOT NULL THEN NULL "
        f"WHEN regexp_matches({v}, '{_TWO_DIGIT_YEAR}') THEN 'ambiguous: two-digit year' "
        f"WHEN regexp_matches({v}, '{_UK}') AND {second} > 12 "
        f"THEN 'ambiguous: looks month-first (US); expected day-first dd/mm/yyyy or ISO yyyy-mm-dd' "
        f"ELSE 'unparseable date' END"
    )


def number_sql(col: str, decimal_comma: bool) -> str:
    v = _text(col)
    if decimal_comma:
        v = f"replace({v}, ',', '.')"
    d = f"try_cast({v} AS DOUBLE)"
    return f"CASE WHEN isfinite({d}) THEN {d} END"


def typed_expr(spec: ColumnSpec, decimal_comma: bool) -> str:
    col = spec.name
    if spec.kind == "date":
        return f"CAST(({parse_timestamp_sql(col)}) AS DATE)"
    if spec.kind == "timestamp":
        return parse_timestamp_sql(col)
    if spec.kind == "number":
        return number_sql(col, decimal_comma)
    if spec.kind == "integer":
        d = number_sql(col, decimal_comma)
        return f"CASE WHEN {d} = floor({d}) THEN CAST({d} AS BIGINT) END"
    return _text(col)


def problem_expr(spec: ColumnSpec, decimal_comma: bool) -> str | None:
    """SQL naming why a cell failed to type, or None for text columns (text always types)."""
    if spec.kind in ("date", "timestamp"):
        return date_problem_sql(spec.name)
    if spec.kind in ("number", "integer"):
        what = "not a whole number" if spec.kind == "integer" else "not a number"
        return f"CASE WHEN {_text(spec.name)} IS NOT NULL AND ({typed_expr(spec, decimal_comma)}) IS NULL THEN '{what}' END"
    return None


def typed_select(
    raw_table: str, specs: dict[str, ColumnSpec], present: list[str], decimal_comma: bool, also: tuple[str, ...] = ()
) -> str:
    """SELECT typing a raw table by its contract: named columns typed, extra columns kept as text (`also`: further
    expressions over the raw columns, with their aliases).

    A contract column the file lacks comes out as a typed NULL so that every table downstream has
    one shape; metadata tells which columns were really present.
    """
    sql_types = {"date": "DATE", "timestamp": "TIMESTAMP", "number": "DOUBLE", "integer": "BIGINT", "text": "VARCHAR"}
    cols = []
    for name, spec in specs.items():
        expr = typed_expr(spec, decimal_comma) if name in present else f"CAST(NULL AS {sql_types[spec.kind]})"
        cols.append(f"{expr} AS {quote_ident(name)}")
    cols += [f"{extra_text(c)} AS {quote_ident(c)}" for c in extra_columns(present, specs)]
    cols += [*also, LINE_COLUMN]
    return f"SELECT {', '.join(cols)} FROM {raw_table}"


def extra_columns(present: list[str], specs: dict[str, ColumnSpec]) -> list[str]:
    """A file's columns beyond its contract (kept as text; for leads, the lead's attributes)."""
    return [c for c in present if c not in specs and c != LINE_COLUMN and not c.startswith("_")]


def fetch_frame(con: duckdb.DuckDBPyConnection, sql: str) -> pd.DataFrame:
    """A query's result as pandas, with timestamps in nanoseconds as pandera's DateTime expects."""
    df = con.execute(sql).df()
    for col in df.columns:
        if str(df[col].dtype).startswith("datetime64["):
            df[col] = df[col].astype("datetime64[ns]")
    return df
