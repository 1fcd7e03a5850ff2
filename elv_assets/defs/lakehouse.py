"""The lakehouse: bronze copies of the input files, typed and cleaned silver tables, the run's as-of date,
lead attribution, the ad-set daily table and the data-quality report."""

import dagster as dg

from elv_assets.build import AS_OF_KEY
from elv_assets.contracts.inputs import INPUT_FILES
from elv_assets.contracts.tables import (
    SILVER_MODELS,
    AdsetDaily,
    AsOfDate,
    DataQualityReport,
    LeadAttribution,
)
from elv_assets.defs.declare import CheckDecl, table_asset
from elv_assets.lakehouse.adset_daily import build_adset_daily
from elv_assets.lakehouse.attribution import build_lead_attribution
from elv_assets.lakehouse.bronze import bronze_build
from elv_assets.lakehouse.cleaning import SILVER, silver_build
from elv_assets.lakehouse.quality import PROFILED_KEYS, build_data_quality_report
from elv_assets.lakehouse.warehouse import build_as_of_date

SILVER_RULES = {
    "ads": "negative spend set to 0; platform lower-case; CTR, CPC and CPM recomputed where the denominator is non-zero",
    "adsets": "pacing_status normalised to under_pacing / on_pace / over_pacing / unknown (raw kept)",
    "conversions": "conversion types and windows lower-case; blank values set to 0",
    "leads": "one row per lead_id; extra attribute columns kept as text",
    "outcomes": "one row per lead_id",
    "mapping": "field lower-case",
}


def silver_key(name: str) -> str:
    return f"silver/{name}"


bronze_assets = [
    table_asset(
        f"bronze/{spec.name}", bronze_build(spec), contract=spec.model, validate=False, kinds={"csv"},
        contract_check="input_contract", extra_metadata={"source_file": spec.filename},
        description=(
            f"Raw copy of {spec.filename} ({'required' if spec.required else 'optional'}): every cell as text, plus "
            f"_line (the line in the file), _source_file, _loaded_at and _decimal_comma. Loaded only when the file "
            f"passes its input contract. {(spec.model.__doc__ or '').strip()}"),
    )
    for spec in INPUT_FILES.values()
]

silver_assets = [
    table_asset(
        silver_key(name), silver_build(name), contract=SILVER_MODELS[name], reads=[f"bronze/{name}"],
        description=(f"{(SILVER_MODELS[name].__doc__ or '').strip()} Rules: {SILVER_RULES[name]}; duplicates "
                     "removed (the last line of the file wins). Each rule's hit count is in the metadata."),
        describe=(lambda c: "A lead attribute from leads.csv, kept as text.") if name == "leads" else None,
    )
    for name in SILVER
]

as_of_date = table_asset(
    AS_OF_KEY, build_as_of_date, contract=AsOfDate, reads=[silver_key("ads"), silver_key("leads")],
    description=(
        "The run's one as-of date, resolved once and read by every gold, model and monitoring asset: the date the "
        "run was asked for (the schedules pass the last complete day; `elv run --as-of`; ELV_AS_OF), else the "
        "latest date in the data. Also written to the run's tags."),
)


class AttributionConfig(dg.Config):
    warn_match_rate_below: float = 0.90
    fail_match_rate_below: float = 0.50


lead_attribution = table_asset(
    "gold/lead_attribution", build_lead_attribution, contract=LeadAttribution, config=AttributionConfig,
    reads=[AS_OF_KEY, silver_key("leads"), silver_key("ads"), silver_key("mapping")],
    checks=[CheckDecl("match_rate", "Share of leads tied to a campaign.")],
    description=(
        "Every lead up to as_of with the campaign, ad set and ad it came from, and how: ids first, then the mapping "
        "file, then normalised names. Ambiguous names are reported, not guessed. Read by the ad-set daily table, "
        "the ELV chain and the leaderboards."),
)

adset_daily = table_asset(
    "gold/adset_daily", build_adset_daily, contract=AdsetDaily,
    reads=[AS_OF_KEY, "gold/lead_attribution", *(silver_key(n) for n in ("ads", "adsets", "conversions", "leads",
                                                                          "outcomes"))],
    description=(
        "Per (date, ad set) up to as_of: spend, impressions, clicks, CTR, CPC, CPM, budget and pacing ratio, "
        "platform conversions, CRM leads, qualified, bookings, revenue, ROAS and CPL. CRM events are dated by their "
        "own timestamps. Spend and its ratios are blank (unknown) for ad sets ads.csv lacks, and everywhere "
        "without ads.csv. Read by the pacing and bookings models and the dashboard."),
)

data_quality_report = table_asset(
    "monitoring/data_quality_report", build_data_quality_report, contract=DataQualityReport, kinds={"pandas"},
    reads=[AS_OF_KEY, *(f"bronze/{n}" for n in SILVER), *PROFILED_KEYS],
    description=(
        "Data-quality report: per table and column the null fraction, distinct count, min, max and mean; how often "
        "each silver rule fired; cross-table checks (unmatched leads, outcomes before creation, dates after as_of). "
        "Read by data engineers and the dashboard's data-quality page."),
)

lakehouse_assets = [*bronze_assets, *silver_assets, as_of_date, lead_attribution, adset_daily, data_quality_report]
