"""Contracts of the lakehouse tables (silver, gold, monitoring), checked before every write."""

from __future__ import annotations

import numpy as np
import pandera.pandas as pa
from pandera.typing import Series

from elv_assets.contracts.inputs import NULLABLE_INT

PACING_STATUSES = ["under_pacing", "on_pace", "over_pacing", "unknown"]
JOIN_METHODS = ["id", "mapping", "name", "lead_field", "ambiguous", "unmatched"]
DQ_KINDS = ["profile", "rule", "cross_table"]


# Columns that mean the same in every table, described once: a table's contract describes its own columns,
# this glossary the shared ones (the column schema each table is published with reads both).
GLOSSARY = {
    "lead_id": "CRM lead id (leads.csv).",
    "created_at": "When the lead was created (leads.csv).",
    "campaign_id": "Campaign id: the platform's, or the leads' own campaign value where there is no ads.csv.",
    "campaign_name": "Campaign name as the ad platform shows it (ads.csv).",
    "adset_id": "Ad set (ad group) id.",
    "adset_name": "Ad set name as the ad platform shows it (ads.csv).",
    "ad_id": "Ad id.",
    "date": "The day.",
    "platform": "Ad platform, lower case (meta, google, linkedin, ...).",
    "spend": "Money spent, in the data's currency; blank when unknown (no ads.csv rows for it).",
    "impressions": "Impressions served.",
    "clicks": "Clicks.",
    "leads": "CRM leads created.",
    "qualified": "Leads that qualified.",
    "bookings": "Meetings booked.",
    "revenue": "Revenue of deals won, in the data's currency.",
    "budget": "Daily budget in the data's currency (adsets.csv); blank without one.",
    "daily_budget": "Daily budget in the data's currency (adsets.csv); blank without one.",
    "pacing_ratio": "spend / budget; blank when either is unknown or 0.",
    "pacing_status": "The platform's pacing status, normalised: under_pacing, on_pace, over_pacing or unknown.",
    "platform_conversions": "Conversions the ad platform reports (conversions.csv), all types.",
    "platform_conversion_value": "The value the ad platform reports for them, in the data's currency.",
    "cpl": "Cost per lead: spend / leads; blank when spend is unknown or there are no leads.",
    "roas": "Return on ad spend: revenue / spend; blank when spend is unknown or 0.",
    "label": "1 when the lead qualified within the label window, 0 when the window closed without, blank while open.",
    "split": "train, calib or test (by created_at, mature leads only), or unlabeled.",
    "as_of_date": "The run's as-of date.",
    "rank": "1 is the best; blank when not ranked.",
    "window_start": "First day of the leaderboard window.",
    "window_end": "Last day of the leaderboard window (the as-of date).",
}


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


AS_OF_RULES = ["configured", "latest date in the data"]


class AsOfDate(_Table):
    """The run's one as-of date: every gold table is what a marketer could have known at the end of that day."""

    as_of_date: Series[pa.DateTime] = pa.Field(nullable=False, description="The last day the run's tables cover.")
    rule: Series[str] = pa.Field(isin=AS_OF_RULES, description="Configured (a schedule's last complete day, --as-of, "
                                 "ELV_AS_OF), or the latest date in the data.")
    last_ad_date: Series[pa.DateTime] = pa.Field(nullable=True, description="The last day in silver.ads (blank: none).")
    last_lead_date: Series[pa.DateTime] = pa.Field(nullable=True, description="The last day a lead was created.")
    run_id: Series[str] = pa.Field(nullable=False, description="The Dagster run that resolved it.")
    resolved_at: Series[pa.DateTime] = pa.Field(nullable=False, description="When it was resolved (UTC).")

    @pa.dataframe_check(error="exactly one row")
    def one_row(cls, df) -> bool:
        return len(df) == 1


