"""Silver: typed, cleaned, deduplicated tables, one per input file, each validated before it is swapped in."""


import dagster as dg

from elv_assets.cleaning import SILVER, rule_hits, silver_select, typed_bronze_select
from elv_assets.contracts.tables import SILVER_MODELS
from elv_assets.defs.publishing import OWNERS, column_schema, gate_and_swap, table_metadata
from elv_assets.defs.resources import Warehouse
from elv_assets.warehouse import row_count, stage

RULES_TEXT = {
    "ads": "negative spend set to 0; platform lower-case; CTR, CPC and CPM recomputed where the denominator is non-zero",
    "adsets": "pacing_status normalised to under_pacing / on_pace / over_pacing / unknown (raw kept)",
    "conversions": "conversion types and windows lower-case; blank values set to 0",
    "leads": "one row per lead_id; extra attribute columns kept as text",
    "outcomes": "one row per lead_id",
    "mapping": "field lower-case",
}


def build_silver_asset(name: str) -> dg.AssetsDefinition:
    key = dg.AssetKey(["silver", name])
    model = SILVER_MODELS[name]

    @dg.asset(
        key=key,
        deps=[dg.AssetKey(["bronze", name])],
        group_name="silver",
        kinds={"duckdb", "sql", "pandera"},
        owners=OWNERS,
        description=(
            f"{(model.__doc__ or '').strip()} Rules: {RULES_TEXT[name]}; duplicates removed "
            f"(the last line of the file wins). Each rule's hit count is in the metadata."
        ),
        metadata={"dagster/column_schema": column_schema(model)},
        check_specs=[dg.AssetCheckSpec("contract", asset=key, description=f"silver.{name} meets its pandera contract.")],
    )
    def _silver(context: dg.AssetExecutionContext, warehouse: Warehouse):
        target = f"silver.{name}"
        with warehouse.get_connection() as con:
            typed = typed_bronze_select(con, name)
            staged = stage(con, target, silver_select(name, typed))
            hits = rule_hits(con, name, typed, row_count(con, staged))
            gate = gate_and_swap(con, model, staged, target)
            yield from gate.events()
            # A present file has at least one row (validation rejects header-only files), so an empty
            # bronze table means the optional file was absent: silver is then empty but fully typed.
            present = row_count(con, f"bronze.{name}") > 0
            yield dg.MaterializeResult(
                metadata=table_metadata(
                    con, target, file_present=present, **{f"rule/{rule}": n for rule, n in hits.items()}
                )
            )

    return _silver


silver_assets = [build_silver_asset(name) for name in SILVER]
