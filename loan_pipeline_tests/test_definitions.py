"""The project's one Definitions object loads, validates and has the interface other parts rely on."""

import dagster as dg

from loan_pipeline.definitions import defs
from loan_pipeline.partitions import monthly_partitions
from loan_pipeline.sources.schemas import SOURCES


def test_definitions_validate():
    dg.Definitions.validate_loadable(defs)


def test_layer_assets_share_the_monthly_partitions_and_run_backfills_as_one_run():
    graph = defs.resolve_asset_graph()
    names = [f"{layer}_{s}" for layer in ("bronze", "silver") for s in SOURCES] + ["gold_features", "gold_labels"]
    for name in names:
        node = graph.get(dg.AssetKey(name))
        assert node.partitions_def == monthly_partitions, name
        assert node.backfill_policy == dg.BackfillPolicy.single_run(), name
    assert monthly_partitions.get_partition_keys()[0] == "2023-01-01"
    assert len(monthly_partitions.get_partition_keys()) == 35


def test_every_layer_has_its_checks():
    checks = {(k.asset_key.to_user_string(), k.name) for k in defs.resolve_asset_graph().asset_check_keys}
    for source in SOURCES:
        assert {(f"bronze_{source}", "schema_contract"), (f"bronze_{source}", "month_not_empty")} <= checks
        assert {(f"silver_{source}", c) for c in ("schema_contract", "reconciles_with_bronze", "keys_unique", "quarantine_share", "flagged_share")} <= checks
    assert {("gold_features", "no_future_data"), ("gold_features", "one_row_per_loan"), ("gold_labels", "label_rate_sane")} <= checks


def test_one_process_per_run_so_one_spark_session():
    assert defs.executor == dg.in_process_executor
