"""The full monthly cycle in one command: `python -m loan_pipeline.cycle` (see --help).

Runs on the persistent Dagster instance of $DAGSTER_HOME (so every run, materialization and tag shows up
in the UI afterwards) and on the configured data (LOAN_PIPELINE_DATA_DIR, sample data by default):

1. ingest: bronze -> silver -> gold for all months as ONE single-run backfill (one Spark session: a JVM of
   its own, or a client session of the Spark Connect server named by LOAN_PIPELINE_SPARK_REMOTE);
2. model lifecycle over all months in ONE run: model chain (first champion at the first month with enough
   matured labels), predictions, monitoring, dashboard;
3. governance: governance.retrain_requests — the SAME pure function the sensor uses — on the monitoring
   history; the breaches not yet handled (stable run key without a run on this instance, either the
   sensor's dagster/run_key or a previous cycle's loan_pipeline/run_key.<month> tag) are retrained in ONE
   replay run of the lifecycle from the first breached month: forced retrains of those months (the
   champion rule still applies), then the chain, scores, monitoring and dashboard follow the new
   champions. Repeated (at most 3 rounds) while a replay surfaces a new, unhandled breach;
4. prints where the outputs are and the AUC per split of every candidate of the latest model.

Options: --month M (only that month, e.g. the new one: ingest, lifecycle, governance), --skip-ingest,
--ingest-only (step 1 alone: the lake, no models).
The same jobs run from the UI or with `dagster job execute -m loan_pipeline.definitions -j end_to_end_job
--tags '{"dagster/asset_partition_range_start": "2023-01-01", "dagster/asset_partition_range_end": "2025-11-01"}'`
(there, governance retrains come from the sensor in the daemon).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import threading
import time
from typing import Callable

from loan_pipeline.spark_jvm import prestart_session

# `python -m loan_pipeline.cycle` starts the Spark JVM (~3 s) before anything else, in the background:
# it then overlaps the imports below (~2 s) and Dagster's run set-up instead of following them.
_SPARK_PRESTARTED = __name__ == "__main__" and not {"--skip-ingest", "-h", "--help"} & set(sys.argv[1:])
if _SPARK_PRESTARTED:
    prestart_session()

import dagster as dg

from loan_pipeline import lake
from loan_pipeline.local_instance import ensure_local_instance
from loan_pipeline.partitions import monthly_partitions, range_tags
from loan_pipeline.resources import spark_session_running, stop_spark_jvm
from loan_pipeline.settings import Settings, load_settings
from loan_pipeline.transforms import governance
from loan_pipeline.transforms.model_store import ModelStore
from loan_pipeline.transforms.training.splits import SPLITS

RUN_KEY_TAG = "dagster/run_key"


def _execute(defs: dg.Definitions, job_name: str, instance: dg.DagsterInstance, first: str, last: str, tags=None):
    job = defs.resolve_job_def(job_name)
    extra = dict(tags or {})
    if first == last:
        result = job.execute_in_process(instance=instance, partition_key=first, tags=extra, raise_on_error=True)
    else:
        result = job.execute_in_process(instance=instance, tags={**range_tags(first, last), **extra}, raise_on_error=True)
    return result


def handled_run_keys(instance: dg.DagsterInstance, requests: list[dict]) -> set[str]:
    """Run keys that already have a run on this instance: launched by the sensor (dagster/run_key) or
    handled inside an earlier cycle's replay run (loan_pipeline/run_key.<month>)."""
    done = set()
    for r in requests:
        for tags in ({RUN_KEY_TAG: r["run_key"]}, {governance.run_key_tag(r["month"]): r["run_key"]}):
            if instance.get_run_records(filters=dg.RunsFilter(tags=tags), limit=1):
                done.add(r["run_key"])
    return done


def pending_retrains(instance, settings: Settings, months: list[str]) -> list[dict]:
    """governance.retrain_requests (the sensor's decision) minus the breaches already handled."""
    rows = lake.read_months_pandas(settings.table_path("monitoring", "monitoring"), months).to_dict("records")
    requests = governance.retrain_requests(rows, settings.thresholds)
    done = handled_run_keys(instance, requests)
    return [r for r in requests if r["run_key"] not in done]


