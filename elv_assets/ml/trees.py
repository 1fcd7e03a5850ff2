"""A compiled evaluator for the XGBoost serving models: each lead's per-feature contributions, which sum to its
log-odds, in one walk down every tree.

XGBoost's own `pred_contribs=True, approx_contribs=True` (the Saabas contributions the reasons are built from)
took 3.6 s per 200,000 leads here, three times its plain prediction, because it walks the trees again per lead
in a slower path. This walks each lead down each tree once, adding to the split feature the change in the node's
mean value at each step (the same Saabas rule: node means weighted by the training hessian, as XGBoost's
`FillNodeMeanValues`), with numba over both cores.

The evaluator is an optimisation, never a second model: `TreeTable.agrees` checks it against XGBoost itself on
the leads at hand before it is used, and the library path scores when they disagree (a model shape this does not
read, a future format). LightGBM models keep the library's exact TreeSHAP contributions.
"""

from __future__ import annotations

import json
import warnings
import weakref
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numba import njit, prange

MIN_ROWS = 20_000  # below this the library is fast enough and the first call's compilation is not worth it
TOLERANCE = 1e-3  # log-odds: XGBoost sums in float32


@dataclass(frozen=True)
class TreeTable:
    """Every tree of a booster as flat node arrays (a leaf has left = -1)."""
    roots: np.ndarray  # int64: each tree's first node
    feature: np.ndarray  # int64: the input column a node splits on
    threshold: np.ndarray  # float32: numbers below it go left
    left: np.ndarray  # int64
    right: np.ndarray  # int64
    default_left: np.ndarray  # bool: where a missing value goes
    cat_start: np.ndarray  # int64: a categorical split's first entry in `in_set`; -1 for a numeric split
    cat_width: np.ndarray  # int64: how many category codes its entries cover
    in_set: np.ndarray  # bool: per categorical split, per code: is the code in the split's set (it goes right)
    value: np.ndarray  # float64: a leaf's value; an inner node's hessian-weighted mean of the leaves below it
    base_margin: float

    @classmethod
    def from_xgboost(cls, booster) -> TreeTable:
        model = json.loads(booster.save_raw("json"))["learner"]
        if model["objective"]["name"] != "binary:logistic":
            raise ValueError(f"unsupported objective {model['objective']['name']}")
        base = float(model["learner_model_param"]["base_score"].strip("[]"))
        trees = model["gradient_booster"]["model"]["trees"]
        roots, feature, threshold, left, right, default_left, cat_start, cat_width, value = ([] for _ in range(9))
        in_set: list[np.ndarray] = []
        offset, cat_offset = 0, 0
        for tree in trees:
            if int(tree["tree_param"]["size_leaf_vector"]) > 1:
                raise ValueError("vector leaves are not supported")
            lc, rc = np.asarray(tree["left_children"]), np.asarray(tree["right_children"])
            cond, hess = np.asarray(tree["split_conditions"], float), np.asarray(tree["sum_hessian"], float)
            n = len(lc)
            starts, widths = np.full(n, -1), np.zeros(n, dtype=np.int64)
            segments = dict(zip(tree["categories_nodes"], zip(tree["categories_segments"], tree["categories_sizes"],
                                                              strict=True), strict=True))
            for node, (seg, size) in segments.items():
                codes = np.asarray(tree["categories"][seg:seg + size], dtype=np.int64)
                width = int(codes.max()) + 1 if size else 0
                mask = np.zeros(width, dtype=bool)
                mask[codes] = True
                in_set.append(mask)
                starts[node], widths[node] = cat_offset, width
                cat_offset += width
            if any(t == 1 and node not in segments for node, t in enumerate(tree["split_type"])):
                raise ValueError("a categorical split without its categories")
            means = cond.copy()  # a leaf's split condition is its value
            for node in range(n - 1, -1, -1):  # children come after their parent in XGBoost's numbering
                if lc[node] >= 0:
                    means[node] = (means[lc[node]] * hess[lc[node]] + means[rc[node]] * hess[rc[node]]) / hess[node]
            roots.append(offset)
            feature.append(np.asarray(tree["split_indices"], dtype=np.int64))
            threshold.append(cond.astype(np.float32))
            left.append(np.where(lc >= 0, lc + offset, -1))
            right.append(np.where(rc >= 0, rc + offset, -1))
            default_left.append(np.asarray(tree["default_left"], dtype=bool))
            cat_start.append(starts)
            cat_width.append(widths)
            value.append(means)
            offset += n
        return cls(np.asarray(roots, dtype=np.int64), np.concatenate(feature), np.concatenate(threshold),
                   np.concatenate(left), np.concatenate(right), np.concatenate(default_left),
                   np.concatenate(cat_start), np.concatenate(cat_width),
                   np.concatenate(in_set) if in_set else np.zeros(0, dtype=bool), np.concatenate(value),
                   float(np.log(base / (1 - base))))

    def contributions(self, X: np.ndarray) -> np.ndarray:
        """Per lead, the contribution of each input column and, last, the bias (the reference lead's log-odds), as
        XGBoost's approximate contributions lay them out: a row sums to the lead's log-odds."""
        X = np.ascontiguousarray(X, dtype=np.float32)
        full = np.zeros((len(X), X.shape[1] + 1))
        _walk(X, self.roots, self.feature, self.threshold, self.left, self.right, self.default_left,
              self.cat_start, self.cat_width, self.in_set, self.value, full)
        full[:, -1] = float(self.value[self.roots].sum()) + self.base_margin
        return full

    def agrees(self, booster, Xt: pd.DataFrame, rows: int = 512) -> bool:
        """Does this table give XGBoost's own approximate contributions (and so its log-odds) on the first `rows`
        leads?"""
        from xgboost import DMatrix

        sample = Xt.iloc[:rows]
        theirs = booster.predict(DMatrix(sample, enable_categorical=True), pred_contribs=True, approx_contribs=True)
        return bool(np.allclose(theirs, self.contributions(as_matrix(sample)), atol=TOLERANCE))


