"""The local Dagster instance (SQLite storage in DAGSTER_HOME) and a faster SQLite event log for it.

`./dev`, `python -m loan_pipeline.cycle` and the benchmarks all create a missing
`$DAGSTER_HOME/dagster.yaml` with `ensure_local_instance`, so every local run uses the same settings.
The docker-compose deployment keeps its own dagster.yaml (Postgres) and never reads this.

Why a subclass: Dagster's SQLite event log builds a new SQLAlchemy engine for every statement it
writes (`create_engine` per connect), so each event also recompiles its SQL (the compiled-statement
cache lives on the engine), and the cross-run index database is opened and closed twice per asset
event. A backfill of 35 months x 10 assets writes ~700 such events: measured with a no-op job of that
shape (benchmarks/bench_event_log.py), 6.5 s of bookkeeping against 3.0 s with this class. A run's
planned asset checks (one event per check, one index row per check and month) were stored one event
at a time too, each row serializing its event again: they are now written with the run's planned
materializations (the full ingest's planned events under cProfile: 2.3 -> 0.85 s). The storage
layout, schema and files are Dagster's own (same folder as the default `storage: sqlite`), so the UI,
the daemon and the stock class read the same history.

What stays as Dagster does it, on purpose:
- run databases are still opened per statement (NullPool): closing the last connection checkpoints
  the WAL into `<run_id>.db`, whose modification is what the UI's watcher (watchdog) listens for to
  stream a live run's events; a held-open connection would leave them in the `-wal` file unseen;
- `synchronous` stays at SQLite's default (FULL): no event written before a crash is lost.
"""

from __future__ import annotations

import os
import sys
from collections import OrderedDict
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from dagster import Field, StringSource
from dagster._core.events import ASSET_EVENTS, DagsterEventType
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus
from dagster._core.storage.event_log.schema import AssetCheckExecutionsTable
from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
    INDEX_SHARD_NAME,
    SQLITE_BUSY_TIMEOUT_SECONDS,
    SqliteEventLogStorage,
)
from dagster._core.storage.sqlalchemy_compat import db_result
from dagster._serdes import serialize_value
from sqlalchemy import create_engine
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import NullPool, QueuePool

# Dagster hands a storage the events it marks as one batch (the planned materializations at run
# start, the per-partition materializations of a step) in one store_event_batch call only when this
# variable is set; its value caps the batch size.
EVENT_BATCH_SIZE_ENV = "DAGSTER_EVENT_BATCH_SIZE"
EVENT_BATCH_SIZE = "1000"

# Engines kept for this many run databases (a long-lived webserver watches many runs; an engine
# without pooled connections is a few KB, this only bounds the dictionary).
RUN_ENGINES_KEPT = 64

LOCAL_INSTANCE_YAML = """\
# Local Dagster instance of loan_pipeline (written by loan_pipeline.local_instance; edit freely, it is
# only created when missing). Runs, schedules and sensor ticks: Dagster's SQLite defaults in this folder.
telemetry:
  enabled: false
# Dagster's SQLite event log with its engines reused (same files and schema; see local_instance.py).
event_log_storage:
  module: loan_pipeline.local_instance
  class: ReusedEngineSqliteEventLogStorage
"""
# What ./dev wrote before the event log above existed: upgraded in place (nothing user-made in it).
_PREVIOUS_LOCAL_INSTANCE_YAML = "telemetry:\n  enabled: false\n"


def default_event_log_dir(dagster_home: str | os.PathLike | None = None) -> str:
    """Where Dagster's default SQLite storage keeps event logs: $DAGSTER_HOME/history/runs/."""
    home = dagster_home or os.environ.get("DAGSTER_HOME")
    if not home:
        raise ValueError("DAGSTER_HOME is not set: the local event log lives in $DAGSTER_HOME/history/runs")
    return os.path.join(os.path.abspath(home), "history", "runs", "")


