"""The ELV chain: label maturity, lead features, the training table, candidate models, the chosen model, its
calibration and evaluation, the promotion gate, lead scores, the campaign and ad-set leaderboards, and the drift
of the serving model's features."""

from typing import Literal

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
from elv_assets.ml.calibration import RECENCY_HALF_LIFE_DAYS
from elv_assets.ml.elv import describe_feature
from elv_assets.ml.features import build_lead_features
from elv_assets.ml.labels import build_lead_labels
from elv_assets.ml.leaderboards import MIN_ADSET_KEY_SHARE, MIN_LEADS, WINDOW_DAYS, leaderboard_build
from elv_assets.ml.models import MODEL_KINDS
from elv_assets.ml.monitoring import build_feature_drift
from elv_assets.ml.scoring import build_lead_scores
from elv_assets.ml.split import build_training_table
from elv_assets.ml.training import (
    CALIBRATOR_KEY,
    CANDIDATES_KEY,
    EVALUATION_KEY,
    MODEL_KEY,
    SCREEN_KEY,
    VALUE_KEY,
    build_calibrator,
    build_candidate_models,
    build_evaluation,
    build_feature_screen,
    build_model,
    build_serving_model,
    build_value_model,
)
from elv_assets.ml.value import VALUE_WINDOW_DAYS

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
    reads=[AS_OF_KEY, "gold/lead_attribution", "silver/leads", "silver/ads", "silver/adsets"],
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


class ScreenConfig(dg.Config):
    max_single_auc: float = 0.9  # a lead column that alone separates this well is an outcome in disguise
    min_fill_ratio: float = 2.0  # filled this many times as often for qualified leads as for the others ...
    min_fill_difference: float = 0.2  # ... and by at least this much
    min_fill_gap: float = 0.3  # filled this much more often for older leads than for the last window's
    max_age_psi: float = 1.0  # values this different (PSI) between older and the last window's leads


feature_screen = artifact_asset(
    SCREEN_KEY, build_feature_screen, config=ScreenConfig, kinds={"scikit-learn"},
    reads=[TRAINING_KEY, LABELS_KEY, LEAD_FEATURES_KEY],
    checks=[CheckDecl("leakage_guard", "No lead column looks filled in after contact (those that do are left out, "
                                       "or stop the run with features.strict).")],
    description=(
        "The leakage guard: every lead column is screened for signs that it was filled in after contact (a name "
        "like status or stage, a single-column ROC-AUC of 0.9 or more, filled far more often for qualified leads, "
        "or for older leads than for the last window's). Those columns are left out of every model, with the "
        "reason; features.include / features.exclude decide over it, features.strict stops the run."),
)


class CandidatesConfig(dg.Config):
    seed: int = 7
    kinds: list[str] = list(MODEL_KINDS)  # which candidates to fit (the search within each is in ml/models.py)


candidate_models = artifact_asset(
    CANDIDATES_KEY, build_candidate_models, config=CandidatesConfig, kinds=ML_KINDS,
    reads=[TRAINING_KEY, LABELS_KEY, SCREEN_KEY],
    description=(
        "Candidate models fitted on the train split, simplest first: a plain one-hot logistic regression on the "
        "lead's own categorical fields and its campaign; a logistic regression on every feature (numbers as "
        "splines); LightGBM and XGBoost reading categories natively, each trying a few settings with early "
        "stopping on the most recent 15 % of the train split. Each scored on the calib split."),
)


class ChoiceConfig(dg.Config):
    seed: int = 7  # of the bootstrap that sizes the noise


model = artifact_asset(
    MODEL_KEY, build_model, config=ChoiceConfig, kinds=ML_KINDS, reads=[CANDIDATES_KEY, TRAINING_KEY, LABELS_KEY],
    description=(
        "The chosen candidate: the best calib PR-AUC, unless a simpler candidate is within one standard error of "
        "it (a paired bootstrap on the calib leads sizes the noise); then the simpler one."),
)


class ValueConfig(dg.Config):
    value_window_days: int = VALUE_WINDOW_DAYS  # a deal won this long after qualifying still counts as its value
    qualified_lead_value: float | None = None  # set to use one known value for every qualified lead
    min_wins: int = 30  # fewer wins to learn from: a pooled mean per campaign instead
    band_se: float = 3.0  # the value check's band: realised within this many standard errors of predicted
    min_leads_per_decile: int = 20
    seed: int = 7


