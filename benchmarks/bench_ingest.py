"""Benchmark: bronze -> gold as one single-run backfill, on the real CS611 data and on 10x generated data.

    .venv/bin/python -m benchmarks.bench_ingest [--runs 3] [--skip-10x | --runs-10x N]

Prints, as medians over the runs: the full backfill (wall s, peak RSS of Python + Spark JVM), one new
month on top of an existing lake, and the full backfill on generated data 10x the size.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from benchmarks.measure import median, run_measured
from loan_pipeline.settings import PROJECT_ROOT

REAL_DATA = Path(os.environ.get("LOAN_PIPELINE_REFERENCE_DATA", PROJECT_ROOT.parent / "shared" / "data")) / "cs611_loans"
INGEST = (
    "import os, sys, dagster as dg\n"
    "from loan_pipeline.local_instance import ensure_local_instance\n"
    "ensure_local_instance(os.environ['DAGSTER_HOME'])\n"
    "from loan_pipeline.definitions import defs\n"
    "from loan_pipeline.partitions import range_tags\n"
    "with dg.DagsterInstance.get() as instance:\n"
    "    r = defs.resolve_job_def('ingest_job').execute_in_process(instance=instance, tags=range_tags(sys.argv[1], sys.argv[2]))\n"
    "    assert r.success\n"
)


def _env(data_dir: Path, home: Path) -> dict[str, str]:
    (home / "dagster_home").mkdir(parents=True, exist_ok=True)
    return {**os.environ, "LOAN_PIPELINE_DATA_DIR": str(data_dir), "LOAN_PIPELINE_HOME": str(home),
            "DAGSTER_HOME": str(home / "dagster_home"), "SPARK_LOCAL_IP": "127.0.0.1"}


def ingest(env: dict[str, str], first: str, last: str) -> tuple[float, float]:
    wall, rss, _ = run_measured([sys.executable, "-c", INGEST, first, last], env)
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
    args = parser.parse_args()
    first, last = "2023-01-01", "2025-11-01"
    full, new_month = [], []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            env = _env(REAL_DATA, Path(tmp))
            full.append(ingest(env, first, last))
            new_month.append(ingest(env, last, last))  # the latest month again, on a lake that has the rest
    one_x, _ = report("real data, all 35 months, one run", full)
    report("real data, one new month", new_month)
    if args.skip_10x:
        return
    from loan_pipeline.sources.generator import generate_loan_book

    with tempfile.TemporaryDirectory() as data:
        generate_loan_book(Path(data), customers=125_000)
        ten = []
        for _ in range(args.runs_10x or args.runs):
            with tempfile.TemporaryDirectory() as tmp:
                ten.append(ingest(_env(Path(data), Path(tmp)), first, last))
        ten_x, _ = report("generated 10x data, all 35 months, one run", ten)
        print(f"10x / 1x wall ratio: {ten_x / one_x:.2f}")


if __name__ == "__main__":
    main()
