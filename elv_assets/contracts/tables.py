"""Contracts of the lakehouse tables (silver, gold, monitoring), checked before every write."""

from __future__ import annotations

import pandera.pandas as pa
from pandera.typing import Series

from elv_assets.contracts.inputs import NULLABLE_INT

PACING_STATUSES = ["under_pacing", "on_pace", "over_pacing", "unknown"]
JOIN_METHODS = ["id", "mapping", "name", "ambiguous", "unmatched"]
DQ_KINDS = ["profile", "rule", "cross_table"]


class _Table(pa.DataFrameModel):
    class Config:
        strict = False  # leads keep their extra attribute columns


class SilverAds(_Table):
    """Daily ad performance, typed and cleaned: one row per (date, ad) or (date, ad set)."""

    date: Series[pa.DateTime] = pa.Field(nullable=False)
    platform: Series[str] = pa.Field(nullable=False, description="Lower-case platform.")
    campaign_id: Series[str] = pa.Field(nullable=False)
    campaign_name: Series[str] = pa.Field(nullable=True)
    adset_id: Series[str] = pa.Field(nullable=False)
    adset_name: Series[str] = pa.Field(nullable=True)
    ad_id: Series[str] = pa.Field(nullable=True)
    ad_name: Series[str] = pa.Field(nullable=True)
    spend: Series[float] = pa.Field(ge=0, description="Negative spend set to 0.")
    impressions: Series[NULLABLE_INT] = pa.Field(ge=0)
    clicks: Series[NULLABLE_INT] = pa.Field(ge=0)
    currency: Series[str] = pa.Field(nullable=True)
    ctr: Series[float] = pa.Field(nullable=True, ge=0, description="clicks / impressions; blank when no impressions.")
    cpc: Series[float] = pa.Field(nullable=True, ge=0, description="spend / clicks; blank when no clicks.")
    cpm: Series[float] = pa.Field(nullable=True, ge=0, description="spend / impressions x 1000.")

    @pa.dataframe_check(error="one row per (date, ad) or (date, ad set) when ad_id is blank")
    def one_row_per_key(cls, df) -> bool:
        return not df.assign(_k=df["ad_id"].fillna("adset:" + df["adset_id"]))[["date", "_k"]].duplicated().any()


class SilverAdsets(_Table):
    """Ad-set budgets with pacing status normalised."""

    adset_id: Series[str] = pa.Field(nullable=False, unique=True)
    daily_budget: Series[float] = pa.Field(ge=0)
    pacing_status: Series[str] = pa.Field(isin=PACING_STATUSES)
    pacing_status_raw: Series[str] = pa.Field(nullable=True, description="As exported.")
    start_date: Series[pa.DateTime] = pa.Field(nullable=True)
    end_date: Series[pa.DateTime] = pa.Field(nullable=True)


class SilverConversions(_Table):
    """Platform-reported conversions; types and windows lower-case, blank values 0."""

    date: Series[pa.DateTime] = pa.Field(nullable=False)
    adset_id: Series[str] = pa.Field(nullable=False)
    conversion_type: Series[str] = pa.Field(nullable=False, str_matches=r"^[^A-Z]*$")
    attribution_window: Series[str] = pa.Field(nullable=True, str_matches=r"^[^A-Z]*$")
    count: Series[NULLABLE_INT] = pa.Field(ge=0)
    value: Series[float] = pa.Field(nullable=False)


class SilverLeads(_Table):
    """CRM leads, one row per lead_id; extra attribute columns kept."""

    lead_id: Series[str] = pa.Field(nullable=False, unique=True)
    created_at: Series[pa.DateTime] = pa.Field(nullable=False)
    campaign_id: Series[str] = pa.Field(nullable=True)
    adset_id: Series[str] = pa.Field(nullable=True)
    ad_id: Series[str] = pa.Field(nullable=True)
    utm_campaign: Series[str] = pa.Field(nullable=True)
    utm_content: Series[str] = pa.Field(nullable=True)
    campaign_name: Series[str] = pa.Field(nullable=True)
    adset_name: Series[str] = pa.Field(nullable=True)


class SilverOutcomes(_Table):
    """CRM outcomes, one row per lead_id."""

    lead_id: Series[str] = pa.Field(nullable=False, unique=True)
    qualified_at: Series[pa.DateTime] = pa.Field(nullable=True)
    booked_at: Series[pa.DateTime] = pa.Field(nullable=True)
    won_at: Series[pa.DateTime] = pa.Field(nullable=True)
    revenue: Series[float] = pa.Field(nullable=True, ge=0)


