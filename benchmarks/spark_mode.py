"""Where a benchmark's runs do their Spark work: each run's own Spark JVM (the default), or one standing
Spark Connect server (loan_pipeline/spark_server.py) started and warmed up (loan_pipeline/spark_warmup.py)
for the benchmark, whose memory then counts in every run's peak RSS."""

from __future__ import annotations

import argparse
import contextlib

from loan_pipeline import spark_server
from loan_pipeline.settings import ENV_SPARK_REMOTE
from loan_pipeline.spark_warmup import WARM_UP_CUSTOMERS, warm_up


def add_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--spark-server", action="store_true",
        help="runs are clients of one Spark Connect server started and warmed up here (as the deployment's); "
             "the first round on it is reported on its own, the medians are over the rounds after it",
    )


@contextlib.contextmanager
def spark_for_runs(server: bool):
    """Yields (environment to add to each run, pids whose memory counts with each run)."""
    if not server:
        yield {}, ()
        return
    with spark_server.serving() as (process, url, ready_s):
        print(f"Spark Connect server {url} ready {ready_s:.1f} s after its start", flush=True)
        # As `python -m loan_pipeline.spark_server` (the deployment's server) does once it listens.
        warm_s = warm_up(url)
        print(f"warmed up by an ingest of a generated sample ({WARM_UP_CUSTOMERS} customers) in {warm_s:.1f} s", flush=True)
        yield {ENV_SPARK_REMOTE: url}, (process.pid,)
