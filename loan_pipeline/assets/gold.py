"""Gold assets: application-time features and observable labels, partitioned by month."""


import dagster as dg
import pandas as pd
from dagster_pyspark import LazyPySparkResource
from pyspark.sql import functions as F

from loan_pipeline import lake, tables
from loan_pipeline.assets.layer import materialize_concurrently
from loan_pipeline.assets.metadata import schema_contract_result, share, table_metadata
from loan_pipeline.partitions import month_span, monthly_partitions, months_back
from loan_pipeline.resources import LoanPipelineSettings
from loan_pipeline.settings import CLICKSTREAM_WINDOW_MONTHS, PROFILE_LOOKBACK_MONTHS, Settings
from loan_pipeline.sources.schemas import ATTRIBUTES, CLICKSTREAM, FINANCIALS, LMS
from loan_pipeline.transforms import gold as gold_tf
from loan_pipeline.transforms.spark_lake import read_months, write_months

LAYER = "gold"


def _look_back(months: int) -> dg.TimeWindowPartitionMapping:
    return dg.TimeWindowPartitionMapping(start_offset=-months, end_offset=0, allow_nonexistent_upstream_partitions=True)


def _read_silver(spark, settings, contract, first: str, last: str):
    table = settings.table(tables.silver(contract))
    df = read_months(spark, table, month_span(first, last))
    if df is None:
        raise dg.Failure(f"{tables.silver(contract).name} has no materialized month in {first} .. {last}; materialize it first")
    return df


FEATURES_SPEC = dg.AssetSpec(
    tables.GOLD_FEATURES.name, group_name=LAYER, kinds={"spark", "parquet"}, skippable=True,
    description="One row per loan applied in the month, built only from records dated on or before its application date.",
    deps=[
        dg.AssetDep(tables.silver(LMS).name),
        dg.AssetDep(tables.silver(ATTRIBUTES).name, partition_mapping=_look_back(PROFILE_LOOKBACK_MONTHS - 1)),
        dg.AssetDep(tables.silver(FINANCIALS).name, partition_mapping=_look_back(PROFILE_LOOKBACK_MONTHS - 1)),
        dg.AssetDep(tables.silver(CLICKSTREAM).name, partition_mapping=_look_back(CLICKSTREAM_WINDOW_MONTHS - 1)),
    ],
)
FEATURES_CHECKS = [
    dg.AssetCheckSpec("schema_contract", asset=tables.GOLD_FEATURES.name, description="Written columns and types equal GOLD_FEATURES_SCHEMA."),
    dg.AssetCheckSpec("one_row_per_loan", asset=tables.GOLD_FEATURES.name, description="Exactly the month's applications (mob-0 loans), each once."),
    dg.AssetCheckSpec("no_future_data", asset=tables.GOLD_FEATURES.name, description="No record used is dated after the loan's application date."),
    dg.AssetCheckSpec("profile_coverage", asset=tables.GOLD_FEATURES.name, description="Share of loans whose attributes and financials were found."),
]


def materialize_gold_features(spark, settings: Settings, months: list[str]) -> dg.MaterializeResult:
    first, last = months[0], months[-1]
    lms = _read_silver(spark, settings, LMS, first, last)
    attributes = _read_silver(spark, settings, ATTRIBUTES, months_back(first, settings.profile_lookback_months - 1), last)
    financials = _read_silver(spark, settings, FINANCIALS, months_back(first, settings.profile_lookback_months - 1), last)
    clickstream = _read_silver(spark, settings, CLICKSTREAM, months_back(first, settings.clickstream_window_months - 1), last)
    features = gold_tf.build_features(
        lms, attributes, financials, clickstream, months, settings.clickstream_window_months, settings.profile_lookback_months
    )
    table = settings.table(tables.GOLD_FEATURES)
    expected = {r["m"]: r["count"] for r in gold_tf.applications(lms, months).groupBy(gold_tf.month_of(F.col("application_date")).alias("m")).count().collect()}
    # Months without applications (the newest months of a loan book) are written from the plan emptied
    # by limit(0): Spark gives their schema without joining the profile and clickstream tables.
    counts = write_months(features if expected else features.limit(0), table, months)

    # Checks read the written rows back (small, columnar) instead of running more Spark jobs.
    written = lake.read_months_pandas(table, months, columns=["loan_id", "application_date", *gold_tf.LINEAGE_DATES])
    application = pd.to_datetime(written["application_date"])
    future = sum((pd.to_datetime(written[c]) > application).sum() for c in gold_tf.LINEAGE_DATES)
    covered = (written["profile_snapshot_date"].notna() & written["financials_snapshot_date"].notna()).sum()
    stats = {"rows": len(written), "loans": written["loan_id"].nunique(), "future": int(future), "covered": int(covered)}
    mismatched = {m: (counts[m], expected.get(m, 0)) for m in months if counts[m] != expected.get(m, 0)}
    coverage = share(stats["covered"] or 0, stats["rows"])
    return dg.MaterializeResult(
        asset_key=tables.GOLD_FEATURES.name,
        metadata={**table_metadata(table, counts), "profile_coverage": coverage},
        check_results=[
            schema_contract_result(table, months, gold_tf.GOLD_FEATURES_SCHEMA),
            dg.AssetCheckResult(
                check_name="one_row_per_loan",
                passed=not mismatched and stats["rows"] == stats["loans"],
                metadata={"rows": stats["rows"], "distinct_loans": stats["loans"], "mismatches (rows, applications)": dg.MetadataValue.json(mismatched)},
            ),
            dg.AssetCheckResult(check_name="no_future_data", passed=(stats["future"] or 0) == 0, metadata={"rows_with_future_records": stats["future"] or 0}),
            dg.AssetCheckResult(
                check_name="profile_coverage", passed=stats["rows"] == 0 or coverage >= settings.quality.min_profile_coverage,
                severity=dg.AssetCheckSeverity.WARN, metadata={"coverage": coverage, "minimum": settings.quality.min_profile_coverage},
            ),
        ],
    )


