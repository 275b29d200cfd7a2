"""`cycle --ingest-only` builds the lake (bronze -> gold) in one run and stops before any model work; it
prints one line per step and writes Dagster's events to the log file it names."""

from __future__ import annotations

import dagster as dg
import pytest

from loan_pipeline import lake, tables
from loan_pipeline.cycle import run_cycle
from loan_pipeline.settings import load_settings
from loan_pipeline.sources.generator import generate_loan_book
from loan_pipeline.sources.schemas import SOURCES

MONTHS = ["2023-01-01", "2023-02-01"]


@pytest.fixture
def ingest_only(tmp_path, monkeypatch):
    data = tmp_path / "data"
    generate_loan_book(data, customers=300, loan_start_months=2)
    monkeypatch.setenv("LOAN_PIPELINE_DATA_DIR", str(data))
    monkeypatch.setenv("LOAN_PIPELINE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    (tmp_path / "dagster_home").mkdir()
    (tmp_path / "dagster_home" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    lines: list[str] = []
    summary = run_cycle(months=MONTHS, ingest_only=True, log=lines.append)
    with dg.DagsterInstance.get() as instance:
        runs = [r.dagster_run for r in instance.get_run_records()]
    return {"summary": summary, "runs": runs, "lines": lines, "settings": load_settings()}


def test_ingest_only_writes_every_layer_and_no_models(ingest_only):
    settings = ingest_only["settings"]
    assert [r.job_name for r in ingest_only["runs"]] == ["ingest_job"], "one backfill run, no lifecycle run"
    for contract in SOURCES.values():
        for layer, table in (("bronze", tables.bronze), ("silver", tables.silver)):
            counts = lake.month_row_counts(settings.table(table(contract)), MONTHS)
            assert sum(counts.values()) > 0, (layer, contract.name, counts)
    features = lake.month_row_counts(settings.table(tables.GOLD_FEATURES), MONTHS)
    assert all(n > 0 for n in features.values()), features
    assert lake.available_months(settings.table(tables.GOLD_LABELS)) == MONTHS
    assert not settings.model_store.exists() and not settings.reports.exists()
    assert not settings.table(tables.PREDICTIONS).exists()
    summary = ingest_only["summary"]
    assert summary["outputs"] == {"lake": str(settings.datamart)} and summary["timings"]["ingest_s"] > 0
    assert ingest_only["lines"][-1] == f"lake: {settings.datamart}"


def test_the_report_is_short_and_the_events_are_in_the_log_file(ingest_only):
    lines, settings = ingest_only["lines"], ingest_only["settings"]
    log_path = ingest_only["summary"]["log"]
    assert len(lines) == 3 and log_path in lines[0]
    # The step line: months, rows per layer (gold = features + labels, as written), seconds.
    bronze = sum(sum(lake.month_row_counts(settings.table(tables.bronze(c)), MONTHS).values()) for c in SOURCES.values())
    gold = sum(sum(lake.month_row_counts(settings.table(t), MONTHS).values()) for t in (tables.GOLD_FEATURES, tables.GOLD_LABELS))
    assert lines[1].startswith("ingest     2023-01..2023-02:") and f"bronze {bronze:,} rows" in lines[1] and f"gold {gold:,} rows" in lines[1]
    assert lines[1].endswith(" s")
    text = open(log_path).read()
    run_id = ingest_only["runs"][0].run_id
    assert f"# ingest: run {run_id}" in text and "PIPELINE_SUCCESS" in text
    assert text.count("ASSET_MATERIALIZATION") >= 10 * len(MONTHS)  # bronze, silver (4 each), gold (2), per month
