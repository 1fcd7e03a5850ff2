"""Gold: lead attribution and the ad-set daily table, as of the run's as_of date."""


import dagster as dg

from elv_assets.adset_daily import adset_daily_select
from elv_assets.attribution import attribution_select, match_rates
from elv_assets.contracts.tables import AdsetDaily, LeadAttribution
from elv_assets.defs.publishing import OWNERS, column_schema, gate_and_swap, table_metadata
from elv_assets.defs.resources import RunWindow, Warehouse
from elv_assets.warehouse import resolve_as_of, stage

ATTRIBUTION_KEY = dg.AssetKey(["gold", "lead_attribution"])


class AttributionConfig(dg.Config):
    warn_match_rate_below: float = 0.90
    fail_match_rate_below: float = 0.50


@dg.asset(
    key=ATTRIBUTION_KEY,
    deps=[dg.AssetKey(["silver", n]) for n in ("leads", "ads", "mapping")],
    group_name="gold",
    kinds={"duckdb", "sql"},
    owners=OWNERS,
    description=(
        "Every lead up to as_of with the campaign, ad set and ad it came from, and how: ids first, then the "
        "mapping file, then normalised names. Ambiguous names are reported, not guessed. Read by the ad-set "
        "daily table, the ELV chain and the leaderboards."
    ),
    metadata={"dagster/column_schema": column_schema(LeadAttribution)},
    check_specs=[
        dg.AssetCheckSpec("contract", asset=ATTRIBUTION_KEY),
        dg.AssetCheckSpec("match_rate", asset=ATTRIBUTION_KEY, description="Share of leads tied to a campaign."),
    ],
)
def lead_attribution(context: dg.AssetExecutionContext, config: AttributionConfig, warehouse: Warehouse,
                     run_window: RunWindow):
    target = "gold.lead_attribution"
    with warehouse.get_connection() as con:
        as_of = resolve_as_of(con, run_window.as_of_date)
        staged = stage(con, target, attribution_select(as_of))
        rates = match_rates(con, staged)
        gate = gate_and_swap(con, LeadAttribution, staged, target)
        yield from gate.events()
        matched = rates["id"] + rates["mapping"] + rates["name"]
        rate_meta = {f"match_rate/{m}": dg.MetadataValue.float(round(r, 4)) for m, r in rates.items()}
        if matched < config.fail_match_rate_below:
            severity, passed = dg.AssetCheckSeverity.ERROR, False
        elif matched < config.warn_match_rate_below:
            severity, passed = dg.AssetCheckSeverity.WARN, False
        else:
            severity, passed = dg.AssetCheckSeverity.WARN, True
        yield dg.AssetCheckResult(
            check_name="match_rate",
            passed=passed,
            severity=severity,
            description=(
                f"{matched:.1%} of leads matched (warn below {config.warn_match_rate_below:.0%}, "
                f"fail below {config.fail_match_rate_below:.0%})."
            ),
            metadata={"matched": dg.MetadataValue.float(round(matched, 4)), **rate_meta},
        )
        yield dg.MaterializeResult(
            metadata=table_metadata(con, target, as_of_date=str(as_of), matched=round(matched, 4), **rate_meta)
        )


ADSET_DAILY_KEY = dg.AssetKey(["gold", "adset_daily"])


@dg.asset(
    key=ADSET_DAILY_KEY,
    deps=[dg.AssetKey(["silver", n]) for n in ("ads", "adsets", "conversions", "leads", "outcomes")]
    + [ATTRIBUTION_KEY],
    group_name="gold",
    kinds={"duckdb", "sql"},
    owners=OWNERS,
    description=(
        "Per (date, ad set) up to as_of: spend, impressions, clicks, CTR, CPC, CPM, budget and pacing ratio, "
        "platform conversions, CRM leads, qualified, bookings, revenue, ROAS and CPL. CRM events are dated by "
        "their own timestamps. Spend and its ratios are blank (unknown) for ad sets ads.csv lacks, and "
        "everywhere without ads.csv. Read by the pacing and bookings models and the dashboard."
    ),
    metadata={"dagster/column_schema": column_schema(AdsetDaily)},
    check_specs=[dg.AssetCheckSpec("contract", asset=ADSET_DAILY_KEY)],
)
def adset_daily(context: dg.AssetExecutionContext, warehouse: Warehouse, run_window: RunWindow):
    target = "gold.adset_daily"
    with warehouse.get_connection() as con:
        as_of = resolve_as_of(con, run_window.as_of_date)
        staged = stage(con, target, adset_daily_select(as_of))
        gate = gate_and_swap(con, AdsetDaily, staged, target)
        yield from gate.events()
        totals = con.execute(
            f"SELECT sum(spend), sum(leads), sum(qualified), sum(bookings), sum(revenue), min(date), max(date) "
            f"FROM {target}"
        ).fetchall()[0]
        spend, leads, qualified, bookings, revenue, first, last = totals
        # spend is NULL (unknown) where ads.csv has no rows for the ad set; then no ratio is shown.
        yield dg.MaterializeResult(
            metadata=table_metadata(
                con, target,
                as_of_date=str(as_of),
                date_range=f"{first} to {last}",
                spend=round(float(spend), 2) if spend is not None else None,
                leads=int(leads or 0),
                qualified=int(qualified or 0),
                bookings=int(bookings or 0),
                revenue=round(float(revenue or 0), 2),
                roas=round(float(revenue or 0) / float(spend), 3) if spend else None,
                cpl=round(float(spend) / float(leads), 2) if spend is not None and leads else None,
            )
        )


gold_assets = [lead_attribution, adset_daily]
