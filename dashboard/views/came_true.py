"""Did it come true? What the model predicted, read back against what happened since.

Every daily run records in the prediction ledger what the serving model said about each lead still inside its
label window; `monitoring.realised_vs_predicted` sets each weekly creation cohort (and each campaign's part of it)
against what became of those leads, and `monitoring.elv_history` keeps each campaign's ELV per spend as it was seen
on each as-of date (elv_assets/ml/ledger.py). This page shows both to a marketer: per week, predicted qualified
leads with their 90 % band against those that qualified (for weeks still maturing, the count so far and where it
is expected to end, marked as an estimate); the same per campaign; the ranking quality expected from the
calibrated probabilities beside the realised one; predicted ELV against realised value once value windows close;
and the history of each campaign's ELV per spend. Older snapshots without these tables, and a ledger of one day,
say so in words.
"""

import datetime as dt

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboard import data, filters, ui
from elv_assets.ml.ledger import ALL_CAMPAIGNS
from elv_assets.ml.value import VALUE_WINDOW_DAYS

LABEL_WINDOW_DAYS = 14  # the label window when the model document does not say (ChainConfig.label_window_days)
BAND = "90 %"  # the band the table carries per cell (LedgerConfig.band_level)
COLUMNS = ["cohort_week", "campaign_id", "leads", "first_predicted", "last_predicted", "mature_leads", "status",
           "predicted_qualified", "band_low", "band_high", "qualified", "versus_band", "expected_qualified_now",
           "expected_roc_auc", "expected_pr_auc", "roc_auc", "pr_auc", "predicted_elv", "realised_value"]
HISTORY = ["as_of_date", "campaign_id", "leads", "predicted_qualified", "predicted_elv", "spend", "elv_per_spend",
           "window_start"]
LEDGER_FILLS = ("The ledger fills as daily runs record their predictions; replay past days with "
                "`elv run --as-of YYYY-MM-DD`, oldest first, to backfill.")
VERSUS = {"inside": "#2e7d32", "above": "#c62828", "below": "#c62828"}
PREDICTED, SO_FAR, ESTIMATE = "#1565c0", "#78909c", "#ef6c00"

snap, flt = data.current(), filters.current()
names = data.campaign_names(snap)
st.title("Did it come true?")


# --- words ---------------------------------------------------------------------------------------------------------

def day(value, year: bool | None = None) -> str:
    """5 Oct (with the year when it is not the snapshot's year, or when asked)."""
    d = pd.Timestamp(value)
    same = snap.as_of is not None and d.year == snap.as_of.year
    return f"{d.day} {d:%b}" + ("" if (same if year is None else not year) else f" {d.year}")


def name(campaign: str) -> str:
    return "all campaigns" if campaign == ALL_CAMPAIGNS else names.get(campaign, campaign)


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def windows() -> tuple[int, int]:
    """The label window (days to qualify) and the value window (days from qualifying to a won deal)."""
    label = (data.document(snap, "model") or {}).get("window_days") or LABEL_WINDOW_DAYS
    value = (data.document(snap, "value_check") or {}).get("value_window_days") or VALUE_WINDOW_DAYS
    return int(label), int(value)


def date_axis(dates: pd.Series, most: int = 16) -> dict:
    """An x axis ticked on the dates themselves (week Mondays, as-of dates), not on Plotly's own, when few; no axis
    title (the chart's title says what the dates are; a title would sit on the legend below)."""
    dates = pd.Series(pd.to_datetime(dates)).dropna().drop_duplicates().sort_values()
    if dates.empty or len(dates) > most:
        return {"tickformat": "%d %b"}
    return {"tickmode": "array", "tickvals": dates.tolist(), "ticktext": [day(d) for d in dates]}


def matures_on(week: pd.Timestamp, label_window: int) -> dt.date:
    """The day by which every lead of a week (created Monday to Sunday) has had its whole label window."""
    return (pd.Timestamp(week) + pd.Timedelta(days=6 + label_window)).date()


