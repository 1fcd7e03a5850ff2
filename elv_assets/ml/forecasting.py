"""Next-day bookings per ad set and the risk of under-pacing tomorrow, against naive baselines.

Both models read `gold.adset_daily_features`, whose row for day d knows only days up to d - 1.
- Bookings: XGBoost regression with a Poisson loss (an expected count, so forecasts add up across ad sets),
  started from the 7-day average (its log is the base margin), so the trees learn the departures from it,
  against the 7-day moving average on the same rows (the forecast is the average where the model does
  not beat it in the backtest). Evaluated by a rolling-origin
  backtest: the last `folds` x `horizon_days` days are cut into consecutive test windows, each
  model trained on every day before its window (an expanding window).
- Under-pacing: XGBoost classification of "spend below share x budget tomorrow", calibrated
  (sigmoid) on a later window, against today's status carried forward; and a second classifier, on the same
  features and windows, of under-pacing for tomorrow's weekday (against the account's usual pace that weekday,
  `target_under_paced_weekday`), which decides whether an ad set needs a person.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.frozen import FrozenEstimator
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    f1_score,
    mean_absolute_error,
    mean_squared_error,
    r2_score,
    roc_auc_score,
)
from sklearn.pipeline import Pipeline

from elv_assets.build import Build, Built, Check, Skip
from elv_assets.ml.models import THREADS, CategoryCoder

ID_COLUMNS = ("date", "adset_id", "is_future")
TARGETS = ("target_bookings", "target_conversions", "target_spend", "target_under_paced",
           "target_under_paced_weekday")
# What the next-day model forecasts: CRM bookings where the CRM has them, else the conversions the ad platform
# reports (an ad export without a CRM). measure -> (target column, 7-day baseline column).
MEASURES = {"bookings": ("target_bookings", "bookings_avg7"), "platform_conversions": ("target_conversions",
                                                                                     "conversions_avg7")}
CATEGORICAL = ("platform", "campaign_id")
# What the pacing model predicts, against its budget and against its weekday's usual pace:
# name -> (target column, naive baseline column: the same status yesterday).
PACING_TARGETS = {"budget": ("target_under_paced", "under_paced_lag1"),
                  "weekday": ("target_under_paced_weekday", "under_paced_weekday_lag1")}
# Columns that define the weekday target and its baseline, not features: the models learn the weekday's effect from
# `weekday` (with these as features too, the test PR-AUC of both pacing classifiers was no better on the demo world).
NOT_FEATURES = ("weekday_pace", "under_paced_weekday_lag1")
# Poisson loss: bookings are small counts; a shallow model generalises best across the backtest folds.
BOOKINGS_PARAMS = {"objective": "count:poisson", "n_estimators": 150, "learning_rate": 0.05, "max_depth": 3,
                   "min_child_weight": 10, "subsample": 0.8, "colsample_bytree": 0.8}
OFFSET_FLOOR = 0.1  # added to the 7-day average before its log: a quiet week is not minus infinity
PACING_PARAMS = {"n_estimators": 200, "learning_rate": 0.05, "max_depth": 4, "min_child_weight": 5,
                 "subsample": 0.8, "colsample_bytree": 0.8}


def feature_names(df: pd.DataFrame) -> tuple[list[str], list[str]]:
    """(numeric, categorical) feature columns of the daily feature table that carry any value."""
    skip = set(ID_COLUMNS) | set(TARGETS) | set(CATEGORICAL) | set(NOT_FEATURES)
    numeric = [c for c in df.columns if c not in skip and df[c].notna().any()]
    categorical = [c for c in CATEGORICAL if c in df.columns and df[c].notna().any()]
    return numeric, categorical


def _frame(df: pd.DataFrame, numeric: list[str], categorical: list[str]) -> pd.DataFrame:
    out = df[numeric].apply(pd.to_numeric, errors="coerce").astype("float64")
    for c in categorical:
        out[c] = df[c].astype(str).where(df[c].notna(), "missing").astype(object)
    return out


def _pipeline(model, numeric: list[str], categorical: list[str]) -> Pipeline:
    pre = ColumnTransformer([("num", "passthrough", numeric), ("cat", CategoryCoder(min_frequency=1), categorical)])
    return Pipeline([("prep", pre), ("model", model)])


def bookings_pipeline(numeric, categorical, params: dict | None = None, seed: int = 0) -> Pipeline:
    from xgboost import XGBRegressor

    return _pipeline(XGBRegressor(random_state=seed, n_jobs=THREADS, tree_method="hist",
                                  **{**BOOKINGS_PARAMS, **(params or {})}), numeric, categorical)


def regression_metrics(y, yhat) -> dict[str, float]:
    y, yhat = np.asarray(y, dtype=float), np.asarray(yhat, dtype=float)
    total = float(np.abs(y).sum())
    return {
        "mae": round(float(mean_absolute_error(y, yhat)), 6),
        "rmse": round(float(np.sqrt(mean_squared_error(y, yhat))), 6),
        "r2": round(float(r2_score(y, yhat)), 6) if len(y) > 1 else None,
        "wape": round(float(np.abs(y - yhat).sum() / total), 6) if total else None,
    }


@dataclass(frozen=True)
class Fold:
    number: int
    train_end: pd.Timestamp  # exclusive: training days are before it
    test_start: pd.Timestamp
    test_end: pd.Timestamp  # inclusive


class TooLittleHistory(ValueError):
    """Fewer days than a backtest needs; the message says how many."""


def rolling_folds(dates: pd.Series, folds: int = 4, horizon_days: int = 14, min_train_days: int = 28) -> list[Fold]:
    """Consecutive test windows over the last folds x horizon days; each trains on all days before it."""
    days = pd.Series(sorted(pd.to_datetime(dates).dt.normalize().unique()))
    if len(days) < min_train_days + folds * horizon_days:
        raise TooLittleHistory(f"a {folds}-fold backtest of {horizon_days}-day windows after {min_train_days} "
                               f"training days needs {min_train_days + folds * horizon_days} days of history, "
                               f"got {len(days)}")
    first_test = len(days) - folds * horizon_days
    out = []
    for k in range(folds):
        start = days.iloc[first_test + k * horizon_days]
        end = days.iloc[first_test + (k + 1) * horizon_days - 1]
        out.append(Fold(k + 1, start, start, end))
    return out


def offset(df: pd.DataFrame, measure: str) -> np.ndarray:
    """The model's starting point, in the log space of its Poisson loss: the measure's 7-day average. The trees
    learn how tomorrow differs from it, so a model with little to learn is the baseline, not worse."""
    return np.log(pd.to_numeric(df[MEASURES[measure][1]], errors="coerce").fillna(0).to_numpy(float) + OFFSET_FLOOR)


def fit_counts(train: pd.DataFrame, numeric: list[str], categorical: list[str], measure: str,
               params: dict | None = None, seed: int = 0) -> Pipeline:
    """The next-day count model on `train`, started from the 7-day average (see `offset`)."""
    target = MEASURES[measure][0]
    return bookings_pipeline(numeric, categorical, params, seed).fit(
        _frame(train, numeric, categorical), train[target].astype(float), model__base_margin=offset(train, measure))


def backtest_bookings(df: pd.DataFrame, folds: list[Fold], params: dict | None = None, seed: int = 0,
                      measure: str = "bookings"):
    """Per-fold metrics for model and baseline, and every test prediction."""
    target, baseline = MEASURES[measure]
    known = df[~df["is_future"] & df[target].notna()]
    numeric, categorical = feature_names(known)
    rows, preds = [], []
    for f in folds:
        train = known[known["date"] < f.train_end]
        test = known[(known["date"] >= f.test_start) & (known["date"] <= f.test_end)]
        pipe = fit_counts(train, numeric, categorical, measure, params, seed)
        yhat = np.clip(predict(pipe, test, numeric, categorical, measure), 0, None)
        base = test[baseline].fillna(0).to_numpy(dtype=float)
        y = test[target].to_numpy(dtype=float)
        m, b = regression_metrics(y, yhat), regression_metrics(y, base)
        rows.append({"fold": f.number, "train_end": f.train_end, "test_start": f.test_start, "test_end": f.test_end,
                     "train_rows": len(train), "test_rows": len(test),
                     **{f"model_{k}": v for k, v in m.items()}, **{f"baseline_{k}": v for k, v in b.items()}})
        preds.append(pd.DataFrame({"date": test["date"].to_numpy(), "adset_id": test["adset_id"].to_numpy(),
                                   "campaign_id": test["campaign_id"].to_numpy(), "fold": f.number, "actual": y,
                                   "predicted": yhat, "baseline": base}))
    return pd.DataFrame(rows), pd.concat(preds, ignore_index=True)


def poisson_wape_floor(mean: np.ndarray, actual_total: float) -> float | None:
    """The WAPE even a perfect forecast of the expected count would have, if counts are Poisson.

    Bookings of one ad set on one day are small counts: with an expected 0.8 bookings the day still
    brings 0, 1 or 2. E|Y - mu| for Y ~ Poisson(mu) is 2 mu^(floor mu + 1) e^(-mu) / floor(mu)!, so the
    noise alone puts a floor under WAPE; this evaluates it at the forecasts.
    """
    from scipy.special import gammaln

    mu = np.clip(np.asarray(mean, dtype=float), 1e-9, None)
    k = np.floor(mu)
    mad = 2.0 * np.exp((k + 1) * np.log(mu) - mu - gammaln(k + 1))
    return float(mad.sum() / actual_total) if actual_total else None


def pooled(predictions: pd.DataFrame) -> dict[str, dict]:
    """Model and baseline metrics over every backtest prediction together."""
    return {"model": regression_metrics(predictions["actual"], predictions["predicted"]),
            "baseline": regression_metrics(predictions["actual"], predictions["baseline"]),
            "poisson_floor_wape": poisson_wape_floor(predictions["predicted"], float(predictions["actual"].sum()))}


def fit_bookings(df: pd.DataFrame, params: dict | None = None, seed: int = 0,
                 measure: str = "bookings") -> tuple[Pipeline, list[str], list[str]]:
    target = MEASURES[measure][0]
    known = df[~df["is_future"] & df[target].notna()]
    numeric, categorical = feature_names(known)
    return fit_counts(known, numeric, categorical, measure, params, seed), numeric, categorical


def predict(pipe: Pipeline, df: pd.DataFrame, numeric: list[str], categorical: list[str],
            measure: str = "bookings") -> np.ndarray:
    return pipe.predict(_frame(df, numeric, categorical), base_margin=offset(df, measure)).astype("float64")


def importances(pipe: Pipeline, df: pd.DataFrame, numeric: list[str], categorical: list[str]) -> pd.DataFrame:
    """Gain importance and mean |SHAP| (XGBoost's pred_contribs) per feature, largest SHAP first."""
    from xgboost import DMatrix

    model = pipe.named_steps["model"]
    Xt = np.asarray(pipe.named_steps["prep"].transform(_frame(df, numeric, categorical)), dtype=float)
    shap = np.abs(model.get_booster().predict(DMatrix(Xt), pred_contribs=True)[:, :-1]).mean(axis=0)
    names = numeric + categorical
    gain = model.get_booster().get_score(importance_type="gain")
    return pd.DataFrame({
        "feature": names,
        "gain": [float(gain.get(f"f{i}", 0.0)) for i in range(len(names))],
        "mean_abs_shap": shap,
    }).sort_values("mean_abs_shap", ascending=False).reset_index(drop=True)


# --- under-pacing ------------------------------------------------------------------------------------

def pacing_split(dates: pd.Series, shares=(0.6, 0.2, 0.2)) -> tuple[pd.Timestamp, pd.Timestamp]:
    """calib_start and test_start: days cut by share of the distinct days, never random."""
    days = pd.Series(sorted(pd.to_datetime(dates).unique()))
    return days.iloc[int(len(days) * shares[0])], days.iloc[int(len(days) * (shares[0] + shares[1]))]


def classification_report(y, p, threshold: float = 0.5) -> dict[str, float | None]:
    y, p = np.asarray(y, dtype=int), np.asarray(p, dtype=float)
    both = len(set(y)) == 2
    return {
        "accuracy": round(float(accuracy_score(y, p >= threshold)), 6),
        "f1": round(float(f1_score(y, p >= threshold, zero_division=0)), 6),
        "roc_auc": round(float(roc_auc_score(y, p)), 6) if both else None,
        "pr_auc": round(float(average_precision_score(y, p)), 6) if y.sum() else None,
        "positive_rate": round(float(y.mean()), 6),
        "n": int(len(y)),
    }


@dataclass
class PacingModel:
    """Two calibrated classifiers on the same features and time split: under-pacing against the budget
    (`pipeline`, `calibrated`) and against the weekday's usual pace (`weekday_pipeline`, `weekday_calibrated`).
    `metrics` holds each one's test figures beside its naive forecast: model / naive, weekday_model / weekday_naive."""

    pipeline: Pipeline
    calibrated: CalibratedClassifierCV
    numeric: list[str]
    categorical: list[str]
    calib_start: pd.Timestamp
    test_start: pd.Timestamp
    metrics: dict
    # a model saved before the weekday classifier came has none (the class default): it answers with the budget's
    weekday_pipeline: Pipeline | None = None
    weekday_calibrated: CalibratedClassifierCV | None = None

    def probability(self, df: pd.DataFrame, against: str = "budget") -> np.ndarray:
        """The chance of under-pacing on each row's day, against its budget or against its weekday's usual pace."""
        pipe, calibrated = self.pipeline, self.calibrated
        if against == "weekday" and self.weekday_pipeline is not None:
            pipe, calibrated = self.weekday_pipeline, self.weekday_calibrated
        Xt = pipe.named_steps["prep"].transform(_frame(df, self.numeric, self.categorical))
        return calibrated.predict_proba(np.asarray(Xt, dtype=float))[:, 1]


def _fit_calibrated(train: pd.DataFrame, calib: pd.DataFrame, target: str, numeric: list[str],
                    categorical: list[str], params: dict | None, seed: int):
    from xgboost import XGBClassifier

    pipe = _pipeline(XGBClassifier(random_state=seed, n_jobs=THREADS, tree_method="hist", eval_metric="logloss",
                                   **{**PACING_PARAMS, **(params or {})}), numeric, categorical)
    pipe.fit(_frame(train, numeric, categorical), train[target].astype(int))
    prep = pipe.named_steps["prep"]
    cal = CalibratedClassifierCV(FrozenEstimator(pipe.named_steps["model"]), method="sigmoid").fit(
        np.asarray(prep.transform(_frame(calib, numeric, categorical)), dtype=float), calib[target].astype(int))
    return pipe, cal


def fit_pacing(df: pd.DataFrame, params: dict | None = None, seed: int = 0) -> PacingModel:
    """Both pacing classifiers, split by date 60/20/20 (train / calibration / test)."""
    known = df[~df["is_future"] & df["target_under_paced"].notna()].copy()
    numeric, categorical = feature_names(known)
    calib_start, test_start = pacing_split(known["date"])
    train = known[known["date"] < calib_start]
    calib = known[(known["date"] >= calib_start) & (known["date"] < test_start)]
    test = known[known["date"] >= test_start]
    for name, part in (("training", train), ("calibration", calib), ("test", test)):
        if part["target_under_paced"].nunique() < 2:
            raise TooLittleHistory(f"the {name} window ({len(part):,} ad-set days) holds only "
                                   f"{'under-paced' if part['target_under_paced'].all() else 'on-pace'} days")
    pipe, cal = _fit_calibrated(train, calib, "target_under_paced", numeric, categorical, params, seed)
    model = PacingModel(pipe, cal, numeric, categorical, calib_start, test_start, {})
    weekday_target = PACING_TARGETS["weekday"][0]
    # the weekday's target is the budget's on days without a weekday dip; it needs both outcomes in each window
    if all(part[weekday_target].nunique() == 2 for part in (train, calib, test)):
        model.weekday_pipeline, model.weekday_calibrated = _fit_calibrated(
            train, calib, weekday_target, numeric, categorical, params, seed)
    for against, (target, baseline) in PACING_TARGETS.items():
        if against == "weekday" and model.weekday_pipeline is None:
            continue
        y = test[target].astype(int).to_numpy()
        naive = test[baseline].astype(float).fillna(0).to_numpy()
        prefix = "" if against == "budget" else "weekday_"
        model.metrics[f"{prefix}model"] = classification_report(y, model.probability(test, against))
        model.metrics[f"{prefix}naive"] = classification_report(y, naive)
    return model


# --- builds -------------------------------------------------------------------------------------------

BOOKINGS_MODEL_KEY = "ml/bookings_model"
PACING_MODEL_KEY = "ml/pacing_risk_model"
NO_PACING = ("Pacing cannot be learned: no day has both spend and a budget (or enough days of spend to know an ad "
             "set's usual level) with both outcomes seen; ads.csv is needed. gold.pacing_risk stays empty.")


def daily_features(b: Build, future_only: bool = False) -> pd.DataFrame:
    """gold.adset_daily_features; `future_only`: just the as_of + 1 rows the forecasts are for."""
    df = b.fetch("SELECT * FROM gold.adset_daily_features" + (" WHERE is_future" if future_only else ""))
    df["date"] = pd.to_datetime(df["date"])
    return df


def forecast_measure(df: pd.DataFrame) -> str | None:
    """CRM bookings when there are any, else platform-reported conversions when there are any, else None."""
    known = df[~df["is_future"]]
    for measure, (target, _) in MEASURES.items():
        if known[target].fillna(0).sum() > 0:
            return measure
    return None


def build_bookings_model(b: Build) -> Built:
    """Next-day bookings (or platform conversions) per ad set, backtested against the 7-day average."""
    df = daily_features(b)
    measure = forecast_measure(df)
    if measure is None:
        raise Skip("Nothing to forecast: no CRM bookings and no platform-reported conversions in the history.")
    cfg = b.config
    params = {"n_estimators": cfg.n_estimators, "max_depth": cfg.max_depth, "learning_rate": cfg.learning_rate}
    try:
        folds = rolling_folds(df.loc[~df["is_future"], "date"], cfg.folds, cfg.horizon_days, cfg.min_train_days)
    except TooLittleHistory as exc:
        raise Skip(f"Too little ad-set history to forecast bookings: {exc}.") from None
    per_fold, predictions = backtest_bookings(df, folds, params, cfg.seed, measure)
    overall = pooled(predictions)
    pipe, numeric, categorical = fit_bookings(df, params, cfg.seed, measure)
    imp = importances(pipe, df[~df["is_future"]], numeric, categorical)
    m, base = overall["model"], overall["baseline"]
    check = Check(
        "beats_baseline", passed=m["wape"] < base["wape"],
        description=(f"{measure.replace('_', ' ').capitalize()}: backtest WAPE {m['wape']:.3f} against the 7-day "
                     f"average's {base['wape']:.3f} "
                     f"(ratio {m['wape'] / base['wape']:.3f}; a perfect expected-count forecast would still score "
                     f"about {overall['poisson_floor_wape']:.3f}, from Poisson noise alone)."),
        metadata={"model_wape": m["wape"], "baseline_wape": base["wape"]})
    show = per_fold.assign(train_end=per_fold["train_end"].dt.date, test_end=per_fold["test_end"].dt.date)
    cols = ["fold", "train_end", "test_end", "test_rows", "model_mae", "baseline_mae", "model_rmse", "baseline_rmse",
            "model_r2", "baseline_r2", "model_wape", "baseline_wape"]
    # the forecast is the model's only where its backtest beat the 7-day average; otherwise the average is served
    serves = "model" if m["wape"] < base["wape"] else "7-day average"
    artifact = {"pipeline": pipe, "numeric": numeric, "categorical": categorical, "per_fold": per_fold,
                "predictions": predictions, "overall": overall, "importances": imp, "measure": measure,
                "serves": serves}
    return Built(artifact=artifact, checks=[check], metadata={
        "measure": measure, "forecast_from": serves,
        **{f"backtest/model_{k}": v for k, v in m.items()},
        **{f"backtest/baseline_{k}": v for k, v in base.items()},
        "backtest/wape_ratio": round(m["wape"] / base["wape"], 4) if base["wape"] else None,
        "backtest/poisson_floor_wape": round(overall["poisson_floor_wape"] or 0, 4),
        "folds": show[cols].round(3), "importances": imp.head(15).round(4),
    })


def build_bookings_forecast(b: Build) -> Built:
    """The backtest's predictions beside actuals and the baseline, and the forecast for as_of + 1."""
    if not b.has(BOOKINGS_MODEL_KEY):
        raise Skip("No bookings model yet: it is trained once there is enough ad-set history (ml/bookings_model).")
    saved = b.load(BOOKINGS_MODEL_KEY)
    future = daily_features(b, future_only=True)
    measure = saved["measure"]
    baseline = future[MEASURES[measure][1]].to_numpy(dtype=float)
    predicted = (predict(saved["pipeline"], future, saved["numeric"], saved["categorical"], measure).clip(0)
                 if saved["serves"] == "model" else np.nan_to_num(baseline))
    forecast = pd.DataFrame({
        "date": future["date"].to_numpy(), "adset_id": future["adset_id"].to_numpy(),
        "campaign_id": future["campaign_id"].to_numpy(), "kind": "forecast", "fold": pd.NA, "actual": float("nan"),
        "predicted": predicted, "baseline": baseline,
    })
    backtest = saved["predictions"].assign(kind="backtest")
    frame = pd.concat([backtest, forecast], ignore_index=True).assign(measure=measure)[
        ["date", "adset_id", "campaign_id", "measure", "kind", "fold", "actual", "predicted", "baseline"]]
    frame["fold"] = frame["fold"].astype("Int64")
    b.stage_frame(frame)
    return Built(metadata={
        "measure": measure, "forecast_from": saved["serves"],
        "forecast_date": str(future["date"].max().date()) if len(future) else "none",
        "forecast_total": round(float(forecast["predicted"].sum()), 2),
        "baseline_total": round(float(forecast["baseline"].fillna(0).sum()), 2),
    })


def build_pacing_risk_model(b: Build) -> Built:
    df = daily_features(b)
    if df["target_under_paced"].nunique() < 2:
        raise Skip(NO_PACING)
    cfg = b.config
    try:
        model = fit_pacing(df, {"n_estimators": cfg.n_estimators, "max_depth": cfg.max_depth}, cfg.seed)
    except TooLittleHistory as exc:
        raise Skip(f"Too little pacing history to learn from: {exc}.") from None
    scores = model.metrics
    pairs = [(scores[prefix + "model"], scores[prefix + "naive"], words)
             for prefix, words in (("", "against the budget"), ("weekday_", "against the weekday's usual pace"))
             if prefix + "model" in scores]
    check = Check("beats_naive", passed=all((m["pr_auc"] or 0) > (n["pr_auc"] or 0) for m, n, _ in pairs),
                  description="; ".join(f"PR-AUC {m['pr_auc']:.3f} {words} against today's-status-carried-forward "
                                        f"{n['pr_auc']:.3f}" for m, n, words in pairs) + ".")
    table = pd.DataFrame(scores).T.reset_index(names="score")
    return Built(artifact=model, checks=[check], metadata={
        **{f"test/{name}_{k}": v for name, figures in scores.items() for k, v in figures.items()},
        "calib_start": str(model.calib_start.date()), "test_start": str(model.test_start.date()),
        "comparison": table.round(3),
    })
