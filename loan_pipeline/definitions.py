"""The one Definitions object of the project."""

import dagster as dg

from loan_pipeline.assets.bronze import bronze_assets
from loan_pipeline.assets.gold import gold_assets
from loan_pipeline.assets.models import model
from loan_pipeline.assets.monitoring import monitoring, performance_dashboard
from loan_pipeline.assets.predictions import predictions
from loan_pipeline.assets.segmentation import segmentation_assets, segmentation_checks
from loan_pipeline.assets.silver import silver_assets
from loan_pipeline.jobs import all_jobs
from loan_pipeline.resources import build_resources
from loan_pipeline.schedules import all_schedules
from loan_pipeline.sensors import all_sensors

defs = dg.Definitions(
    assets=[*bronze_assets, *silver_assets, *gold_assets, model, predictions, monitoring, performance_dashboard, *segmentation_assets],
    asset_checks=[*segmentation_checks],
    jobs=all_jobs,
    schedules=all_schedules,
    sensors=all_sensors,
    resources=build_resources(),
    # One process per run: a run (or single-run backfill) starts one Spark JVM, not one per step.
    executor=dg.in_process_executor,
)
