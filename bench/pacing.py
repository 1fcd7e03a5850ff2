"""Benchmark pacing and bookings on the demo world (size s, seed 7, what `make demo` builds).

- Bookings: the backtest WAPE of the model divided by the 7-day moving average's (target at most 0.8),
  with the Poisson noise floor beside it (the WAPE a perfect expected-count forecast would still have).
- Under-pacing: the model's PR-AUC on the test window against today's status carried forward, against the budget
  and against the usual pace of the day's weekday.
- Reallocation: the recommended budgets' true ELV gain (on the generator's true response curves) as a
  share of the best reallocation under the same limits (bench/budget_truth.py).
Written between the `pacing` markers of docs/benchmarks.md.

    .venv/bin/python bench/pacing.py
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, machine_line, write_section  # noqa: E402


def measure() -> dict:
    from budget_truth import main as truth_share

    from elv_assets.demo.generator import generate_world
    from elv_assets.lakehouse.files import ArtifactStore
    from elv_assets.ml.forecasting import BOOKINGS_MODEL_KEY, PACING_MODEL_KEY
    from elv_assets.runner import run_assets
    from elv_assets.settings import Settings

    folder = Path(tempfile.mkdtemp(prefix="elv-bench-pacing-"))
    try:
        generate_world(folder / "raw", size="s", seed=7)
        settings = Settings(folder / "raw", folder / "warehouse.duckdb", folder / "serving", folder / "artifacts", "")
        outcome = run_assets(settings, selection="*", echo=lambda _m: None)
        if not outcome.success:
            raise SystemExit(f"the run failed: {outcome.failures}")
        store = ArtifactStore(settings.artifacts_dir)
        bookings = store.load(BOOKINGS_MODEL_KEY)
        pacing = store.load(PACING_MODEL_KEY)
        share = truth_share(str(settings.data_dir), str(settings.warehouse))
        return {
            "bookings": bookings["overall"], "folds": bookings["per_fold"].to_dict(orient="records"),
            "pacing": pacing.metrics, "realloc": share,
        }
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def markdown(r: dict, command: str) -> str:
    m, b = r["bookings"]["model"], r["bookings"]["baseline"]
    floor = r["bookings"]["poisson_floor_wape"]
    p, n = r["pacing"]["model"], r["pacing"]["naive"]
    s = r["realloc"]
    lines = [
        "## Pacing and bookings",
        "",
        machine_line(command),
        "",
        "Bookings per ad set and day, 4-fold rolling-origin backtest (expanding window, 14-day test windows):",
        "",
        "| | MAE | RMSE | R² | WAPE |",
        "|---|---:|---:|---:|---:|",
        f"| XGBoost (Poisson loss) | {m['mae']:.3f} | {m['rmse']:.3f} | {m['r2']:.3f} | {m['wape']:.3f} |",
        f"| 7-day moving average | {b['mae']:.3f} | {b['rmse']:.3f} | {b['r2']:.3f} | {b['wape']:.3f} |",
        f"| Poisson noise floor at the model's forecasts | | | | {floor:.3f} |",
        "",
        f"- WAPE ratio model / baseline: **{m['wape'] / b['wape']:.3f}** (target at most 0.8). Bookings of one ad "
        f"set on one day are small counts, so even a perfect forecast of the expected count would score about "
        f"{floor:.3f}; the best ratio reachable on this world is therefore about {floor / b['wape']:.2f}.",
        "- Per fold (model / baseline WAPE): "
        + ", ".join(f"{f['fold']}: {f['model_wape']:.3f} / {f['baseline_wape']:.3f}" for f in r["folds"]) + ".",
        "",
        "Under-pacing tomorrow (spend below 80 % of budget), test window of the time split:",
        "",
        "| | PR-AUC | ROC-AUC | F1 | accuracy |",
        "|---|---:|---:|---:|---:|",
        f"| calibrated XGBoost | **{p['pr_auc']:.3f}** | {p['roc_auc']:.3f} | {p['f1']:.3f} | {p['accuracy']:.3f} |",
        f"| today's status carried forward | {n['pr_auc']:.3f} | {n['roc_auc']:.3f} | {n['f1']:.3f} | "
        f"{n['accuracy']:.3f} |",
        *weekday_rows(r["pacing"]),
        "",
        f"Budget reallocation (±30 %, never above an ad set's most-spent day), evaluated on the generator's true "
        f"response curves: the recommendation gains **{s['share']:.1%}** of the best possible reallocation's true "
        f"ELV ({s['gain_ours']:,.0f} of {s['gain_best']:,.0f} a day); ranking by average ELV per spend gets "
        f"{s['share_rule_of_thumb']:.1%}, spreading budget without a model {s['share_no_model']:.1%}.",
    ]
    return "\n".join(lines)


def weekday_rows(scores: dict) -> list[str]:
    """The second classifier: under-pacing against the usual pace of the day's weekday (what flags an ad set)."""
    if "weekday_model" not in scores:
        return []
    p, n = scores["weekday_model"], scores["weekday_naive"]
    return ["",
            f"Under-pacing tomorrow against the usual pace of its weekday (positive rate {p['positive_rate']:.0%}; "
            "what makes an ad set at risk):",
            "",
            "| | PR-AUC | ROC-AUC | F1 | accuracy |",
            "|---|---:|---:|---:|---:|",
            f"| calibrated XGBoost | **{p['pr_auc']:.3f}** | {p['roc_auc']:.3f} | {p['f1']:.3f} | {p['accuracy']:.3f} |",
            f"| today's status carried forward | {n['pr_auc']:.3f} | {n['roc_auc']:.3f} | {n['f1']:.3f} | "
            f"{n['accuracy']:.3f} |"]


def main() -> None:
    if "--worker" in sys.argv:
        print(json.dumps(measure(), default=str))
        return
    out = subprocess.run([sys.executable, __file__, "--worker"], check=True, capture_output=True, text=True, cwd=ROOT)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    section = markdown(result, "python bench/pacing.py")
    write_section("pacing", section)
    print(section)


if __name__ == "__main__":
    main()