def replay_tags(requests: list[dict]) -> dict[str, str]:
    """One lifecycle run retrains every requested month (forced, the champion rule still applies) in
    chain order, instead of one retrain run per month followed by a replay: same decisions, far fewer runs."""
    tags = {
        governance.FORCE_RETRAIN_TAG: "true",
        governance.RETRAIN_MONTHS_TAG: ",".join(r["month"] for r in requests),
    }
    for r in requests:
        tags[governance.run_key_tag(r["month"])] = r["run_key"]
        tags[f"{governance.RETRAIN_TAG_PREFIX}/reason.{r['month']}"] = r["tags"][f"{governance.RETRAIN_TAG_PREFIX}/reason"][:200]
    return tags


def latest_model_report(settings: Settings) -> dict:
    store = ModelStore(settings.model_store)
    reg = store.registry()
    months = reg["months"]
    last_month = max(months) if months else None
    champion = months[last_month]["champion"] if last_month else None
    trained = [m for m in months if months[m].get("trained")]
    latest = months[max(trained)]["trained"] if trained else None
    return {
        "champion": champion,
        "champion_bundle": store.read_bundle_metadata(champion) if champion else None,
        "latest_model": latest,
        "latest_bundle": store.read_bundle_metadata(latest) if latest else None,
        "registry": str(store.registry_path),
    }


def format_auc_table(bundle: dict) -> str:
    lines = [f"{'candidate':28s} " + " ".join(f"{s:>10s}" for s in SPLITS)]
    for name, m in bundle["metrics"].items():
        mark = " *" if name == bundle["estimator"] else ""
        lines.append(f"{name + mark:28s} " + " ".join(f"{m['auc'][s]:10.4f}" for s in SPLITS))
    return "\n".join(lines)


def preload_model_libraries() -> threading.Thread:
    """Import scikit-learn and matplotlib in a background thread while Spark runs the ingest (the
    process mostly waits on Spark then); the lifecycle's first training and chart would otherwise wait
    ~1.5 s for them."""
    def load() -> None:
        from loan_pipeline.transforms import dashboard  # noqa: F401  (dashboard: matplotlib)
        from loan_pipeline.transforms.training import candidates, model_month  # noqa: F401

        candidates.import_model_libraries()

    thread = threading.Thread(target=load, name="preload-model-libraries", daemon=True)
    thread.start()
    return thread


