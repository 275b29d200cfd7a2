"""One step per lake layer: the sources of a layer are materialized concurrently in the run's Spark session.

Each source's work is small, and much of it is driver-side (planning, file commits, footers, checks)
with one core idle; running the four sources side by side keeps both cores busy. Each source still
publishes its months atomically, so a source that fails leaves its previous months intact and does
not stop the others from landing; the step then fails with that source's error.
"""


import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Callable, Iterable, Iterator, TypeVar

import dagster as dg
from dagster_pyspark import LazyPySparkResource

from loan_pipeline.partitions import monthly_partitions
from loan_pipeline.resources import LoanPipelineSettings
from loan_pipeline.settings import Settings
from loan_pipeline.sources.schemas import SOURCES, SourceContract
from loan_pipeline.tables import Table

Item = TypeVar("Item")
Materialize = Callable[[object, Settings, SourceContract, list[str]], dg.MaterializeResult]


def selected_sources(context: dg.AssetExecutionContext, sources: Iterable[SourceContract], table: Callable[[SourceContract], Table]) -> list[SourceContract]:
    return [c for c in sources if dg.AssetKey(table(c).name) in context.selected_asset_keys]


def materialize_concurrently(
    context: dg.AssetExecutionContext, sources: list[Item], materialize: Callable[[Item], dg.MaterializeResult],
    name: Callable[[Item], str] = lambda c: c.name,
) -> Iterator[dg.MaterializeResult]:
    """Run `materialize` for every source (or other item) in threads; yield each result (keeping only
    selected checks) as soon as its item is done, so Dagster records it while the others still run;
    then raise the first failure (in item order), if any."""
    def timed(item: Item) -> tuple[dg.MaterializeResult, float]:
        start = time.perf_counter()
        return materialize(item), time.perf_counter() - start

    selected_checks = context.selected_asset_check_keys
    failures = {}
    with ThreadPoolExecutor(max_workers=max(len(sources), 1), thread_name_prefix="source") as pool:
        futures = {pool.submit(timed, c): c for c in sources}
        for future in as_completed(futures):
            item, error = futures[future], future.exception()
            if error is not None:
                failures[name(item)] = error
                continue
            result, seconds = future.result()
            context.log.info(f"{result.asset_key.to_user_string()}: {result.metadata['dagster/row_count']} rows in {seconds:.1f} s")
            yield with_selected_checks(result, selected_checks)
    if failures:
        first, *others = [(name(c), failures[name(c)]) for c in sources if name(c) in failures]
        for item_name, error in others:
            context.log.error(f"{item_name} failed too: {error}")
        raise first[1]


def with_selected_checks(result: dg.MaterializeResult, selected: set[dg.AssetCheckKey]) -> dg.MaterializeResult:
    """`result` with only the checks the run selected, each naming its asset (a multi-asset's check
    results must say which of its assets they check)."""
    checks = [
        dg.AssetCheckResult(
            asset_key=result.asset_key, check_name=r.check_name, passed=r.passed, metadata=r.metadata,
            severity=r.severity, description=r.description,
        )
        for r in result.check_results or []
        if dg.AssetCheckKey(result.asset_key, r.check_name) in selected
    ]
    return dg.MaterializeResult(
        asset_key=result.asset_key, metadata=result.metadata, check_results=checks,
        data_version=result.data_version, tags=result.tags,
    )


def build_layer_asset(
    layer: str, table: Callable[[SourceContract], Table], describe: Callable[[SourceContract], str],
    checks: Callable[[SourceContract], dict[str, str]], materialize: Materialize,
    upstream: Callable[[SourceContract], list[str]] = lambda c: [],
) -> dg.AssetsDefinition:
    """One subsettable multi-asset holding a layer's asset per source; `materialize(spark, settings,
    contract, months)` builds one source's months and returns its MaterializeResult."""

    @dg.multi_asset(
        name=layer,
        specs=[
            dg.AssetSpec(table(c).name, group_name=layer, kinds={"spark", "parquet"}, skippable=True, deps=upstream(c), description=describe(c))
            for c in SOURCES.values()
        ],
        check_specs=[
            dg.AssetCheckSpec(check, asset=table(c).name, description=text) for c in SOURCES.values() for check, text in checks(c).items()
        ],
        partitions_def=monthly_partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        can_subset=True,
    )
    def _layer(context: dg.AssetExecutionContext, pipeline_settings: LoanPipelineSettings, pyspark: LazyPySparkResource):
        settings = pipeline_settings.get()
        months = list(context.partition_keys)
        spark = pyspark.spark_session
        sources = selected_sources(context, SOURCES.values(), table)
        yield from materialize_concurrently(context, sources, lambda c: materialize(spark, settings, c, months))

    return _layer
