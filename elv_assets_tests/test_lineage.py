"""The lineage the UI draws is what the code reads: every asset builds from only what its declaration lists.

For each asset, a fresh warehouse holds copies of just the tables it declares in `reads` (taken from the session's
demo run, so each passed its contract), and a fresh artefact folder just the artefacts it declares. The asset is then
materialised alone. A build that reads anything else finds no such table (DuckDB's catalog error) or no such file,
and its test fails with that asset's name.
"""

import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from elv_assets.build import table_name
from elv_assets.defs import ALL_ASSETS
from elv_assets.defs.resources import build_resources
from elv_assets.lakehouse.files import ArtifactStore
from elv_assets.lakehouse.ingest import sql_str
from elv_assets_tests.conftest import settings_in

ASSETS = {a.key.to_user_string(): a for a in ALL_ASSETS}


def _reads(asset: dg.AssetsDefinition) -> list[str]:
    return sorted(d.to_user_string() for dep in asset.asset_deps.values() for d in dep)


def _copy_declared(source, target, reads: list[str]) -> None:
    """Copy the declared tables and artefact files (and what each artefact keeps beside it) into a fresh place."""
    con = duckdb.connect(str(target.warehouse))
    con.execute(f"ATTACH {sql_str(str(source.warehouse))} AS src (READ_ONLY)")
    have = {f"{s}.{t}" for s, t in con.execute(
        "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = 'src'").fetchall()}
    for key in reads:
        table = table_name(key)
        if table in have:
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {table.split('.')[0]}")
            con.execute(f"CREATE TABLE {table} AS SELECT * FROM src.{table}")
        for file in Path(source.artifacts_dir).glob(f"{key}.*"):
            copy = Path(target.artifacts_dir) / file.relative_to(source.artifacts_dir)
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(file, copy)
    con.close()


@pytest.mark.parametrize("key", sorted(ASSETS))
def test_the_asset_builds_from_only_what_it_declares(key, demo_run, tmp_path):
    asset = ASSETS[key]
    reads = _reads(asset)
    settings = settings_in(tmp_path, demo_run.settings.data_dir)
    Path(settings.artifacts_dir).mkdir(parents=True)
    _copy_declared(demo_run.settings, settings, reads)

    result = dg.materialize([asset], resources=build_resources(settings), raise_on_error=False)

    failures = [e.event_specific_data.error.message.strip().splitlines()[0] for e in result.all_events
                if e.event_type_value == "STEP_FAILURE"]
    assert result.success, f"{key} (declares {reads}) failed: {failures}"
    [materialised] = result.get_asset_materialization_events()
    assert "skipped" not in materialised.materialization.metadata, materialised.materialization.metadata["skipped"]
    if "dagster/table_name" in asset.specs_by_key[asset.key].metadata:
        assert table_name(key) in _tables(settings.warehouse)  # a table asset wrote its table


def _tables(warehouse) -> list[str]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return [f"{s}.{t}" for s, t in con.execute("SELECT schema_name, table_name FROM duckdb_tables()").fetchall()]
    finally:
        con.close()


def test_an_undeclared_read_fails_the_lineage_test(demo_run, tmp_path):
    """The test above would catch a build that reads past its declaration: here one reads silver.ads unannounced."""
    from elv_assets.build import Built
    from elv_assets.defs.declare import table_asset

    def sneaky(b):
        b.con.execute("SELECT count(*) FROM silver.ads").fetchall()
        b.stage("SELECT * FROM gold.as_of_date")
        return Built()

    asset = table_asset("gold/sneaky", sneaky, contract=None, reads=["gold/as_of_date"], description="x" * 50)
    settings = settings_in(tmp_path, demo_run.settings.data_dir)
    _copy_declared(demo_run.settings, settings, ["gold/as_of_date"])
    result = dg.materialize([asset], resources=build_resources(settings), raise_on_error=False)
    assert not result.success
    error = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE").event_specific_data.error
    assert "Catalog Error" in str(error) and "silver" in str(error)


def test_an_undeclared_artefact_is_refused_by_name(demo_run, tmp_path):
    from elv_assets.build import Build, UndeclaredRead

    b = Build("gold/lead_scores", ("gold/lead_features",), con=None,
              artifacts=ArtifactStore(demo_run.settings.artifacts_dir))
    with pytest.raises(UndeclaredRead, match="gold/lead_scores reads ml/serving_model"):
        b.load("ml/serving_model")
