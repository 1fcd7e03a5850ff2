"""Pacing and bookings: the ad-set daily feature table, weekly aggregates, the next-day bookings model
with its rolling-origin backtest, and the under-pacing risk model with a recommended action per ad set."""

import dagster as dg
import pandas as pd

from elv_assets.contracts.tables import AdsetDailyFeatures, AdsetWeekly, BookingsForecast, PacingRisk
from elv_assets.defs.gold import ADSET_DAILY_KEY
from elv_assets.defs.publishing import OWNERS, column_schema, gate_and_swap, publish_frame, table_metadata
from elv_assets.defs.resources import ElvSettings, RunWindow, Warehouse
from elv_assets.ingest import fetch_frame
from elv_assets.ml import forecasting as F
from elv_assets.ml.adset_features import adset_features_select, adset_weekly_select
from elv_assets.ml.pacing import month_budget_left, recommended_action
from elv_assets.ml.store import ObjectStore
from elv_assets.warehouse import resolve_as_of, stage

FEATURES_KEY = dg.AssetKey(["gold", "adset_daily_features"])
WEEKLY_KEY = dg.AssetKey(["gold", "adset_weekly"])
BOOKINGS_MODEL_KEY = dg.AssetKey(["ml", "bookings_model"])
BOOKINGS_FORECAST_KEY = dg.AssetKey(["gold", "bookings_forecast"])
PACING_MODEL_KEY = dg.AssetKey(["ml", "pacing_risk_model"])
PACING_RISK_KEY = dg.AssetKey(["gold", "pacing_risk"])


NO_PACING = ("Pacing cannot be learned: no day has both spend and a budget with both outcomes seen (ads.csv and "
             "adsets.csv are needed). gold.pacing_risk stays empty.")


class DailyFeaturesConfig(dg.Config):
    under_pacing_share: float = 0.8  # a day is under-paced when spend is below this share of the budget


@dg.asset(
    key=FEATURES_KEY,
    deps=[ADSET_DAILY_KEY],
    group_name="gold",
    kinds={"duckdb", "sql"},
    owners=OWNERS,
    description=(
        "Per (date, ad set): lag-1, 7- and 28-day features of spend, impressions, clicks, CTR, CPC, CPM, budget, "
        "pacing ratio, leads, qualified and bookings, weekday and days since launch, all from days before the "
        "row's date; the day's own bookings, spend and under-pacing as targets; plus a row for as_of + 1."
    ),
    metadata={"dagster/column_schema": column_schema(AdsetDailyFeatures)},
    check_specs=[dg.AssetCheckSpec("contract", asset=FEATURES_KEY)],
)
def adset_daily_features(context: dg.AssetExecutionContext, config: DailyFeaturesConfig, warehouse: Warehouse,
                         run_window: RunWindow):
    target = "gold.adset_daily_features"
    with warehouse.get_connection() as con:
        as_of = resolve_as_of(con, run_window.as_of_date)
        staged = stage(con, target, adset_features_select(as_of, config.under_pacing_share))
        gate = gate_and_swap(con, AdsetDailyFeatures, staged, target)
        yield from gate.events()
        share = con.execute(f"SELECT avg(target_under_paced::INT) FROM {target}").fetchall()[0][0]
        yield dg.MaterializeResult(metadata=table_metadata(
            con, target, as_of_date=str(as_of), under_pacing_share=config.under_pacing_share,
            under_paced_day_share=round(float(share), 4) if share is not None else None,
        ))


