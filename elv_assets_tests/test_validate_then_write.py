"""Bad input records a failed check, writes nothing and leaves the previous good tables in place."""

import dagster as dg
import duckdb
import pandas as pd

from elv_assets.contracts.tables import SilverAdsets
from elv_assets.defs.publishing import gate_and_swap
from elv_assets_tests.helpers import check_results, materialize_all, query
from elv_assets_tests.tiny_world import LEADS


def test_bad_leads_file_keeps_previous_bronze_and_gold(tiny_settings):
    assert materialize_all(tiny_settings).success
    before_bronze = query(tiny_settings, "SELECT * EXCLUDE (_loaded_at) FROM bronze.leads")
    before_gold = query(tiny_settings, "SELECT * FROM gold.adset_daily")

    (tiny_settings.data_dir / "leads.csv").write_text(
        LEADS + "L6,not a date,c1,as1,ad1,,,,long,mobile\nL7,2025-03-04 10:00:00,c1,as1,ad1,,,,long,mobile\n"
    )
    result = materialize_all(tiny_settings)
    assert not result.success

    check = check_results(result)[("bronze/leads", "input_contract")]
    assert not check.passed
    problems = check.metadata["problems"].value
    assert "leads.csv, column created_at: unparseable date (1 row); e.g. line 8 ['not a date']" in problems

    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert "the previous table stays" in failure.event_specific_data.error.message

    pd.testing.assert_frame_equal(query(tiny_settings, "SELECT * EXCLUDE (_loaded_at) FROM bronze.leads"), before_bronze)
    pd.testing.assert_frame_equal(query(tiny_settings, "SELECT * FROM gold.adset_daily"), before_gold)
    staged = query(tiny_settings, "SELECT count(*) AS n FROM information_schema.tables WHERE table_name LIKE '\\_%' ESCAPE '\\'")
    assert staged.n.item() == 0  # no staging or load tables left behind


def test_gate_rejects_a_staged_table_and_keeps_the_old_one(tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("CREATE SCHEMA silver")
    good = "SELECT 'as1' AS adset_id, 20.0 AS daily_budget, 'on_pace' AS pacing_status, 'On track' AS pacing_status_raw, " \
           "NULL::DATE AS start_date, NULL::DATE AS end_date"
    con.execute(f"CREATE TABLE silver.adsets AS {good}")
    con.execute(f"CREATE TABLE silver._stage_adsets AS {good.replace('on_pace', 'sideways')}")

    gate = gate_and_swap(con, SilverAdsets, "silver._stage_adsets", "silver.adsets")

    assert isinstance(gate.check, dg.AssetCheckResult) and not gate.check.passed
    assert "column pacing_status: fails contract check isin" in gate.failure
    assert "['sideways']" in gate.failure
    assert con.execute("SELECT pacing_status FROM silver.adsets").fetchall() == [("on_pace",)]
    assert con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = '_stage_adsets'").fetchall() == [(0,)]
