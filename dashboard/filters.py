"""The sidebar filter every page shares: a date range, platforms and campaigns.

The widgets live in the sidebar of the main script, so they are drawn on every rerun and keep their values
when the page changes. Each page reads the same `Filters` and applies it with vectorised masks over frames
that are already in memory.

Platform and campaign narrow by campaign: a campaign runs on one platform, so a platform filter is the set
of its campaigns. With neither chosen, nothing is narrowed and unattributed leads (no campaign) count too. Choosing
every option of a list (its "Select all") is the same as choosing none: it narrows nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
import streamlit as st

from dashboard import data

DEFAULT_DAYS = 28  # the leaderboards' window: the first view lines up with them
STATE = "filters"


@dataclass(frozen=True)
class Filters:
    start: dt.date
    end: dt.date
    platforms: tuple[str, ...] = ()
    campaigns: tuple[str, ...] = ()
    allowed: frozenset[str] | None = None  # the campaigns left by platform and campaign; None: no narrowing
    first_day: dt.date | None = None  # the first day of the data

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Filters | None:
        """The period of equal length just before, or None when the data does not reach back that far."""
        end = self.start - dt.timedelta(days=1)
        start = end - dt.timedelta(days=self.days - 1)
        if self.first_day is None or start < self.first_day:
            return None
        return Filters(start, end, self.platforms, self.campaigns, self.allowed, self.first_day)

    @property
    def narrowed(self) -> bool:
        return self.allowed is not None

    def campaign_mask(self, campaign_ids: pd.Series) -> pd.Series:
        if self.allowed is None:
            return pd.Series(True, index=campaign_ids.index)
        return campaign_ids.isin(self.allowed)

    def date_mask(self, dates: pd.Series) -> pd.Series:
        dates = pd.to_datetime(dates)
        return (dates >= pd.Timestamp(self.start)) & (dates < pd.Timestamp(self.end) + pd.Timedelta(days=1))

    def apply(self, frame: pd.DataFrame, date_col: str | None = "date") -> pd.DataFrame:
        """Rows of `frame` in the range (when date_col is given) and among the allowed campaigns."""
        mask = self.campaign_mask(frame["campaign_id"]) if "campaign_id" in frame.columns else None
        if date_col is not None:
            dmask = self.date_mask(frame[date_col])
            mask = dmask if mask is None else mask & dmask
        return frame if mask is None else frame[mask]

    def describe(self, names: dict[str, str]) -> str:
        where = "all campaigns"
        if self.campaigns:
            shown = [names.get(c, c) for c in self.campaigns[:3]]
            where = ", ".join(shown) + (f" and {len(self.campaigns) - 3} more" if len(self.campaigns) > 3 else "")
        elif self.platforms:
            where = "all campaigns on " + ", ".join(self.platforms)
        return f"{self.start:%d %b %Y} to {self.end:%d %b %Y} ({self.days} days), {where}"


def effective_choice(catalogue: pd.DataFrame, platforms, campaigns) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(platforms, campaigns) as they narrow: a list with every option it offers chosen ("Select all") narrows
    nothing, so it counts as none chosen, and leads without a campaign (so without a platform) are kept."""
    platforms, campaigns = tuple(platforms), tuple(campaigns)
    if platforms and set(platforms) >= set(catalogue["platform"].dropna()):
        platforms = ()
    offered = catalogue if not platforms else catalogue[catalogue["platform"].isin(platforms)]
    if campaigns and set(campaigns) >= set(offered["campaign_id"]):
        campaigns = ()
    return platforms, campaigns


def allowed_campaigns(catalogue: pd.DataFrame, platforms, campaigns) -> frozenset[str] | None:
    if not platforms and not campaigns:
        return None
    ids = catalogue
    if platforms:
        ids = ids[ids["platform"].isin(platforms)]
    chosen = set(ids["campaign_id"])
    if campaigns:
        chosen &= set(campaigns)
    return frozenset(chosen)


def _clean_state(key: str, options: list) -> None:
    """Drop remembered choices that the current snapshot no longer has (a widget refuses unknown values)."""
    if key in st.session_state:
        st.session_state[key] = [v for v in st.session_state[key] if v in options]


def sidebar(snap: data.Snapshot) -> Filters:
    """Draw the filter in the sidebar and remember it for the pages of this rerun."""
    bounds = data.date_bounds(snap)
    cat = data.catalogue(snap)
    names = data.campaign_names(snap)
    last = bounds[1] if bounds else (snap.as_of or dt.date.today())
    first = bounds[0] if bounds else last
    default = (max(first, last - dt.timedelta(days=DEFAULT_DAYS - 1)), last)

    st.sidebar.subheader("Filter")
    chosen = st.session_state.get("flt_dates")
    if not isinstance(chosen, tuple | list) or not chosen or not all(first <= d <= last for d in chosen):
        st.session_state["flt_dates"] = default
    picked = st.sidebar.date_input("Dates", min_value=first, max_value=last, key="flt_dates", format="DD/MM/YYYY")
    start, end = (tuple(picked) + tuple(picked))[:2] if isinstance(picked, tuple | list) and picked else default
    start, end = min(start, end), max(start, end)

    platforms = sorted(p for p in cat["platform"].dropna().unique() if p)
    _clean_state("flt_platforms", platforms)
    chosen_platforms = st.sidebar.multiselect("Platforms", platforms, key="flt_platforms", placeholder="All platforms")
    offered = cat if not chosen_platforms else cat[cat["platform"].isin(chosen_platforms)]
    campaign_ids = list(offered["campaign_id"])
    _clean_state("flt_campaigns", campaign_ids)
    chosen_campaigns = st.sidebar.multiselect("Campaigns", campaign_ids, key="flt_campaigns",
                                              format_func=lambda c: names.get(c, c), placeholder="All campaigns")
    chosen_platforms, chosen_campaigns = effective_choice(cat, chosen_platforms, chosen_campaigns)
    filters = Filters(start, end, chosen_platforms, chosen_campaigns,
                      allowed_campaigns(cat, chosen_platforms, chosen_campaigns), first)
    st.session_state[STATE] = filters
    return filters


def current() -> Filters:
    """The filter the sidebar drew in this rerun."""
    return st.session_state[STATE]
