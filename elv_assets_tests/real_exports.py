"""Real public exports turned into the input contracts, for tests and benchmarks (never shipped in the product).

X Education's lead-scoring export (../shared/data/real/x_education/Leads.csv) has no timestamps at all, so a
`created_at` is invented here: the leads in `Lead Number` order (the CRM's own sequence), spread evenly over
`days` days ending on `end`, each at a seeded random hour. A converted lead qualifies one day after it was
created. Its `Lead Source` (Google, Direct Traffic, ...) is the lead's campaign name; every other column goes into
leads.csv as it is, post-contact fields included: the leakage guard must find those on its own.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"
X_EDUCATION = REAL / "x_education" / "Leads.csv"
# The fields the sales team fills in after contact, as the case study and its published models treat them.
X_EDUCATION_POST_CONTACT = ("Tags", "Lead Quality", "Lead Profile", "Last Activity", "Last Notable Activity")


def write_x_education(out: Path, days: int = 150, end: dt.date = dt.date(2026, 10, 31), seed: int = 0) -> Path:
    """leads.csv and outcomes.csv in `out`, from the X Education export."""
    src = pd.read_csv(X_EDUCATION, dtype=str, keep_default_na=False)
    src = src.loc[:, [c for c in src.columns if c.strip() and not c.startswith("Unnamed")]]
    src = src.sort_values("Lead Number", key=lambda s: s.astype(int)).reset_index(drop=True)
    rng = np.random.default_rng(seed)
    start = pd.Timestamp(end) - pd.Timedelta(days=days - 1)
    offsets = np.floor(np.arange(len(src)) * days / len(src)).astype(int)
    created = start + pd.to_timedelta(offsets, unit="D") + pd.to_timedelta(rng.integers(7 * 60, 22 * 60, len(src)),
                                                                            unit="min")
    leads = src.drop(columns=["Prospect ID", "Lead Number", "Converted", "Lead Source"])
    leads.insert(0, "campaign_name", src["Lead Source"])
    leads.insert(0, "created_at", created.strftime("%Y-%m-%d %H:%M:%S"))
    leads.insert(0, "lead_id", src["Prospect ID"])
    out.mkdir(parents=True, exist_ok=True)
    leads.to_csv(out / "leads.csv", index=False)
    converted = src["Converted"] == "1"
    outcomes = pd.DataFrame({"lead_id": src.loc[converted, "Prospect ID"],
                             "qualified_at": (created[converted] + pd.Timedelta(days=1)).strftime("%Y-%m-%d %H:%M:%S")})
    outcomes.to_csv(out / "outcomes.csv", index=False)
    return out
