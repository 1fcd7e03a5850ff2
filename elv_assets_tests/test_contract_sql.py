"""Contracts checked in DuckDB report what pandera itself reports on the same rows."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pandera.errors as pa_errors
import pandera.pandas as pa
import pytest
from pandera.typing import Series

from elv_assets.contracts.sql import HEAD_ROWS, contract_problems_sql
from elv_assets.contracts.tables import LeadScores, SilverAds


class Rules(pa.DataFrameModel):
    lead_id: Series[str] = pa.Field(unique=True)
    amount: Series[float] = pa.Field(ge=0, le=100, nullable=True)
    share: Series[float] = pa.Field(in_range={"min_value": 0, "max_value": 1, "include_max": False})
    count: Series[pd.Int64Dtype] = pa.Field(gt=0, nullable=True)
    kind: Series[str] = pa.Field(isin=["a", "b"], nullable=True)
    code: Series[str] = pa.Field(str_matches=r"[A-Z]{2}\d", str_length={"max_value": 4}, nullable=True)
    odd: Series[float] = pa.Field(nullable=True)

    @pa.check("odd", name="not_seven")
    def not_seven(cls, s: pd.Series) -> pd.Series:  # no SQL form: pandera checks it on every row
        return s != 7

    @pa.dataframe_check(name="amount_below_count")
    def amount_below_count(cls, df: pd.DataFrame) -> pd.Series:
        return df["amount"].fillna(0) <= df["count"].fillna(1000).astype(float) * 100


def _frame(n: int = 3000) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    df = pd.DataFrame({
        "lead_id": [f"L{i}" for i in range(n)],
        "amount": rng.uniform(0, 100, n),
        "share": rng.uniform(0, 0.99, n),
        "count": pd.array(rng.integers(1, 5, n), dtype="Int64"),
        "kind": rng.choice(["a", "b"], n).astype(object),
        "code": rng.choice(["AB1", "XY9"], n).astype(object),
        "odd": rng.uniform(0, 5, n),
    })
    late = HEAD_ROWS + 500  # past the rows pandera reads for dtypes: only the SQL side can see these
    df.loc[[5, late], "amount"] = [-1.0, 150.0]
    df.loc[[7, late + 1], "share"] = [1.0, -0.5]
    df.loc[late + 2, "count"] = 0
    df.loc[[9, late + 3], "kind"] = ["c", "A"]
    df.loc[late + 4, "code"] = "ab1"
    df.loc[late + 5, "code"] = "AB12345"
    df.loc[[11, late + 6], "lead_id"] = ["L3", "L3"]
    df.loc[late + 7, "odd"] = 7.0
    df.loc[late + 8, ["amount", "count"]] = [90.0, pd.NA]
    df.loc[late + 9, "share"] = np.nan  # not nullable
    return df


def _pandera(model, df: pd.DataFrame) -> dict[tuple, int]:
    try:
        model.validate(df, lazy=True)
    except pa_errors.SchemaErrors as exc:
        fc = exc.failure_cases
        return {(c if isinstance(c, str) else None, k): len(g)
                for (c, k), g in fc.groupby([fc["column"].where(fc["column"].notna(), None), "check"], dropna=False)}
    return {}


def test_sql_rules_report_what_pandera_reports_on_every_row():
    df = _frame()
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT * FROM df")
    problems = contract_problems_sql(con, Rules, "t")
    got = {(p.column, p.check): p.count for p in problems}
    assert got == _pandera(Rules, df)
    amount = next(p for p in problems if p.check == "less_than_or_equal_to(100)")
    assert amount.rows == [HEAD_ROWS + 500] and amount.values == [150.0]
    dup = next(p for p in problems if p.check == "field_uniqueness")
    assert dup.rows == [3, 11, HEAD_ROWS + 506] and dup.values == ["L3", "L3", "L3"]


def test_a_passing_table_has_no_problems_and_a_wrong_type_is_named():
    df = _frame().iloc[:20].drop_duplicates("lead_id")
    df = df[(df["amount"].between(0, 100)) & df["share"].between(0, 0.999) & df["kind"].isin(["a", "b"])]
    con = duckdb.connect()
    con.execute("CREATE TABLE ok AS SELECT * FROM df")
    assert contract_problems_sql(con, Rules, "ok") == []
    con.execute("CREATE TABLE wrong AS SELECT * REPLACE (CAST(amount AS VARCHAR) AS amount) FROM df")
    checks = {(p.column, p.check) for p in contract_problems_sql(con, Rules, "wrong")}
    assert ("amount", "dtype('float64')") in checks


@pytest.mark.parametrize("model", [SilverAds, LeadScores])
def test_real_contracts_compile_every_value_rule(model):
    """The project's contracts: every column rule but custom ones has a SQL form (nothing falls back to pandas
    for a whole column), so validating a large gold table never fetches it."""
    from elv_assets.contracts.sql import compiled

    schema = model.to_schema()
    rules = [k for c in schema.columns.values() for k in c.checks]
    assert rules and all(compiled(k) for k in rules)
