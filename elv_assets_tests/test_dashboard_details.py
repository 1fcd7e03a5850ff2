"""What the marketer reads and picks on the dashboard: money as −£187, tables without "None" or "nan", a "Select
all" of the campaigns that keeps the leads without a campaign, and upload caps that apply as soon as they change.

Driven by Streamlit's AppTest on the session's demo snapshot, like test_dashboard.py (whose helpers these use).
"""

from __future__ import annotations

import pandas as pd
import pytest
from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df

from dashboard import ui
from dashboard.filters import allowed_campaigns, effective_choice
from elv_assets_tests.test_dashboard import _head, amount, gold, metric, no_failure

PAGES = ["overview", "trends", "leaderboards", "pacing", "what_if", "leads", "model_health", "drift_quality"]
MISSING_TEXT = {"none", "nan", "<na>", "nat", "null"}


def shown(table) -> pd.DataFrame:
    """A table's cells as the browser writes them: the Styler's text where the page sends one, else the values."""
    styled = table.proto.arrow_data.styler.display_values
    return convert_arrow_bytes_to_pandas_df(styled) if styled else table.value


def table_with(at, column: str):
    found = [d for d in at.dataframe if column in d.value.columns]
    assert len(found) == 1, [list(d.value.columns) for d in at.dataframe]
    return found[0]


# --- money ----------------------------------------------------------------------------------------------------------


def test_money_puts_the_minus_sign_before_the_currency_sign():
    assert ui.money(-187.2, "GBP") == "\u2212£187"
    assert ui.money(1234.5, "EUR", 2) == "€1,234.50"
    assert ui.money(-187, "SEK") == "\u2212187 SEK"  # no sign known: the code after the amount
    assert ui.money(-0.4, "GBP") == "£0"  # rounds to nothing: no minus
    assert ui.signed_money(-187, "USD") == "\u2212$187" and ui.signed_money(187, "USD") == "+$187"
    assert ui.money(None, "GBP") == ui.money(float("nan"), "GBP") == ui.NONE == "—"


def test_money_columns_in_tables_read_minus_then_the_currency_sign(app, published):
    at = app(published.serving_dir, published.artifacts_dir, "pacing")
    no_failure(at)
    table = table_with(at, "budget_left_in_month")
    values, text = table.value["budget_left_in_month"], shown(table)["budget_left_in_month"]
    assert (values < 0).any()  # ad sets that spent more than their month's budget
    for value, said in zip(values, text, strict=True):
        assert said == ui.money(value, "GBP")
    assert text[values < 0].str.startswith("\u2212£").all() and not text.str.contains("£-").any()
    assert table.value["budget_left_in_month"].dtype.kind == "f"  # still numbers: the column sorts as money

    at = app(published.serving_dir, published.artifacts_dir, "what_if")
    no_failure(at)
    change = shown(table_with(at, "expected_elv_change"))["expected_elv_change"]
    assert change.str.startswith("\u2212£").any() and not change.str.contains("£-").any()


# --- no "None" or "nan" -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("page", PAGES)
def test_no_table_writes_none_or_nan_for_a_missing_value(app, published, page):
    at = app(published.serving_dir, published.artifacts_dir, page)
    no_failure(at)
    for table in at.dataframe:
        assert table.proto.placeholder == ui.NONE  # what the grid writes in an empty cell
        cells = shown(table)
        text = cells.select_dtypes(include=["object", "string"])
        words = text.apply(lambda col: col.map(lambda v: isinstance(v, str) and v.strip().lower() in MISSING_TEXT))
        assert not words.to_numpy().any(), (page, list(cells.columns), text[words.any(axis=1)].head())


def test_the_leaderboard_row_without_a_campaign_shows_dashes(app, published):
    board = gold(published, "campaign_leaderboard")
    assert board["spend"].isna().any()  # the leads no campaign could be found for: no spend to show
    at = app(published.serving_dir, published.artifacts_dir, "leaderboards")
    table = at.dataframe[0]  # the campaigns' board (the ad sets' comes second)
    assert list(table.value.columns[:1]) == ["campaign_name"]
    blank = table.value["spend"].isna()
    assert blank.any() and (shown(table).loc[blank, "spend"] == ui.NONE).all()


# --- the campaign filter's "Select all" -----------------------------------------------------------------------------


def test_choosing_every_option_narrows_nothing():
    cat = pd.DataFrame({"campaign_id": ["c1", "c2", "c3"], "platform": ["google", "google", "meta"]})
    assert effective_choice(cat, [], ["c1", "c2", "c3"]) == ((), ())
    assert allowed_campaigns(cat, *effective_choice(cat, [], ["c1", "c2", "c3"])) is None
    assert effective_choice(cat, ["google", "meta"], []) == ((), ())
    assert effective_choice(cat, ["google"], ["c1", "c2"]) == (("google",), ())  # all of google's: google
    assert allowed_campaigns(cat, ("google",), ()) == frozenset({"c1", "c2"})
    assert effective_choice(cat, [], ["c1", "c3"]) == ((), ("c1", "c3"))  # a real choice stays one


def test_select_all_campaigns_keeps_the_leads_without_a_campaign(app, published):
    scores = gold(published, "lead_scores")
    assert scores["campaign_id"].isna().any()  # the demo has leads no campaign could be found for
    at = app(published.serving_dir, published.artifacts_dir)
    everything = amount(metric(at, "Predicted ELV").value)
    picker = at.multiselect(key="flt_campaigns")
    picker.set_value(list(picker.options)).run()  # what the list's "Select all" does
    no_failure(at)
    assert amount(metric(at, "Predicted ELV").value) == everything
    assert "all campaigns" in at.caption[0].value


    at = app(published.serving_dir, published.artifacts_dir, "leads")
    every_lead = amount(metric(at, "Leads matching").value)
    picker = at.multiselect(key="flt_campaigns")
    picker.set_value(list(picker.options)).run()
    no_failure(at)
    assert amount(metric(at, "Leads matching").value) == every_lead


# --- upload caps ---------------------------------------------------------------------------------------------------


def test_a_changed_upload_cap_applies_to_files_already_checked(app, published, monkeypatch):
    monkeypatch.delenv("ELV_UPLOAD_MAX_ROWS", raising=False)
    at = app(published.serving_dir, published.artifacts_dir, "byod")
    at.file_uploader(key="byod_leads").set_value(("leads.csv", _head(published.data_dir / "leads.csv", 4),
                                                  "text/csv")).run()
    no_failure(at)
    assert amount(metric(at, "Leads scored").value) == 3

    monkeypatch.setenv("ELV_UPLOAD_MAX_ROWS", "2")  # the cap changes while the file is still uploaded
    at.run()
    assert not at.exception
    assert [e.value for e in at.error] == ["leads.csv has about 3 rows; the limit here is 2 rows per file. Score a "
                                           "larger file with `elv score` on the command line."]
    assert not at.metric and any("2 rows per file" in c.value for c in at.caption)

    monkeypatch.setenv("ELV_UPLOAD_MAX_ROWS", "10")
    at.run()
    no_failure(at)
    assert amount(metric(at, "Leads scored").value) == 3
