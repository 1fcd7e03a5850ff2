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
    left: np.ndarray  # int64; a node's right child is left + 1 (checked when the table is read)
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
        roots, feature, threshold, left, default_left, cat_start, cat_width, value = ([] for _ in range(8))
        in_set: list[np.ndarray] = []
        offset, cat_offset = 0, 0
        for tree in trees:
            if int(tree["tree_param"]["size_leaf_vector"]) > 1:
                raise ValueError("vector leaves are not supported")
            lc, rc = np.asarray(tree["left_children"]), np.asarray(tree["right_children"])
            if np.any((lc >= 0) & (rc != lc + 1)):  # the walk finds a right child beside its left sibling
                raise ValueError("a right child that does not follow its left sibling")
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
            default_left.append(np.asarray(tree["default_left"], dtype=bool))
            cat_start.append(starts)
            cat_width.append(widths)
            value.append(means)
            offset += n
        return cls(np.asarray(roots, dtype=np.int64), np.concatenate(feature), np.concatenate(threshold),
                   np.concatenate(left), np.concatenate(default_left),
                   np.concatenate(cat_start), np.concatenate(cat_width),
                   np.concatenate(in_set) if in_set else np.zeros(0, dtype=bool), np.concatenate(value),
                   float(np.log(base / (1 - base))))

    def contributions(self, X: np.ndarray) -> np.ndarray:
        """Per lead, the contribution of each input column and, last, the bias (the reference lead's log-odds), as
        XGBoost's approximate contributions lay them out: a row sums to the lead's log-odds."""
        columns = np.asfortranarray(X, dtype=np.float32).T  # one input column per row: the kernel reads them whole
        inner = self.left >= 0
        step = np.zeros((len(self.value), 2))  # the change in the node mean going left (0) or right (1)
        step[inner, 0] = self.value[self.left[inner]] - self.value[inner]
        step[inner, 1] = self.value[self.left[inner] + 1] - self.value[inner]
        ends = np.append(self.roots[1:], len(self.feature))
        full = np.zeros((len(X), X.shape[1] + 1))
        _walk(columns, self.roots, ends, self.feature, self.threshold, self.left, self.default_left, self.cat_start,
              self.cat_width, self.in_set if len(self.in_set) else np.zeros(1, dtype=bool), step, full)
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
    out = np.empty(Xt.shape, dtype=np.float32, order="F")  # column by column: each written in one run
    for j, (_, col) in enumerate(Xt.items()):
        if isinstance(col.dtype, pd.CategoricalDtype):
            codes = col.cat.codes.to_numpy()
            out[:, j] = np.where(codes < 0, np.nan, codes)
        else:
            out[:, j] = col.to_numpy(dtype=np.float32, na_value=np.nan)
    return out


@njit(parallel=True, cache=True, nogil=True)
def _walk(columns, roots, ends, feature, threshold, left, default_left, cat_start, cat_width, in_set, step,
          contrib):  # pragma: no cover - compiled
    # Blocks of leads over the cores. Within a block, tree by tree: first every split's direction for every lead
    # of the block (one split at a time over a contiguous run of one column: no branch on the split's kind per
    # lead, so the loop vectorises), then each lead down the tree by those directions (a right child is its left
    # sibling + 1, checked when the table is read), adding each step's change in the node mean to the feature.
    n = columns.shape[1]
    width = 1024
    widest = 1
    for t in range(roots.shape[0]):
        widest = max(widest, ends[t] - roots[t])
    for block in prange((n + width - 1) // width):
        lo, hi = block * width, min(n, block * width + width)
        go = np.zeros((widest, width), dtype=np.uint8)
        for t in range(roots.shape[0]):
            first = roots[t]
            for node in range(first, ends[t]):
                if left[node] < 0:
                    continue
                row, x = go[node - first], columns[feature[node]]
                missing = np.uint8(0 if default_left[node] else 1)
                if cat_start[node] >= 0:  # XGBoost: a code in the set goes right, any other left
                    start, size = cat_start[node], cat_width[node]
                    for k in range(hi - lo):
                        v = x[lo + k]
                        code = int(v) if v == v else -1
                        inside = code >= 0 and code < size and in_set[start + code]
                        row[k] = missing if v != v else np.uint8(inside)
                else:
                    cut = threshold[node]
                    for k in range(hi - lo):
                        v = x[lo + k]
                        row[k] = missing if v != v else np.uint8(v >= cut)
            for k in range(hi - lo):
                node = first
                while left[node] >= 0:
                    right = go[node - first, k]
                    contrib[lo + k, feature[node]] += step[node, right]
                    node = left[node] + right


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
