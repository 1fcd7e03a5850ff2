"""The whole graph in-process on the tiny world: silver rules, attribution, gold, data quality."""

import datetime as dt

import pytest

from elv_assets_tests.helpers import check_results, materialize_all, query


@pytest.fixture
def built(tiny_settings):
    result = materialize_all(tiny_settings)
    assert result.success
    return tiny_settings, result


def test_every_asset_materialises_and_every_contract_check_passes(built):
    settings, result = built
    checks = check_results(result)
    assert len(result.get_asset_materialization_events()) == 16
    contract_checks = {k: v for k, v in checks.items() if k[1] in ("contract", "input_contract")}
    assert len(contract_checks) == 16
    assert all(ev.passed for ev in contract_checks.values())


def test_negative_spend_is_zero_and_duplicates_go(built):
    settings, _ = built
    ads = query(settings, "SELECT * FROM silver.ads ORDER BY date, ad_id")
    assert len(ads) == 5  # six lines, one exact duplicate
    assert ads["spend"].min() == 0.0
    assert ads.loc[(ads.ad_id == "ad1") & (ads.date == "2025-03-02"), "spend"].item() == 0.0


def test_rates_are_recomputed_only_where_the_denominator_is_not_zero(built):
    settings, _ = built
    ads = query(settings, "SELECT * FROM silver.ads WHERE ad_id = 'ad2'")
    row = ads.iloc[0]
    assert row.ctr == 0.0 and row.cpm == 10.0
    assert row.cpc != row.cpc  # NaN: no clicks, no CPC


def test_pacing_status_spellings_are_normalised(built):
    settings, _ = built
    adsets = query(settings, "SELECT adset_id, pacing_status, pacing_status_raw FROM silver.adsets ORDER BY 1")
    assert adsets.values.tolist() == [["as1", "under_pacing", "Under pacing"], ["as2", "on_pace", "ON TRACK"]]


def test_conversions_are_lower_case_and_blank_values_zero(built):
    settings, _ = built
    conv = query(settings, "SELECT conversion_type, attribution_window, value FROM silver.conversions ORDER BY date")
    assert conv.values.tolist() == [["lead", "7d_click", 0.0], ["lead", "7d_click", 30.5]]


def test_rule_hits_reach_metadata_and_the_data_quality_report(built):
    settings, result = built
    mat = next(m for m in result.get_asset_materialization_events() if m.asset_key.to_user_string() == "silver/ads")
    meta = mat.materialization.metadata
    assert meta["rule/negative_spend_set_to_zero"].value == 1
    assert meta["rule/duplicate_rows_removed"].value == 1
    dq = query(settings, "SELECT check_name, hits FROM monitoring.data_quality_report "
                         "WHERE kind = 'rule' AND table_name = 'silver.adsets'")
    assert dict(dq.values.tolist())["pacing_status_respelled"] == 2


def test_join_order_is_ids_then_mapping_then_names(built):
    settings, _ = built
    att = query(settings, "SELECT lead_id, campaign_id, adset_id, join_method FROM gold.lead_attribution ORDER BY 1")
    assert att.fillna("-").values.tolist() == [
        ["L1", "c1", "as1", "id"],
        ["L2", "c1", "as1", "mapping"],  # utm_content resolved by mapping.csv
        ["L3", "c2", "-", "name"],  # '  BRAND search ' matches 'Brand Search'
        ["L4", "-", "-", "unmatched"],
        ["L5", "c2", "as2", "id"],
    ]


def test_ambiguous_name_is_reported_not_guessed(tmp_path):
    from elv_assets.settings import Settings
    from elv_assets_tests.tiny_world import ADS, write_tiny_world

    # A second campaign whose name normalises to the same text as 'Brand Search'.
    ads = ADS + "03/03/2025,Google,c3,Brand-Search,as3,Other,ad9,Text 9,1.00,100,1,GBP\n"
    folder = write_tiny_world(tmp_path / "raw", ads_csv=ads)
    settings = Settings(folder, tmp_path / "w.duckdb", tmp_path / "s", tmp_path / "a", "")
    assert materialize_all(settings).success
    row = query(settings, "SELECT * FROM gold.lead_attribution WHERE lead_id = 'L3'").iloc[0]
    assert row.join_method == "ambiguous"
    assert row.campaign_id is None
    assert "matches 2 campaigns" in row.join_detail


