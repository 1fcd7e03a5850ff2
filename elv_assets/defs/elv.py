"""The ELV chain: label maturity, lead features, the training table, candidate models, the chosen model, its
calibration and evaluation, the promotion gate, lead scores, the campaign and ad-set leaderboards, and the drift
of the serving model's features."""

import dagster as dg

from elv_assets.build import AS_OF_KEY
from elv_assets.contracts.tables import (
    AdsetLeaderboard,
    CampaignLeaderboard,
    FeatureDrift,
    LeadFeatures,
    LeadLabels,
    LeadScores,
    TrainingTable,
)
from elv_assets.defs.declare import CheckDecl, artifact_asset, table_asset
from elv_assets.lakehouse.files import SERVING_MODEL_KEY
from elv_assets.ml.elv import describe_feature
from elv_assets.ml.features import build_lead_features
from elv_assets.ml.labels import build_lead_labels
from elv_assets.ml.leaderboards import MIN_ADSET_KEY_SHARE, MIN_LEADS, WINDOW_DAYS, leaderboard_build
from elv_assets.ml.monitoring import build_feature_drift
from elv_assets.ml.scoring import build_lead_scores
from elv_assets.ml.split import build_training_table
from elv_assets.ml.training import (
    CALIBRATOR_KEY,
    CANDIDATES_KEY,
    EVALUATION_KEY,
    MODEL_KEY,
    build_calibrator,
    build_candidate_models,
    build_evaluation,
    build_model,
    build_serving_model,
)

ML_KINDS = {"scikit-learn", "lightgbm", "xgboost"}
LABELS_KEY, LEAD_FEATURES_KEY, TRAINING_KEY = "gold/lead_labels", "gold/lead_features", "gold/training_table"
SCORES_KEY = "gold/lead_scores"

lead_labels = table_asset(
    LABELS_KEY, build_lead_labels, contract=LeadLabels, reads=[AS_OF_KEY, "gold/lead_attribution", "silver/outcomes"],
    checks=[CheckDecl("enough_labels", "The mature cohort is large enough to learn from; until it is, the model "
                                       "steps skip and say how many more labelled leads are needed.")],
    description=(
        "Label maturity per lead: positive when it qualified within the window (14 days by default), negative once "
        "the window has closed without qualifying, immature while it is still open. Only mature leads train and "
        "evaluate models."),
)

lead_features = table_asset(
    LEAD_FEATURES_KEY, build_lead_features, contract=LeadFeatures, describe=describe_feature,
    reads=[AS_OF_KEY, "gold/lead_attribution", "silver/leads", "silver/ads"],
    description=(
        "One row per lead: its own attributes (form, country, device, ...), calendar, and its ad set's and "
        "campaign's rolling 7- and 28-day ad features ending feature_lag_days (default 1) before the day it was "
        "created, so no same-day ad data leaks in. DuckDB window SQL."),
)


class SplitConfig(dg.Config):
    train_share: float = 0.6
    calib_share: float = 0.2
    test_share: float = 0.2


training_table = table_asset(
    TRAINING_KEY, build_training_table, contract=TrainingTable, config=SplitConfig, kinds={"pandas"},
    describe=describe_feature, reads=[LABELS_KEY, LEAD_FEATURES_KEY],
    description=(
        "The mature leads with their features, label and time split: train, calib and test by created_at "
        "(60/20/20 by default), never random. The boundaries are in the metadata."),
)


class LogisticConfig(dg.Config):
    C: float = 0.1
    max_iter: int = 2000


class LightGBMConfig(dg.Config):
    n_estimators: int = 300
    learning_rate: float = 0.05
    num_leaves: int = 31
    min_child_samples: int = 50
    subsample: float = 0.8
    colsample_bytree: float = 0.8


class XGBoostConfig(dg.Config):
    n_estimators: int = 300
    learning_rate: float = 0.05
    max_depth: int = 5
    min_child_weight: float = 5.0
    subsample: float = 0.8
    colsample_bytree: float = 0.8


class CandidatesConfig(dg.Config):
    seed: int = 7
    logistic: LogisticConfig = LogisticConfig()
    lightgbm: LightGBMConfig = LightGBMConfig()
    xgboost: XGBoostConfig = XGBoostConfig()


candidate_models = artifact_asset(
    CANDIDATES_KEY, build_candidate_models, config=CandidatesConfig, kinds=ML_KINDS,
    reads=[TRAINING_KEY, LABELS_KEY],
    description=(
        "Three candidate models fitted on the train split: a logistic regression (one-hot and scaling in a "
        "scikit-learn Pipeline), LightGBM and XGBoost; each scored by PR-AUC on the calib split."),
)


class ChoiceConfig(dg.Config):
    tie_tolerance: float = 0.002


model = artifact_asset(
    MODEL_KEY, build_model, config=ChoiceConfig, kinds=ML_KINDS, reads=[CANDIDATES_KEY, LABELS_KEY],
    description="The chosen candidate: best PR-AUC on the calib split; within the tie tolerance the simpler wins.",
)


class CalibratorConfig(dg.Config):
    isotonic_min_positives: int = 5000
    value_prior_strength: float = 20.0
    qualified_lead_value: float | None = None  # set to use one configured value instead of learning it