@dg.asset(
    key=WEEKLY_KEY,
    deps=[ADSET_DAILY_KEY],
    group_name="gold",
    kinds={"duckdb", "sql"},
    owners=OWNERS,
    description="Weeks (Monday first) per ad set: spend, delivery, budget and pacing, leads, qualified, bookings, "
                "revenue, CPL and ROAS.",
    metadata={"dagster/column_schema": column_schema(AdsetWeekly)},
    check_specs=[dg.AssetCheckSpec("contract", asset=WEEKLY_KEY)],
)
def adset_weekly(context: dg.AssetExecutionContext, warehouse: Warehouse):
    target = "gold.adset_weekly"
    with warehouse.get_connection() as con:
        staged = stage(con, target, adset_weekly_select())
        gate = gate_and_swap(con, AdsetWeekly, staged, target)
        yield from gate.events()
        yield dg.MaterializeResult(metadata=table_metadata(con, target))


def _features(warehouse: Warehouse, future_only: bool = False) -> pd.DataFrame:
    """The daily feature table; `future_only`: just the as_of + 1 rows the forecasts are for."""
    where = " WHERE is_future" if future_only else ""
    with warehouse.get_connection() as con:
        df = fetch_frame(con, f"SELECT * FROM gold.adset_daily_features{where}")
    df["date"] = pd.to_datetime(df["date"])
    return df


class BookingsConfig(dg.Config):
    folds: int = 4
    horizon_days: int = 14
    min_train_days: int = 28
    seed: int = 7
    n_estimators: int = 150
    max_depth: int = 3
    learning_rate: float = 0.05


@dg.asset(
    key=BOOKINGS_MODEL_KEY,
    deps=[FEATURES_KEY],
    group_name="ml",
    kinds={"xgboost", "scikit-learn"},
    owners=OWNERS,
    description=(
        "XGBoost regression (Poisson loss) of next-day bookings per ad set in a scikit-learn Pipeline, with a "
        "rolling-origin backtest (expanding window, 4 folds of 14 days by default) against the 7-day moving "
        "average of bookings on the same rows: MAE, RMSE, R² and WAPE per fold. Feature importances and mean "
        "|SHAP| in the metadata."
    ),
    check_specs=[dg.AssetCheckSpec("beats_baseline", asset=BOOKINGS_MODEL_KEY,
                                   description="The backtest WAPE is below the 7-day moving average's.")],
)
def bookings_model(context: dg.AssetExecutionContext, config: BookingsConfig, warehouse: Warehouse,
                   elv: ElvSettings):
    df = _features(warehouse)
    params = {"n_estimators": config.n_estimators, "max_depth": config.max_depth,
              "learning_rate": config.learning_rate}
    folds = F.rolling_folds(df.loc[~df["is_future"], "date"], config.folds, config.horizon_days, config.min_train_days)
    per_fold, predictions = F.backtest_bookings(df, folds, params, config.seed)
    overall = F.pooled(predictions)
    pipe, numeric, categorical = F.fit_bookings(df, params, config.seed)
    imp = F.importances(pipe, df[~df["is_future"]], numeric, categorical)
    ObjectStore(elv.artifacts_dir).save("bookings_model", {
        "pipeline": pipe, "numeric": numeric, "categorical": categorical, "per_fold": per_fold,
        "predictions": predictions, "overall": overall, "importances": imp,
    })
    m, b = overall["model"], overall["baseline"]
    yield dg.AssetCheckResult(
        check_name="beats_baseline", passed=m["wape"] < b["wape"], severity=dg.AssetCheckSeverity.WARN,
        description=(f"Backtest WAPE {m['wape']:.3f} against the 7-day average's {b['wape']:.3f} "
                     f"(ratio {m['wape'] / b['wape']:.3f}; a perfect expected-count forecast would still score "
                     f"about {overall['poisson_floor_wape']:.3f}, from Poisson noise alone)."),
        metadata={"model_wape": m["wape"], "baseline_wape": b["wape"]},
    )
    show = per_fold.assign(train_end=per_fold["train_end"].dt.date, test_end=per_fold["test_end"].dt.date)
    cols = ["fold", "train_end", "test_end", "test_rows", "model_mae", "baseline_mae", "model_rmse", "baseline_rmse",
            "model_r2", "baseline_r2", "model_wape", "baseline_wape"]
    yield dg.MaterializeResult(metadata={
        **{f"backtest/model_{k}": v for k, v in m.items()},
        **{f"backtest/baseline_{k}": v for k, v in b.items()},
        "backtest/wape_ratio": round(m["wape"] / b["wape"], 4) if b["wape"] else None,
        "backtest/poisson_floor_wape": round(overall["poisson_floor_wape"] or 0, 4),
        "folds": dg.MetadataValue.md(show[cols].to_markdown(index=False, floatfmt=".3f")),
        "importances": dg.MetadataValue.md(imp.head(15).to_markdown(index=False, floatfmt=".4f")),
    })


