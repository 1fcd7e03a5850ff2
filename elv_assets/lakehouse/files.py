"""Files written so that a reader never sees half of one: atomic writes, append-only histories, and the
artefact store that model and report assets keep their objects in.

Fitted models pass between assets through the artefact store rather than through an IO manager, so
any asset can be re-materialised alone and find its upstream model where the last run left it. Each
artefact lives at `<artifacts_dir>/<asset key>.joblib` (for example `ml/serving_model.joblib`): one
file per asset, written only by that asset, and any files it keeps beside it (`<asset key>.<suffix>`).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import joblib

SERVING_MODEL_KEY = "ml/serving_model"  # the lead model that scores: read by `elv score` and the dashboard
PROMOTIONS = "promotions.jsonl"  # beside the serving model: every promotion decision, one JSON line each


class ArtifactStore:
    """Joblib files keyed by asset key ("ml/calibrator" -> <root>/ml/calibrator.joblib)."""

    def __init__(self, root: Path | str):
        self.root = Path(root)

    def path(self, key: str) -> Path:
        return self.root / f"{key}.joblib"

    def beside(self, key: str, suffix: str) -> Path:
        """A file the asset keeps next to its artefact (e.g. the serving model's promotion history)."""
        return self.root / f"{key}.{suffix}"

    def exists(self, key: str) -> bool:
        return self.path(key).exists()

    def save(self, key: str, obj) -> Path:
        return atomic_write(self.path(key), lambda f: joblib.dump(obj, f, compress=3))

    def load(self, key: str):
        path = self.path(key)
        if not path.exists():
            raise FileNotFoundError(f"{path} does not exist yet: materialise {key} first")
        return joblib.load(path)


def atomic_write(path: Path, write: Callable[[BinaryIO], None] | bytes | str, mode: int | None = None,
                 fsync: bool = False) -> Path:
    """Write `path` through a temporary file beside it and an `os.replace`, so a reader never sees half a file.

    `write` is the content (str is written as UTF-8) or a function writing it into the open binary file.
    `mode` sets the permission bits (mkstemp's are private); `fsync` flushes the data to disk before the rename.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            if callable(write):
                write(f)
            else:
                f.write(write.encode("utf-8") if isinstance(write, str) else write)
            if fsync:
                f.flush()
                os.fsync(f.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path


def append_jsonl(path: Path, record: dict) -> None:
    """One JSON object per line, appended: a history that survives every run."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as f:
        f.write(json.dumps(record, default=str) + "\n")


def read_jsonl(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
