"""Bad input records a failed check, writes nothing and leaves the previous good tables in place."""

import duckdb
import pandas as pd

from elv_assets.contracts.tables import SilverAdsets
from elv_assets.lakehouse.warehouse import contract_problems
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


def test_the_contract_names_the_column_rule_and_row_of_a_staged_table(tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("CREATE SCHEMA silver")
    good = "SELECT 'as1' AS adset_id, 20.0 AS daily_budget, 'on_pace' AS pacing_status, 'On track' AS pacing_status_raw, " \
           "NULL::DATE AS start_date, NULL::DATE AS end_date"
    con.execute(f"CREATE TABLE silver._stage_adsets AS {good} UNION ALL {good.replace('on_pace', 'sideways').replace('as1', 'as2')}")

    [problem] = contract_problems(con, SilverAdsets, "silver._stage_adsets")

    assert problem.describe("silver.adsets") == (
        "silver.adsets, column pacing_status: fails contract check isin(['under_pacing', 'on_pace', 'over_pacing', "
        "'unknown']) (1 row); e.g. line 3 ['sideways']")
    con.execute(f"CREATE OR REPLACE TABLE silver._stage_adsets AS {good}")
    assert contract_problems(con, SilverAdsets, "silver._stage_adsets") == []


def test_a_declared_table_that_fails_its_contract_keeps_the_previous_one(tiny_settings):
    """The declaration's gate, end to end: a build whose staged rows break the contract writes nothing."""
    import dagster as dg

    from elv_assets.build import Built
    from elv_assets.defs.declare import table_asset
    from elv_assets.defs.resources import build_resources

    good = "SELECT 'as1' AS adset_id, 20.0 AS daily_budget, 'on_pace' AS pacing_status, NULL AS pacing_status_raw, " \
           "NULL::DATE AS start_date, NULL::DATE AS end_date"
    rows = {"sql": good}

    def build(b):
        b.stage(rows["sql"])
        return Built()

    asset = table_asset("silver/adsets", build, contract=SilverAdsets, description="a test declaration")
    resources = build_resources(tiny_settings)
    assert dg.materialize([asset], resources=resources).success
    rows["sql"] = good.replace("on_pace", "sideways")
    result = dg.materialize([asset], resources=resources, raise_on_error=False)
    assert not result.success
    check = check_results(result)[("silver/adsets", "contract")]
    assert not check.passed and "column pacing_status: fails contract check isin" in check.metadata["problems"].value
    assert query(tiny_settings, "SELECT pacing_status FROM silver.adsets").pacing_status.tolist() == ["on_pace"]
    staged = query(tiny_settings, "SELECT count(*) n FROM information_schema.tables WHERE table_name LIKE '\\_%' ESCAPE '\\'")
    assert staged.n.item() == 0
