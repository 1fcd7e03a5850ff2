"""Label maturity: which leads have a known answer to "did it qualify within N days?".

A lead created at t is
- **positive** when it qualified at or before t + N days (and by the end of the as_of day);
- **negative** when its window has closed (t + N days is on or before the end of the as_of day)
  and it did not qualify within the window;
- **immature** otherwise: its window is still open, so "not qualified yet" is not an answer.

Only mature leads (window closed) are used to train and evaluate. A positive whose window is still
open is a true positive, but counting it while its immature negatives are left out would bias the
rate upward (right-censoring), so it gets a label without being `mature`.
"""

from __future__ import annotations

import datetime as dt

LABEL_STATUSES = ("positive", "negative", "immature")


def as_of_end(as_of: dt.date) -> str:
    """SQL timestamp literal of the end of the as_of day (exclusive): what the run can know."""
    return f"TIMESTAMP '{as_of + dt.timedelta(days=1):%Y-%m-%d} 00:00:00'"


def labels_select(as_of: dt.date, window_days: int, leads: str = "gold.lead_attribution",
                  outcomes: str = "silver.outcomes") -> str:
    """SELECT of one row per lead created by as_of: label, label_status, mature, days_to_qualify."""
    end = as_of_end(as_of)
    window = f"INTERVAL {int(window_days)} DAY"
    return f"""
        WITH known AS (  -- outcomes as they stood at the end of the as_of day
            SELECT lead_id, CASE WHEN qualified_at < {end} THEN qualified_at END AS qualified_at
            FROM {outcomes}
        ), joined AS (
            SELECT l.lead_id, l.created_at, l.campaign_id, l.adset_id, o.qualified_at,
                   l.created_at + {window} <= {end} AS mature,
                   o.qualified_at IS NOT NULL AND o.qualified_at <= l.created_at + {window} AS qualified_in_window
            FROM {leads} l LEFT JOIN known o USING (lead_id)
            WHERE l.created_at < {end}
        )
        SELECT lead_id, created_at, campaign_id, adset_id,
               CASE WHEN qualified_in_window THEN 1 WHEN mature THEN 0 END::BIGINT AS label,
               CASE WHEN qualified_in_window THEN 'positive' WHEN mature THEN 'negative' ELSE 'immature' END
                   AS label_status,
               mature,
               CASE WHEN qualified_at IS NOT NULL
                    THEN round(epoch(qualified_at - created_at) / 86400.0, 3) END AS days_to_qualify
        FROM joined
        ORDER BY created_at, lead_id
    """
