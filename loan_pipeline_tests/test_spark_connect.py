"""Runs as clients of Spark's own Connect server (spark_connect.py) build the same lake as runs with a
Spark session of their own, and the server serves run after run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from loan_pipeline import lake, spark_connect
from loan_pipeline.settings import ENV_SPARK_REMOTE, load_settings
from loan_pipeline.sources.generator import generate_loan_book
from loan_pipeline_tests.deploy.harness import free_port
from loan_pipeline_tests.ingest_helpers import failure_message, ingest_definitions, run_ingest

MONTHS = ["2023-01-01", "2023-02-01"]
HOST = "127.0.0.1"


def test_the_server_is_sparks_own_with_the_runs_settings(monkeypatch):
    settings = load_settings({})
    command = spark_connect.server_command(settings, "0.0.0.0", 15010)
    assert command[0].endswith("sbin/start-connect-server.sh") and command[1] == "--wait"
    confs = dict(c.split("=", 1) for c in command[3::2])
    assert command[2::2] == ["--conf"] * len(confs)
    assert confs["spark.connect.grpc.binding.address"] == "0.0.0.0" and confs["spark.connect.grpc.binding.port"] == "15010"
    # The driver's settings are a run's own session's: both modes compute the same lake.
    for key, value in settings.spark_conf.items():
        assert confs[key] == value, key
    monkeypatch.setenv(ENV_SPARK_REMOTE, "127.0.0.1:15002")
    with pytest.raises(ValueError, match="sc://"):
        load_settings()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    log_path = tmp_path_factory.mktemp("spark_connect") / "server.log"
    with open(log_path, "w") as log:
        try:
            with spark_connect.serving(load_settings(), HOST, free_port(), log=log) as (_, url):
                yield url
        except Exception:
            print(log_path.read_text()[-4000:])
            raise


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
    server_url = server
    data = tmp_path / "data"
    generate_loan_book(data, customers=300, loan_start_months=2)
    _ingest_on_server(server_url, data, tmp_path / "remote")
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
