"""A standing Spark Connect server that the pipeline's runs share: `python -m loan_pipeline.spark_server`.

By default every run starts a Spark driver JVM of its own, and pays for it on every run: the JVM's
start, loading Spark's classes, and compiling Spark's code again before it runs fast. With
LOAN_PIPELINE_SPARK_REMOTE=sc://HOST:PORT set, runs are clients of this server instead: one
long-lived driver (local[*] or the configured master) with the project's Spark settings
(spark_jvm.jvm_config), already started and compiled when a run begins. The project's code is the
same in both modes; only the session's configuration differs (spark_jvm.spark_config). Once it listens,
the command warms the server up with an ingest of a generated sample (spark_warmup.py), so the first
real run does not pay for the cold JVM either.

The server reads the raw files and writes the lake, while the run's Python side hashes the raw files,
publishes the written months (renames) and reads Parquet footers: both must see the same files at the
same paths (on one machine they do; docker-compose.yaml mounts the same volumes at the same paths).
Spark Connect has no authentication of its own: the server binds the loopback interface unless told
otherwise, and in the compose deployment it is reachable only on the deployment's network.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import subprocess
import time
from pathlib import Path
from typing import Callable

from loan_pipeline.settings import DEFAULT_SPARK_CONF, SHORT_LIVED_JIT, Settings, load_settings
from loan_pipeline.spark_jvm import DRIVER_JAVA_OPTIONS, DRIVER_MEMORY, jvm_config, project_jar, use_loopback

# The project's server (jvm/ConnectServer.java: a plain Spark application with Spark's Connect plugin),
# where runs share the code Spark generates; Spark's own server where that class is not built (no javac).
SERVER_CLASS = "loan_pipeline.ConnectServer"
CONNECT_PLUGIN = "org.apache.spark.sql.connect.SparkConnectPlugin"
SPARKS_SERVER_CLASS = "org.apache.spark.sql.connect.service.SparkConnectServer"
PLUGINS = "spark.plugins"
# Sessions on the application's class loader (the project's server only: Spark's own sets this back).
# Spark keys its cache of generated classes by class loader; with a loader per session, every run
# generated and compiled its classes again. Artifacts a client adds (jars, files; the pipeline adds
# none) are then visible to the other sessions.
SHARED_CLASS_LOADER = {"spark.sql.artifact.isolation.enabled": "false"}
# Spark keeps the classes it generated for queries in a cache of 100 by default; one full ingest
# generates ~95 distinct ones and a one-month run others, so later runs would find theirs evicted.
# Measured (4 ingests of the CS611 data on one server): with a shared class loader and this cache,
# runs after the first compiled 0-10 of their ~126 classes; with either alone, all of them again.
CODEGEN_CACHE = {"spark.sql.codegen.cache.maxEntries": "1000"}
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 15002


# The server keeps its heap while a run's Python does the model work beside it (a run's own JVM is
# stopped before that), so it gets less than a run's own JVM. Enough for extracts of the CS611 size;
# raise it for large ones (LOAN_PIPELINE_SPARK_CONF={"spark.driver.memory": "4g"}). Measured over whole
# cycles on one server, back to back: 1 GiB peaked at 1.96 GiB (max 2.01) with the run, 768 MiB at
# 1.81 GiB (max 1.88), no slower.
SERVER_DRIVER_MEMORY = "768m"
# ...and keeps less of that heap free between runs: the throughput collector sizes the heap to leave
# 40-70 % of it free by default, and the server's live data after a run is ~130 MB. Measured after three
# full ingests on one server: RSS 1.12-1.19 GiB with the defaults, 0.97 GiB with these.
SERVER_HEAP_FREE_RATIOS = ("-XX:MinHeapFreeRatio=10", "-XX:MaxHeapFreeRatio=30")


def server_config(settings: Settings, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> dict[str, str]:
    """The server's Spark settings: a run's own session's settings, plus where to listen, a smaller
    default heap kept smaller still between runs (SERVER_DRIVER_MEMORY, SERVER_HEAP_FREE_RATIOS), a
    larger cache of generated code (CODEGEN_CACHE), and the JVM's full tiered compilation instead of
    the short-lived runs' C1 alone (settings.SHORT_LIVED_JIT).
    Measured on the CS611 ingest, runs after the first on one server: all months 35.9 -> 25.3 s, one
    month 12.5 -> 9.1 s (medians of 3, same hour)."""
    config = jvm_config(settings)
    options = config.get(DRIVER_JAVA_OPTIONS, "").split()
    config[DRIVER_JAVA_OPTIONS] = " ".join([*(o for o in options if o != SHORT_LIVED_JIT), *SERVER_HEAP_FREE_RATIOS])
    if config.get(DRIVER_MEMORY) == DEFAULT_SPARK_CONF[DRIVER_MEMORY]:  # not set in LOAN_PIPELINE_SPARK_CONF
        config[DRIVER_MEMORY] = SERVER_DRIVER_MEMORY
    return {
        # At INFO a server logs every query's plan, thousands of lines per ingest (LOAN_PIPELINE_SPARK_CONF
        # can set another level).
        "spark.log.level": "WARN",
        **CODEGEN_CACHE,
        **config,
        "spark.app.name": "loan_pipeline_spark_connect",
        "spark.connect.grpc.binding.address": host,
        "spark.connect.grpc.binding.port": str(port),
    }


def server_command(settings: Settings, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> list[str]:
    """spark-submit of pyspark's own installation running the project's Connect server (SERVER_CLASS,
    from the project's jar), or Spark's own where that jar has not been built."""
    import pyspark

    config = server_config(settings, host, port)
    jar = project_jar(settings)
    if jar.is_file():
        config[PLUGINS] = ",".join(p for p in (config.get(PLUGINS, ""), CONNECT_PLUGIN) if p)
        config.update(SHARED_CLASS_LOADER)
        main, resource = SERVER_CLASS, [str(jar)]
    else:
        main, resource = SPARKS_SERVER_CLASS, []
    command = [str(Path(pyspark.__file__).parent / "bin" / "spark-submit"), "--class", main]
    for key, value in config.items():
        command += ["--conf", f"{key}={value}"]
    return command + resource


def remote_url(host: str, port: int) -> str:
    return f"sc://{host}:{port}"


def start(settings: Settings | None = None, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, log=None) -> subprocess.Popen:
    """Start the server as a child process (tests, benchmarks); `log` is a file its output goes to."""
    use_loopback()
    if _listening(host, port):  # or waiting for readiness would find that other server
        raise RuntimeError(f"{host}:{port} is already in use; choose another --port")
    return subprocess.Popen(
        server_command(settings or load_settings(), host, port),
        stdout=log or subprocess.DEVNULL, stderr=subprocess.STDOUT, env=dict(os.environ),
    )


def _listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def wait_until_ready(host: str, port: int, exit_status: Callable[[], object] | None = None, timeout: float = 180) -> float:
    """Wait until the server accepts connections (it binds its port once its Spark driver is up);
    returns the seconds waited. Raises if the server ends first (`exit_status` returns something other
    than None: Popen.poll for a child) or the timeout passes."""
    start_time = time.perf_counter()
    while time.perf_counter() - start_time < timeout:
        status = exit_status() if exit_status else None
        if status is not None:
            raise RuntimeError(f"the Spark Connect server ended ({status}) before it was ready")
        if _listening(host, port):
            return time.perf_counter() - start_time
        time.sleep(0.2)
    raise TimeoutError(f"no Spark Connect server on {host}:{port} after {timeout:.0f} s")


@contextlib.contextmanager
def serving(settings: Settings | None = None, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, log=None):
    """A server for the duration of a block (tests, benchmarks): yields (process, URL, seconds to ready)."""
    process = start(settings, host, port, log)
    try:
        ready_s = wait_until_ready(host, port, process.poll)
        yield process, remote_url(host, port), ready_s
    finally:
        stop(process)


def stop(process: subprocess.Popen, grace_s: float = 60) -> None:
    """Stop a server process: SIGTERM (Spark's shutdown hooks run), SIGKILL if it has not ended after
    `grace_s` (seen once under the full test suite's load: a shutdown that did not end)."""
    process.terminate()
    try:
        process.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _gone(pid: int) -> str | None:
    """None while process `pid` exists (not a child here: Popen.poll does not apply)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return f"process {pid} is gone"
    return None


def warm_up_in_background(host: str, port: int, customers: int) -> None:
    """Start a detached process that waits until this process (about to become the server's JVM)
    listens, then warms the server up (spark_warmup.py) and reports in the server's output. Detached
    (double fork), so it never becomes a child the JVM would have to reap."""
    server_pid = os.getpid()
    if os.fork() > 0:
        os.wait()  # the intermediate child exits at once
        return
    os.setsid()
    if os.fork() > 0:
        os._exit(0)
    status = 1
    try:
        from loan_pipeline.spark_warmup import warm_up

        connect = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
        wait_until_ready(connect, port, lambda: _gone(server_pid), timeout=300)
        seconds = warm_up(remote_url(connect, port), customers)
        print(f"spark_server: warmed up by an ingest of a generated sample ({customers} customers) in {seconds:.1f} s", flush=True)
        status = 0
    except BaseException as exc:  # the server serves without the warm-up; say why there was none
        print(f"spark_server: warm-up failed, the server runs cold: {exc}", flush=True)
    finally:
        os._exit(status)


def main() -> None:
    from loan_pipeline.spark_warmup import WARM_UP_CUSTOMERS

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default=DEFAULT_HOST, help="address to listen on (default: loopback only)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument(
        "--warm-up-customers", type=int, default=WARM_UP_CUSTOMERS,
        help=f"once listening, ingest a generated sample of this many customers through the server, so real "
             f"runs find it warm (loan_pipeline/spark_warmup.py; default {WARM_UP_CUSTOMERS}, 0: none)",
    )
    args = parser.parse_args()
    use_loopback()
    command = server_command(load_settings(), args.host, args.port)
    print(f"spark_server: Spark Connect on {remote_url(args.host, args.port)}; "
          f"runs use it with LOAN_PIPELINE_SPARK_REMOTE={remote_url(args.host, args.port)}", flush=True)
    if args.warm_up_customers > 0:
        warm_up_in_background(args.host, args.port, args.warm_up_customers)
    # Replace this process: the JVM gets the signals (docker stop, Ctrl-C) directly.
    os.execv(command[0], command)


if __name__ == "__main__":
    main()