class LeadAttribution(_Table):
    """Every lead with the campaign / ad set / ad it came from, and how that was decided."""

    lead_id: Series[str] = pa.Field(nullable=False, unique=True)
    created_at: Series[pa.DateTime] = pa.Field(nullable=False)
    campaign_id: Series[str] = pa.Field(nullable=True)
    adset_id: Series[str] = pa.Field(nullable=True)
    ad_id: Series[str] = pa.Field(nullable=True)
    join_method: Series[str] = pa.Field(isin=JOIN_METHODS, description=(
        "id > mapping > name; lead_field when there is no ads.csv and the campaign is the lead's own campaign name "
        "or utm_campaign; or ambiguous / unmatched."))
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

    kind: Series[str] = pa.Field(isin=DQ_KINDS,
        description="profile (a column), rule (a silver cleaning rule) or cross_table (a check between tables).")
    table_name: Series[str] = pa.Field(nullable=True, description="The table profiled or checked.")
    column_name: Series[str] = pa.Field(nullable=True, description="The column profiled.")
    check_name: Series[str] = pa.Field(nullable=True, description="The rule or cross-table check.")
    column_type: Series[str] = pa.Field(nullable=True, description="The column's warehouse type.")
    rows: Series[NULLABLE_INT] = pa.Field(nullable=True, ge=0, description="Rows in the table.")
    null_fraction: Series[float] = pa.Field(nullable=True, ge=0, le=1, description="Share of blank values (0 to 1).")
    distinct_count: Series[NULLABLE_INT] = pa.Field(nullable=True, ge=0,
        description="Approximate number of distinct values.")
    min_value: Series[str] = pa.Field(nullable=True, description="Smallest value, as text.")
    max_value: Series[str] = pa.Field(nullable=True, description="Largest value, as text.")
    mean: Series[float] = pa.Field(nullable=True, description="Mean of a numeric column.")
    hits: Series[NULLABLE_INT] = pa.Field(nullable=True, ge=0,
        description="Rows the rule changed or the check found.")
    detail: Series[str] = pa.Field(nullable=True, description="What the rule or check means, in words.")


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
    label_status: Series[str] = pa.Field(isin=LABEL_STATUSES,
        description="positive, negative (window closed, not qualified) or immature (window open).")
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
    expected_value_if_qualified: Series[float] = pa.Field(ge=0, description=(
        "E[value | qualified, lead]: what this lead is worth if it qualifies, in the data's currency."))
    elv: Series[float] = pa.Field(ge=0, description="p_qualified_14d x expected_value_if_qualified, in the data's currency.")
    rank: Series[NULLABLE_INT] = pa.Field(ge=1, unique=True)
    decile: Series[NULLABLE_INT] = pa.Field(ge=1, le=10, description="1 is the tenth of leads with the highest ELV.")
    reason_1: Series[str] = pa.Field(nullable=True, description="The strongest reason for the score, in words.")
    reason_2: Series[str] = pa.Field(nullable=True,
        description="The second strongest reason for the score, in words.")
    value_reason: Series[str] = pa.Field(nullable=True, description="What drives this lead's value if it qualifies.")
    scored_by: Series[str] = pa.Field(isin=["serving model", "out of fold", "in sample"], description=(
        "Where p comes from: the serving model (leads it never learned from); for the mature leads it learned "
        "from, a model fitted on the leads before theirs (out of fold); the oldest quarter keeps its own (in sample)."))
    reason_3: Series[str] = pa.Field(nullable=True, description="The third strongest reason for the score, in words.")
    age_days: Series[float] = pa.Field(ge=0, description="Days from the lead's creation to the end of the as-of day.")
    p_given_age: Series[float] = pa.Field(ge=0, le=1, description=(
        "Age-aware p(qualified within the window), given what is known at the as-of date: 1 once qualified, 0 once "
        "the window closed without it, else p_qualified_14d lowered by the days already waited (ml/age.py)."))
    elv_given_age: Series[float] = pa.Field(ge=0, description=(
        "p_given_age x expected_value_if_qualified: the lead's ELV given what is known today; the boards sum it."))
    model_version: Series[str] = pa.Field(description="The run that trained the serving model that scored the lead.")
    features_hash: Series[np.uint64] = pa.Field(nullable=True, description=(
        "A hash of the lead's gold.lead_features row (decimals to 6 places) when it was scored: the next run keeps "
        "a settled lead's score (same model, window closed, same label and features) instead of scoring it again. "
        "Not served."))


