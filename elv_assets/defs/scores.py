"""Lead scores from the serving model, the campaign and ad-set ELV leaderboards, and feature drift."""

import dagster as dg
import pandas as pd

from elv_assets.contracts.tables import AdsetLeaderboard, CampaignLeaderboard, FeatureDrift, LeadScores
from elv_assets.defs.ml import FEATURES_KEY, LABELS_KEY, SERVING_KEY, SERVING_NAME, TRAINING_KEY
from elv_assets.defs.publishing import OWNERS, column_schema, gate_and_swap, publish_frame, table_metadata
from elv_assets.defs.resources import ElvSettings, RunWindow, Warehouse
from elv_assets.ingest import fetch_frame
from elv_assets.ml.bundle import ModelBundle, score_frame
from elv_assets.ml.drift import drift_report
from elv_assets.ml.leaderboards import adset_keys_missing, leaderboard_select
from elv_assets.ml.models import contributions, importance
from elv_assets.ml.store import ObjectStore
from elv_assets.warehouse import resolve_as_of, stage

SCORES_KEY = dg.AssetKey(["gold", "lead_scores"])
CAMPAIGN_BOARD_KEY = dg.AssetKey(["gold", "campaign_leaderboard"])
ADSET_BOARD_KEY = dg.AssetKey(["gold", "adset_leaderboard"])
DRIFT_KEY = dg.AssetKey(["monitoring", "feature_drift"])


@dg.asset(
    key=SCORES_KEY,
    deps=[SERVING_KEY, FEATURES_KEY, LABELS_KEY, TRAINING_KEY],
    group_name="gold",
    kinds={"duckdb", "scikit-learn"},
    owners=OWNERS,
    description=(
        "Every lead, labelled and new, scored by the serving model: p_qualified_14d (calibrated), ELV (p x the "
        "expected value of a qualified lead of its campaign, in the data's currency), rank, decile, its split, "
        "and the three features that moved its score most, in plain words."
    ),
    metadata={"dagster/column_schema": column_schema(LeadScores)},
    check_specs=[dg.AssetCheckSpec("contract", asset=SCORES_KEY)],
)
def lead_scores(context: dg.AssetExecutionContext, warehouse: Warehouse, elv: ElvSettings):
    target = "gold.lead_scores"
    store = ObjectStore(elv.artifacts_dir)
    if not store.path(SERVING_NAME).exists():
        raise dg.Failure(allow_retries=False, description=(
            f"No serving model yet in {elv.artifacts_dir}: run the weekly_retrain job (or `elv run`) once."))
    bundle: ModelBundle = store.load(SERVING_NAME)
    with warehouse.get_connection() as con:
        df = fetch_frame(con, """
            SELECT f.*, l.label, coalesce(t.split, 'unlabeled') AS split
            FROM gold.lead_features f JOIN gold.lead_labels l USING (lead_id)
            LEFT JOIN gold.training_table t USING (lead_id)
            ORDER BY f.created_at, f.lead_id""")
        missing = bundle.can_score(df)
        if missing:
            raise dg.Failure(allow_retries=False, description=f"The serving model needs features that gold.lead_features lacks: "
                                         f"{', '.join(missing)}. Re-train (materialise ml/*) to replace it.")
        scored = score_frame(bundle, df)
        out = pd.concat([df[["lead_id", "created_at", "campaign_id", "adset_id", "split", "label"]],
                         scored.drop(columns="lead_id")], axis=1)
        gate = publish_frame(con, LeadScores, out.sort_values("rank"), target)
        yield from gate.events()
        by_split = out.groupby("split").agg(leads=("lead_id", "size"), mean_p=("p_qualified_14d", "mean"),
                                            elv=("elv", "sum"))
        yield dg.MaterializeResult(metadata=table_metadata(
            con, target, model=bundle.kind, model_run=bundle.run_id, total_elv=round(float(out["elv"].sum()), 2),
            by_split=dg.MetadataValue.md(by_split.round(4).to_markdown()),
        ))


class LeaderboardConfig(dg.Config):
    window_days: int = 28  # leads created and money spent in the last N days up to as_of
    min_leads: int = 30  # fewer leads than this: flagged low_volume and not ranked
    min_adset_key_share: float = 0.5  # the ad-set board needs at least this share of leads with an ad set


def _leaderboard(level: str, model, key, config: LeaderboardConfig, warehouse: Warehouse, run_window: RunWindow):
    target = f"gold.{level}_leaderboard"
    with warehouse.get_connection() as con:
        as_of = resolve_as_of(con, run_window.as_of_date)
        disabled = adset_keys_missing(con, config.min_adset_key_share) if level == "adset" else None
        staged = stage(con, target, leaderboard_select(level, as_of, config.window_days, config.min_leads,
                                                       empty=disabled is not None))
        gate = gate_and_swap(con, model, staged, target)
        yield from gate.events()
        if level == "adset":
            yield dg.AssetCheckResult(
                check_name="enabled", passed=disabled is None, severity=dg.AssetCheckSeverity.WARN,
                description=disabled or "Enough leads carry an ad set to rank ad sets.",
            )
        top = con.execute(f"SELECT {level}_id FROM {target} WHERE rank = 1").fetchall()
        yield dg.MaterializeResult(metadata=table_metadata(
            con, target, as_of_date=str(as_of), window_days=config.window_days, min_leads=config.min_leads,
            best=top[0][0] if top else "none", disabled_reason=disabled or "",
        ))


