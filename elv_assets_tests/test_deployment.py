"""The deployment files agree with each other and with the code, and the warehouse moves by resources alone.

No Docker engine runs here, so docker-compose.yml is checked, not started:
- against COMPOSE_SCHEMA below, a strict JSON schema for the part of the Compose Specification
  (compose-spec/compose-spec, schema/compose-spec.json) this file uses, written for this repository:
  unknown keys are errors, as in the spec, so a typo such as `depend_on` fails;
- against deploy/workspace.yaml (the gRPC host and port), the Dockerfile (paths, user, DAGSTER_HOME),
  the Makefile (the ports `make ui`, `make serve` and `make dashboard` use) and deploy/dagster.yaml
  (every variable it reads is set);
- and the user-code service's own command is started here, with its host and port swapped for a free
  local port, and answers the health check the compose file runs.
"""

from __future__ import annotations

import os
import re
import shlex
import socket
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest
import yaml

from elv_assets.defs import ALL_ASSETS
from elv_assets.defs.jobs import LAKEHOUSE_SELECTION
from elv_assets.defs.resources import Warehouse, build_resources
from elv_assets.settings import DEFAULTS, Settings
from elv_assets_tests.tiny_world import write_tiny_world

ROOT = Path(__file__).resolve().parents[1]
APP_DIR = "/opt/dagster/app"  # WORKDIR in the Dockerfile
GRPC_SERVICE = "user_code"
DAGSTER_SERVICES = ("user_code", "webserver", "daemon")


def _yaml(path: str) -> dict:
    return yaml.safe_load((ROOT / path).read_text())


@pytest.fixture(scope="module")
def compose() -> dict:
    return _yaml("docker-compose.yml")


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


def _argv(command) -> list[str]:
    return list(command) if isinstance(command, list) else shlex.split(command)


def _flag(argv: list[str], *names: str) -> str:
    for i, arg in enumerate(argv):
        if arg in names:
            return argv[i + 1]
        for name in names:
            if name.startswith("--") and arg.startswith(name + "="):
                return arg.split("=", 1)[1]
    raise AssertionError(f"none of {names} in {argv}")


# --- the Compose file's structure ---------------------------------------------------------------------

_STR_LIST = {"type": "array", "items": {"type": "string"}, "uniqueItems": True}
_LIST_OR_DICT = {
    "oneOf": [
        {"type": "object", "additionalProperties": {"type": ["string", "number", "boolean", "null"]}},
        _STR_LIST,
    ]
}
_COMMAND = {"oneOf": [{"type": "null"}, {"type": "string"}, {"type": "array", "items": {"type": "string"}}]}
_DURATION = {"type": "string", "pattern": r"^([0-9]+(\.[0-9]+)?(us|ms|s|m|h))+$"}
_X = {"^x-": {}}
_NAME = "^[a-zA-Z0-9._-]+$"

# Every key a service may have in the Compose Specification; the ones this repository uses are typed
# below, the rest are accepted as they are so the schema does not reject a valid file.
_SERVICE_KEYS = [
    "annotations", "attach", "blkio_config", "build", "cap_add", "cap_drop", "cgroup", "cgroup_parent",
    "command", "configs", "container_name", "cpu_count", "cpu_percent", "cpu_period", "cpu_quota",
    "cpu_rt_period", "cpu_rt_runtime", "cpu_shares", "cpus", "cpuset", "credential_spec", "depends_on",
    "deploy", "develop", "device_cgroup_rules", "devices", "dns", "dns_opt", "dns_search", "domainname",
    "entrypoint", "env_file", "environment", "expose", "extends", "external_links", "extra_hosts",
    "gpus", "group_add", "healthcheck", "hostname", "image", "init", "ipc", "isolation", "label_file",
    "labels", "links", "logging", "mac_address", "mem_limit", "mem_reservation", "mem_swappiness",
    "memswap_limit", "models", "network_mode", "networks", "oom_kill_disable", "oom_score_adj", "pid",
    "pids_limit", "platform", "ports", "post_start", "pre_stop", "privileged", "profiles", "provider",
    "pull_policy", "pull_refresh_after", "read_only", "restart", "runtime", "scale", "secrets",
    "security_opt", "shm_size", "stdin_open", "stop_grace_period", "stop_signal", "storage_opt",
    "sysctls", "tmpfs", "tty", "ulimits", "use_api_socket", "user", "userns_mode", "uts", "volumes",
    "volumes_from", "working_dir",
]

