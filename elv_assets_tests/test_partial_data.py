"""Partial data is not bad input: CRM exports without ad files, outcomes not in yet, an ad export that lags the
CRM. Everything that can run runs; the rest is skipped with its reason; nothing unknown reads as zero."""

import duckdb
import pandas as pd

from elv_assets.ml.features import attribute_kinds
from elv_assets_tests.conftest import settings_in
from elv_assets_tests.helpers import check_results, materialize_all, query
from elv_assets_tests.tiny_world import LEADS, write_tiny_world

CHANNEL_LEADS = """lead_id,created_at,utm_campaign,campaign_name,utm_content,landing_page
A1,2025-03-01 09:00,google_cpc,,hero_v1,/pricing
A2,2025-03-01 10:00,,Spring  Sale,,/home
A3,2025-03-02 10:00,google_cpc,,hero_v2,/pricing
A4,2025-03-02 11:00,,,,/home
A5,2025-03-03 11:00,,spring sale,,/blog
"""


def test_a_crm_export_of_channel_names_ranks_its_channels_as_campaigns(tmp_path):
    folder = write_tiny_world(tmp_path / "crm", ads_csv=None, adsets_csv=None, conversions_csv=None,
                              mapping_csv=None, leads_csv=CHANNEL_LEADS,
                              outcomes_csv="lead_id,qualified_at\nA1,2025-03-02 09:00\n")
    tiny_settings = settings_in(tmp_path, folder)
    result = materialize_all(tiny_settings)
    assert result.success
    attributed = query(tiny_settings, "SELECT lead_id, campaign_id, adset_id, join_method FROM gold.lead_attribution "
                                      "ORDER BY lead_id")
    assert attributed.campaign_id.tolist() == ["google cpc", "spring sale", "google cpc", None, "spring sale"]
    assert attributed.adset_id.tolist()[:3] == ["hero v1", None, "hero v2"]
    assert attributed.join_method.tolist() == ["lead_field"] * 3 + ["unmatched", "lead_field"]
    assert check_results(result)[("gold/lead_attribution", "match_rate")].metadata["matched"].value == 0.8


def test_no_outcomes_yet_runs_everything_and_the_model_waits(tiny_settings):
    write_tiny_world(tiny_settings.data_dir, outcomes_csv="lead_id,qualified_at,booked_at,won_at,revenue\n")
    result = materialize_all(tiny_settings, selection="*")
    assert result.success
    skipped = {e.asset_key.to_user_string(): e.materialization.metadata["skipped"].value
               for e in result.get_asset_materialization_events() if "skipped" in e.materialization.metadata}
    assert "Too few mature labels" in skipped["ml/candidate_models"]
    assert query(tiny_settings, "SELECT count(*) n FROM gold.lead_labels WHERE label = 1").n.item() == 0
    assert query(tiny_settings, "SELECT count(*) n FROM gold.adset_daily").n.item() > 0


def test_an_ad_export_that_lags_the_crm_leaves_the_missing_days_unknown(tiny_settings):
    # two leads two days after ads.csv's last day (3 March): their ad set's delivery that day is unknown
    write_tiny_world(tiny_settings.data_dir, leads_csv=LEADS + "L8,2025-03-05 10:00:00,c2,as2,ad3,brand,,,long,desktop\n")
    assert materialize_all(tiny_settings).success
    daily = query(tiny_settings, "SELECT date::DATE::VARCHAR AS d, spend, leads FROM gold.adset_daily "
                                 "WHERE adset_id = 'as2' ORDER BY date").set_index("d")
    assert daily.loc["2025-03-03", "spend"] == 30.0
    assert pd.isna(daily.loc["2025-03-05", "spend"]) and daily.loc["2025-03-05", "leads"] == 1
    dq = query(tiny_settings, "SELECT hits FROM monitoring.data_quality_report WHERE check_name = 'ads_end_before_as_of'")
    assert dq.hits.item() == 2


def test_attribute_kinds_find_numbers_and_identifiers():
    con = duckdb.connect()
    n = 200
    con.execute(f"""CREATE TABLE leads AS SELECT
        'L' || i AS lead_id, (i * 7 % 500)::VARCHAR AS employees, CASE WHEN i % 9 = 0 THEN NULL ELSE (i % 13)::VARCHAR
        END AS pages, (i % 3)::VARCHAR AS tier, 'user' || i || '@example.com' AS email,
        CASE i % 2 WHEN 0 THEN 'mobile' ELSE 'desktop' END AS device
        FROM range({n}) t(i)""")
    kinds = attribute_kinds(con, ["employees", "pages", "tier", "email", "device"], "leads")
    assert kinds.numeric == ["employees", "pages"]
    assert kinds.categorical == ["tier", "device"]  # three codes are categories, not a number
    assert kinds.identifiers == {"email": n}