class Leaderboard(_Table):
    """Campaigns or ad sets over the leaderboard window, best ELV per unit of spend first."""

    leads: Series[NULLABLE_INT] = pa.Field(ge=0)
    spend: Series[float] = pa.Field(nullable=True, ge=0)
    qualified_so_far: Series[NULLABLE_INT] = pa.Field(ge=0,
        description="Leads of the window that have qualified by the as-of date.")
    predicted_qualified: Series[float] = pa.Field(ge=0, description=(
        "Sum of the leads' age-aware p_given_age: the qualified leads the window is expected to bring, counting "
        "those already qualified as 1 and the young ones by the chance left at their age."))
    predicted_elv: Series[float] = pa.Field(ge=0, description=(
        "Sum of the leads' age-aware ELV (elv_given_age), in the data's currency."))
    predicted_elv_at_creation: Series[float] = pa.Field(ge=0, description=(
        "Sum of the leads' ELV as scored at creation (elv), before anything about them was known."))
    elv_per_spend: Series[float] = pa.Field(nullable=True, ge=0,
        description="predicted_elv / spend: lead value bought per unit of spend; blank without spend.")
    cpl: Series[float] = pa.Field(nullable=True, ge=0)
    cost_per_predicted_qualified: Series[float] = pa.Field(nullable=True, ge=0,
        description="spend / predicted_qualified; blank without spend.")
    low_volume: Series[bool] = pa.Field(description="Fewer leads than the minimum: not ranked.")
    rank: Series[NULLABLE_INT] = pa.Field(nullable=True, ge=1)
    window_start: Series[pa.DateTime] = pa.Field(nullable=False)
    window_end: Series[pa.DateTime] = pa.Field(nullable=False)


class CampaignLeaderboard(Leaderboard):
    campaign_id: Series[str] = pa.Field(nullable=False, unique=True)
    campaign_name: Series[str] = pa.Field(nullable=True)


class AdsetLeaderboard(Leaderboard):
    adset_id: Series[str] = pa.Field(nullable=False, unique=True)
    adset_name: Series[str] = pa.Field(nullable=True)
    campaign_id: Series[str] = pa.Field(nullable=True)


class PredictionLedger(_Table):
    """Append-only: what each scoring run predicted for every lead whose window was still open."""

    as_of_date: Series[pa.DateTime] = pa.Field(nullable=False, description="The as-of date of the run that predicted.")
    model_version: Series[str] = pa.Field(nullable=False, description="The run that trained the model that predicted.")
    lead_id: Series[str] = pa.Field(nullable=False)
    created_at: Series[pa.DateTime] = pa.Field(nullable=False)
    campaign_id: Series[str] = pa.Field(nullable=True)
    adset_id: Series[str] = pa.Field(nullable=True)
    age_days: Series[float] = pa.Field(ge=0, description="The lead's age in days at the end of the as-of day.")
    p_qualified_14d: Series[float] = pa.Field(ge=0, le=1, description="p(qualified within the window) at creation.")
    expected_value_if_qualified: Series[float] = pa.Field(ge=0, description="E[value | qualified, lead] that day.")
    elv: Series[float] = pa.Field(ge=0, description="p_qualified_14d x expected_value_if_qualified.")
    p_given_age: Series[float] = pa.Field(ge=0, le=1, description="The age-aware p that day (gold.lead_scores).")
    elv_given_age: Series[float] = pa.Field(ge=0, description="p_given_age x expected_value_if_qualified.")
    qualified_by_as_of: Series[bool] = pa.Field(description="Had the lead qualified (within its window) by that day?")
    run_id: Series[str] = pa.Field(nullable=False, description="The Dagster run that recorded the row.")