COMPOSE_SCHEMA = {
    "$schema": "https://json-schema.org/draft-07/schema",
    "type": "object",
    "required": ["services"],
    "properties": {
        "version": {"type": "string"},
        "name": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]*$"},
        "services": {
            "type": "object",
            "patternProperties": {_NAME: {"$ref": "#/definitions/service"}},
            "additionalProperties": False,
        },
        "volumes": {
            "type": "object",
            "patternProperties": {_NAME: {"$ref": "#/definitions/volume"}},
            "additionalProperties": False,
        },
        "networks": {"type": "object"},
        "secrets": {"type": "object"},
        "configs": {"type": "object"},
        "include": {"type": "array"},
        "models": {"type": "object"},
    },
    "patternProperties": _X,
    "additionalProperties": False,
    "definitions": {
        "service": {
            "type": "object",
            "properties": {
                **{key: {} for key in _SERVICE_KEYS},
                "image": {"type": "string"},
                "build": {
                    "oneOf": [
                        {"type": "string"},
                        {
                            "type": "object",
                            "properties": {
                                "context": {"type": "string"},
                                "dockerfile": {"type": "string"},
                                "args": _LIST_OR_DICT,
                                "target": {"type": "string"},
                            },
                            "patternProperties": _X,
                            "additionalProperties": False,
                        },
                    ]
                },
                "command": _COMMAND,
                "entrypoint": _COMMAND,
                "environment": _LIST_OR_DICT,
                "env_file": {"oneOf": [{"type": "string"}, {"type": "array"}]},
                "expose": {"type": "array", "items": {"type": ["string", "number"]}, "uniqueItems": True},
                "ports": {
                    "type": "array",
                    "items": {"oneOf": [{"type": "number"}, {"type": "string"}, {"type": "object"}]},
                    "uniqueItems": True,
                },
                "volumes": {
                    "type": "array",
                    "items": {
                        "oneOf": [
                            {"type": "string"},
                            {"type": "object", "required": ["type"],
                             "properties": {"type": {"enum": ["bind", "volume", "tmpfs", "cluster", "npipe", "image"]}}},
                        ]
                    },
                    "uniqueItems": True,
                },
                "depends_on": {
                    "oneOf": [
                        _STR_LIST,
                        {
                            "type": "object",
                            "additionalProperties": False,
                            "patternProperties": {
                                _NAME: {
                                    "type": "object",
                                    "required": ["condition"],
                                    "properties": {
                                        "condition": {"enum": ["service_started", "service_healthy",
                                                               "service_completed_successfully"]},
                                        "restart": {"type": ["boolean", "string"]},
                                        "required": {"type": "boolean"},
                                    },
                                    "patternProperties": _X,
                                    "additionalProperties": False,
                                }
                            },
                        },
                    ]
                },
                "healthcheck": {
                    "type": "object",
                    "properties": {
                        "disable": {"type": ["boolean", "string"]},
                        "test": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
                        "interval": _DURATION,
                        "timeout": _DURATION,
                        "start_period": _DURATION,
                        "start_interval": _DURATION,
                        "retries": {"type": ["number", "string"]},
                    },
                    "patternProperties": _X,
                    "additionalProperties": False,
                },
                "restart": {"type": "string", "pattern": r"^(no|always|unless-stopped|on-failure(:[0-9]+)?)$"},
                "user": {"type": "string"},
                "working_dir": {"type": "string"},
            },
            "patternProperties": _X,
            "additionalProperties": False,
        },
        "volume": {
            "type": ["object", "null"],
            "properties": {
                "name": {"type": "string"},
                "driver": {"type": "string"},
                "driver_opts": {"type": "object"},
                "external": {"type": ["boolean", "string", "object"]},
                "labels": _LIST_OR_DICT,
            },
            "patternProperties": _X,
            "additionalProperties": False,
        },
    },
}


def _compose_errors(doc: dict) -> list[str]:
    import jsonschema

    validator = jsonschema.Draft7Validator(COMPOSE_SCHEMA)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(doc)]


def test_compose_file_is_valid_against_the_compose_schema(compose):
    assert _compose_errors(compose) == []


