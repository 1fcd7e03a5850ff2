"""Typing raw text: dates (ISO, UK day-first, ambiguous, garbage), numbers and the CSV sniffer."""

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from elv_assets.contracts.inputs import ColumnSpec
from elv_assets.lakehouse.ingest import (
    LINE_COLUMN,
    UnreadableFile,
    date_problem_sql,
    load_raw,
    number_sql,
    parse_timestamp_sql,
    sniff,
    typed_expr,
)


def _eval(expr: str, value: str | None):
    con = duckdb.connect()
    return con.execute(f"SELECT {expr} FROM (SELECT ?::VARCHAR AS v)", [value]).fetchall()[0][0]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2025-03-31", dt.datetime(2025, 3, 31)),
        ("2025-03-31 14:05", dt.datetime(2025, 3, 31, 14, 5)),
        ("2025-03-31T14:05:09Z", dt.datetime(2025, 3, 31, 14, 5, 9)),
        ("2025/03/31", dt.datetime(2025, 3, 31)),
        ("31/03/2025", dt.datetime(2025, 3, 31)),
        ("01/02/2025", dt.datetime(2025, 2, 1)),  # day first: 1 February, not 2 January
        ("1/2/2025 09:30", dt.datetime(2025, 2, 1, 9, 30)),
        ("31.03.2025", dt.datetime(2025, 3, 31)),
        (" 31-03-2025 14:05:09 ", dt.datetime(2025, 3, 31, 14, 5, 9)),
    ],
)
def test_accepted_date_forms_parse(text, expected):
    assert _eval(parse_timestamp_sql("v"), text) == expected
    assert _eval(date_problem_sql("v"), text) is None


@pytest.mark.parametrize(
    "text, why",
    [
        ("03/04/25", "ambiguous: two-digit year"),
        ("04/25/2025", "ambiguous: looks month-first"),
        ("2025-13-01", "unparseable date"),
        ("31/02/2025", "unparseable date"),
        ("yesterday", "unparseable date"),
        ("45123", "unparseable date"),  # an Excel serial number
    ],
)
def test_rejected_dates_say_why(text, why):
    assert _eval(parse_timestamp_sql("v"), text) is None
    assert _eval(date_problem_sql("v"), text).startswith(why)


def test_blank_date_is_null_not_a_problem():
    assert _eval(parse_timestamp_sql("v"), "  ") is None
    assert _eval(date_problem_sql("v"), "") is None


def test_decimal_comma_only_where_the_file_uses_it():
    assert _eval(number_sql("v", decimal_comma=True), "1,5") == 1.5
    assert _eval(number_sql("v", decimal_comma=False), "1,5") is None
    assert _eval(number_sql("v", decimal_comma=False), "NaN") is None
    assert _eval(number_sql("v", decimal_comma=False), " -2.50 ") == -2.5


def test_integer_columns_take_whole_numbers_only():
    spec = ColumnSpec("v", "integer", True, False, "")
    assert _eval(typed_expr(spec, False), "12.0") == 12
    assert _eval(typed_expr(spec, False), "12.5") is None


def test_sniff_handles_bom_semicolon_and_decimal_comma(tmp_path: Path):
    path = tmp_path / "ads.csv"
    path.write_bytes("\ufeffdate;spend;clicks\n01/02/2025;1,5;3\n".encode())
    fmt = sniff(path)
    assert fmt.delimiter == ";"
    assert fmt.decimal_comma
    assert fmt.header == ("date", "spend", "clicks")


@pytest.mark.parametrize(
    "content, reason",
    [
        (b"", "the file is empty"),
        (b"PK\x03\x04\x00\x00binary", "not a CSV text file"),
        (b"just one column\nx\n", "only one column"),
        ("date,spend\n01/02/2025,\xa35\n".encode("latin-1"), "not UTF-8"),
    ],
)
def test_unreadable_files_get_one_line_reasons(tmp_path: Path, content: bytes, reason: str):
    path = tmp_path / "ads.csv"
    path.write_bytes(content)
    with pytest.raises(UnreadableFile, match=reason):
        sniff(path)


def test_a_header_only_file_loads_as_an_empty_table_with_its_columns(tmp_path: Path):
    path = tmp_path / "outcomes.csv"
    path.write_text("lead_id;qualified_at;revenue\n")
    con = duckdb.connect()
    assert load_raw(con, path, "raw", sniff(path)) == 0
    assert [r[0] for r in con.execute("DESCRIBE raw").fetchall()] == ["lead_id", "qualified_at", "revenue", "_line"]


@pytest.mark.parametrize("quoted_break", [False, True], ids=["parallel read", "a quoted line break"])
def test_large_files_load_with_every_row_on_its_own_line(tmp_path: Path, quoted_break: bool):
    """load_raw numbers the rows after the load (rowid + the header line): on a file large enough for DuckDB to read
    in several parallel pieces, every row still carries its own line. A value spanning two lines (a CRM note) in
    such a file used to fail the whole load ("could not be read as CSV"): DuckDB's parallel reader cannot pad short
    lines then, so the file is read on one thread."""
    import numpy as np

    path = tmp_path / "big.csv"
    n = 1_500_000
    ids = np.arange(2, n + 2)
    with path.open("w") as f:
        f.write("id,text\n")
        f.write("".join(f"{i},padding text for line {i}\n" for i in ids[:-1]))
        f.write(f'{ids[-1]},"two\nlines"\n' if quoted_break else f"{ids[-1]},last\n")
    assert path.stat().st_size > 40 * 2**20  # several of DuckDB's CSV buffers
    con = duckdb.connect()
    con.execute("SET threads = 2")
    assert load_raw(con, path, "raw", sniff(path)) == n
    wrong = con.execute(f"SELECT count(*) FROM raw WHERE CAST(id AS BIGINT) <> {LINE_COLUMN}").fetchall()[0][0]
    assert wrong == 0
    if quoted_break:
        assert con.execute("SELECT text FROM raw WHERE id = ?", [str(ids[-1])]).fetchall()[0][0] == "two\nlines"
