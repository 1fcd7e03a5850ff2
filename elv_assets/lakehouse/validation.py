"""The friendly validation report: is a data folder fit to load, and if not, exactly why.

`inspect_file` loads one CSV into a raw DuckDB table and checks it against its input contract;
`validate_folder` does every file plus the cross-file checks. `elv validate` prints the report,
and the bronze assets use the same function before they write, so a person sees the same words
in the terminal and in the Dagster UI. Errors block loading; warnings are fixed or counted in
silver and shown in the data-quality report.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb

from elv_assets.contracts.inputs import (
    INPUT_FILES,
    LEAD_SOURCE_COLUMNS,
    InputFile,
    column_specs,
)
from elv_assets.contracts.sql import contract_problems_sql
from elv_assets.lakehouse.ingest import (
    LINE_COLUMN,
    UnreadableFile,
    load_raw,
    problem_expr,
    quote_ident,
    sniff,
    typed_select,
)

EXAMPLES = 5


def plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


@dataclass
class Problem:
    severity: str  # "error" blocks loading; "warning" is fixed or counted downstream
    rule: str
    column: str | None = None
    count: int = 0
    lines: list[int] = field(default_factory=list)
    examples: list[str] = field(default_factory=list)

    def describe(self, file: str) -> str:
        where = f"{file}, column {self.column}" if self.column else file
        text = f"{where}: {self.rule}"
        if self.count:
            text += f" ({plural(self.count, 'row')})"
        if self.lines:
            text += "; e.g. line " + ", ".join(str(n) for n in self.lines)
        if self.examples:
            text += " [" + ", ".join(repr(v) for v in self.examples) + "]"
        return text


@dataclass
class FileReport:
    file: str
    required: bool
    present: bool = False
    if_absent: str = ""  # what the results lack when an optional file is absent
    rows: int = 0
    columns: list[str] = field(default_factory=list)
    delimiter: str | None = None
    decimal_comma: bool = False
    null_pct: dict[str, float] = field(default_factory=dict)
    date_range: dict[str, list[str]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def blocking(self) -> bool:
        return bool(self.errors)

    def add(self, severity: str, rule: str, column: str | None = None, **kw) -> None:
        self.problems.append(Problem(severity, rule, column, **kw))

    def to_text(self) -> str:
        if not self.present:
            state = "MISSING (required)" if self.required else "absent (optional)"
            lines = [f"{self.file}: {state}"]
            if self.if_absent and not self.required:
                lines.append(f"  without it: {self.if_absent}")
        else:
            verdict = "ERRORS" if self.blocking else ("ok with warnings" if self.problems else "ok")
            lines = [f"{self.file}: {plural(self.rows, 'row')}, {plural(len(self.columns), 'column')}: {verdict}"]
            for col, (lo, hi) in self.date_range.items():
                lines.append(f"  date range {col}: {lo} to {hi}")
            nulls = {c: p for c, p in self.null_pct.items() if p > 0}
            if nulls:
                lines.append("  nulls: " + ", ".join(f"{c} {p:.1f}%" for c, p in nulls.items()))
        for p in self.problems:
            lines.append(f"  {p.severity.upper()}: {p.describe(self.file)}")
        return "\n".join(lines)


@dataclass
class ValidationReport:
    data_dir: str
    files: dict[str, FileReport]
    cross_file: list[Problem] = field(default_factory=list)

    @property
    def blocking(self) -> bool:
        return any(f.blocking for f in self.files.values()) or any(p.severity == "error" for p in self.cross_file)

    def to_dict(self) -> dict:
        return {
            "data_dir": self.data_dir,
            "ok": not self.blocking,
            "capabilities": [{"data": what, "gives": gives} for what, gives in capabilities(self.files)],
            "files": {
                name: {**asdict(r), "blocking": r.blocking} for name, r in self.files.items()
            },
            "cross_file": [asdict(p) for p in self.cross_file],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, default=str)

    def to_text(self) -> str:
        parts = [f"Validating {self.data_dir}", ""]
        parts += [r.to_text() for r in self.files.values()]
        if self.cross_file:
            parts += ["", "across files:"]
            parts += [f"  {p.severity.upper()}: {p.describe('')[2:]}" for p in self.cross_file]
        usable = capabilities(self.files)
        if usable:
            parts += ["", "what this folder supports:"]
            parts += [f"  {what}: {gives}" for what, gives in usable]
        n_err = sum(len(r.errors) for r in self.files.values()) + sum(p.severity == "error" for p in self.cross_file)
        n_warn = sum(len(r.warnings) for r in self.files.values()) + sum(p.severity == "warning" for p in self.cross_file)
        parts += ["", f"{'FAILED' if self.blocking else 'PASSED'}: {n_err} error(s), {n_warn} warning(s)"]
        return "\n".join(parts)


def inspect_file(con: duckdb.DuckDBPyConnection, spec: InputFile, path: Path, raw_table: str) -> FileReport:
    """Load `path` into `raw_table` (text cells plus line numbers) and check it against its contract."""
    report = FileReport(file=spec.filename, required=spec.required, if_absent=spec.if_absent)
    if not path.exists():
        if spec.required:
            report.add("error", f"required file not found in {path.parent}")
        return report
    report.present = True
    try:
        fmt = sniff(path)
        report.rows = load_raw(con, path, raw_table, fmt)
    except UnreadableFile as exc:
        report.add("error", str(exc).split(": ", 1)[1])
        return report
    report.delimiter, report.decimal_comma = fmt.delimiter, fmt.decimal_comma
    present = [r[0] for r in con.execute(f"DESCRIBE {raw_table}").fetchall() if r[0] != LINE_COLUMN]
    report.columns = present
    specs = column_specs(spec.model)

    missing = [n for n, s in specs.items() if s.required and n not in present]
    if missing:
        report.add("error", "missing required column(s): " + ", ".join(missing) + f"; found: {', '.join(present)}")
    if spec.name == "leads" and not any(c in present for c in LEAD_SOURCE_COLUMNS):
        report.add("error", "no column ties a lead to the ads; give at least one of: " + ", ".join(LEAD_SOURCE_COLUMNS))
    _extra_cells(con, report, raw_table, present, fmt.header)
    if report.rows == 0:
        report.add("warning", "header only: no rows yet (loaded as an empty table)")
        return report
    _profile(con, report, raw_table, present)
    _type_problems(con, report, raw_table, specs, present, fmt.decimal_comma)
    if missing:
        return report

    # The typed rows as a view: each check below types only the columns it reads. `_content` is a hash of the
    # line's cells as written, for the exact-duplicate count.
    typed = f"_typed_{spec.name}"
    content = f"hash({', '.join(quote_ident(c) for c in present)}) AS _content"
    con.execute(f"CREATE OR REPLACE TEMP VIEW {typed} AS "
                f"{typed_select(raw_table, specs, present, fmt.decimal_comma, also=(content,))}")
    try:
        _blank_required(con, report, raw_table, specs, present)
        _date_ranges(con, report, typed, specs, present)
        _duplicates(con, report, typed, spec)
        _file_rules(con, report, spec.name, typed, present)
        _pandera(con, report, spec, typed)
    finally:
        con.execute(f"DROP VIEW IF EXISTS {typed}")
    return report


def _examples(con, table: str, where: str, value_col: str | None) -> tuple[int, list[int], list[str]]:
    value = f"list({quote_ident(value_col)} ORDER BY {LINE_COLUMN})[1:{EXAMPLES}]" if value_col else "[]"
    n, lines, values = con.execute(
        f"SELECT count(*), list({LINE_COLUMN} ORDER BY {LINE_COLUMN})[1:{EXAMPLES}], {value} FROM {table} WHERE {where}"
    ).fetchall()[0]
    return n, lines or [], [str(v) for v in (values or [])]


def _profile(con, report: FileReport, raw_table: str, present: list[str]) -> None:
    sel = ", ".join(f"avg(CASE WHEN NULLIF(trim({quote_ident(c)}), '') IS NULL THEN 100.0 ELSE 0 END)" for c in present)
    row = con.execute(f"SELECT {sel} FROM {raw_table}").fetchall()[0]
    report.null_pct = {c: round(float(v), 2) for c, v in zip(present, row, strict=True)}


def _type_problems(con, report, raw_table, specs, present, decimal_comma) -> None:
    """Cells that do not type (dates, numbers), per column and reason, with example lines."""
    exprs = {n: problem_expr(s, decimal_comma) for n, s in specs.items() if n in present}
    exprs = {n: e for n, e in exprs.items() if e}
    if not exprs:
        return
    cols = ", ".join(f"{e} AS {quote_ident(n)}" for n, e in exprs.items())
    con.execute(f"CREATE OR REPLACE TEMP TABLE _problems AS SELECT {LINE_COLUMN}, {cols} FROM {raw_table}")
    # One pass for the counts; examples only for the (few) columns that have problems.
    counts = con.execute(
        "SELECT " + ", ".join(f"count({quote_ident(n)})" for n in exprs) + " FROM _problems"
    ).fetchall()[0]
    for (name, _), n in zip(exprs.items(), counts, strict=True):
        if not n:
            continue
        for (why,) in con.execute(
            f"SELECT DISTINCT {quote_ident(name)} FROM _problems WHERE {quote_ident(name)} IS NOT NULL ORDER BY 1"
        ).fetchall():
            joined = f"(SELECT r.*, p.{quote_ident(name)} AS _why FROM {raw_table} r JOIN _problems p USING ({LINE_COLUMN}))"
            count, lines, values = _examples(con, joined, f"_why = '{why}'", name)
            report.add("error", why, name, count=count, lines=lines, examples=values)
    con.execute("DROP TABLE _problems")


def _blank_required(con, report, raw_table, specs, present) -> None:
    for name, s in specs.items():
        if name in present and not s.nullable:
            n, lines, _ = _examples(con, raw_table, f"NULLIF(trim({quote_ident(name)}), '') IS NULL", None)
            if n:
                report.add("error", "required value is blank", name, count=n, lines=lines)


def _date_ranges(con, report, typed, specs, present) -> None:
    for name, s in specs.items():
        if name in present and s.kind in ("date", "timestamp"):
            lo, hi = con.execute(f"SELECT min({quote_ident(name)}), max({quote_ident(name)}) FROM {typed}").fetchall()[0]
            if lo is not None:
                report.date_range[name] = [str(lo), str(hi)]


def _duplicates(con, report, typed, spec: InputFile) -> None:
    """Exact duplicate rows, and keys with different values, in one grouping by the key: identical lines share
    their key, so per key the lines beyond its distinct contents are exact duplicates, and a key with more than one
    distinct content is a conflict (contents compared by a 64-bit hash of the line's cells as written, `_content`:
    the key is typed, as silver deduplicates on it, the contents need not be)."""
    exact, conflicts, examples = con.execute(
        f"""SELECT coalesce(sum(n - d), 0), count(*) FILTER (d > 1), list(k ORDER BY k) FILTER (d > 1)[1:{EXAMPLES}]
            FROM (SELECT concat_ws(' | ', {spec.key_sql}) k, count(*) n, count(DISTINCT _content) d
                  FROM {typed} GROUP BY {spec.key_sql})"""
    ).fetchall()[0]
    if exact:
        report.add("warning", "exact duplicate rows (silver keeps one)", count=int(exact))
    # The key silver deduplicates on, so the report counts exactly the rows silver will drop.
    if conflicts:
        report.add(
            "warning",
            f"the same key ({', '.join(spec.keys)}) with different values (silver keeps the last line)",
            count=int(conflicts),
            examples=[str(v) for v in examples],
        )


def _extra_cells(con, report, raw_table, present, header) -> None:
    """Lines with more cells than the header: DuckDB names the surplus column13, column14, ..."""
    extra = [c for c in present if c not in header and c.startswith("column") and c[6:].isdigit()]
    if extra:
        where = " OR ".join(f"{quote_ident(c)} IS NOT NULL" for c in extra)
        n, lines, _ = _examples(con, raw_table, where, None)
        report.add("error", f"more cells than the header has columns ({len(header)}); is a value "
                   "with the separator in it missing its quotes?", count=n, lines=lines)
        for c in extra:
            present.remove(c)


def _file_rules(con, report, name, typed, present) -> None:
    if name == "leads":
        keys = [c for c in LEAD_SOURCE_COLUMNS if c in present]
        if keys:
            n, lines, _ = _examples(con, typed, " AND ".join(f"{quote_ident(c)} IS NULL" for c in keys), None)
            if n:
                report.add("warning", "lead with no id, UTM value or name to tie it to the ads (stays unattributed)",
                           count=n, lines=lines)
    if name == "ads":
        n, lines, values = _examples(con, typed, "spend < 0", "spend")
        if n:
            report.add("warning", "negative spend (set to 0 in silver)", "spend", count=n, lines=lines, examples=values)
        n, lines, _ = _examples(con, typed, "clicks > impressions", None)
        if n:
            report.add("warning", "more clicks than impressions", "clicks", count=n, lines=lines)
        if "currency" in present:
            currencies = [r[0] for r in con.execute(
                f"SELECT DISTINCT upper(currency) FROM {typed} WHERE currency IS NOT NULL ORDER BY 1"
            ).fetchall()]
            if len(currencies) > 1:
                report.add("error", "more than one currency; money must be in one currency", "currency",
                           examples=currencies[:EXAMPLES])


def _pandera(con, report: FileReport, spec: InputFile, typed: str) -> None:
    """The pandera contract itself (dtypes and value checks: ranges, allowed values, frame rules), checked in
    DuckDB over every row (contracts/sql.py); blank required values are reported above."""
    report.problems += contract_problems(con, spec.model, typed, line=LINE_COLUMN, skip=("not_nullable",))


def contract_problems(con, model, table: str, line: str | None = None, skip: tuple[str, ...] = (),
                      line_offset: int = 0) -> list[Problem]:
    """`table` against `model`'s contract as Problems with example lines (row numbers + `line_offset` when the
    table has no line column)."""
    return [Problem("error", f"fails contract check {p.check}", p.column, count=p.count,
                    lines=[r + line_offset for r in p.rows], examples=[_show(v) for v in p.values])
            for p in contract_problems_sql(con, model, table, line, skip)]


def _show(value) -> str:
    """A failing value as a person would type it (whole numbers without a trailing .0)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def cross_file_checks(con: duckdb.DuckDBPyConnection, tables: dict[str, str]) -> list[Problem]:
    """Checks between files, on raw tables keyed by input name (only those that loaded)."""
    problems = []

    def ids(table: str, col: str) -> str:
        return f"SELECT DISTINCT NULLIF(trim({col}), '') AS id FROM {table}"

    def has(name: str, col: str) -> bool:
        return name in tables and col in [r[0] for r in con.execute(f"DESCRIBE {tables[name]}").fetchall()]

    if has("leads", "adset_id") and has("ads", "adset_id"):
        n, examples = con.execute(
            f"""SELECT count(*), list(l.id ORDER BY l.id)[1:{EXAMPLES}] FROM ({ids(tables['leads'], 'adset_id')}) l
                WHERE l.id IS NOT NULL AND l.id NOT IN ({ids(tables['ads'], 'adset_id')} WHERE id IS NOT NULL)"""
        ).fetchall()[0]
        if n:
            problems.append(Problem("warning", "leads.csv names ad sets that ads.csv does not have", "adset_id",
                                    count=n, examples=examples))
    if has("outcomes", "lead_id") and has("leads", "lead_id"):
        n, lines = con.execute(
            f"""SELECT count(*), list({LINE_COLUMN} ORDER BY {LINE_COLUMN})[1:{EXAMPLES}] FROM {tables['outcomes']} o
                WHERE NULLIF(trim(o.lead_id), '') NOT IN ({ids(tables['leads'], 'lead_id')} WHERE id IS NOT NULL)"""
        ).fetchall()[0]
        if n:
            problems.append(Problem("warning", "outcomes.csv has leads that leads.csv does not (ignored)", "lead_id",
                                    count=n, lines=lines))
    return problems