class RealisedVsPredicted(_Table):
    """Predicted against realised, per weekly creation cohort and campaign (and '(all)'), from the ledger."""

    cohort_week: Series[pa.DateTime] = pa.Field(nullable=False, description="Monday of the week the leads were created.")
    campaign_id: Series[str] = pa.Field(nullable=False, description="The campaign, or (all) for the whole cohort.")
    leads: Series[NULLABLE_INT] = pa.Field(ge=1, description="Leads of the cell with a prediction in the ledger.")
    first_predicted: Series[pa.DateTime] = pa.Field(description="Earliest as-of date of the cell's predictions.")
    last_predicted: Series[pa.DateTime] = pa.Field(description="Latest as-of date of a first prediction in the cell.")
    mature_leads: Series[NULLABLE_INT] = pa.Field(ge=0, description="Leads whose window has closed by the as-of date.")
    status: Series[str] = pa.Field(isin=["matured", "maturing"], description="matured once every lead's window closed.")
    predicted_qualified: Series[float] = pa.Field(ge=0, description="Sum of p at first prediction.")
    band_low: Series[float] = pa.Field(ge=0, description="Lower end of the 90 % band (binomial) of the predicted count.")
    band_high: Series[float] = pa.Field(ge=0, description="Upper end of that band.")
    qualified: Series[NULLABLE_INT] = pa.Field(ge=0, description="Qualified within the window (so far, while maturing).")
    versus_band: Series[str] = pa.Field(nullable=True, isin=["inside", "above", "below"], description=(
        "Matured cells: was the qualified count inside the band, above or below it? Blank while maturing."))
    expected_qualified_now: Series[float] = pa.Field(ge=0, description=(
        "Sum of today's age-aware p: where the count is expected to end, given what is known now."))
    expected_roc_auc: Series[float] = pa.Field(nullable=True, ge=0, le=1, description=(
        "The ROC-AUC the predictions should reach if calibrated (estimated from p alone; available on day 1)."))
    expected_pr_auc: Series[float] = pa.Field(nullable=True, ge=0, le=1, description=(
        "The PR-AUC (average precision) they should reach if calibrated."))
    roc_auc: Series[float] = pa.Field(nullable=True, ge=0, le=1, description=(
        "Realised ROC-AUC, once matured with at least 5 qualified and 5 not."))
    pr_auc: Series[float] = pa.Field(nullable=True, ge=0, le=1, description="Realised PR-AUC, likewise.")
    predicted_elv: Series[float] = pa.Field(ge=0, description="Sum of ELV at first prediction.")
    realised_value: Series[float] = pa.Field(nullable=True, ge=0, description=(
        "Revenue of deals won within the value window after qualifying; blank until every lead's window closed."))


class ElvHistory(_Table):
    """Each campaign's predicted ELV per spend as it was seen on each as-of date in the ledger."""

    as_of_date: Series[pa.DateTime] = pa.Field(nullable=False)
    campaign_id: Series[str] = pa.Field(nullable=False)
    leads: Series[NULLABLE_INT] = pa.Field(ge=0, description="Leads created in the window before the as-of date.")
    predicted_qualified: Series[float] = pa.Field(ge=0, description="Their sum of p at that date.")
    predicted_elv: Series[float] = pa.Field(ge=0, description="Their sum of ELV at that date.")
    spend: Series[float] = pa.Field(nullable=True, ge=0, description="The campaign's spend over the same days.")
    elv_per_spend: Series[float] = pa.Field(nullable=True, ge=0, description="predicted_elv / spend.")
    window_start: Series[pa.DateTime] = pa.Field(nullable=False, description="First day of the window.")