def as_matrix(Xt: pd.DataFrame) -> np.ndarray:
    """The trees' input frame as numbers: categoricals by their code (the levels are fixed at fit), missing NaN."""
    out = np.empty(Xt.shape, dtype=np.float32)
    for j, (_, col) in enumerate(Xt.items()):
        if isinstance(col.dtype, pd.CategoricalDtype):
            codes = col.cat.codes.to_numpy()
            out[:, j] = np.where(codes < 0, np.nan, codes)
        else:
            out[:, j] = col.to_numpy(dtype=np.float32, na_value=np.nan)
    return out


@njit(parallel=True, cache=True, nogil=True)
def _walk(X, roots, feature, threshold, left, right, default_left, cat_start, cat_width, in_set, value,
          contrib):  # pragma: no cover - compiled
    # Blocks of 1,024 leads over the cores; within a block tree by tree, so one tree's nodes stay in cache.
    n = X.shape[0]
    for block in prange((n + 1023) // 1024):
        lo, hi = block * 1024, min(n, block * 1024 + 1024)
        for t in range(roots.shape[0]):
            for i in range(lo, hi):
                node = roots[t]
                while left[node] >= 0:
                    f = feature[node]
                    x = X[i, f]
                    if np.isnan(x):
                        nxt = left[node] if default_left[node] else right[node]
                    elif cat_start[node] >= 0:  # XGBoost: a code in the set goes right, any other left
                        code = int(x)
                        inside = 0 <= code < cat_width[node] and in_set[cat_start[node] + code]
                        nxt = right[node] if inside else left[node]
                    else:
                        nxt = left[node] if x < threshold[node] else right[node]
                    contrib[i, f] += value[nxt] - value[node]
                    node = nxt


_TABLES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # model -> its TreeTable, or None: not usable


def fast_contributions(model, Xt) -> np.ndarray | None:
    """XGBoost's approximate contributions (the bias last) for an XGBoost classifier on a frame of at least
    MIN_ROWS leads, by the compiled evaluator; None where the library should score (another model, few leads, a
    model the evaluator does not reproduce)."""
    if type(model).__name__ != "XGBClassifier" or not isinstance(Xt, pd.DataFrame) or len(Xt) < MIN_ROWS:
        return None
    if model not in _TABLES:
        booster, table = model.get_booster(), None
        try:
            table = TreeTable.from_xgboost(booster)
            usable, why = table.agrees(booster, Xt), "it disagrees with XGBoost on this model"
        except Exception as error:  # noqa: BLE001 - a format this does not read, or numba cannot compile or cache
            usable, why = False, str(error)
        if not usable:
            warnings.warn(f"the compiled tree evaluator is not used ({why}); XGBoost scores instead", stacklevel=2)
        _TABLES[model] = table if usable else None
    table = _TABLES[model]
    return None if table is None else table.contributions(as_matrix(Xt))
