"""One- or two-sentence summaries for marketers: from an OpenAI-compatible endpoint, else from rules.

    summarise("campaign leaderboard", {"top_campaign": "Spring Search", "elv_per_spend": 1.8, ...},
              fallback="Spring Search returns the most expected value per pound spent.")

Configuration comes from the environment, read on every call:
    LLM_ENDPOINT  base URL of an OpenAI-compatible API, e.g. http://host:8000/v1 (unset: rules only)
    LLM_MODEL     the model name to ask for (default "default")
    LLM_API_KEY   sent as `Authorization: Bearer <key>` when set

What is sent. Only the aggregates dict, after `sanitise` has removed anything that could be lead-level:
  - a key naming a person or a lead (lead_id, email, phone, first/last/full name, address, postcode,
    ip address, user/customer/contact/crm id), at any depth, is dropped with its value;
  - a list, tuple, set, array, Series or DataFrame with more than MAX_ITEMS (50) items or rows is dropped
    whole: aggregates are a few figures and a short top-k, never rows;
  - a string that contains an e-mail address, or is longer than MAX_TEXT (120) characters, is dropped;
  - nesting deeper than MAX_DEPTH (4), and values that are not numbers, booleans, text, dates, or
    short lists/dicts of those, are dropped; NaN and infinities become null.
What was dropped is listed in `Summary.dropped` (paths like "rows" or "top[0].email"), never sent.

What comes back is used only when it is one short text: non-empty, at most MAX_REPLY (400) characters,
and with no number that is not in the aggregates (`ungrounded_numbers`). Otherwise, and whenever the
endpoint is unset, slow (a hard deadline of `timeout` seconds), unreachable or failing, the caller's
rule-based `fallback` is returned with source "rules" and the reason. `summarise` never raises.

The dashboard reruns on every interaction, so results are cached in memory per (endpoint, model, topic,
aggregates, fallback): a good answer for the life of the process, a failure for FAILURE_TTL seconds.
After a time-out or a connection failure the endpoint is not asked again for FAILURE_TTL seconds, so
a dead endpoint costs one time-out, not one per summary per rerun.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math
import os
import re
import threading
import time
import urllib.error
import urllib.request
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

MAX_ITEMS = 50
MAX_TEXT = 120
MAX_DEPTH = 4
MAX_PAYLOAD = 8_000  # characters of JSON
MAX_REPLY = 400
FAILURE_TTL = 300.0
CACHE_SIZE = 512

SYSTEM_PROMPT = (
    "You write for a paid-media marketer. Summarise the figures you are given in one or two short "
    "sentences of plain UK English (British spelling). Use only the numbers and names in the figures; "
    "never invent, estimate or extrapolate a number. No preamble, no lists, no markdown."
)

# Key tokens that name a person or a single lead. Matched against the key's words (split on _ - space and
# camelCase), so "lead_id", "LeadId", "contact_email" and "email" are caught while "leads" or "lead_count"
# (aggregates) are not.
_PERSONAL_KEYS = (
    ("lead", "id"), ("email",), ("e", "mail"), ("phone",), ("mobile",), ("telephone",),
    ("first", "name"), ("last", "name"), ("full", "name"), ("surname",), ("forename",),
    ("address",), ("postcode",), ("zip",), ("ip",), ("user", "id"), ("customer", "id"),
    ("contact", "id"), ("crm", "id"), ("person",), ("dob",), ("birth",),
)
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}")
_NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?")


@dataclass(frozen=True)
class Summary:
    text: str
    source: str  # "llm" or "rules"
    reason: str = ""  # why the rules were used ("no endpoint configured", "timed out", "HTTP 500", ...)
    dropped: tuple[str, ...] = field(default=())  # aggregate paths removed before sending


# ---------------------------------------------------------------------------------------------------------
# What may be sent


def _key_words(key: str) -> list[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", key)
    return [w for w in re.split(r"[\s_\-.]+", spaced.lower()) if w]


def is_personal_key(key: Any) -> bool:
    words = _key_words(str(key))
    for pattern in _PERSONAL_KEYS:
        n = len(pattern)
        if any(tuple(words[i:i + n]) == pattern for i in range(len(words) - n + 1)):
            return True
    return False


def _to_plain(value: Any) -> Any:
    """pandas / numpy values as plain Python (imports neither)."""
    if hasattr(value, "to_dict") and hasattr(value, "columns"):  # DataFrame
        if len(value) > MAX_ITEMS:
            return _TooMany(len(value))
        return value.to_dict("records")
    if hasattr(value, "to_dict") and hasattr(value, "index"):  # Series
        if len(value) > MAX_ITEMS:
            return _TooMany(len(value))
        return value.to_dict()
    if hasattr(value, "tolist") and hasattr(value, "dtype"):  # numpy array or scalar
        return value.tolist()
    if hasattr(value, "item") and hasattr(value, "dtype"):
        return value.item()
    return value


class _TooMany:
    def __init__(self, n: int):
        self.n = n


class _Drop:
    pass


_DROP = _Drop()


def _clean(value: Any, path: str, depth: int, dropped: list[str]) -> Any:
    value = _to_plain(value)
    if type(value).__name__ in ("NAType", "NaTType"):  # pandas' missing values, without importing pandas
        return None
    if isinstance(value, decimal.Decimal):
        value = float(value)
    if isinstance(value, _TooMany):
        dropped.append(f"{path} ({value.n} rows)")
        return _DROP
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if hasattr(value, "isoformat") and callable(value.isoformat):  # pandas Timestamp
        return value.isoformat()
    if isinstance(value, str):
        if len(value) > MAX_TEXT or _EMAIL.search(value):
            dropped.append(path)
            return _DROP
        return value
    if depth >= MAX_DEPTH:
        dropped.append(path)
        return _DROP
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            sub = f"{path}.{k}" if path else str(k)
            if is_personal_key(k):
                dropped.append(sub)
                continue
            cleaned = _clean(v, sub, depth + 1, dropped)
            if cleaned is not _DROP:
                out[str(k)] = cleaned
        return out
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=str) if isinstance(value, (set, frozenset)) else list(value)
        if len(items) > MAX_ITEMS:
            dropped.append(f"{path} ({len(items)} items)")
            return _DROP
        out_list = []
        for i, v in enumerate(items):
            cleaned = _clean(v, f"{path}[{i}]", depth + 1, dropped)
            if cleaned is not _DROP:
                out_list.append(cleaned)
        return out_list
    dropped.append(path)
    return _DROP


def sanitise(aggregates: dict) -> tuple[dict, list[str]]:
    """The aggregates that may leave the process, and the paths that were dropped (see the module doc)."""
    dropped: list[str] = []
    if not isinstance(aggregates, dict):
        return {}, ["<not a dict>"]
    cleaned = _clean(aggregates, "", 0, dropped)
    return (cleaned if isinstance(cleaned, dict) else {}), dropped


# ---------------------------------------------------------------------------------------------------------
# What may come back


def _numbers_in(value: Any, out: list[float]) -> None:
    if isinstance(value, bool) or value is None:
        return
    if isinstance(value, (int, float)):
        out.append(float(value))
    elif isinstance(value, str):
        out.extend(float(m.group().replace(",", "")) for m in _NUMBER.finditer(value))
    elif isinstance(value, dict):
        for k, v in value.items():
            _numbers_in(str(k), out)
            _numbers_in(v, out)
    elif isinstance(value, list):
        for v in value:
            _numbers_in(v, out)


def ungrounded_numbers(text: str, aggregates: dict, topic: str = "") -> list[str]:
    """Numbers in `text` that match no number in the aggregates (or topic), as written.

    A number matches a figure v when it equals v, v x 100 (a rate as a percentage), v / 1,000 or v / 1e6
    (written as "k" or "m") to within the precision it is written with, or within 1 % of it. Whole numbers
    0-10 always pass ("two campaigns", "top 3").
    """
    known: list[float] = []
    _numbers_in(aggregates, known)
    _numbers_in(topic, known)
    candidates = {c for v in known for c in (v, v * 100, v / 1_000, v / 1_000_000)}
    bad = []
    for m in _NUMBER.finditer(text):
        written = m.group()
        n = float(written.replace(",", ""))
        if n.is_integer() and 0 <= abs(n) <= 10:
            continue
        decimals = len(written.split(".")[1]) if "." in written else 0
        half_step = 0.5 * 10 ** -decimals
        if not any(abs(abs(n) - abs(c)) <= max(half_step, 0.01 * abs(c)) + 1e-9 for c in candidates):
            bad.append(written)
    return bad


def _usable(reply: Any, aggregates: dict, topic: str) -> tuple[str | None, str]:
    if not isinstance(reply, str):
        return None, "no text in the reply"
    text = " ".join(reply.split()).strip().strip('"').strip()
    if not text:
        return None, "empty reply"
    if len(text) > MAX_REPLY:
        return None, f"reply too long ({len(text)} characters)"
    bad = ungrounded_numbers(text, aggregates, topic)
    if bad:
        return None, f"reply has numbers not in the data: {', '.join(bad[:3])}"
    return text, ""


# ---------------------------------------------------------------------------------------------------------
# The call


def _url(endpoint: str) -> str:
    endpoint = endpoint.strip().rstrip("/")
    return endpoint if endpoint.endswith("/chat/completions") else endpoint + "/chat/completions"


def _post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> tuple[int, bytes]:
    req = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 (the URL is configuration)
            return resp.status, resp.read(200_000)
    except urllib.error.HTTPError as err:
        return err.code, b""


def _call(url: str, body: bytes, headers: dict[str, str], timeout: float) -> tuple[Any, str, bool]:
    """(reply content, "", False) or (None, why not, endpoint down?) within a hard deadline of `timeout` s."""
    box: dict[str, Any] = {}

    def work() -> None:
        try:
            box["result"] = _post(url, body, headers, timeout)
        except BaseException as err:  # noqa: BLE001 (reported, never raised)
            box["error"] = err

    worker = threading.Thread(target=work, name="llm-summary", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        return None, "timed out", True
    if "error" in box:
        err = box["error"]
        reason = getattr(err, "reason", err)
        if isinstance(reason, TimeoutError) or "timed out" in str(reason):
            return None, "timed out", True
        return None, f"endpoint unreachable ({type(reason).__name__}: {reason})"[:200], True
    status, raw = box["result"]
    if status != 200:
        return None, f"HTTP {status}", status >= 500
    try:
        data = json.loads(raw.decode("utf-8"))
        return data["choices"][0]["message"]["content"], "", False
    except (ValueError, KeyError, IndexError, TypeError, UnicodeDecodeError):
        return None, "unreadable reply", False


_lock = threading.Lock()
_cache: OrderedDict[tuple, tuple[Summary, float]] = OrderedDict()  # key -> (summary, expires at)
_down_until: dict[str, tuple[float, str]] = {}  # url -> (monotonic time, reason)


def clear_cache() -> None:
    with _lock:
        _cache.clear()
        _down_until.clear()


def summarise(topic: str, aggregates: dict, fallback: str, timeout: float = 3.0) -> Summary:
    """A summary of `aggregates` about `topic`; `fallback` (source "rules") whenever the LLM is not usable."""
    fallback = fallback if isinstance(fallback, str) else str(fallback)
    try:
        return _summarise(topic, aggregates, fallback, timeout)
    except Exception as err:  # noqa: BLE001 (never raises)
        return Summary(fallback, "rules", f"error: {type(err).__name__}")


def _summarise(topic: str, aggregates: dict, fallback: str, timeout: float) -> Summary:
    endpoint = os.environ.get("LLM_ENDPOINT", "").strip()
    clean, dropped = sanitise(aggregates)
    if not endpoint:
        return Summary(fallback, "rules", "no endpoint configured", tuple(dropped))
    if not clean:
        return Summary(fallback, "rules", "nothing to summarise", tuple(dropped))
    payload = json.dumps(clean, sort_keys=True, ensure_ascii=False, default=str)
    if len(payload) > MAX_PAYLOAD:
        return Summary(fallback, "rules", f"aggregates too large ({len(payload)} characters)", tuple(dropped))

    model = os.environ.get("LLM_MODEL", "").strip() or "default"
    url = _url(endpoint)
    key = (url, model, str(topic), payload, fallback)
    now = time.monotonic()
    with _lock:
        hit = _cache.get(key)
        if hit and hit[1] > now:
            _cache.move_to_end(key)
            return hit[0]
        down = _down_until.get(url)
        if down and down[0] > now:
            return Summary(fallback, "rules", f"{down[1]} (endpoint paused)", tuple(dropped))

    body = json.dumps({
        "model": model,
        "messages": [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": f"Topic: {topic}\nFigures (JSON): {payload}"},
        ],
        "temperature": 0,
        "max_tokens": 150,
        "stream": False,
    }).encode("utf-8")
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    api_key = os.environ.get("LLM_API_KEY", "").strip()
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"

    reply, reason, endpoint_down = _call(url, body, headers, max(0.05, float(timeout)))
    text = None
    if not reason:
        text, reason = _usable(reply, clean, str(topic))
    if text is not None:
        result, expires = Summary(text, "llm", "", tuple(dropped)), math.inf
    else:
        result, expires = Summary(fallback, "rules", reason, tuple(dropped)), time.monotonic() + FAILURE_TTL
    with _lock:
        _cache[key] = (result, expires)
        _cache.move_to_end(key)
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
        if endpoint_down:
            _down_until[url] = (time.monotonic() + FAILURE_TTL, reason)
    return result