@dg.asset(
    key=CAMPAIGN_BOARD_KEY,
    deps=[SCORES_KEY, dg.AssetKey(["silver", "ads"])],
    group_name="gold",
    kinds={"duckdb", "sql"},
    owners=OWNERS,
    description=(
        "Campaigns over the last 28 days: spend, leads, qualified so far, predicted qualified, predicted ELV, ELV "
        "per unit of spend, CPL and expected cost per qualified lead; ranked by ELV per spend (by predicted ELV "
        "without spend). Campaigns with too few leads are flagged low_volume and not ranked."
    ),
    metadata={"dagster/column_schema": column_schema(CampaignLeaderboard)},
    check_specs=[dg.AssetCheckSpec("contract", asset=CAMPAIGN_BOARD_KEY)],
)
def campaign_leaderboard(context: dg.AssetExecutionContext, config: LeaderboardConfig, warehouse: Warehouse,
                         run_window: RunWindow):
    yield from _leaderboard("campaign", CampaignLeaderboard, CAMPAIGN_BOARD_KEY, config, warehouse, run_window)


@dg.asset(
    key=ADSET_BOARD_KEY,
    deps=[SCORES_KEY, dg.AssetKey(["silver", "ads"])],
    group_name="gold",
    kinds={"duckdb", "sql"},
    owners=OWNERS,
    description=(
        "The same leaderboard per ad set. Disabled (empty, with the reason in the `enabled` check) when too few "
        "leads carry an ad-set key to rank ad sets honestly."
    ),
    metadata={"dagster/column_schema": column_schema(AdsetLeaderboard)},
    check_specs=[dg.AssetCheckSpec("contract", asset=ADSET_BOARD_KEY),
                 dg.AssetCheckSpec("enabled", asset=ADSET_BOARD_KEY,
                                   description="Enough leads carry an ad set to rank ad sets.")],
)
def adset_leaderboard(context: dg.AssetExecutionContext, config: LeaderboardConfig, warehouse: Warehouse,
                      run_window: RunWindow):
    yield from _leaderboard("adset", AdsetLeaderboard, ADSET_BOARD_KEY, config, warehouse, run_window)


class DriftConfig(dg.Config):
    features: int = 10  # the N most important features of the serving model
    current_days: int = 14  # current window: leads of the last N days up to as_of
    bins: int = 10


@dg.asset(
    key=DRIFT_KEY,
    deps=[SERVING_KEY, FEATURES_KEY, TRAINING_KEY],
    group_name="monitoring",
    kinds={"duckdb", "pandas"},
    owners=OWNERS,
    description=(
        "Population Stability Index of the serving model's most important features: the training window "
        "(reference) against the leads of the last 14 days (current). Below 0.1 stable, 0.1 to 0.25 moderate, "
        "above 0.25 major."
    ),
    metadata={"dagster/column_schema": column_schema(FeatureDrift)},
    check_specs=[dg.AssetCheckSpec("contract", asset=DRIFT_KEY),
                 dg.AssetCheckSpec("drift", asset=DRIFT_KEY,
                                   description="Warns on moderate drift, fails on major drift.")],
)
def feature_drift(context: dg.AssetExecutionContext, config: DriftConfig, warehouse: Warehouse, elv: ElvSettings,
                  run_window: RunWindow):
    target = "monitoring.feature_drift"
    bundle: ModelBundle = ObjectStore(elv.artifacts_dir).load(SERVING_NAME)
    with warehouse.get_connection() as con:
        as_of = resolve_as_of(con, run_window.as_of_date)
        reference = fetch_frame(con, "SELECT * FROM gold.training_table WHERE split = 'train'")
        current = fetch_frame(con, f"SELECT * FROM gold.lead_features WHERE created_at >= "
                                   f"DATE '{as_of}' - INTERVAL {config.current_days - 1} DAY")
        sample = reference.sample(min(len(reference), 20_000), random_state=0)
        ranked = importance(contributions(bundle.pipeline, sample, bundle.columns, bundle.centre))
        features = list(ranked.index[: config.features])
        report = drift_report(reference, current, features, bins=config.bins)
        report["importance"] = [round(float(ranked[f]), 6) for f in report["feature"]]
        gate = publish_frame(con, FeatureDrift, report, target)
        yield from gate.events()
        worst = report.sort_values("psi", ascending=False).iloc[0]
        band = worst["band"]
        yield dg.AssetCheckResult(
            check_name="drift", passed=band == "stable",
            severity=dg.AssetCheckSeverity.ERROR if band == "major" else dg.AssetCheckSeverity.WARN,
            description=f"Largest PSI: {worst['feature']} {worst['psi']:.3f} ({band}); biggest shift in "
                        f"{worst['biggest_shift']}.",
            metadata={"max_psi": float(worst["psi"])},
        )
        yield dg.MaterializeResult(metadata=table_metadata(
            con, target, as_of_date=str(as_of), reference_leads=len(reference), current_leads=len(current),
            max_psi=round(float(worst["psi"]), 4), worst_feature=str(worst["feature"]),
        ))


score_assets = [lead_scores, campaign_leaderboard, adset_leaderboard, feature_drift]
