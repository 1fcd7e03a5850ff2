"""Monitoring: the data-quality report over silver and gold."""


import dagster as dg

from elv_assets.cleaning import SILVER
from elv_assets.contracts.tables import DataQualityReport
from elv_assets.defs.gold import ADSET_DAILY_KEY, ATTRIBUTION_KEY
from elv_assets.defs.publishing import OWNERS, column_schema, publish_frame, table_metadata
from elv_assets.defs.resources import RunWindow, Warehouse
from elv_assets.quality import data_quality_frame
from elv_assets.warehouse import resolve_as_of

DQ_KEY = dg.AssetKey(["monitoring", "data_quality_report"])


@dg.asset(
    key=DQ_KEY,
    deps=[dg.AssetKey(["silver", n]) for n in SILVER] + [ATTRIBUTION_KEY, ADSET_DAILY_KEY],
    group_name="monitoring",
    kinds={"duckdb", "pandera"},
    owners=OWNERS,
    description=(
        "Data-quality report: per table and column the null fraction, distinct count, min, max and mean; how "
        "often each silver rule fired; cross-table checks (unmatched leads, outcomes before creation, dates "
        "after as_of). Read by data engineers and the dashboard's data-quality page."
    ),
    metadata={"dagster/column_schema": column_schema(DataQualityReport)},
    check_specs=[dg.AssetCheckSpec("contract", asset=DQ_KEY)],
)
def data_quality_report(context: dg.AssetExecutionContext, warehouse: Warehouse, run_window: RunWindow):
    target = "monitoring.data_quality_report"
    with warehouse.get_connection() as con:
        as_of = resolve_as_of(con, run_window.as_of_date)
        report = data_quality_frame(con, as_of)
        gate = publish_frame(con, DataQualityReport, report, target)
        yield from gate.events()
        highlights = report[report["kind"].isin(["rule", "cross_table"]) & (report["hits"] > 0)]
        yield dg.MaterializeResult(
            metadata=table_metadata(
                con, target,
                as_of_date=str(as_of),
                highlights=dg.MetadataValue.md(
                    highlights[["kind", "table_name", "check_name", "hits", "detail"]].to_markdown(index=False)
                ),
            )
        )


monitoring_assets = [data_quality_report]
