"""MODEL_CARD.md and DATA_CARD.md of a run: what the model is, how it was tested, what data it saw."""

from __future__ import annotations

import pandas as pd

from elv_assets.contracts.tables import JOIN_METHODS
from elv_assets.reports.inputs import JOIN_STRATEGY, InputSummary, RunReportInputs, dq_highlights
from elv_assets.reports.text import (
    ad_features_text,
    markdown,
    metrics_table,
    model_params,
    num,
    params_text,
    pct,
)


def model_card(inputs: RunReportInputs, metrics: dict, summary: InputSummary | None = None) -> str:
    summary = summary or InputSummary(inputs)
    m = metrics["metrics"].get("model", {})
    base = metrics["metrics"].get("campaign_rate", {})
    w = inputs.windows
    b = metrics["split_boundaries"]
    promo = inputs.promotion
    rates = summary.match_rates
    labels = summary.labels
    drift = metrics["drift"]
    currency = inputs.currency or "the data's currency"
    kind = metrics["model"]
    served = inputs.model
    serving_line = (
        f"This run's model was **promoted** and serves now ({promo.get('reason', '')})."
        if promo.get("promote") else
        f"This run's model was **not promoted** ({promo.get('reason', '')}); the model that keeps serving is "
        f"`{served.get('kind')}` trained in run `{served.get('trained_in_run')}` (as_of {served.get('trained_as_of')})."
    )
    choice = inputs.choice
    cand_md = markdown(choice["table"]) if choice else "_not recorded_"
    screen = inputs.screen
    left_out = screen[screen["decision"] == "left out"] if not screen.empty else screen
    screen_md = (markdown(left_out[["column", "why"]]) if len(left_out) else
                 f"None of the {len(screen)} lead columns looks filled in after contact.")
    value = inputs.value
    deciles = value.get("deciles")
    value_md = (markdown(deciles) if deciles is not None and len(deciles) else
                "_not checked: too few held-out qualified leads with a closed value window_")
    verdict = ("beats" if (m.get("pr_auc") or 0) > (base.get("pr_auc") or 0) else "does not beat")
    return f"""# Model card: lead qualification within {w.get('label_window_days')} days

Run `{inputs.run_id}`, as_of **{inputs.as_of}**. Every number below comes from this run.

## What it predicts
- `p_qualified_{w.get('label_window_days')}d`: the probability that a lead qualifies within \
{w.get('label_window_days')} days of being created.
- **ELV** = p x E[value | qualified, lead], in {currency}: the value of a qualified lead is learned per lead \
(value source: {served.get('value_source', 'n/a')}; mean value of a qualified lead \
{num(served.get('value_overall'), 2)} {inputs.currency or ''}), see *Value of a qualified lead* below.

## Model
- Kind: **{kind}**; parameters as fitted on the train split: {params_text(model_params(inputs, kind))}\
{trees_text(served)}.
- Calibration: **{metrics['calibration']}**, fitted on the calib split.
- Features: {served.get('n_numeric', 'n/a')} numeric and {served.get('n_categorical', 'n/a')} categorical: the \
lead's own attributes and calendar{ad_features_text(served, w)}.
- Chosen among the candidates on the calib split: {choice.get('reason', 'n/a')}.

{cand_md}

- {serving_line}
- **Served as:** the chosen recipe refitted on {served.get('trained_on', 'n/a')} (to \
{served.get('trained_until', 'n/a')}), calibrated by time-ordered cross-fitting. Every test figure below is \
held out: measured on the version fitted on the train split only.

## Left out by the leakage guard
Lead columns that look filled in after contact never reach a model:

{screen_md}

## Value of a qualified lead
{value.get('source', 'n/a')}: p(won | qualified) x E[revenue | won], learned from qualified leads whose \
{value.get('value_window_days', 'n/a')}-day value window has closed ({value.get('learned_from', {}).get('qualified', 'n/a')} \
leads, {value.get('learned_from', {}).get('won', 'n/a')} won; {pct(value.get('wins_within_window'))} of the wins on \
record closed within the window). Held out, per decile of predicted value: the mean predicted and realised value \
per qualified lead, and whether realised lies within the check's band (standard errors of its mean):

{value_md}

## Training data and time split
Mature leads only, split by `created_at` (never at random): train from {b['first']}, calib from \
{b['calib_start']}, test from {b['test_start']} to {b['last']}.

{markdown(inputs.splits, floatfmt='.0f')}

## Test metrics against the baselines
{metrics['n_test']:,} test leads, {num(m.get('positives'))} qualified (base rate {pct(m.get('base_rate'))}).
The model {verdict} the campaign's historical rate on PR-AUC ({num(m.get('pr_auc'))} against \
{num(base.get('pr_auc'))}); expected calibration error {num(m.get('ece_width'))} (equal-width bins), \
{num(m.get('ece_mass'))} (equal-mass).

{markdown(metrics_table(metrics))}

The CPL baseline is a ranking, not a probability: only its ranking metrics (PR-AUC, ROC-AUC, lift, capture) \
mean something.

## Intended use
- Ranking and valuing leads and the campaigns and ad sets that bought them, to guide budget between them.
- Comparing campaigns on predicted ELV per unit of spend while most of their recent leads are too young to
  have qualified.

## Not for
- Decisions about an individual person; a single lead's score is a noisy estimate.
- Data from another business, currency or funnel without retraining.

## Limitations
- **Label maturity (right-censoring).** A lead is labelled only once its {w.get('label_window_days')}-day \
window has closed: {labels['mature']:,} mature leads ({labels['mature_positive']:,} qualified, \
{pct(labels['mature_positive_rate'])}), {labels['young']:,} still young. Young leads' qualification so far is \
incomplete and biased, so it never trains or evaluates the model; the newest {w.get('label_window_days')} days \
are always missing from training.
- **Time split.** Test metrics describe the latest mature weeks ({b['test_start']} to {b['last']}); if the mix \
of campaigns or the market shifts, they age quickly. Drift now: largest PSI {num(drift['max_psi'])} on \
`{drift['worst_feature']}` ({drift['worst_band']}).
- **Attribution.** Leads are joined to ads by {JOIN_STRATEGY}: {pct(rates['matched'])} matched, \
{pct(rates['unmatched'])} unmatched and {pct(rates['ambiguous'])} ambiguous; the last two carry no campaign \
features and get the overall lead value.
- **Lead values** are learned from deals won within the value window by qualified leads whose window has \
closed, so they are the oldest part of the model and lag recent changes in deal size; a campaign or ad set \
counts only as far as a check on the newest of those leads supports it.
"""


