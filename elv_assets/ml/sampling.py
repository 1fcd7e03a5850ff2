"""Fitting on a sample when the mature leads are many.

Past a few hundred thousand leads a lead model learns little more from each extra lead, while every fit costs
in proportion to them (at 1M leads the candidate search alone took nine minutes). So the steps that fit (the
leakage guard, the candidates, the refit that serves, the gate's refit of the serving recipe) read at most
`FIT_LEADS` leads of what they learn from. The steps that *judge* (the choice on the calib split, the
calibration, the test figures, the value check, the drift reference) read every lead of their split up to
`JUDGE_LEADS` (250,000: the figures are exact at 1M leads, where a held-out split holds 182,000), and a
time-stratified sample of that many past it: at 10M leads a held-out split of 1.9M leads read whole took more
memory than the machine has, while a quarter of a million leads measures PR-AUC to about a thousandth. The
steps say so in their log and metadata when they judge on a sample.

The sample is **time-stratified**: the same share of every day's leads, picked by a hash of the lead id (the
same leads on every run and in every step, so the calibrator's reference lead, the evaluation's baselines and
the candidates agree). Below the cap nothing changes: the demo worlds at size s fit on every lead.
The quality it costs at size m is measured by `bench/fit_sample.py` (docs/benchmarks.md, "Fitting on a sample"):
a trade of time for quality the `chain` resource's `fit_leads` sets (ELV_FIT_LEADS; 0 fits on every lead).
"""

from __future__ import annotations

from elv_assets.settings import DEFAULTS

FIT_LEADS = int(DEFAULTS["ELV_FIT_LEADS"])  # the most leads a fit reads by default; docs/benchmarks.md: its cost
JUDGE_LEADS = int(DEFAULTS["ELV_JUDGE_LEADS"])  # the most leads of a held-out split a step judges on by default
HASH_BUCKETS = 1_000_000


def fit_cap(chain) -> int:
    """The run's cap on the leads a fit reads: the `chain` resource's `fit_leads` (ELV_FIT_LEADS for `elv run`),
    0 meaning every lead. One setting for every fitting step, so they all read the same sample."""
    cap = int(getattr(chain, "fit_leads", FIT_LEADS))
    return cap if cap > 0 else 2**62


def judge_cap(chain) -> int:
    """The run's cap on the leads of a held-out split a judging step reads: the `chain` resource's `judge_leads`
    (ELV_JUDGE_LEADS), 0 meaning every lead."""
    cap = int(getattr(chain, "judge_leads", JUDGE_LEADS))
    return cap if cap > 0 else 2**62


def sample_share(n: int, cap: int = FIT_LEADS) -> float:
    """The share of `n` leads a fit keeps: all of them up to `cap`, else cap / n."""
    return 1.0 if n <= cap else cap / n


def sample_where(share: float, seed: int = 0, column: str = "lead_id") -> str:
    """A SQL condition keeping about `share` of the rows, the same share of every day's leads (a hash of the lead
    id is independent of when the lead came), the same rows on every run."""
    if share >= 1.0:
        return "TRUE"
    keep = max(int(share * HASH_BUCKETS), 1)
    return f"hash(CAST({column} AS VARCHAR) || '#{int(seed)}') % {HASH_BUCKETS} < {keep}"