def run_cycle(
    instance: dg.DagsterInstance | None = None,
    months: list[str] | None = None,
    skip_ingest: bool = False,
    log: Callable[[str], None] = print,
    ingest_only: bool = False,
    spark_prestarted: bool = False,
) -> dict:
    settings = load_settings()
    # The cycle owns the Spark JVM it started (here, or ahead of the imports when run as a command:
    # spark_prestarted); a caller's running session is left alone.
    owns_spark = not skip_ingest and (spark_prestarted or not spark_session_running())
    if owns_spark and not spark_prestarted:
        prestart_session(settings)
    from loan_pipeline.definitions import defs

    instance = instance or dg.DagsterInstance.get()
    months = months or monthly_partitions.get_partition_keys()
    first, last = months[0], months[-1]
    timings = {}
    t0 = time.perf_counter()
    if not skip_ingest:
        preload = None if ingest_only else preload_model_libraries()
        _execute(defs, "ingest_job", instance, first, last)
        if preload:
            preload.join()
        timings["ingest_s"] = round(time.perf_counter() - t0, 2)
        if owns_spark:
            stop_spark_jvm()  # the lifecycle is pandas and scikit-learn: free the JVM (or the server session)
        log(f"ingest {first[:7]}..{last[:7]}: {timings['ingest_s']} s")
        if ingest_only:
            log(f"lake: {settings.datamart}")
            return {"months": [first, last], "timings": timings, "spark_jvm_stopped_after_ingest": owns_spark, "outputs": {"lake": str(settings.datamart)}}
    t1 = time.perf_counter()
    _execute(defs, "lifecycle_job", instance, first, last)
    timings["lifecycle_s"] = round(time.perf_counter() - t1, 2)
    log(f"model lifecycle {first[:7]}..{last[:7]}: {timings['lifecycle_s']} s")
    t2 = time.perf_counter()
    launched: list[dict] = []
    for _ in range(3):  # a replay can surface a new breach (new signature); bounded, the sensor handles the rest
        pending = pending_retrains(instance, settings, months)
        if not pending:
            break
        for r in pending:
            log(f"governance: {r['month'][:7]} breaches {r['tags'][governance.RETRAIN_TAG_PREFIX + '/reason']} -> retrain")
        # Replay from the first breached month: forced retrains there, the chain, scores, monitoring and
        # dashboard then follow whatever champions the retrains produced.
        _execute(defs, "lifecycle_job", instance, pending[0]["month"], last, replay_tags(pending))
        launched += pending
    timings["governance_s"] = round(time.perf_counter() - t2, 2)
    timings["total_s"] = round(time.perf_counter() - t0, 2)
    report = latest_model_report(settings)
    monitoring = lake.read_months_pandas(settings.table_path("monitoring", "monitoring"))
    summary = {
        "months": [first, last],
        "timings": timings,
        "spark_jvm_stopped_after_ingest": owns_spark,
        "retrains": [{"month": r["month"], "run_key": r["run_key"]} for r in launched],
        "champion": report["champion"],
        "latest_model": report["latest_model"],
        "outputs": {
            "lake": str(settings.datamart),
            "predictions": str(settings.table_path("predictions", "predictions")),
            "monitoring": str(settings.table_path("monitoring", "monitoring")),
            "model_store": str(settings.model_store),
            "registry": report["registry"],
            "dashboard": str(settings.reports / "performance_dashboard.png"),
        },
        "monitoring_months_with_matured_labels": int((monitoring["n_matched"] > 0).sum()) if len(monitoring) else 0,
        "latest_model_auc": {k: v["auc"] for k, v in report["latest_bundle"]["metrics"].items()} if report["latest_bundle"] else {},
    }
    log("")
    log("outputs:")
    for name, path in summary["outputs"].items():
        log(f"  {name:12s} {path}")
    log(f"  dagster      {instance.root_directory if hasattr(instance, 'root_directory') else ''}")
    if report["latest_bundle"]:
        b = report["latest_bundle"]
        log(f"\nlatest model {b['version']} ({b['estimator']}), windows {b['window_bounds']}")
        log(format_auc_table(b))
        log(f"decision: {b['promotion']['reason']}")
    if report["champion_bundle"]:
        c = report["champion_bundle"]
        log(f"\nchampion in force for {last[:7]}: {c['version']} ({c['estimator']}), windows {c['window_bounds']}")
        log(format_auc_table(c))
        log(f"threshold {c['threshold']:.3f}; at threshold (OOT): " + json.dumps(
            {k: round(v, 3) for k, v in c["metrics"][c["estimator"]]["at_threshold"]["oot"].items()}))
    else:
        log("\nno champion: not enough matured labels for the minimum training windows")
    log(f"\ntimings: {timings}")
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--month", action="append", help="only these month(s) (YYYY-MM-01), e.g. the new month")
    parser.add_argument("--skip-ingest", action="store_true", help="gold already built: run the model lifecycle only")
    parser.add_argument("--ingest-only", action="store_true", help="only bronze -> silver -> gold (no models)")
    parser.add_argument("--json", help="also write the summary to this file")
    args = parser.parse_args(argv)
    if not os.environ.get("DAGSTER_HOME"):
        print("DAGSTER_HOME is not set: point it at a folder for the persistent Dagster instance", file=sys.stderr)
        return 2
    ensure_local_instance(os.environ["DAGSTER_HOME"])
    months = sorted(args.month) if args.month else None
    with dg.DagsterInstance.get() as instance:
        if args.skip_ingest and args.ingest_only:
            parser.error("--skip-ingest and --ingest-only exclude each other")
        summary = run_cycle(
            instance, months=months, skip_ingest=args.skip_ingest, ingest_only=args.ingest_only,
            spark_prestarted=_SPARK_PRESTARTED,
        )
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(summary, fh, indent=2, default=str)
    return 0


if __name__ == "__main__":
    status = main()
    # The process ends here; everything it wrote is closed. Without this, the interpreter's final garbage
    # collections walk the whole heap (Dagster, pandas, scikit-learn, matplotlib, PySpark) for ~1 s;
    # frozen objects are skipped by them (measured: exit 1.0 -> 0.1 s after main returns).
    gc.freeze()
    sys.exit(status)
