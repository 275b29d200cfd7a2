"""Bronze assets: one per raw extract, the partition month's rows as text plus lineage."""


import dagster as dg
from dagster_pyspark import LazyPySparkResource

from loan_pipeline import lake
from loan_pipeline.assets.metadata import schema_contract_result, table_metadata
from loan_pipeline.partitions import monthly_partitions
from loan_pipeline.resources import LoanPipelineSettings
from loan_pipeline.sources.schemas import LMS, SOURCES, SourceContract
from loan_pipeline.transforms import bronze as bronze_tf
from loan_pipeline.transforms.spark_lake import publish_staged, stage

LAYER = "bronze"


def bronze_name(contract: SourceContract) -> str:
    return f"{LAYER}_{contract.name}"


def build_bronze_asset(contract: SourceContract) -> dg.AssetsDefinition:
    name = bronze_name(contract)
    # Sources other than the loan book legitimately stop before the end of the range (clickstream ends
    # before the last loans mature), so an empty month is an error only for the loan book.
    empty_severity = dg.AssetCheckSeverity.ERROR if contract is LMS else dg.AssetCheckSeverity.WARN

    @dg.asset(
        name=name,
        group_name=LAYER,
        partitions_def=monthly_partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        kinds={"spark", "parquet"},
        description=f"Rows of {contract.file_name} whose {contract.date_column} falls in the month, as text, with lineage.",
        check_specs=[
            dg.AssetCheckSpec("schema_contract", asset=name, description="Written columns: the contract's, as text, plus lineage."),
            dg.AssetCheckSpec("month_not_empty", asset=name, description="Every month in the run has rows."),
        ],
    )
    def _bronze(context: dg.AssetExecutionContext, pipeline_settings: LoanPipelineSettings, pyspark: LazyPySparkResource):
        settings = pipeline_settings.get()
        months = list(context.partition_keys)
        raw = bronze_tf.inspect_raw_file(settings.data_dir, contract)
        spark = pyspark.spark_session
        rows = bronze_tf.staged_rows(bronze_tf.with_month(bronze_tf.read_raw(spark, raw, contract), contract, settings.date_format), contract)
        table = settings.table_path(LAYER, name)
        # One pass over the file: stage every month, refuse the file if any row has no month,
        # then publish only the requested months.
        staging = stage(rows, table)
        file_months = lake.month_row_counts(staging, lake.available_months(staging))
        if file_months.pop(bronze_tf.INVALID_MONTH, 0):
            invalid = lake.read_months_pandas(staging, [bronze_tf.INVALID_MONTH])
            lake.discard(staging)
            raise bronze_tf.DataContractError(bronze_tf.describe_invalid_rows(invalid, raw, contract, settings.date_format))
        counts = publish_staged(rows, table, staging, months)
        empty = [m for m, n in counts.items() if n == 0]
        present = sorted(m for m, n in file_months.items() if n)
        context.log.info(f"{name}: {sum(counts.values())} rows over {len(months)} month(s) from {raw.path}")
        yield dg.MaterializeResult(
            metadata={
                **table_metadata(table, counts),
                "source_file": dg.MetadataValue.path(str(raw.path)),
                "source_sha256": raw.sha256,
                "source_months": f"{present[0]} .. {present[-1]}" if present else "none",
            },
            check_results=[
                schema_contract_result(table, months, bronze_tf.bronze_schema(contract)),
                dg.AssetCheckResult(
                    check_name="month_not_empty",
                    passed=not empty,
                    severity=empty_severity,
                    description=(
                        f"{raw.path}: no rows with {contract.date_column} in {empty}; the file covers {present[0] if present else '-'}"
                        f" .. {present[-1] if present else '-'}" if empty else "every month has rows"
                    ),
                    metadata={"empty_months": dg.MetadataValue.json(empty), "rows_per_month": dg.MetadataValue.json(counts)},
                )
            ],
        )

    return _bronze


bronze_assets = [build_bronze_asset(c) for c in SOURCES.values()]
