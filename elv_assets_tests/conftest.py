from pathlib import Path

import pytest

from elv_assets.settings import Settings
from elv_assets_tests.tiny_world import write_tiny_world


@pytest.fixture
def tiny_world(tmp_path: Path) -> Path:
    return write_tiny_world(tmp_path / "raw")


@pytest.fixture
def tiny_settings(tmp_path: Path, tiny_world: Path) -> Settings:
    return Settings(
        data_dir=tiny_world,
        warehouse=tmp_path / "warehouse.duckdb",
        serving_dir=tmp_path / "serving",
        artifacts_dir=tmp_path / "artifacts",
        as_of="",
    )


@pytest.fixture(autouse=True)
def _no_shared_dagster_home(monkeypatch):
    """Tests record runs in throwaway instances, never in the repository's .dagster_home."""
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
