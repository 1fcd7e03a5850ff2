"""Bring-your-own-data on a real public export: it maps onto the contracts and loads through silver."""

import pytest

from elv_assets.demo.real_data import REAL_FILE, import_online_advertising
from elv_assets.lakehouse.validation import validate_folder
from elv_assets.settings import Settings
from elv_assets_tests.helpers import materialize_all, query

pytestmark = pytest.mark.skipif(not REAL_FILE.exists(), reason="../shared/data/real is not beside this checkout")


def test_real_export_validates_and_loads_into_silver(tmp_path):
    counts = import_online_advertising(REAL_FILE, tmp_path / "raw")
    assert counts == {"ads.csv": 15408, "conversions.csv": 1248}

    report = validate_folder(tmp_path / "raw")
    ads = report.files["ads"]
    assert not ads.blocking, ads.to_text()
    assert ads.date_range["date"] == ["2020-04-01", "2020-06-30"]
    warnings = {p.rule: p.count for p in ads.warnings}
    assert warnings["exact duplicate rows (silver keeps one)"] == 5
    assert warnings["more clicks than impressions"] == 2
    assert not report.files["conversions"].blocking

    settings = Settings(tmp_path / "raw", tmp_path / "w.duckdb", tmp_path / "s", tmp_path / "a", "")
    result = materialize_all(settings, selection="key:bronze/ads or key:silver/ads or key:bronze/conversions or key:silver/conversions")
    assert result.success
    totals = query(settings, "SELECT count(*) AS n, round(sum(spend)) AS spend, sum(clicks) AS clicks FROM silver.ads")
    # The source's documented totals (SOURCE.md): cost 175,193 and clicks 2,492,837, less the 5 duplicates.
    assert totals.n.item() == 15403
    assert abs(totals.spend.item() - 175193) < 200
    assert abs(totals.clicks.item() - 2492837) < 5000
