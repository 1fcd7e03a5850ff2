"""Input contracts v1: what each CSV in the data folder must hold, once its text is typed.

Each pandera model is the single source of a file's column names, types and rules. A column
annotated `Optional[...]` may be absent from the file; columns not named here are kept as text
(for leads they become model features). Date columns carry `metadata={"kind": "date"}` and
timestamp columns `{"kind": "timestamp"}`: both accept ISO (2025-03-31, 2025-03-31 14:05) and UK
day-first (31/03/2025, 31/03/2025 14:05) forms. The bring-your-own-data guide (docs/contracts.md)
explains every column for people.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandera.pandas as pa
from pandera.typing import Series

DATE = {"kind": "date"}
TIMESTAMP = {"kind": "timestamp"}
NULLABLE_INT = "Int64"  # pandas' nullable integer: counts that may be blank

# Lead columns that can tie a lead to the ad platform's keys, best first.
LEAD_SOURCE_COLUMNS = ("campaign_id", "adset_id", "ad_id", "utm_campaign", "utm_content", "campaign_name", "adset_name")
MAPPING_FIELDS = ("utm_campaign", "utm_content", "campaign_name", "adset_name")
# Lead columns that identify a person or a click: kept in silver.leads for the offline-conversion export (click ids
# as they are, e-mail and phone only ever hashed), never model features, never copied into gold, never previewed.
LEAD_CONTACT_COLUMNS = ("gclid", "fbclid", "email", "phone")


class _Input(pa.DataFrameModel):
    class Config:
        strict = False  # unknown extra columns are kept
        coerce = False  # typing happens in SQL, with every failure reported by row


class AdsInput(_Input):
    """ads.csv (optional): daily ad performance, one row per date and ad (or per ad set without ad columns)."""

    date: Series[pa.DateTime] = pa.Field(nullable=False, metadata=DATE, description="Day of delivery.")
    platform: Series[str] = pa.Field(nullable=False, description="Ad platform, e.g. meta, google, linkedin.")
    campaign_id: Series[str] = pa.Field(nullable=False, description="Platform campaign id.")
    campaign_name: Series[str] | None = pa.Field(nullable=True, description="Campaign name as shown in the platform.")
    adset_id: Series[str] = pa.Field(nullable=False, description="Ad set (ad group) id.")
    adset_name: Series[str] | None = pa.Field(nullable=True, description="Ad set name.")
    ad_id: Series[str] | None = pa.Field(nullable=True, description="Ad id; absent when ads are not exported.")
    ad_name: Series[str] | None = pa.Field(nullable=True, description="Ad name.")
    spend: Series[float] = pa.Field(nullable=False, description="Money spent that day; negative refunds are set to 0 in silver.")
    impressions: Series[NULLABLE_INT] = pa.Field(nullable=False, ge=0, description="Impressions served.")
    clicks: Series[NULLABLE_INT] = pa.Field(nullable=False, ge=0, description="Clicks.")
    currency: Series[str] | None = pa.Field(nullable=True, description="ISO currency code; one per dataset.")


class AdsetsInput(_Input):
    """adsets.csv (optional): ad-set budgets and the platform's pacing status."""

    adset_id: Series[str] = pa.Field(nullable=False, description="Ad set id, as in ads.csv.")
    daily_budget: Series[float] = pa.Field(nullable=False, ge=0, description="Daily budget in the dataset currency.")
    pacing_status: Series[str] | None = pa.Field(nullable=True, description="Pacing status as exported, any spelling.")
    start_date: Series[pa.DateTime] | None = pa.Field(nullable=True, metadata=DATE, description="First day the budget applies.")
    end_date: Series[pa.DateTime] | None = pa.Field(nullable=True, metadata=DATE, description="Last day the budget applies.")


class ConversionsInput(_Input):
    """conversions.csv (optional): conversions as the platform reports them."""

    date: Series[pa.DateTime] = pa.Field(nullable=False, metadata=DATE, description="Day of the conversion.")
    adset_id: Series[str] = pa.Field(nullable=False, description="Ad set id, as in ads.csv.")
    conversion_type: Series[str] = pa.Field(nullable=False, description="e.g. lead, purchase (any case).")
    attribution_window: Series[str] | None = pa.Field(nullable=True, description="e.g. 7d_click (any case).")
    count: Series[NULLABLE_INT] = pa.Field(nullable=False, ge=0, description="Number of conversions.")
    value: Series[float] | None = pa.Field(nullable=True, description="Reported conversion value; blank means 0.")