def test_match_rate_check_warns_below_ninety_percent(built):
    _, result = built
    check = check_results(result)[("gold/lead_attribution", "match_rate")]
    assert not check.passed  # 4 of 5 leads matched
    assert check.severity.value == "WARN"
    assert check.metadata["matched"].value == pytest.approx(0.8)


def test_adset_daily_joins_delivery_budget_and_crm(built):
    settings, result = built
    day = query(settings, "SELECT * FROM gold.adset_daily WHERE adset_id = 'as2' AND date = '2025-03-03'").iloc[0]
    assert (day.spend, day.leads, day.qualified, day.bookings, day.revenue) == (30.0, 1, 1, 1, 1200.0)
    assert day.roas == pytest.approx(40.0) and day.cpl == pytest.approx(30.0)
    assert day.pacing_ratio == pytest.approx(30 / 25)
    first = query(settings, "SELECT * FROM gold.adset_daily WHERE adset_id = 'as1' AND date = '2025-03-01'").iloc[0]
    assert first.leads == 2  # one by id, one through the mapping file
    assert first.platform_conversions == 2


def test_as_of_excludes_later_rows(tiny_settings):
    result = materialize_all(tiny_settings, run_config={"resources": {"run_window": {"config": {"as_of_date": "2025-03-02"}}}})
    assert result.success
    daily = query(tiny_settings, "SELECT max(date) AS last, sum(revenue) AS revenue FROM gold.adset_daily").iloc[0]
    assert str(daily["last"].date()) == "2025-03-02"
    assert daily.revenue == 0.0  # the only deal was won on 3 March
    dq = query(tiny_settings, "SELECT hits FROM monitoring.data_quality_report WHERE check_name = 'future_leads'")
    assert dq.hits.item() == 1


def test_data_quality_report_profiles_every_column(built):
    settings, _ = built
    prof = query(settings, "SELECT * FROM monitoring.data_quality_report WHERE kind = 'profile' "
                           "AND table_name = 'silver.leads' AND column_name = 'campaign_id'").iloc[0]
    assert prof.rows == 5 and prof.null_fraction == pytest.approx(0.6)


# --- a data folder of CRM exports only: leads.csv, outcomes.csv and mapping.csv, no ad-platform files ---

@pytest.fixture
def crm_only(tmp_path):
    from elv_assets.settings import Settings
    from elv_assets_tests.tiny_world import write_tiny_world

    crm = tmp_path / "crm_only"  # apart from the tiny_world fixture's folder, which has every file
    folder = write_tiny_world(crm / "raw", ads_csv=None, adsets_csv=None, conversions_csv=None)
    settings = Settings(folder, crm / "w.duckdb", crm / "s", crm / "a", "")
    result = materialize_all(settings)
    assert result.success
    return settings, result


def test_without_ads_the_whole_graph_materialises(crm_only):
    settings, result = crm_only
    contract_checks = {k: v for k, v in check_results(result).items() if k[1] in ("contract", "input_contract")}
    assert all(ev.passed for ev in contract_checks.values())
    metas = {m.asset_key.to_user_string(): m.materialization.metadata for m in result.get_asset_materialization_events()}
    for name in ("ads", "adsets", "conversions"):
        assert metas[f"bronze/{name}"]["file_present"].value is False
        assert metas[f"silver/{name}"]["file_present"].value is False
    assert metas["silver/leads"]["file_present"].value is True
    assert metas["gold/lead_attribution"]["as_of_date"].value == "2025-03-03"  # the latest lead


def test_without_ads_silver_ads_is_empty_with_the_contract_columns_and_types(crm_only, built):
    settings, _ = crm_only
    with_ads, _ = built
    schema = "SELECT column_name, column_type FROM (DESCRIBE silver.ads)"
    assert query(settings, "SELECT count(*) AS n FROM silver.ads").n.item() == 0
    assert query(settings, schema).values.tolist() == query(with_ads, schema).values.tolist()


