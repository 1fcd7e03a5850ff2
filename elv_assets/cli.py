"""The `elv` command: generate a demo world, validate a data folder, run the assets, or all three."""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import sys
import time
from pathlib import Path

from elv_assets.settings import Settings

WORLD_CHOICES = ["v2", "simple"]
WORLD_HELP = ("v2: the hard world (interactions, drift, a leakage trap, heavy-tailed value); "
              "simple: the first world, an additive law (default v2)")


def _settings(args: argparse.Namespace) -> Settings:
    settings = Settings.from_env()
    if getattr(args, "data", None):
        settings = dataclasses.replace(settings, data_dir=Path(args.data))
    if getattr(args, "as_of", None):
        settings = dataclasses.replace(settings, as_of=args.as_of)
    return settings


def cmd_generate(args: argparse.Namespace) -> int:
    from elv_assets.demo.generator import generate_world

    start = time.perf_counter()
    summary = generate_world(Path(args.out), size=args.size, seed=args.seed, progress=lambda m: print(f"  {m}"),
                             world=args.world)
    print(f"Demo world '{args.size}' ({args.world}, seed {args.seed}) written to {args.out} "
          f"in {time.perf_counter() - start:.1f} s")
    for name, value in summary.items():
        print(f"  {name}: {value:,}" if isinstance(value, int) else f"  {name}: {value}")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from elv_assets.lakehouse.validation import validate_folder

    report = validate_folder(_settings(args).data_dir)
    print(report.to_json() if args.json else report.to_text())
    return 1 if report.blocking else 0


def _run(settings: Settings, selection: str) -> int:
    from elv_assets.reports.summary import warehouse_summary
    from elv_assets.runner import run_assets

    try:
        outcome = run_assets(settings, selection=selection, as_of=settings.as_of)
    except ValueError as exc:
        print(f"elv run: {exc}", file=sys.stderr)
        return 2
    print(f"Run {outcome.run_id[:8]} {'succeeded' if outcome.success else 'FAILED'} in {outcome.seconds:.1f} s")
    for failure in outcome.failures:
        print(f"\n{failure}", file=sys.stderr)
    if outcome.skipped:
        print("\nSkipped (the data cannot support them yet):")
        by_reason: dict[str, list[str]] = {}
        for key, reason in outcome.skipped.items():
            by_reason.setdefault(reason, []).append(key)
        for reason, keys in by_reason.items():
            print(f"  {', '.join(keys)}: {reason}")
    print()
    print(warehouse_summary(settings.warehouse, settings.artifacts_dir))
    return 0 if outcome.success else 1


def cmd_run(args: argparse.Namespace) -> int:
    return _run(_settings(args), args.select)


def cmd_demo(args: argparse.Namespace) -> int:
    settings = _settings(args)
    data_dir = settings.data_dir
    if any(data_dir.glob("*.csv")):
        print(f"Using the data already in {data_dir} (delete it to generate a fresh demo world)")
    else:
        code = cmd_generate(argparse.Namespace(out=str(data_dir), size=args.size, seed=args.seed, world=args.world))
        if code:
            return code
    return _run(settings, "*")


def cmd_import_real(args: argparse.Namespace) -> int:
    from elv_assets.demo.real_data import import_online_advertising

    source = Path(args.source)
    if not source.exists():
        print(f"elv import-real: {source} not found", file=sys.stderr)
        return 2
    counts = import_online_advertising(source, Path(args.out), year=args.year)
    print(f"Wrote {', '.join(f'{name} ({n:,} rows)' for name, n in counts.items())} to {args.out}")
    print("Add the CRM's leads.csv and outcomes.csv beside them, then: elv validate --data " + args.out)
    return 0


def cmd_score(args: argparse.Namespace) -> int:
    from elv_assets.ml.scoring import ScoringRefused, score_leads, write_scores

    settings = Settings.from_env()
    leads, out = Path(args.leads), Path(args.out)
    try:
        result = score_leads(leads, settings.warehouse, settings.artifacts_dir, with_reasons=not args.no_reasons,
                             as_of=settings.as_of)
    except (ScoringRefused, FileNotFoundError) as exc:
        print(f"elv score: {exc}", file=sys.stderr)
        return 1
    write_scores(result.scores, out)
    n = len(result.scores)
    rate = n / result.seconds_score if result.seconds_score else float("inf")
    print(f"Scored {n:,} leads from {leads} with the serving {result.model} model into {out}")
    print(f"  features {result.seconds_prepare:.2f} s, model {result.seconds_score:.2f} s ({rate:,.0f} leads/s)")
    for p in result.report.warnings:
        print(f"  WARNING: {p.describe(leads.name)}")
    return 0


