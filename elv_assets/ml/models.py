"""Candidate lead models: how each is built, fitted and explained.

A **recipe** (kind, settings, the feature columns it reads) is everything needed to fit a model again on other
leads: the promotion gate refits the serving model's recipe on the current train split to compare like with like,
and the chosen recipe is refitted on every mature lead before it serves. Four kinds, simplest first:

- `logistic_plain`: a one-hot logistic regression on the lead's own categorical fields, the weekday it came in,
  its campaign and its ad set (rare levels pooled into "other"): the plain baseline a person would fit, and often hard to
  beat on a CRM export;
- `logistic`: every feature: numbers spread over a spline basis on their quantiles (so a non-linear effect, an
  inverted U in pages viewed, is within reach), categories one-hot;
- `lightgbm` and `xgboost`: gradient-boosted trees reading categories natively (no one-hot), so interactions
  (role x firm size) and thresholds are theirs to find. Each tries a few settings; the number of trees is chosen
  by early stopping on the most recent 15 % of the train split (time-ordered, never random), then the model is
  refitted on the whole split with that number.

Contributions explain a lead's score in log-odds per original feature: the boosters' own `pred_contrib` for the
trees (XGBoost's path-based approximation of SHAP, Saabas's method: twenty times faster than exact TreeSHAP and
enough to name a lead's three strongest reasons; LightGBM's TreeSHAP), coefficient x (value - the training mean)
for the logistic models.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, log_loss
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, QuantileTransformer, StandardScaler

from elv_assets.ml.features import CONTEXT_CATEGORICAL, FeatureColumns

MODEL_KINDS = ("logistic_plain", "logistic", "lightgbm", "xgboost")  # simplest first: ties go to the earlier one
TREE_KINDS = ("lightgbm", "xgboost")
# How simple each kind is, for the choice (ml/selection.py): a simpler kind within the noise of the best wins;
# the two boosters are equally complex, so between them the better one wins.
COMPLEXITY = {"logistic_plain": 0, "logistic": 1, "lightgbm": 2, "xgboost": 2}
THREADS = 2
MISSING = "(blank)"  # a blank categorical value is its own category (brackets: no real value is spelled so)
OTHER = "(other)"  # categories too rare to learn from, and categories never seen in training
MIN_FREQUENCY = 20  # leads a category needs in training to keep its own level
VALID_SHARE = 0.15  # the most recent share of the train split that stops the trees' boosting
SPLINE_KNOTS = 5

# A few settings per kind; for the trees each is early-stopped on the most recent slice of train.
SEARCH: dict[str, list[dict]] = {
    "logistic_plain": [{"C": 1.0}],
    "logistic": [{"C": 0.1}],
    "lightgbm": [{"num_leaves": 7, "min_child_samples": 100}, {"num_leaves": 31, "min_child_samples": 50}],
    "xgboost": [{"max_depth": 3, "min_child_weight": 10.0}, {"max_depth": 5, "min_child_weight": 5.0}],
}
# A slow learning rate: on the demo worlds 0.05 beat 0.1 by about a point of PR-AUC and varied less between seeds.
FIXED: dict[str, dict] = {
    "logistic_plain": {"max_iter": 2000},
    "logistic": {"max_iter": 3000},
    "lightgbm": {"n_estimators": 2000, "learning_rate": 0.05, "subsample": 0.8, "subsample_freq": 1,
                 "colsample_bytree": 0.8, "reg_lambda": 1.0},
    "xgboost": {"n_estimators": 2000, "learning_rate": 0.05, "subsample": 0.8, "colsample_bytree": 0.8,
                "reg_lambda": 1.0},
}
EARLY_STOPPING_ROUNDS = 50


@dataclass(frozen=True)
class Recipe:
    kind: str
    params: dict
    columns: FeatureColumns


@dataclass
class Candidate:
    recipe: Recipe
    pipeline: Pipeline
    calib_raw: np.ndarray  # its uncalibrated probabilities on the calib split
    pr_auc_calib: float
    log_loss_calib: float
    search: list[dict] = field(default_factory=list)  # each setting tried: its validation log loss and trees

    @property
    def kind(self) -> str:
        return self.recipe.kind


def usable_columns(df: pd.DataFrame, cols: FeatureColumns) -> FeatureColumns:
    """Drop features that carry no information: entirely missing (ad features when no ads file was given) or one
    value throughout (the hour, when every timestamp is at midnight)."""
    keep = [c for c in cols.all if c in df.columns and df[c].nunique(dropna=False) > 1 and df[c].notna().any()]
    return FeatureColumns([c for c in cols.numeric if c in keep], [c for c in cols.categorical if c in keep])


def recipe_columns(kind: str, cols: FeatureColumns) -> FeatureColumns:
    """The plain logistic regression reads the lead's own categorical fields, the weekday it came in, its campaign
    and its ad set; the rest read all."""
    if kind != "logistic_plain":
        return cols
    return FeatureColumns([], [c for c in cols.categorical if c not in CONTEXT_CATEGORICAL or c == "campaign_id"])


def prepare(df: pd.DataFrame, cols: FeatureColumns) -> pd.DataFrame:
    """The model's input frame: numeric as float (NaN for missing), categorical as text ("(blank)" for blank)."""
    out = {}
    for c in cols.numeric:
        out[c] = pd.to_numeric(df[c], errors="coerce").astype("float64") if c in df else np.full(len(df), np.nan)
    for c in cols.categorical:
        if c in df:
            s = df[c]
            if s.dtype == object and pd.api.types.infer_dtype(s, skipna=True) in ("string", "empty"):
                out[c] = s.fillna(MISSING).to_numpy(dtype=object)  # text already (DuckDB's VARCHAR): no str() per row
            else:
                out[c] = s.astype(str).where(s.notna(), MISSING).astype(object).to_numpy()
        else:
            out[c] = np.full(len(df), MISSING, dtype=object)
    return pd.DataFrame(out, index=df.index)