class ReusedEngineSqliteEventLogStorage(SqliteEventLogStorage):
    """SqliteEventLogStorage with one engine per database instead of one per statement; the index
    database (never watched) also keeps its connection open between statements."""

    def __init__(self, base_dir: str | None = None, inst_data=None):
        self._index_engine: Engine | None = None
        self._run_engines: OrderedDict[str, Engine] = OrderedDict()
        super().__init__(base_dir or default_event_log_dir(), inst_data)
        # Turn on Dagster's event batching in the process that uses this storage (a value set by
        # the user wins): store_event_batch below is what makes a batch cheap.
        os.environ.setdefault(EVENT_BATCH_SIZE_ENV, EVENT_BATCH_SIZE)

    @classmethod
    def config_type(cls):
        return {"base_dir": Field(StringSource, is_required=False, description="default: $DAGSTER_HOME/history/runs")}

    @classmethod
    def from_config_value(cls, inst_data, config_value):  # ty: ignore[invalid-method-override]
        return cls(inst_data=inst_data, **config_value)

    def _engine(self, shard: str) -> Engine:
        connect_args = {"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False}
        if shard == INDEX_SHARD_NAME:
            if self._index_engine is None:
                # One connection reused under the storage's lock; overflow for the watcher threads.
                self._index_engine = create_engine(
                    self.conn_string_for_shard(shard), poolclass=QueuePool, pool_size=1, max_overflow=4,
                    connect_args=connect_args,
                )
            return self._index_engine
        engine = self._run_engines.get(shard)
        if engine is None:
            engine = create_engine(self.conn_string_for_shard(shard), poolclass=NullPool, connect_args=connect_args)
            self._run_engines[shard] = engine
            if len(self._run_engines) > RUN_ENGINES_KEPT:
                self._run_engines.popitem(last=False)[1].dispose()
        else:
            self._run_engines.move_to_end(shard)
        return engine

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        with self._db_lock:
            engine = self._engine(shard)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn:
                with conn.begin():
                    yield conn

    def store_event_batch(self, events) -> None:
        """What store_event does for each event, with the asset events and planned asset checks of a
        batch written in one transaction per database (a run's planned materializations and checks, or
        a step's 35 monthly materializations: 2 commits, not 70 plus 35 checkpoints). Any other event is
        stored on its own, in order."""
        pending: list = []
        for event in events:
            if _groups(event) and (not pending or pending[0].run_id == event.run_id):
                pending.append(event)
                continue
            self._store_asset_events_together(pending)
            pending = []
            if _groups(event):
                pending.append(event)
            else:
                self.store_event(event)
        self._store_asset_events_together(pending)

    def _store_asset_events_together(self, events: list) -> None:
        if len(events) <= 1:
            for event in events:
                self.store_event(event)
            return
        inserts = [self.prepare_insert_event(event) for event in events]
        with self.run_connection(events[0].run_id) as conn:
            for statement in inserts:
                conn.execute(statement)
        # Mirrored in the cross-run index database, as SqliteEventLogStorage.store_event does.
        planned_checks = []
        with self.index_transaction() as conn:
            for event, statement in zip(events, inserts):
                with db_result(conn, statement) as result:
                    event_id = result.inserted_primary_key[0]
                if event.dagster_event_type in ASSET_EVENTS:
                    self._store_asset_event_tags(conn, [event], [event_id])
                    self._store_asset_event(conn, event, event_id)
                else:
                    planned_checks.append((event, event_id))
            self._store_planned_checks(conn, planned_checks)

    def _store_planned_checks(self, conn: Connection, planned: list) -> None:
        """The rows store_asset_check_event writes for planned checks (one per check and partition), in
        one statement; each event is serialized once, not once per partition."""
        rows = []
        for event, event_id in planned:
            data = event.dagster_event.event_specific_data
            serialized, timestamp = serialize_value(event), self._event_insert_timestamp(event)
            for partition in data.partitions_subset.get_partition_keys() if data.partitions_subset else [None]:
                rows.append({
                    "asset_key": data.asset_key.to_string(), "check_name": data.check_name, "partition": partition,
                    "run_id": event.run_id, "execution_status": AssetCheckExecutionRecordStatus.PLANNED.value,
                    "evaluation_event": serialized, "evaluation_event_timestamp": timestamp, "evaluation_event_storage_id": event_id,
                })
        if rows:
            conn.execute(AssetCheckExecutionsTable.insert(), rows)

    def wipe(self) -> None:
        super().wipe()
        self._dispose_engines()  # wipe deletes the run databases: forget their engines

    def dispose(self) -> None:
        super().dispose()
        self._dispose_engines()

    def _dispose_engines(self) -> None:
        with self._db_lock:
            for engine in self._run_engines.values():
                engine.dispose()
            self._run_engines.clear()
            if self._index_engine is not None:
                self._index_engine.dispose()
                self._index_engine = None


def _groups(event) -> bool:
    """Events store_event_batch writes together: asset events and planned asset checks."""
    return event.is_dagster_event and (
        event.dagster_event_type in ASSET_EVENTS or event.dagster_event_type == DagsterEventType.ASSET_CHECK_EVALUATION_PLANNED
    )


def ensure_local_instance(dagster_home: str | os.PathLike) -> Path:
    """Create DAGSTER_HOME and its dagster.yaml when missing (an existing file is left as it is, except
    the telemetry-only file earlier versions of ./dev wrote). Returns the dagster.yaml path."""
    home = Path(dagster_home)
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists() or config.read_text() == _PREVIOUS_LOCAL_INSTANCE_YAML:
        config.write_text(LOCAL_INSTANCE_YAML)
    return config


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m loan_pipeline.local_instance DAGSTER_HOME")
    ensure_local_instance(sys.argv[1])
