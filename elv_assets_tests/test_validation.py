"""The validation report: what blocks, what warns, and that it names file, column, rule and lines."""

from pathlib import Path

from elv_assets.lakehouse.validation import capabilities, validate_folder
from elv_assets_tests.tiny_world import ADS, CONVERSIONS, LEADS, OUTCOMES, write_tiny_world


def _problems(report, file):
    return report.files[file].problems


def test_tiny_world_passes_with_its_warnings(tiny_world: Path):
    report = validate_folder(tiny_world)
    assert not report.blocking
    ads_rules = {p.rule for p in _problems(report, "ads")}
    assert "negative spend (set to 0 in silver)" in ads_rules
    assert "exact duplicate rows (silver keeps one)" in ads_rules
    assert report.files["ads"].date_range["date"] == ["2025-03-01", "2025-03-03"]


def test_bad_dates_are_errors_with_line_numbers(tmp_path: Path):
    bad = ADS.replace("02/03/2025,Meta", "2025-02-30,Meta").replace("03/03/2025", "03/25/2025")
    report = validate_folder(write_tiny_world(tmp_path, ads_csv=bad))
    assert report.blocking
    by_rule = {p.rule.split(";")[0]: p for p in report.files["ads"].errors}
    assert by_rule["unparseable date"].lines == [5]
    assert by_rule["unparseable date"].column == "date"
    assert by_rule["unparseable date"].examples == ["2025-02-30"]
    assert by_rule["ambiguous: looks month-first (US)"].lines == [7]
    text = report.to_text()
    assert "ads.csv, column date: unparseable date (1 row); e.g. line 5 ['2025-02-30']" in text


def test_missing_required_column_blocks_and_lists_what_was_found(tmp_path: Path):
    report = validate_folder(write_tiny_world(tmp_path, leads_csv=LEADS.replace("created_at", "created")))
    [error] = report.files["leads"].errors
    assert error.rule.startswith("missing required column(s): created_at; found: lead_id, created,")


def test_every_file_is_optional_but_a_folder_needs_ads_or_leads(tmp_path: Path):
    report = validate_folder(write_tiny_world(tmp_path / "crm", outcomes_csv=None, mapping_csv=None))
    assert not report.blocking
    text = report.to_text()
    assert "outcomes.csv: absent (optional)" in text and "without it: no outcomes yet" in text
    assert "mapping.csv: absent (optional)" in text

    ads_only = validate_folder(write_tiny_world(tmp_path / "ads", leads_csv=None, outcomes_csv=None))
    assert not ads_only.blocking
    assert [w for w, _ in capabilities(ads_only.files)] == ["ads", "ads without leads", "adsets", "conversions"]
    assert "what this folder supports:\n  ads: spend, CPL" in ads_only.to_text()

    nothing = validate_folder(write_tiny_world(tmp_path / "none", ads_csv=None, leads_csv=None, outcomes_csv=None))
    assert nothing.blocking
    assert "nothing to load: the folder needs ads.csv" in nothing.to_text()


def test_non_numeric_and_negative_counts_are_reported(tmp_path: Path):
    bad = ADS.replace("10.00,1000,10", "ten,1000,10").replace("20.00,2000,40", "20.00,-5,40")
    report = validate_folder(write_tiny_world(tmp_path, ads_csv=bad))
    rules = {(p.column, p.rule): p for p in report.files["ads"].errors}
    assert rules[("spend", "not a number")].lines == [2]
    negative = rules[("impressions", "fails contract check greater_than_or_equal_to(0)")]
    assert negative.lines == [6]
    assert negative.examples == ["-5"]


def test_blank_required_value_is_an_error(tmp_path: Path):
    report = validate_folder(write_tiny_world(tmp_path, outcomes_csv=OUTCOMES + ",2025-03-03 08:00:00,,,\n"))
    [error] = report.files["outcomes"].errors
    assert (error.column, error.rule, error.lines) == ("lead_id", "required value is blank", [5])


def test_more_than_one_currency_blocks(tmp_path: Path):
    report = validate_folder(write_tiny_world(tmp_path, ads_csv=ADS.replace("60,GBP", "60,EUR")))
    assert any(p.column == "currency" for p in report.files["ads"].errors)


def test_semicolon_file_with_decimal_commas_and_bom_loads(tmp_path: Path):
    euro = "\ufeff" + ADS.replace(",", ";").replace("10.00", "10,00").replace("-2.50", "-2,50")
    report = validate_folder(write_tiny_world(tmp_path, ads_csv=euro))
    ads = report.files["ads"]
    assert not ads.blocking, ads.to_text()
    assert (ads.delimiter, ads.decimal_comma) == (";", True)


def test_an_empty_file_gets_a_reason_not_a_traceback(tmp_path: Path):
    report = validate_folder(write_tiny_world(tmp_path, leads_csv=""))
    [error] = report.files["leads"].errors
    assert "the file is empty" in error.rule