value_model = artifact_asset(
    VALUE_KEY, build_value_model, config=ValueConfig, kinds={"scikit-learn"},
    reads=[AS_OF_KEY, TRAINING_KEY, LABELS_KEY, SCREEN_KEY, "silver/outcomes"],
    checks=[CheckDecl("value_calibration", "On held-out qualified leads whose value window has closed, realised "
                                           "value lies within the band of predicted in every decile.")],
    description=(
        "E[value | qualified, lead], the second half of ELV: p(won | qualified) by a regularised logistic "
        "regression times E[revenue | won] by a ridge regression of log revenue (smeared back to a mean), both on "
        "the lead's own fields and its platform, campaign and ad set (pooled by the shared penalty), learned from "
        "qualified leads whose 60-day value window has closed. A held-out version is checked decile by decile."),
)


class CalibratorConfig(dg.Config):
    method: Literal["sigmoid", "isotonic"] = "sigmoid"  # isotonic's steps tie many leads: see ml/calibration.py
    recency_half_life_days: float | None = RECENCY_HALF_LIFE_DAYS  # newer calib leads weigh more (None: equal)


calibrator = artifact_asset(
    CALIBRATOR_KEY, build_calibrator, config=CalibratorConfig, kinds={"scikit-learn"},
    reads=[MODEL_KEY, VALUE_KEY, SCREEN_KEY, TRAINING_KEY, LABELS_KEY, AS_OF_KEY],
    description=(
        "The chosen model (fitted on the train split) calibrated on the calib split (a sigmoid on the logit, or "
        "isotonic when configured); with the held-out value model, one bundle: "
        "the challenger the evaluation and the promotion gate judge."),
)


class EvaluationConfig(dg.Config):
    max_ece: float = 0.05
    leakage_roc_auc: float = 0.95


evaluation = artifact_asset(
    EVALUATION_KEY, build_evaluation, config=EvaluationConfig, kinds={"scikit-learn"},
    reads=[CALIBRATOR_KEY, TRAINING_KEY, LABELS_KEY, "silver/ads", "gold/lead_attribution"],
    checks=[
        CheckDecl("calibration", "ECE (equal-mass) on the test split is within the limit."),
        CheckDecl("beats_campaign_rate", "The model's PR-AUC beats the campaign-rate baseline on the test split."),
        CheckDecl("leakage_tripwire", "ROC-AUC is not implausibly high (which usually means a leak)."),
    ],
    description=(
        "The calibrated challenger on the held-out test split: PR-AUC, ROC-AUC, Brier, log loss, ECE (equal-width "
        "and equal-mass), reliability curve, lift and capture at the top 5/10/20 %, against the campaign's "
        "historical qualification rate and the campaign's CPL."),
)


class PromotionConfig(dg.Config):
    max_ece: float = 0.05  # a challenger above this calibration error never serves
    ece_margin: float = 0.01  # nor one less calibrated than the serving model by more than this
    calibration: Literal["sigmoid", "isotonic"] = "sigmoid"
    calibration_blocks: int = 4  # time-ordered blocks of the cross-fitted calibration of the refit
    recency_half_life_days: float | None = RECENCY_HALF_LIFE_DAYS  # of the weights of that calibration
    seed: int = 7


serving_model = artifact_asset(
    SERVING_MODEL_KEY, build_serving_model, config=PromotionConfig, kinds={"scikit-learn"},
    reads=[CALIBRATOR_KEY, EVALUATION_KEY, VALUE_KEY, TRAINING_KEY, LABELS_KEY],
    checks=[CheckDecl("promotion", "Which model serves, and why.")],
    description=(
        "The promotion gate: the challenger and the serving model on the same test leads (the serving model's "
        "recipe refitted on the current train split when it has seen them); refused when worse beyond the noise "
        "(paired bootstrap of log loss and PR-AUC), less calibrated, or no better than the campaign-rate baseline. "
        "A promoted recipe is refitted on every mature lead and calibrated by time-ordered cross-fitting. Every "
        "decision is appended to ml/serving_model.promotions.jsonl."),
)

lead_scores = table_asset(
    SCORES_KEY, build_lead_scores, contract=LeadScores, kinds={"scikit-learn"},
    reads=[AS_OF_KEY, SERVING_MODEL_KEY, LEAD_FEATURES_KEY, LABELS_KEY, TRAINING_KEY],
    description=(
        "Every lead, labelled and new, scored by the serving model: p_qualified_14d (calibrated), what it is worth if "
        "it qualifies (the value model), ELV (the two multiplied, in the data's currency), rank, decile, its split, "
        "the three features that moved its score most and the strongest driver of its value, in plain words; and "
        "its age-aware p_given_age (1 once qualified; for a young lead the chance left at its age, from the fitted "
        "qualification-delay curves), which the boards sum."),
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

elv_assets = [lead_labels, lead_features, training_table, feature_screen, candidate_models, model, value_model,
              calibrator, evaluation, serving_model, lead_scores, campaign_leaderboard, adset_leaderboard, feature_drift]
