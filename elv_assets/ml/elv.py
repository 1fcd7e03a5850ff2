"""Expected Lead Value in words and ranks: the rank and decile of each lead by ELV, and the reasons behind a score.

ELV itself is p(qualified within the window) x E[value | qualified] (ml/value.py learns the second part);
this module says which features moved a lead's score, in a marketer's words.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

UNKNOWN_CAMPAIGN = "(unattributed)"


def rank_and_decile(elv: np.ndarray, lead_id: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Rank 1 is the highest ELV (ties by lead_id); decile 1 is the top tenth."""
    order = np.lexsort((lead_id.to_numpy(dtype=str), -elv))
    rank = np.empty(len(elv), dtype=np.int64)
    rank[order] = np.arange(1, len(elv) + 1)
    decile = np.ceil(rank * 10 / max(len(elv), 1)).astype(np.int64)
    return rank, decile


# --- reasons in plain words ------------------------------------------------------------------------

_LEVEL = {"adset": "ad set", "campaign": "campaign"}
_METRIC = {
    "spend": "spend", "impressions": "impressions", "clicks": "clicks", "ctr": "CTR", "cpc": "cost per click",
    "cpm": "cost per 1,000 impressions", "active_days": "active days",
}
_NAMES = {"platform": "platform", "campaign_id": "campaign", "adset_id": "ad set", "weekday": "weekday",
          "hour": "hour of day", "ad_age_days": "age of the ad (days)", "adset_age_days": "age of the ad set (days)",
          "adset_pace_7d": "ad set spend against its budget, last 7 days"}


def feature_label(feature: str) -> str:
    """adset_ctr_7d -> 'ad set CTR, last 7 days'; job_level -> 'job level'."""
    if feature in _NAMES:
        return _NAMES[feature]
    level, _, rest = feature.partition("_")
    if level in _LEVEL:
        if rest.endswith("_trend"):
            return f"{_LEVEL[level]} {_METRIC.get(rest[:-6], rest[:-6])} trend (last 7 days vs the 7 before)"
        metric, _, window = rest.rpartition("_")
        if metric in _METRIC and window.endswith("d"):
            return f"{_LEVEL[level]} {_METRIC[metric]}, last {window[:-1]} days"
    return feature.replace("_", " ")


_CONTEXT = {"platform": "The ad platform of the lead's campaign (from ads.csv).",
            "weekday": "Day of the week the lead was created (Mon .. Sun).",
            "hour": "Hour of the day the lead was created (0-23).",
            "ad_age_days": "Days the lead's ad had been delivering when the lead came (creative age); blank when "
                           "the lead's ad is unknown.",
            "adset_age_days": "Days the lead's ad set had been delivering when the lead came; blank when unknown.",
            "adset_pace_7d": "The lead's ad set's spend over its daily budgets (adsets.csv), the 7 days up to the day "
                             "before the lead; blank without a budget."}


def describe_feature(column: str) -> str:
    """A column of the lead-features tables in words, for their column schema."""
    if column in _CONTEXT:
        return _CONTEXT[column]
    label = feature_label(column)
    if label != column.replace("_", " "):
        ends = "the day before the lead was created (feature_lag_days)"
        return f"The lead's {label}, up to {ends}; blank when unknown (no ad rows for it)."
    return "A lead attribute from leads.csv: a number where its values are numbers, else a category."


def value_texts(feature: str, values: np.ndarray) -> np.ndarray:
    """Values as a person reads them: percentages for CTR and trends, money with 2 decimals, counts whole."""
    codes, texts = coded_texts(feature, values)
    return texts[codes]


