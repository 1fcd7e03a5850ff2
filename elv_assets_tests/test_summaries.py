"""dashboard.summaries against a real OpenAI-compatible HTTP server on 127.0.0.1 (a thread, a random port)."""

from __future__ import annotations

import json
import math
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pandas as pd
import pytest

from dashboard import summaries
from dashboard.summaries import Summary, sanitise, summarise, ungrounded_numbers

FALLBACK = "Spring Search buys the most expected value per pound."
AGGREGATES = {
    "as_of_date": "2024-06-30",
    "currency": "GBP",
    "spend": 12500.0,
    "predicted_elv": 30250.5,
    "elv_per_spend": 2.42,
    "leads": 1830,
    "top_campaigns": [{"campaign": "Spring Search", "elv_per_spend": 3.1},
                      {"campaign": "Brand Social", "elv_per_spend": 2.2}],
}
GOOD_REPLY = "Spring Search leads with 3.1 of expected value per pound; overall ELV per spend is 2.42."


class FakeLLM:
    """A tiny OpenAI-compatible server: records every request and answers as `mode` says."""

    def __init__(self):
        self.mode = "ok"
        self.reply: object = GOOD_REPLY
        self.delay = 0.0
        self.requests: list[dict] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                raw = self.rfile.read(length)
                fake.requests.append({"path": self.path, "headers": dict(self.headers), "raw": raw,
                                      "body": json.loads(raw)})
                if fake.delay:
                    time.sleep(fake.delay)
                if fake.mode == "500":
                    payload, status = b'{"error": "boom"}', 500
                elif fake.mode == "garbage":
                    payload, status = b"<html>not json</html>", 200
                else:
                    payload, status = json.dumps({
                        "id": "x", "object": "chat.completion", "model": "fake",
                        "choices": [{"index": 0, "finish_reason": "stop",
                                     "message": {"role": "assistant", "content": fake.reply}}],
                    }).encode(), 200
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def llm(monkeypatch):
    fake = FakeLLM()
    monkeypatch.setenv("LLM_ENDPOINT", fake.url)
    monkeypatch.setenv("LLM_MODEL", "fake-model")
    monkeypatch.setenv("LLM_API_KEY", "sk-test-123")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    summaries.clear_cache()
    yield fake
    summaries.clear_cache()
    fake.close()


def _with_lead_rows(aggregates: dict) -> dict:
    rows = [{"lead_id": f"L{i:05d}", "email": f"person{i}@example.com", "p_qualified": 0.1} for i in range(200)]
    return {**aggregates,
            "rows": rows,
            "scores": pd.DataFrame(rows),
            "top_lead": {"LeadId": "L00001", "contact_email": "someone@example.com", "elv": 12.0},
            "note": "call jane.doe@example.com tomorrow"}


def test_used_sends_only_aggregates_with_the_key(llm):
    result = summarise("campaign leaderboard", _with_lead_rows(AGGREGATES), FALLBACK)

    assert result == Summary(GOOD_REPLY, "llm", "", result.dropped)
    assert len(llm.requests) == 1
    req = llm.requests[0]
    assert req["path"] == "/v1/chat/completions"
    assert req["headers"]["Authorization"] == "Bearer sk-test-123"
    body = req["body"]
    assert body["model"] == "fake-model"
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    assert "UK English" in body["messages"][0]["content"]
    user = body["messages"][1]["content"]
    assert "campaign leaderboard" in user
    sent = json.loads(user.split("Figures (JSON): ", 1)[1])
    assert sent == {**AGGREGATES, "top_lead": {"elv": 12.0}}  # every aggregate, nothing lead-level
    raw = req["raw"].decode()
    for lead_level in ("lead_id", "LeadId", "L00001", "@example.com", "person1", "email"):
        assert lead_level not in raw
    assert set(result.dropped) == {"rows (200 items)", "scores (200 rows)", "top_lead.LeadId",
                                   "top_lead.contact_email", "note"}


def test_cached_per_topic_and_aggregates(llm):
    first = summarise("overview", AGGREGATES, FALLBACK)
    again = summarise("overview", dict(AGGREGATES), FALLBACK)
    assert first == again and first.source == "llm"
    assert len(llm.requests) == 1  # the rerun did not call again
    summarise("overview", {**AGGREGATES, "spend": 12600.0}, FALLBACK)
    summarise("pacing", AGGREGATES, FALLBACK)
    assert len(llm.requests) == 3


