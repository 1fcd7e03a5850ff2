"""Contracts checked where the data is: a pandera schema's rules compiled to SQL over a DuckDB table.

Fetching a million typed rows into pandas so that pandera can test them one element at a time was most of the
time from bronze to gold. pandera stays the source of the schema; what runs where:

- **in DuckDB, over every row**: each column's value checks that have a SQL form (`ge`, `gt`, `le`, `lt`,
  `eq`, `ne`, `in_range`, `isin`, `notin`, `str_matches`, `str_startswith`, `str_endswith`,
  `str_length`), blank values where the column is not nullable, and uniqueness (of a column or of the
  schema's key columns); each failure is counted with its first rows and values, and named as pandera names it
  ("fails contract check greater_than_or_equal_to(0)");
- **by pandera, on the first `HEAD_ROWS` rows**: column presence and dtypes (a DuckDB column has one type, so
  its first rows show it), with the rules above left out;
- **by pandera, on every row**: only what has no SQL form (a custom column check, a frame-wide check such
  as "one row per key"), and only the columns those read.
"""

from __future__ import annotations

import re

import duckdb
import pandas as pd
import pandera.errors as pa_errors
import pandera.pandas as pa

from elv_assets.lakehouse.ingest import fetch_frame

HEAD_ROWS = 1_000
EXAMPLES = 5


def _lit(value) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, pd.Timestamp):
        return f"TIMESTAMP '{value}'"
    return "'" + str(value).replace("'", "''") + "'"


def _values(values) -> str:
    return ", ".join(_lit(v) for v in values)


def _in_range(c: str, s: dict) -> str:
    lo = ">=" if s.get("include_min", True) else ">"
    hi = "<=" if s.get("include_max", True) else "<"
    return f"{c} {lo} {_lit(s['min_value'])} AND {c} {hi} {_lit(s['max_value'])}"


def _str_length(c: str, s: dict) -> str:
    parts = []
    if s.get("min_value") is not None:
        parts.append(f"length({c}) >= {int(s['min_value'])}")
    if s.get("max_value") is not None:
        parts.append(f"length({c}) <= {int(s['max_value'])}")
    return " AND ".join(parts) or "TRUE"


def _regex(pattern) -> str:
    return pattern.pattern if isinstance(pattern, re.Pattern) else str(pattern)


# pandera check name -> the condition a valid (non-blank) value meets, from the check's statistics
SQL_RULES = {
    "greater_than_or_equal_to": lambda c, s: f"{c} >= {_lit(s['min_value'])}",
    "greater_than": lambda c, s: f"{c} > {_lit(s['min_value'])}",
    "less_than_or_equal_to": lambda c, s: f"{c} <= {_lit(s['max_value'])}",
    "less_than": lambda c, s: f"{c} < {_lit(s['max_value'])}",
    "equal_to": lambda c, s: f"{c} = {_lit(s['value'])}",
    "not_equal_to": lambda c, s: f"{c} <> {_lit(s['value'])}",
    "in_range": _in_range,
    "isin": lambda c, s: f"{c} IN ({_values(s['allowed_values'])})" if s["allowed_values"] else "FALSE",
    "notin": lambda c, s: f"{c} NOT IN ({_values(s['forbidden_values'])})" if s["forbidden_values"] else "TRUE",
    # pandera's str_matches is Python's re.match: anchored at the start only
    "str_matches": lambda c, s: f"regexp_matches({c}, {_lit('^(?:' + _regex(s['pattern']) + ')')})",
    "str_startswith": lambda c, s: f"starts_with({c}, {_lit(s['string'])})",
    "str_endswith": lambda c, s: f"ends_with({c}, {_lit(s['string'])})",
    "str_length": _str_length,
}


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def compiled(check: pa.Check) -> bool:
    return check.name in SQL_RULES and check.statistics is not None and not getattr(check, "element_wise", False)


class ContractProblem:
    """One broken rule: the column (None for the whole table), pandera's name for the rule, how many rows, the
    first rows' positions (the line column's values when one is given, else 0-based row numbers) and values."""

    def __init__(self, column: str | None, check: str, count: int, rows: list[int], values: list):
        self.column, self.check, self.count, self.rows, self.values = column, check, count, rows, values


def _failures(con, table: str, where: str, value: str | None, order: str) -> tuple[int, list[int], list]:
    values = f"list({value} ORDER BY {order})[1:{EXAMPLES}]" if value else "[]"
    n, rows, examples = con.execute(
        f"SELECT count(*), list({order} ORDER BY {order})[1:{EXAMPLES}], {values} FROM {table} WHERE {where}"
    ).fetchall()[0]
    return int(n), list(rows or []), list(examples or [])


def contract_problems_sql(con: duckdb.DuckDBPyConnection, model: type[pa.DataFrameModel], table: str,
                          line: str | None = None, skip: tuple[str, ...] = ()) -> list[ContractProblem]:
    """`table` checked against `model`'s schema: [] when it passes. `line`: a column numbering the rows (the CSV
    line), else rows are numbered by position in the table. `skip`: pandera check names not to report (bronze
    reports blank required values itself)."""
    schema = model.to_schema()
    present = {r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()}
    cols = [c for c in schema.columns if c in present]
    line = line or "rowid"  # DuckDB's row number within the table: 0 for the first row written
    problems = _pandera_part(con, schema, table, cols, line, skip)
    wrong_type = {p.column for p in problems if p.check.startswith("dtype(")}  # their rules cannot compare
    return problems + _sql_part(con, schema, table, [c for c in cols if c not in wrong_type], line, skip)


