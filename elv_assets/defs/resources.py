"""Resources built from the environment (with local defaults) by one function."""


import dagster as dg
from dagster_duckdb import DuckDBResource

from elv_assets.settings import Settings


class ElvSettings(dg.ConfigurableResource):
    """Folders the assets read and write."""

    data_dir: str
    serving_dir: str
    artifacts_dir: str


class RunWindow(dg.ConfigurableResource):
    """The run-level as_of date, YYYY-MM-DD; "" means the latest date in the data.

    Its own resource so a schedule or a launch can set it alone:
    run_config = {"resources": {"run_window": {"config": {"as_of_date": "2025-03-31"}}}}.
    """

    as_of_date: str = ""


def build_resources(settings: Settings | None = None) -> dict:
    settings = settings or Settings.from_env()
    settings.warehouse.parent.mkdir(parents=True, exist_ok=True)
    return {
        "warehouse": DuckDBResource(database=str(settings.warehouse)),
        "elv": ElvSettings(
            data_dir=str(settings.data_dir),
            serving_dir=str(settings.serving_dir),
            artifacts_dir=str(settings.artifacts_dir),
        ),
        "run_window": RunWindow(as_of_date=settings.as_of),
    }
