"""Run-failure alerts: a short JSON summary posted to a webhook (Slack-, Teams- or anything-compatible).

Only the standard library: the sensor that calls this runs in the Dagster daemon, and an alert must not
fail because an optional package is missing. Posting never raises; it returns what happened so the
sensor can log it.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass

TIMEOUT_SECONDS = 5.0
MAX_ERROR_CHARS = 500


@dataclass(frozen=True)
class AlertResult:
    sent: bool
    detail: str


def failure_summary(job: str, run_id: str, failed_steps: list[str], error: str, base_url: str) -> dict:
    """The JSON body: what failed, where, the first lines of the error, and a link to the run."""
    error = " ".join(error.split())
    return {
        "text": f"ELV platform: run of {job} failed" + (f" at {', '.join(failed_steps)}" if failed_steps else ""),
        "job": job,
        "run_id": run_id,
        "failed_steps": failed_steps,
        "error": error[:MAX_ERROR_CHARS] + ("..." if len(error) > MAX_ERROR_CHARS else ""),
        "link": f"{base_url.rstrip('/')}/runs/{run_id}",
    }


def error_text(error) -> str:
    """A step's error (Dagster's SerializableErrorInfo) in the user's words: a contract failure reads as its own
    message; other errors keep their short class name."""
    while getattr(error, "cause", None) is not None and error.cls_name == "DagsterExecutionStepExecutionError":
        error = error.cause  # the user code's own exception, not Dagster's wrapper
    text = error.message.strip()
    prefix, sep, rest = text.partition(": ")
    if sep and "." in prefix and " " not in prefix:  # "dagster._core.definitions.events.Failure: ..."
        short = prefix.rsplit(".", 1)[1]
        return rest if short == "Failure" else f"{short}: {rest}"
    return text


def post(url: str, payload: dict, timeout: float = TIMEOUT_SECONDS) -> AlertResult:
    request = urllib.request.Request(url, data=json.dumps(payload).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return AlertResult(200 <= response.status < 300, f"HTTP {response.status}")
    except urllib.error.HTTPError as exc:
        return AlertResult(False, f"HTTP {exc.code}")
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        return AlertResult(False, f"not sent: {getattr(exc, 'reason', exc)}")