LABELS_SPEC = dg.AssetSpec(
    tables.GOLD_LABELS.name, group_name=LAYER, kinds={"spark", "parquet"}, skippable=True, deps=[dg.AssetDep(tables.silver(LMS).name)],
    description="Labels that became observable in the month: loans reaching the label's months-on-book then (default dpd>=30 at mob 6).",
)
LABELS_CHECKS = [
    dg.AssetCheckSpec("schema_contract", asset=tables.GOLD_LABELS.name, description="Written columns and types equal GOLD_LABELS_SCHEMA."),
    dg.AssetCheckSpec("one_label_per_loan", asset=tables.GOLD_LABELS.name),
    dg.AssetCheckSpec("label_rate_sane", asset=tables.GOLD_LABELS.name, description="Per month with labels: default rate within the configured band."),
]


def materialize_gold_labels(spark, settings: Settings, months: list[str]) -> dg.MaterializeResult:
    lms = _read_silver(spark, settings, LMS, months[0], months[-1])
    labels = gold_tf.build_labels(lms, months, settings.label)
    table = settings.table(tables.GOLD_LABELS)
    counts = write_months(labels, table, months)
    frame = lake.read_months_pandas(table, months, columns=["loan_id", "label"])
    rates = {m: round(float(g["label"].mean()), 4) for m, g in frame.groupby("month")}
    q = settings.quality
    out_of_band = {m: r for m, r in rates.items() if not q.min_label_rate <= r <= q.max_label_rate}
    return dg.MaterializeResult(
        asset_key=tables.GOLD_LABELS.name,
        metadata={**table_metadata(table, counts), "label_rate_per_month": dg.MetadataValue.json(rates), "label_definition": settings.label.name},
        check_results=[
            schema_contract_result(table, months, gold_tf.GOLD_LABELS_SCHEMA),
            dg.AssetCheckResult(check_name="one_label_per_loan", passed=bool(frame["loan_id"].is_unique), metadata={"rows": len(frame)}),
            dg.AssetCheckResult(
                check_name="label_rate_sane", passed=not out_of_band,
                description=f"label rate outside [{q.min_label_rate}, {q.max_label_rate}] in {out_of_band}" if out_of_band else "within band",
                metadata={"label_rate_per_month": dg.MetadataValue.json(rates)},
            ),
        ],
    )


MATERIALIZE = {tables.GOLD_FEATURES.name: materialize_gold_features, tables.GOLD_LABELS.name: materialize_gold_labels}


@dg.multi_asset(
    name=LAYER,
    specs=[FEATURES_SPEC, LABELS_SPEC],
    check_specs=[*FEATURES_CHECKS, *LABELS_CHECKS],
    partitions_def=monthly_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    can_subset=True,
)
def gold(context: dg.AssetExecutionContext, pipeline_settings: LoanPipelineSettings, pyspark: LazyPySparkResource):
    """Features and labels side by side in one step (labels need only the loan book): each is still
    published on its own, and can be materialized on its own."""
    settings = pipeline_settings.get()
    months = list(context.partition_keys)
    spark = pyspark.spark_session
    selected = [name for name in MATERIALIZE if dg.AssetKey(name) in context.selected_asset_keys]
    yield from materialize_concurrently(context, selected, lambda name: MATERIALIZE[name](spark, settings, months), name=lambda name: name)


gold_assets = [gold]
