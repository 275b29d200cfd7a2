"""Running the ingest job (bronze -> gold) in tests, on chosen folders and months."""

from pathlib import Path

import dagster as dg

from loan_pipeline.assets.bronze import bronze_assets
from loan_pipeline.assets.gold import gold_assets
from loan_pipeline.assets.silver import silver_assets
from loan_pipeline.jobs import ingest_job
from loan_pipeline.partitions import range_tags
from loan_pipeline.resources import LoanPipelineSettings


def ingest_definitions(home: Path, data_dir: Path, spark_resource, date_format: str = "") -> dg.Definitions:
    return dg.Definitions(
        assets=[*bronze_assets, *silver_assets, *gold_assets],
        jobs=[ingest_job],
        resources={
            "pipeline_settings": LoanPipelineSettings(home=str(home), data_dir=str(data_dir), date_format=date_format),
            "pyspark": spark_resource,
        },
        executor=dg.in_process_executor,
    )


def run_ingest(defs: dg.Definitions, first: str, last: str, instance: dg.DagsterInstance, selection=None):
    job = defs.resolve_job_def("ingest_job")
    return job.execute_in_process(
        instance=instance, tags=range_tags(first, last), raise_on_error=False,
        asset_selection=[dg.AssetKey(k) for k in selection] if selection else None,
    )


def failure_message(result) -> str:
    failures = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    return "\n".join(e.event_specific_data.error.to_string() for e in failures)


def check_results(result) -> dict[tuple[str, str], object]:
    return {(e.asset_key.to_user_string(), e.check_name): e for e in result.get_asset_check_evaluations()}
