"""Benchmark the ELV chain: quality against the best possible model, and scoring throughput.

- Quality (size s, seed 7, the `make demo` world): the calibrated model's PR-AUC on the test split divided
  by the PR-AUC of the generator's true probabilities (truth/leads_truth.csv) on the same leads; ECE; ROC-AUC;
  and the same ratio for each candidate model (the logistic baseline included), uncalibrated.
- Throughput (size m, 1M leads): `elv score` on the world's leads.csv with the serving model trained on it:
  leads per second for the model step (probabilities, ELV, ranks, reasons), file reading and writing excluded;
  the DuckDB step (contract check, typing, attribution, features) reported beside it.
Each part runs in its own process so its peak memory is its own. Results go between the `elv` markers of
docs/benchmarks.md.

    .venv/bin/python bench/elv.py                # quality on s, throughput on m
    .venv/bin/python bench/elv.py --skip-m       # quality only
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, machine_line, peak_mb, write_section  # noqa: E402


def _run_world(size: str, folder: Path) -> tuple[object, dict]:
    from elv_assets.demo.generator import generate_world
    from elv_assets.runner import run_assets
    from elv_assets.settings import Settings

    t = time.perf_counter()
    generate_world(folder / "raw", size=size, seed=7)
    gen = time.perf_counter() - t
    settings = Settings(folder / "raw", folder / "warehouse.duckdb", folder / "serving", folder / "artifacts", "")
    steps: dict[str, float] = {}

    def echo(line: str) -> None:
        parts = line.split()
        if len(parts) >= 4 and parts[0] in ("ok", "FAIL") and parts[-1] == "s":
            steps[parts[1]] = float(parts[-2])

    t = time.perf_counter()
    outcome = run_assets(settings, selection="*", echo=echo)
    if not outcome.success:
        raise SystemExit(f"the run on size {size} failed: {outcome.failures}")
    return settings, {"generate_s": gen, "run_s": time.perf_counter() - t, "steps": steps}


def quality(folder: Path) -> dict:
    import duckdb
    import pandas as pd
    from sklearn.metrics import average_precision_score, roc_auc_score

    from elv_assets.lakehouse.files import SERVING_MODEL_KEY, ArtifactStore
    from elv_assets.ml import metrics
    from elv_assets.ml.models import prepare
    from elv_assets.ml.training import CANDIDATES_KEY

    settings, timing = _run_world("s", folder)
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    scores = con.execute("SELECT lead_id, label, p_qualified_14d FROM gold.lead_scores WHERE split = 'test'").df()
    test = con.execute("SELECT * FROM gold.training_table WHERE split = 'test'").df()
    con.close()
    truth = pd.read_csv(settings.data_dir / "truth" / "leads_truth.csv")
    joined = scores.merge(truth, on="lead_id")
    y = joined["label"].astype(int).to_numpy()
    best = average_precision_score(y, joined["p_qualified_true"])
    store = ArtifactStore(settings.artifacts_dir)
    serving = store.load(SERVING_MODEL_KEY)
    out = {
        "test_leads": len(joined), "positives": int(y.sum()), "model": serving.kind,
        "calibration": serving.calibration_method,
        "pr_auc": average_precision_score(y, joined["p_qualified_14d"]), "pr_auc_truth": best,
        "roc_auc": roc_auc_score(y, joined["p_qualified_14d"]), "roc_auc_truth": roc_auc_score(y, joined["p_qualified_true"]),
        "ece_width": metrics.ece(y, joined["p_qualified_14d"].to_numpy(), strategy="width"),
        "ece_mass": metrics.ece(y, joined["p_qualified_14d"].to_numpy(), strategy="mass"),
        "ece_truth": metrics.ece(y, joined["p_qualified_true"].to_numpy(), strategy="width"),
        "candidates": {},
        **timing,
    }
    test = test.merge(truth[["lead_id"]], on="lead_id")
    yt = test["label"].astype(int).to_numpy()
    best_t = average_precision_score(yt, test.merge(truth, on="lead_id")["p_qualified_true"])
    for cand in store.load(CANDIDATES_KEY):
        p = cand.pipeline.predict_proba(prepare(test, cand.columns))[:, 1]
        out["candidates"][cand.kind] = {"pr_auc": average_precision_score(yt, p), "ratio": average_precision_score(yt, p) / best_t,
                                        "roc_auc": roc_auc_score(yt, p)}
    out["peak_mb"] = peak_mb()
    return out


def throughput(folder: Path) -> dict:
    from elv_assets.ml.scoring import score_leads

    settings, timing = _run_world("m", folder)
    leads = settings.data_dir / "leads.csv"
    with_reasons = score_leads(leads, settings.warehouse, settings.artifacts_dir, with_reasons=True)
    without = score_leads(leads, settings.warehouse, settings.artifacts_dir, with_reasons=False)
    n = len(with_reasons.scores)
    return {
        "leads": n, "model": with_reasons.model, **timing,
        "prepare_s": with_reasons.seconds_prepare,
        "score_s": with_reasons.seconds_score, "score_no_reasons_s": without.seconds_score,
        "peak_mb": peak_mb(),
    }


def _worker(part: str) -> dict:
    folder = Path(tempfile.mkdtemp(prefix=f"elv-bench-{part}-"))
    try:
        return quality(folder) if part == "quality" else throughput(folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _spawn(part: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--worker", part], check=True, capture_output=True, text=True,
                         cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def markdown(q: dict, t: dict | None, command: str) -> str:
    ratio = q["pr_auc"] / q["pr_auc_truth"]
    lines = [
        "## ELV chain: quality against the best possible, and scoring throughput",
        "",
        machine_line(command),
        "",
        f"Quality on the demo world (size s, seed 7): {q['test_leads']:,} test leads, {q['positives']:,} qualified "
        f"within 14 days. The serving model is **{q['model']}** with {q['calibration']} calibration.",
        "",
        "| score on the test split | PR-AUC | / true probabilities' PR-AUC | ROC-AUC | ECE (equal-width) | ECE (equal-mass) |",
        "|---|---:|---:|---:|---:|---:|",
        f"| true probabilities (generator) | {q['pr_auc_truth']:.4f} | 1.000 | {q['roc_auc_truth']:.4f} | "
        f"{q['ece_truth']:.4f} | |",
        f"| **calibrated serving model** | {q['pr_auc']:.4f} | **{ratio:.3f}** (target ≥ 0.95) | {q['roc_auc']:.4f} | "
        f"**{q['ece_width']:.4f}** (target ≤ 0.02) | {q['ece_mass']:.4f} |",
    ]
    for kind, c in q["candidates"].items():
        lines.append(f"| {kind} candidate, uncalibrated | {c['pr_auc']:.4f} | {c['ratio']:.3f} | {c['roc_auc']:.4f} | | |")
    steps = q["steps"]
    chain = sum(v for k, v in steps.items() if k.startswith(("ml/", "gold/lead_", "gold/training", "gold/campaign",
                                                             "gold/adset_leader", "monitoring/feature")))
    lines += [
        "",
        f"- Whole graph on size s in one in-process run: {q['run_s']:.1f} s, of which the ELV chain's steps "
        f"{chain:.1f} s (candidate models {steps.get('ml/candidate_models', 0):.1f} s, lead scores "
        f"{steps.get('gold/lead_scores', 0):.1f} s). The end-to-end `elv demo` figure is in the foundation table.",
    ]
    if t:
        lines += [
            "",
            f"Throughput of `elv score` on size m ({t['leads']:,} leads, serving model: {t['model']}), CSV reading "
            "and writing excluded:",
            "",
            "| step | seconds | leads per second |",
            "|---|---:|---:|",
            f"| model: probabilities, ELV, ranks and three reasons | {t['score_s']:.2f} | "
            f"**{t['leads'] / t['score_s']:,.0f}** (target ≥ 200,000) |",
            f"| model without reasons (`--no-reasons`) | {t['score_no_reasons_s']:.2f} | "
            f"{t['leads'] / t['score_no_reasons_s']:,.0f} |",
            f"| DuckDB: contract check, typing, attribution, lagged features | {t['prepare_s']:.2f} | "
            f"{t['leads'] / t['prepare_s']:,.0f} |",
            "",
            f"- Peak memory of the size-m process (whole graph, then scoring twice): {t['peak_mb']:,.0f} MB. Whole "
            f"graph on size m: {t['run_s']:.0f} s (candidate models {t['steps'].get('ml/candidate_models', 0):.0f} s, "
            f"lead scores {t['steps'].get('gold/lead_scores', 0):.0f} s).",
        ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--worker", choices=["quality", "throughput"])
    parser.add_argument("--skip-m", action="store_true", help="quality on size s only")
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(_worker(args.worker), default=float))
        return
    q = _spawn("quality")
    print(f"quality: PR-AUC ratio {q['pr_auc'] / q['pr_auc_truth']:.3f}, ECE {q['ece_width']:.4f}", flush=True)
    t = None if args.skip_m else _spawn("throughput")
    command = "python bench/elv.py" + (" --skip-m" if args.skip_m else "")
    section = markdown(q, t, command)
    write_section("elv", section)
    print(section)


if __name__ == "__main__":
    main()