def verdict(rows: pd.DataFrame, label_window: int) -> str:
    """One line: how many matured weeks came in within the band, and which did not."""
    rows = rows.sort_values("cohort_week")
    matured = rows[rows["status"] == "matured"]
    maturing = rows[rows["status"] != "matured"]
    if matured.empty:
        if maturing.empty:
            return "No week in the ledger yet."
        first = maturing.iloc[0]
        return (f"No week has matured yet: the first, the week of {day(first['cohort_week'])}, can be judged from "
                f"{day(matures_on(first['cohort_week'], label_window))}, once its last lead's {label_window}-day "
                "window has closed.")
    outside = matured[matured["versus_band"].isin(["above", "below"])]
    inside = len(matured) - len(outside)
    said = (f"{inside} of {plural(len(matured), 'matured week')} came in within the band" if len(matured) > 1
            else f"The one matured week came in {'within the band' if outside.empty else 'outside the band'}")
    if len(outside) == 1 and len(matured) > 1:
        o = outside.iloc[0]
        said += (f"; the week of {day(o['cohort_week'])} came in {o['versus_band']}: {ui.number(o['qualified'])} "
                 f"qualified against {ui.number(o['predicted_qualified'])} predicted")
    elif len(outside) == 1:
        o = outside.iloc[0]
        said += (f" (the week of {day(o['cohort_week'])}, {o['versus_band']}: {ui.number(o['qualified'])} qualified "
                 f"against {ui.number(o['predicted_qualified'])} predicted)")
    elif len(outside) > 1:
        said += "; outside it: " + ", ".join(
            f"the week of {day(o['cohort_week'])} ({o['versus_band']}: {ui.number(o['qualified'])} qualified against "
            f"{ui.number(o['predicted_qualified'])} predicted)" for _, o in outside.iterrows())
    if not maturing.empty:
        last = maturing.iloc[-1]
        said += (f". {plural(len(maturing), 'week')} still maturing; the latest, the week of {day(last['cohort_week'])}, "
                 f"is expected to end near {ui.number(last['expected_qualified_now'])} qualified against "
                 f"{ui.number(last['predicted_qualified'])} predicted")
    return said + "."


# --- the per-week chart and table ------------------------------------------------------------------------------------

def cohort_chart(rows: pd.DataFrame, title: str, key: str) -> None:
    rows = rows.sort_values("cohort_week")
    weeks = rows["cohort_week"]
    fig = go.Figure()
    maturing = rows[rows["status"] != "matured"]
    if not maturing.empty:  # the weeks whose count is not final: shaded, and said so
        fig.add_vrect(x0=maturing["cohort_week"].min() - pd.Timedelta(days=3.5),
                      x1=maturing["cohort_week"].max() + pd.Timedelta(days=3.5), fillcolor="#eceff1", opacity=0.6,
                      line_width=0, layer="below", annotation_text="still maturing: estimates",
                      annotation_position="top left")
    fig.add_scatter(
        x=weeks, y=rows["predicted_qualified"], mode="markers", name=f"Predicted, with its {BAND} band",
        marker={"symbol": "line-ew", "size": 18, "line": {"width": 3, "color": PREDICTED}, "color": PREDICTED},
        error_y={"type": "data", "symmetric": False, "array": rows["band_high"] - rows["predicted_qualified"],
                 "arrayminus": rows["predicted_qualified"] - rows["band_low"], "color": PREDICTED, "thickness": 2,
                 "width": 10},
        customdata=rows[["band_low", "band_high", "leads"]],
        hovertemplate="week of %{x|%d %b}<br>predicted %{y:,.1f} of %{customdata[2]:,} leads<br>band "
                      "%{customdata[0]:,.0f} to %{customdata[1]:,.0f}<extra></extra>")
    matured = rows[rows["status"] == "matured"]
    if not matured.empty:
        inside = matured["versus_band"] == "inside"
        fig.add_scatter(
            x=matured["cohort_week"], y=matured["qualified"], mode="markers", name="Qualified (matured)",
            marker={"size": 12, "color": matured["versus_band"].map(VERSUS).fillna(SO_FAR).tolist(),
                    "symbol": inside.map({True: "circle", False: "x"}).tolist()},
            customdata=matured[["versus_band"]],
            hovertemplate="week of %{x|%d %b}<br>%{y:,} qualified: %{customdata[0]} the band<extra></extra>")
    if not maturing.empty:
        fig.add_scatter(
            x=maturing["cohort_week"], y=maturing["qualified"], mode="markers", name="Qualified so far (maturing)",
            marker={"size": 11, "color": "white", "line": {"width": 2, "color": SO_FAR}},
            customdata=maturing[["mature_leads", "leads"]],
            hovertemplate="week of %{x|%d %b}<br>%{y:,} qualified so far<br>%{customdata[0]:,} of "
                          "%{customdata[1]:,} leads past their window<extra></extra>")
        links_x, links_y = [], []
        for _, r in maturing.iterrows():
            links_x += [r["cohort_week"], r["cohort_week"], None]
            links_y += [r["qualified"], r["expected_qualified_now"], None]
        fig.add_scatter(x=links_x, y=links_y, mode="lines", line={"color": ESTIMATE, "dash": "dot", "width": 2},
                        showlegend=False, hoverinfo="skip")
        fig.add_scatter(
            x=maturing["cohort_week"], y=maturing["expected_qualified_now"], mode="markers",
            name="Expected end (estimate)",
            marker={"size": 12, "symbol": "diamond-open", "color": ESTIMATE, "line": {"width": 2}},
            hovertemplate="week of %{x|%d %b}<br>expected to end near %{y:,.0f} (an estimate)<extra></extra>")
    fig.update_layout(title=title, xaxis=date_axis(weeks),
                      yaxis={"title": "Qualified leads", "rangemode": "tozero"})
    ui.chart(fig, key, height=380)


