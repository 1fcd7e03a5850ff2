"""The time split: train, calib and test by created_at over the mature cohort. Never random.

A random split would let the model learn from leads created after the ones it is tested on, so the
test score would overstate how well it predicts next week's leads. Boundaries are created_at values:
a lead created before `calib_start` is in train, before `test_start` in calib, otherwise in test.
Leads whose label window is still open are `unlabeled`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import pandas as pd

from elv_assets.build import Build, Built
from elv_assets.ml.labels import require_labels

SPLITS = ("train", "calib", "test", "unlabeled")


@dataclass(frozen=True)
class SplitBoundaries:
    first: pd.Timestamp  # earliest mature lead
    calib_start: pd.Timestamp
    test_start: pd.Timestamp
    last: pd.Timestamp  # latest mature lead

    def as_dict(self) -> dict[str, str]:
        return {k: str(v) for k, v in asdict(self).items()}


def boundaries(created_at: pd.Series, fractions: tuple[float, float, float] = (0.6, 0.2, 0.2)) -> SplitBoundaries:
    """Cut points at the given shares of the mature leads, ordered by created_at."""
    if abs(sum(fractions) - 1) > 1e-9 or min(fractions) <= 0:
        raise ValueError(f"split fractions must be positive and sum to 1, got {fractions}")
    ordered = created_at.sort_values(kind="stable").reset_index(drop=True)
    n = len(ordered)
    if n < 3:
        raise ValueError(f"a time split needs at least 3 mature leads, got {n}")
    i_calib = min(max(int(n * fractions[0]), 1), n - 2)
    i_test = min(max(int(n * (fractions[0] + fractions[1])), i_calib + 1), n - 1)
    return SplitBoundaries(ordered.iloc[0], ordered.iloc[i_calib], ordered.iloc[i_test], ordered.iloc[-1])


def assign(created_at: pd.Series, mature: pd.Series, b: SplitBoundaries) -> pd.Series:
    """train / calib / test for mature leads by created_at; unlabeled for the rest."""
    split = pd.Series("test", index=created_at.index, dtype="object")
    split[created_at < b.test_start] = "calib"
    split[created_at < b.calib_start] = "train"
    split[~mature.astype(bool)] = "unlabeled"
    return split


def build_training_table(b: Build) -> Built:
    """Every mature lead with its features, label and split, in DuckDB: the cut points are the created_at values
    at the configured shares of the mature leads in (created_at, lead_id) order, as `boundaries` computes them."""
    require_labels(b)
    mature = ("SELECT f.*, l.label FROM gold.lead_features f JOIN gold.lead_labels l USING (lead_id) WHERE l.mature")
    n = b.con.execute(f"SELECT count(*) FROM ({mature})").fetchall()[0][0]
    shares = (b.config.train_share, b.config.calib_share, b.config.test_share)
    if abs(sum(shares) - 1) > 1e-9 or min(shares) <= 0:
        raise ValueError(f"split fractions must be positive and sum to 1, got {shares}")
    if n < 3:
        raise ValueError(f"a time split needs at least 3 mature leads, got {n}")
    i_calib = min(max(int(n * shares[0]), 1), n - 2)
    i_test = min(max(int(n * (shares[0] + shares[1])), i_calib + 1), n - 1)
    # The cut points need only created_at: number that one column, not the wide rows (at 10M leads, two sorts of
    # every feature column spilled past DuckDB's memory limit and took most of this step's 104 s).
    first, calib_start, test_start, last = b.con.execute(f"""
        SELECT min(created_at), max(created_at) FILTER (_i = {i_calib}), max(created_at) FILTER (_i = {i_test}),
               max(created_at)
        FROM (SELECT created_at, row_number() OVER (ORDER BY created_at) - 1 AS _i FROM ({mature}))""").fetchall()[0]
    cut = SplitBoundaries(*(pd.Timestamp(t) for t in (first, calib_start, test_start, last)))
    b.stage(f"""SELECT *, CASE WHEN created_at < TIMESTAMP '{cut.calib_start}' THEN 'train'
                               WHEN created_at < TIMESTAMP '{cut.test_start}' THEN 'calib'
                               ELSE 'test' END AS split
                FROM ({mature}) ORDER BY created_at, lead_id""")
    counts = b.con.execute(f"SELECT split, count(*), sum(label::INT) FROM {b.staged} GROUP BY 1 ORDER BY 1").fetchall()
    return Built(metadata={
        **{f"boundary/{k}": v for k, v in cut.as_dict().items()},
        **{f"{s}/leads": int(count) for s, count, _ in counts},
        **{f"{s}/positives": int(pos) for s, _, pos in counts},
    })
