"""The whole monthly cycle in one command: `python -m loan_pipeline.cycle` (`./dev run`; see --help).

It runs the project's jobs on the Dagster instance of $DAGSTER_HOME, so every run, materialization and
check shows in the UI afterwards, on the configured data (LOAN_PIPELINE_DATA_DIR; sample data by default):

1. ingest: bronze -> silver -> gold for all months as one single-run backfill (one Spark session, whose
   JVM then stays idle beside the model work: peak memory in docs/benchmarks.md);
2. model lifecycle over all months in one run: model chain, predictions, monitoring, dashboard;
3. governance: the breaches governance.retrain_requests finds in the monitoring history (the function
   the sensor uses) and that no earlier run handled are retrained in one replay of the lifecycle from
   the first breached month (at most 3 rounds while a replay surfaces a new breach);
4. a summary: outputs, champion and every candidate's AUC per split.

It prints one line per step (months, rows, seconds); Dagster's event stream goes to the UI and to a log
file whose path it prints. The same jobs run from the UI and the CLI (README, "Command line").
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Callable

import dagster as dg

from loan_pipeline import lake, tables
from loan_pipeline.cycle_report import RunLog, run_summary, summary_lines
from loan_pipeline.partitions import monthly_partitions, range_tags
from loan_pipeline.settings import Settings, load_settings
from loan_pipeline.transforms import governance

RUN_KEY_TAG = "dagster/run_key"
# The step lines are the command's report; Dagster's own console lines go to the log file instead.
QUIET_RUN_CONFIG = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


class StepFailed(RuntimeError):
    pass


def execute_job(instance: dg.DagsterInstance, job_name: str, first: str, last: str, tags: dict[str, str] | None = None) -> dict:
    """Run one job over first..last on `instance`, in this process; a short summary (cycle_report.run_summary)."""
    from loan_pipeline.definitions import defs

    job = defs.resolve_job_def(job_name)
    partition = {"partition_key": first} if first == last else {}
    run_tags = {**({} if first == last else range_tags(first, last)), **(tags or {})}
    result = job.execute_in_process(instance=instance, tags=run_tags, run_config=QUIET_RUN_CONFIG, raise_on_error=False, **partition)
    return run_summary(result)


def handled_run_keys(instance: dg.DagsterInstance, requests: list[dict]) -> set[str]:
    """Run keys that already have a run on this instance: launched by the sensor (dagster/run_key) or
    handled inside an earlier cycle's replay run (loan_pipeline/run_key.<month>)."""
    done = set()
    for r in requests:
        for tags in ({RUN_KEY_TAG: r["run_key"]}, {governance.run_key_tag(r["month"]): r["run_key"]}):
            if instance.get_run_records(filters=dg.RunsFilter(tags=tags), limit=1):
                done.add(r["run_key"])
    return done


def pending_retrains(instance: dg.DagsterInstance, settings: Settings, months: list[str]) -> list[dict]:
    """governance.retrain_requests (the sensor's decision) minus the breaches already handled."""
    rows = lake.read_months_pandas(settings.table(tables.MONITORING), months).to_dict("records")
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


def run_cycle(
    months: list[str] | None = None, skip_ingest: bool = False, ingest_only: bool = False,
    log: Callable[[str], None] = print, log_file: Path | None = None,
) -> dict:
    """The cycle on the $DAGSTER_HOME instance; returns the summary (also printed through `log`)."""
    settings = load_settings()
    months = months or monthly_partitions.get_partition_keys()
    first, last = months[0], months[-1]
    span = f"{first[:7]}..{last[:7]}" if first != last else first[:7]
    run_log = RunLog(log_file or settings.home / "logs" / f"cycle-{time.strftime('%Y%m%d-%H%M%S')}.log")
    log(f"cycle {span} ({len(months)} month{'s' if len(months) > 1 else ''}); Dagster's event log: {run_log.path}")
    timings: dict[str, float] = {}
    retrains: list[dict] = []

    def step(instance: dg.DagsterInstance, name: str, job_name: str, start_month: str, tags: dict[str, str] | None = None) -> None:
        start = time.perf_counter()
        summary = execute_job(instance, job_name, start_month, last, tags)
        seconds = time.perf_counter() - start
        timings[f"{name}_s"] = round(timings.get(f"{name}_s", 0) + seconds, 2)
        run_log.append(instance, summary["run_id"], name)
        log(f"{name:10s} {span}: {summary['rows_text']} in {seconds:.1f} s")
        if not summary["success"]:
            raise StepFailed(f"{name} failed ({summary['error']}); see {run_log.path}")

    with dg.DagsterInstance.get() as instance:
        if not skip_ingest:
            step(instance, "ingest", "ingest_job", first)
            if ingest_only:
                log(f"lake: {settings.datamart}")
                return {"months": [first, last], "timings": timings, "outputs": {"lake": str(settings.datamart)}, "log": str(run_log.path)}
        step(instance, "lifecycle", "lifecycle_job", first)
        governance_start = time.perf_counter()
        for _ in range(3):  # a replay can surface a new breach (new signature); bounded, the sensor handles the rest
            pending = pending_retrains(instance, settings, months)
            if not pending:
                break
            for r in pending:
                log(f"governance: {r['month'][:7]} breaches {r['tags'][governance.RETRAIN_TAG_PREFIX + '/reason']} -> retrain")
            # Replay from the first breached month: forced retrains there; the chain, scores, monitoring
            # and dashboard then follow whatever champions the retrains produced.
            step(instance, "retrain", "lifecycle_job", pending[0]["month"], replay_tags(pending))
            retrains += pending
    timings["governance_s"] = round(time.perf_counter() - governance_start, 2)
    timings["total_s"] = round(sum(v for k, v in timings.items() if k in ("ingest_s", "lifecycle_s", "governance_s")), 2)
    summary, lines = summary_lines(settings, first, last, timings, retrains)
    summary["log"] = str(run_log.path)
    for line in lines:
        log(line)
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--month", action="append", help="only these month(s) (YYYY-MM-01), e.g. the new month")
    parser.add_argument("--skip-ingest", action="store_true", help="gold already built: run the model lifecycle only")
    parser.add_argument("--ingest-only", action="store_true", help="only bronze -> silver -> gold (no models)")
    parser.add_argument("--json", help="also write the summary to this file")
    args = parser.parse_args(argv)
    if args.skip_ingest and args.ingest_only:
        parser.error("--skip-ingest and --ingest-only exclude each other")
    if not os.environ.get("DAGSTER_HOME"):
        print("DAGSTER_HOME is not set: point it at a folder for the persistent Dagster instance", file=sys.stderr)
        return 2
    try:
        summary = run_cycle(sorted(args.month) if args.month else None, skip_ingest=args.skip_ingest, ingest_only=args.ingest_only)
    except StepFailed as exc:
        print(f"cycle: {exc}", file=sys.stderr)
        return 1
    if args.json:
        Path(args.json).write_text(json.dumps(summary, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
