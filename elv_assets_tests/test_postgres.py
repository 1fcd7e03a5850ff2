"""The deployed instance (deploy/dagster.yaml) against a real PostgreSQL server.

The fixture starts the machine's own PostgreSQL (Debian's postgresql package; `make postgres`, a
prerequisite of `make test`, installs it when missing): initdb into a temporary folder, trust
authentication on 127.0.0.1 only, a free port. PostgreSQL refuses to run as root, so under root the
server runs as the `postgres` system user the Debian package creates (through runuser), or as the
system user `elvpg` that `make postgres` makes when that is missing. The test creates no users.

The test then materialises the lakehouse on the tiny world with a persistent instance whose
DAGSTER_HOME holds a copy of deploy/dagster.yaml, the DAGSTER_PG_* variables pointing at that
server, and reads the run history back twice: from PostgreSQL's own tables and through Dagster.
"""

from __future__ import annotations

import glob
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from elv_assets.defs.jobs import LAKEHOUSE_SELECTION
from elv_assets.runner import run_assets
from elv_assets.settings import Settings
from elv_assets_tests.tiny_world import write_tiny_world

ROOT = Path(__file__).resolve().parents[1]
DEPLOYED_INSTANCE = ROOT / "deploy" / "dagster.yaml"
DB_USER = "elv"


def _pg_bin() -> Path | None:
    """The newest PostgreSQL server binaries: Debian's layout first, then PATH."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parent.parent.name)
    )
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).resolve().parent if initdb else None


def _as_user() -> str | None:
    """None when we are not root (run directly); else the system user the server runs as ("" when none exists)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "elvpg"):
        if subprocess.run(["id", "-u", name], capture_output=True).returncode == 0:
            return name
    return ""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class PgServer:
    host: str
    port: int
    user: str
    db_name: str

    def env(self) -> dict[str, str]:
        return {
            "DAGSTER_PG_HOST": self.host,
            "DAGSTER_PG_PORT": str(self.port),
            "DAGSTER_PG_USER": self.user,
            "DAGSTER_PG_PASSWORD": "",
            "DAGSTER_PG_DB": self.db_name,
        }

    def connect(self):
        import psycopg2

        return psycopg2.connect(host=self.host, port=self.port, user=self.user, dbname=self.db_name)

    def fetch(self, sql: str, params: tuple = ()) -> list[tuple]:
        con = self.connect()
        try:
            with con.cursor() as cur:
                cur.execute(sql, params)
                return cur.fetchall()
        finally:
            con.close()

    def fresh_database(self, name: str) -> PgServer:
        """A new empty database on this server, so each test reads back only its own runs."""
        import psycopg2

        con = psycopg2.connect(host=self.host, port=self.port, user=self.user, dbname="postgres")
        con.autocommit = True
        with con.cursor() as cur:
            cur.execute(f"CREATE DATABASE {name}")
        con.close()
        return PgServer(self.host, self.port, self.user, name)


