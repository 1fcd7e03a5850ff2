"""How the pages say things: money in the snapshot's currency, changes, "not computed yet", summaries, charts and
tables (money as −£187, a missing value as an em dash, never "None" or "nan")."""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboard.summaries import summarise

SYMBOLS = {"GBP": "£", "EUR": "€", "USD": "$", "AUD": "A$", "CAD": "C$", "JPY": "¥", "INR": "₹"}
BAND_COLOURS = {"stable": "#2e7d32", "moderate": "#f9a825", "major": "#c62828"}
NONE = "—"  # a missing figure, in sentences and in tables
MINUS = "\u2212"  # the minus sign, before the currency sign: −£187


def missing(value) -> bool:
    return value is None or (isinstance(value, float) and not math.isfinite(value))


def symbol(currency: str) -> str:
    """The sign of a currency code (GBP: £), or "" when there is no code or no sign known for it."""
    return SYMBOLS.get(currency.upper(), "") if currency else ""


def money(value, currency: str, decimals: int = 0) -> str:
    """−£187, £1,234, −187 SEK: the sign first, then the currency's sign (or its code after the amount)."""
    if missing(value):
        return NONE
    value = round(float(value), decimals)  # no −£0 for −0.4
    sign, sym = MINUS if value < 0 else "", symbol(currency)
    amount = f"{abs(value):,.{decimals}f}"
    if sym:
        return f"{sign}{sym}{amount}"
    return f"{sign}{amount} {currency}".strip()


def signed_money(value, currency: str, decimals: int = 0) -> str:
    if missing(value):
        return NONE
    return ("+" if round(float(value), decimals) >= 0 else "") + money(value, currency, decimals)


def number(value, decimals: int = 0) -> str:
    return NONE if missing(value) else f"{value:,.{decimals}f}"


def signed(value, decimals: int = 1) -> str:
    return NONE if missing(value) else f"{value:+,.{decimals}f}"


def percent(value, decimals: int = 0) -> str:
    return NONE if missing(value) else f"{value:.{decimals}%}"


def ratio(numerator, denominator):
    """numerator / denominator, or None when either is missing or the denominator is 0."""
    if missing(numerator) or missing(denominator) or not denominator:
        return None
    return numerator / denominator


def change(current, previous) -> float | None:
    """Relative change from previous to current, or None when it cannot be said."""
    if missing(current) or missing(previous) or previous == 0:
        return None
    return current / previous - 1


def not_computed(what: str, why: str = "") -> None:
    """The state of a part whose data is not in the snapshot: never a traceback."""
    st.info(f"**{what}: not computed yet.** {why or 'The pipeline has not produced it; it appears after the next run.'}",
            icon="⏳")


NEEDS_CRM = "needs CRM data: add leads.csv and outcomes.csv"
NEEDS_ADS = "needs ad-platform data: add ads.csv (and adsets.csv for budgets)"


def needs_crm(subject: str, why: str = "") -> None:
    """The state of a part about leads when the data folder has no CRM leads (an ad export alone). `subject` is
    singular: "This page", "The lead model"."""
    st.info(f"**{subject} {NEEDS_CRM}** to the data folder, then run the pipeline again. {why}".rstrip(), icon="📇")


def needs_ads(subject: str, why: str = "") -> None:
    """The state of a part about spend or budgets when the data folder has no ad-platform export (CRM files
    alone). `subject` is singular."""
    st.info(f"**{subject} {NEEDS_ADS}** to the data folder, then run the pipeline again. {why}".rstrip(), icon="📣")


def summary(topic: str, aggregates: dict, fallback: str) -> None:
    """One or two sentences under a chart: the language model's when configured and usable, else the rule's.
    Only aggregates go in, never lead-level rows."""
    result = summarise(topic, aggregates, fallback)
    note = "AI summary" if result.source == "llm" else "Summary"
    st.caption(f"**{note}:** {result.text}")


def layout(fig: go.Figure, height: int = 360, **kw) -> go.Figure:
    fig.update_layout(height=height, margin={"l": 10, "r": 10, "t": 50, "b": 10},
                      legend={"orientation": "h", "yanchor": "top", "y": -0.12, "x": 0}, **kw)
    return fig


def chart(fig: go.Figure, key: str, height: int = 360, **kw) -> None:
    st.plotly_chart(layout(fig, height, **kw), key=key, config={"displaylogo": False})


class MoneyColumn(dict):
    """A number column's configuration that knows its currency and decimals, so `table` can write its cells as
    −£187: a printf format (the column's own) can only write £-187."""

    def __init__(self, config: dict, currency: str, decimals: int):
        super().__init__(config)
        self.currency, self.decimals = currency, decimals


def money_column(label: str, currency: str, decimals: int = 0, help: str | None = None) -> MoneyColumn:
    sym = symbol(currency)
    fmt = f"{sym}%,.{decimals}f" if sym else f"%,.{decimals}f {currency}".rstrip()
    return MoneyColumn(st.column_config.NumberColumn(label, format=fmt, help=help), currency, decimals)


def count_column(label: str, decimals: int = 0, help: str | None = None):
    return st.column_config.NumberColumn(label, format=f"%,.{decimals}f" if decimals else "%,d", help=help)


def percent_column(label: str, help: str | None = None):
    return st.column_config.ProgressColumn(label, format="percent", min_value=0.0, max_value=1.0, help=help)


MISSING_WORDS = frozenset({"none", "nan", "<na>", "nat", "null"})  # a missing value written out as text upstream


def _blank_missing_words(frame: pd.DataFrame) -> pd.DataFrame:
    words = frame.select_dtypes(include=["object", "string"])
    if words.empty:
        return frame
    said = words.apply(lambda col: col.map(lambda v: isinstance(v, str) and v.strip().lower() in MISSING_WORDS))
    if not said.to_numpy().any():
        return frame
    out = frame.copy()
    out[words.columns] = words.mask(said)
    return out


def _plain_number(value) -> str:
    """A number as the table would show it without a Styler: at most 4 decimals, no trailing zeros."""
    if missing(value):
        return NONE
    if isinstance(value, float):
        return f"{value:,.4f}".rstrip("0").rstrip(".")
    return f"{value:,}"


def table(frame, column_config: dict | None = None, **kwargs) -> None:
    """st.dataframe as every page shows a table: a missing value is an em dash, never "None" or "nan", and money
    columns read −£187 while they still sort as numbers. A printf format can only write £-187, so money cells are
    written by `money` through a pandas Styler, and their columns lose their own format (it would win)."""
    frame = _blank_missing_words(frame if isinstance(frame, pd.DataFrame) else pd.DataFrame(frame))
    config = dict(column_config or {})
    money_cols = {c: cfg for c, cfg in config.items() if isinstance(cfg, MoneyColumn) and c in frame.columns}
    data = frame
    if money_cols:
        # a Styler writes every cell; the columns whose configuration has a format show that instead
        numbers = [c for c in frame.select_dtypes("number").columns if c not in money_cols]
        data = frame.style.format(na_rep=NONE)
        if numbers:
            data = data.format(_plain_number, subset=numbers)
        for col, cfg in money_cols.items():
            data = data.format(lambda v, c=cfg: money(v, c.currency, c.decimals), subset=[col])
            config[col] = {**cfg, "type_config": {**cfg["type_config"], "format": None}}
    st.dataframe(data, column_config=config, placeholder=NONE, **kwargs)