def test_the_compose_schema_rejects_what_compose_rejects(compose):
    import copy

    typo = copy.deepcopy(compose)
    typo["services"]["webserver"]["depend_on"] = typo["services"]["webserver"].pop("depends_on")
    assert any("depend_on" in e for e in _compose_errors(typo))
    bad_condition = copy.deepcopy(compose)
    bad_condition["services"]["user_code"]["depends_on"]["postgres"]["condition"] = "healthy"
    assert _compose_errors(bad_condition)
    bad_duration = copy.deepcopy(compose)
    bad_duration["services"]["postgres"]["healthcheck"]["interval"] = "5 seconds"
    assert _compose_errors(bad_duration)


def test_compose_references_resolve(services, compose):
    declared = set(compose.get("volumes") or {})
    for name, svc in services.items():
        for dep in svc.get("depends_on") or {}:
            assert dep in services, f"{name} depends on an unknown service {dep}"
        for mount in svc.get("volumes") or []:
            source = mount.split(":")[0] if isinstance(mount, str) else mount.get("source", "")
            if source and not source.startswith((".", "/", "~")):
                assert source in declared, f"{name} mounts undeclared volume {source}"
        for key, value in (svc.get("environment") or {}).items():
            for var in re.findall(r"\$\{([^}]*)\}", str(value)):
                assert re.fullmatch(r"[A-Z_][A-Z0-9_]*(:?[-?+].*)?", var), f"{name}.{key}: bad ${{{var}}}"


# --- the services agree with each other, the Dockerfile, the workspace and the Makefile ----------------


def _dockerfile() -> tuple[str, dict[str, str]]:
    text = (ROOT / "Dockerfile").read_text()
    joined = re.sub(r"\\\n\s*", " ", text)
    env: dict[str, str] = {}
    for line in joined.splitlines():
        if line.startswith("ENV "):
            env.update(dict(re.findall(r"(\w+)=(\S+)", line)))
    return joined, env


def test_dockerfile_builds_the_package_as_a_non_root_user():
    text, env = _dockerfile()
    assert re.search(r"^FROM python:3\.11-slim\b", text, re.M)
    assert re.search(rf"^WORKDIR {APP_DIR}$", text, re.M)
    assert env["DAGSTER_HOME"] == "/opt/dagster/home"
    assert re.search(r'cp deploy/dagster\.yaml "?\$DAGSTER_HOME"?/dagster\.yaml', text)
    user = re.findall(r"^USER (\S+)$", text, re.M)
    assert user and user[-1] not in ("root", "0"), "the image runs as a non-root user"
    assert "pip install ." in text
    ignored = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
               if line.strip() and not line.startswith("#")]
    for sources in re.findall(r"^COPY (.+) \S+$", text, re.M):
        for src in sources.split():
            assert (ROOT / src).exists(), f"Dockerfile copies {src}, which is not in the repository"
            assert src.rstrip("/") not in ignored, f"{src} is copied but .dockerignore leaves it out"


def test_grpc_service_matches_the_deployed_workspace(services):
    workspace = _yaml("deploy/workspace.yaml")["load_from"]
    assert len(workspace) == 1
    grpc = workspace[0]["grpc_server"]
    local = _yaml("workspace.yaml")["load_from"][0]["python_module"]
    argv = _argv(services[GRPC_SERVICE]["command"])
    assert argv[:3] == ["dagster", "api", "grpc"]
    assert grpc["host"] == GRPC_SERVICE
    assert int(_flag(argv, "-p", "--port")) == int(grpc["port"])
    assert _flag(argv, "-h", "--host") == "0.0.0.0"
    assert _flag(argv, "-m", "--module-name") == local["module_name"] == "elv_assets.definitions"
    assert grpc["location_name"] == local["location_name"]
    health = services[GRPC_SERVICE]["healthcheck"]["test"]
    assert health[1:4] == ["dagster", "api", "grpc-health-check"]
    assert int(_flag(health, "-p", "--port")) == int(grpc["port"])
    assert str(grpc["port"]) in [str(p) for p in services[GRPC_SERVICE].get("expose", [])]


