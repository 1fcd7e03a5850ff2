"""Closing the loop: the prediction ledger, predicted against realised per cohort, and each campaign's ELV history."""

import dagster as dg

from elv_assets.build import AS_OF_KEY
from elv_assets.contracts.tables import ElvHistory, PredictionLedger, RealisedVsPredicted
from elv_assets.defs.declare import CheckDecl, table_asset
from elv_assets.defs.elv import LABELS_KEY, SCORES_KEY
from elv_assets.lakehouse.files import SERVING_MODEL_KEY
from elv_assets.ml.ledger import build_elv_history, build_prediction_ledger, build_realised_vs_predicted
from elv_assets.ml.training import VALUE_KEY

LEDGER_KEY = "monitoring/prediction_ledger"

prediction_ledger = table_asset(
    LEDGER_KEY, build_prediction_ledger, contract=PredictionLedger, append_on=("as_of_date", "model_version"),
    reads=[AS_OF_KEY, SCORES_KEY, LABELS_KEY, SERVING_MODEL_KEY],
    description=(
        "Append-only: every scoring run appends what the serving model predicted that day for each lead whose "
        "window is still open (p at creation, value if qualified, ELV, the age-aware p). Keyed by as-of date, model "
        "version and lead; a replay of a day (`elv run --as-of`) replaces only that day's rows. Nothing is recorded "
        "when the serving model was trained after the run's as-of date (hindsight)."),
)


class RealisedConfig(dg.Config):
    band_level: float = 0.9  # the band shown per cell: this share of outcomes falls inside if p is right
    check_level: float = 0.99  # the band the check judges whole cohorts by (fewer false alarms)
    judged_cohorts: int = 4  # the check judges this many of the latest matured cohorts


realised_vs_predicted = table_asset(
    "monitoring/realised_vs_predicted", build_realised_vs_predicted, contract=RealisedVsPredicted,
    config=RealisedConfig, kinds={"pandas", "scikit-learn"},
    reads=[AS_OF_KEY, LEDGER_KEY, LABELS_KEY, SCORES_KEY, "silver/outcomes", VALUE_KEY],
    checks=[CheckDecl("cohort_band", "The latest matured weekly cohorts qualified within the band (binomial, 99 %) "
                                     "of what the ledger predicted for them.")],
    description=(
        "The ledger against what happened: per weekly creation cohort and campaign (and all campaigns), predicted "
        "qualified with its 90 % band against qualified, predicted ELV against realised value once the value window "
        "closed, realised ROC-AUC and PR-AUC beside the ones expected from the calibrated p (available from day "
        "1), and where each maturing cohort is expected to end given what is known today."),
)

elv_history = table_asset(
    "monitoring/elv_history", build_elv_history, contract=ElvHistory,
    reads=[AS_OF_KEY, LEDGER_KEY, "silver/ads"],
    description=(
        "Per as-of date in the ledger and campaign: the leads created in the label window before it, their "
        "predicted ELV and the campaign's spend over those days, so the dashboard can show how each campaign's ELV "
        "per spend was seen over time."),
)

monitoring_assets = [prediction_ledger, realised_vs_predicted, elv_history]
