"""`cycle --ingest-only` builds the lake (bronze -> gold) in one run and stops before any model work."""

from __future__ import annotations

import dagster as dg
import pytest

from loan_pipeline import lake
from loan_pipeline.cycle import run_cycle
from loan_pipeline.resources import spark_session_running
from loan_pipeline.settings import load_settings
from loan_pipeline.sources.generator import generate_loan_book
from loan_pipeline.sources.schemas import SOURCES

MONTHS = ["2023-01-01", "2023-02-01"]


@pytest.fixture
def ingest_only(tmp_path, monkeypatch, spark):
    data = tmp_path / "data"
    generate_loan_book(data, customers=300, loan_start_months=2)
    monkeypatch.setenv("LOAN_PIPELINE_DATA_DIR", str(data))
    monkeypatch.setenv("LOAN_PIPELINE_HOME", str(tmp_path / "home"))
    lines: list[str] = []
    with dg.DagsterInstance.ephemeral() as instance:
        summary = run_cycle(instance, months=MONTHS, ingest_only=True, log=lines.append)
        runs = [r.dagster_run for r in instance.get_run_records()]
    return {"summary": summary, "runs": runs, "lines": lines, "settings": load_settings()}


def test_ingest_only_writes_every_layer_and_no_models(ingest_only):
    settings = ingest_only["settings"]
    assert [r.job_name for r in ingest_only["runs"]] == ["ingest_job"], "one backfill run, no lifecycle run"
    for contract in SOURCES.values():
        for layer in ("bronze", "silver"):
            counts = lake.month_row_counts(settings.table_path(layer, f"{layer}_{contract.name}"), MONTHS)
            assert sum(counts.values()) > 0, (layer, contract.name, counts)
    features = lake.month_row_counts(settings.table_path("gold", "gold_features"), MONTHS)
    assert all(n > 0 for n in features.values()), features
    assert lake.available_months(settings.table_path("gold", "gold_labels")) == MONTHS
    assert not settings.model_store.exists() and not settings.reports.exists()
    assert not settings.table_path("predictions", "predictions").exists()
    summary = ingest_only["summary"]
    assert summary["outputs"] == {"lake": str(settings.datamart)} and summary["timings"]["ingest_s"] > 0
    assert ingest_only["lines"][-1] == f"lake: {settings.datamart}"


def test_ingest_only_leaves_a_callers_spark_session_running(ingest_only, spark):
    assert spark_session_running() and spark.range(3).count() == 3
    assert ingest_only["summary"]["spark_jvm_stopped_after_ingest"] is False