def test_webserver_and_daemon_load_the_deployed_workspace(services):
    for name, exe in (("webserver", "dagster-webserver"), ("daemon", "dagster-daemon")):
        argv = _argv(services[name]["command"])
        assert argv[0] == exe
        path = _flag(argv, "-w", "--workspace")
        assert path.startswith(APP_DIR + "/")
        assert (ROOT / path.removeprefix(APP_DIR + "/")) == ROOT / "deploy" / "workspace.yaml"
        for dep in ("postgres", GRPC_SERVICE):
            assert services[name]["depends_on"][dep]["condition"] == "service_healthy", (name, dep)
    assert services[GRPC_SERVICE]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert _argv(services["daemon"]["command"])[1] == "run"


def _make_recipe(target: str) -> str:
    text = (ROOT / "Makefile").read_text()
    match = re.search(rf"^{re.escape(target)}:.*\n((?:\t.*\n?)+)", text, re.M)
    assert match, f"no `make {target}` target"
    return re.sub(r"\\\n\s*", " ", match.group(1))


def test_ports_agree_with_the_makefile(services):
    web = _argv(services["webserver"]["command"])
    assert _flag(web, "-p", "--port") == "3000"
    assert "3000:3000" in services["webserver"]["ports"]
    ui = _make_recipe("ui")
    assert "dagster dev" in ui
    ui_port = re.search(r"dagster dev\b[^\n]*?\s(?:-p|--port)[ =](\d+)", ui)
    assert (ui_port.group(1) if ui_port else "3000") == "3000"  # dagster dev's default is 3000
    assert re.search(r"dagster dev\b.*\s(?:-p|--port)[ =]3000\b", _make_recipe("serve"))

    dash = _argv(services["dashboard"]["command"])
    assert dash[:3] == ["python", "-m", "dashboard.serve"]  # `streamlit run dashboard/app.py`, imports done first
    assert (ROOT / "dashboard" / "serve.py").is_file()
    assert _flag(dash, "--server.port") == "8501"
    assert _flag(dash, "--server.address") == "0.0.0.0"
    assert "8501:8501" in services["dashboard"]["ports"]
    for target in ("dashboard", "serve"):
        recipe = _make_recipe(target)
        assert "python -m dashboard.serve" in recipe, target
        assert re.search(r"--server\.port[ =]8501\b", recipe), target


def test_services_share_one_data_volume_and_the_image_paths(services):
    _, env = _dockerfile()
    data_mounts = {}
    for name in (*DAGSTER_SERVICES, "dashboard"):
        svc = services[name]
        assert svc["build"] == "." and svc["image"] == services[GRPC_SERVICE]["image"], name
        mounts = [m.split(":") for m in svc["volumes"]]
        data_mounts[name] = [m[0] for m in mounts if m[1] == f"{APP_DIR}/data"]
        environment = svc["environment"]
        for var in ("ELV_DATA_DIR", "ELV_WAREHOUSE", "ELV_SERVING_DIR", "ELV_ARTIFACTS_DIR"):
            assert environment[var] == env[var], (name, var)
            assert environment[var].startswith(f"{APP_DIR}/data/"), (name, var)
    assert all(len(v) == 1 for v in data_mounts.values()) and len({v[0] for v in data_mounts.values()}) == 1
    assert services["dashboard"]["volumes"][0].endswith(":ro"), "the dashboard only reads the snapshot"
    for name in DAGSTER_SERVICES:
        assert services[name]["environment"]["DAGSTER_HOME"] == env["DAGSTER_HOME"]


def test_every_variable_the_instance_reads_is_set(services):
    text = (ROOT / "deploy" / "dagster.yaml").read_text()
    needed = set(re.findall(r"env:\s*(\w+)", text))
    assert needed == {"DAGSTER_PG_HOST", "DAGSTER_PG_PORT", "DAGSTER_PG_USER", "DAGSTER_PG_PASSWORD", "DAGSTER_PG_DB"}
    for name in DAGSTER_SERVICES:
        missing = needed - set(services[name]["environment"])
        assert not missing, f"{name} does not set {sorted(missing)}"
    env = services["webserver"]["environment"]
    assert env["DAGSTER_PG_HOST"] == "postgres"
    pg = services["postgres"]
    assert pg["image"] == "postgres:16"
    assert "pg_isready" in " ".join(pg["healthcheck"]["test"])
    for ours, theirs in (("USER", "POSTGRES_USER"), ("PASSWORD", "POSTGRES_PASSWORD"), ("DB", "POSTGRES_DB")):
        assert env[f"DAGSTER_PG_{ours}"] == pg["environment"][theirs]