# What each combination of files makes possible, in the order a marketer reads it: (what, needs, gives).
CAPABILITIES = (
    ("leads and outcomes", ("leads", "outcomes"), "lead model, ELV per lead, campaign boards ranked by ELV"),
    ("leads without outcomes", ("leads", "!outcomes"), "leads attributed and counted; the lead model waits for "
                                                        "outcomes"),
    ("ads", ("ads",), "spend, CPL, ROAS, CTR, CPM, ad features, spend response, next-day forecasts"),
    ("ads and leads", ("ads", "leads"), "ELV per spend, ad-set boards, budget moves by ELV"),
    ("ads without leads", ("ads", "!leads"), "spend response and budget moves on platform-reported conversions"),
    ("adsets", ("ads", "adsets"), "pacing risk against the daily budgets"),
    ("ads without adsets", ("ads", "!adsets"), "pacing risk against each ad set's usual spend (no budgets)"),
    ("conversions", ("conversions",), "platform-reported conversions and their value"),
)


def capabilities(files: dict[str, FileReport]) -> list[tuple[str, str]]:
    """(what the folder holds, what that makes possible) for every combination that applies."""
    has = {name: r.present and r.rows > 0 and not r.blocking for name, r in files.items()}
    out = []
    for what, needs, gives in CAPABILITIES:
        if all((not has.get(n[1:], False)) if n.startswith("!") else has.get(n, False) for n in needs):
            out.append((what, gives))
    return out


def validate_folder(data_dir: Path | str) -> ValidationReport:
    """Check every input file of a data folder, in memory; nothing is written anywhere."""
    data_dir = Path(data_dir)
    con = duckdb.connect()
    files, loaded = {}, {}
    if not data_dir.is_dir():
        report = FileReport(file=str(data_dir), required=True)
        report.add("error", "data folder not found")
        return ValidationReport(str(data_dir), {"folder": report})
    for name, spec in INPUT_FILES.items():
        files[name] = inspect_file(con, spec, data_dir / spec.filename, f"raw_{name}")
        if files[name].present and files[name].rows and not files[name].blocking:
            loaded[name] = f"raw_{name}"
    cross = cross_file_checks(con, loaded)
    con.close()
    if not any(files[n].present and files[n].rows for n in ("ads", "leads")):
        cross.append(Problem("error", "nothing to load: the folder needs ads.csv (ad-platform export) or leads.csv "
                                      "(CRM export) with at least one row"))
    return ValidationReport(str(data_dir), files, cross)
