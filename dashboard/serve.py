"""Start the dashboard with what its first page needs already imported: `python -m dashboard.serve [streamlit
options]` is `streamlit run dashboard/app.py [options]` in a process that has imported Plotly's Streamlit element,
DuckDB, pyarrow's Parquet reader and the dashboard's data layer before the server listens. Streamlit runs the app
script only when a visitor comes, so under plain `streamlit run` the first visitor after a start waits for those
imports; here nobody does. `make dashboard`, `make serve` and the compose service start it so."""

from __future__ import annotations

import sys
from pathlib import Path

APP = Path(__file__).resolve().parent / "app.py"


def warm_imports() -> None:
    import duckdb  # noqa: F401
    import plotly.express  # noqa: F401
    import pyarrow.parquet  # noqa: F401
    import streamlit.elements.plotly_chart  # noqa: F401

    import dashboard.data  # noqa: F401
    import dashboard.filters  # noqa: F401
    import dashboard.kpis  # noqa: F401
    import dashboard.ui  # noqa: F401


def main(argv: list[str] | None = None) -> None:
    root = str(APP.parent.parent)
    if root not in sys.path:
        sys.path.insert(0, root)
    warm_imports()
    from streamlit.web import cli

    sys.argv = ["streamlit", "run", str(APP), *(sys.argv[1:] if argv is None else argv)]
    sys.exit(cli.main())


if __name__ == "__main__":
    main()
