"""Label maturity: which leads have a known answer to "did it qualify within N days?".

What the run can know is everything dated before the end of the as_of day (`end`, exclusive): one boundary
for outcomes and for windows. A lead created at t is
- **positive** when it qualified at t or later and no later than t + N days (and before `end`);
- **negative** when its window has closed (t + N days is before `end`) and it did not qualify within it;
- **immature** otherwise: its window is still open, so "not qualified yet" is not an answer.

A qualification dated before the lead's own creation is a data error (counted in the data-quality report),
not a positive. Only mature leads (window closed) are used to train and evaluate. A positive whose window is
still open is a true positive, but counting it while its immature negatives are left out would bias the rate
upward (right-censoring), so it gets a label without being `mature`.
"""

from __future__ import annotations

import datetime as dt

from elv_assets.build import Build, Built, Check, Skip
from elv_assets.skip_reasons import NO_LEADS

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
                   l.created_at + {window} < {end} AS mature,
                   o.qualified_at >= l.created_at AND o.qualified_at <= l.created_at + {window}
                       AS qualified_in_window
            FROM {leads} l LEFT JOIN known o USING (lead_id)
            WHERE l.created_at < {end}
        )
        SELECT lead_id, created_at, campaign_id, adset_id,
               CASE WHEN qualified_in_window THEN 1 WHEN mature THEN 0 END::BIGINT AS label,
               CASE WHEN qualified_in_window THEN 'positive' WHEN mature THEN 'negative' ELSE 'immature' END
                   AS label_status,
               mature,
               CASE WHEN qualified_at >= created_at
                    THEN round(epoch(qualified_at - created_at) / 86400.0, 3) END AS days_to_qualify
        FROM joined
        ORDER BY created_at, lead_id
    """


def labelled_counts(con, table: str = "gold.lead_labels") -> tuple[int, int, int]:
    """(mature leads, mature positives, all leads)."""
    return tuple(int(v or 0) for v in con.execute(
        f"SELECT count(*) FILTER (WHERE mature), count(*) FILTER (WHERE mature AND label = 1), count(*) FROM {table}"
    ).fetchall()[0])




def too_few_labels(mature: int, positives: int, chain, leads: int | None = None) -> str | None:
    """None when the mature cohort is big enough to learn from, else what is missing, in words."""
    if leads == 0:
        return NO_LEADS
    short = []
    if mature < chain.min_labelled:
        short.append(f"{mature:,} labelled leads (need {chain.min_labelled:,}: {chain.min_labelled - mature:,} more)")
    if positives < chain.min_positives:
        short.append(f"{positives:,} qualified among them (need {chain.min_positives:,}: "
                     f"{chain.min_positives - positives:,} more)")
    if not short:
        return None
    return (f"Too few mature labels to train on: {' and '.join(short)}. A lead is labelled once it is "
            f"{chain.label_window_days} days old; wait for more leads to mature or lower the minimums.")


def require_labels(b: Build) -> None:
    """Skip a training step while the mature cohort is too small (the model waits for labels)."""
    mature, positives, leads = labelled_counts(b.con)
    problem = too_few_labels(mature, positives, b.chain, leads)
    if problem:
        raise Skip(problem)


def build_lead_labels(b: Build) -> Built:
    staged = b.stage(labels_select(b.as_of, b.chain.label_window_days))
    by_status = dict(b.con.execute(f"SELECT label_status, count(*) FROM {staged} GROUP BY 1").fetchall())
    mature, positives, leads = labelled_counts(b.con, staged)
    problem = too_few_labels(mature, positives, b.chain, leads)
    enough = Check(
        "enough_labels", passed=problem is None, severity="error",
        description=problem or f"{mature:,} mature leads, {positives:,} qualified.",
        metadata={"mature": mature, "positives": positives, "min_labelled": b.chain.min_labelled,
                  "min_positives": b.chain.min_positives},
    )
    return Built(checks=[enough], metadata={
        "window_days": b.chain.label_window_days,
        **{f"leads/{s}": int(by_status.get(s, 0)) for s in LABEL_STATUSES},
        "mature_positive_rate": round(positives / mature, 4) if mature else None,
    })
