"""The bundled demo: a small published snapshot and its serving model, kept in the repository, so a hosted
dashboard (a Streamlit Space that installs only dashboard/requirements.txt) opens on something in seconds and can
score uploaded leads at once, without building a world first.

`make demo-bundle` builds it reproducibly: the size-s demo world (seed 7, the one `make demo` builds) through every
asset with `elv demo` in a throwaway folder (the dashboard's own capped build), then only what the dashboard reads
is copied here: the snapshot's manifest and its one version folder (Parquet and JSON), and
`ml/serving_model.joblib` for "Bring your own data".
About 3 MB. The same command gives the same data and scores; only the snapshot's version stamp (its build time)
differs between builds.

The dashboard shows it only when nothing else is there: a configured snapshot (ELV_SERVING_DIR) wins, then a demo
the dashboard built itself (dashboard/demo.py). ELV_DEMO_BUNDLE moves it; ELV_DEMO_BUNDLE=off switches it off.

    python -m dashboard.bundle                    # rebuild dashboard/demo_bundle
    python -m dashboard.bundle --dest /tmp/bundle
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from importlib import metadata
from pathlib import Path

from dashboard.demo import DEMO_SEED, DEMO_SIZE, build_demo, demo_settings
from elv_assets.lakehouse.manifest import MANIFEST, read_manifest, snapshot_path
from elv_assets.settings import Settings

DEFAULT_BUNDLE = Path(__file__).resolve().parent / "demo_bundle"
INFO = "bundle.json"
# The serving model is a pickle: it loads with the versions it was written with (and, in practice, nearby ones).
PICKLED_WITH = ("scikit-learn", "xgboost", "lightgbm", "numpy", "pandas")


OFF = ("off", "none", "no", "false", "0")


def bundle_root() -> Path | None:
    """The bundle folder (ELV_DEMO_BUNDLE; unset or blank: dashboard/demo_bundle), or None when it is "off"."""
    value = (os.environ.get("ELV_DEMO_BUNDLE") or "").strip()
    if value.lower() in OFF:
        return None
    return Path(value) if value else DEFAULT_BUNDLE


def bundle_settings(root: Path | None = None) -> Settings | None:
    root = bundle_root() if root is None else Path(root)
    if root is None:
        return None
    return Settings(root / "raw", root / "warehouse.duckdb", root / "serving", root / "artifacts", "")


def write_bundle(run: Settings, dest: Path) -> dict:
    """Copy what the dashboard reads from a finished run (its published snapshot and serving model) into `dest`,
    replacing what was there only once the copy is whole. Returns the bundle's description (also bundle.json)."""
    from elv_assets.lakehouse.files import SERVING_MODEL_KEY, ArtifactStore

    manifest = read_manifest(run.serving_dir)
    if not manifest or not manifest.get("path"):
        raise FileNotFoundError(f"{run.serving_dir} has no published snapshot: run the pipeline first")
    model = ArtifactStore(run.artifacts_dir).path(SERVING_MODEL_KEY)
    if not model.exists():
        raise FileNotFoundError(f"{model} does not exist: the run promoted no serving model")
    dest = Path(dest)
    staging = Path(tempfile.mkdtemp(prefix=".bundle-", dir=dest.parent))
    try:
        serving = staging / "serving"
        shutil.copytree(snapshot_path(run.serving_dir, manifest), serving / manifest["path"])
        (serving / MANIFEST).write_text(json.dumps(manifest, indent=1, default=str) + "\n")
        target = ArtifactStore(staging / "artifacts").path(SERVING_MODEL_KEY)
        target.parent.mkdir(parents=True)
        shutil.copyfile(model, target)
        files = [p for p in staging.rglob("*") if p.is_file()]
        info = {"world": f"demo size {DEMO_SIZE}, seed {DEMO_SEED}", "as_of_date": manifest.get("as_of_date"),
                "snapshot": manifest["version"], "model": manifest.get("model_version"),
                "lead_scores": manifest["tables"].get("lead_scores", {}).get("rows"),
                "bytes": sum(p.stat().st_size for p in files),
                "pickled_with": {name: _version(name) for name in PICKLED_WITH},
                "built_by": "make demo-bundle (python -m dashboard.bundle)"}
        (staging / INFO).write_text(json.dumps(info, indent=1) + "\n")
        old = dest.with_name(dest.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        if dest.exists():
            dest.rename(old)
        staging.rename(dest)
        shutil.rmtree(old, ignore_errors=True)
        return info
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def build_bundle(dest: Path, say=print) -> dict:
    """Run the demo world through every asset in a throwaway folder (dashboard/demo.py's capped build, its
    progress passed on), then write the bundle."""
    with tempfile.TemporaryDirectory(prefix="elv-demo-bundle-") as tmp:
        ok, failures = build_demo(lambda share, text: say(f"{share:4.0%}  {text}"), Path(tmp))
        if not ok:
            raise SystemExit("the demo run failed; the bundle in {} is unchanged:\n{}".format(dest, "\n".join(failures)))
        return write_bundle(demo_settings(Path(tmp)), dest)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m dashboard.bundle", description=__doc__.split("\n\n")[0])
    parser.add_argument("--dest", type=Path, default=DEFAULT_BUNDLE, help="default: dashboard/demo_bundle")
    args = parser.parse_args(argv)
    info = build_bundle(args.dest)
    print(f"bundle written to {args.dest}: {info['bytes'] / 1e6:.1f} MB, {info['lead_scores']:,} scored leads, "
          f"as of {info['as_of_date']}")


if __name__ == "__main__":
    sys.exit(main())
