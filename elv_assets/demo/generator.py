"""A deterministic synthetic "demo world": ad delivery, CRM leads, outcomes and the hidden truth.

`generate_world(out_dir, size, seed, world=...)` writes the six input CSVs the platform reads (ads,
adsets, conversions, leads, outcomes, mapping) plus `truth/` files with the true lead probabilities
and values and the true spend->leads response of every ad set, so models and budget advice can be
scored. Two worlds share the same ad economics and the same mess, and differ in their lead law:

- "simple" (`worlds/simple.py`): the first world. Its lead law is an additive logistic regression of
  categorical fields, so any logistic regression reaches the oracle. Output frozen since it shipped.
- "v2" (`worlds/v2.py`): hard the way real B2B funnels are: interactions, non-linear numeric fields,
  lead quality that falls with the ad set's recent spend and the creative's age, a concept drift,
  segment- and time-dependent qualification delays, a heavy-tailed deal value, a CRM column filled in
  after contact (a leakage trap), click ids and synthetic PII. Its module docstring states the law.

The shared machinery (`worlds/common.py`) draws campaigns on four platforms, ad sets with budgets,
capacities and a saturating spend->leads response, ads with creative strength and fatigue, and leads
per ad-day (Poisson); events after WORLD_END_DATE are not observed (right-censoring). Realistic mess:
UK dates in ads.csv, refunds (negative spend), exact duplicate rows, pacing and conversion-type
spellings, blank values, leads known only by utm_content or by a mistyped campaign name, a few
orphans; and drift in the last 21 days (more mobile, a TikTok ramp-up).

Same (world, size, seed) gives byte-identical files. Nothing depends on today's date. Large sizes
are written in blocks of days, appended to the CSVs, so memory stays bounded.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import duckdb
import numpy as np

from elv_assets.demo.worlds import simple, v2
from elv_assets.demo.worlds.common import (
    CURRENCY,
    FILES,
    PLATFORMS,
    SIZES,
    STREAM_BLOCK,
    TS_FORMAT,
    WORLD_END_DATE,
    LeadCounter,
    Sink,
    ads_block,
    build_world,
    conversions_block,
    simulate_delivery,
    write_static,
)

__all__ = ["CURRENCY", "DEFAULT_WORLD", "FILES", "PLATFORMS", "SIZES", "WORLDS", "WORLD_END_DATE", "generate_world"]

WORLDS: dict[str, ModuleType] = {"v2": v2, "simple": simple}
DEFAULT_WORLD = "v2"  # the hard world; "simple" stays for comparison (elv generate --world simple)


def generate_world(
    out_dir: Path | str, size: str = "s", seed: int = 7, progress: Callable[[str], None] | None = None,
    world: str = DEFAULT_WORLD,
) -> dict:
    """Write the demo `world` ("v2" or "simple") for `size` (see SIZES) and `seed` into out_dir; return file row
    counts and the date range."""
    if size not in SIZES:
        raise ValueError(f"unknown size {size!r}; choose one of {', '.join(SIZES)}")
    if world not in WORLDS:
        raise ValueError(f"unknown world {world!r}; choose one of {', '.join(WORLDS)}")
    law = WORLDS[world]
    say = progress or (lambda _msg: None)
    cfg = SIZES[size]
    out = Path(out_dir)
    (out / "truth").mkdir(parents=True, exist_ok=True)
    for name in FILES:
        (out / name).unlink(missing_ok=True)

    say(f"building the {size} {world} world: {cfg['campaigns']} campaigns, {cfg['adsets']} ad sets, {cfg['ads']} ads")
    w = build_world(cfg, seed)
    dl = simulate_delivery(w, cfg, seed, budget_level=law.budget_levels(w, seed))
    ctx = law.prepare(w, dl, seed)
    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = true")
    try:
        summary: dict = write_static(con, w, out)
        say("wrote adsets.csv, mapping.csv and truth/adsets_truth.csv")
        sinks = {
            "ads.csv": Sink(con, out / "ads.csv", "DATEFORMAT '%d/%m/%Y'"),
            "conversions.csv": Sink(con, out / "conversions.csv"),
            "leads.csv": Sink(con, out / "leads.csv", TS_FORMAT),
            "outcomes.csv": Sink(con, out / "outcomes.csv", TS_FORMAT),
            "truth/leads_truth.csv": Sink(con, out / "truth" / "leads_truth.csv"),
        }
        counter = LeadCounter(width=max(7, len(str(int(cfg["leads"] * 1.2)))))
        stats: dict[str, float] = dict.fromkeys(law.STAT_KEYS, 0.0)
        block = cfg["block_days"]
        n_blocks = -(-w.days // block)
        for b in range(n_blocks):
            d0, d1 = b * block, min(w.days, (b + 1) * block)
            rng = np.random.default_rng([seed, STREAM_BLOCK, b])
            ads_block(sinks["ads.csv"], w, dl, d0, d1, rng)
            conversions_block(sinks["conversions.csv"], w, dl, d0, d1, rng)
            law.leads_block(sinks, w, dl, ctx, d0, d1, rng, counter, stats)
            if n_blocks > 1:
                say(f"block {b + 1}/{n_blocks}: days {d0 + 1}-{d1}, {counter.next_no - 1:,} leads so far")
        say("wrote ads.csv, conversions.csv, leads.csv, outcomes.csv and truth/leads_truth.csv")
    finally:
        con.close()

    summary.update({name: sink.rows for name, sink in sinks.items()})
    summary = {name: summary[name] for name in FILES}
    summary.update({"world": world, "start_date": w.start.isoformat(), "end_date": WORLD_END_DATE.isoformat(),
                    "currency": CURRENCY})
    n_leads = max(stats["leads"], 1.0)
    spend = float(np.clip(dl.spend, 0.0, None).sum())
    say(f"done: {int(stats['leads']):,} unique leads, spend {CURRENCY} {spend:,.0f} (CPL {spend / n_leads:.2f}), "
        + law.summary(stats))
    return summary
