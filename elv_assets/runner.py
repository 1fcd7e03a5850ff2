"""Materialise assets in-process from the command line, with one line of progress per step."""

from __future__ import annotations

import logging
import os
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import dagster as dg

from elv_assets.alerts import error_text
from elv_assets.defs import ALL_ASSETS
from elv_assets.defs.resources import build_resources
from elv_assets.settings import Settings

# Selecting assets by string goes through a beta code path; its warning is noise for a person at a terminal.
warnings.filterwarnings("ignore", category=dg.BetaWarning)

Echo = Callable[[str], None]


def _stderr(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


class _ProgressHandler(logging.Handler):
    """Turns Dagster's step events into short lines; passes warnings and errors through."""

    def __init__(self, echo: Echo):
        super().__init__()
        self.echo = echo
        self.started: dict[str, float] = {}

    def emit(self, record: logging.LogRecord) -> None:
        meta = getattr(record, "dagster_meta", None) or {}
        event = meta.get("dagster_event")
        step = (meta.get("step_key") or "").replace("__", "/")
        kind = event.event_type_value if event is not None else None
        if kind == "STEP_START":
            self.started[step] = time.perf_counter()
        elif kind in ("STEP_SUCCESS", "STEP_FAILURE"):
            took = time.perf_counter() - self.started.get(step, time.perf_counter())
            mark = "ok  " if kind == "STEP_SUCCESS" else "FAIL"
            self.echo(f"  {mark} {step:<34} {took:6.2f} s")
        elif event is None and record.levelno >= logging.WARNING:
            self.echo(f"       {step}: {meta.get('orig_message', record.getMessage())}")


def _progress_logger(echo: Echo) -> dg.LoggerDefinition:
    @dg.logger(description="One line per step, for the terminal.")
    def progress(_init_context):
        logger = logging.Logger("elv.progress", level=logging.DEBUG)
        logger.addHandler(_ProgressHandler(echo))
        return logger

    return progress


@dataclass
class RunOutcome:
    success: bool
    run_id: str
    seconds: float
    failures: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # asset key -> why the data could not support it


def run_assets(
    settings: Settings, selection: str = "*", as_of: str = "", echo: Echo = _stderr
) -> RunOutcome:
    """Materialise the selected assets (Dagster selection syntax) in this process.

    Runs are recorded in the Dagster instance under DAGSTER_HOME when it is set (so `make ui` shows
    them), otherwise in a throwaway instance.
    """
    defs = dg.Definitions(
        assets=ALL_ASSETS,
        resources=build_resources(settings),
        loggers={"progress": _progress_logger(echo)},
        executor=dg.in_process_executor,
    )
    job = defs.resolve_implicit_global_asset_job_def()
    keys = dg.AssetSelection.from_string(selection).resolve(defs.resolve_asset_graph())
    if not keys:
        raise ValueError(f"selection {selection!r} matches no asset")
    home = os.environ.get("DAGSTER_HOME")
    if home:
        os.makedirs(home, exist_ok=True)
    instance = dg.DagsterInstance.get() if home else dg.DagsterInstance.ephemeral()
    run_config: dict = {"loggers": {"progress": {}}}
    if as_of:
        run_config["resources"] = {"run_window": {"config": {"as_of_date": as_of}}}
    echo(f"Materialising {len(keys)} asset(s) from {settings.data_dir} into {settings.warehouse}")
    start = time.perf_counter()
    with instance:
        result = job.execute_in_process(
            run_config=run_config, instance=instance, asset_selection=list(keys), raise_on_error=False,
            tags={"as_of_date": as_of} if as_of else None,
        )
    failures = [
        f"{ev.step_key.replace('__', '/')}: {error_text(ev.event_specific_data.error)}"
        for ev in result.all_events
        if ev.event_type_value == "STEP_FAILURE" and ev.event_specific_data and ev.event_specific_data.error
    ]
    skipped = {ev.asset_key.to_user_string(): str(ev.materialization.metadata["skipped"].value)
               for ev in result.get_asset_materialization_events() if "skipped" in ev.materialization.metadata}
    return RunOutcome(result.success, result.run_id, time.perf_counter() - start, failures, skipped)
