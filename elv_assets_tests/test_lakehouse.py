"""The whole graph in-process on the tiny world: silver rules, attribution, gold, data quality."""

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
    assert len(result.get_asset_materialization_events()) == 15
    contract_checks = {k: v for k, v in checks.items() if k[1] in ("contract", "input_contract")}
    assert len(contract_checks) == 15
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