def test_slow_endpoint_falls_back_quickly(llm):
    llm.delay = 5.0
    timeout = 0.5
    t = time.perf_counter()
    result = summarise("overview", AGGREGATES, FALLBACK, timeout=timeout)
    elapsed = time.perf_counter() - t
    assert result.source == "rules" and result.text == FALLBACK
    assert result.reason == "timed out"
    assert elapsed < timeout + 1.0
    assert len(llm.requests) == 1

    # A dead endpoint is paused: the next summary (another topic) does not wait again.
    t = time.perf_counter()
    other = summarise("pacing", AGGREGATES, "Two ad sets are under-pacing.", timeout=timeout)
    assert time.perf_counter() - t < 0.2
    assert other.source == "rules" and "timed out" in other.reason
    assert len(llm.requests) == 1


def test_failing_endpoint_falls_back_with_the_status(llm):
    llm.mode = "500"
    result = summarise("overview", AGGREGATES, FALLBACK)
    assert result == Summary(FALLBACK, "rules", "HTTP 500", ())


def test_unreadable_reply(llm):
    llm.mode = "garbage"
    result = summarise("overview", AGGREGATES, FALLBACK)
    assert (result.source, result.reason) == ("rules", "unreadable reply")


@pytest.mark.parametrize(("reply", "reason"), [
    ("", "empty reply"),
    ("   \n ", "empty reply"),
    (None, "no text in the reply"),
    ("Spend is up. " * 40, "reply too long"),
    ("Spend was 99,999 and ROAS 7.7.", "reply has numbers not in the data: 99,999, 7.7"),
])
def test_unusable_reply_falls_back(llm, reply, reason):
    llm.reply = reply
    result = summarise("overview", AGGREGATES, FALLBACK)
    assert result.source == "rules" and result.text == FALLBACK
    assert result.reason.startswith(reason)


def test_unset_endpoint_uses_the_rules(llm, monkeypatch):
    monkeypatch.delenv("LLM_ENDPOINT")
    result = summarise("overview", AGGREGATES, FALLBACK)
    assert result == Summary(FALLBACK, "rules", "no endpoint configured", ())
    assert llm.requests == []


def test_unreachable_endpoint(monkeypatch):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("LLM_ENDPOINT", f"http://127.0.0.1:{port}/v1/")
    summaries.clear_cache()
    t = time.perf_counter()
    result = summarise("overview", AGGREGATES, FALLBACK, timeout=1.0)
    assert time.perf_counter() - t < 2.0
    assert result.source == "rules" and result.reason.startswith("endpoint unreachable")
    summaries.clear_cache()


def test_never_raises(llm):
    assert summarise("x", None, FALLBACK).source == "rules"  # type: ignore[arg-type]
    assert summarise("x", {"only": object()}, FALLBACK).reason == "nothing to summarise"
    assert summarise("x", {"rows": list(range(500))}, FALLBACK).reason == "nothing to summarise"
    assert llm.requests == []


def test_sanitise_rules():
    clean, dropped = sanitise({
        "leads": 10, "lead_count": 3, "qualified_leads": np.int64(4), "rate": np.float64(0.25),
        "missing": math.nan, "when": pd.Timestamp("2024-06-30"), "na": pd.NA, "nat": pd.NaT,
        "lead_id": "L1", "Email": "a@b.co", "phone_number": "0123", "customer_id": 9, "ip_address": "1.2.3.4",
        "top": pd.DataFrame({"campaign": ["A", "B"], "spend": [1.0, 2.0], "lead_id": ["x", "y"]}),
        "by_day": pd.Series([1, 2, 3], index=["mon", "tue", "wed"]),
        "many": np.arange(51), "fifty": list(range(50)),
        "long_text": "x" * 500,
        "deep": {"a": {"b": {"c": {"d": 1}}}},
    })
    assert clean == {
        "leads": 10, "lead_count": 3, "qualified_leads": 4, "rate": 0.25, "missing": None, "na": None, "nat": None,
        "when": "2024-06-30T00:00:00",
        "top": [{"campaign": "A", "spend": 1.0}, {"campaign": "B", "spend": 2.0}],
        "by_day": {"mon": 1, "tue": 2, "wed": 3},
        "fifty": list(range(50)),
        "deep": {"a": {"b": {}}},
    }
    assert {"lead_id", "Email", "phone_number", "customer_id", "ip_address", "top[0].lead_id",
            "many (51 items)", "long_text", "deep.a.b.c"} <= set(dropped)


def test_grounded_numbers():
    agg = {"spend": 12500.0, "ctr": 0.0345, "roas": 2.4167, "campaigns": 14}
    assert ungrounded_numbers("Spend of £12,500 (12.5k) with a CTR of 3.45% and ROAS 2.42 over 14 campaigns; "
                              "the top 3 did best.", agg) == []
    assert ungrounded_numbers("Spend reached £13,900 and ROAS 3.1.", agg) == ["13,900", "3.1"]
