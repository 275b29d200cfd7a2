"""One step per lake layer: the sources of a layer are materialized concurrently in the run's Spark session.

Each source's work is small, and much of it is driver-side (planning, file commits, footers, checks)
with one core idle; running the four sources side by side keeps both cores busy. Each source still
publishes its months atomically, so a source that fails leaves its previous months intact and does
not stop the others from landing; the step then fails with that source's error.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Iterable, Iterator

import dagster as dg

from loan_pipeline.sources.schemas import SourceContract


def selected_sources(context: dg.AssetExecutionContext, sources: Iterable[SourceContract], asset_name: Callable[[SourceContract], str]) -> list[SourceContract]:
    return [c for c in sources if dg.AssetKey(asset_name(c)) in context.selected_asset_keys]


def materialize_concurrently(
    context: dg.AssetExecutionContext, sources: list[SourceContract], materialize: Callable[[SourceContract], dg.MaterializeResult],
) -> Iterator[dg.MaterializeResult]:
    """Run `materialize` for every source in threads; yield the results (keeping only selected checks),
    then raise the first failure, if any."""
    def timed(contract: SourceContract) -> tuple[dg.MaterializeResult, float]:
        start = time.perf_counter()
        return materialize(contract), time.perf_counter() - start

    with ThreadPoolExecutor(max_workers=max(len(sources), 1), thread_name_prefix="source") as pool:
        futures = [(c, pool.submit(timed, c)) for c in sources]
    failures = []
    for contract, future in futures:
        if future.exception() is not None:
            failures.append((contract, future.exception()))
            continue
        result, seconds = future.result()
        context.log.info(f"{result.asset_key.to_user_string()}: {result.metadata['dagster/row_count']} rows in {seconds:.1f} s")
        selected = context.selected_asset_check_keys
        # A multi-asset's check results must name their asset.
        checks = [
            r._replace(asset_key=result.asset_key) for r in result.check_results or []
            if dg.AssetCheckKey(result.asset_key, r.check_name) in selected
        ]
        yield result._replace(check_results=checks)
    if failures:
        for contract, error in failures[1:]:
            context.log.error(f"{contract.name} failed too: {error}")
        raise failures[0][1]


def check_specs(asset_name: str, descriptions: dict[str, str]) -> list[dg.AssetCheckSpec]:
    return [dg.AssetCheckSpec(n, asset=asset_name, description=d) for n, d in descriptions.items()]