def cmd_export_conversions(args: argparse.Namespace) -> int:
    from elv_assets.reports.conversions import ExportOptions, ExportRefused, export_from_warehouse

    settings = Settings.from_env()
    try:
        since = dt.date.fromisoformat(args.since) if args.since else None
        options = ExportOptions(kind=args.kind, window_days=args.days, since=since, timezone=args.timezone,
                                default_currency=args.currency.upper(), predicted_name=args.predicted_name,
                                won_name=args.won_name)
    except ValueError as exc:
        print(f"elv export-conversions: {exc}", file=sys.stderr)
        return 2
    try:
        export = export_from_warehouse(settings.warehouse, args.platform, options)
    except ExportRefused as exc:
        print(f"elv export-conversions: {exc}", file=sys.stderr)
        return 1
    export.write(Path(args.out))
    first, *rest = export.summary()
    print(f"Wrote {first} to {args.out}")
    for line in rest:
        print(f"  {line}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="elv", description="ELV platform: lead value for paid-media marketers.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("generate", help="write a synthetic demo world of CSV files")
    p.add_argument("--size", choices=["s", "m", "l"], default="s", help="s: 40k leads, m: 1M, l: 10M (default s)")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--out", default=str(Settings.from_env().data_dir), help="output folder (default ELV_DATA_DIR)")
    p.add_argument("--world", choices=WORLD_CHOICES, default="v2", help=WORLD_HELP)
    p.set_defaults(func=cmd_generate)

    p = sub.add_parser("validate", help="check a data folder against the input contracts; exit 1 on errors")
    p.add_argument("--data", help="data folder (default ELV_DATA_DIR)")
    p.add_argument("--json", action="store_true", help="machine-readable report")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("run", help="materialise assets in this process")
    p.add_argument("--data", help="data folder (default ELV_DATA_DIR)")
    p.add_argument("--as-of", dest="as_of", help="YYYY-MM-DD (default ELV_AS_OF, else the latest date in the data)")
    p.add_argument("--select", default="*", help="Dagster asset selection, e.g. 'key:silver/*' (default all)")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("score", help="score a leads.csv of new leads with the serving model")
    p.add_argument("--leads", required=True, help="a CSV with the leads.csv contract")
    p.add_argument("--out", required=True, help="output file: .csv or .parquet")
    p.add_argument("--no-reasons", action="store_true", help="skip the three plain-word reasons per lead (faster)")
    p.set_defaults(func=cmd_score)

    from elv_assets.reports.conversions import DEFAULTS, PLATFORMS

    p = sub.add_parser("export-conversions",
                       help="write an offline-conversion file for Google Ads or Meta from the warehouse (read-only)")
    p.add_argument("--platform", required=True, choices=PLATFORMS)
    p.add_argument("--out", required=True, help="the CSV file to write")
    p.add_argument("--since", help="YYYY-MM-DD: leads created / deals won from this day (default: the last --days days)")
    p.add_argument("--days", type=int, default=DEFAULTS.window_days,
                   help=f"without --since: the last N days up to the as-of date (default {DEFAULTS.window_days})")
    p.add_argument("--kind", choices=["predicted", "won", "both"], default=DEFAULTS.kind,
                   help="predicted: new leads at their ELV; won: won deals at their revenue (default both)")
    p.add_argument("--timezone", default=DEFAULTS.timezone,
                   help=f"the time zone of the CRM's timestamps, e.g. Europe/London (default {DEFAULTS.timezone})")
    p.add_argument("--currency", default=DEFAULTS.default_currency,
                   help=f"when ads.csv names no currency (default {DEFAULTS.default_currency})")
    p.add_argument("--predicted-name", default=DEFAULTS.predicted_name,
                   help=f"conversion / event name of a predicted lead (default {DEFAULTS.predicted_name!r})")
    p.add_argument("--won-name", default=DEFAULTS.won_name,
                   help=f"conversion / event name of a won deal (default {DEFAULTS.won_name!r})")
    p.set_defaults(func=cmd_export_conversions)

    from elv_assets.demo.real_data import DEFAULT_YEAR, REAL_FILE

    p = sub.add_parser("import-real", help="turn the public online-advertising export into ads.csv + conversions.csv")
    p.add_argument("--source", default=str(REAL_FILE), help="the export CSV (default: the copy in ../shared)")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--year", type=int, default=DEFAULT_YEAR, help=f"the year the export omits (default {DEFAULT_YEAR})")
    p.set_defaults(func=cmd_import_real)

    p = sub.add_parser("demo", help="generate a demo world if the data folder is empty, run everything, summarise")
    p.add_argument("--data", help="data folder (default ELV_DATA_DIR)")
    p.add_argument("--size", choices=["s", "m", "l"], default="s")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--world", choices=WORLD_CHOICES, default="v2", help=WORLD_HELP)
    p.set_defaults(func=cmd_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
