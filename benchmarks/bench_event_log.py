"""Benchmark: Dagster's own bookkeeping for a backfill shaped like the ingest, with no work in it.

    .venv/bin/python -m benchmarks.bench_event_log [--runs 3]

A job of 10 no-op monthly assets (4 bronze, 4 silver, 2 gold) over every configured month as one
single-run backfill, executed in process on a fresh local instance, once with Dagster's stock SQLite
event log and once with the project's (loan_pipeline.local_instance). Prints the median run time of
each: what the event log costs the real ingest before Spark does anything.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.measure import median

RUN = """
import sys, time
import dagster as dg
from loan_pipeline.local_instance import LOCAL_INSTANCE_YAML
from loan_pipeline.partitions import monthly_partitions, range_tags

home, variant = sys.argv[1], sys.argv[2]
with open(home + "/dagster.yaml", "w") as fh:
    fh.write(LOCAL_INSTANCE_YAML if variant == "project" else "telemetry:\\n  enabled: false\\n")

def noop(name, deps):
    @dg.asset(name=name, deps=deps, partitions_def=monthly_partitions, backfill_policy=dg.BackfillPolicy.single_run())
    def _asset(context):
        return dg.MaterializeResult(metadata={"partitions": len(context.partition_keys)})
    return _asset

sources = ["lms", "clickstream", "attributes", "financials"]
assets = [noop(f"bronze_{s}", []) for s in sources] + [noop(f"silver_{s}", [f"bronze_{s}"]) for s in sources]
assets += [noop("gold_features", [f"silver_{s}" for s in sources]), noop("gold_labels", ["silver_lms"])]
job = dg.define_asset_job("noop_ingest", selection=[a.key for a in assets], partitions_def=monthly_partitions)
defs = dg.Definitions(assets=assets, jobs=[job])
keys = monthly_partitions.get_partition_keys()
with dg.DagsterInstance.from_config(home) as instance:
    assert type(instance.event_log_storage).__name__ == ("ReusedEngineSqliteEventLogStorage" if variant == "project" else "SqliteEventLogStorage")
    t0 = time.perf_counter()
    result = defs.resolve_job_def("noop_ingest").execute_in_process(instance=instance, tags=range_tags(keys[0], keys[-1]))
    seconds = time.perf_counter() - t0
    assert result.success
    n = len(instance.fetch_materializations(assets[-1].key, limit=1000).records)
    assert n == len(keys), (n, len(keys))
print(seconds)
"""


def run_once(variant: str) -> float:
    with tempfile.TemporaryDirectory() as home:
        out = subprocess.run([sys.executable, "-c", RUN, home, variant], capture_output=True, text=True, check=True,
                             env={**os.environ, "DAGSTER_HOME": home})
        return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    for variant, label in (("stock", "Dagster's SqliteEventLogStorage"), ("project", "ReusedEngineSqliteEventLogStorage")):
        times = [run_once(variant) for _ in range(args.runs)]
        print(f"{label:36s} median {median(times):5.2f} s  (runs {', '.join(f'{t:.2f}' for t in times)})", flush=True)


if __name__ == "__main__":
    main()
