"""Where a benchmark's runs do their Spark work: each run's own Spark JVM (the default), or one standing
Spark Connect server (Spark's own, loan_pipeline/spark_connect.py) started for the benchmark, whose
memory then counts in every run's peak RSS."""

from __future__ import annotations

import argparse
import contextlib

from loan_pipeline import spark_connect
from loan_pipeline.settings import ENV_SPARK_REMOTE


def add_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--spark-server", action="store_true",
        help="runs are clients of one Spark Connect server started here (as the deployment's); the first "
             "round on it is reported on its own, the medians are over the rounds after it",
    )


@contextlib.contextmanager
def spark_for_runs(server: bool):
    """Yields (environment to add to each run, pids whose memory counts with each run)."""
    if not server:
        yield {}, ()
        return
    with spark_connect.serving() as (process, url):
        print(f"Spark Connect server {url} ready", flush=True)
        yield {ENV_SPARK_REMOTE: url}, (process.pid,)