@pytest.fixture(scope="module")
def pg_server() -> Iterator[PgServer]:
    bin_dir = _pg_bin()
    if bin_dir is None:
        pytest.skip(
            "PostgreSQL server binaries not found (no /usr/lib/postgresql/*/bin/initdb, no initdb on PATH); "
            "`make postgres` installs Debian's postgresql package"
        )
    user = _as_user()
    if user == "":
        pytest.skip("running as root and no `postgres` or `elvpg` system user to run the server: `make postgres`")
    # Not under pytest's tmp_path: that folder is private to root, and the server runs as another user.
    root = Path(tempfile.mkdtemp(prefix="elv-pg-"))
    data = root / "data"
    log = root / "server.log"
    if user:
        shutil.chown(root, user=user)
    os.chmod(root, 0o700)

    def as_server_user(cmd: list[str], **kw) -> subprocess.CompletedProcess:
        full = ["runuser", "-u", user, "--", *cmd] if user else cmd
        return subprocess.run(full, capture_output=True, text=True, timeout=120, **kw)

    init = as_server_user(
        [str(bin_dir / "initdb"), "-D", str(data), "-U", DB_USER, "--auth=trust", "-E", "UTF8",
         "--no-locale"]
    )
    assert init.returncode == 0, f"initdb failed:\n{init.stdout}\n{init.stderr}"
    port = _free_port()
    options = f"-h 127.0.0.1 -p {port} -k {root} -c fsync=off -c full_page_writes=off"
    start = as_server_user([str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options,
                            "-w", "-t", "60", "start"])
    try:
        assert start.returncode == 0, (
            f"pg_ctl start failed:\n{start.stdout}\n{start.stderr}\n{log.read_text() if log.exists() else ''}"
        )
        yield PgServer("127.0.0.1", port, DB_USER, "postgres")
    finally:
        as_server_user([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"])
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def pg_db(pg_server: PgServer, request) -> PgServer:
    """An empty database of its own for each test."""
    return pg_server.fresh_database(re.sub(r"\W", "_", request.node.name).lower()[:60])


def _deployed_home(tmp_path: Path) -> Path:
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(DEPLOYED_INSTANCE, home / "dagster.yaml")
    return home


def _tiny_settings(tmp_path: Path) -> Settings:
    return Settings(
        data_dir=write_tiny_world(tmp_path / "raw"),
        warehouse=tmp_path / "warehouse.duckdb",
        serving_dir=tmp_path / "serving",
        artifacts_dir=tmp_path / "artifacts",
        as_of="",
    )


def _lakehouse_keys(settings: Settings) -> set:
    import dagster as dg

    from elv_assets.defs import ALL_ASSETS
    from elv_assets.defs.resources import build_resources

    graph = dg.Definitions(assets=ALL_ASSETS, resources=build_resources(settings)).resolve_asset_graph()
    return set(dg.AssetSelection.from_string(LAKEHOUSE_SELECTION).resolve(graph))


def _materialised_keys(pg: PgServer, run_id: str) -> set:
    import dagster as dg

    rows = pg.fetch(
        "SELECT asset_key FROM event_logs WHERE run_id = %s AND dagster_event_type = 'ASSET_MATERIALIZATION'",
        (run_id,),
    )
    return {dg.AssetKey(json.loads(row[0])) for row in rows}


def test_deployed_instance_records_runs_in_postgres(tmp_path: Path, pg_db: PgServer, monkeypatch):
    import dagster as dg
    from dagster_postgres import PostgresEventLogStorage, PostgresRunStorage, PostgresScheduleStorage

    home = _deployed_home(tmp_path)
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    for key, value in pg_db.env().items():
        monkeypatch.setenv(key, value)
    settings = _tiny_settings(tmp_path)
    outcome = run_assets(settings, selection=LAKEHOUSE_SELECTION, echo=lambda _msg: None)
    assert outcome.success, outcome.failures

    # Straight from PostgreSQL: the run and its materialisations are rows there, not in SQLite files.
    assert pg_db.fetch("SELECT status FROM runs WHERE run_id = %s", (outcome.run_id,)) == [("SUCCESS",)]
    assert _materialised_keys(pg_db, outcome.run_id) == _lakehouse_keys(settings)
    assert not list(home.glob("**/*.db")), "no SQLite storage beside the deployed dagster.yaml"

    # Through Dagster, with a fresh instance loaded from the same DAGSTER_HOME.
    with dg.DagsterInstance.get() as instance:
        assert isinstance(instance.run_storage, PostgresRunStorage)
        assert isinstance(instance.event_log_storage, PostgresEventLogStorage)
        assert isinstance(instance.schedule_storage, PostgresScheduleStorage)
        assert instance.run_coordinator.__class__.__name__ == "QueuedRunCoordinator"
        runs = instance.get_runs()
        assert [r.run_id for r in runs] == [outcome.run_id]
        assert runs[0].status == dg.DagsterRunStatus.SUCCESS
        record = instance.get_latest_materialization_event(dg.AssetKey(["gold", "adset_daily"]))
        assert record is not None and record.run_id == outcome.run_id


# --- docker-compose.yml's three Dagster services, started without Docker ------------------------------------

LAUNCH = """
mutation Launch($params: ExecutionParams!) {
  launchRun(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId status } }
    ... on PythonError { message }
    ... on InvalidSubsetError { message }
    ... on RunConfigValidationInvalid { errors { message } }
  }
}
"""
LOCATIONS = """
{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus
    locationOrLoadError { __typename ... on PythonError { message } } } } } }
"""


def _graphql(port: int, query: str, variables: dict | None = None) -> dict:
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    req = urllib.request.Request(f"http://127.0.0.1:{port}/graphql", data=body,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        payload = json.load(resp)
    assert "errors" not in payload, payload["errors"]
    return payload["data"]


def _compose_argv(service: str) -> list[str]:
    import yaml

    command = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"][service]["command"]
    return list(command)


def _set_flag(argv: list[str], flag: str, value: str) -> list[str]:
    argv = list(argv)
    argv[argv.index(flag) + 1] = value
    return argv


def _wait(what: str, ok, procs: dict[str, subprocess.Popen], timeout: float):
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = ok()
            if value:
                return value
        except OSError:  # not listening yet
            pass
        for name, proc in procs.items():
            assert proc.poll() is None, f"{name} exited while waiting for {what}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(1)


def test_compose_services_run_a_queued_run_against_postgres(tmp_path: Path, pg_db: PgServer):
    """user_code, webserver and daemon with their commands from docker-compose.yml (hosts and ports moved
    to free local ones), the deployed dagster.yaml and PostgreSQL: a run launched from the webserver is
    queued, the daemon dequeues it, the user-code server runs it, and PostgreSQL records it."""
    import yaml

    home = _deployed_home(tmp_path)
    settings = _tiny_settings(tmp_path)
    empty_inbox = tmp_path / "inbox"  # the data-folder sensor watches this one and finds nothing to do
    empty_inbox.mkdir()
    grpc_port, web_port = _free_port(), _free_port()
    workspace = yaml.safe_load((ROOT / "deploy" / "workspace.yaml").read_text())
    workspace["load_from"][0]["grpc_server"].update(host="127.0.0.1", port=grpc_port)
    (tmp_path / "workspace.yaml").write_text(yaml.safe_dump(workspace))
    env = {
        **os.environ, **pg_db.env(), "DAGSTER_HOME": str(home), "ELV_DATA_DIR": str(empty_inbox),
        "ELV_WAREHOUSE": str(settings.warehouse), "ELV_SERVING_DIR": str(settings.serving_dir),
        "ELV_ARTIFACTS_DIR": str(settings.artifacts_dir), "ELV_ALERT_WEBHOOK": "",
    }
    bindir = Path(sys.executable).parent
    commands = {
        "user_code": _set_flag(_set_flag(_compose_argv("user_code"), "-h", "127.0.0.1"), "-p", str(grpc_port)),
        "webserver": _set_flag(_set_flag(_set_flag(_compose_argv("webserver"), "-h", "127.0.0.1"),
                                         "-p", str(web_port)), "-w", str(tmp_path / "workspace.yaml")),
        "daemon": _set_flag(_compose_argv("daemon"), "-w", str(tmp_path / "workspace.yaml")),
    }
    procs: dict[str, subprocess.Popen] = {}
    logs = {name: (tmp_path / f"{name}.log").open("w") for name in commands}
    try:
        procs["user_code"] = subprocess.Popen([str(bindir / commands["user_code"][0]), *commands["user_code"][1:]],
                                              cwd=ROOT, env=env, stdout=logs["user_code"], stderr=subprocess.STDOUT)
        health = [str(bindir / "dagster"), "api", "grpc-health-check", "-p", str(grpc_port)]
        _wait("the gRPC health check", lambda: subprocess.run(health, capture_output=True).returncode == 0,
              procs, 180)
        for name in ("webserver", "daemon"):
            procs[name] = subprocess.Popen([str(bindir / commands[name][0]), *commands[name][1:]], cwd=ROOT,
                                           env=env, stdout=logs[name], stderr=subprocess.STDOUT)

        def location_loaded():
            entries = _graphql(web_port, LOCATIONS)["workspaceOrError"]["locationEntries"]
            loaded = entries[0]["locationOrLoadError"] or {}
            assert loaded.get("__typename") != "PythonError", f"the code location failed to load: {loaded}"
            return entries[0]["loadStatus"] == "LOADED" and entries

        entries = _wait("the webserver to load the code location", location_loaded, procs, 180)
        assert [e["name"] for e in entries] == ["elv_assets"]

        keys = _lakehouse_keys(settings)
        params = {
            "selector": {"repositoryLocationName": "elv_assets", "repositoryName": "__repository__",
                         "jobName": "__ASSET_JOB", "assetSelection": [{"path": k.path} for k in keys]},
            # The run reads the tiny world through the same resource the environment sets.
            "runConfigData": {"resources": {"elv": {"config": {
                "data_dir": str(settings.data_dir), "serving_dir": str(settings.serving_dir),
                "artifacts_dir": str(settings.artifacts_dir)}}}},
        }
        launched = _graphql(web_port, LAUNCH, {"params": params})["launchRun"]
        assert launched["__typename"] == "LaunchRunSuccess", launched
        run_id = launched["run"]["runId"]
        assert launched["run"]["status"] == "QUEUED"  # the QueuedRunCoordinator: the daemon launches it

        def finished():
            status = pg_db.fetch("SELECT status FROM runs WHERE run_id = %s", (run_id,))[0][0]
            return status if status in ("SUCCESS", "FAILURE", "CANCELED") else None

        status = _wait("the run to finish", finished, procs, 300)
        assert status == "SUCCESS", (tmp_path / "user_code.log").read_text()[-3000:]
        assert _materialised_keys(pg_db, run_id) == keys
        con = duckdb.connect(str(settings.warehouse), read_only=True)
        try:
            assert con.execute("SELECT count(*) FROM gold.adset_daily").fetchone()[0] > 0
        finally:
            con.close()
    finally:
        for proc in procs.values():
            proc.terminate()
        for proc in procs.values():
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for log in logs.values():
            log.close()
