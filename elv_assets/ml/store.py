"""Model objects on disk: joblib files written atomically (a temporary file, then a rename).

Fitted models pass between assets through this store rather than through an IO manager, so any
asset can be re-materialised alone and find its upstream model where the last run left it.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import joblib


class ObjectStore:
    def __init__(self, root: Path | str):
        self.root = Path(root)

    def path(self, name: str) -> Path:
        return self.root / "objects" / f"{name}.joblib"

    def save(self, name: str, obj) -> Path:
        return dump_atomic(obj, self.path(name))

    def load(self, name: str):
        path = self.path(name)
        if not path.exists():
            raise FileNotFoundError(f"{path} does not exist yet: materialise the asset that writes {name!r} first")
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


def dump_atomic(obj, path: Path) -> Path:
    return atomic_write(path, lambda f: joblib.dump(obj, f, compress=3))


def append_jsonl(path: Path, record: dict) -> None:
    """One JSON object per line, appended: a history that survives every run."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as f:
        f.write(json.dumps(record, default=str) + "\n")


def read_jsonl(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
