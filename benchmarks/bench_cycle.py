"""Benchmark: the whole cycle (`python -m loan_pipeline.cycle`, what `./dev run` runs) on the real CS611 data.

    .venv/bin/python -m benchmarks.bench_cycle [--runs 3] [--spark-server] [--against CHECKOUT]

Each run starts from a fresh LOAN_PIPELINE_HOME and DAGSTER_HOME: the ingest of all months as one run,
the model lifecycle, governance retrains and the dashboard. Prints medians of wall time and of the peak
RSS of the whole process tree (Python + Spark JVM, sampled from /proc by benchmarks.measure), and the
cycle's own ingest / lifecycle / governance seconds; then one new month: the cycle up to the previous
month (LOAN_PIPELINE_END one month earlier), then `--month <new>` timed.

--against CHECKOUT alternates every whole-cycle run with the same command in another checkout of the
project (with its own .venv, set up by its ./dev), in the same hour, and prints both and their ratio.
With --spark-server the runs are clients of one standing Spark Connect server (benchmarks/spark_mode.py).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path

from benchmarks import spark_mode
from benchmarks.measure import median, run_measured
from loan_pipeline.partitions import months_back
from loan_pipeline.settings import DEFAULT_END, PROJECT_ROOT, reference_data_dir

REAL_DATA = reference_data_dir() / "cs611_loans"


def _env(home: Path, end: str = DEFAULT_END) -> dict[str, str]:
    (home / "dagster_home").mkdir(parents=True, exist_ok=True)
    (home / "dagster_home" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    return {**os.environ, "LOAN_PIPELINE_DATA_DIR": str(REAL_DATA), "LOAN_PIPELINE_HOME": str(home),
            "DAGSTER_HOME": str(home / "dagster_home"), "LOAN_PIPELINE_END": end}


def cycle(env: dict[str, str], *args: str, also: tuple[int, ...] = (), checkout: Path = PROJECT_ROOT) -> tuple[float, float, dict]:
    out = Path(env["LOAN_PIPELINE_HOME"]) / "summary.json"
    python = checkout / ".venv" / "bin" / "python"
    wall, rss, _ = run_measured([str(python), "-m", "loan_pipeline.cycle", "--json", str(out), *args], env, also, cwd=checkout)
    return wall, rss, json.loads(out.read_text())


def report(name: str, results: list[tuple[float, float, dict]]) -> float:
    walls, rss = [r[0] for r in results], [r[1] for r in results]
    print(f"{name:40s} median {median(walls):6.1f} s  (runs {', '.join(f'{w:.1f}' for w in walls)})   "
          f"peak RSS median {median(rss):.2f} GiB (max {max(rss):.2f})", flush=True)
    inner = [r[2]["timings"] for r in results]
    parts = [k for k in ("ingest_s", "lifecycle_s", "governance_s") if all(k in t for t in inner)]
    print(f"{'':40s} inside the cycle (median s): " + ", ".join(f"{k.removesuffix('_s')} {median([t[k] for t in inner]):.1f}" for k in parts), flush=True)
    return median(walls)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--against", type=Path, help="another checkout of the project, run alternately with this one")
    spark_mode.add_option(parser)
    args = parser.parse_args()
    with spark_mode.spark_for_runs(args.spark_server) as (spark_env, also):
        measure(args, spark_env, also)


def measure(args: argparse.Namespace, spark_env: dict[str, str], also: tuple[int, ...]) -> None:
    first_round = 1 if args.spark_server else 0
    full, other, new_month = [], [], []
    for _ in range(first_round + args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            full.append(cycle({**_env(Path(tmp)), **spark_env}, also=also))
        if args.against:
            with tempfile.TemporaryDirectory() as tmp:
                other.append(cycle({**_env(Path(tmp)), **spark_env}, also=also, checkout=args.against.resolve()))
        with tempfile.TemporaryDirectory() as tmp:
            cycle({**_env(Path(tmp), months_back(DEFAULT_END, 1)), **spark_env}, also=also)  # the lake and models up to last month
            new_month.append(cycle({**_env(Path(tmp)), **spark_env}, "--month", DEFAULT_END, also=also))
    if first_round:
        report("first round on the fresh server: whole cycle", full[:1])
        report("first round on the fresh server: one month", new_month[:1])
    full, other, new_month = full[first_round:], other[first_round:], new_month[first_round:]
    this = report("whole cycle, real data (35 months)", full)
    if args.against:
        that = report(f"the same, {args.against}", other)
        print(f"{'':40s} ratio this / that: {this / that:.2f} (pairs: {', '.join(f'{a[0] / b[0]:.2f}' for a, b in zip(full, other))})")
    report(f"one new month ({DEFAULT_END[:7]})", new_month)
    s = full[-1][2]
    print(f"champion {s['champion']}; latest model {s['latest_model']}; retrains {[r['month'][:7] for r in s['retrains']]}")
    for name, auc in s["latest_model_auc"].items():
        print(f"  {name:24s} " + "  ".join(f"{k} {v:.4f}" for k, v in auc.items()))


if __name__ == "__main__":
    main()
