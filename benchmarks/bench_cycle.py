"""Benchmark: the whole cycle (`python -m loan_pipeline.cycle`) on the real CS611 data.

    .venv/bin/python -m benchmarks.bench_cycle [--runs 3] [--spark-server]

Each run starts from a fresh LOAN_PIPELINE_HOME and DAGSTER_HOME: Spark ingest of all months as one run,
the model lifecycle, governance retrains and the dashboard. Prints medians of wall time and peak RSS of
the whole process tree (Python + Spark JVM, sampled from /proc by benchmarks.measure), then one new month:
the cycle up to the previous month (LOAN_PIPELINE_END one month earlier), then `--month <new>` timed.
With --spark-server the runs are clients of one standing Spark Connect server (benchmarks/spark_mode.py).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from benchmarks import spark_mode
from benchmarks.measure import median, run_measured
from loan_pipeline.partitions import months_back
from loan_pipeline.settings import DEFAULT_END, reference_data_dir

REAL_DATA = reference_data_dir() / "cs611_loans"


def _env(home: Path, end: str = DEFAULT_END) -> dict[str, str]:
    (home / "dagster_home").mkdir(parents=True, exist_ok=True)
    return {**os.environ, "LOAN_PIPELINE_DATA_DIR": str(REAL_DATA), "LOAN_PIPELINE_HOME": str(home),
            "DAGSTER_HOME": str(home / "dagster_home"), "LOAN_PIPELINE_END": end, "SPARK_LOCAL_IP": "127.0.0.1"}


def cycle(env: dict[str, str], *args: str, also: tuple[int, ...] = ()) -> tuple[float, float, dict]:
    out = Path(env["LOAN_PIPELINE_HOME"]) / "summary.json"
    wall, rss, _ = run_measured([sys.executable, "-m", "loan_pipeline.cycle", "--json", str(out), *args], env, also)
    return wall, rss, json.loads(out.read_text())


def report(name: str, results: list[tuple[float, float, dict]]) -> None:
    walls, rss = [r[0] for r in results], [r[1] for r in results]
    print(f"{name:40s} median {median(walls):6.1f} s  (runs {', '.join(f'{w:.1f}' for w in walls)})   "
          f"peak RSS median {median(rss):.2f} GiB (max {max(rss):.2f})", flush=True)
    inner = [r[2]["timings"] for r in results]
    print(f"{'':40s} inside the cycle (median s): " + ", ".join(
        f"{k} {median([t[k] for t in inner]):.1f}" for k in inner[0]), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    spark_mode.add_option(parser)
    args = parser.parse_args()
    with spark_mode.spark_for_runs(args.spark_server) as (spark_env, also):
        measure(args, spark_env, also)


def measure(args: argparse.Namespace, spark_env: dict[str, str], also: tuple[int, ...]) -> None:
    warm_up = 1 if args.spark_server else 0
    full, new_month = [], []
    for _ in range(warm_up + args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            full.append(cycle({**_env(Path(tmp)), **spark_env}, also=also))
        with tempfile.TemporaryDirectory() as tmp:
            cycle({**_env(Path(tmp), months_back(DEFAULT_END, 1)), **spark_env}, also=also)  # the lake and models up to last month
            new_month.append(cycle({**_env(Path(tmp)), **spark_env}, "--month", DEFAULT_END, also=also))
    if warm_up:
        report("first round on the fresh server: whole cycle", full[:1])
        report("first round on the fresh server: one month", new_month[:1])
    full, new_month = full[warm_up:], new_month[warm_up:]
    report("whole cycle, real data (35 months)", full)
    report(f"one new month ({DEFAULT_END[:7]})", new_month)
    s = full[-1][2]
    print(f"champion {s['champion']}; latest model {s['latest_model']}; retrains {[r['month'][:7] for r in s['retrains']]}")
    for name, auc in s["latest_model_auc"].items():
        print(f"  {name:24s} " + "  ".join(f"{k} {v:.4f}" for k, v in auc.items()))


if __name__ == "__main__":
    main()