class LeadsInput(_Input):
    """leads.csv: one row per CRM lead. Extra columns (form, country, device...) become features."""

    lead_id: Series[str] = pa.Field(nullable=False, description="CRM lead id.")
    created_at: Series[pa.DateTime] = pa.Field(nullable=False, metadata=TIMESTAMP, description="When the lead was created.")
    campaign_id: Series[str] | None = pa.Field(nullable=True, description="Campaign id, when the CRM captured it.")
    adset_id: Series[str] | None = pa.Field(nullable=True, description="Ad set id, when captured.")
    ad_id: Series[str] | None = pa.Field(nullable=True, description="Ad id, when captured.")
    utm_campaign: Series[str] | None = pa.Field(nullable=True, description="utm_campaign of the landing URL.")
    utm_content: Series[str] | None = pa.Field(nullable=True, description="utm_content of the landing URL.")
    campaign_name: Series[str] | None = pa.Field(nullable=True, description="Campaign name typed into the CRM.")
    adset_name: Series[str] | None = pa.Field(nullable=True, description="Ad set name typed into the CRM.")
    gclid: Series[str] | None = pa.Field(nullable=True, description=(
        "Google click id (gclid) of the landing URL: ties the lead to its Google Ads click for the offline-conversion "
        "upload. Never a feature."))
    fbclid: Series[str] | None = pa.Field(nullable=True, description=(
        "Meta click id (fbclid) of the landing URL, when captured. Never a feature."))
    email: Series[str] | None = pa.Field(nullable=True, description=(
        "The lead's e-mail address: only its SHA-256 hash ever leaves the warehouse (Meta's offline-conversion file). "
        "Never a feature."))
    phone: Series[str] | None = pa.Field(nullable=True, description=(
        "The lead's phone number with its country code (+44 7700 900123): only its SHA-256 hash ever leaves the "
        "warehouse. Never a feature."))


class OutcomesInput(_Input):
    """outcomes.csv: what happened to each lead later, from the CRM."""

    lead_id: Series[str] = pa.Field(nullable=False, description="CRM lead id, as in leads.csv.")
    qualified_at: Series[pa.DateTime] | None = pa.Field(nullable=True, metadata=TIMESTAMP, description="When the lead qualified.")
    booked_at: Series[pa.DateTime] | None = pa.Field(nullable=True, metadata=TIMESTAMP, description="When a meeting was booked.")
    won_at: Series[pa.DateTime] | None = pa.Field(nullable=True, metadata=TIMESTAMP, description="When the deal was won.")
    revenue: Series[float] | None = pa.Field(nullable=True, ge=0, description="Revenue of the won deal.")


class MappingInput(_Input):
    """mapping.csv (optional): resolves a lead's UTM value or name to ad-platform ids."""

    field: Series[str] = pa.Field(nullable=False, isin=list(MAPPING_FIELDS), description="Which lead column `value` matches.")
    value: Series[str] = pa.Field(nullable=False, description="The lead's value in that column.")
    campaign_id: Series[str] | None = pa.Field(nullable=True, description="Campaign id it maps to.")
    adset_id: Series[str] | None = pa.Field(nullable=True, description="Ad set id it maps to.")


@dataclass(frozen=True)
class InputFile:
    """One file of the data folder and its contract."""

    name: str
    model: type[pa.DataFrameModel]
    required: bool
    keys: tuple[str, ...]  # the row key, in words for people
    key_sql: str  # the same key as SQL over typed columns: validation and silver deduplicate on it
    if_absent: str = ""  # for an optional file: what the results lack without it, in words for people

    @property
    def filename(self) -> str:
        return f"{self.name}.csv"


INPUT_FILES: dict[str, InputFile] = {
    f.name: f
    for f in (
        InputFile("ads", AdsInput, False, ("date", "ad_id (adset_id where ad_id is blank)"),
                  "date, coalesce(ad_id, 'adset:' || adset_id)",
                  "no spend, impressions or clicks, so CPL, ROAS, CTR, CPM and pacing ratio stay blank "
                  "and there are no ad features"),
        InputFile("adsets", AdsetsInput, False, ("adset_id",), "adset_id",
                  "no budgets: pacing ratio blank, pacing status unknown"),
        InputFile("conversions", ConversionsInput, False,
                  ("date", "adset_id", "conversion_type (any case)", "attribution_window (any case)"),
                  "date, adset_id, lower(conversion_type), lower(attribution_window)",
                  "no platform-reported conversions (counted as 0)"),
        InputFile("leads", LeadsInput, False, ("lead_id",), "lead_id",
                  "no CRM leads: no lead model, ELV or leaderboards; the lakehouse, pacing, spend response and "
                  "forecasts run on the ad data (on platform-reported conversions)"),
        InputFile("outcomes", OutcomesInput, False, ("lead_id",), "lead_id",
                  "no outcomes yet: leads are attributed and counted, and the lead model waits for labels"),
        InputFile("mapping", MappingInput, False, ("field (any case)", "value"), "lower(field), value",
                  "leads are tied by their ids and names only"),
    )
}


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    kind: str  # text | date | timestamp | number | integer
    required: bool
    nullable: bool
    description: str


def column_specs(model: type[pa.DataFrameModel]) -> dict[str, ColumnSpec]:
    """The typed columns a model names, read off the pandera schema."""
    specs = {}
    for name, col in model.to_schema().columns.items():
        dtype = str(col.dtype)
        if col.metadata and "kind" in col.metadata:
            kind = col.metadata["kind"]
        elif dtype.startswith("float"):
            kind = "number"
        elif dtype.lower().startswith("int"):
            kind = "integer"
        else:
            kind = "text"
        specs[name] = ColumnSpec(name, kind, col.required, col.nullable, col.description or "")
    return specs


def model_columns_sql(model: type[pa.DataFrameModel]) -> str:
    """The model's columns as a SELECT list (quoted), for fetching just what a contract checks."""
    return ", ".join('"' + name.replace('"', '""') + '"' for name in model.to_schema().columns)
