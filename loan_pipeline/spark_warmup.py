"""Warming a fresh Spark Connect server up before real runs reach it: one ingest of a generated sample.

A fresh server ran its first full ingest of the CS611 data in 38.8 s and the next ones in 20.1 and
19.7 s: at first the JVM interprets Spark's code until it has compiled the hot parts, and Spark
generates and compiles the classes of the project's queries (spark_server.py keeps those for later
runs). An ingest of a sample from the project's own generator does both, through the same code a real
run uses: `python -m loan_pipeline.cycle --ingest-only` as a client of the server, on scratch folders
that are deleted afterwards. Measured (one fresh server each, then three ingests of the CS611 data):

    warm-up sample      warm-up    first ingest after it    the two after that
    none                  -             38.8 s                  20.1, 19.7 s
    500 customers       23.5 s          27.6 s                  20.3, 17.8 s
    1,000 customers     24.7 s          25.5 s                  18.4, 19.2 s
    2,000 customers     25.5 s          22.4 s                  18.7, 16.5 s
    4,000 customers     28.4 s          21.6 s                  18.6, 18.2 s

`python -m loan_pipeline.spark_server` warms itself up this way once it listens (--warm-up-customers).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from loan_pipeline.settings import ENV_DATA_DIR, ENV_HOME, ENV_JVM_DIR, ENV_SPARK_REMOTE

WARM_UP_CUSTOMERS = 3000
ENV_PREFIX = "LOAN_PIPELINE_"


def client_environment(url: str, scratch: Path) -> dict[str, str]:
    """The warm-up run's environment: a client of `url` on the sample's scratch folders. The server's
    own pipeline settings (data, home, month range, date format: for the real extracts) are left out,
    so the run takes the defaults that fit the generated sample; DAGSTER_HOME is a scratch instance,
    so the warm-up leaves no run in the deployment's history."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIX) or k == ENV_JVM_DIR}
    env.update({
        ENV_SPARK_REMOTE: url,
        ENV_DATA_DIR: str(scratch / "data"),
        ENV_HOME: str(scratch / "home"),
        "DAGSTER_HOME": str(scratch / "dagster_home"),
    })
    return env


def warm_up(url: str, customers: int = WARM_UP_CUSTOMERS, loan_start_months: int = 25, timeout: float = 900) -> float:
    """Run one full ingest of a generated sample of `customers` on the server at `url`; returns its
    seconds. Raises RuntimeError with the run's output if it fails."""
    # Here, not at the top: the server's command reads WARM_UP_CUSTOMERS just before it becomes the JVM.
    from loan_pipeline.sources.generator import generate_loan_book

    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="loan-pipeline-warm-up-") as folder:
        scratch = Path(folder)
        generate_loan_book(scratch / "data", customers=customers, loan_start_months=loan_start_months)
        (scratch / "dagster_home").mkdir()
        done = subprocess.run(
            [sys.executable, "-m", "loan_pipeline.cycle", "--ingest-only"],
            env=client_environment(url, scratch), capture_output=True, text=True, timeout=timeout,
        )
        if done.returncode != 0:
            raise RuntimeError(f"warm-up ingest failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    return time.perf_counter() - start
