"""Benchmark the ELV chain: quality against the truth of the demo worlds, and scoring throughput.

- Quality (size s): on each world and seed of WORLDS, the whole graph runs; against the generator's truth
  (truth/leads_truth.csv) on the test split it reports the served PR-AUC over the truth's PR-AUC, the equal-mass
  ECE, the Spearman correlation of lead `elv` with `value_true`, the Spearman correlation of the campaign and ad-set
  boards' predicted ELV per spend with the true ELV per spend over the board's window (sum of `value_true` / spend),
  the largest campaign's ELV error, which candidate won and every candidate's own test ratio (fitted on the train
  split, uncalibrated).
- Throughput (size m, 1M leads): `elv score` on the world's leads.csv with the serving model trained on it:
  leads per second for the model step (probabilities, ELV, ranks, reasons), file reading and writing excluded;
  the DuckDB step (contract check, typing, attribution, features) reported beside it.
Each world runs in its own process, so its peak memory is its own. Results go between the `elv` markers of
docs/benchmarks.md.

    .venv/bin/python bench/elv.py                # quality on every world of WORLDS, throughput on m
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
from common import ROOT, machine_line, peak_mb, run_graph, write_section  # noqa: E402

WORLDS = (("v2", 7), ("v2", 41), ("v2", 67), ("simple", 7))  # v2 seed 7 is what `make demo` builds


def _run_world(size: str, folder: Path, world: str = "v2", seed: int = 7) -> tuple[object, dict]:
    from elv_assets.demo.generator import generate_world
    from elv_assets.settings import Settings

    t = time.perf_counter()
    generate_world(folder / "raw", size=size, seed=seed, world=world)
    gen = time.perf_counter() - t
    settings = Settings(folder / "raw", folder / "warehouse.duckdb", folder / "serving", folder / "artifacts", "")
    steps = run_graph(settings)
    return settings, {"generate_s": gen, "run_s": steps.pop("total"), "steps": steps}


def _board(con, level: str, scores) -> dict:
    """Spearman of predicted vs true ELV per spend over the board's window; the largest campaign's error."""
    import pandas as pd
    from scipy.stats import spearmanr

    key = f"{level}_id"
    board = con.execute(f"SELECT {key} AS k, spend, predicted_elv, window_start, window_end "
                        f"FROM gold.{level}_leaderboard WHERE spend > 0 AND {key} <> '(unattributed)'").df()
    start, end = pd.Timestamp(board.window_start.iloc[0]), pd.Timestamp(board.window_end.iloc[0]) + pd.Timedelta(days=1)
    window = scores[(pd.to_datetime(scores.created_at) >= start) & (pd.to_datetime(scores.created_at) < end)]
    true = board.k.map(window.groupby(key).value_true.sum())
    out = {"segments": len(board), "rho": float(spearmanr(board.predicted_elv / board.spend, true / board.spend).statistic)}
    if level == "campaign":
        big = board.spend.idxmax()
        out["largest"] = str(board.k[big])
        out["largest_error"] = float(board.predicted_elv[big] / true[big] - 1)
    return out


def quality(folder: Path, world: str, seed: int) -> dict:
    import duckdb
    import pandas as pd
    from scipy.stats import spearmanr
    from sklearn.metrics import average_precision_score, roc_auc_score

    from elv_assets.lakehouse.files import SERVING_MODEL_KEY, ArtifactStore
    from elv_assets.ml import metrics
    from elv_assets.ml.models import raw_probability
    from elv_assets.ml.training import CANDIDATES_KEY, MODEL_KEY

    settings, timing = _run_world("s", folder, world, seed)
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    truth = pd.read_csv(settings.data_dir / "truth" / "leads_truth.csv", dtype={"lead_id": str})
    scores = con.execute("SELECT lead_id, split, label, created_at, campaign_id, adset_id, p_qualified_14d, elv "
                         "FROM gold.lead_scores").df().merge(truth, on="lead_id")
    test = scores[(scores.split == "test") & scores.label.notna()]
    y, p = test.label.astype(int).to_numpy(), test.p_qualified_14d.to_numpy()
    best = average_precision_score(y, test.p_qualified_true)
    store = ArtifactStore(settings.artifacts_dir)
    serving, choice = store.load(SERVING_MODEL_KEY), store.load(MODEL_KEY)
    out = {
        "world": world, "seed": seed, "test_leads": len(test), "positives": int(y.sum()), "model": serving.kind,
        "reason": choice["reason"], "pr_auc": average_precision_score(y, p), "pr_auc_truth": best,
        "roc_auc": roc_auc_score(y, p), "roc_auc_truth": roc_auc_score(y, test.p_qualified_true),
        "ece_mass": metrics.ece(y, p, strategy="mass"),
        "lead_rho": float(spearmanr(test.elv, test.value_true).statistic),
        "value_source": serving.value.source, "excluded": sorted(serving.excluded_features),
        "campaign": _board(con, "campaign", scores), "adset": _board(con, "adset", scores),
        "candidates": {}, **timing,
    }
    frame = con.execute("SELECT * FROM gold.training_table WHERE split = 'test'").df()
    con.close()
    frame = frame.merge(truth[["lead_id", "p_qualified_true"]], on="lead_id")
    yt = frame.label.astype(int).to_numpy()
    best_t = average_precision_score(yt, frame.p_qualified_true)
    for cand in store.load(CANDIDATES_KEY):
        cp = raw_probability(cand.pipeline, frame, cand.recipe.columns)
        out["candidates"][cand.kind] = {"ratio": average_precision_score(yt, cp) / best_t,
                                        "roc_auc": roc_auc_score(yt, cp)}
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


def _worker(part: str, world: str = "v2", seed: int = 7) -> dict:
    folder = Path(tempfile.mkdtemp(prefix=f"elv-bench-{part}-"))
    try:
        return quality(folder, world, seed) if part == "quality" else throughput(folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _spawn(*args: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--worker", *args], check=True, capture_output=True, text=True,
                         cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _ok(value: float, goal: float, above: bool = True) -> str:
    met = value >= goal if above else abs(value) <= goal
    return f"{value:.3f}" if met else f"**{value:.3f}** ✗"


def markdown(worlds: list[dict], t: dict | None, command: str) -> str:
    lines = [
        "## ELV chain: quality against the truth of the demo worlds, and scoring throughput",
        "",
        machine_line(command),
        "",
        "Size s, the whole graph per world; figures on the test split (the newest mature leads, each scored by a "
        "model that never saw it: the out-of-fold score of the refitted model), against the generator's truth. "
        "Goals (issue \"Per-lead value and a harder world\"): PR-AUC ratio ≥ 0.95, ECE ≤ 0.02, lead ELV "
        "Spearman ≥ 0.90, board Spearman ≥ 0.90, largest campaign within 15 %. ✗ marks a missed goal. The boards "
        "sum age-aware ELV (a lead that has qualified counts its full value if qualified, one whose window closed "
        "without it 0): against this truth, an expectation at creation, that adds the luck of which of the "
        "window's older leads qualified, which lowers the board ρ on small ad sets and corrects a campaign whose "
        "leads got worse unseen (v2 seed 7's TikTok: +71 % at creation, +30 % age-aware).",
        "",
        "| world, seed | test leads | served model | PR-AUC / truth's | ROC-AUC (truth) | ECE (equal-mass) | "
        "lead ELV ρ | campaign ELV/spend ρ | ad-set ELV/spend ρ | largest campaign's ELV error | run |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for q in worlds:
        c, a = q["campaign"], q["adset"]
        lines.append(
            f"| {q['world']}, {q['seed']} | {q['test_leads']:,} | {q['model']} | {_ok(q['pr_auc'] / q['pr_auc_truth'], 0.95)} | "
            f"{q['roc_auc']:.3f} ({q['roc_auc_truth']:.3f}) | {_ok(q['ece_mass'], 0.02, above=False)} | "
            f"{_ok(q['lead_rho'], 0.9)} | {_ok(c['rho'], 0.9)} ({c['segments']}) | {_ok(a['rho'], 0.9)} ({a['segments']}) | "
            f"{c['largest']} {c['largest_error']:+.0%}{'' if abs(c['largest_error']) <= 0.15 else ' ✗'} | {q['run_s']:.0f} s |")
    lines += ["", "Each candidate on the same test leads, fitted on the train split only, uncalibrated "
                  "(PR-AUC / truth's; the one that serves is chosen on the calib split, never on test):", "",
              "| world, seed | " + " | ".join(worlds[0]["candidates"]) + " | why the served one |",
              "|---|" + "---:|" * len(worlds[0]["candidates"]) + "---|"]
    for q in worlds:
        lines.append(f"| {q['world']}, {q['seed']} | "
                     + " | ".join(f"{v['ratio']:.3f}" for v in q["candidates"].values()) + f" | {q['reason']} |")
    leak = sorted({c for q in worlds for c in q["excluded"]})
    lines += ["", f"- Left out by the leakage guard: {', '.join(leak) or 'nothing'} (v2's sales_stage is the trap). "
                  f"The value model's source: {', '.join(sorted({q['value_source'] for q in worlds}))}."]
    if t:
        lines += [
            "",
            f"Throughput of `elv score` on size m ({t['leads']:,} leads, serving model: {t['model']}), CSV reading "
            "and writing excluded:",
            "",
            "| step | seconds | leads per second |",
            "|---|---:|---:|",
            f"| model: probabilities, ELV, ranks and three reasons | {t['score_s']:.2f} | "
            f"**{t['leads'] / t['score_s']:,.0f}** |",
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
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    parser.add_argument("--skip-m", action="store_true", help="quality on size s only")
    args = parser.parse_args()
    if args.worker:
        part, *rest = args.worker
        world, seed = (rest[0], int(rest[1])) if rest else ("v2", 7)
        print(json.dumps(_worker(part, world, seed), default=float))
        return
    worlds = []
    for world, seed in WORLDS:
        q = _spawn("quality", world, str(seed))
        worlds.append(q)
        print(f"{world} {seed}: PR-AUC ratio {q['pr_auc'] / q['pr_auc_truth']:.3f}, ECE {q['ece_mass']:.4f}, "
              f"lead rho {q['lead_rho']:.3f}, campaign rho {q['campaign']['rho']:.3f}, {q['model']}", flush=True)
    t = None if args.skip_m else _spawn("throughput")
    command = "python bench/elv.py" + (" --skip-m" if args.skip_m else "")
    section = markdown(worlds, t, command)
    write_section("elv", section)
    print(section)


if __name__ == "__main__":
    main()