class SilverMapping(_Table):
    """Lookup from a lead's UTM value or name to ad-platform ids."""

    field: Series[str] = pa.Field(nullable=False)
    value: Series[str] = pa.Field(nullable=False)
    campaign_id: Series[str] = pa.Field(nullable=True)
    adset_id: Series[str] = pa.Field(nullable=True)


class LeadAttribution(_Table):
    """Every lead with the campaign / ad set / ad it came from, and how that was decided."""

    lead_id: Series[str] = pa.Field(nullable=False, unique=True)
    created_at: Series[pa.DateTime] = pa.Field(nullable=False)
    campaign_id: Series[str] = pa.Field(nullable=True)
    adset_id: Series[str] = pa.Field(nullable=True)
    ad_id: Series[str] = pa.Field(nullable=True)
    join_method: Series[str] = pa.Field(isin=JOIN_METHODS, description="id > mapping > name; or ambiguous / unmatched.")
    join_detail: Series[str] = pa.Field(nullable=True, description="Which value matched, or why none did.")


class AdsetDaily(_Table):
    """Per (date, ad set): delivery, budget and pacing, platform conversions and CRM results."""

    date: Series[pa.DateTime] = pa.Field(nullable=False)
    adset_id: Series[str] = pa.Field(nullable=False)
    campaign_id: Series[str] = pa.Field(nullable=True)
    platform: Series[str] = pa.Field(nullable=True)
    spend: Series[float] = pa.Field(
        nullable=True, ge=0, description="0 on a day ads.csv has no row for a known ad set; blank (unknown) "
        "for an ad set that ads.csv lacks, or with no ads.csv.")
    impressions: Series[NULLABLE_INT] = pa.Field(nullable=True, ge=0, description="As spend: blank when unknown.")
    clicks: Series[NULLABLE_INT] = pa.Field(nullable=True, ge=0, description="As spend: blank when unknown.")
    ctr: Series[float] = pa.Field(nullable=True, ge=0, description="clicks / impressions; blank when unknown or 0.")
    cpc: Series[float] = pa.Field(nullable=True, ge=0, description="spend / clicks; blank when unknown or 0.")
    cpm: Series[float] = pa.Field(nullable=True, ge=0, description="spend / impressions x 1000; blank when unknown or 0.")
    daily_budget: Series[float] = pa.Field(nullable=True, ge=0)
    pacing_ratio: Series[float] = pa.Field(nullable=True, ge=0, description="spend / daily_budget; blank when either is unknown or 0.")
    pacing_status: Series[str] = pa.Field(isin=PACING_STATUSES)
    platform_conversions: Series[NULLABLE_INT] = pa.Field(ge=0)
    platform_conversion_value: Series[float] = pa.Field()
    leads: Series[NULLABLE_INT] = pa.Field(ge=0, description="CRM leads created that day.")
    qualified: Series[NULLABLE_INT] = pa.Field(ge=0, description="Leads that qualified that day.")
    bookings: Series[NULLABLE_INT] = pa.Field(ge=0, description="Meetings booked that day.")
    revenue: Series[float] = pa.Field(ge=0, description="Revenue of deals won that day.")
    roas: Series[float] = pa.Field(nullable=True, ge=0, description="revenue / spend; blank when spend is unknown or 0.")
    cpl: Series[float] = pa.Field(nullable=True, ge=0, description="spend / leads; blank when spend is unknown or no leads.")

    class Config:
        unique = ["date", "adset_id"]


class DataQualityReport(_Table):
    """Column profiles, silver rule hits and cross-table checks, one row each."""

    kind: Series[str] = pa.Field(isin=DQ_KINDS)
    table_name: Series[str] = pa.Field(nullable=True)
    column_name: Series[str] = pa.Field(nullable=True)
    check_name: Series[str] = pa.Field(nullable=True)
    column_type: Series[str] = pa.Field(nullable=True)
    rows: Series[NULLABLE_INT] = pa.Field(nullable=True, ge=0)
    null_fraction: Series[float] = pa.Field(nullable=True, ge=0, le=1)
    distinct_count: Series[NULLABLE_INT] = pa.Field(nullable=True, ge=0)
    min_value: Series[str] = pa.Field(nullable=True)
    max_value: Series[str] = pa.Field(nullable=True)
    mean: Series[float] = pa.Field(nullable=True)
    hits: Series[NULLABLE_INT] = pa.Field(nullable=True, ge=0)
    detail: Series[str] = pa.Field(nullable=True)