def cells_table(rows: pd.DataFrame, with_campaign: bool, key: str) -> None:
    """The cells as a marketer reads them: a dash where a figure does not exist yet, never None or nan."""
    rows = rows.sort_values(["cohort_week", "campaign_id"], ascending=[False, True])
    maturing = rows["status"] != "matured"
    shown = pd.DataFrame({
        "week": rows["cohort_week"].dt.date,
        "campaign": rows["campaign_id"].map(name),
        "status": rows["status"].fillna(ui.NONE),
        "leads": rows["leads"],
        "predicted": rows["predicted_qualified"],
        "band": [f"{ui.number(lo)} to {ui.number(hi)}" for lo, hi in zip(rows["band_low"], rows["band_high"],
                                                                          strict=True)],
        "qualified": rows["qualified"],
        "expected_end": [ui.number(v) if m else ui.NONE
                         for v, m in zip(rows["expected_qualified_now"], maturing, strict=True)],
        "versus_band": rows["versus_band"].where(rows["versus_band"].notna(), ui.NONE),
        "predicted_elv": rows["predicted_elv"],
        "realised_value": rows["realised_value"],
    })
    if not with_campaign:
        shown = shown.drop(columns="campaign")
    ui.table(shown, hide_index=True, key=key, column_config={
        "week": st.column_config.DateColumn("Week of", format="D MMM YYYY"),
        "campaign": "Campaign",
        "status": st.column_config.TextColumn("Status", help="matured once every lead of the cell has had its whole "
                                                             "label window; maturing before that."),
        "leads": ui.count_column("Leads"),
        "predicted": ui.count_column("Predicted qualified", 1, help="The sum of each lead's chance to qualify, as "
                                                                    "first predicted."),
        "band": st.column_config.TextColumn(f"{BAND} band", help=f"If the chances are right, the count lands in this "
                                                                 f"range {BAND} of the time."),
        "qualified": ui.count_column("Qualified", help="Within the label window; so far, while maturing."),
        "expected_end": st.column_config.TextColumn("Expected end", help=(
            "Maturing cells: where the count is expected to end, given who has qualified so far and how old the "
            "others are (an estimate).")),
        "versus_band": st.column_config.TextColumn("Against the band", help="Matured cells only."),
        "predicted_elv": ui.money_column("Predicted ELV", snap.currency),
        "realised_value": ui.money_column("Realised value", snap.currency, help=(
            "Revenue of deals won within the value window after qualifying: blank until every lead's value window "
            "has closed.")),
    })


# --- the parts -------------------------------------------------------------------------------------------------------

def whole_cohorts(cells: pd.DataFrame, label_window: int) -> None:
    st.subheader("Every week's leads, all campaigns")
    rows = cells[cells["campaign_id"] == ALL_CAMPAIGNS]
    if rows.empty:
        st.info("No week in the ledger yet. " + LEDGER_FILLS)
        return
    cohort_chart(rows, "Qualified leads per week of creation: predicted against what happened", "ct_cohorts")
    st.markdown(f"**Verdict:** {verdict(rows, label_window)}")
    st.caption(f"Each lead counts once, with its first prediction, made before its outcome could be known. The band "
               f"is where the count should land {BAND} of the time if the model's chances are right: about one week "
               "in ten lands outside it by chance, so one week outside is a flag and several in a row a fault. "
               f"A week matures once every lead in it has had its {label_window} days to "
               "qualify; until then the open circle is the count so far and the diamond where it is expected to "
               "end, given who has qualified already and how old the others are (an estimate, not a result).")
    with st.expander("The figures per week"):
        cells_table(rows, with_campaign=False, key="ct_weeks")


