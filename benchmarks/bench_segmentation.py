"""Benchmark: the whole credit-card segmentation on the real CC GENERAL data.

One run = load + validate file.csv, features + MinMax scaling, SSE sweep k = 1..K (K = 49), kneed
elbow, final k-means at the elbow, segments + profiles of every customer and of test.csv, the
elbow plot and the saved model (joblib + manifest) in a temporary folder. Target: median <= 5 s
on a 2-core machine.

    .venv/bin/python benchmarks/bench_segmentation.py [--data DIR] [--repeats 3] [--max-k 49] [--dagster]

`--dagster` also times the five CC assets through dg.materialize (adds Dagster's own overhead).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

from loan_pipeline.settings import reference_data_dir  # noqa: E402
from loan_pipeline.transforms.segmentation.kmeans import DEFAULT_MAX_K  # noqa: E402
from loan_pipeline.transforms.segmentation.persistence import save_model  # noqa: E402
from loan_pipeline.transforms.segmentation.pipeline import run_cc_segmentation  # noqa: E402
from loan_pipeline.transforms.segmentation.report import elbow_plot_png  # noqa: E402

DEFAULT_DATA = reference_data_dir() / "cc_general"


def one_run(data: Path, max_k: int, out: Path) -> tuple[float, int]:
    start = time.perf_counter()
    result = run_cc_segmentation(data, max_k=max_k)
    elbow_plot_png(result.elbow, f"elbow at k = {result.elbow.k}", out / "cc_elbow.png")
    save_model(result.model, result.elbow, out / "cc_kmeans.joblib")
    return time.perf_counter() - start, result.elbow.k


def dagster_run(data: Path, home: Path) -> float:
    import dagster as dg

    from loan_pipeline.assets.segmentation.credit_card import cc_customers, cc_elbow, cc_features, cc_kmeans_model, cc_segments
    from loan_pipeline.resources import LoanPipelineSettings

    start = time.perf_counter()
    result = dg.materialize(
        [cc_customers, cc_features, cc_elbow, cc_kmeans_model, cc_segments],
        resources={"pipeline_settings": LoanPipelineSettings(home=str(home), cc_data_dir=str(data))},
        instance=dg.DagsterInstance.ephemeral(),
    )
    assert result.success
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder with file.csv and test.csv")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--max-k", type=int, default=DEFAULT_MAX_K)
    parser.add_argument("--dagster", action="store_true", help="also time the assets through dg.materialize")
    args = parser.parse_args(argv)
    if args.repeats < 3:
        parser.error("--repeats must be at least 3 for a meaningful median")

    times, ks = [], set()
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.repeats):
            seconds, k = one_run(args.data, args.max_k, Path(tmp))
            times.append(seconds)
            ks.add(k)
            print(f"run {i + 1}: {seconds:.2f} s (elbow k = {k})")
        print(f"CC segmentation, K = {args.max_k}, {args.repeats} runs: median {statistics.median(times):.2f} s "
              f"(min {min(times):.2f}, max {max(times):.2f}); elbow k = {sorted(ks)}")
        if len(ks) != 1:
            raise SystemExit(f"non-deterministic elbow: {sorted(ks)}")
        if args.dagster:
            dagster_times = [dagster_run(args.data, Path(tmp) / f"home{i}") for i in range(args.repeats)]
            print(f"dg.materialize of the 5 CC assets: median {statistics.median(dagster_times):.2f} s "
                  f"(min {min(dagster_times):.2f}, max {max(dagster_times):.2f})")


if __name__ == "__main__":
    main()