def test_a_header_only_file_is_a_warning_not_an_error(tmp_path: Path):
    """No outcomes yet is a normal state of a new account: everything runs, the model waits for labels."""
    report = validate_folder(write_tiny_world(tmp_path, outcomes_csv="lead_id,qualified_at,booked_at,won_at,revenue\n"))
    outcomes = report.files["outcomes"]
    assert not report.blocking and outcomes.present and outcomes.rows == 0
    [warning] = outcomes.warnings
    assert warning.rule == "header only: no rows yet (loaded as an empty table)"
    assert ("leads without outcomes", "leads attributed and counted; the lead model waits for outcomes") in \
        capabilities(report.files)


def test_duplicate_keys_with_different_values_warn(tmp_path: Path):
    leads = LEADS + "L1,2025-03-01 09:30:00,c1,as1,ad1,spring,lal,,short,mobile\n"
    report = validate_folder(write_tiny_world(tmp_path, leads_csv=leads))
    warning = next(p for p in report.files["leads"].warnings if p.rule.startswith("the same key"))
    assert warning.count == 1 and warning.examples == ["L1"]


def test_cross_file_unknown_ad_set_is_a_warning(tmp_path: Path):
    leads = LEADS + "L9,2025-03-03 10:00:00,c1,as_missing,,,,,long,mobile\n"
    report = validate_folder(write_tiny_world(tmp_path, leads_csv=leads))
    assert not report.blocking
    [problem] = [p for p in report.cross_file if p.column == "adset_id"]
    assert problem.examples == ["as_missing"]


def test_json_report_has_the_same_verdict(tiny_world: Path):
    import json

    data = json.loads(validate_folder(tiny_world).to_json())
    assert data["ok"] is True
    assert data["files"]["ads"]["rows"] == 6


def test_leads_without_any_column_tying_them_to_the_ads_block(tmp_path: Path):
    leads = "lead_id,created_at,form\nL1,2025-03-01 09:00:00,long\n"
    report = validate_folder(write_tiny_world(tmp_path, leads_csv=leads))
    [error] = report.files["leads"].errors
    assert error.rule.startswith("no column ties a lead to the ads; give at least one of: campaign_id, adset_id")


def test_a_lead_with_every_key_blank_is_a_warning_with_its_line(tmp_path: Path):
    leads = LEADS + "L9,2025-03-03 10:00:00,,,,,,,long,mobile\n"
    report = validate_folder(write_tiny_world(tmp_path, leads_csv=leads))
    assert not report.blocking
    [warning] = [p for p in report.files["leads"].warnings if p.rule.startswith("lead with no id")]
    assert warning.count == 1 and warning.lines == [8]


def test_a_line_with_more_cells_than_the_header_blocks(tmp_path: Path):
    leads = LEADS.replace("L2,2025-03-01 10:00:00,,,,spring,lal_v2,,short,desktop",
                          "L2,2025-03-01 10:00:00,,,,spring,lal,v2,,short,desktop")
    report = validate_folder(write_tiny_world(tmp_path, leads_csv=leads))
    [error] = report.files["leads"].errors
    assert error.rule.startswith("more cells than the header has columns (10)")
    assert error.lines == [3]
    assert not any(c.startswith("column") for c in report.files["leads"].columns)


def test_duplicate_keys_use_the_same_key_as_silver(tmp_path: Path):
    # "LEAD"/"lead" and 7D_CLICK/7d_click are one key once lowercased, as silver keeps them.
    conversions = CONVERSIONS + "2025-03-02,as2,LEAD,7D_CLICK,4,40\n"
    # An ad-set-level row (blank ad_id) is keyed by its ad set, so a second one for the day conflicts.
    ads = ADS + "01/03/2025,Meta,c1,Spring,as9,Set 9,,,5.00,100,1,GBP\n01/03/2025,Meta,c1,Spring,as9,Set 9,,,6.00,100,1,GBP\n"
    report = validate_folder(write_tiny_world(tmp_path, conversions_csv=conversions, ads_csv=ads))
    [conv] = [p for p in report.files["conversions"].warnings if p.rule.startswith("the same key")]
    assert conv.examples == ["2025-03-02 | as2 | lead | 7d_click"]
    [ad] = [p for p in report.files["ads"].warnings if p.rule.startswith("the same key")]
    assert ad.examples == ["2025-03-01 | adset:as9"]


def test_a_folder_without_ad_platform_files_passes_and_says_what_is_missing(tmp_path: Path):
    report = validate_folder(write_tiny_world(tmp_path, ads_csv=None, adsets_csv=None, conversions_csv=None))
    assert not report.blocking, report.to_text()
    assert not report.files["ads"].present and not report.files["ads"].problems
    assert report.cross_file == []  # the lead/ad-set check needs ads.csv; it is skipped, not failed
    text = report.to_text()
    assert "ads.csv: absent (optional)\n  without it: no spend, impressions or clicks" in text
    assert "adsets.csv: absent (optional)" in text and "conversions.csv: absent (optional)" in text
    assert "PASSED" in text
