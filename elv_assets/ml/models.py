"""Candidate models, the choice between them, calibration, and per-lead contributions.

Three candidates, simplest first: a logistic regression (one-hot and scaling in a Pipeline),
LightGBM and XGBoost (integer-coded categories, missing numbers left to the trees). The chosen model
has the best PR-AUC on the calibration split; within `tie_tolerance` the simpler one wins. Its
probabilities are then calibrated on the same split with `CalibratedClassifierCV` around a
`FrozenEstimator` (the fitted model is not refitted).

Contributions explain one lead's score in log-odds per original feature: TreeSHAP values for the
tree models (their own `pred_contrib`), coefficient times the centred value for the logistic model.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.frozen import FrozenEstimator
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from elv_assets.ml.features import FeatureColumns

MODEL_KINDS = ("logistic", "lightgbm", "xgboost")  # simplest first: ties go to the earlier one
DEFAULT_PARAMS: dict[str, dict] = {
    "logistic": {"C": 0.1, "max_iter": 2000},  # strong-ish L2: the ad features are collinear
    "lightgbm": {"n_estimators": 300, "learning_rate": 0.05, "num_leaves": 31, "min_child_samples": 50,
                 "subsample": 0.8, "subsample_freq": 1, "colsample_bytree": 0.8},
    "xgboost": {"n_estimators": 300, "learning_rate": 0.05, "max_depth": 5, "min_child_weight": 5,
                "subsample": 0.8, "colsample_bytree": 0.8},
}
THREADS = 2
MISSING = "missing"  # a blank categorical value is its own category


def usable_columns(df: pd.DataFrame, cols: FeatureColumns) -> FeatureColumns:
    """Drop features that are entirely missing (e.g. ad features when no ads file was given)."""
    keep = [c for c in cols.all if c in df.columns and df[c].notna().any()]
    return FeatureColumns([c for c in cols.numeric if c in keep], [c for c in cols.categorical if c in keep])


def prepare(df: pd.DataFrame, cols: FeatureColumns) -> pd.DataFrame:
    """The model's input frame: numeric as float (NaN for missing), categorical as object (NaN for missing)."""
    out = pd.DataFrame(index=df.index)
    for c in cols.numeric:
        out[c] = pd.to_numeric(df[c], errors="coerce").astype("float64") if c in df else np.nan
    for c in cols.categorical:
        if c in df:
            s = df[c]
            out[c] = s.astype(str).where(s.notna(), MISSING).astype(object)
        else:
            out[c] = MISSING
    return out


class CategoryCoder(TransformerMixin, BaseEstimator):
    """Text categories to integer codes through pandas' Categorical (C speed, unlike object arrays).

    Categories seen fewer than `min_frequency` times in training, and categories never seen, share the
    code -1 ("other"), so a new campaign or a typo at scoring time is handled, not an error.
    """

    def __init__(self, min_frequency: int = 20):
        self.min_frequency = min_frequency

    def fit(self, X, y=None):
        X = pd.DataFrame(X)
        self.categories_ = []
        for i in range(X.shape[1]):
            counts = X.iloc[:, i].value_counts()
            self.categories_.append(sorted(counts.index[counts >= self.min_frequency]))
        return self

    def transform(self, X):
        X = pd.DataFrame(X)
        return np.column_stack([
            pd.Categorical(X.iloc[:, i], categories=cats).codes for i, cats in enumerate(self.categories_)
        ]).astype(float) if self.categories_ else np.empty((len(X), 0))


def build_pipeline(kind: str, cols: FeatureColumns, params: dict | None = None, seed: int = 0) -> Pipeline:
    params = {**DEFAULT_PARAMS[kind], **(params or {})}
    if kind == "logistic":
        pre = ColumnTransformer(
            [("num", Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())]),
              cols.numeric)]
            + [(f"cat{i}", Pipeline([("code", CategoryCoder()),
                                     ("onehot", OneHotEncoder(handle_unknown="ignore"))]),
                [c]) for i, c in enumerate(cols.categorical)],
            remainder="drop",
            sparse_threshold=1.0,  # one-hot blocks stay sparse: a dense matrix of 1M leads is gigabytes
        )
        model = LogisticRegression(random_state=seed, **params)
    else:
        pre = ColumnTransformer(
            [("num", "passthrough", cols.numeric),
             ("cat", CategoryCoder(), cols.categorical)],
            remainder="drop",
        )
        if kind == "lightgbm":
            from lightgbm import LGBMClassifier

            model = LGBMClassifier(random_state=seed, n_jobs=THREADS, deterministic=True, force_col_wise=True,
                                   verbose=-1, **params)
        elif kind == "xgboost":
            from xgboost import XGBClassifier

            model = XGBClassifier(random_state=seed, n_jobs=THREADS, tree_method="hist", eval_metric="logloss",
                                  **params)
        else:
            raise ValueError(f"unknown model kind {kind!r}; expected one of {', '.join(MODEL_KINDS)}")
    return Pipeline([("prep", pre), ("model", model)])


@dataclass
class Candidate:
    kind: str
    pipeline: Pipeline
    pr_auc_calib: float
    columns: FeatureColumns
    params: dict = field(default_factory=dict)