def per_campaign(cells: pd.DataFrame, label_window: int) -> None:
    st.subheader("Per campaign")
    rows = cells[(cells["campaign_id"] != ALL_CAMPAIGNS)
                 & (flt.campaign_mask(cells["campaign_id"]) | ((cells["campaign_id"] == data.UNATTRIBUTED)
                                                                & (not flt.narrowed)))]
    if rows.empty:
        st.info("No campaign of the sidebar's choice has leads in the ledger.")
        return
    order = rows.groupby("campaign_id")["leads"].sum().sort_values(ascending=False).index.tolist()
    chosen = st.selectbox("Campaign", order, key="ct_campaign", format_func=name)
    if chosen not in order:  # a choice from an earlier snapshot or filter
        chosen = order[0]
    mine = rows[rows["campaign_id"] == chosen]
    cohort_chart(mine, f"{name(chosen)}: predicted against what happened", "ct_campaign_chart")
    st.markdown(f"**Verdict:** {verdict(mine, label_window)}")
    st.caption("A campaign's week holds fewer leads than the whole cohort, so its band is wider in proportion: a few "
               "leads more or less move its count a lot.")
    st.markdown("**Every campaign, week by week**" + (" (the sidebar's campaigns)" if flt.narrowed else ""))
    cells_table(rows, with_campaign=True, key="ct_cells")
    matured = rows[rows["status"] == "matured"]
    if not matured.empty:
        inside = int((matured["versus_band"] == "inside").sum())
        st.caption(f"{inside} of {plural(len(matured), 'matured campaign-week')} came in within the band; with "
                   f"a {BAND} band about one in ten would fall outside by chance alone.")


def ranking(cells: pd.DataFrame) -> None:
    st.subheader("How well the model sorts leads, per week")
    rows = cells[cells["campaign_id"] == ALL_CAMPAIGNS].sort_values("cohort_week")
    if rows.empty or rows[["expected_roc_auc", "expected_pr_auc"]].isna().all().all():
        ui.not_computed("Ranking quality per week", "The ledger holds too few leads per week to estimate it.")
        return
    fig = go.Figure()
    for metric, label, colour in (("roc_auc", "ROC-AUC", "#1565c0"), ("pr_auc", "PR-AUC", "#6a1b9a")):
        fig.add_scatter(x=rows["cohort_week"], y=rows[f"expected_{metric}"], mode="lines+markers",
                        name=f"{label} expected", line={"color": colour, "dash": "dash"},
                        marker={"symbol": "circle-open", "size": 9},
                        hovertemplate=f"week of %{{x|%d %b}}<br>{label} expected %{{y:.3f}}<extra></extra>")
        realised = rows[rows[metric].notna()]
        if not realised.empty:
            fig.add_scatter(x=realised["cohort_week"], y=realised[metric], mode="markers", name=f"{label} realised",
                            marker={"color": colour, "size": 12},
                            hovertemplate=f"week of %{{x|%d %b}}<br>{label} realised %{{y:.3f}}<extra></extra>")
    fig.update_layout(title="Ranking quality per week of creation: expected from the probabilities, realised once "
                            "the week matures", xaxis=date_axis(rows["cohort_week"]),
                      yaxis={"title": "Score (1 is perfect)", "range": [0, 1]})
    ui.chart(fig, "ct_ranking")
    st.caption("The expected figures come from the calibrated probabilities alone: if the model's chances are right, "
               "this is how well its order should separate the leads that qualify from those that do not. So they "
               "exist on day 1, before any outcome is known; the realised ones appear once a week has matured (with at "
               "least 5 qualified leads and 5 not). ROC-AUC is the chance a qualified lead is ranked above one that "
               "did not qualify (0.5 is a coin toss); PR-AUC is how well the top of the list holds the qualified "
               "leads (the share that qualifies is what a random order gives).")
    both = rows[rows["roc_auc"].notna()]
    if both.empty:
        fallback = (f"No week has a realised figure yet; the latest week is expected to reach ROC-AUC "
                    f"{ui.number(rows.iloc[-1]['expected_roc_auc'], 3)} and PR-AUC "
                    f"{ui.number(rows.iloc[-1]['expected_pr_auc'], 3)}.")
    else:
        fallback = (f"Over {plural(len(both), 'matured week')} the realised ROC-AUC averaged "
                    f"{ui.number(both['roc_auc'].mean(), 3)} against {ui.number(both['expected_roc_auc'].mean(), 3)} "
                    f"expected, and PR-AUC {ui.number(both['pr_auc'].mean(), 3)} against "
                    f"{ui.number(both['expected_pr_auc'].mean(), 3)}.")
    ui.summary("ranking quality per weekly cohort, expected against realised", {
        "weeks": len(rows), "matured_weeks_with_realised": len(both),
        "mean_expected_roc_auc": rows["expected_roc_auc"].mean(), "mean_realised_roc_auc": both["roc_auc"].mean(),
        "mean_expected_pr_auc": rows["expected_pr_auc"].mean(), "mean_realised_pr_auc": both["pr_auc"].mean(),
    }, fallback)


