"""Spark side of the lake: atomic writes of month partitions and reads of chosen months."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from loan_pipeline import lake


def stage(df: DataFrame, table: Path) -> Path:
    """Write `df` partitioned by `month` into a private staging folder of `table` (not yet visible)."""
    staging = lake.new_staging_dir(table)
    try:
        df.write.mode("overwrite").partitionBy(lake.MONTH_COLUMN).parquet(str(staging))
    except BaseException:
        lake.discard(staging)
        raise
    return staging


def publish_staged(df: DataFrame, table: Path, staging: Path, months: Iterable[str]) -> dict[str, int]:
    """Swap the staged `months` into `table` (months without rows become empty partitions); staged
    months not requested are discarded. Returns rows per month from the Parquet footers."""
    months = sorted(set(months))
    try:
        lake.ensure_month_dirs(staging, months, _arrow_schema(df))
        counts = lake.month_row_counts(staging, months)
        lake.publish(table, staging, months)
        return counts
    finally:
        lake.discard(staging)


def write_months(df: DataFrame, table: Path, months: Iterable[str]) -> dict[str, int]:
    """Replace exactly `months` of `table` with the rows of `df` (which has a string `month` column).

    Spark writes into a private staging folder; only a complete write is swapped in, so a failed or
    killed run leaves every previous month readable. Months without rows become empty partitions.
    """
    months = sorted(set(months))
    staging = stage(df, table)
    stray = sorted(set(lake.available_months(staging)) - set(months))
    if stray:
        lake.discard(staging)
        raise ValueError(f"{table.name}: computed rows for months {stray} outside the requested {months}")
    return publish_staged(df, table, staging, months)


def _arrow_schema(df: DataFrame):
    import pyarrow as pa

    mapping = {
        T.StringType: pa.string(), T.IntegerType: pa.int32(), T.LongType: pa.int64(), T.DoubleType: pa.float64(),
        T.DateType: pa.date32(), T.BooleanType: pa.bool_(), T.TimestampType: pa.timestamp("us", tz="UTC"),
    }
    fields = []
    for field in df.schema.fields:
        if field.name == lake.MONTH_COLUMN:
            continue
        if isinstance(field.dataType, T.ArrayType):
            fields.append(pa.field(field.name, pa.list_(mapping[type(field.dataType.elementType)])))
        else:
            fields.append(pa.field(field.name, mapping[type(field.dataType)]))
    return pa.schema(fields)


def read_months(spark: SparkSession, table: Path, months: Iterable[str]) -> DataFrame | None:
    """Read the given months of a table (missing months are skipped); None when none exists.

    The table root is read with a filter on `month` (partition pruning) rather than one path per
    month: more than 32 paths make Spark list files with a distributed job."""
    wanted = sorted(set(months))
    if not any(lake.month_dir(table, m).exists() for m in wanted):
        return None
    return spark.read.parquet(str(table)).filter(F.col(lake.MONTH_COLUMN).isin(wanted))


def parse_date(column: str, date_format: str) -> F.Column:
    """A text column as a date in `date_format`; null where it does not parse."""
    return F.to_date(F.try_to_timestamp(F.col(column), F.lit(date_format)))


def month_of(date_col) -> F.Column:
    """Partition key YYYY-MM-01 of a date column."""
    return F.date_format(F.trunc(date_col, "month"), "yyyy-MM-dd")