def trees_text(served: dict) -> str:
    trees = served.get("served_trees")
    return (f" (refitted on every mature lead, its boosting stopped early again, at {trees} trees)"
            if trees else "")


# --- data card ----------------------------------------------------------------------------------------


def data_card(inputs: RunReportInputs, summary: InputSummary | None = None) -> str:
    summary = summary or InputSummary(inputs)
    files = pd.DataFrame(summary.fingerprints, columns=["file", "bytes", "rows", "sha256"])
    files["sha256"] = files["sha256"].str[:16]
    counts = summary.join_counts
    rates = summary.match_rates
    joins = pd.DataFrame({"method": list(JOIN_METHODS), "leads": [counts[m] for m in JOIN_METHODS],
                          "share": [pct(rates[m]) for m in JOIN_METHODS]})
    labels = summary.labels
    dq = dq_highlights(inputs.data_quality)
    w = inputs.windows
    return f"""# Data card

Run `{inputs.run_id}`, as_of **{inputs.as_of}**. Currency: {inputs.currency or 'not stated'}.

## Input files
From `{inputs.data_dir}`; rows exclude the header, sha256 shortened to 16 characters (full in metadata.json).

{markdown(files, floatfmt='.0f')}

## Tables after cleaning (silver) and their date ranges

{markdown(inputs.tables, floatfmt='.0f')}

## Attribution: leads joined to campaigns by {JOIN_STRATEGY}
Matched: {pct(rates['matched'])} of {sum(counts.values()):,} leads.

{markdown(joins)}

## Labels ({w.get('label_window_days')}-day window)
- positive: {labels['positive']:,} ({labels['mature_positive']:,} mature, \
{labels['young_qualified_so_far']:,} young leads that already qualified)
- negative: {labels['negative']:,}
- immature (window still open, not yet qualified): {labels['immature']:,}
- mature cohort: {labels['mature']:,} leads, positive rate {pct(labels['mature_positive_rate'])}; only \
these train and evaluate the model.

## Data-quality highlights
Silver rules and cross-table checks that fired:

{markdown(dq)}
"""
