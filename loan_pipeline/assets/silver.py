"""Silver assets: typed, cleaned, flagged rows per source; unparseable rows go to a quarantine table.

The four are one multi-asset (one step, the sources side by side: assets/layer.py); each can still be
materialized on its own."""


import dagster as dg

from loan_pipeline import lake, tables
from loan_pipeline.assets.layer import build_layer_asset
from loan_pipeline.assets.metadata import schema_contract_result, share, table_metadata
from loan_pipeline.settings import Settings
from loan_pipeline.sources.schemas import SourceContract
from loan_pipeline.transforms.silver.classify import QuarantineCount, classify, quarantine_rows, silver_rows
from loan_pipeline.transforms.silver.quality import duplicate_key_rows, flag_counts, flagged_row_counts, silver_schema
from loan_pipeline.transforms.spark_lake import read_months, write_months

LAYER = "silver"


def _check_descriptions(contract: SourceContract) -> dict[str, str]:
    return {
        "schema_contract": "Written columns and types equal the silver contract (transforms/silver/quality.py: silver_schema).",
        "reconciles_with_bronze": "Per month: bronze rows = silver rows + quarantined rows (nothing dropped).",
        "keys_unique": f"No two silver rows share the key {contract.key}.",
        "quarantine_share": "Per month: quarantined share of bronze rows within the configured maximum.",
        "flagged_share": "Per month: share of rows with any data-quality flag within the configured maximum.",
    }


def materialize_silver(spark, settings: Settings, contract: SourceContract, months: list[str]) -> dg.MaterializeResult:
    name, bronze_name = tables.silver(contract).name, tables.bronze(contract).name
    quality = settings.quality
    bronze_table = settings.table(tables.bronze(contract))
    missing = [m for m in months if not lake.month_dir(bronze_table, m).exists()]
    if missing:
        raise dg.Failure(f"{name}: bronze months {missing} are not materialized yet; materialize {bronze_name} first")
    bronze_counts = lake.month_row_counts(bronze_table, months)
    classified = classify(read_months(spark, bronze_table, months), contract, settings.date_format)
    table = settings.table(tables.silver(contract))
    quarantine_table = settings.table(tables.quarantine(contract))
    quarantine = quarantine_rows(classified, contract)
    if any(bronze_counts.values()):
        # One pass writes the silver rows and counts the rows that break a rule; only when there are any
        # does a second pass pick them out for the quarantine table (otherwise its months are written empty).
        quarantined = QuarantineCount()
        silver_counts = write_months(silver_rows(quarantined.observe(classified)), table, months)
        quarantined_rows = quarantined.rows
    else:
        # No bronze row in these months (a source with no snapshot in them, e.g. the newest month of a
        # profile extract): the empty months are written from the same plans emptied by limit(0), which
        # Spark answers from their schema alone, without reading, compiling or running anything.
        silver_counts = write_months(silver_rows(classified).limit(0), table, months)
        quarantined_rows = 0
    quarantine_counts = write_months(quarantine if quarantined_rows else quarantine.limit(0), quarantine_table, months)
    # Statistics come from the written files (small, columnar), not from more Spark jobs.
    written = lake.read_months_arrow(table, months, columns=[*contract.key, "dq_flags"])
    flags = flag_counts(written)
    flagged = flagged_row_counts(written)
    duplicate_keys = duplicate_key_rows(written, contract)
    quarantine_examples = lake.read_months_pandas(quarantine_table, months).head(5)

    unreconciled = {m: (bronze_counts[m], silver_counts[m], quarantine_counts[m]) for m in months if bronze_counts[m] != silver_counts[m] + quarantine_counts[m]}
    quarantine_shares = {m: share(quarantine_counts[m], bronze_counts[m]) for m in months}
    flagged_shares = {m: share(flagged.get(m, 0), silver_counts[m]) for m in months}
    too_many_quarantined = {m: s for m, s in quarantine_shares.items() if s > quality.max_quarantined_share}
    too_many_flagged = {m: s for m, s in flagged_shares.items() if s > quality.max_flagged_share}
    example_text = "; ".join(
        f"{r['_source_file']} row {r['_source_row']}: {', '.join(r['reasons'])}" for _, r in quarantine_examples.iterrows()
    )
    return dg.MaterializeResult(
        asset_key=name,
        metadata={
            **table_metadata(table, silver_counts),
            "quarantined_per_month": dg.MetadataValue.json(quarantine_counts),
            "quarantine_path": dg.MetadataValue.path(str(quarantine_table)),
            "quarantine_examples": example_text or "none",
            "flag_counts_per_month": dg.MetadataValue.json(flags),
        },
        check_results=[
            schema_contract_result(table, months, silver_schema(contract)),
            dg.AssetCheckResult(
                check_name="reconciles_with_bronze", passed=not unreconciled,
                metadata={"mismatches (bronze, silver, quarantined)": dg.MetadataValue.json(unreconciled)},
            ),
            dg.AssetCheckResult(check_name="keys_unique", passed=duplicate_keys == 0, metadata={"duplicate_keys": duplicate_keys}),
            dg.AssetCheckResult(
                check_name="quarantine_share", passed=not too_many_quarantined,
                description=f"months over {quality.max_quarantined_share:.0%}: {too_many_quarantined}; examples: {example_text}"
                if too_many_quarantined else "within limit",
                metadata={"share_per_month": dg.MetadataValue.json(quarantine_shares)},
            ),
            dg.AssetCheckResult(
                check_name="flagged_share", passed=not too_many_flagged, severity=dg.AssetCheckSeverity.WARN,
                metadata={"share_per_month": dg.MetadataValue.json(flagged_shares), "flag_counts_per_month": dg.MetadataValue.json(flags)},
            ),
        ],
    )


silver_assets = [
    build_layer_asset(
        LAYER, tables.silver,
        describe=lambda c: f"{c.file_name}: typed and cleaned (see transforms/silver/ for every rule), with dq_flags.",
        checks=_check_descriptions, materialize=materialize_silver, upstream=lambda c: [tables.bronze(c).name],
    )
]
