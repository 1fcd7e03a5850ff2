"""What a qualified lead is worth: E[value | qualified, lead], the second half of ELV.

ELV = p(qualified within the label window | lead) x E[value | qualified, lead], both in the data's currency and
both learned from fields known when the lead was created (the leakage guard's exclusions hold here too).

**What is learned from.** Leads that qualified within the label window and whose **value window** has closed:
`value_window_days` (60 by default) after qualifying. Their value is the revenue of a deal won within that
window, else 0. A deal that closes later is not counted, so the window must be long enough for most deals: the
asset reports the share of the wins on record that closed within it (on the demo world v2 every deal closes
within 60 days of qualifying, so it shows 100 %; a real CRM's slow deals show here). A longer window counts
more deals but learns from older leads only.

**Two parts**, because revenue is mostly zeros with a long right tail (a loss that averages the two would be
pulled around by a few big deals):
- p(won | qualified, lead): a regularised logistic regression;
- E[revenue | won, lead]: a ridge regression of log revenue, back-transformed with Duan's smearing factor (the
  mean of exp(residual)), so the expected value, not the median, is estimated: the tail counts.

**Pooling, and how much of the source to read.** Both parts read the lead's own fields and its source as
one-hot levels under one L2 penalty, so a campaign's own effect is what its deals show beyond its platform's and
an ad set's beyond its campaign's, shrunk to zero when it has few. How deep into the source each part reads
(platform; platform and campaign; platform, campaign and ad set) is chosen on the newest quarter of the leads it
learns from, each depth fitted on the older three quarters: a deeper one is kept only when it beats the shallower
by more than two standard errors of the paired difference (log loss for p(won), squared error of log revenue for
the deal size). The lead's fields usually carry most of what a campaign's targeting buys, and a campaign with
three wins says more about luck than about its leads: on the demo world the campaign and ad-set levels learned
from noise and put a 300-lead campaign's value 45 % above its truth; the check drops them there. Rare
lead-field levels are pooled into "other". With too few wins to learn from (fewer than `min_wins`), the value
falls back to a pooled mean per campaign. With no won revenue at all (an export without deal values, or no value
window closed yet) every qualified lead counts as 1 (source "no revenue"): ELV is then the expected number of
qualified leads, not money, and the run says so. A configured `qualified_lead_value` replaces all of it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegressionCV, RidgeCV
from sklearn.pipeline import Pipeline

from elv_assets.ml.elv import UNKNOWN_CAMPAIGN, coded_texts, feature_label
from elv_assets.ml.features import FeatureColumns
from elv_assets.ml.labels import as_of_end
from elv_assets.ml.models import (
    linear_contributions,
    linear_preprocessor,
    membership,
    prepare,
    transform,
    transformed_means,
)

SOURCE_FIELDS = ("platform", "campaign_id", "adset_id")  # the hierarchy: ad set within campaign within platform
SOURCE_DEPTHS = tuple(SOURCE_FIELDS[:k] for k in range(1, len(SOURCE_FIELDS) + 1))
VALIDATION_SHARE = 0.25  # the newest share of the learning leads that chooses the source depth
DEPTH_SE = 2.0  # a deeper source level must beat the shallower by this many standard errors
MIN_VALIDATION_WINS = 30  # fewer wins there: too little to tell depths apart, the shallowest is kept
MIN_WINS = 30
MIN_QUALIFIED = 100
NO_REVENUE = "no revenue"  # the source when no deal value is on record: each qualified lead counts 1
PRIOR_LEADS = 20.0  # pseudo-leads pulling a small campaign's pooled mean to the overall one


VALUE_WINDOW_DAYS = 60  # default: a deal won this long after qualifying still counts as the lead's value

def value_columns(cols: FeatureColumns, sources: tuple[str, ...] = SOURCE_FIELDS) -> FeatureColumns:
    """The value model reads the lead's own fields and its source (to the depth given), not the ad-delivery
    features."""
    from elv_assets.ml.features import AGE_FEATURES, CALENDAR_NUMERIC, ad_feature_names

    delivery = set(ad_feature_names()) | set(AGE_FEATURES) | set(CALENDAR_NUMERIC)
    numeric = [c for c in cols.numeric if c not in delivery]
    categorical = [c for c in cols.categorical if c != "weekday" and c not in SOURCE_FIELDS]
    return FeatureColumns(numeric, categorical + list(sources))


def realised_values_select(as_of: dt.date, window_days: int, value_window_days: int,
                           table: str = "gold.training_table") -> str:
    """The qualified leads of `table` whose value window has closed by the end of the as_of day, with the revenue
    of a deal won within it (0 when none): what the value model learns from and is checked against."""
    end = as_of_end(as_of)
    return f"""
        SELECT t.*, CASE WHEN o.won_at >= o.qualified_at AND o.won_at <= o.qualified_at + INTERVAL {int(value_window_days)} DAY
                         THEN coalesce(o.revenue, 0) ELSE 0 END AS realised_value,
               o.won_at IS NOT NULL AND o.won_at < {end} AS won_on_record,
               o.won_at <= o.qualified_at + INTERVAL {int(value_window_days)} DAY AS won_within_window
        FROM {table} t JOIN silver.outcomes o USING (lead_id)
        WHERE t.label = 1 AND o.qualified_at + INTERVAL {int(value_window_days)} DAY < {end}
        ORDER BY t.created_at, t.lead_id"""


@dataclass
class ValueModel:
    source: str  # "learned", "pooled" (too few wins: a mean per campaign), "no revenue" (1 each) or "configured"
    overall: float  # mean value of a qualified lead in what it learned from
    won_columns: FeatureColumns | None = None
    revenue_columns: FeatureColumns | None = None
    won: Pipeline | None = None
    revenue: Pipeline | None = None
    smearing: float = 1.0
    log_revenue_var: float = 0.0  # variance of log revenue around the ridge's prediction (its residuals)
    centre_won: np.ndarray | None = None
    centre_revenue: np.ndarray | None = None
    per_campaign: dict[str, float] = field(default_factory=dict)  # pooled means, for the "pooled" source
    learned_from: dict = field(default_factory=dict)  # counts: qualified leads, wins, value window
    depth_choice: dict = field(default_factory=dict)  # per part: the source depth read, and the validation behind it

    @property
    def columns(self) -> FeatureColumns | None:
        """Every column either part reads."""
        if self.won_columns is None:
            return None
        numeric = list(dict.fromkeys(self.won_columns.numeric + self.revenue_columns.numeric))
        return FeatureColumns(numeric, list(dict.fromkeys(self.won_columns.categorical + self.revenue_columns.categorical)))

    def inputs(self, df: pd.DataFrame, ready: pd.DataFrame | None = None) -> tuple | None:
        """Both parts' model inputs for a lead-features frame (None unless learned): computed once, read by
        `expected` and `drivers` when scoring (`ready`: models.prepare_for's frame, when the caller has it)."""
        if self.source != "learned":
            return None
        return (transform(self.won, df, self.won_columns, ready),
                transform(self.revenue, df, self.revenue_columns, ready))

    def expected(self, df: pd.DataFrame, inputs: tuple | None = None) -> np.ndarray:
        """E[value | qualified, lead] for every row of a lead-features frame."""
        if self.source in ("configured", NO_REVENUE):
            return np.full(len(df), self.overall)
        if self.source == "pooled":
            return df["campaign_id"].fillna(UNKNOWN_CAMPAIGN).map(self.per_campaign).fillna(self.overall) \
                .to_numpy(dtype=float)
        xw, xr = inputs or self.inputs(df)
        p_won = self.won.named_steps["model"].predict_proba(xw)[:, 1]
        revenue = np.exp(self.revenue.named_steps["model"].predict(xr)) * self.smearing
        return p_won * revenue

    def variance(self, df: pd.DataFrame) -> np.ndarray | None:
        """Var[value | qualified, lead] under the model (revenue lognormal around its prediction): what one lead's
        realised value may scatter by; None unless learned."""
        if self.source != "learned":
            return None
        p_won = self.won.predict_proba(prepare(df, self.won_columns))[:, 1]
        mu = self.revenue.predict(prepare(df, self.revenue_columns))
        mean = np.exp(mu) * self.smearing
        second = np.exp(2 * mu + 2 * self.log_revenue_var)
        return np.maximum(p_won * second - (p_won * mean) ** 2, 0.0)

    def drivers(self, df: pd.DataFrame, inputs: tuple | None = None) -> pd.DataFrame | None:
        """Per lead and feature: its contribution to log(E[value | qualified]) against the average lead (None when
        the value is not learned from the lead's fields)."""
        if self.source != "learned":
            return None
        wc, rc = self.won_columns, self.revenue_columns
        won_model, rev_model = self.won.named_steps["model"], self.revenue.named_steps["model"]
        xw, xr = inputs or self.inputs(df)
        p_won = won_model.predict_proba(xw)[:, 1]
        # log p(won) moves by about (1 - p) per unit of log-odds
        won_part = linear_contributions(won_model.coef_[0], xw, self.centre_won, membership(self.won, wc))
        rev_part = linear_contributions(rev_model.coef_, xr, self.centre_revenue, membership(self.revenue, rc))
        out = pd.DataFrame(0.0, index=df.index, columns=self.columns.all)
        out[wc.all] += won_part * (1 - p_won)[:, None]
        out[rc.all] += rev_part
        return out

    def table(self) -> pd.DataFrame:
        """The pooled means per campaign (empty unless the source is pooled)."""
        return pd.DataFrame({"campaign_id": list(self.per_campaign), "value_if_qualified": list(self.per_campaign.values())})


def pooled_values(qualified: pd.DataFrame, prior_leads: float = PRIOR_LEADS) -> ValueModel:
    """The fallback with too few wins: each campaign's mean value per qualified lead, pulled towards the overall
    mean by `prior_leads` pseudo-leads."""
    overall = float(qualified["realised_value"].mean()) if len(qualified) else 0.0
    grouped = qualified.groupby(qualified["campaign_id"].fillna(UNKNOWN_CAMPAIGN))["realised_value"]
    per = {str(c): float((g.sum() + prior_leads * overall) / (len(g) + prior_leads)) for c, g in grouped}
    return ValueModel("pooled", overall, per_campaign=per)


def _won_pipeline(cols: FeatureColumns, seed: int) -> Pipeline:
    return Pipeline([("prep", linear_preprocessor(cols)),
                     ("model", LogisticRegressionCV(Cs=[0.03, 0.1, 0.3, 1.0, 3.0], cv=3, scoring="neg_log_loss",
                                                    l1_ratios=(0.0,), use_legacy_attributes=False,
                                                    max_iter=3000, random_state=seed))])


def _revenue_pipeline(cols: FeatureColumns, seed: int) -> Pipeline:
    return Pipeline([("prep", linear_preprocessor(cols)), ("model", RidgeCV(alphas=np.logspace(-1, 3, 9)))])


def _won_losses(pipe: Pipeline, cols: FeatureColumns, frame: pd.DataFrame, y: np.ndarray) -> np.ndarray:
    p = np.clip(pipe.predict_proba(prepare(frame, cols))[:, 1], 1e-6, 1 - 1e-6)
    return -(y * np.log(p) + (1 - y) * np.log(1 - p))


def _revenue_losses(pipe: Pipeline, cols: FeatureColumns, frame: pd.DataFrame, y: np.ndarray) -> np.ndarray:
    return (pipe.predict(prepare(frame, cols)) - y) ** 2


def choose_depth(frame: pd.DataFrame, y: np.ndarray, cols: FeatureColumns, make, losses, seed: int) -> dict:
    """How deep into the source (platform, campaign, ad set) one part of the value model reads: each depth fitted on
    the older leads of `frame` (time-ordered) and scored on the newest VALIDATION_SHARE; a deeper one replaces the
    current choice only when its mean loss is lower by more than DEPTH_SE standard errors of the paired difference
    (wins are few and revenue is heavy-tailed: a looser rule lets one campaign's lucky deals in)."""
    cut = int(len(frame) * (1 - VALIDATION_SHARE))
    fit, val, y_fit, y_val = frame.iloc[:cut], frame.iloc[cut:], y[:cut], y[cut:]
    rows, chosen, chosen_loss = [], SOURCE_DEPTHS[0], None
    for depth in SOURCE_DEPTHS:
        depth_cols = value_columns(cols, depth)
        loss = losses(make(depth_cols, seed).fit(prepare(fit, depth_cols), y_fit), depth_cols, val, y_val)
        row = {"depth": "/".join(depth), "validation_loss": round(float(loss.mean()), 5)}
        if chosen_loss is None:
            chosen_loss = loss
        else:
            diff = loss - chosen_loss
            se = float(diff.std(ddof=1) / np.sqrt(len(diff)))
            row["gain_over_chosen"], row["se"] = round(float(-diff.mean()), 5), round(se, 5)
            if -diff.mean() > DEPTH_SE * se:
                chosen, chosen_loss = depth, loss
        rows.append(row)
    return {"depth": list(chosen), "validation_leads": int(len(val)), "tried": rows}


def fit_value_model(qualified: pd.DataFrame, cols: FeatureColumns, configured: float | None = None,
                    min_wins: int = MIN_WINS, seed: int = 0) -> ValueModel:
    """The two-part value model on qualified leads with closed value windows (`realised_values_select`, in
    created_at order), each part reading the source to the depth its validation supports."""
    counts = {"qualified": int(len(qualified)), "won": int((qualified["realised_value"] > 0).sum())}
    if configured is not None:
        return ValueModel("configured", float(configured), learned_from=counts)
    if counts["won"] == 0:
        return ValueModel(NO_REVENUE, 1.0, learned_from=counts)
    if counts["won"] < min_wins or counts["qualified"] < MIN_QUALIFIED:
        model = pooled_values(qualified)
        model.learned_from = counts
        return model
    qualified = qualified.reset_index(drop=True)
    won = (qualified["realised_value"].to_numpy(float) > 0).astype(int)
    wins = qualified[won == 1].reset_index(drop=True)
    log_revenue = np.log(wins["realised_value"].to_numpy(float))
    shallowest = {"depth": list(SOURCE_DEPTHS[0]), "tried": [],
                  "why": f"fewer than {MIN_VALIDATION_WINS} wins to validate on: the shallowest is kept"}
    enough = won[int(len(won) * (1 - VALIDATION_SHARE)):].sum() >= MIN_VALIDATION_WINS \
        and len(wins) * VALIDATION_SHARE >= MIN_VALIDATION_WINS
    choice = {"won": choose_depth(qualified, won, cols, _won_pipeline, _won_losses, seed) if enough else shallowest,
              "revenue": choose_depth(wins, log_revenue, cols, _revenue_pipeline, _revenue_losses, seed)
              if enough else shallowest}
    won_cols = value_columns(cols, tuple(choice["won"]["depth"]))
    rev_cols = value_columns(cols, tuple(choice["revenue"]["depth"]))
    won_model = _won_pipeline(won_cols, seed).fit(prepare(qualified, won_cols), won)
    rev_model = _revenue_pipeline(rev_cols, seed).fit(prepare(wins, rev_cols), log_revenue)
    residual = log_revenue - rev_model.predict(prepare(wins, rev_cols))
    return ValueModel(
        "learned", float(qualified["realised_value"].mean()), won_cols, rev_cols, won_model, rev_model,
        float(np.mean(np.exp(residual))), float(np.var(residual)), transformed_means(won_model, qualified, won_cols),
        transformed_means(rev_model, wins, rev_cols), learned_from=counts, depth_choice=choice,
    )


def value_reasons(model: ValueModel, df: pd.DataFrame, inputs: tuple | None = None) -> np.ndarray:
    """The lead's strongest value driver in words: "company size is 1000+: deals about 4.1x larger than average"."""
    drivers = model.drivers(df, inputs)
    if drivers is None:
        word = {"configured": "one configured value", NO_REVENUE: "no revenue on record, each counts as 1"}.get(
            model.source, "its campaign's average")
        return np.full(len(df), f"value of a qualified lead: {word}", dtype=object)
    values = drivers.to_numpy()
    top = np.argmax(np.abs(values), axis=1)
    strength = values[np.arange(len(values)), top]
    out = np.empty(len(df), dtype=object)
    for j in np.unique(top):
        rows = top == j
        col = drivers.columns[j]
        factor = np.exp(strength[rows])
        codes, texts = coded_texts(col, df[col].to_numpy()[rows])
        # one sentence per distinct (value, factor), then looked up: no string work per lead
        f_codes, factors = pd.factorize(factor)
        used, back = np.unique(codes.astype(np.int64) * len(factors) + f_codes, return_inverse=True)
        size = np.array([f"about {f:.1f}x larger" if f >= 1 else f"about {1 / f:.1f}x smaller"
                         for f in factors[used % len(factors)]], dtype=object)
        out[rows] = (feature_label(col) + " is " + texts[used // len(factors)] + ": deals " + size)[back]
    small = np.abs(strength) < np.log(1.25)
    out[small] = "deal size close to the average qualified lead"
    return out