LABEL_STATUSES = ["positive", "negative", "immature"]
SPLITS = ["train", "calib", "test", "unlabeled"]
DRIFT_BANDS = ["stable", "moderate", "major"]


class LeadLabels(_Table):
    """Label maturity per lead: did it qualify within the window, and is the answer known yet?"""

    lead_id: Series[str] = pa.Field(nullable=False, unique=True)
    created_at: Series[pa.DateTime] = pa.Field(nullable=False)
    campaign_id: Series[str] = pa.Field(nullable=True)
    adset_id: Series[str] = pa.Field(nullable=True)
    label: Series[NULLABLE_INT] = pa.Field(nullable=True, isin=[0, 1], description="1, 0, or blank while immature.")
    label_status: Series[str] = pa.Field(isin=LABEL_STATUSES)
    mature: Series[bool] = pa.Field(description="The label window closed by the end of the as_of day.")
    days_to_qualify: Series[float] = pa.Field(nullable=True, description="Days from creation to qualification.")


class LeadFeatures(_Table):
    """One row per lead: its attributes, calendar and lagged rolling ad features (more columns than named)."""

    lead_id: Series[str] = pa.Field(nullable=False, unique=True)
    created_at: Series[pa.DateTime] = pa.Field(nullable=False)
    campaign_id: Series[str] = pa.Field(nullable=True)
    adset_id: Series[str] = pa.Field(nullable=True)
    hour: Series[NULLABLE_INT] = pa.Field(ge=0, le=23)
    adset_spend_7d: Series[float] = pa.Field(nullable=True, ge=0, description="Ad set spend over the 7 days ending d - lag.")
    adset_ctr_7d: Series[float] = pa.Field(nullable=True, ge=0)


class TrainingTable(LeadFeatures):
    """The mature leads with features, label and their time split."""

    label: Series[NULLABLE_INT] = pa.Field(isin=[0, 1])
    split: Series[str] = pa.Field(isin=SPLITS[:3])


class LeadScores(_Table):
    """Every lead scored by the serving model: probability, ELV, rank, decile and reasons."""

    lead_id: Series[str] = pa.Field(nullable=False, unique=True)
    created_at: Series[pa.DateTime] = pa.Field(nullable=False)
    campaign_id: Series[str] = pa.Field(nullable=True)
    adset_id: Series[str] = pa.Field(nullable=True)
    split: Series[str] = pa.Field(isin=SPLITS)
    label: Series[NULLABLE_INT] = pa.Field(nullable=True, isin=[0, 1])
    p_qualified_14d: Series[float] = pa.Field(ge=0, le=1, description="Calibrated p(qualified within the window).")
    elv: Series[float] = pa.Field(ge=0, description="p x expected value of a qualified lead, in the data's currency.")
    rank: Series[NULLABLE_INT] = pa.Field(ge=1, unique=True)
    decile: Series[NULLABLE_INT] = pa.Field(ge=1, le=10)
    reason_1: Series[str] = pa.Field(nullable=True)
    reason_2: Series[str] = pa.Field(nullable=True)
    reason_3: Series[str] = pa.Field(nullable=True)


class Leaderboard(_Table):
    """Campaigns or ad sets over the leaderboard window, best ELV per unit of spend first."""

    leads: Series[NULLABLE_INT] = pa.Field(ge=0)
    spend: Series[float] = pa.Field(nullable=True, ge=0)
    qualified_so_far: Series[NULLABLE_INT] = pa.Field(ge=0)
    predicted_qualified: Series[float] = pa.Field(ge=0)
    predicted_elv: Series[float] = pa.Field(ge=0)
    elv_per_spend: Series[float] = pa.Field(nullable=True, ge=0)
    cpl: Series[float] = pa.Field(nullable=True, ge=0)
    cost_per_predicted_qualified: Series[float] = pa.Field(nullable=True, ge=0)
    low_volume: Series[bool] = pa.Field(description="Fewer leads than the minimum: not ranked.")
    rank: Series[NULLABLE_INT] = pa.Field(nullable=True, ge=1)


