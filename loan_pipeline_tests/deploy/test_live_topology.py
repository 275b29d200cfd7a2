"""The deployment's process topology, live, without Docker.

Postgres (a fresh database) + `dagster api grpc` + `dagster-daemon run` + `dagster-webserver`, all on
the instance configuration of dagster.yaml with only the run launcher swapped for local
subprocesses. A partitioned materialization is launched through the webserver's GraphQL API, queued,
dequeued by the daemon, run against the code server, and must land in Postgres and in the lake; a
sensor running by default must be ticked by the daemon. Then everything is stopped with SIGTERM.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import yaml
from dagster._core.scheduler.instigation import TickData
from dagster._serdes import deserialize_value

from loan_pipeline import deploy
from loan_pipeline_tests.deploy.harness import (
    ManagedProcess,
    PostgresDatabase,
    bin_path,
    clean_env,
    free_port,
    graphql,
    http_get,
    wait_until,
)
from loan_pipeline_tests.deploy.sample import ASSET, first_partition, write_sample_data

pytestmark = pytest.mark.deploy

LOCATION = "loan_pipeline"

LAUNCH_RUN = """
mutation Launch($params: ExecutionParams!) {
  launchRun(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId status } }
    ... on PythonError { message }
    ... on InvalidSubsetError { message }
    ... on RunConfigValidationInvalid { errors { message } }
  }
}"""

RUN_STATUS = """
query Run($runId: ID!) { runOrError(runId: $runId) { __typename ... on Run { status tags { key value } } } }"""

WORKSPACE = """
{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus
    locationOrLoadError { __typename ... on PythonError { message }
      ... on RepositoryLocation { repositories { name sensors { name sensorState { status } } } } } } } } }"""

DAEMON_HEALTH = """
{ instance { daemonHealth { allDaemonStatuses { daemonType healthy required } } } }"""


def _running_sensors(url: str) -> list[str]:
    data = graphql(url, WORKSPACE)
    entries = data["workspaceOrError"]["locationEntries"]
    (entry,) = [e for e in entries if e["name"] == LOCATION]
    location = entry["locationOrLoadError"]
    assert location["__typename"] == "RepositoryLocation", f"code location failed to load: {location}"
    return [s["name"] for repo in location["repositories"] for s in repo["sensors"] if s["sensorState"]["status"] == "RUNNING"]


def test_queued_partitioned_run_through_daemon_and_postgres(tmp_path: Path, postgres_db: PostgresDatabase):
    started = time.monotonic()
    data_dir, home = tmp_path / "data" / "loans", tmp_path / "home"
    write_sample_data(data_dir)
    partition = first_partition(data_dir)

    dagster_home = tmp_path / "dagster_home"
    deploy.write_dagster_home(dagster_home, deploy.local_instance_config())
    grpc_port, web_port = free_port(), free_port()
    workspace = tmp_path / "workspace.yaml"
    workspace.write_text(yaml.safe_dump(deploy.grpc_workspace("127.0.0.1", grpc_port)))

    env = clean_env(
        DAGSTER_HOME=str(dagster_home),
        LOAN_PIPELINE_DATA_DIR=str(data_dir),
        LOAN_PIPELINE_CC_DATA_DIR=str(tmp_path / "data" / "cc_general"),
        LOAN_PIPELINE_HOME=str(home),
        **postgres_db.dagster_env,
    )
    logs = tmp_path / "logs"
    # The processes run in tmp_path, away from any developer .env in the repository (Dagster loads .env from cwd).
    procs: list[ManagedProcess] = []

    def start(name: str, argv: list[str]) -> ManagedProcess:
        proc = ManagedProcess.start(name, argv, env, tmp_path, logs)
        procs.append(proc)
        return proc

    def diagnostics() -> str:
        return "\n".join(f"--- {p.name} (exit {p.proc.poll()}) ---\n{p.log_tail(3000)}" for p in procs)

    try:
        grpc = start("grpc", [bin_path("dagster"), "api", "grpc", "-m", "loan_pipeline.definitions", "-h", "127.0.0.1", "-p", str(grpc_port)])
        wait_until(
            lambda: grpc.assert_running() or "Started Dagster code server" in grpc.log_tail(20000),
            timeout=180, what=f"the code server on port {grpc_port}", details=diagnostics,
        )
        daemon = start("daemon", [bin_path("dagster-daemon"), "run", "-w", str(workspace)])
        web = start("webserver", [bin_path("dagster-webserver"), "-h", "127.0.0.1", "-p", str(web_port), "-w", str(workspace)])
        url = f"http://127.0.0.1:{web_port}/graphql"
        wait_until(lambda: web.assert_running() or http_get(f"http://127.0.0.1:{web_port}/server_info"), timeout=120, what="the webserver", details=diagnostics)

        params = {
            "selector": {"repositoryLocationName": LOCATION, "repositoryName": "__repository__", "jobName": "__ASSET_JOB", "assetSelection": [{"path": [ASSET]}]},
            "mode": "default",
            "runConfigData": {},
            "executionMetadata": {"tags": [{"key": "dagster/partition", "value": partition}]},
        }
        launched = graphql(url, LAUNCH_RUN, {"params": params})["launchRun"]
        assert launched["__typename"] == "LaunchRunSuccess", launched
        run_id = launched["run"]["runId"]
        # QueuedRunCoordinator: the webserver only enqueues; the daemon launches.
        assert launched["run"]["status"] == "QUEUED"

        def finished() -> str | None:
            daemon.assert_running()
            run = graphql(url, RUN_STATUS, {"runId": run_id})["runOrError"]
            return run["status"] if run["status"] in ("SUCCESS", "FAILURE", "CANCELED") else None

        status = wait_until(finished, timeout=420, interval=3, what=f"run {run_id} to finish", details=diagnostics)
        assert status == "SUCCESS", f"run {run_id} ended {status}\n{diagnostics()}"

        # Stored in Postgres, the deployment's storage, not in some local SQLite file.
        assert postgres_db.query("SELECT status, partition FROM runs WHERE run_id = %s", (run_id,)) == [("SUCCESS", partition)]
        events = dict(postgres_db.query("SELECT dagster_event_type, count(*) FROM event_logs WHERE run_id = %s GROUP BY 1", (run_id,)))
        for event in ("PIPELINE_ENQUEUED", "PIPELINE_STARTING", "PIPELINE_START", "STEP_SUCCESS", "PIPELINE_SUCCESS"):
            assert events.get(event) == 1, f"{event} not stored once for {run_id}: {events}"
        assert postgres_db.query(
            "SELECT partition FROM event_logs WHERE run_id = %s AND dagster_event_type = 'ASSET_MATERIALIZATION' AND asset_key = %s",
            (run_id, json.dumps([ASSET])),
        ) == [(partition,)]
        assert not list(dagster_home.rglob("*.db")), "a SQLite database appeared: some storage is not Postgres"
        # The run process got LOAN_PIPELINE_HOME: exactly that month is in the lake under it.
        table = home / "datamart" / "bronze" / ASSET
        assert sorted(p.name for p in table.glob("month=*")) == [f"month={partition}"]
        assert list((table / f"month={partition}").glob("*.parquet"))

        # The daemon ticks the sensors that run unattended, and records the ticks in Postgres.
        sensors = _running_sensors(url)
        assert sensors, "no sensor has default_status=RUNNING: the deployment would run nothing unattended"

        def sensor_ticks() -> list[str]:
            rows = postgres_db.query("SELECT tick_body FROM job_ticks WHERE type = 'SENSOR'")
            return sorted({deserialize_value(body, TickData).instigator_name for (body,) in rows} & set(sensors))

        ticked = wait_until(sensor_ticks, timeout=120, interval=2, what=f"a tick of {sensors}", details=diagnostics)
        assert ticked

        health = graphql(url, DAEMON_HEALTH)["instance"]["daemonHealth"]["allDaemonStatuses"]
        unhealthy = [d["daemonType"] for d in health if d["required"] and not d["healthy"]]
        assert not unhealthy, f"unhealthy daemons: {unhealthy}\n{diagnostics()}"
    finally:
        # Reverse start order; stop() raises if a process ignores SIGTERM.
        errors = []
        for proc in reversed(procs):
            try:
                proc.stop(timeout=60)
            except AssertionError as exc:
                errors.append(str(exc))
        codes = {p.name: p.proc.poll() for p in procs}
        print(f"live topology: {time.monotonic() - started:.1f}s, exit codes {codes}")
    assert not errors, "\n".join(errors)
    # A clean shutdown on SIGTERM exits 0 (all three did when this was written).
    assert codes == {p.name: 0 for p in procs}, "\n".join(f"{p.name}: {p.proc.poll()}\n{p.log_tail(2000)}" for p in procs)