class FeatureDrift(_Table):
    """PSI of the most important features: training window against the last days of leads."""

    feature: Series[str] = pa.Field(unique=True, description="A feature the serving model relies on.")
    kind: Series[str] = pa.Field(isin=["numeric", "categorical"], description="numeric or categorical.")
    psi: Series[float] = pa.Field(ge=0,
        description="Population Stability Index, training window against the current window.")
    band: Series[str] = pa.Field(isin=DRIFT_BANDS,
        description="stable (below 0.1), moderate (0.1 to 0.25) or major (above 0.25).")
    biggest_shift: Series[str] = pa.Field(nullable=True,
        description="The bucket whose share moved most, with both shares.")
    n_reference: Series[NULLABLE_INT] = pa.Field(ge=0, description="Leads in the reference (training) window.")
    n_current: Series[NULLABLE_INT] = pa.Field(ge=0, description="Leads in the current window.")
    importance: Series[float] = pa.Field(ge=0, description="Mean absolute contribution to the serving model's log-odds.")


FORECAST_KINDS = ["backtest", "forecast"]
BUDGET_SOURCES = ["adsets.csv", "usual spend"]
FORECAST_MEASURES = ["bookings", "platform_conversions"]


class AdsetDailyFeatures(_Table):
    """Per (date, ad set): what was known at the end of the day before, and the day's own targets."""

    date: Series[pa.DateTime] = pa.Field(nullable=False,
        description="The day the row describes; its features know only the days before it.")
    adset_id: Series[str] = pa.Field(nullable=False)
    is_future: Series[bool] = pa.Field(description="The as_of + 1 row: targets unknown, forecasts are for it.")
    weekday: Series[NULLABLE_INT] = pa.Field(ge=1, le=7,
        description="ISO weekday of the date (1 Monday .. 7 Sunday).")
    weekday_pace: Series[float] = pa.Field(nullable=True, ge=0, description=(
        "The whole account's pace (spend / budget) on the date's weekday as a share of its pace across the week, "
        "over the 8 weeks before the date (0.79: it usually spends 21 % less that weekday); blank until 4 of that "
        "weekday are seen. Judges the weekday's under-pacing target, not a model feature."))
    days_since_launch: Series[NULLABLE_INT] = pa.Field(nullable=True, ge=0,
        description="Days since the ad set's first day with spend.")
    bookings_avg7: Series[float] = pa.Field(nullable=True, ge=0, description="Mean bookings over d-7 .. d-1.")
    spend_avg7: Series[float] = pa.Field(nullable=True, ge=0, description="Mean daily spend over d-7 .. d-1.")
    pacing_ratio_avg7: Series[float] = pa.Field(nullable=True, ge=0, description="Spend / budget over d-7 .. d-1.")
    budget: Series[float] = pa.Field(nullable=True, ge=0, description=(
        "The day's daily budget (for as_of + 1: today's); without one on record, the usual daily spend."))
    budget_source: Series[str] = pa.Field(isin=BUDGET_SOURCES, description=(
        "adsets.csv (its daily budget), or usual spend (the median daily spend of the 28 days before)."))
    target_bookings: Series[NULLABLE_INT] = pa.Field(nullable=True, ge=0,
        description="Bookings on the day itself (the bookings model's target); blank for as_of + 1.")

    @pa.dataframe_check(error="one row per (date, adset_id)")
    def one_row_per_day(cls, df) -> bool:
        return not df.duplicated(["date", "adset_id"]).any()


class AdsetWeekly(_Table):
    """Weeks (Monday first) per ad set."""

    week_start: Series[pa.DateTime] = pa.Field(nullable=False, description="The Monday the week starts on.")
    adset_id: Series[str] = pa.Field(nullable=False)
    days: Series[NULLABLE_INT] = pa.Field(ge=1, le=7, description="Days of the week with rows for the ad set.")
    spend: Series[float] = pa.Field(nullable=True, ge=0, description="Money spent in the week; blank when unknown.")
    leads: Series[float] = pa.Field(nullable=True, ge=0, description="CRM leads created in the week.")
    bookings: Series[float] = pa.Field(nullable=True, ge=0, description="Meetings booked in the week.")


