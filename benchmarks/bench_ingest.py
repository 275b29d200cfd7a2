"""Benchmark: bronze -> gold as one single-run backfill, on the real CS611 data and on 10x generated data,
run as users build the lake: `python -m loan_pipeline.cycle --ingest-only` (ingest_job on the local instance).

    .venv/bin/python -m benchmarks.bench_ingest [--runs 3] [--skip-10x | --runs-10x N] [--spark-server]

Prints, as medians over the runs: the full backfill (wall s, peak RSS of Python + Spark JVM), one new
month on top of an existing lake, and the full backfill on generated data 10x the size. With
--spark-server the runs are clients of one standing Spark Connect server (benchmarks/spark_mode.py).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from benchmarks import spark_mode
from benchmarks.measure import median, run_measured
from loan_pipeline.settings import reference_data_dir

REAL_DATA = reference_data_dir() / "cs611_loans"


FIRST, LAST = "2023-01-01", "2025-11-01"  # every month of the CS611 data


def _env(data_dir: Path, home: Path) -> dict[str, str]:
    (home / "dagster_home").mkdir(parents=True, exist_ok=True)
    return {**os.environ, "LOAN_PIPELINE_DATA_DIR": str(data_dir), "LOAN_PIPELINE_HOME": str(home),
            "DAGSTER_HOME": str(home / "dagster_home"), "SPARK_LOCAL_IP": "127.0.0.1",
            "LOAN_PIPELINE_START": FIRST, "LOAN_PIPELINE_END": LAST}


def ingest(env: dict[str, str], month: str | None = None, also: tuple[int, ...] = ()) -> tuple[float, float]:
    """The user's command for building the lake, `python -m loan_pipeline.cycle --ingest-only`: every
    month as one run (one Spark session) or only `month`, on the persistent local instance."""
    wall, rss, _ = run_measured(
        [sys.executable, "-m", "loan_pipeline.cycle", "--ingest-only", *(["--month", month] if month else [])], env, also
    )
    return wall, rss


def report(name: str, results: list[tuple[float, float]]) -> tuple[float, float]:
    walls, rss = [r[0] for r in results], [r[1] for r in results]
    print(f"{name:44s} median {median(walls):6.1f} s  (runs {', '.join(f'{w:.1f}' for w in walls)})   "
          f"peak RSS median {median(rss):.2f} GiB (max {max(rss):.2f})", flush=True)
    return median(walls), median(rss)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--skip-10x", action="store_true")
    parser.add_argument("--runs-10x", type=int, default=None, help="runs on the 10x data (default: --runs)")
    spark_mode.add_option(parser)
    args = parser.parse_args()
    with spark_mode.spark_for_runs(args.spark_server) as (spark_env, also):
        measure(args, spark_env, also)


def measure(args: argparse.Namespace, spark_env: dict[str, str], also: tuple[int, ...]) -> None:
    warm_up = 1 if args.spark_server else 0
    full, new_month = [], []
    for _ in range(warm_up + args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            env = {**_env(REAL_DATA, Path(tmp)), **spark_env}
            full.append(ingest(env, also=also))
            new_month.append(ingest(env, LAST, also))  # the latest month again, on a lake that has the rest
    if warm_up:
        report("first round on the fresh server: all months", full[:1])
        report("first round on the fresh server: one month", new_month[:1])
    one_x, _ = report("real data, all 35 months, one run", full[warm_up:])
    report("real data, one new month", new_month[warm_up:])
    if args.skip_10x:
        return
    from loan_pipeline.sources.generator import generate_loan_book

    with tempfile.TemporaryDirectory() as data:
        generate_loan_book(Path(data), customers=125_000)
        ten = []
        for _ in range(args.runs_10x or args.runs):
            with tempfile.TemporaryDirectory() as tmp:
                ten.append(ingest({**_env(Path(data), Path(tmp)), **spark_env}, also=also))
        ten_x, _ = report("generated 10x data, all 35 months, one run", ten)
        print(f"10x / 1x wall ratio: {ten_x / one_x:.2f}")


if __name__ == "__main__":
    main()
