"""Spark's own Connect server, started with the project's Spark settings: `python -m loan_pipeline.spark_connect`.

With LOAN_PIPELINE_SPARK_REMOTE=sc://HOST:PORT, runs are clients of one standing Spark driver instead of
starting a Spark JVM each (docs/design.md, "Spark"). This module only builds the command line of
pyspark's `sbin/start-connect-server.sh --wait` (the `SparkConnectServer` class, in the foreground) from
the same settings a run's own session gets, so both modes compute the same lake.

The server reads the raw files and writes the lake, while a run's Python side publishes the written
months and reads Parquet footers: both must see the same files at the same paths. Spark Connect has no
login: the server listens on the loopback interface unless told otherwise.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import subprocess
import time
from pathlib import Path

from loan_pipeline.resources import local_spark_env, spark_config
from loan_pipeline.settings import Settings, load_settings

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 15002
# At INFO the server logs every query plan (thousands of lines per ingest).
SERVER_LOG_LEVEL = "WARN"


def remote_url(host: str, port: int) -> str:
    return f"sc://{host}:{port}"


def server_command(settings: Settings, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> list[str]:
    """pyspark's start-connect-server.sh in the foreground, with a run's own Spark settings plus where
    to listen."""
    import pyspark

    config = {
        "spark.log.level": SERVER_LOG_LEVEL,
        **spark_config(settings, local_session=True),
        "spark.app.name": "loan_pipeline_spark_connect",
        "spark.connect.grpc.binding.address": host,
        "spark.connect.grpc.binding.port": str(port),
    }
    command = [str(Path(pyspark.__file__).parent / "sbin" / "start-connect-server.sh"), "--wait"]
    for key, value in config.items():
        command += ["--conf", f"{key}={value}"]
    return command


def server_env(settings: Settings) -> dict[str, str]:
    """Spark's scripts write their logs and pid files under SPARK_HOME unless told otherwise; keep them
    beside the project's other outputs."""
    logs = settings.home / "spark"
    return {
        **local_spark_env(settings),
        **os.environ,
        "SPARK_LOG_DIR": str(logs),
        "SPARK_PID_DIR": str(logs),
    }


def listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


@contextlib.contextmanager
def serving(settings: Settings | None = None, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, log=None, timeout: float = 180):
    """A server for the duration of a block (tests, benchmarks): yields (process, URL)."""
    settings = settings or load_settings()
    if listening(host, port):
        raise RuntimeError(f"{host}:{port} is already in use; choose another port")
    process = subprocess.Popen(
        server_command(settings, host, port), env=server_env(settings),
        stdout=log or subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + timeout
        while not listening(host, port):
            if process.poll() is not None:
                raise RuntimeError(f"the Spark Connect server ended ({process.returncode}) before it listened")
            if time.monotonic() > deadline:
                raise TimeoutError(f"no Spark Connect server on {host}:{port} after {timeout:.0f} s")
            time.sleep(0.2)
        yield process, remote_url(host, port)
    finally:
        # The script's shell and the JVM share the new session's process group: stop both.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, 15)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default=DEFAULT_HOST, help="address to listen on (default: loopback only)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    args = parser.parse_args()
    settings = load_settings()
    command = server_command(settings, args.host, args.port)
    print(f"spark_connect: Spark Connect on {remote_url(args.host, args.port)}; "
          f"runs use it with LOAN_PIPELINE_SPARK_REMOTE={remote_url(args.host, args.port)}", flush=True)
    # Replace this process: the server gets the signals (docker stop, Ctrl-C) directly.
    os.execve(command[0], command, server_env(settings))


if __name__ == "__main__":
    main()
