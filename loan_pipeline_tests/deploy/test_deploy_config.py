"""The docker-compose deployment, checked without a Docker engine.

docker-compose itself validates and resolves docker-compose.yaml; Dagster's own schema validates
dagster.yaml; then the tests check that the pieces agree: every path the code reads or
writes is on a volume mounted at the same place in the code server and in launched runs, every
setting reaches the run containers, names match across files, and no secret is committed.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from pathlib import Path, PurePosixPath

import pytest
import yaml

from dagster._core.launcher import RunLauncher
from dagster._core.instance.config import dagster_instance_config
from dagster._serdes import ConfigurableClassData

from loan_pipeline import deploy
from loan_pipeline.settings import PROJECT_ROOT, load_settings
from loan_pipeline_tests.deploy.harness import bin_path, clean_env

pytestmark = pytest.mark.deploy

SERVICES = {"postgres", "user_code", "webserver", "daemon", "spark"}
DAGSTER_SERVICES = ("user_code", "webserver", "daemon")
HOST_ENV = {
    "DAGSTER_POSTGRES_PASSWORD": "not-a-real-secret",
    "LOAN_PIPELINE_HOST_DATA_DIR": "/srv/loan_pipeline/loans",
    "LOAN_PIPELINE_HOST_CC_DATA_DIR": "/srv/loan_pipeline/cc_general",
}


def _compose(tmp_path: Path, *args: str, env_file: dict[str, str]) -> subprocess.CompletedProcess:
    assert shutil.which("docker-compose"), "docker-compose missing: run scripts/system-deps.sh"
    path = tmp_path / "compose.env"
    path.write_text("".join(f"{k}={v}\n" for k, v in env_file.items()))
    # Explicit env file and a clean environment: a developer's .env or shell must not decide the result.
    return subprocess.run(
        ["docker-compose", "--env-file", str(path), "-f", str(deploy.COMPOSE_YAML), *args],
        cwd=PROJECT_ROOT, env=clean_env(), capture_output=True, text=True, timeout=120,
    )


@pytest.fixture(scope="module")
def compose(tmp_path_factory) -> dict:
    """docker-compose.yaml as docker-compose resolves it (interpolated, anchors merged)."""
    result = _compose(tmp_path_factory.mktemp("compose"), "config", env_file=HOST_ENV)
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)


@pytest.fixture(scope="module")
def instance_config() -> dict:
    return deploy.load_yaml(deploy.DAGSTER_YAML)


def _service_mounts(service: dict) -> list[tuple[str, PurePosixPath, bool]]:
    mounts = []
    for v in service.get("volumes", []):
        if isinstance(v, str):
            mounts.append(deploy.parse_volume(v))
        else:  # long syntax (docker compose v2 prints this form)
            mounts.append((v["source"], PurePosixPath(v["target"]), bool(v.get("read_only"))))
    return mounts


def test_system_deps_script_is_idempotent():
    # CI runs it before the tests, so here everything is installed: a second run must be a no-op.
    started = time.monotonic()
    result = subprocess.run(["bash", str(PROJECT_ROOT / "scripts" / "system-deps.sh")], capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr
    for tool in ("java", "chromium", "docker-compose"):
        assert shutil.which(tool), f"{tool} still missing after scripts/system-deps.sh"
    result = subprocess.run(["bash", str(PROJECT_ROOT / "scripts" / "system-deps.sh")], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "already installed" in result.stdout, result.stdout + result.stderr
    assert "apt-get" not in result.stdout + result.stderr
    assert time.monotonic() - started < 900


def test_compose_file_is_valid(tmp_path):
    result = _compose(tmp_path, "config", "-q", env_file=HOST_ENV)
    assert result.returncode == 0, result.stderr


def test_compose_refuses_to_start_without_a_password(tmp_path):
    result = _compose(tmp_path, "config", "-q", env_file={k: v for k, v in HOST_ENV.items() if k != "DAGSTER_POSTGRES_PASSWORD"})
    assert result.returncode != 0
    assert "DAGSTER_POSTGRES_PASSWORD" in result.stderr


def test_compose_topology(compose):
    services = compose["services"]
    assert set(services) == SERVICES

    pg = services["postgres"]
    assert pg["healthcheck"]["test"][0] in ("CMD", "CMD-SHELL")
    assert "ports" not in pg, "Postgres must not be published outside the compose network"
    assert ("loan_pipeline_postgres", PurePosixPath("/var/lib/postgresql/data"), False) in _service_mounts(pg)
    assert pg["environment"]["POSTGRES_PASSWORD"] == HOST_ENV["DAGSTER_POSTGRES_PASSWORD"]

    # One image for the code server, webserver, daemon — and the runs (DAGSTER_CURRENT_IMAGE).
    images = {services[s]["image"] for s in DAGSTER_SERVICES}
    assert images == {services["user_code"]["environment"]["DAGSTER_CURRENT_IMAGE"]}
    assert all(services[s]["build"]["dockerfile"] == "Dockerfile" for s in DAGSTER_SERVICES)

    assert services["user_code"]["command"][:3] == ["dagster", "api", "grpc"]
    assert "loan_pipeline.definitions" in services["user_code"]["command"]
    assert services["webserver"]["command"][0] == "dagster-webserver"
    assert services["daemon"]["command"][:2] == ["dagster-daemon", "run"]
    for name in ("webserver", "daemon"):
        depends = services[name]["depends_on"]
        assert depends["postgres"]["condition"] == "service_healthy"
        assert depends["user_code"]["condition"] == "service_healthy"
        # They launch and stop run containers through the host's Docker.
        assert any(t == PurePosixPath("/var/run/docker.sock") for _, t, _ in _service_mounts(services[name]))

    # Published on loopback only, by default.
    ports = services["webserver"]["ports"]
    assert len(ports) == 1
    port = ports[0]
    host_ip, published, target = (port.split(":")[0], port.split(":")[1], port.split(":")[2].split("/")[0]) if isinstance(port, str) else (
        port["host_ip"], str(port["published"]), str(port["target"]))
    assert (host_ip, published, target) == ("127.0.0.1", "3000", "3000")


def test_runs_share_the_spark_connect_service(compose, instance_config):
    """Runs (and only the compose network) reach the Spark Connect server at the URL they are given, and
    the server sees every file a run reads or writes at the same path as the runs do."""
    services = compose["services"]
    spark = services["spark"]
    assert spark["image"] == services["user_code"]["image"]
    command = spark["command"]
    assert command[:3] == ["python", "-m", "loan_pipeline.spark_connect"]
    host, port = command[command.index("--host") + 1], command[command.index("--port") + 1]
    assert host == "0.0.0.0" and "ports" not in spark, "Spark Connect has no login: never publish it"
    # Spark's own server in the foreground (spark_connect execs start-connect-server.sh): nothing to reap.
    assert "init" not in spark
    run_settings = load_settings({k: str(v) for k, v in services["user_code"]["environment"].items()})
    assert run_settings.spark_remote == f"sc://spark:{port}"
    assert "LOAN_PIPELINE_SPARK_REMOTE" in instance_config["run_launcher"]["config"]["env_vars"]
    assert "loan_pipeline_network" in spark["networks"]
    assert services["daemon"]["depends_on"]["spark"]["condition"] == "service_healthy"
    assert port in " ".join(spark["healthcheck"]["test"])
    server_mounts, run_mounts = _service_mounts(spark), deploy.launcher_volumes(instance_config)
    for path in [*deploy.written_paths(run_settings), *deploy.read_paths(run_settings)]:
        assert deploy.mount_for(path, server_mounts) == deploy.mount_for(path, run_mounts), path
    for path in deploy.written_paths(run_settings):
        assert not deploy.mount_for(path, server_mounts)[2], f"{path} is read-only for the Spark server"


def test_workspace_points_at_the_code_server(compose):
    services = compose["services"]
    workspace = deploy.load_yaml(deploy.WORKSPACE_YAML)
    (entry,) = workspace["load_from"]
    server = entry["grpc_server"]
    assert server["location_name"] == "loan_pipeline"
    assert server["host"] == "user_code" and server["host"] in services
    command = services["user_code"]["command"]
    assert str(server["port"]) == command[command.index("-p") + 1]
    # The webserver and daemon are started on the copy the Dockerfile puts in the image.
    dockerfile = (PROJECT_ROOT / "Dockerfile").read_text()
    assert "COPY docker/workspace.yaml ./docker/workspace.yaml" in dockerfile
    for name in ("webserver", "daemon"):
        assert "/opt/loan_pipeline/app/docker/workspace.yaml" in services[name]["command"]


def test_instance_config_is_valid(tmp_path, monkeypatch, instance_config):
    for name, value in {**deploy_env(), "DAGSTER_POSTGRES_PORT": "5432"}.items():
        monkeypatch.setenv(name, value)
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(deploy.DAGSTER_YAML, home / "dagster.yaml")
    validated, _ = dagster_instance_config(str(home))

    pg = validated["storage"]["postgres"]["postgres_db"]
    assert {k: pg[k] for k in ("hostname", "username", "password", "db_name")} == {
        "hostname": {"env": "DAGSTER_POSTGRES_HOST"},
        "username": {"env": "DAGSTER_POSTGRES_USER"},
        "password": {"env": "DAGSTER_POSTGRES_PASSWORD"},
        "db_name": {"env": "DAGSTER_POSTGRES_DB"},
    }
    coordinator = validated["run_coordinator"]
    assert coordinator["class"] == "QueuedRunCoordinator"
    assert 1 <= coordinator["config"]["max_concurrent_runs"] <= 4

    launcher_data = ConfigurableClassData(
        validated["run_launcher"]["module"], validated["run_launcher"]["class"], yaml.safe_dump(validated["run_launcher"]["config"])
    )
    launcher = launcher_data.rehydrate(RunLauncher)
    assert type(launcher).__name__ == "DockerRunLauncher"
    assert launcher.networks == ["loan_pipeline_network"]


def deploy_env() -> dict[str, str]:
    return {"DAGSTER_POSTGRES_HOST": "postgres", "DAGSTER_POSTGRES_USER": "dagster", "DAGSTER_POSTGRES_PASSWORD": "x", "DAGSTER_POSTGRES_DB": "dagster"}


def test_run_launcher_network_is_the_compose_network(compose, instance_config):
    network = instance_config["run_launcher"]["config"]["network"]
    assert compose["networks"]["loan_pipeline_network"]["name"] == network
    for name in DAGSTER_SERVICES:
        assert network in compose["services"][name]["networks"]


def test_every_setting_reaches_the_run_containers(compose, instance_config):
    passed = set(instance_config["run_launcher"]["config"]["env_vars"])
    needed = set(deploy.pipeline_env_vars()) | set(deploy.POSTGRES_ENV_VARS)
    assert needed - passed == set(), f"add to run_launcher.env_vars in dagster.yaml: {sorted(needed - passed)}"
    # Bare names are copied from the launching process: the daemon (queued runs) and the webserver.
    for name in ("daemon", "webserver", "user_code"):
        env = compose["services"][name]["environment"]
        missing = sorted(v for v in passed if "=" not in v and v not in env)
        assert not missing, f"{name} service lacks {missing} (x-pipeline-env in docker-compose.yaml)"
    # Runs must see exactly the settings the code server loaded its definitions with.
    code_env = compose["services"]["user_code"]["environment"]
    daemon_env = compose["services"]["daemon"]["environment"]
    assert {k: daemon_env[k] for k in needed} == {k: code_env[k] for k in needed}


def test_launcher_volumes_cover_every_path_the_code_uses(compose, instance_config):
    settings = load_settings({k: str(v) for k, v in compose["services"]["user_code"]["environment"].items()})
    assert str(settings.home) == "/opt/loan_pipeline/home"
    code_mounts = _service_mounts(compose["services"]["user_code"])
    run_mounts = deploy.launcher_volumes(instance_config)
    for path in [*deploy.written_paths(settings), *deploy.read_paths(settings)]:
        run_mount = deploy.mount_for(path, run_mounts)
        assert run_mount, f"{path} is on no volume of launched runs (run_launcher.container_kwargs.volumes)"
        # Same volume at the same place as in the code server, or runs and sensors see different files.
        assert deploy.mount_for(path, code_mounts) == run_mount, f"{path}: code server and runs mount different volumes"
    for path in deploy.written_paths(settings):
        assert not deploy.mount_for(path, run_mounts)[2], f"{path} is mounted read-only"

    # The launcher names volumes directly, so each must be declared with exactly that fixed name.
    declared = compose["volumes"]
    for source, _, _ in run_mounts:
        assert declared.get(source, {}).get("name") == source, f"volume {source} needs `name: {source}` in docker-compose.yaml"
    # Raw data comes from the host folders named in .env.
    devices = {declared[s]["driver_opts"]["device"] for s in ("loan_pipeline_data", "loan_pipeline_cc_data")}
    assert devices == {HOST_ENV["LOAN_PIPELINE_HOST_DATA_DIR"], HOST_ENV["LOAN_PIPELINE_HOST_CC_DATA_DIR"]}


def test_runs_write_compute_logs_where_the_webserver_reads_them(compose, instance_config):
    dockerfile = (PROJECT_ROOT / "Dockerfile").read_text()
    dagster_home = PurePosixPath(re.search(r"DAGSTER_HOME=(\S+)", dockerfile).group(1))
    storage = dagster_home / "storage"  # Dagster's default compute-log and artifact folder
    run_mount = deploy.mount_for(storage, deploy.launcher_volumes(instance_config))
    assert run_mount and run_mount[1] == storage
    for name in ("webserver", "daemon"):
        assert deploy.mount_for(storage, _service_mounts(compose["services"][name])) == run_mount


def _dockerignored(path: str, patterns: list[str]) -> bool:
    """Docker's rule for the simple patterns used here: the last matching line wins, `!` re-includes."""
    ignored = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!")
        regex = re.escape(pattern).replace(r"\*\*/", "(.*/)?").replace(r"\*", "[^/]*")
        if re.fullmatch(regex + "(/.*)?", path):
            ignored = not negate
    return ignored


