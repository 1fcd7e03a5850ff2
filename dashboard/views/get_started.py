"""Get started: no snapshot of yours has been published yet (nothing at all, or only the bundled demo). Offer to
build the demo world here, with progress."""

import streamlit as st

from dashboard import data, demo
from elv_assets.settings import Settings

settings = Settings.from_env()
snap = data.current()
st.title("Lead value: get started")
if snap is not None and snap.demo == "bundled":
    st.info(f"**The pages show the bundled demo** (generated data, as of {snap.manifest.get('as_of_date')}). No "
            f"snapshot of yours has been published in `{settings.serving_dir}` yet. **Bring your own data** scores "
            "your leads with the demo's model right away.", icon="🧪")
else:
    st.info(f"**Nothing computed yet.** No snapshot has been published in `{settings.serving_dir}`, so there is "
            "nothing to show about your campaigns.", icon="⏳")

st.markdown(
    "Two ways in:\n"
    "- **Your pipeline**: run it (`make demo`, or `elv run` on your own data); this page turns into the dashboard "
    "as soon as it publishes its snapshot.\n"
    "- **The demo world, built here**: generated data for 8 campaigns, 30 ad sets and 40,000 leads over 180 days, "
    "run through the whole pipeline in this process (about a minute). It lives in its own folder "
    f"(`{demo.demo_root()}`) and never touches your data, warehouse or models."
)


def show_progress(bar, share: float, text: str) -> None:
    try:
        bar.progress(min(max(share, 0.0), 1.0), text=text)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException:  # the person left the page (Streamlit stops the script here): finish the build anyway
        pass


if st.button("Build the demo world", type="primary", key="build_demo"):
    bar = st.progress(0.0, text="starting")
    ok, failures = demo.build_demo(lambda share, text: show_progress(bar, share, text))
    if ok:
        st.success("The demo world is ready.")
        st.rerun()
    st.error("The demo build did not finish:\n\n" + "\n\n".join(f"- {f}" for f in failures[:5]))
