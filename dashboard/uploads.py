"""Bring your own data: caps on uploaded files, scoring them without the warehouse, and their leaderboard.

Uploads stay in the session's memory. To be checked and scored they are written to a temporary folder that
is deleted as soon as `score_folder` returns; nothing reaches the warehouse, the snapshot or the artifacts.
The caps keep one person's upload from taking the server down: ELV_UPLOAD_MAX_MB (default 50) per file and
ELV_UPLOAD_MAX_ROWS (default 500,000) rows per file.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from elv_assets.contracts.inputs import INPUT_FILES
from elv_assets.ml.elv import UNKNOWN_CAMPAIGN
from elv_assets.ml.scoring import FolderScores, score_folder

DEFAULT_MAX_MB = 50
DEFAULT_MAX_ROWS = 500_000


@dataclass(frozen=True)
class Upload:
    name: str  # the person's own file name
    content: bytes


def max_megabytes() -> int:
    return int(os.environ.get("ELV_UPLOAD_MAX_MB") or DEFAULT_MAX_MB)


def max_rows() -> int:
    return int(os.environ.get("ELV_UPLOAD_MAX_ROWS") or DEFAULT_MAX_ROWS)


def refusal(upload: Upload) -> str | None:
    """Why this upload is not even looked at (not a CSV, too big, too many rows), or None."""
    if not upload.name.lower().endswith((".csv", ".txt")):
        return (f"{upload.name} is not a CSV file. Save it from your spreadsheet as 'CSV UTF-8 (comma delimited)' "
                "and upload that.")
    limit = max_megabytes()
    if len(upload.content) > limit * 1024 * 1024:
        return f"{upload.name} is {len(upload.content) / 1024 / 1024:,.1f} MB; the limit here is {limit} MB per file."
    lines = upload.content.count(b"\n") + (0 if upload.content.endswith(b"\n") else 1)
    rows, cap = max(lines - 1, 0), max_rows()
    if rows > cap:
        return (f"{upload.name} has about {rows:,} rows; the limit here is {cap:,} rows per file. "
                "Score a larger file with `elv score` on the command line.")
    return None


def score_uploads(uploads: dict[str, Upload], artifacts_dir: Path) -> FolderScores:
    """Score the uploads (input name -> Upload) with the serving model in `artifacts_dir`. The files exist on disk
    only inside this call. Raises FolderRefused (with every file's report) or FileNotFoundError (no model)."""
    with tempfile.TemporaryDirectory(prefix="elv-upload-") as tmp:
        for name, upload in uploads.items():
            (Path(tmp) / INPUT_FILES[name].filename).write_bytes(upload.content)
        return score_folder(Path(tmp), artifacts_dir, display_names={n: u.name for n, u in uploads.items()})


def campaign_board(result: FolderScores) -> pd.DataFrame:
    """Per campaign of the uploaded leads: leads, predicted qualified, predicted ELV, and with ads.csv its spend
    over the leads' days and ELV per unit of spend; with outcomes.csv the leads qualified so far."""
    scores = result.scores.assign(campaign_id=result.scores["campaign_id"].fillna(UNKNOWN_CAMPAIGN))
    board = scores.groupby("campaign_id").agg(leads=("lead_id", "size"), predicted_qualified=("p_qualified_14d", "sum"),
                                              predicted_elv=("elv", "sum")).reset_index()
    board = board.merge(result.campaigns, on="campaign_id", how="left")
    board["campaign_name"] = board["campaign_name"].fillna(board["campaign_id"])
    board["elv_per_spend"] = board["predicted_elv"] / board["spend"].where(board["spend"] > 0)
    board["cpl"] = board["spend"] / board["leads"]
    order = "elv_per_spend" if board["elv_per_spend"].notna().any() else "predicted_elv"
    cols = ["campaign_id", "campaign_name", "platform", "leads", "qualified_so_far", "predicted_qualified",
            "predicted_elv", "spend", "elv_per_spend", "cpl"]
    return board.sort_values(order, ascending=False, na_position="last")[cols].reset_index(drop=True)