def fit_candidates(train: pd.DataFrame, y_train: np.ndarray, calib: pd.DataFrame, y_calib: np.ndarray,
                   cols: FeatureColumns, params: dict[str, dict] | None = None, seed: int = 0,
                   kinds: tuple[str, ...] = MODEL_KINDS, progress=lambda _msg: None) -> list[Candidate]:
    """Fit each kind on the train split; score PR-AUC on the calibration split."""
    out = []
    for kind in kinds:
        progress(f"fitting {kind} on {len(train):,} leads")
        pipe = build_pipeline(kind, cols, (params or {}).get(kind), seed)
        pipe.fit(prepare(train, cols), y_train)
        p = pipe.predict_proba(prepare(calib, cols))[:, 1]
        out.append(Candidate(kind, pipe, float(average_precision_score(y_calib, p)), cols,
                             {**DEFAULT_PARAMS[kind], **(params or {}).get(kind, {})}))
    return out


def choose(candidates: list[Candidate], tie_tolerance: float = 0.002) -> Candidate:
    """Best calibration-split PR-AUC; a simpler model within `tie_tolerance` of the best wins."""
    best = max(c.pr_auc_calib for c in candidates)
    order = {k: i for i, k in enumerate(MODEL_KINDS)}
    return min((c for c in candidates if c.pr_auc_calib >= best - tie_tolerance), key=lambda c: order[c.kind])


def calibrate(pipeline: Pipeline, calib: pd.DataFrame, y_calib: np.ndarray, cols: FeatureColumns,
              method: str) -> CalibratedClassifierCV:
    """Sigmoid or isotonic calibration of the fitted model on the calibration split.

    The calibrator wraps the pipeline's final step and reads transformed inputs, so scoring transforms
    each lead once and uses the same matrix for the probability and for the contributions.
    """
    cal = CalibratedClassifierCV(FrozenEstimator(pipeline.named_steps["model"]), method=method)
    return cal.fit(transform(pipeline, calib, cols), y_calib)


def transform(pipeline: Pipeline, df: pd.DataFrame, cols: FeatureColumns):
    """The model's input matrix (sparse for the logistic model): preprocessing of the prepared frame."""
    Xt = pipeline.named_steps["prep"].transform(prepare(df, cols))
    return Xt if sparse.issparse(Xt) else np.asarray(Xt, dtype=float)


def calibration_method(y_calib: np.ndarray, isotonic_min_positives: int) -> str:
    """Isotonic needs many positives to be stable; with fewer, the two-parameter sigmoid is safer."""
    return "isotonic" if int(np.sum(y_calib)) >= isotonic_min_positives else "sigmoid"


def contributions(pipeline: Pipeline, X: pd.DataFrame, cols: FeatureColumns,
                  centre: np.ndarray | None = None, Xt: np.ndarray | None = None) -> pd.DataFrame:
    """Per-lead, per-feature contribution to the log-odds, in the original feature columns."""
    pre, model = pipeline.named_steps["prep"], pipeline.named_steps["model"]
    Xt = transform(pipeline, X, cols) if Xt is None else Xt
    kind = type(model).__name__
    # Which original feature each transformed column belongs to (one-hot columns share one feature).
    owners = output_owners(pre, cols)
    index = {c: i for i, c in enumerate(cols.all)}
    membership = np.zeros((len(owners), len(cols.all)))
    membership[np.arange(len(owners)), [index[o] for o in owners]] = 1.0
    if kind == "LGBMClassifier":
        raw = model.booster_.predict(Xt, pred_contrib=True)[:, :-1] @ membership
    elif kind == "XGBClassifier":
        from xgboost import DMatrix

        raw = model.get_booster().predict(DMatrix(Xt), pred_contribs=True)[:, :-1] @ membership
    else:
        # coefficient x (value - the reference lead's value), summed per feature; works on sparse Xt
        coef = model.coef_[0]
        centre = centre if centre is not None else np.asarray(Xt.mean(axis=0)).ravel()
        raw = np.asarray(Xt @ (coef[:, None] * membership)) - (centre * coef) @ membership
    return pd.DataFrame(raw, index=X.index, columns=cols.all)


def output_owners(pre: ColumnTransformer, cols: FeatureColumns) -> list[str]:
    """For each transformed column, the original feature it came from."""
    owners: list[str] = []
    for name, trans, columns in pre.transformers_:
        if name == "remainder" or trans == "drop" or not len(columns):
            continue
        if name.startswith("cat") and name != "cat":  # one one-hot encoder per categorical column
            n = len(trans.named_steps["onehot"].categories_[0])
            owners += [columns[0]] * n
        else:
            owners += list(columns)
    return owners


def transformed_means(pipeline: Pipeline, X: pd.DataFrame, cols: FeatureColumns) -> np.ndarray:
    """The training split's mean of each transformed column: the logistic model's reference lead."""
    return np.asarray(transform(pipeline, X, cols).mean(axis=0)).ravel()


def importance(contrib: pd.DataFrame) -> pd.Series:
    """Mean absolute contribution per feature, largest first: what the model leans on."""
    return contrib.abs().mean().sort_values(ascending=False)
