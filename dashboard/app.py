"""The marketer dashboard: where the money works, in words and pictures. `make dashboard` runs it.

It reads only the published serving snapshot (ELV_SERVING_DIR), so it keeps working while the pipeline
runs. Before any snapshot exists it offers to build the demo world itself (dashboard/demo.py).
"""

import logging
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `dashboard` is a package: pages, tests and a hosted Space import it the same way
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from dashboard import data, filters  # noqa: E402

PAGES = {
    "Where the money works": [
        ("views/overview.py", "Overview", ":material/dashboard:"),
        ("views/trends.py", "Trends", ":material/show_chart:"),
        ("views/leaderboards.py", "Leaderboards", ":material/leaderboard:"),
        ("views/pacing.py", "Pacing", ":material/speed:"),
        ("views/what_if.py", "What-if budgets", ":material/tune:"),
    ],
    "Leads and the model": [
        ("views/leads.py", "Leads", ":material/person_search:"),
        ("views/model_health.py", "Model health", ":material/monitor_heart:"),
        ("views/came_true.py", "Did it come true?", ":material/fact_check:"),
        ("views/drift_quality.py", "Drift and data quality", ":material/rule:"),
    ],
    "Your data": [
        ("views/byod.py", "Bring your own data", ":material/upload_file:"),
    ],
}
EMPTY_PAGES = {"Start here": [
    ("views/get_started.py", "Get started", ":material/rocket_launch:"),
    ("views/byod.py", "Bring your own data", ":material/upload_file:"),
]}
# On the bundled demo (dashboard/bundle.py) the whole dashboard shows, and "Get started" stays one click away.
BUNDLED_PAGES = {**PAGES, "Your data": [*PAGES["Your data"],
                                        ("views/get_started.py", "Get started", ":material/rocket_launch:")]}

log = logging.getLogger("elv.dashboard")


def _navigation(pages: dict):
    return st.navigation({
        section: [st.Page(path, title=title, icon=icon, default=i == 0 and s == 0)
                  for i, (path, title, icon) in enumerate(entries)]
        for s, (section, entries) in enumerate(pages.items())
    })


def _header(snap: data.Snapshot) -> None:
    m = snap.manifest
    st.sidebar.caption(
        f"Data as of **{m.get('as_of_date', '?')}** · snapshot {snap.version[:15]} · "
        f"model {str(m.get('model_version') or 'none')[:8]} · money in {snap.currency or 'the data currency'}"
    )
    if snap.demo == "built":
        st.sidebar.warning("Showing the demo world this dashboard built (generated data, not yours).", icon="🧪")
    elif snap.demo == "bundled":
        st.sidebar.warning("Showing the bundled demo (generated data, not yours). Score your own leads on "
                           "**Bring your own data**; **Get started** says how to show your campaigns.", icon="🧪")


def main() -> None:
    st.set_page_config(page_title="Lead value", page_icon="📈", layout="wide")
    snap = data.find_snapshot()
    st.session_state["snapshot"] = snap
    if snap is None:
        _navigation(EMPTY_PAGES).run()
        return
    nav = _navigation(BUNDLED_PAGES if snap.demo == "bundled" else PAGES)
    try:
        filters.sidebar(snap)
        _header(snap)
        nav.run()
    except data.SnapshotGone:
        st.warning("A newer snapshot was published while this page was reading the old one. Reload to see it.")
        st.button("Reload")
    except Exception:  # a part that cannot be shown says so in words; the details go to the server log
        log.exception("dashboard page failed")
        st.error("This part could not be shown. The details are in the dashboard's log; the other pages still work.")


main()