def test_deployed_instance_config_is_valid(tmp_path, monkeypatch):
    """deploy/dagster.yaml passes Dagster's own instance schema, and its env values resolve."""
    from dagster._config import process_config
    from dagster._core.instance.config import dagster_instance_config
    from dagster._core.run_coordinator import QueuedRunCoordinator
    from dagster._core.storage.config import pg_config

    (tmp_path / "dagster.yaml").write_text((ROOT / "deploy" / "dagster.yaml").read_text())
    values = {"DAGSTER_PG_HOST": "db.internal", "DAGSTER_PG_PORT": "6543", "DAGSTER_PG_USER": "u",
              "DAGSTER_PG_PASSWORD": "p", "DAGSTER_PG_DB": "d"}
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    config, _ = dagster_instance_config(str(tmp_path))
    pg = process_config(pg_config(), config["storage"]["postgres"])
    assert pg.success, pg.errors
    assert pg.value["postgres_db"] == {"hostname": "db.internal", "port": 6543, "username": "u", "password": "p",
                                       "db_name": "d", "params": {}, "scheme": "postgresql+psycopg2"}
    coordinator = config["run_coordinator"]
    assert coordinator["class"] == "QueuedRunCoordinator"
    queued = process_config(QueuedRunCoordinator.config_type(), coordinator["config"])
    assert queued.success and queued.value["max_concurrent_runs"] == 1
    assert config["run_monitoring"]["enabled"] is True
    assert config["telemetry"]["enabled"] is False
    # The local instance keeps the same one-run-at-a-time rule.
    local = _yaml("dagster.yaml")
    assert local["run_coordinator"]["config"]["max_concurrent_runs"] == 1


def _env_keys(path: Path) -> list[str]:
    return [line.split("=", 1)[0] for line in path.read_text().splitlines()
            if re.match(r"^[A-Z_][A-Z0-9_]*=", line)]


def test_env_example_lists_every_variable_the_code_reads(compose):
    keys = _env_keys(ROOT / ".env.example")
    assert len(keys) == len(set(keys)), "a variable is listed twice"
    read = set(DEFAULTS) | {"DAGSTER_HOME"}
    pattern = re.compile(r"""(?:environ\.get|getenv|environ\[|setdefault)\(?\s*["']([A-Z][A-Z0-9_]+)["']""")
    for folder in ("elv_assets", "dashboard"):
        for path in (ROOT / folder).rglob("*.py"):
            read |= set(pattern.findall(path.read_text()))
    read |= set(re.findall(r"env:\s*(\w+)", (ROOT / "deploy" / "dagster.yaml").read_text()))
    interpolated = set(re.findall(r"\$\{([A-Z_][A-Z0-9_]*)", (ROOT / "docker-compose.yml").read_text()))
    missing = sorted((read | interpolated) - set(keys))
    assert not missing, f".env.example does not list {missing}"
    for required in ("ELV_DATA_DIR", "ELV_WAREHOUSE", "ELV_SERVING_DIR", "ELV_ARTIFACTS_DIR", "ELV_AS_OF",
                     "DAGSTER_PG_HOST", "ELV_ALERT_WEBHOOK", "LLM_ENDPOINT", "LLM_MODEL", "LLM_API_KEY",
                     "ELV_SCHEDULE_TIMEZONE"):
        assert required in keys


