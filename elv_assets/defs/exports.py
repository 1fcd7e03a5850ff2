"""What goes back to the ad platforms: offline-conversion files for their value-based bidding."""

from typing import Literal

import dagster as dg

from elv_assets.defs.declare import artifact_asset
from elv_assets.reports.conversions import DEFAULTS, READS, build_offline_conversions


class OfflineConversionsConfig(dg.Config):
    kind: Literal["predicted", "won", "both"] = DEFAULTS.kind  # new leads at their ELV, won deals at their revenue
    window_days: int = DEFAULTS.window_days  # leads created / deals won in the last N days up to the as-of date
    since: str = ""  # YYYY-MM-DD: the first day instead of the window
    predicted_name: str = DEFAULTS.predicted_name  # must match the conversion action / event name in the platform
    won_name: str = DEFAULTS.won_name
    default_currency: str = DEFAULTS.default_currency  # when ads.csv names no currency
    timezone: str = DEFAULTS.timezone  # the zone of the CRM's timestamps, an IANA name such as Europe/London


offline_conversions = artifact_asset(
    "serving/offline_conversions", build_offline_conversions, config=OfflineConversionsConfig, kinds={"csv"},
    reads=list(READS),
    description=(
        "Offline conversions for value-based bidding, written (each swapped in whole) to "
        "<ELV_SERVING_DIR>/conversions/: google_ads.csv (Google Ads click-conversion import: Google Click ID, "
        "Conversion Name, Conversion Time with its offset, Conversion Value, Conversion Currency) and meta.csv "
        "(Meta offline / CRM events: event_name, event_time, lead_id, value, currency, SHA-256 of the e-mail and "
        "phone). New leads of the last 7 days at their predicted ELV (\"ELV lead\") and deals won in those days at "
        "their revenue (\"Won deal\"). Leads without a gclid stay out of the Google file, leads of other platforms' "
        "campaigns out of Meta's; the metadata counts them. Raw e-mails and phones never leave the warehouse. "
        "Marketers upload the files (docs/conversions.md); `elv export-conversions` writes the same on demand."),
)

export_assets = [offline_conversions]
