"""Bronze assets: one per raw extract, the partition month's rows as text plus lineage.

The four are one multi-asset (one step, the sources side by side: assets/layer.py); each can still be
materialized on its own."""


import dagster as dg

from loan_pipeline import lake, tables
from loan_pipeline.assets.layer import build_layer_asset
from loan_pipeline.assets.metadata import schema_contract_result, table_metadata
from loan_pipeline.settings import Settings
from loan_pipeline.sources.schemas import LMS, SourceContract
from loan_pipeline.transforms import bronze as bronze_tf
from loan_pipeline.transforms.spark_lake import publish_staged, stage

LAYER = "bronze"
CHECKS = {
    "schema_contract": "Written columns: the contract's, as text, plus lineage.",
    "month_not_empty": "Every month in the run has rows.",
}


def materialize_bronze(spark, settings: Settings, contract: SourceContract, months: list[str]) -> dg.MaterializeResult:
    # Sources other than the loan book legitimately stop before the end of the range (clickstream ends
    # before the last loans mature), so an empty month is an error only for the loan book.
    empty_severity = dg.AssetCheckSeverity.ERROR if contract is LMS else dg.AssetCheckSeverity.WARN
    raw = bronze_tf.inspect_raw_file(settings.data_dir, contract)
    rows = bronze_tf.staged_rows(bronze_tf.with_month(bronze_tf.read_raw(spark, raw, contract), contract, settings.date_format), contract)
    table = settings.table(tables.bronze(contract))
    # One pass over the file: stage the requested months and every row that has no month (observing
    # which months the whole file covers), refuse the file if any row has no month, then publish.
    coverage = bronze_tf.MonthCoverage()
    staging = stage(bronze_tf.rows_to_stage(rows, months, coverage), table)
    if lake.month_row_counts(staging, [bronze_tf.INVALID_MONTH])[bronze_tf.INVALID_MONTH]:
        invalid = lake.read_months_pandas(staging, [bronze_tf.INVALID_MONTH])
        lake.discard(staging)
        raise bronze_tf.DataContractError(bronze_tf.describe_invalid_rows(invalid, raw, contract, settings.date_format))
    counts = publish_staged(rows, table, staging, months)
    empty = [m for m, n in counts.items() if n == 0]
    covered = coverage.describe()
    return dg.MaterializeResult(
        asset_key=tables.bronze(contract).name,
        metadata={
            **table_metadata(table, counts),
            "source_file": dg.MetadataValue.path(str(raw.path)),
            "source_sha256": raw.sha256,
            "source_months": covered,
        },
        check_results=[
            schema_contract_result(table, months, bronze_tf.bronze_schema(contract)),
            dg.AssetCheckResult(
                check_name="month_not_empty",
                passed=not empty,
                severity=empty_severity,
                description=f"{raw.path}: no rows with {contract.date_column} in {empty}; the file covers {covered}" if empty else "every month has rows",
                metadata={"empty_months": dg.MetadataValue.json(empty), "rows_per_month": dg.MetadataValue.json(counts)},
            )
        ],
    )


bronze_assets = [
    build_layer_asset(
        LAYER, tables.bronze,
        describe=lambda c: f"Rows of {c.file_name} whose {c.date_column} falls in the month, as text, with lineage.",
        checks=lambda c: CHECKS, materialize=materialize_bronze,
    )
]