def _sql_part(con, schema, source, cols, line, skip) -> list[ContractProblem]:
    out = []
    for name in cols:
        col, q = schema.columns[name], _quote(name)
        if not col.nullable and "not_nullable" not in skip:
            n, rows, _ = _failures(con, source, f"{q} IS NULL", None, line)
            if n:
                out.append(ContractProblem(name, "not_nullable", n, rows, [None] * min(n, EXAMPLES)))
        for check in col.checks:
            if compiled(check) and check.error not in skip:
                n, rows, values = _failures(con, source, f"{q} IS NOT NULL AND NOT ({SQL_RULES[check.name](q, check.statistics)})",
                                            q, line)
                if n:
                    out.append(ContractProblem(name, check.error, n, rows, values))
        if col.unique and "field_uniqueness" not in skip:
            out += _duplicates(con, source, [name], line, name, "field_uniqueness")
    if schema.unique and "multiple_fields_uniqueness" not in skip:
        keys = [schema.unique] if isinstance(schema.unique, str) else list(schema.unique)
        if all(k in cols for k in keys):
            out += _duplicates(con, source, keys, line, None, "multiple_fields_uniqueness")
    return out


def _duplicates(con, source, keys, line, column, check) -> list[ContractProblem]:
    """Every row whose key another row shares (pandera reports each of them)."""
    k = ", ".join(_quote(c) for c in keys)
    shown = _quote(keys[0]) if len(keys) == 1 else f"concat_ws(' | ', {k})"
    where = f"({k}) IN (SELECT ({k}) FROM {source} WHERE {' AND '.join(f'{_quote(c)} IS NOT NULL' for c in keys)} " \
            f"GROUP BY ALL HAVING count(*) > 1)"
    n, rows, values = _failures(con, source, where, shown, line)
    return [ContractProblem(column, check, n, rows, values)] if n else []


def _pandera_part(con, schema, source, cols, line, skip) -> list[ContractProblem]:
    """Presence and dtypes on the first rows; whatever has no SQL form on every row (only the columns it reads)."""
    whole_cols = set(cols) if schema.checks else {n for n, c in schema.columns.items()
                                                  if any(not compiled(k) for k in c.checks)}
    head_schema = pa.DataFrameSchema(columns={n: _relaxed(c, []) for n, c in schema.columns.items()},
                                     strict=schema.strict, ordered=schema.ordered, name=schema.name)
    select = ", ".join([_quote(c) for c in cols] + [line])
    head = _head(con, select, source, line)
    out = _run(head_schema, head, skip)
    if whole_cols:
        keep = {n: _relaxed(c, [k for k in c.checks if not compiled(k)]) for n, c in schema.columns.items()
                if n in whole_cols}
        whole_schema = pa.DataFrameSchema(columns=keep, checks=schema.checks, name=schema.name)
        use = [c for c in cols if c in whole_cols]
        frame = fetch_frame(con, f"SELECT {', '.join([_quote(c) for c in use] + [line])} FROM {source}").set_index(line)
        out += _run(whole_schema, frame, skip)
    return out


def _head(con, select: str, source: str, line: str) -> pd.DataFrame:
    """The first HEAD_ROWS rows by `line`. Read as a range of line numbers first (the numbers are consecutive in a
    loaded file and in a table's rowid), so a typed view types only those rows, not every row for a top-N; the
    top-N itself where the range holds fewer rows than it should."""
    first, rows = con.execute(f"SELECT min({line}), count(*) FROM {source}").fetchall()[0]
    head = fetch_frame(con, f"SELECT {select} FROM {source} WHERE {line} < {int(first or 0) + HEAD_ROWS} "
                            f"ORDER BY {line}")
    if len(head) < min(rows, HEAD_ROWS):
        head = fetch_frame(con, f"SELECT {select} FROM {source} ORDER BY {line} LIMIT {HEAD_ROWS}")
    return head.set_index(line)


def _relaxed(column: pa.Column, checks: list) -> pa.Column:
    """The column with only `checks`, blanks and repeats allowed (SQL counts those over every row)."""
    out = column.set_checks(checks)
    out.nullable, out.unique = True, False
    return out


def _run(schema: pa.DataFrameSchema, frame: pd.DataFrame, skip) -> list[ContractProblem]:
    try:
        schema.validate(frame, lazy=True)
    except pa_errors.SchemaErrors as exc:
        fc = exc.failure_cases.copy()
        fc["column"] = fc["column"].where(fc["column"].notna(), None)
        out = []
        for (column, check), group in fc.groupby(["column", "check"], sort=True, dropna=False):
            if check in skip:
                continue
            rows = pd.to_numeric(group["index"], errors="coerce").dropna().astype(int).tolist()
            out.append(ContractProblem(column if isinstance(column, str) and column else None, check, len(group),
                                       sorted(rows)[:EXAMPLES], group["failure_case"].head(EXAMPLES).tolist()))
        return out
    return []