# --- the user-code service's command really serves the code location -------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_user_code_command_serves_the_location_and_passes_its_health_check(services, tmp_path):
    port = str(_free_port())
    argv = _argv(services[GRPC_SERVICE]["command"])
    argv[argv.index("-h") + 1] = "127.0.0.1"
    argv[argv.index("-p") + 1] = port
    health = list(services[GRPC_SERVICE]["healthcheck"]["test"][1:])
    health[health.index("-p") + 1] = port
    bindir = Path(sys.executable).parent
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path), "ELV_DATA_DIR": str(tmp_path / "raw"),
           "ELV_WAREHOUSE": str(tmp_path / "warehouse.duckdb")}
    server = subprocess.Popen([str(bindir / argv[0]), *argv[1:]], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            check = subprocess.run([str(bindir / health[0]), *health[1:]], env=env, capture_output=True,
                                   text=True, timeout=60)
            if check.returncode == 0:
                break
            assert server.poll() is None, f"gRPC server exited:\n{server.stderr.read()}"
            assert time.monotonic() < deadline, f"health check never passed:\n{check.stdout}{check.stderr}"
            time.sleep(1)
        # The location the deployed workspace names, loaded from that server as the webserver would.
        from dagster._core.remote_origin import GrpcServerCodeLocationOrigin

        grpc = _yaml("deploy/workspace.yaml")["load_from"][0]["grpc_server"]
        origin = GrpcServerCodeLocationOrigin(host="127.0.0.1", port=int(port), location_name=grpc["location_name"])
        with dg.DagsterInstance.ephemeral() as instance, origin.create_location(instance) as location:
            repo = next(iter(location.get_repositories().values()))
            jobs = {job.name for job in repo.get_all_jobs()}
            assert "daily_refresh" in jobs
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


# --- the warehouse moves by swapping resources, nothing else -----------------------------------------------

LAKEHOUSE_TABLES = {("bronze", "ads"), ("silver", "leads"), ("gold", "lead_attribution"), ("gold", "adset_daily"),
                    ("monitoring", "data_quality_report")}


def _tables(database: Path) -> set[tuple[str, str]]:
    con = duckdb.connect(str(database), read_only=True)
    try:
        return {tuple(r) for r in con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables WHERE table_catalog = current_database()"
        ).fetchall()}
    finally:
        con.close()


def _materialize_lakehouse(resources: dict) -> dg.ExecuteInProcessResult:
    result = dg.materialize(
        ALL_ASSETS, resources=resources, selection=dg.AssetSelection.from_string(LAKEHOUSE_SELECTION),
        raise_on_error=False,
    )
    assert result.success, [e.message for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    return result


def test_second_warehouse_configured_only_through_the_environment(tmp_path, monkeypatch):
    """Two deployments of the same code: the first with the local defaults, the second moved elsewhere by
    ELV_* variables alone. Each run writes its own warehouse and never the other's."""
    first = tmp_path / "first"
    write_tiny_world(first / "data" / "raw")
    monkeypatch.chdir(first)
    for var in DEFAULTS:
        monkeypatch.delenv(var, raising=False)
    _materialize_lakehouse(build_resources())  # the defaults: data/raw -> data/warehouse.duckdb
    first_warehouse = first / "data" / "warehouse.duckdb"
    assert _tables(first_warehouse) >= LAKEHOUSE_TABLES
    before = first_warehouse.stat().st_mtime_ns, first_warehouse.read_bytes()

    second = tmp_path / "second" / "shared-store"
    raw = write_tiny_world(tmp_path / "second" / "inbox", leads_csv=None)  # a different world: no leads file
    raw.joinpath("leads.csv").write_text(
        "lead_id,created_at,campaign_id,adset_id,ad_id,utm_campaign,utm_content,campaign_name,form,device\n"
        "Z1,2025-03-02 09:00:00,c1,as1,ad1,,,,long,mobile\n"
    )
    monkeypatch.setenv("ELV_DATA_DIR", str(raw))
    monkeypatch.setenv("ELV_WAREHOUSE", str(second / "lake.duckdb"))
    monkeypatch.setenv("ELV_SERVING_DIR", str(second / "serving"))
    monkeypatch.setenv("ELV_ARTIFACTS_DIR", str(second / "artifacts"))
    _materialize_lakehouse(build_resources())  # Settings.from_env(): the same call, the environment moved it

    assert _tables(second / "lake.duckdb") >= LAKEHOUSE_TABLES
    assert (first_warehouse.stat().st_mtime_ns, first_warehouse.read_bytes()) == before, "first untouched"
    con = duckdb.connect(str(second / "lake.duckdb"), read_only=True)
    assert con.execute("SELECT list(lead_id) FROM silver.leads").fetchone()[0] == ["Z1"]
    con.close()
    con = duckdb.connect(str(first_warehouse), read_only=True)
    assert "Z1" not in con.execute("SELECT list(lead_id) FROM silver.leads").fetchone()[0]
    con.close()


class AttachedWarehouse(Warehouse):
    """The same warehouse reached another way: an in-memory DuckDB that ATTACHes the store and USEs it.

    This is the shape of a shared store (MotherDuck's `ATTACH 'md:...'`, a DuckLake catalog over object
    storage): only how the connection is opened changes; the assets' SQL is the same.
    """

    def _connect(self) -> duckdb.DuckDBPyConnection:
        con = duckdb.connect(":memory:")
        con.execute(f"ATTACH '{self.database}' AS lake")
        con.execute("USE lake")
        return con


def test_warehouse_resource_swapped_for_an_attached_store(tmp_path):
    settings = Settings(
        data_dir=write_tiny_world(tmp_path / "raw"),
        warehouse=tmp_path / "local" / "warehouse.duckdb",
        serving_dir=tmp_path / "serving",
        artifacts_dir=tmp_path / "artifacts",
        as_of="",
    )
    store = tmp_path / "store" / "lake.duckdb"
    store.parent.mkdir()
    resources = {**build_resources(settings), "warehouse": AttachedWarehouse(database=str(store))}
    _materialize_lakehouse(resources)
    assert _tables(store) >= LAKEHOUSE_TABLES
    assert not settings.warehouse.exists(), "nothing written to the configured local file"


def test_the_duckdb_memory_setting_reaches_every_pipeline_connection(tmp_path, monkeypatch):
    """ELV_DUCKDB_MEMORY bounds what DuckDB holds while the pipeline runs (past it, DuckDB spills to disk): the
    warehouse resource sets it on every connection it opens, and ELV_DUCKDB_SQL_MEMORY on the connection of a step
    that works in SQL only; a value DuckDB would not read is refused by name."""
    monkeypatch.setenv("ELV_WAREHOUSE", str(tmp_path / "w.duckdb"))
    monkeypatch.setenv("ELV_DUCKDB_MEMORY", "300MB")
    monkeypatch.setenv("ELV_DUCKDB_SQL_MEMORY", "600MB")
    warehouse = build_resources()["warehouse"]
    limits = []
    for sql_only in (False, True):
        with warehouse.get_connection(sql_only=sql_only) as con:
            limits.append(con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0].replace(" ", ""))
    assert limits[0] in ("286.1MiB", "300.0MB"), limits  # DuckDB shows it in its own units
    assert limits[1] in ("572.2MiB", "600.0MB"), limits
    for name in ("ELV_DUCKDB_MEMORY", "ELV_DUCKDB_SQL_MEMORY"):
        monkeypatch.setenv(name, "lots")
        with pytest.raises(ValueError, match=f"{name}='lots': expected an amount of memory"):
            Settings.from_env()
        monkeypatch.setenv(name, "1GB")


