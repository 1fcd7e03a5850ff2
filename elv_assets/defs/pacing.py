"""Pacing and bookings: the ad-set daily feature table, weekly aggregates, the next-day bookings model with its
rolling-origin backtest, and the under-pacing risk model with a recommended action per ad set."""

import dagster as dg

from elv_assets.build import AS_OF_KEY
from elv_assets.contracts.tables import AdsetDailyFeatures, AdsetWeekly, BookingsForecast, PacingRisk
from elv_assets.defs.declare import CheckDecl, artifact_asset, table_asset
from elv_assets.ml.adset_features import (
    build_adset_daily_features,
    build_adset_weekly,
    describe_daily_feature,
)
from elv_assets.ml.forecasting import (
    BOOKINGS_MODEL_KEY,
    PACING_MODEL_KEY,
    build_bookings_forecast,
    build_bookings_model,
    build_pacing_risk_model,
)
from elv_assets.ml.pacing import build_pacing_risk

DAILY_FEATURES_KEY = "gold/adset_daily_features"


class DailyFeaturesConfig(dg.Config):
    under_pacing_share: float = 0.8  # a day is under-paced when spend is below this share of the budget


adset_daily_features = table_asset(
    DAILY_FEATURES_KEY, build_adset_daily_features, contract=AdsetDailyFeatures, config=DailyFeaturesConfig,
    reads=[AS_OF_KEY, "gold/adset_daily"], describe=describe_daily_feature,
    description=(
        "Per (date, ad set): lag-1, 7- and 28-day features of spend, impressions, clicks, CTR, CPC, CPM, budget, "
        "pacing ratio, leads, qualified and bookings, weekday and days since launch, all from days before the row's "
        "date; the account's usual pace on the row's weekday (the 8 weeks before); the day's own bookings, spend and "
        "under-pacing (against the budget and against that weekday's usual pace) as targets; plus a row for "
        "as_of + 1."),
)

adset_weekly = table_asset(
    "gold/adset_weekly", build_adset_weekly, contract=AdsetWeekly, reads=["gold/adset_daily"],
    description="Weeks (Monday first) per ad set: spend, delivery, budget and pacing, leads, qualified, bookings, "
                "revenue, CPL and ROAS.",
)


class BookingsConfig(dg.Config):
    folds: int = 4
    horizon_days: int = 14
    min_train_days: int = 28
    seed: int = 7
    n_estimators: int = 150
    max_depth: int = 3
    learning_rate: float = 0.05


bookings_model = artifact_asset(
    BOOKINGS_MODEL_KEY, build_bookings_model, config=BookingsConfig, kinds={"xgboost", "scikit-learn"},
    reads=[DAILY_FEATURES_KEY],
    checks=[CheckDecl("beats_baseline", "The backtest WAPE is below the 7-day moving average's.")],
    description=(
        "XGBoost regression (Poisson loss) of next-day bookings per ad set in a scikit-learn Pipeline, with a "
        "rolling-origin backtest (expanding window, 4 folds of 14 days by default) against the 7-day moving average "
        "of bookings on the same rows: MAE, RMSE, R² and WAPE per fold. Feature importances and mean |SHAP| in the "
        "metadata."),
)

bookings_forecast = table_asset(
    "gold/bookings_forecast", build_bookings_forecast, contract=BookingsForecast, kinds={"xgboost"},
    reads=[BOOKINGS_MODEL_KEY, DAILY_FEATURES_KEY],
    description=(
        "Bookings per ad set and day: the backtest's predictions beside actuals and the 7-day baseline (kind "
        "backtest), and the forecast for as_of + 1 (kind forecast). Read by the dashboard's trends page."),
)


class PacingConfig(dg.Config):
    seed: int = 7
    n_estimators: int = 200
    max_depth: int = 4


pacing_risk_model = artifact_asset(
    PACING_MODEL_KEY, build_pacing_risk_model, config=PacingConfig, kinds={"xgboost", "scikit-learn"},
    reads=[DAILY_FEATURES_KEY],
    checks=[CheckDecl("beats_naive", "PR-AUC above the naive 'same as today' baseline, for both classifiers.")],
    description=(
        "XGBoost classifiers of whether an ad set under-paces tomorrow: spend below the configured share of its "
        "budget, and below that share of the usual pace of tomorrow's weekday (the account's); each calibrated "
        "(sigmoid) on a later window, split by date 60/20/20; accuracy, F1, ROC-AUC and PR-AUC on the test window "
        "against today's status carried forward."),
)

pacing_risk = table_asset(
    "gold/pacing_risk", build_pacing_risk, contract=PacingRisk, kinds={"xgboost"},
    reads=[AS_OF_KEY, PACING_MODEL_KEY, DAILY_FEATURES_KEY, "gold/adset_daily"],
    description=(
        "Per ad set with a budget for as_of + 1: the calibrated probability of under-pacing against its budget and "
        "against the usual pace of tomorrow's weekday, whether it is at risk (needs a person: the second at least "
        "50 %), the pace of the last 7 days and yesterday, the budget, the budget left this month, and a recommended "
        "action in plain words."),
)

pacing_assets = [adset_daily_features, adset_weekly, bookings_model, bookings_forecast, pacing_risk_model, pacing_risk]
