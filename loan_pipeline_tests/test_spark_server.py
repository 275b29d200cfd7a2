"""Runs as clients of a standing Spark Connect server (spark_server.py) build the same lake as runs
with a Spark session of their own, and the server serves run after run."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import dagster as dg
import pytest

from loan_pipeline import lake, spark_server
from loan_pipeline.settings import ENV_SPARK_REMOTE, SHORT_LIVED_JIT, load_settings
from loan_pipeline.sources.generator import generate_loan_book
from loan_pipeline.spark_jvm import DRIVER_JAVA_OPTIONS, REMOTE, jvm_config, project_jar, spark_config
from loan_pipeline_tests.deploy.harness import free_port
from loan_pipeline_tests.ingest_helpers import failure_message, ingest_definitions, run_ingest

MONTHS = ["2023-01-01", "2023-02-01"]
HOST = "127.0.0.1"


def test_remote_runs_connect_to_the_server_and_the_server_runs_the_project_settings(monkeypatch):
    monkeypatch.setenv(ENV_SPARK_REMOTE, "sc://127.0.0.1:15002")
    settings = load_settings()
    assert spark_config(settings) == {REMOTE: "sc://127.0.0.1:15002"}
    config = spark_server.server_config(settings, "0.0.0.0", 15010)
    assert config["spark.connect.grpc.binding.address"] == "0.0.0.0" and config["spark.connect.grpc.binding.port"] == "15010"
    own = jvm_config(settings)
    same = set(own) - {"spark.app.name", DRIVER_JAVA_OPTIONS, spark_server.DRIVER_MEMORY}
    assert own[spark_server.DRIVER_MEMORY] == "1g" and config[spark_server.DRIVER_MEMORY] == spark_server.SERVER_DRIVER_MEMORY
    assert {k: config[k] for k in same} == {k: own[k] for k in same}
    # A run's own JVM compiles with C1 alone; the long-lived server keeps the JVM's full tiered compilation.
    assert SHORT_LIVED_JIT in own[DRIVER_JAVA_OPTIONS].split()
    assert config[DRIVER_JAVA_OPTIONS].split() == [
        *(o for o in own[DRIVER_JAVA_OPTIONS].split() if o != SHORT_LIVED_JIT), *spark_server.SERVER_HEAP_FREE_RATIOS
    ]
    assert config["spark.sql.codegen.cache.maxEntries"] == "1000"
    # (the server's command is covered by test_the_server_is_the_projects_own_where_its_jar_is_built)
    # A heap the user asked for is the server's too.
    monkeypatch.setenv("LOAN_PIPELINE_SPARK_CONF", '{"spark.driver.memory": "4g"}')
    assert spark_server.server_config(load_settings())[spark_server.DRIVER_MEMORY] == "4g"
    monkeypatch.setenv(ENV_SPARK_REMOTE, "127.0.0.1:15002")
    with pytest.raises(ValueError, match="sc://"):
        load_settings()


def test_the_server_is_the_projects_own_where_its_jar_is_built(tmp_path):
    settings = dataclasses.replace(load_settings({}), jvm_dir=tmp_path / "jvm")
    command = spark_server.server_command(settings, "0.0.0.0", 15010)  # no jar built: Spark's own server
    assert command[0].endswith("bin/spark-submit") and command[1:3] == ["--class", spark_server.SPARKS_SERVER_CLASS]
    assert "spark.sql.shuffle.partitions=2" in command and not any(c.startswith("spark.plugins=") for c in command)
    jar = project_jar(settings)
    jar.parent.mkdir(parents=True)
    jar.write_bytes(b"jar")
    command = spark_server.server_command(settings, "0.0.0.0", 15010)
    assert command[1:3] == ["--class", spark_server.SERVER_CLASS] and command[-1] == str(jar)
    assert f"spark.plugins={spark_server.CONNECT_PLUGIN}" in command and "spark.sql.artifact.isolation.enabled=false" in command
    # plugins the user configured stay
    own = dataclasses.replace(settings, spark_conf={**settings.spark_conf, "spark.plugins": "org.example.Plugin"})
    assert f"spark.plugins=org.example.Plugin,{spark_server.CONNECT_PLUGIN}" in spark_server.server_command(own)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The project's server (its jar is built by the set-up), with Spark's UI on, for its metrics."""
    log_path = tmp_path_factory.mktemp("spark_server") / "server.log"
    settings = load_settings()
    assert project_jar(settings).is_file(), "the set-up (python -m loan_pipeline.spark_jvm) builds the project's jar"
    ui_port = free_port()
    settings = dataclasses.replace(settings, spark_conf={**settings.spark_conf, "spark.ui.enabled": "true", "spark.ui.port": str(ui_port)})
    with open(log_path, "w") as log:
        try:
            with spark_server.serving(settings, HOST, free_port(), log=log) as (_, url, _):
                yield url, f"http://{HOST}:{ui_port}"
        except Exception:
            print(log_path.read_text()[-4000:])
            raise


def _classes_compiled(ui: str) -> int:
    """How many generated classes the server's Spark has compiled so far (its code generator's metrics)."""
    with urllib.request.urlopen(f"{ui}/metrics/json/", timeout=30) as response:
        histograms = json.load(response)["histograms"]
    (count,) = [h["count"] for name, h in histograms.items() if name.endswith("CodeGenerator.compilationTime")]
    return count


