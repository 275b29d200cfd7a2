"""The one monthly partitions definition shared by every partitioned asset (keys YYYY-MM-01)."""

from __future__ import annotations

import pandas as pd

import dagster as dg

from loan_pipeline.settings import Settings, load_settings


def month_after(month_key: str) -> str:
    return (pd.Timestamp(month_key) + pd.offsets.MonthBegin(1)).strftime("%Y-%m-%d")


def build_monthly_partitions(settings: Settings) -> dg.MonthlyPartitionsDefinition:
    # LOAN_PIPELINE_END names the last month to include; Dagster's end_date is exclusive.
    return dg.MonthlyPartitionsDefinition(start_date=settings.start, end_date=month_after(settings.end))


monthly_partitions = build_monthly_partitions(load_settings())


def months_back(month_key: str, n: int) -> str:
    return (pd.Timestamp(month_key) - pd.offsets.MonthBegin(n)).strftime("%Y-%m-%d") if n else month_key


def month_span(first: str, last: str) -> list[str]:
    return [d.strftime("%Y-%m-%d") for d in pd.date_range(first, last, freq="MS")]


def range_tags(first: str, last: str) -> dict[str, str]:
    """Run tags that make one run cover the partitions first..last (a single-run backfill)."""
    return {"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": last}
