"""Where a published serving snapshot is: the manifest file and the version folder it names.

Kept apart from lakehouse/serving.py (which publishes, and imports the contracts and pandera) so that readers of
the snapshot, the dashboard above all, find it without importing the pipeline: a dashboard's first page after
the server starts waits for every import."""

from __future__ import annotations

import json
from pathlib import Path

MANIFEST = "manifest.json"
SNAPSHOTS = "snapshots"


def read_manifest(serving_dir: Path) -> dict | None:
    """The current manifest, or None before the first publish."""
    path = Path(serving_dir) / MANIFEST
    if not path.exists():
        return None
    return json.loads(path.read_text())


def snapshot_path(serving_dir: Path, manifest: dict) -> Path:
    return Path(serving_dir) / manifest["path"]