class CategoryCoder(TransformerMixin, BaseEstimator):
    """Text categories to integer codes through pandas' Categorical (C speed, unlike object arrays).

    Categories seen fewer than `min_frequency` times in training, and categories never seen, share the
    code -1 ("other"), so a new campaign or a typo at scoring time is handled, not an error.
    """

    def __init__(self, min_frequency: int = MIN_FREQUENCY):
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


class CategoryFrame(TransformerMixin, BaseEstimator):
    """The trees' input: numbers as they are, categories as pandas categoricals the boosters split on natively.
    Rare and unseen categories share the level "other"; the levels are fixed at fit, so scoring matches training."""

    def __init__(self, numeric: list[str], categorical: list[str], min_frequency: int = MIN_FREQUENCY):
        self.numeric, self.categorical, self.min_frequency = numeric, categorical, min_frequency

    def fit(self, X, y=None):
        self.levels_ = {}
        for c in self.categorical:
            counts = X[c].value_counts()
            self.levels_[c] = sorted(set(counts.index[counts >= self.min_frequency]) - {OTHER}) + [OTHER]
        return self

    def transform(self, X):
        out = {c: X[c].to_numpy(dtype="float64") for c in self.numeric}
        for c in self.categorical:
            levels = self.levels_[c]  # sorted, then OTHER last: a value not among them (code -1) becomes OTHER
            codes = pd.Categorical(X[c], categories=levels).codes
            out[c] = pd.Categorical.from_codes(np.where(codes < 0, len(levels) - 1, codes), categories=levels)
        return pd.DataFrame(out, index=X.index)


class UniformSpline(TransformerMixin, BaseEstimator):
    """Cubic B-splines on `n_knots` uniform knots over each column's training range, as scikit-learn's
    SplineTransformer(knots="uniform", degree=3, extrapolation="constant") computes them (the same matrix), written
    out: each value touches four basis functions with the textbook uniform weights, so the sparse matrix is built
    directly (scikit-learn's sparse output stacks one matrix per column, which took seconds per 100k leads)."""

    def __init__(self, n_knots: int = SPLINE_KNOTS):
        self.n_knots = n_knots

    def fit(self, X, y=None):
        X = np.asarray(X, dtype=float)
        self.low_, self.high_ = X.min(axis=0), X.max(axis=0)
        self.n_features_in_ = X.shape[1]
        self.n_splines_ = self.n_knots + 2  # n_knots + degree - 1
        self.n_features_out_ = self.n_features_in_ * self.n_splines_
        return self

    def transform(self, X):
        import scipy.sparse as sp

        X = np.asarray(X, dtype=float)
        n, width = X.shape
        intervals = self.n_knots - 1
        step = np.where(self.high_ > self.low_, (self.high_ - self.low_) / intervals, 1.0)
        t = np.clip((X - self.low_) / step, 0, intervals)  # outside the training range: the value at its edge
        first = np.minimum(np.floor(t), intervals - 1)
        u = t - first
        weights = np.stack([(1 - u) ** 3, 3 * u**3 - 6 * u**2 + 4, -3 * u**3 + 3 * u**2 + 3 * u + 1, u**3], axis=-1) / 6
        columns = (np.arange(width) * self.n_splines_)[None, :, None] + first.astype(np.int64)[..., None] + np.arange(4)
        per_row = width * 4
        return sp.csr_matrix((weights.reshape(-1), columns.reshape(-1), np.arange(0, n * per_row + 1, per_row)),
                             shape=(n, self.n_features_out_))