def value(cells: pd.DataFrame, label_window: int, value_window: int) -> None:
    st.subheader("Predicted ELV against realised value")
    rows = cells[cells["campaign_id"] == ALL_CAMPAIGNS].sort_values("cohort_week")
    if rows.empty:
        return
    known = rows[rows["realised_value"].notna()]
    first = rows.iloc[0]["cohort_week"]
    closes = (pd.Timestamp(first) + pd.Timedelta(days=6 + label_window + value_window)).date()
    how = (f"A lead's realised value is the revenue of a deal won within {value_window} days of qualifying, and it "
           f"may qualify up to {label_window} days after it was created, so a week's value is known "
           f"{label_window + value_window} days after its last lead was created.")
    if known.empty:
        st.info(f"**No week's value is known yet.** {how} The first week, the week of {day(first)}, is complete once "
                f"its last lead's value window closes, on {day(closes, year=True)}.", icon="⏳")
        return
    fig = go.Figure()
    fig.add_bar(x=known["cohort_week"], y=known["predicted_elv"], name="Predicted ELV", marker_color=PREDICTED,
                hovertemplate="week of %{x|%d %b}<br>predicted %{y:,.0f}<extra></extra>")
    fig.add_bar(x=known["cohort_week"], y=known["realised_value"], name="Realised value", marker_color="#2e7d32",
                hovertemplate="week of %{x|%d %b}<br>realised %{y:,.0f}<extra></extra>")
    fig.update_layout(barmode="group", title="Per week of creation: the value the model predicted, against the "
                                             "revenue the leads brought",
                      xaxis=date_axis(known["cohort_week"]), yaxis_title=f"Value ({snap.currency or 'data currency'})")
    ui.chart(fig, "ct_value")
    pending = len(rows) - len(known)
    st.caption(how + (f" {plural(pending, 'later week')} will follow as their windows close." if pending else ""))
    predicted, realised = known["predicted_elv"].sum(), known["realised_value"].sum()
    ui.summary("predicted ELV against realised value per weekly cohort", {
        "weeks": len(known), "predicted_elv": predicted, "realised_value": realised},
        f"Over {plural(len(known), 'week')} whose value is known, the model predicted "
        f"{ui.money(predicted, snap.currency)} and the leads brought {ui.money(realised, snap.currency)} "
        f"({ui.percent(ui.ratio(realised, predicted))} of the prediction).")