def test_only_a_step_that_works_in_sql_gets_the_larger_duckdb_limit():
    """The bronze, silver and SQL gold tables keep their data in DuckDB (ELV_DUCKDB_SQL_MEMORY); a step that holds
    data frames beside DuckDB (training table, lead scores) keeps to ELV_DUCKDB_MEMORY."""
    from elv_assets.defs.declare import SQL_KINDS

    doing = {key.to_user_string(): set(spec.kinds) - {"duckdb", "pandera"}
             for a in ALL_ASSETS for key, spec in a.specs_by_key.items()}
    for key in ("bronze/leads", "silver/leads", "gold/lead_attribution", "gold/lead_features", "gold/lead_labels"):
        assert doing[key] <= SQL_KINDS, (key, doing[key])
    for key in ("gold/training_table", "gold/lead_scores", "gold/spend_response"):
        assert not doing[key] <= SQL_KINDS, (key, doing[key])


def test_the_fit_and_judge_caps_reach_the_chain_resource(tmp_path, monkeypatch):
    """ELV_FIT_LEADS and ELV_JUDGE_LEADS set the chain resource every fitting and judging step reads (0: every
    lead); a value that is not a whole number is refused by name."""
    monkeypatch.setenv("ELV_WAREHOUSE", str(tmp_path / "w.duckdb"))
    monkeypatch.setenv("ELV_FIT_LEADS", "20000")
    monkeypatch.setenv("ELV_JUDGE_LEADS", "0")
    chain = build_resources(Settings.from_env())["chain"]
    assert (chain.fit_leads, chain.judge_leads) == (20_000, 0)
    monkeypatch.setenv("ELV_JUDGE_LEADS", "a quarter million")
    with pytest.raises(ValueError, match="ELV_JUDGE_LEADS"):
        Settings.from_env()