def test_image_gets_the_project_but_no_secret_or_local_state():
    patterns = [line.strip() for line in (PROJECT_ROOT / ".dockerignore").read_text().splitlines() if line.strip() and not line.startswith("#")]
    dockerfile = (PROJECT_ROOT / "Dockerfile").read_text()
    copied = [src for line in dockerfile.splitlines() if line.startswith("COPY ") for src in line.split()[1:-1]]
    assert {"pyproject.toml", "uv.lock", "loan_pipeline", "dagster.yaml", "docker/workspace.yaml"} <= set(copied)
    for src in copied:
        assert (PROJECT_ROOT / src).exists(), f"Dockerfile copies {src}, which does not exist"
        assert not _dockerignored(src, patterns), f"Dockerfile copies {src}, which .dockerignore excludes"
    for local in (".env", ".env.local", ".venv", ".git", "var", "data/loans", "test-artifacts", "loan_pipeline/__pycache__/x.pyc"):
        assert _dockerignored(local, patterns), f"{local} would be sent to the image build"
    assert not _dockerignored(".env.example", patterns)
    # Exact dependency versions from the lock, no dev tools, and a Java runtime (no compiler) for Spark.
    assert "uv sync --frozen --no-dev" in dockerfile
    assert "openjdk-17-jre-headless" in dockerfile and "jdk-headless" not in dockerfile
    # Spark's bind address is decided per role (resources.local_spark_env), never baked into the image.
    assert "SPARK_LOCAL_IP" not in dockerfile