calibrator = artifact_asset(
    CALIBRATOR_KEY, build_calibrator, config=CalibratorConfig, kinds={"scikit-learn"},
    reads=[MODEL_KEY, TRAINING_KEY, LABELS_KEY, "silver/outcomes", AS_OF_KEY],
    description=(
        "Calibrates the chosen model on the calib split (CalibratedClassifierCV on a FrozenEstimator): sigmoid by "
        "default, isotonic when the calib split has enough positives. Also learns the expected value of a "
        "qualified lead per campaign, and packs both into the model bundle."),
)


class EvaluationConfig(dg.Config):
    max_ece: float = 0.05
    leakage_roc_auc: float = 0.95


evaluation = artifact_asset(
    EVALUATION_KEY, build_evaluation, config=EvaluationConfig, kinds={"scikit-learn"},
    reads=[CALIBRATOR_KEY, TRAINING_KEY, LABELS_KEY, "silver/ads", "gold/lead_attribution"],
    checks=[
        CheckDecl("calibration", "ECE on the test split is within the limit."),
        CheckDecl("beats_campaign_rate", "The model's PR-AUC beats the campaign-rate baseline on the test split."),
        CheckDecl("leakage_tripwire", "ROC-AUC is not implausibly high (which usually means a leak)."),
    ],
    description=(
        "The calibrated model on the held-out test split: PR-AUC, ROC-AUC, Brier, log loss, ECE (equal-width and "
        "equal-mass), reliability curve, lift and capture at the top 5/10/20 %, against the campaign's historical "
        "qualification rate and the campaign's CPL."),
)


class PromotionConfig(dg.Config):
    pr_auc_tolerance: float = 0.01
    max_ece: float = 0.05


serving_model = artifact_asset(
    SERVING_MODEL_KEY, build_serving_model, config=PromotionConfig, kinds={"scikit-learn"},
    reads=[CALIBRATOR_KEY, EVALUATION_KEY, TRAINING_KEY, LABELS_KEY],
    checks=[CheckDecl("promotion", "Which model serves, and why.")],
    description=(
        "The promotion gate: the new model replaces the serving one only when it is at least as good on the current "
        "test window (PR-AUC within a tolerance, ECE within the limit); otherwise the old one keeps serving and the "
        "check says why. Every decision is appended to ml/serving_model.promotions.jsonl."),
)

lead_scores = table_asset(
    SCORES_KEY, build_lead_scores, contract=LeadScores, kinds={"scikit-learn"},
    reads=[SERVING_MODEL_KEY, LEAD_FEATURES_KEY, LABELS_KEY, TRAINING_KEY],
    description=(
        "Every lead, labelled and new, scored by the serving model: p_qualified_14d (calibrated), ELV (p x the "
        "expected value of a qualified lead of its campaign, in the data's currency), rank, decile, its split, and "
        "the three features that moved its score most, in plain words."),
)


class LeaderboardConfig(dg.Config):
    window_days: int = WINDOW_DAYS
    min_leads: int = MIN_LEADS
    min_adset_key_share: float = MIN_ADSET_KEY_SHARE


campaign_leaderboard = table_asset(
    "gold/campaign_leaderboard", leaderboard_build("campaign"), contract=CampaignLeaderboard,
    config=LeaderboardConfig, reads=[AS_OF_KEY, SCORES_KEY, "silver/ads"],
    description=(
        "Campaigns over the last 28 days: spend, leads, qualified so far, predicted qualified, predicted ELV, ELV "
        "per unit of spend, CPL and expected cost per qualified lead; ranked by ELV per spend (by predicted ELV "
        "without spend). Campaigns with too few leads are flagged low_volume and not ranked."),
)

adset_leaderboard = table_asset(
    "gold/adset_leaderboard", leaderboard_build("adset"), contract=AdsetLeaderboard, config=LeaderboardConfig,
    reads=[AS_OF_KEY, SCORES_KEY, "silver/ads"],
    description=(
        "The same leaderboard per ad set. Skipped (empty, with the reason) when too few leads carry an ad-set key "
        "to rank ad sets honestly."),
)


class DriftConfig(dg.Config):
    features: int = 10  # the N most important features of the serving model
    current_days: int = 14  # current window: leads of the last N days up to as_of
    bins: int = 10


feature_drift = table_asset(
    "monitoring/feature_drift", build_feature_drift, contract=FeatureDrift, config=DriftConfig, kinds={"pandas"},
    reads=[AS_OF_KEY, SERVING_MODEL_KEY, LEAD_FEATURES_KEY, TRAINING_KEY],
    checks=[CheckDecl("drift", "Warns on moderate drift, fails on major drift.")],
    description=(
        "Population Stability Index of the serving model's most important features: the training window "
        "(reference) against the leads of the last 14 days (current). Below 0.1 stable, 0.1 to 0.25 moderate, "
        "above 0.25 major."),
)

elv_assets = [lead_labels, lead_features, training_table, candidate_models, model, calibrator, evaluation,
              serving_model, lead_scores, campaign_leaderboard, adset_leaderboard, feature_drift]