@dg.asset(
    key=BOOKINGS_FORECAST_KEY,
    deps=[BOOKINGS_MODEL_KEY],
    group_name="gold",
    kinds={"duckdb", "xgboost"},
    owners=OWNERS,
    description=(
        "Bookings per ad set and day: the backtest's predictions beside actuals and the 7-day baseline (kind "
        "backtest), and the forecast for as_of + 1 (kind forecast). Read by the dashboard's trends page."
    ),
    metadata={"dagster/column_schema": column_schema(BookingsForecast)},
    check_specs=[dg.AssetCheckSpec("contract", asset=BOOKINGS_FORECAST_KEY)],
)
def bookings_forecast(context: dg.AssetExecutionContext, warehouse: Warehouse, elv: ElvSettings):
    target = "gold.bookings_forecast"
    saved = ObjectStore(elv.artifacts_dir).load("bookings_model")
    future = _features(warehouse, future_only=True)
    forecast = pd.DataFrame({
        "date": future["date"].to_numpy(), "adset_id": future["adset_id"].to_numpy(),
        "campaign_id": future["campaign_id"].to_numpy(), "kind": "forecast", "fold": pd.NA, "actual": float("nan"),
        "predicted": F.predict(saved["pipeline"], future, saved["numeric"], saved["categorical"]).clip(0),
        "baseline": future["bookings_avg7"].to_numpy(dtype=float),
    })
    backtest = saved["predictions"].assign(kind="backtest")
    frame = pd.concat([backtest, forecast], ignore_index=True)[
        ["date", "adset_id", "campaign_id", "kind", "fold", "actual", "predicted", "baseline"]]
    frame["fold"] = frame["fold"].astype("Int64")
    with warehouse.get_connection() as con:
        gate = publish_frame(con, BookingsForecast, frame, target)
        yield from gate.events()
        yield dg.MaterializeResult(metadata=table_metadata(
            con, target, forecast_date=str(future["date"].max().date()) if len(future) else "none",
            forecast_total=round(float(forecast["predicted"].sum()), 2),
            baseline_total=round(float(forecast["baseline"].fillna(0).sum()), 2),
        ))


class PacingConfig(dg.Config):
    seed: int = 7
    n_estimators: int = 200
    max_depth: int = 4