class CampaignLeaderboard(Leaderboard):
    campaign_id: Series[str] = pa.Field(nullable=False, unique=True)


class AdsetLeaderboard(Leaderboard):
    adset_id: Series[str] = pa.Field(nullable=False, unique=True)
    campaign_id: Series[str] = pa.Field(nullable=True)


class FeatureDrift(_Table):
    """PSI of the most important features: training window against the last days of leads."""

    feature: Series[str] = pa.Field(unique=True)
    kind: Series[str] = pa.Field(isin=["numeric", "categorical"])
    psi: Series[float] = pa.Field(ge=0)
    band: Series[str] = pa.Field(isin=DRIFT_BANDS)
    biggest_shift: Series[str] = pa.Field(nullable=True)
    n_reference: Series[NULLABLE_INT] = pa.Field(ge=0)
    n_current: Series[NULLABLE_INT] = pa.Field(ge=0)


FORECAST_KINDS = ["backtest", "forecast"]


class AdsetDailyFeatures(_Table):
    """Per (date, ad set): what was known at the end of the day before, and the day's own targets."""

    date: Series[pa.DateTime] = pa.Field(nullable=False)
    adset_id: Series[str] = pa.Field(nullable=False)
    is_future: Series[bool] = pa.Field(description="The as_of + 1 row: targets unknown, forecasts are for it.")
    weekday: Series[NULLABLE_INT] = pa.Field(ge=1, le=7)
    days_since_launch: Series[NULLABLE_INT] = pa.Field(nullable=True, ge=0)
    bookings_avg7: Series[float] = pa.Field(nullable=True, ge=0, description="Mean bookings over d-7 .. d-1.")
    spend_avg7: Series[float] = pa.Field(nullable=True, ge=0)
    pacing_ratio_avg7: Series[float] = pa.Field(nullable=True, ge=0)
    budget: Series[float] = pa.Field(nullable=True, ge=0)
    target_bookings: Series[NULLABLE_INT] = pa.Field(nullable=True, ge=0)

    @pa.dataframe_check(error="one row per (date, adset_id)")
    def one_row_per_day(cls, df) -> bool:
        return not df.duplicated(["date", "adset_id"]).any()


class AdsetWeekly(_Table):
    """Weeks (Monday first) per ad set."""

    week_start: Series[pa.DateTime] = pa.Field(nullable=False)
    adset_id: Series[str] = pa.Field(nullable=False)
    days: Series[NULLABLE_INT] = pa.Field(ge=1, le=7)
    spend: Series[float] = pa.Field(nullable=True, ge=0)
    leads: Series[float] = pa.Field(nullable=True, ge=0)
    bookings: Series[float] = pa.Field(nullable=True, ge=0)


class BookingsForecast(_Table):
    """Next-day bookings per ad set: backtest predictions beside actuals, and the forecast for as_of + 1."""

    date: Series[pa.DateTime] = pa.Field(nullable=False)
    adset_id: Series[str] = pa.Field(nullable=False)
    kind: Series[str] = pa.Field(isin=FORECAST_KINDS)
    fold: Series[NULLABLE_INT] = pa.Field(nullable=True, ge=1)
    actual: Series[float] = pa.Field(nullable=True, ge=0)
    predicted: Series[float] = pa.Field(ge=0)
    baseline: Series[float] = pa.Field(nullable=True, ge=0, description="The 7-day moving average of bookings.")


class PacingRisk(_Table):
    """Per ad set, for as_of + 1: the probability of under-pacing, the pace so far and what to do."""

    adset_id: Series[str] = pa.Field(nullable=False, unique=True)
    date: Series[pa.DateTime] = pa.Field(nullable=False)
    p_under_pace: Series[float] = pa.Field(ge=0, le=1)
    pace_7d: Series[float] = pa.Field(nullable=True, ge=0)
    budget: Series[float] = pa.Field(nullable=True, ge=0)
    budget_left_in_month: Series[float] = pa.Field(nullable=True)
    action: Series[str] = pa.Field(nullable=False)


SILVER_MODELS = {
    "ads": SilverAds,
    "adsets": SilverAdsets,
    "conversions": SilverConversions,
    "leads": SilverLeads,
    "outcomes": SilverOutcomes,
    "mapping": SilverMapping,
}
