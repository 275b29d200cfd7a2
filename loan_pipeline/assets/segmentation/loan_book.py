"""The monthly loan-book segmentation asset: silver_financials[M] -> customer_segments[M], the customers
who applied in M segmented with the credit-card code on loan-book features, with the stability
against the previous month's model.
"""

from dataclasses import asdict
from pathlib import Path

import pandas as pd

import dagster as dg

from loan_pipeline import lake, tables
from loan_pipeline.assets.segmentation.storage import GROUP, SegmentationPaths, write_json
from loan_pipeline.sources.schemas import FINANCIALS
from loan_pipeline.partitions import monthly_partitions
from loan_pipeline.resources import LoanPipelineSettings
from loan_pipeline.transforms.segmentation.inputs import SegmentationInputError
from loan_pipeline.transforms.segmentation.kmeans import DEFAULT_MAX_K
from loan_pipeline.transforms.segmentation.loan_book import (
    DEFAULT_LOAN_BOOK_FEATURES, loan_book_segments_frame, mask_flagged_out_of_range, month_rows,
)
from loan_pipeline.transforms.segmentation.model import stability_ari
from loan_pipeline.transforms.segmentation.persistence import save_model
from loan_pipeline.transforms.segmentation.pipeline import Segmentation, segment_customers
from loan_pipeline.transforms.segmentation.report import markdown_table


class CustomerSegmentsConfig(dg.Config):
    # Loan-book analogues of balance, spending and limit (why these: transforms/segmentation/loan_book.py).
    features: list[str] = list(DEFAULT_LOAN_BOOK_FEATURES)
    max_k: int = DEFAULT_MAX_K


def _segment_month(silver: Path, month: str, config: CustomerSegmentsConfig) -> tuple[pd.DataFrame, Segmentation | None]:
    """The silver rows dated in `month` and their segmentation (None for an empty month)."""
    source = f"silver_financials ({silver}) month {month}"
    if month not in lake.available_months(silver):
        raise FileNotFoundError(f"{source}: partition not found; materialize silver_financials for {month} first")
    rows = month_rows(lake.read_months_pandas(silver, months=[month]), month, source)
    rows = mask_flagged_out_of_range(rows, config.features)
    if rows.empty:
        return rows, None
    return rows, segment_customers(rows, config.features, config.max_k, source, reduce_k=True)


def _previous_month(month: str) -> str:
    return (pd.Timestamp(month) - pd.offsets.MonthBegin(1)).strftime("%Y-%m-%d")


@dg.asset(
    group_name=GROUP,
    partitions_def=monthly_partitions,
    deps=[dg.AssetDep("silver_financials")],
    backfill_policy=dg.BackfillPolicy.single_run(),
    kinds={"pandas", "scikitlearn", "parquet"},
)
def customer_segments(
    context: dg.AssetExecutionContext, config: CustomerSegmentsConfig, pipeline_settings: LoanPipelineSettings
) -> dg.MaterializeResult:
    """Month M = the customers who applied in M (silver_financials rows dated in M), segmented with the
    credit-card code on loan-book features; elbow per month; profiles; stability vs the previous month.

    Stability: months share no customers, so this month's customers are also assigned by the previous
    month's model and the adjusted Rand index between the two labelings is reported (1 = same cut).
    The previous month's model is refit from silver_financials[M-1] (deterministic, so identical to
    customer_segments[M-1]); it is null when that partition is absent or empty.
    """
    settings = pipeline_settings.get()
    paths = SegmentationPaths.of(settings)
    silver = settings.table(tables.silver(FINANCIALS))
    months = sorted(context.partition_keys)
    frames, summary = [], []
    previous: tuple[str, Segmentation | None] | None = None
    for month in months:
        rows, result = _segment_month(silver, month, config)
        prev_month = _previous_month(month)
        if previous is None or previous[0] != prev_month:
            previous = (prev_month, None)
            if prev_month in lake.available_months(silver):
                try:
                    previous = (prev_month, _segment_month(silver, prev_month, config)[1])
                except SegmentationInputError as exc:
                    context.log.warning(f"no stability for {month}: previous month cannot be segmented: {exc}")
        prev_model = previous[1].model if previous[1] is not None else None
        ari = stability_ari(prev_model, result.model, rows, month) if result is not None else None
        frames.append(loan_book_segments_frame(rows, result, config.features, month))
        entry = {"month": month, "customers": len(rows), "max_k": None, "k": None, "elbow_found": None, "ari_vs_previous": ari}
        if result is not None:
            manifest = save_model(result.model, result.elbow, paths.monthly_model(month), {"month": month})
            entry.update(max_k=result.elbow.max_k, k=result.elbow.k, elbow_found=result.elbow.found)
            entry.update(model_sha256=manifest["sha256"], elbow=asdict(result.elbow), profiles=result.profiles.to_dict(orient="records"))
            if result.elbow.max_k < config.max_k:
                context.log.info(f"{month}: {result.fit_rows} customers with all features, K lowered to {result.elbow.max_k}")
        write_json({**entry, "features": config.features}, paths.monthly_report(month))
        summary.append({c: entry[c] for c in ("month", "customers", "max_k", "k", "elbow_found", "ari_vs_previous")})
        previous = (month, result)
    counts = lake.write_months_pandas(pd.concat(frames, ignore_index=True), settings.table(tables.CUSTOMER_SEGMENTS), months)
    table = pd.DataFrame(summary, dtype=object)  # object: ints stay ints next to the None of empty months
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": int(sum(counts.values())),
            "months": dg.MetadataValue.md(markdown_table(table, "{:.3f}")),
            "features": dg.MetadataValue.json(config.features),
            "path": dg.MetadataValue.path(str(settings.table(tables.CUSTOMER_SEGMENTS))),
        }
    )