def elv_history(history: pd.DataFrame | None, days: int) -> None:
    st.subheader("Each campaign's ELV per spend, as the ledger saw it")
    if history is None:
        ui.not_computed("The history of ELV per spend", data.skipped(snap, "monitoring/elv_history") or LEDGER_FILLS)
        return
    rows = history[flt.campaign_mask(history["campaign_id"]) & (history["campaign_id"] != data.UNATTRIBUTED)]
    if rows.empty:
        st.info("No campaign of the sidebar's choice is in the ledger's history.")
        return
    if rows["elv_per_spend"].isna().all():
        ui.needs_ads("ELV per spend", "The ledger keeps each campaign's predicted ELV; ELV per spend needs its spend.")
        return
    rows = rows.assign(campaign=rows["campaign_id"].map(name)).sort_values(["campaign", "as_of_date"])
    fig = go.Figure()
    for campaign, part in rows.groupby("campaign", sort=True):
        fig.add_scatter(x=part["as_of_date"], y=part["elv_per_spend"], mode="lines+markers", name=campaign,
                        customdata=part[["predicted_elv", "spend", "leads"]],
                        hovertemplate=f"{campaign}<br>as of %{{x|%d %b %Y}}: %{{y:.2f}} ELV per unit of spend<br>"
                                      "%{customdata[0]:,.0f} ELV on %{customdata[1]:,.0f} spend, "
                                      "%{customdata[2]:,} leads<extra></extra>")
    fig.update_layout(title="ELV per unit of spend of each campaign, as of each day the ledger recorded",
                      xaxis=date_axis(rows["as_of_date"]), yaxis_title="ELV per unit of spend")
    ui.chart(fig, "ct_history", height=420)
    window = (rows["as_of_date"] - rows["window_start"]).dt.days.max() + 1
    st.caption(f"On each as-of date: the predicted ELV of the leads created in the {window:.0f} days up to it, as "
               "predicted that day, over the campaign's spend on those days. A line that falls means the campaign "
               "bought less value per unit of spend than before, as the model saw it then.")
    if days < 2:
        st.info(f"**One as-of date so far.** {LEDGER_FILLS}", icon="📒")
        return
    first_day, last_day = rows["as_of_date"].min(), rows["as_of_date"].max()
    ends = rows.groupby("campaign").agg(first=("elv_per_spend", "first"), last=("elv_per_spend", "last"))
    ends["move"] = ends["last"] / ends["first"] - 1
    ends = ends[ends["first"] > 0].dropna()
    if ends.empty:
        return
    top, fell = ends["last"].idxmax(), ends["move"].idxmin()
    fallback = (f"From {day(first_day)} to {day(last_day)}, {top} ends highest "
                f"({ui.number(ends.loc[top, 'first'], 2)} to {ui.number(ends.loc[top, 'last'], 2)})")
    if fell != top and ends.loc[fell, "move"] < 0:
        fallback += (f"; {fell} fell most ({ui.number(ends.loc[fell, 'first'], 2)} to "
                     f"{ui.number(ends.loc[fell, 'last'], 2)}, {ui.percent(ends.loc[fell, 'move'])})")
    ui.summary("history of each campaign's ELV per spend", {
        "from": str(first_day.date()), "to": str(last_day.date()),
        "campaigns": ends.round(3).reset_index().to_dict("records")[:20]}, fallback + ".")


# --- the page --------------------------------------------------------------------------------------------------------

def ledger_days(cells: pd.DataFrame | None, history: pd.DataFrame | None) -> list[pd.Timestamp]:
    """The as-of dates the ledger holds (the history has every one; the cells their first predictions)."""
    if history is not None and not history.empty:
        return sorted(history["as_of_date"].dropna().unique())
    if cells is not None and not cells.empty:
        return sorted(pd.concat([cells["first_predicted"], cells["last_predicted"]]).dropna().unique())
    return []


def read(table: str, columns: list[str], dates: list[str]) -> pd.DataFrame | None:
    """A small snapshot table as a copy with every expected column (blank when an older snapshot lacks one)."""
    frame = data.table(snap, table)
    if frame is None:
        return None
    frame = frame.reindex(columns=columns)
    for column in dates:
        frame[column] = pd.to_datetime(frame[column])
    return frame


def page() -> None:
    cells = read("realised_vs_predicted", COLUMNS, ["cohort_week", "first_predicted", "last_predicted"])
    history = read("elv_history", HISTORY, ["as_of_date", "window_start"])
    label_window, value_window = windows()
    st.caption("Every day's run writes down what the model predicted for the leads still inside their "
               f"{label_window}-day window (the prediction ledger). Here those predictions meet what happened since, "
               "week by week of lead creation. The sidebar's dates do not apply (every week in the ledger is shown); "
               "its campaigns do apply to the per-campaign part and the ELV-per-spend history.")
    if cells is None or cells.empty:
        why = data.skipped(snap, "monitoring/realised_vs_predicted")
        ui.not_computed("Predicted against realised", why or (
            "This snapshot has no prediction ledger yet (it may be from before the ledger existed). " + LEDGER_FILLS))
        elv_history(history, len(ledger_days(cells, history)))
        return
    days = ledger_days(cells, history)
    if len(days) < 2:
        only = f" ({day(days[0], year=True)})" if days else ""
        st.info(f"**The ledger holds one as-of date so far{only}.** What it predicted has not had time to come true "
                f"or not: a week is judged once its leads have had their {label_window} days. {LEDGER_FILLS}",
                icon="📒")
    whole_cohorts(cells, label_window)
    per_campaign(cells, label_window)
    ranking(cells)
    value(cells, label_window, value_window)
    elv_history(history, len(days))


if data.no_crm(snap):
    ui.needs_crm("This page", "It sets what the model predicted about leads against what became of them.")
else:
    page()