@dg.asset(
    key=PACING_MODEL_KEY,
    deps=[FEATURES_KEY],
    group_name="ml",
    kinds={"xgboost", "scikit-learn"},
    owners=OWNERS,
    description=(
        "XGBoost classifier of whether an ad set under-paces tomorrow (spend below the configured share of its "
        "budget), calibrated (sigmoid) on a later window, split by date 60/20/20; accuracy, F1, ROC-AUC and "
        "PR-AUC on the test window against today's status carried forward."
    ),
    check_specs=[dg.AssetCheckSpec("beats_naive", asset=PACING_MODEL_KEY,
                                   description="PR-AUC above the naive 'same as today' baseline.")],
)
def pacing_risk_model(context: dg.AssetExecutionContext, config: PacingConfig, warehouse: Warehouse,
                      elv: ElvSettings):
    df = _features(warehouse)
    store = ObjectStore(elv.artifacts_dir)
    if df["target_under_paced"].nunique() < 2:
        # CRM exports alone (no spend or no budgets): nothing to learn; gold.pacing_risk says why.
        store.save("pacing_risk_model", None)
        yield dg.AssetCheckResult(check_name="beats_naive", passed=False, severity=dg.AssetCheckSeverity.WARN,
                                  description=NO_PACING)
        yield dg.MaterializeResult(metadata={"skipped": NO_PACING})
        return
    model = F.fit_pacing(df, {"n_estimators": config.n_estimators, "max_depth": config.max_depth}, config.seed)
    store.save("pacing_risk_model", model)
    m, naive = model.metrics["model"], model.metrics["naive"]
    yield dg.AssetCheckResult(
        check_name="beats_naive", passed=(m["pr_auc"] or 0) > (naive["pr_auc"] or 0),
        severity=dg.AssetCheckSeverity.WARN,
        description=f"PR-AUC {m['pr_auc']:.3f} against today's-status-carried-forward {naive['pr_auc']:.3f}.",
    )
    table = pd.DataFrame(model.metrics).T.reset_index(names="score")
    yield dg.MaterializeResult(metadata={
        **{f"test/model_{k}": v for k, v in m.items()}, **{f"test/naive_{k}": v for k, v in naive.items()},
        "calib_start": str(model.calib_start.date()), "test_start": str(model.test_start.date()),
        "comparison": dg.MetadataValue.md(table.to_markdown(index=False, floatfmt=".3f")),
    })


@dg.asset(
    key=PACING_RISK_KEY,
    deps=[PACING_MODEL_KEY, ADSET_DAILY_KEY],
    group_name="gold",
    kinds={"duckdb", "xgboost"},
    owners=OWNERS,
    description=(
        "Per ad set with a budget for as_of + 1: the calibrated probability of under-pacing, the pace of the last 7 days "
        "and yesterday, the budget, the budget left this month, and a recommended action in plain words."
    ),
    metadata={"dagster/column_schema": column_schema(PacingRisk)},
    check_specs=[dg.AssetCheckSpec("contract", asset=PACING_RISK_KEY)],
)
def pacing_risk(context: dg.AssetExecutionContext, warehouse: Warehouse, elv: ElvSettings, run_window: RunWindow):
    target = "gold.pacing_risk"
    model: F.PacingModel | None = ObjectStore(elv.artifacts_dir).load("pacing_risk_model")
    future = _features(warehouse, future_only=True)
    # live tomorrow: a budget for the day (an ad set past its end date has none)
    future = future[future["budget"].notna()].copy()
    if model is None:
        future = future.iloc[0:0]
    future["p_under_pace"] = model.probability(future) if model is not None and len(future) else 0.0
    with warehouse.get_connection() as con:
        as_of = resolve_as_of(con, run_window.as_of_date)
        left = month_budget_left(con, as_of)
        frame = future.merge(left, on="adset_id", how="left")
        frame = frame.assign(pace_7d=frame["pacing_ratio_avg7"], pace_yesterday=frame["pacing_ratio_lag1"])
        frame["action"] = [recommended_action(r) for r in frame.itertuples()]
        frame = frame[["adset_id", "campaign_id", "platform", "date", "p_under_pace", "pace_7d", "pace_yesterday",
                       "budget", "spend_month_to_date", "budget_left_in_month", "action"]]
        frame = frame.sort_values("p_under_pace", ascending=False).reset_index(drop=True)
        gate = publish_frame(con, PacingRisk, frame, target)
        yield from gate.events()
        yield dg.MaterializeResult(metadata=table_metadata(
            con, target, as_of_date=str(as_of), at_risk=int((frame["p_under_pace"] >= 0.5).sum()),
            ad_sets=len(frame), disabled_reason=NO_PACING if model is None else "",
        ))


pacing_assets = [adset_daily_features, adset_weekly, bookings_model, bookings_forecast, pacing_risk_model,
                 pacing_risk]