def test_without_ads_leads_are_tied_by_their_own_ids_and_the_mapping_file(crm_only):
    settings, _ = crm_only
    att = query(settings, "SELECT lead_id, campaign_id, adset_id, ad_id, join_method, join_detail "
                          "FROM gold.lead_attribution ORDER BY 1")
    assert att.drop(columns="join_detail").fillna("-").values.tolist() == [
        ["L1", "c1", "as1", "ad1", "id"],
        ["L2", "c1", "as1", "-", "mapping"],
        ["L3", "brand search", "-", "-", "lead_field"],  # a name alone: the campaign is named by its (normalised) name
        ["L4", "unknown campaign", "-", "-", "lead_field"],
        ["L5", "c2", "as2", "ad3", "id"],
    ]
    assert att.join_detail[0] == "the lead's own ids, unchecked: no ads.csv rows to check them against"


def test_without_ads_names_and_fills_come_from_leads_that_carry_ids(tmp_path):
    from elv_assets.settings import Settings
    from elv_assets_tests.tiny_world import LEADS, write_tiny_world

    leads = (LEADS
             + "L6,2025-03-02 10:00:00,c2,as2,,,,Brand Search,long,mobile\n"  # teaches 'Brand Search' = c2
             + "L7,2025-03-02 11:00:00,,as2,,,,,long,mobile\n"  # ad set only: its campaign is filled
             + "L8,2025-03-02 12:00:00,c7,as7,,,,Unknown Campaign,long,mobile\n"  # teaches one name...
             + "L9,2025-03-02 13:00:00,c8,as8,,,,unknown-campaign,long,mobile\n")  # ...for two campaigns
    folder = write_tiny_world(tmp_path / "raw", ads_csv=None, adsets_csv=None, conversions_csv=None, leads_csv=leads)
    settings = Settings(folder, tmp_path / "w.duckdb", tmp_path / "s", tmp_path / "a", "")
    assert materialize_all(settings).success
    att = query(settings, "SELECT * FROM gold.lead_attribution").set_index("lead_id")
    assert (att.loc["L3", "campaign_id"], att.loc["L3", "join_method"]) == ("c2", "name")
    assert att.loc["L3", "join_detail"].endswith("(names taken from leads that carry ids; no ads.csv rows)")
    assert (att.loc["L7", "campaign_id"], att.loc["L7", "join_method"]) == ("c2", "id")
    assert att.loc["L4", "join_method"] == "ambiguous"
    assert att.loc["L4", "join_detail"].startswith("campaign_name=Unknown Campaign matches 2 campaigns")


def test_without_ads_adset_daily_has_the_crm_leads_and_unknown_spend(crm_only):
    settings, _ = crm_only
    daily = query(settings, "SELECT * FROM gold.adset_daily ORDER BY date, adset_id")
    assert daily.groupby("adset_id").leads.sum().to_dict() == {"as1": 2, "as2": 1}  # L1 by id, L2 by mapping; L5
    day = daily[(daily.adset_id == "as2") & (daily.date == "2025-03-03")].iloc[0]
    assert (day.campaign_id, day.leads, day.qualified, day.bookings, day.revenue) == ("c2", 1, 1, 1, 1200.0)
    # Unknown, not zero: spend and delivery are blank, and so is every ratio built on them.
    assert daily.spend.isna().all() and daily.impressions.isna().all() and daily.clicks.isna().all()
    for ratio in ("ctr", "cpc", "cpm", "pacing_ratio", "roas", "cpl"):
        assert daily[ratio].isna().all(), ratio
    assert (daily.pacing_status == "unknown").all() and (daily.platform_conversions == 0).all()