def linear_preprocessor(cols: FeatureColumns) -> ColumnTransformer:
    """Numbers as splines, categories one-hot (rare levels pooled): the input of every linear model here.

    A number becomes a smooth curve: its quantile (robust to heavy tails and ties), then a spline basis over it.
    Every step works column by column, so all numbers share one block (and all categories another): the same
    matrix as a block per column, built in one pass instead of one per column."""
    blocks = []
    if cols.numeric:
        blocks.append(("numbers", Pipeline([
            ("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
            ("rank", QuantileTransformer(n_quantiles=100, subsample=100_000, random_state=0)),
            # Sparse: each value touches four basis functions; scaled without centring to stay sparse (the
            # unpenalised intercept absorbs the centre, so the fitted curve is the same).
            ("spline", UniformSpline(SPLINE_KNOTS)),
            ("scale", StandardScaler(with_mean=False))]), list(cols.numeric)))
    if cols.categorical:
        blocks.append(("categories", Pipeline([("code", CategoryCoder()),
                                               ("onehot", OneHotEncoder(handle_unknown="ignore"))]),
                       list(cols.categorical)))
    # one-hot blocks stay sparse: a dense matrix of 1M leads is gigabytes
    return ColumnTransformer(blocks, remainder="drop", sparse_threshold=1.0)


def build_pipeline(recipe: Recipe, seed: int = 0) -> Pipeline:
    kind, cols = recipe.kind, recipe.columns
    params = {**FIXED[kind], **recipe.params}
    if kind in ("logistic", "logistic_plain"):
        return Pipeline([("prep", linear_preprocessor(cols)),
                         ("model", LogisticRegression(random_state=seed, **params))])
    pre = CategoryFrame(cols.numeric, cols.categorical)
    if kind == "lightgbm":
        from lightgbm import LGBMClassifier

        model = LGBMClassifier(random_state=seed, n_jobs=THREADS, deterministic=True, force_col_wise=True,
                               verbose=-1, **params)
    elif kind == "xgboost":
        from xgboost import XGBClassifier

        model = XGBClassifier(random_state=seed, n_jobs=THREADS, tree_method="hist", enable_categorical=True,
                              max_cat_to_onehot=1, eval_metric="logloss", **params)
    else:
        raise ValueError(f"unknown model kind {kind!r}; expected one of {', '.join(MODEL_KINDS)}")
    return Pipeline([("prep", pre), ("model", model)])


def raw_probability(pipeline: Pipeline, df: pd.DataFrame, cols: FeatureColumns) -> np.ndarray:
    """The model's own (uncalibrated) probability of each lead."""
    return pipeline.predict_proba(prepare(df, cols))[:, 1]


def _early_stopped_trees(recipe: Recipe, train: pd.DataFrame, y: np.ndarray, seed: int) -> tuple[int, float]:
    """(trees, validation log loss): boosting stopped on the most recent VALID_SHARE of `train` (sorted by time)."""
    cut = int(len(train) * (1 - VALID_SHARE))
    fit_x, fit_y, val_x, val_y = train.iloc[:cut], y[:cut], train.iloc[cut:], y[cut:]
    pipe = build_pipeline(recipe, seed)
    prep = pipe.named_steps["prep"].fit(prepare(fit_x, recipe.columns))
    xf, xv = prep.transform(prepare(fit_x, recipe.columns)), prep.transform(prepare(val_x, recipe.columns))
    model = pipe.named_steps["model"]
    if recipe.kind == "lightgbm":
        import lightgbm

        model.fit(xf, fit_y, eval_X=(xv,), eval_y=(val_y,), eval_metric="binary_logloss",
                  callbacks=[lightgbm.early_stopping(EARLY_STOPPING_ROUNDS, verbose=False)])
        trees = int(model.best_iteration_ or model.n_estimators)
    else:
        model.set_params(early_stopping_rounds=EARLY_STOPPING_ROUNDS)
        model.fit(xf, fit_y, eval_set=[(xv, val_y)], verbose=False)
        trees = int(model.best_iteration) + 1
    return max(trees, 1), float(log_loss(val_y, np.clip(model.predict_proba(xv)[:, 1], 1e-6, 1 - 1e-6)))


def fit_recipe(recipe: Recipe, train: pd.DataFrame, y: np.ndarray, seed: int = 0) -> Pipeline:
    """Fit a recipe on other leads (a refit, a cross-fitted block, a re-evaluation). Trees stop early again on the
    most recent slice of these leads: how many trees generalise depends on how much data there is and how far the
    funnel has drifted, so a count chosen on the train split does not carry over (on the demo world a carried-over
    count cost five points of PR-AUC on the newest leads)."""
    if recipe.kind in TREE_KINDS and len(train) >= 200:
        trees, _ = _early_stopped_trees(recipe, train, y, seed)
        recipe = Recipe(recipe.kind, {**recipe.params, "n_estimators": trees}, recipe.columns)
    return build_pipeline(recipe, seed).fit(prepare(train, recipe.columns), y)


def fit_kind(kind: str, train: pd.DataFrame, y: np.ndarray, cols: FeatureColumns, seed: int = 0,
             overrides: dict | None = None) -> tuple[Recipe, Pipeline, list[dict]]:
    """Fit one kind on the train split (sorted by created_at): the trees try each setting of the search with early
    stopping and keep the best, refitted on the whole split with its number of trees."""
    cols = recipe_columns(kind, cols)
    tried = []
    best: Recipe | None = None
    best_loss = float("inf")
    for setting in SEARCH[kind]:
        recipe = Recipe(kind, {**setting, **(overrides or {})}, cols)
        if kind in TREE_KINDS:
            trees, loss = _early_stopped_trees(recipe, train, y, seed)
            recipe = Recipe(kind, {**recipe.params, "n_estimators": trees}, cols)
            tried.append({**recipe.params, "validation_log_loss": round(loss, 5)})
            if loss < best_loss:
                best, best_loss = recipe, loss
        else:
            best = recipe
            tried.append(dict(recipe.params))
    return best, build_pipeline(best, seed).fit(prepare(train, best.columns), y), tried


def fit_candidates(train: pd.DataFrame, y_train: np.ndarray, calib: pd.DataFrame, y_calib: np.ndarray,
                   cols: FeatureColumns, seed: int = 0, kinds: tuple[str, ...] = MODEL_KINDS,
                   overrides: dict[str, dict] | None = None, progress=lambda _msg: None) -> list[Candidate]:
    """Fit each kind on the train split; score it on the calib split (PR-AUC and log loss of its raw probability)."""
    out = []
    for kind in kinds:
        progress(f"fitting {kind} on {len(train):,} leads")
        recipe, pipe, tried = fit_kind(kind, train, y_train, cols, seed, (overrides or {}).get(kind))
        p = raw_probability(pipe, calib, recipe.columns)
        out.append(Candidate(recipe, pipe, p, float(average_precision_score(y_calib, p)),
                             float(log_loss(y_calib, np.clip(p, 1e-6, 1 - 1e-6))), tried))
    return out


# --- explanations -----------------------------------------------------------------------------------------


def transform(pipeline: Pipeline, df: pd.DataFrame, cols: FeatureColumns, ready: pd.DataFrame | None = None):
    """The model's input (a sparse matrix for the logistic models, a frame of categoricals for the trees).
    `ready`: `prepare` of df over a superset of cols, when a caller feeds several models the same leads."""
    frame = prepare(df, cols) if ready is None else ready[cols.all]
    return pipeline.named_steps["prep"].transform(frame)


def prepare_for(df: pd.DataFrame, *column_sets: FeatureColumns | None) -> pd.DataFrame | None:
    """`prepare` once over the union of several models' columns, its text columns as pandas categoricals (None when
    one column is numeric to one model and categorical to another: then each model prepares its own)."""
    sets = [c for c in column_sets if c is not None]
    numeric = list(dict.fromkeys(c for cols in sets for c in cols.numeric))
    categorical = list(dict.fromkeys(c for cols in sets for c in cols.categorical))
    if set(numeric) & set(categorical):
        return None
    ready = prepare(df, FeatureColumns(numeric, categorical))
    for c in categorical:  # each text column hashed once here; every model's coder then recodes the levels only
        ready[c] = pd.Categorical(ready[c])
    return ready


def output_owners(pipeline: Pipeline, cols: FeatureColumns) -> list[str]:
    """For each column of the model's input, the original feature it came from."""
    pre = pipeline.named_steps["prep"]
    if isinstance(pre, CategoryFrame):
        return list(pre.numeric) + list(pre.categorical)
    owners: list[str] = []
    for name, trans, columns in pre.transformers_:
        if name == "remainder" or trans == "drop" or not len(columns):
            continue
        if "onehot" in trans.named_steps:  # one block of categories ("c0", "c1", ... in models saved before)
            for column, levels in zip(columns, trans.named_steps["onehot"].categories_, strict=True):
                owners += [column] * len(levels)
        else:  # numbers: the same number of spline columns for each, in column order
            width = trans.named_steps["spline"].n_features_out_ // len(columns)
            for column in columns:
                owners += [column] * width
    return owners


def transformed_means(pipeline: Pipeline, X: pd.DataFrame, cols: FeatureColumns) -> np.ndarray | None:
    """The training leads' mean of each input column: the linear models' reference lead (None for trees)."""
    if isinstance(pipeline.named_steps["prep"], CategoryFrame):
        return None
    return np.asarray(transform(pipeline, X, cols).mean(axis=0)).ravel()


def membership(pipeline: Pipeline, cols: FeatureColumns) -> np.ndarray:
    """(model input columns x original features): 1 where an input column belongs to a feature."""
    owners = output_owners(pipeline, cols)
    index = {c: i for i, c in enumerate(cols.all)}
    out = np.zeros((len(owners), len(cols.all)))
    out[np.arange(len(owners)), [index[o] for o in owners]] = 1.0
    return out


def linear_contributions(coef: np.ndarray, Xt, centre: np.ndarray, member: np.ndarray) -> np.ndarray:
    """coefficient x (value - the reference lead's value), summed per original feature; works on sparse Xt."""
    return np.asarray(Xt @ (coef[:, None] * member)) - (centre * coef) @ member


def contributions(pipeline: Pipeline, X: pd.DataFrame, cols: FeatureColumns,
                  centre: np.ndarray | None = None, Xt=None) -> pd.DataFrame:
    """Per-lead, per-feature contribution to the log-odds, in the original feature columns."""
    return contributions_and_margin(pipeline, X, cols, centre, Xt)[0]


def _compiled_contributions(model, Xt):
    """trees.fast_contributions, or None where numba is not installed (a hosted dashboard installs only
    dashboard/requirements.txt): the library then scores."""
    try:
        from elv_assets.ml.trees import fast_contributions as compiled
    except ImportError:
        return None
    return compiled(model, Xt)


def contributions_and_margin(pipeline: Pipeline, X: pd.DataFrame, cols: FeatureColumns,
                             centre: np.ndarray | None = None, Xt=None) -> tuple[pd.DataFrame, np.ndarray]:
    """The contributions and each lead's log-odds (the model's raw score). The contributions and the reference
    lead's score add up to the log-odds, so scoring with reasons needs one pass over the trees, not two."""
    model = pipeline.named_steps["model"]
    Xt = transform(pipeline, X, cols) if Xt is None else Xt
    member = membership(pipeline, cols)
    kind = type(model).__name__
    if kind in ("LGBMClassifier", "XGBClassifier"):
        full = _compiled_contributions(model, Xt)  # XGBoost's approximate contributions, compiled (trees.py)
        if full is None and kind == "LGBMClassifier":
            full = model.booster_.predict(Xt, pred_contrib=True)
        elif full is None:
            from xgboost import DMatrix

            full = model.get_booster().predict(DMatrix(Xt, enable_categorical=True), pred_contribs=True,
                                               approx_contribs=True)
        raw, margin = full[:, :-1] @ member, full.sum(axis=1)
    else:
        coef = model.coef_[0]
        centre = centre if centre is not None else np.asarray(Xt.mean(axis=0)).ravel()
        raw = linear_contributions(coef, Xt, centre, member)
        margin = np.asarray(Xt @ coef).ravel() + model.intercept_[0]
    return pd.DataFrame(raw, index=X.index, columns=cols.all), margin


def importance(contrib: pd.DataFrame) -> pd.Series:
    """Mean absolute contribution per feature, largest first: what the model leans on."""
    return contrib.abs().mean().sort_values(ascending=False)