def _ingest_on_server(url: str, data: Path, home: Path, *args: str) -> None:
    env = {
        **os.environ, ENV_SPARK_REMOTE: url, "LOAN_PIPELINE_DATA_DIR": str(data), "LOAN_PIPELINE_HOME": str(home),
        "DAGSTER_HOME": str(home / "dagster_home"), "LOAN_PIPELINE_START": MONTHS[0], "LOAN_PIPELINE_END": MONTHS[-1],
        # No Java here: a run that tried to start a Spark JVM of its own would fail.
        "JAVA_HOME": str(home / "no-java"),
    }
    (home / "dagster_home").mkdir(parents=True, exist_ok=True)
    done = subprocess.run([sys.executable, "-m", "loan_pipeline.cycle", "--ingest-only", *args], env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


def _tables(home: Path) -> dict[str, list[str]]:
    """Every lake table's rows as sorted text (ingestion time aside: it is when the row was read)."""
    tables = {}
    for table in sorted(p for p in (home / "datamart").glob("*/*") if p.is_dir()):
        frame = lake.read_months_pandas(table, MONTHS).drop(columns=["_ingested_at"], errors="ignore")
        tables[f"{table.parent.name}/{table.name}"] = sorted(map(repr, frame.itertuples(index=False)))
    return tables


def test_a_run_on_the_server_builds_the_same_lake_as_a_run_with_its_own_spark(server, tmp_path, spark_resource):
    server_url, ui = server
    data = tmp_path / "data"
    generate_loan_book(data, customers=300, loan_start_months=2)
    _ingest_on_server(server_url, data, tmp_path / "remote")
    first_run_compiled = _classes_compiled(ui)
    with dg.DagsterInstance.ephemeral() as instance:
        result = run_ingest(ingest_definitions(tmp_path / "local", data, spark_resource), MONTHS[0], MONTHS[-1], instance)
    assert result.success, failure_message(result)

    remote, local = _tables(tmp_path / "remote"), _tables(tmp_path / "local")
    assert set(remote) == set(local) and {"bronze/bronze_lms", "silver/silver_lms", "gold/gold_features", "gold/gold_labels"} <= set(remote)
    for name in local:
        assert remote[name] == local[name], name
    assert len(remote["gold/gold_features"]) > 0 and len(remote["bronze/bronze_clickstream"]) > 0

    # The server keeps serving: the next run (one month again, on the built lake) changes nothing.
    _ingest_on_server(server_url, data, tmp_path / "remote", "--month", MONTHS[-1])
    assert _tables(tmp_path / "remote") == remote

    # Runs share the code Spark generated: the same run again compiles (almost) no class of its own.
    # Not exactly none: where adaptive execution plans two broadcasts at once, their stages can be numbered
    # in either order, and the number is in the generated class (measured: 4 classes in 2 of 60 repeats).
    # Without the shared class loader a repeat compiled 70 of the first run's 91.
    compiled = _classes_compiled(ui)
    _ingest_on_server(server_url, data, tmp_path / "remote", "--month", MONTHS[-1])
    assert first_run_compiled > 50 and _classes_compiled(ui) - compiled <= first_run_compiled // 10
    assert _tables(tmp_path / "remote") == remote


def test_the_server_command_warms_the_server_up_once_it_listens(tmp_path):
    """`python -m loan_pipeline.spark_server` ingests a generated sample through itself once it listens,
    so the project's query classes are compiled before a real run arrives; the sample leaves nothing behind
    and the server's own data settings (for the real extracts) do not reach it."""
    ui_port, port = free_port(), free_port()
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {
        **os.environ, "TMPDIR": str(scratch),
        "LOAN_PIPELINE_SPARK_CONF": json.dumps({"spark.ui.enabled": "true", "spark.ui.port": str(ui_port)}),
        "LOAN_PIPELINE_DATA_DIR": str(tmp_path / "no-data"), "LOAN_PIPELINE_HOME": str(tmp_path / "home"),
        "LOAN_PIPELINE_START": "2030-01-01", "LOAN_PIPELINE_END": "2030-02-01", "DAGSTER_HOME": str(tmp_path / "no-dagster-home"),
    }
    log = tmp_path / "server.log"
    with open(log, "w") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "loan_pipeline.spark_server", "--port", str(port), "--warm-up-customers", "300"],
            env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    ui = f"http://{HOST}:{ui_port}"
    try:
        deadline = time.monotonic() + 300
        while not any(line in log.read_text() for line in ("warmed up", "warm-up failed")):
            assert server.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(1)
        assert "warmed up by an ingest of a generated sample (300 customers)" in log.read_text(), log.read_text()[-3000:]
        warm = _classes_compiled(ui)
        assert warm > 50
        assert list(scratch.iterdir()) == [] and not (tmp_path / "home").exists() and not (tmp_path / "no-dagster-home").exists()

        # A real run then finds most of its classes compiled (measured: 18 new; on a cold server, ~95). Not
        # all: its data and months differ from the sample's, and some values are compiled into the code.
        data = tmp_path / "data"
        generate_loan_book(data, customers=300, loan_start_months=2)
        _ingest_on_server(spark_server.remote_url(HOST, port), data, tmp_path / "run")
        assert len(_tables(tmp_path / "run")["gold/gold_features"]) > 0
        assert _classes_compiled(ui) - warm <= warm // 3, (warm, _classes_compiled(ui))
    finally:
        spark_server.stop(server)
