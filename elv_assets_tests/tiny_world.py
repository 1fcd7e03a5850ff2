"""A hand-made world of a few rows whose right answers can be worked out by hand."""

from __future__ import annotations

from pathlib import Path

ADS = """date,platform,campaign_id,campaign_name,adset_id,adset_name,ad_id,ad_name,spend,impressions,clicks,currency
01/03/2025,Meta,c1,Spring Sale,as1,Spring | LAL,ad1,Video A,10.00,1000,10,GBP
01/03/2025,Meta,c1,Spring Sale,as1,Spring | LAL,ad2,Video B,5.00,500,0,GBP
01/03/2025,Meta,c1,Spring Sale,as1,Spring | LAL,ad2,Video B,5.00,500,0,GBP
02/03/2025,Meta,c1,Spring Sale,as1,Spring | LAL,ad1,Video A,-2.50,0,0,GBP
02/03/2025,Google,c2,Brand Search,as2,Brand | Exact,ad3,Text 1,20.00,2000,40,GBP
03/03/2025,Google,c2,Brand Search,as2,Brand | Exact,ad3,Text 1,30.00,3000,60,GBP
"""

ADSETS = """adset_id,daily_budget,pacing_status,start_date,end_date
as1,20,Under pacing,2025-03-01,
as2,25,ON TRACK,2025-03-01,
"""

CONVERSIONS = """date,adset_id,conversion_type,attribution_window,count,value
2025-03-01,as1,Lead,7D_CLICK,2,
2025-03-02,as2,lead,7d_click,3,30.5
"""

LEADS = """lead_id,created_at,campaign_id,adset_id,ad_id,utm_campaign,utm_content,campaign_name,form,device
L1,2025-03-01 09:00:00,c1,as1,ad1,spring,lal,,long,mobile
L2,2025-03-01 10:00:00,,,,spring,lal_v2,,short,desktop
L3,2025-03-02 11:00:00,,,,,,  BRAND search ,long,desktop
L4,2025-03-02 12:00:00,,,,,,Unknown Campaign,short,mobile
L5,2025-03-03 13:00:00,c2,as2,ad3,brand,,,long,desktop
L5,2025-03-03 13:00:00,c2,as2,ad3,brand,,,long,desktop
"""

OUTCOMES = """lead_id,qualified_at,booked_at,won_at,revenue
L1,2025-03-02 09:00:00,2025-03-03 10:00:00,,
L3,2025-03-03 08:00:00,,,
L5,2025-03-03 15:00:00,2025-03-03 16:00:00,2025-03-03 17:00:00,1200
"""

MAPPING = """field,value,campaign_id,adset_id
utm_content,lal_v2,c1,as1
"""

FILES = {
    "ads.csv": ADS, "adsets.csv": ADSETS, "conversions.csv": CONVERSIONS,
    "leads.csv": LEADS, "outcomes.csv": OUTCOMES, "mapping.csv": MAPPING,
}


def write_tiny_world(folder: Path, **overrides: str | None) -> Path:
    """Write the tiny world; `overrides` replace a file's text by name (None removes the file)."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {**FILES, **{k.replace("_csv", ".csv"): v for k, v in overrides.items()}}
    for name, text in files.items():
        if text is not None:
            (folder / name).write_text(text)
    return folder