def test_with_ads_spend_is_unknown_only_for_ad_sets_ads_csv_lacks(tmp_path):
    from elv_assets.settings import Settings
    from elv_assets_tests.tiny_world import LEADS, write_tiny_world

    leads = LEADS + "L9,2025-03-02 10:00:00,c9,as9,,,,,long,mobile\n"
    folder = write_tiny_world(tmp_path / "raw", leads_csv=leads)
    settings = Settings(folder, tmp_path / "w.duckdb", tmp_path / "s", tmp_path / "a", "")
    assert materialize_all(settings).success
    daily = query(settings, "SELECT adset_id, date, spend, cpl FROM gold.adset_daily").set_index(["adset_id", "date"])
    assert daily.loc[("as9", "2025-03-02")].isna().all()  # ads.csv does not know as9
    assert daily.loc[("as1", "2025-03-03"), "spend"] == 0.0  # a known ad set with no row that day: no delivery
    dq = query(settings, "SELECT hits FROM monitoring.data_quality_report WHERE check_name = 'adset_days_spend_unknown'")
    assert dq.hits.item() == 1


def test_without_ads_the_data_quality_report_and_summary_are_written(crm_only):
    from elv_assets.reports.summary import warehouse_summary

    settings, _ = crm_only
    dq = query(settings, "SELECT * FROM monitoring.data_quality_report")
    ads_profile = dq[(dq.kind == "profile") & (dq.table_name == "silver.ads")]
    assert len(ads_profile) == 15 and (ads_profile.rows == 0).all()
    cross = dict(dq[dq.kind == "cross_table"][["check_name", "hits"]].values.tolist())
    assert cross["future_ad_rows"] == 0 and cross["leads_with_unknown_adset"] == 0
    assert cross["adset_days_spend_unknown"] == 4
    text = warehouse_summary(settings.warehouse)
    assert "spend unknown (no ad rows)   leads 3   qualified 2   bookings 2" in text
    assert "ROAS" not in text


def test_as_of_defaults_to_the_latest_lead_when_silver_ads_is_empty():
    import datetime as dt

    import duckdb

    from elv_assets.lakehouse.warehouse import latest_dates, resolve_as_of

    con = duckdb.connect()
    con.execute("CREATE SCHEMA silver")
    con.execute("CREATE TABLE silver.ads (date DATE)")
    con.execute("CREATE TABLE silver.leads AS SELECT TIMESTAMP '2025-03-03 13:00' AS created_at")
    assert resolve_as_of("", latest_dates(con)) == (dt.date(2025, 3, 3), "latest date in the data")
    con.execute("INSERT INTO silver.ads VALUES (DATE '2025-03-05')")
    assert resolve_as_of("", latest_dates(con)) == (dt.date(2025, 3, 5), "latest date in the data")
    assert resolve_as_of("2025-03-04", latest_dates(con)) == (dt.date(2025, 3, 4), "configured")
    con.execute("DELETE FROM silver.leads")
    con.execute("DELETE FROM silver.ads")
    with pytest.raises(ValueError, match="no ad rows and no leads"):
        resolve_as_of("", latest_dates(con))
    with pytest.raises(ValueError, match="is not a date"):
        resolve_as_of("31/03/2025", latest_dates(con))


def test_the_run_records_its_one_as_of_date(tiny_settings):
    result = materialize_all(tiny_settings)
    assert result.success
    recorded = query(tiny_settings, "SELECT * FROM gold.as_of_date")
    assert recorded.as_of_date.dt.date.tolist() == [dt.date(2025, 3, 3)]
    assert recorded.rule.tolist() == ["latest date in the data"] and recorded.run_id.tolist() == [result.run_id]
    assert result.dagster_run.tags["as_of_date"] == "2025-03-03"  # not asked for: resolved, then tagged
    assert check_results(result)[("gold/as_of_date", "contract")].passed
    metadata = {e.asset_key.to_user_string(): e.materialization.metadata for e in result.get_asset_materialization_events()}
    assert metadata["gold/adset_daily"]["as_of_date"].value == "2025-03-03"


def test_a_run_that_asks_for_another_as_of_without_rebuilding_it_is_refused(tiny_settings):
    assert materialize_all(tiny_settings).success
    asked = {"resources": {"run_window": {"config": {"as_of_date": "2025-03-02"}}}}
    result = materialize_all(tiny_settings, selection="key:gold/adset_daily", run_config=asked)
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert "asks for as of 2025-03-02, but the warehouse's tables are as of 2025-03-03" in \
        failure.event_specific_data.error.message
