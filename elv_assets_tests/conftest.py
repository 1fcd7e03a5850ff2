"""Shared fixtures: the tiny hand-made world, and one generated demo world run through the whole graph once per
test session (the chain, the dashboard, the browser and the lineage tests read it; none of them writes to it)."""

from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest
from streamlit.testing.v1 import AppTest

from elv_assets.demo.generator import generate_world
from elv_assets.settings import Settings
from elv_assets_tests.helpers import materialize_all
from elv_assets_tests.tiny_world import write_tiny_world

DASHBOARD_APP = str(Path(__file__).resolve().parent.parent / "dashboard" / "app.py")


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


@pytest.fixture(scope="session")
def demo_world(tmp_path_factory) -> Path:
    """The demo world `make demo` builds (size s, seed 7), generated once. Read-only for every test."""
    folder = tmp_path_factory.mktemp("demo_world") / "raw"
    generate_world(folder, size="s", seed=7)
    return folder


@dataclass(frozen=True)
class DemoRun:
    settings: Settings
    result: dg.ExecuteInProcessResult


def settings_in(root: Path, data: Path, as_of: str = "") -> Settings:
    return Settings(data, root / "warehouse.duckdb", root / "serving", root / "artifacts", as_of)


@pytest.fixture(scope="session")
def demo_run(demo_world, tmp_path_factory) -> DemoRun:
    """The whole graph materialised once on the demo world: warehouse, artefacts and serving snapshot."""
    settings = settings_in(tmp_path_factory.mktemp("demo_run"), demo_world)
    result = materialize_all(settings, selection="*")
    assert result.success, "the whole graph failed on the demo world"
    return DemoRun(settings, result)


@pytest.fixture
def published(demo_run) -> Settings:
    """The demo run's serving folder and artefacts, as the dashboard tests read them."""
    return demo_run.settings


@pytest.fixture
def app(monkeypatch, tmp_path):
    """AppTest factory: the dashboard pointed at a serving folder (and artifacts), with no LLM and no demo (neither
    one it built nor the bundled one; a test that wants the bundle sets ELV_DEMO_BUNDLE)."""
    monkeypatch.delenv("LLM_ENDPOINT", raising=False)
    monkeypatch.setenv("ELV_DEMO_DIR", str(tmp_path / "demo"))
    monkeypatch.setenv("ELV_DEMO_BUNDLE", "off")

    def start(serving: Path, artifacts: Path, view: str | None = None) -> AppTest:
        monkeypatch.setenv("ELV_SERVING_DIR", str(serving))
        monkeypatch.setenv("ELV_ARTIFACTS_DIR", str(artifacts))
        at = AppTest.from_file(DASHBOARD_APP, default_timeout=120).run()
        if view:
            at.switch_page(f"views/{view}.py").run()
        return at

    return start