def coded_texts(feature: str, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(codes, texts): each value's text is texts[code]. Each distinct value is formatted once (a million leads
    hold a few thousand distinct values), so formatting costs what the distinct values cost."""
    codes, uniques = pd.factorize(pd.Series(values, dtype=object), use_na_sentinel=True)
    texts = np.append(_texts(feature, np.asarray(uniques, dtype=object)), "unknown").astype(object)
    return np.where(codes < 0, len(texts) - 1, codes), texts


def _texts(feature: str, values: np.ndarray) -> np.ndarray:
    s = pd.Series(values, dtype=object)
    known = s.notna()
    if not known.any():
        return np.full(len(s), "unknown", dtype=object)
    if feature.partition("_")[0] not in _LEVEL or feature in _NAMES:
        x = pd.to_numeric(s, errors="coerce")
        if x[known].notna().all():  # a numeric attribute: 1,250 and 3.5, not 1250.0
            text = x.map(lambda v: f"{v:,.0f}" if float(v).is_integer() else f"{v:,.2f}", na_action="ignore")
        else:
            text = s.astype(str)
    else:
        x = pd.to_numeric(s, errors="coerce")
        if "_ctr_" in feature:
            fmt = "{:.2%}"
        elif feature.endswith("_trend"):
            fmt = "{:+.0%}"
        elif any(k in feature for k in ("_spend_", "_cpc_", "_cpm_")):
            fmt = "{:,.2f}"
        else:
            fmt = "{:,.0f}"
        text = x.map(fmt.format, na_action="ignore")
    if feature == "hour":
        text = pd.to_numeric(s, errors="coerce").map("{:.0f}:00".format, na_action="ignore")
    if feature == "adset_pace_7d":
        text = pd.to_numeric(s, errors="coerce").map("{:.0%}".format, na_action="ignore")
    return text.where(known, "unknown").to_numpy(dtype=object)


def family(feature: str) -> str:
    """Windows of one metric form one family (adset_cpc_7d and adset_cpc_28d -> adset_cpc)."""
    for suffix in ("_7d", "_28d"):
        if feature.endswith(suffix) and feature.partition("_")[0] in _LEVEL:
            return feature[: -len(suffix)]
    return feature


def reasons(contrib: pd.DataFrame, X: pd.DataFrame, top: int = 3) -> pd.DataFrame:
    """The `top` features that moved each lead's score most, as 'feature is value (raises/lowers)'.

    The 7- and 28-day windows of one metric move together, and a model may give them opposite
    weights, so their contributions are summed and shown as one reason (with the 7-day value).
    """
    families: dict[str, list[str]] = {}
    for c in contrib.columns:
        families.setdefault(family(c), []).append(c)
    fams = list(families)
    # (features x families) membership: one matrix product sums each family's windows
    member = np.zeros((contrib.shape[1], len(fams)))
    index = {c: i for i, c in enumerate(contrib.columns)}
    for j, f in enumerate(fams):
        member[[index[c] for c in families[f]], j] = 1.0
    values = contrib.to_numpy(dtype=float) @ member
    shown = {f: cs[0] for f, cs in families.items()}  # the value shown: the shortest window
    n = len(values)
    # the `top` largest |contributions| per lead, ties to the first family (a stable sort's first `top`): `top`
    # argmax passes instead of sorting every family of every lead
    size = np.abs(values)
    order = np.empty((n, min(top, size.shape[1])), dtype=np.int64)
    for k in range(order.shape[1]):
        order[:, k] = np.argmax(size, axis=1)
        size[np.arange(n), order[:, k]] = -1.0
    out = {}
    for k in range(top):
        j = order[:, k]
        raises = values[np.arange(n), j] > 0
        text = np.empty(n, dtype=object)
        for f in np.unique(j):  # format each feature's values together, only where they are a reason
            rows = j == f
            col = shown[fams[f]]
            codes, texts = coded_texts(col, X[col].to_numpy()[rows])
            # one sentence per distinct (value, direction), then looked up: no string work per lead
            key = codes * 2 + raises[rows]
            used, back = np.unique(key, return_inverse=True)
            words = np.where(used % 2 == 1, " (raises the chance)", " (lowers the chance)")
            text[rows] = (feature_label(col) + " is " + texts[used // 2] + words)[back]
        out[f"reason_{k + 1}"] = text
    return pd.DataFrame(out, index=contrib.index)
