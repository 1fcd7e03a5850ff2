"""The command line: exit codes on good and bad input, and the Dagster CLI path on a generated world."""

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from elv_assets.cli import main
from elv_assets.defs.jobs import LAKEHOUSE_SELECTION
from elv_assets_tests.tiny_world import ADS, write_tiny_world

BIN = Path(sys.executable).parent


def test_validate_exits_0_on_good_data(tiny_world, capsys):
    assert main(["validate", "--data", str(tiny_world)]) == 0
    assert "PASSED: 0 error(s)" in capsys.readouterr().out


def test_validate_exits_1_and_names_the_line_on_bad_data(tmp_path, capsys):
    folder = write_tiny_world(tmp_path, ads_csv=ADS.replace("03/03/2025", "33/03/2025"))
    assert main(["validate", "--data", str(folder)]) == 1
    out = capsys.readouterr().out
    assert "ERROR: ads.csv, column date: unparseable date (1 row); e.g. line 7 ['33/03/2025']" in out


def test_validate_json_is_machine_readable(tmp_path, capsys):
    folder = write_tiny_world(tmp_path, outcomes_csv=None)  # no outcomes yet: partial, not broken
    assert main(["validate", "--data", str(folder), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is True
    assert data["files"]["outcomes"]["present"] is False and data["files"]["outcomes"]["blocking"] is False
    (folder / "ads.csv").write_text("date,platform\n01/03/2025,Meta\n")  # spend and the ids are missing
    assert main(["validate", "--data", str(folder), "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is False and data["files"]["ads"]["blocking"] is True


def test_validate_on_a_missing_folder_says_so(tmp_path, capsys):
    assert main(["validate", "--data", str(tmp_path / "nope")]) == 1
    assert "data folder not found" in capsys.readouterr().out


def test_run_exits_0_then_1_when_an_input_breaks(tiny_settings, monkeypatch, capsys):
    monkeypatch.setenv("ELV_WAREHOUSE", str(tiny_settings.warehouse))
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    assert main(["run", "--data", str(tiny_settings.data_dir), "--select", LAKEHOUSE_SELECTION]) == 0
    assert "gold.adset_daily" in capsys.readouterr().out

    (tiny_settings.data_dir / "ads.csv").write_text(ADS.replace("GBP\n", "GBP,extra\n", 1).replace(",Meta,", ",,", 1))
    assert main(["run", "--data", str(tiny_settings.data_dir), "--select", LAKEHOUSE_SELECTION]) == 1
    err = capsys.readouterr().err
    assert "bronze/ads: ads.csv failed its contract" in err


def test_validate_and_run_a_folder_of_crm_exports_only(tmp_path, monkeypatch, capsys):
    folder = write_tiny_world(tmp_path / "raw", ads_csv=None, adsets_csv=None, conversions_csv=None)
    assert main(["validate", "--data", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "ads.csv: absent (optional)" in out and "PASSED: 0 error(s)" in out
    for var, path in [("ELV_WAREHOUSE", "w.duckdb"), ("ELV_SERVING_DIR", "serving"), ("ELV_ARTIFACTS_DIR", "artifacts")]:
        monkeypatch.setenv(var, str(tmp_path / path))
    assert main(["run", "--data", str(folder), "--select", LAKEHOUSE_SELECTION]) == 0
    assert "spend unknown (no ad rows)" in capsys.readouterr().out


def test_run_rejects_a_selection_that_matches_nothing(tiny_settings, monkeypatch, capsys):
    monkeypatch.setenv("ELV_WAREHOUSE", str(tiny_settings.warehouse))
    assert main(["run", "--data", str(tiny_settings.data_dir), "--select", "key:nothing/here"]) == 2


@pytest.fixture
def generated_world(demo_world) -> Path:
    return demo_world


def test_generated_world_validates_without_errors(generated_world):
    from elv_assets.lakehouse.validation import validate_folder

    report = validate_folder(generated_world)
    assert not report.blocking, report.to_text()
    ads_rules = {p.rule for p in report.files["ads"].warnings}
    assert "negative spend (set to 0 in silver)" in ads_rules


def test_dagster_cli_materialises_everything_on_a_generated_world(generated_world, tmp_path):
    home = tmp_path / "dagster_home"
    home.mkdir()
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "ELV_DATA_DIR": str(generated_world),
        "ELV_WAREHOUSE": str(tmp_path / "warehouse.duckdb"),
        "ELV_SERVING_DIR": str(tmp_path / "serving"),
        "ELV_ARTIFACTS_DIR": str(tmp_path / "artifacts"),
    }
    proc = subprocess.run(
        [str(BIN / "dagster"), "asset", "materialize", "-m", "elv_assets.definitions", "--select", "*"],
        env=env, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "RUN_SUCCESS" in proc.stderr
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True)
    leads, attributed = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE join_method IN ('id', 'mapping', 'name')) FROM gold.lead_attribution"
    ).fetchall()[0]
    assert leads > 30000
    assert attributed / leads > 0.98  # the generator leaves about 0.5 % orphans
    assert con.execute("SELECT count(*) FROM gold.adset_daily").fetchall()[0][0] > 1000
    con.close()
    assert list((home / "storage").iterdir()), "the run is recorded in DAGSTER_HOME"
