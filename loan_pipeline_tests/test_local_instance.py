"""The local Dagster instance: its dagster.yaml, and the project's SQLite event log against Dagster's own.

The event log subclass must be a pure speed-up: the same events, materializations and partition
statuses as the stock class, files the stock class reads, and live watching (what the UI's run page
uses) still working from another instance, as the webserver watches a run the daemon executes.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

import dagster as dg
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage

from loan_pipeline.local_instance import (
    EVENT_BATCH_SIZE_ENV,
    LOCAL_INSTANCE_YAML,
    ReusedEngineSqliteEventLogStorage,
    _PREVIOUS_LOCAL_INSTANCE_YAML,
    ensure_local_instance,
)

PARTS = dg.MonthlyPartitionsDefinition(start_date="2024-01-01", end_date="2024-07-01")


@dg.asset(partitions_def=PARTS, backfill_policy=dg.BackfillPolicy.single_run())
def upstream(context) -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"months": len(context.partition_keys)})


@dg.asset(partitions_def=PARTS, deps=[upstream], backfill_policy=dg.BackfillPolicy.single_run(),
          check_specs=[dg.AssetCheckSpec("positive", asset="downstream")])
def downstream(context):
    yield dg.MaterializeResult(metadata={"months": len(context.partition_keys)})
    yield dg.AssetCheckResult(check_name="positive", passed=True)


DEFS = dg.Definitions(assets=[upstream, downstream], jobs=[dg.define_asset_job("both", partitions_def=PARTS)])


@pytest.fixture
def dagster_home(tmp_path, monkeypatch) -> Path:
    home = tmp_path / "dagster_home"
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.delenv(EVENT_BATCH_SIZE_ENV, raising=False)  # the storage sets it; restored after the test
    ensure_local_instance(home)
    return home


def _backfill(instance: dg.DagsterInstance, first: str, last: str) -> dg.ExecuteInProcessResult:
    return DEFS.resolve_job_def("both").execute_in_process(
        instance=instance, tags={"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": last}
    )


def _history(instance: dg.DagsterInstance, run_id: str) -> dict:
    events = [r.event_log_entry.dagster_event_type for r in instance.get_records_for_run(run_id).records if r.event_log_entry.is_dagster_event]
    key = dg.AssetKey("downstream")
    return {
        "event_types": [e.value for e in events],
        "materialized": sorted(instance.get_materialized_partitions(key)),
        "materializations": len(instance.fetch_materializations(key, limit=100).records),
        "planned": len(instance.get_latest_planned_materialization_info(key) and [1] or []),
        "check": instance.event_log_storage.get_latest_asset_check_execution_by_key(
            [dg.AssetCheckKey(key, "positive")]
        )[dg.AssetCheckKey(key, "positive")].status.value,
        # One execution record per planned check and partition, updated by the evaluation.
        "check_executions": sorted(
            (r.partition or "", r.status.value, r.event.dagster_event_type.value if r.event else "")
            for r in instance.event_log_storage.get_asset_check_execution_history(dg.AssetCheckKey(key, "positive"), limit=100)
        ),
    }


def test_ensure_local_instance_writes_upgrades_and_keeps(tmp_path):
    home = tmp_path / "home"
    config = ensure_local_instance(home)
    assert config.read_text() == LOCAL_INSTANCE_YAML
    config.write_text(_PREVIOUS_LOCAL_INSTANCE_YAML)  # what ./dev wrote before
    ensure_local_instance(home)
    assert config.read_text() == LOCAL_INSTANCE_YAML
    config.write_text("telemetry:\n  enabled: true\n")  # a user's own file is never touched
    ensure_local_instance(home)
    assert config.read_text() == "telemetry:\n  enabled: true\n"


def test_instance_uses_the_project_event_log_in_dagsters_folder(dagster_home):
    with dg.DagsterInstance.get() as instance:
        storage = instance.event_log_storage
        assert type(storage) is ReusedEngineSqliteEventLogStorage
        assert Path(storage._base_dir) == dagster_home / "history" / "runs"
        assert not instance.get_settings("telemetry")["enabled"]


def test_same_history_as_dagsters_own_sqlite_event_log(dagster_home, tmp_path, monkeypatch):
    with dg.DagsterInstance.get() as ours:
        assert os.environ[EVENT_BATCH_SIZE_ENV] == "1000"  # batches reach store_event_batch
        result = _backfill(ours, "2024-01-01", "2024-06-01")
        assert result.success
        mine = _history(ours, result.run_id)
    monkeypatch.delenv(EVENT_BATCH_SIZE_ENV)  # the reference: Dagster's class storing one event at a time
    stock_home = tmp_path / "stock"
    stock_home.mkdir()
    (stock_home / "dagster.yaml").write_text(_PREVIOUS_LOCAL_INSTANCE_YAML)
    with dg.DagsterInstance.from_config(str(stock_home)) as stock:
        assert type(stock.event_log_storage) is SqliteEventLogStorage
        reference = _history(stock, _backfill(stock, "2024-01-01", "2024-06-01").run_id)
    assert mine == reference
    assert mine["materialized"] == PARTS.get_partition_keys() and mine["materializations"] == 6
    assert mine["event_types"].count("ASSET_MATERIALIZATION_PLANNED") == 12
    assert mine["check_executions"] == [("", "SUCCEEDED", "ASSET_CHECK_EVALUATION")] + [
        (month, "PLANNED", "ASSET_CHECK_EVALUATION_PLANNED") for month in PARTS.get_partition_keys()
    ]
    # The stock class reads what the project's class wrote (the files are Dagster's own format).
    with dg.DagsterInstance.from_config(str(dagster_home)) as again:
        stock_reader = SqliteEventLogStorage(str(dagster_home / "history" / "runs"))
        assert len(stock_reader.get_records_for_run(result.run_id).records) == len(again.get_records_for_run(result.run_id).records)
        assert sorted(stock_reader.get_materialized_partitions(dg.AssetKey("downstream"))) == mine["materialized"]


def test_a_batch_is_stored_as_the_same_events_in_the_same_order(dagster_home):
    """Planned materializations and planned checks, stored together, keep their order."""
    with dg.DagsterInstance.get() as instance:
        storage = instance.event_log_storage
        calls = []
        original = storage._store_asset_events_together
        storage._store_asset_events_together = lambda events: (calls.append(len(events)), original(events))
        result = _backfill(instance, "2024-01-01", "2024-06-01")
        records = instance.get_records_for_run(result.run_id).records
    # The run's 12 planned materializations and its planned check in one go, then each step's 6 monthly
    # materializations.
    assert sorted(calls, reverse=True)[:3] == [13, 6, 6], calls
    ids = [r.storage_id for r in records]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    planned = [r.event_log_entry.dagster_event.event_specific_data.partition for r in records
               if r.event_log_entry.dagster_event_type == dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED]
    assert planned == PARTS.get_partition_keys() * 2
    checks = [r for r in records if r.event_log_entry.dagster_event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION_PLANNED]
    assert len(checks) == 1


def test_a_second_instance_watches_a_run_live(dagster_home):
    """The webserver's run page: another process's instance watches the run while it writes events."""
    with dg.DagsterInstance.get() as writer, dg.DagsterInstance.get() as watcher:
        run = writer.create_run_for_job(DEFS.resolve_job_def("both"), tags={"dagster/partition": "2024-01-01"})
        seen, lock = [], threading.Lock()

        def on_event(entry, cursor):
            with lock:
                seen.append(entry.dagster_event.message if entry.is_dagster_event else entry.user_message)

        watcher.event_log_storage.watch(run.run_id, None, on_event)
        try:
            for i in range(5):
                writer.report_engine_event(f"live {i}", run)
                deadline = time.monotonic() + 10
                while time.monotonic() < deadline:  # each event arrives on its own, while the run goes on
                    with lock:
                        if f"live {i}" in seen:
                            break
                    time.sleep(0.05)
                with lock:
                    assert f"live {i}" in seen, f"watcher missed event {i}: {seen}"
        finally:
            watcher.event_log_storage.end_watch(run.run_id, on_event)


def test_wipe_forgets_engines_of_deleted_databases(dagster_home):
    with dg.DagsterInstance.get() as instance:
        first = _backfill(instance, "2024-01-01", "2024-02-01")
        instance.event_log_storage.wipe()
        assert not os.path.exists(instance.event_log_storage.path_for_shard(first.run_id))
        second = _backfill(instance, "2024-03-01", "2024-03-01")
        assert sorted(instance.get_materialized_partitions(dg.AssetKey("downstream"))) == ["2024-03-01"]
        assert len(instance.get_records_for_run(second.run_id).records) > 0
