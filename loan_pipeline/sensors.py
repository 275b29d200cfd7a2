"""Governance: a sensor on `monitoring` materializations that requests a retrain of model[M] (then
predictions[M]) when month M breaches a threshold. The decision is governance.retrain_requests, the same
pure function the cycle command uses; the run key is stable per (month, breached thresholds), so a breach
triggers exactly one run, also across daemon restarts (Dagster skips run keys it has already launched)."""

import dagster as dg

from loan_pipeline import lake, tables
from loan_pipeline.jobs import retrain_job
from loan_pipeline.resources import LoanPipelineSettings
from loan_pipeline.transforms import governance

MONITORING_KEY = dg.AssetKey("monitoring")
# Materializations read per evaluation: a single-run backfill of every month writes one per month.
BATCH = 1000


@dg.sensor(
    job=retrain_job,
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=60,
    description="Requests a retrain when monitoring[M] breaches AUC/PSI/precision/recall thresholds (settings.py).",
)
def governance_sensor(context: dg.SensorEvaluationContext, pipeline_settings: LoanPipelineSettings):
    """The cursor is the storage id of the last monitoring materialization seen."""
    after = int(context.cursor) if context.cursor else None
    records = context.instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=MONITORING_KEY, after_storage_id=after), limit=BATCH, ascending=True
    ).records
    if not records:
        return dg.SkipReason("no new monitoring materialization")
    months = sorted({r.partition_key for r in records if r.partition_key})
    settings = pipeline_settings.get()
    # The monitoring table is the source of truth (a single-run backfill writes many months in one event batch).
    rows = lake.read_months_pandas(settings.table(tables.MONITORING), months).to_dict("records")
    requests = [
        dg.RunRequest(run_key=r["run_key"], partition_key=r["month"], tags=r["tags"])
        for r in governance.retrain_requests(rows, settings.thresholds)
    ]
    for r in requests:
        context.log.info(f"{r.partition_key}: {r.tags[governance.RETRAIN_TAG_PREFIX + '/reason']}")
    return dg.SensorResult(run_requests=requests, cursor=str(records[-1].storage_id))


all_sensors = [governance_sensor]