def test_no_secret_is_committed_and_every_variable_is_documented():
    compose_text = deploy.COMPOSE_YAML.read_text()
    referenced = set(re.findall(r"\$\{([A-Z_][A-Z0-9_]*)", compose_text))
    example = dict(
        line.split("=", 1) for line in (PROJECT_ROOT / ".env.example").read_text().splitlines() if line and not line.startswith("#")
    )
    assert referenced - set(example) == set(), f"document in .env.example: {sorted(referenced - set(example))}"
    assert example["DAGSTER_POSTGRES_PASSWORD"] == "", ".env.example must not carry a password"
    # Every password in the compose file is interpolated from the environment, never literal.
    for line in compose_text.splitlines():
        if "PASSWORD:" in line:
            assert "${DAGSTER_POSTGRES_PASSWORD" in line, line
    # A real .env stays out of git.
    ignored = subprocess.run(["git", "check-ignore", "-q", ".env"], cwd=PROJECT_ROOT)
    assert ignored.returncode == 0, ".env must be listed in .gitignore"


def test_root_workspace_is_the_local_definitions():
    """The root workspace.yaml (for `dagster-webserver -w workspace.yaml` locally) loads what `dagster dev` loads."""
    import tomllib

    tool = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["tool"]["dagster"]
    (entry,) = deploy.load_yaml(PROJECT_ROOT / "workspace.yaml")["load_from"]
    module = entry["python_module"]
    assert (module["module_name"], module["location_name"]) == (tool["module_name"], tool["code_location_name"])
    assert module["working_directory"] == "."


def test_local_cli_ignores_the_deployment_files(tmp_path):
    """The local flow sets DAGSTER_HOME (as ./dev does), so the root dagster.yaml of the deployment is not
    read: from the repository root the definitions load on SQLite, needing neither Postgres nor Docker."""
    dev_script = (PROJECT_ROOT / "dev").read_text()
    assert 'export DAGSTER_HOME="${DAGSTER_HOME:-$ROOT/var/dagster_home}"' in dev_script
    dagster_home = tmp_path / "dagster_home"
    dagster_home.mkdir()
    result = subprocess.run(
        [bin_path("dagster"), "definitions", "validate"], cwd=PROJECT_ROOT,
        env=clean_env(LOAN_PIPELINE_HOME=str(tmp_path), DAGSTER_HOME=str(dagster_home)), capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Validation successful for code location loan_pipeline" in result.stderr + result.stdout