class BookingsForecast(_Table):
    """Next-day bookings (or platform conversions) per ad set: backtest predictions beside actuals, and the
    forecast for as_of + 1."""

    date: Series[pa.DateTime] = pa.Field(nullable=False)
    adset_id: Series[str] = pa.Field(nullable=False)
    measure: Series[str] = pa.Field(isin=FORECAST_MEASURES, description=(
        "What is forecast: CRM bookings, or (an ad export without a CRM) the conversions the platform reports."))
    kind: Series[str] = pa.Field(isin=FORECAST_KINDS,
        description="backtest (a rolling-origin test prediction beside the actual) or forecast (for as_of + 1).")
    fold: Series[NULLABLE_INT] = pa.Field(nullable=True, ge=1,
        description="The backtest fold (blank for the forecast).")
    actual: Series[float] = pa.Field(nullable=True, ge=0, description="The measure that day (blank for the forecast).")
    predicted: Series[float] = pa.Field(ge=0, description="The model's expected value of the measure.")
    baseline: Series[float] = pa.Field(nullable=True, ge=0, description="The measure's 7-day moving average.")


class PacingRisk(_Table):
    """Per ad set, for as_of + 1: the probability of under-pacing, whether it needs a person, the pace so far and
    what to do."""

    adset_id: Series[str] = pa.Field(nullable=False, unique=True)
    date: Series[pa.DateTime] = pa.Field(nullable=False, description="The day at risk: as_of + 1.")
    at_risk: Series[bool] = pa.Field(nullable=False, description=(
        "Needs a person: p_under_weekday_pace is at least 50 %. An ad set likely to spend below budget only as the "
        "whole account does on that weekday (a Sunday) is not at risk."))
    p_under_weekday_pace: Series[float] = pa.Field(ge=0, le=1, description=(
        "Calibrated probability the ad set spends below the under-pacing share of its budget scaled by the "
        "account's usual pace on that weekday (weekday_pace, capped at 1); never above p_under_pace, and equal to it "
        "on a weekday the account does not usually spend less."))
    p_under_pace: Series[float] = pa.Field(ge=0, le=1,
        description="Calibrated probability the ad set spends below the under-pacing share of its budget that day.")
    weekday_pace: Series[float] = pa.Field(nullable=True, ge=0, description=(
        "The whole account's usual pace on that weekday as a share of its pace across the week (the 8 weeks "
        "before); below 1 on weekdays it usually spends less."))
    pace_7d: Series[float] = pa.Field(nullable=True, ge=0, description="Spend / budget over the last 7 days.")
    pace_yesterday: Series[float] = pa.Field(nullable=True, ge=0, description="Spend / budget on the as-of date.")
    spend_month_to_date: Series[float] = pa.Field(nullable=True, ge=0, description="Spend so far in the as-of month.")
    budget: Series[float] = pa.Field(nullable=True, ge=0,
        description="Its daily budget for the day, or its usual daily spend where it has no budget on record.")
    budget_source: Series[str] = pa.Field(isin=BUDGET_SOURCES, description=(
        "adsets.csv (its daily budget), or usual spend (the median daily spend of the 28 days before)."))
    budget_left_in_month: Series[float] = pa.Field(nullable=True,
        description="Latest daily budget x days in the month, less the month's spend so far.")
    action: Series[str] = pa.Field(nullable=False, description="What to do, in plain words.")


SILVER_MODELS = {
    "ads": SilverAds,
    "adsets": SilverAdsets,
    "conversions": SilverConversions,
    "leads": SilverLeads,
    "outcomes": SilverOutcomes,
    "mapping": SilverMapping,
}
