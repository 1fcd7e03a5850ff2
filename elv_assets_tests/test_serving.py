"""The serving snapshot: complete folders, an atomic manifest switch, readers never see a mix."""

import json
import threading

import duckdb
import pandas as pd

from elv_assets.lakehouse.manifest import read_manifest, snapshot_path
from elv_assets.lakehouse.serving import KEEP, publish


def _warehouse(rows: int) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    for schema in ("gold", "monitoring", "silver"):
        con.execute(f"CREATE SCHEMA {schema}")
    con.execute(f"CREATE TABLE gold.lead_scores AS SELECT range AS rank, {rows} AS generation FROM range({rows})")
    con.execute(f"CREATE TABLE gold.campaign_leaderboard AS SELECT 'c' || range AS campaign_id, {rows} AS generation "
                f"FROM range({rows % 7 + 1})")
    return con


def test_publish_writes_tables_documents_and_says_what_is_not_computed(tmp_path):
    manifest = publish(_warehouse(5), tmp_path, {"run_id": "r1", "as_of_date": "2026-03-01"}, {"model": {"pr_auc": 0.4}})
    current = read_manifest(tmp_path)
    assert current["version"] == manifest["version"] and current["as_of_date"] == "2026-03-01"
    folder = snapshot_path(tmp_path, current)
    assert pd.read_parquet(folder / "lead_scores.parquet").shape == (5, 2)
    assert current["tables"]["lead_scores"]["rows"] == 5
    assert json.loads((folder / "model.json").read_text()) == {"pr_auc": 0.4}
    assert "pacing_risk" in current["not_computed"] and "lead_scores" not in current["not_computed"]


def test_a_reader_during_publishing_sees_one_whole_snapshot_never_a_mix(tmp_path):
    publish(_warehouse(10), tmp_path, {"run_id": "first"}, {})
    problems, stop = [], threading.Event()

    def reader():
        while not stop.is_set():
            m = read_manifest(tmp_path)
            folder = snapshot_path(tmp_path, m)
            try:
                generations = {name: set(pd.read_parquet(folder / t["file"])["generation"])
                               for name, t in m["tables"].items()}
            except FileNotFoundError as exc:  # pruned while being read: only allowed for old versions
                problems.append(f"missing {exc}")
                continue
            for name, gens in generations.items():
                if len(gens) != 1 or m["tables"][name]["rows"] != len(pd.read_parquet(folder / m["tables"][name]["file"])):
                    problems.append(f"{m['version']} {name}: {gens}")
            if len({g for gens in generations.values() for g in gens}) != 1:
                problems.append(f"mixed generations in {m['version']}: {generations}")

    threads = [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()
    for rows in range(11, 31):
        publish(_warehouse(rows), tmp_path, {"run_id": f"run{rows}"}, {})
    stop.set()
    for t in threads:
        t.join()
    assert problems == []
    assert read_manifest(tmp_path)["tables"]["lead_scores"]["rows"] == 30
    kept = [p for p in (tmp_path / "snapshots").iterdir() if not p.name.startswith(".")]
    assert len(kept) == KEEP  # old versions pruned, the newest kept


def test_a_failed_publish_leaves_the_previous_snapshot_serving(tmp_path):
    publish(_warehouse(3), tmp_path, {"run_id": "good"}, {})
    before = read_manifest(tmp_path)

    try:  # NaN is not JSON: the publish fails half way, after the tables were written
        publish(_warehouse(4), tmp_path, {"run_id": "bad"}, {"model": {"x": float("nan")}})
        raise AssertionError("expected the publish to fail")
    except ValueError:
        pass
    after = read_manifest(tmp_path)
    assert after == before
    assert not [p for p in (tmp_path / "snapshots").iterdir() if p.name.startswith(".publishing-")]
