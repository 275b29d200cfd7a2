"""How fast can Spark alone do the lake's passes on this machine? A lower bound for the ingest targets.

    .venv/bin/python -m benchmarks.spark_floor [--runs 3] [--month 2024-03-01]

Runs, in a fresh Python process each time (so the JVM starts cold, as a user's run does), the bare
minimum of the ingest's Spark work on the real CS611 data, with the project's own Spark settings
(resources.spark_config):
- bronze: read each of the four CSV files as text, place each row in its snapshot month, write Parquet
  partitioned by month;
- silver: read each bronze table back, cast every column to its silver type (try_cast, no other rule),
  write it partitioned by month;
- gold: join the loans applied in each month to the customer's attributes, financials and mean
  clickstream, write it partitioned by month.
There is none of the pipeline's work beyond that: no lineage or row numbers, no cleaning rules,
flags, quarantine or duplicate keys, no checks, no atomic publishing, no Dagster. The sources run side
by side in threads, as the pipeline's steps run them. `--month` does the same for one month (the whole
file is still read: a new month's rows can be anywhere in it). Prints the wall time of each run (Python
start to exit) and the phases within it, then medians.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from benchmarks.bench_ingest import REAL_DATA
from benchmarks.measure import median


def _work(out: Path, month: str | None) -> dict[str, float]:
    """The bare passes, in this process; returns seconds per phase."""
    phases, start = {}, time.perf_counter()
    from loan_pipeline.settings import load_settings
    from loan_pipeline.sources.schemas import ATTRIBUTES, CLICKSTREAM, FINANCIALS, LMS, SOURCES
    from loan_pipeline.resources import build_spark_resource
    from loan_pipeline.transforms.bronze import with_month
    from loan_pipeline.transforms.spark_lake import parse_date
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    settings = load_settings()
    spark = build_spark_resource(settings).spark_session
    phases["python imports + JVM start"] = time.perf_counter() - start

    def write(df, name):
        if month:
            df = df.filter(F.col("month") == month)
        df.write.mode("overwrite").partitionBy("month").parquet(str(out / name))

    def side_by_side(task):
        with ThreadPoolExecutor(max_workers=len(SOURCES)) as pool:
            list(pool.map(task, SOURCES.values()))

    def bronze(contract):
        schema = T.StructType([T.StructField(c, T.StringType()) for c in contract.columns])
        raw = spark.read.csv(str(REAL_DATA / contract.file_name), header=True, schema=schema)
        write(with_month(raw, contract, settings.date_format), f"bronze_{contract.name}")

    def silver(contract):
        df = spark.read.parquet(str(out / f"bronze_{contract.name}"))
        typed = []
        for column, spark_type in contract.silver_types.items():
            source = "Credit_History_Age" if column == "Credit_History_Months" else column
            if spark_type == "date":
                typed.append(parse_date(source, settings.date_format).alias(column))
            else:
                typed.append(F.col(source).try_cast(spark_type).alias(column))
        write(df.select(*typed, "month"), f"silver_{contract.name}")

    t = time.perf_counter()
    side_by_side(bronze)
    phases["bronze"] = time.perf_counter() - t
    t = time.perf_counter()
    side_by_side(silver)
    phases["silver"] = time.perf_counter() - t

    t = time.perf_counter()
    read = {c.name: spark.read.parquet(str(out / f"silver_{c.name}")) for c in SOURCES.values()}
    loans = read[LMS.name].filter("installment_num = 0").select("loan_id", "Customer_ID", "loan_amt", "tenure", "month")
    clicks = read[CLICKSTREAM.name].groupBy("Customer_ID").agg(*[F.avg(f"fe_{i}").alias(f"fe_{i}_mean") for i in range(1, 21)])
    features = (
        loans.join(read[ATTRIBUTES.name].drop("month", "snapshot_date"), "Customer_ID", "left")
        .join(read[FINANCIALS.name].drop("month", "snapshot_date"), "Customer_ID", "left")
        .join(clicks, "Customer_ID", "left")
    )
    write(features, "gold_features")
    phases["gold"] = time.perf_counter() - t
    spark.stop()
    return phases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--month", default=None, help="only this month (YYYY-MM-01)")
    parser.add_argument("--work", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.work:
        print(json.dumps(_work(Path(args.work), args.month)))
        return
    walls, all_phases = [], []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            done = subprocess.run(
                [sys.executable, "-m", "benchmarks.spark_floor", "--work", tmp, *(["--month", args.month] if args.month else [])],
                capture_output=True, text=True, env={**os.environ, "LOAN_PIPELINE_DATA_DIR": str(REAL_DATA)},
            )
            walls.append(time.perf_counter() - start)
            if done.returncode:
                sys.exit(done.stderr[-3000:])
            all_phases.append(json.loads(done.stdout.strip().splitlines()[-1]))
            print(f"run: {walls[-1]:.1f} s  " + "  ".join(f"{k} {v:.1f}" for k, v in all_phases[-1].items()), flush=True)
    print(f"Spark floor, {'month ' + args.month if args.month else 'all months'}: median {median(walls):.1f} s "
          f"(runs {', '.join(f'{w:.1f}' for w in walls)}); phases (medians): "
          + ", ".join(f"{k} {median([p[k] for p in all_phases]):.1f} s" for k in all_phases[0]))


if __name__ == "__main__":
    main()
