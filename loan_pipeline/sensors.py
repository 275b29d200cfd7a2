"""Governance: a sensor on `monitoring` materializations that requests a retrain of model[M] (then
predictions[M]) when month M breaches a threshold. The decision is governance.retrain_requests, the same
pure function the cycle driver uses; the run key is stable per (month, breached thresholds), so a breach
triggers exactly one run, also across daemon restarts (Dagster skips run keys it has already launched)."""

import dagster as dg

from loan_pipeline import lake
from loan_pipeline.jobs import retrain_job
from loan_pipeline.resources import LoanPipelineSettings
from loan_pipeline.transforms import governance

MONITORING_KEY = dg.AssetKey("monitoring")


@dg.multi_asset_sensor(
    monitored_assets=[MONITORING_KEY],
    job=retrain_job,
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=60,
    description="Requests a retrain when monitoring[M] breaches AUC/PSI/precision/recall thresholds (settings.py).",
)
def governance_sensor(context: dg.MultiAssetSensorEvaluationContext, pipeline_settings: LoanPipelineSettings):
    settings = pipeline_settings.get()
    records = context.latest_materialization_records_by_partition(MONITORING_KEY)
    if not records:
        return
    # The monitoring table is the source of truth (a single-run backfill writes many months in one event batch).
    table = settings.table_path("monitoring", "monitoring")
    rows = lake.read_months_pandas(table, sorted(records)).to_dict("records")
    for request in governance.retrain_requests(rows, settings.thresholds):
        context.log.info(f"{request['month']}: {request['tags'][governance.RETRAIN_TAG_PREFIX + '/reason']}")
        yield dg.RunRequest(run_key=request["run_key"], partition_key=request["month"], tags=request["tags"])
    context.advance_all_cursors()


all_sensors = [governance_sensor]
