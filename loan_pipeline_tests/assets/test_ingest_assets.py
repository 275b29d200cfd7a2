"""The ingest assets on generated sample data: counts, reconciliation, re-materialization, time contract."""

import pandas as pd
import pyarrow.parquet as pq
import pytest

import dagster as dg
from loan_pipeline import lake
from loan_pipeline.sources.generator import generate_loan_book
from loan_pipeline_tests.ingest_helpers import check_results, ingest_definitions, run_ingest

FIRST, LAST = "2023-01-01", "2025-11-01"


@pytest.fixture(scope="module")
def sample_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sample")
    generate_loan_book(folder, customers=400)
    return folder


@pytest.fixture(scope="module")
def ingested(tmp_path_factory, sample_dir, spark_resource):
    home = tmp_path_factory.mktemp("home")
    defs = ingest_definitions(home, sample_dir, spark_resource)
    instance = dg.DagsterInstance.ephemeral()
    result = run_ingest(defs, FIRST, LAST, instance)
    assert result.success
    return home, defs, instance, result


def _table(home, layer, name):
    return home / "datamart" / layer / name


def test_bronze_holds_exactly_the_raw_rows_of_each_month(ingested, sample_dir):
    home, *_ = ingested
    raw = pd.read_csv(sample_dir / "lms_loan_daily.csv", dtype=str)
    expected = raw.groupby(raw["snapshot_date"].str[:7] + "-01").size().to_dict()
    counts = lake.month_row_counts(_table(home, "bronze", "bronze_lms"), lake.available_months(_table(home, "bronze", "bronze_lms")))
    assert {m: n for m, n in counts.items() if n} == expected
    bronze = lake.read_months_pandas(_table(home, "bronze", "bronze_lms"), ["2023-03-01"])
    assert set(bronze["_source_file"]) == {"lms_loan_daily.csv"}
    assert bronze["_source_sha256"].str.len().eq(64).all()
    first = raw.reset_index().query("snapshot_date == '2023-03-01'").iloc[0]
    assert bronze.sort_values("_source_row").iloc[0]["_source_row"] == first["index"] + 1


def test_nothing_is_dropped_between_bronze_and_silver(ingested):
    home, _, _, result = ingested
    checks = check_results(result)
    for source in ("lms", "clickstream", "attributes", "financials"):
        assert checks[(f"bronze_{source}", "schema_contract")].passed
        assert checks[(f"silver_{source}", "schema_contract")].passed
        assert checks[(f"silver_{source}", "reconciles_with_bronze")].passed
        assert checks[(f"silver_{source}", "keys_unique")].passed
        months = lake.available_months(_table(home, "bronze", f"bronze_{source}"))
        bronze = lake.month_row_counts(_table(home, "bronze", f"bronze_{source}"), months)
        silver = lake.month_row_counts(_table(home, "silver", f"silver_{source}"), months)
        quarantined = lake.month_row_counts(_table(home, "silver", f"quarantine_{source}"), months)
        assert all(bronze[m] == silver[m] + quarantined[m] for m in months)


def test_personal_data_stops_at_bronze(ingested):
    home, *_ = ingested
    silver = lake.read_months_pandas(_table(home, "silver", "silver_attributes"), ["2023-02-01"])
    assert "Name" not in silver.columns and "SSN" not in silver.columns
    assert silver["ssn_valid"].dtype == bool and 0.8 < silver["ssn_valid"].mean() < 1.0


def test_gold_features_has_one_row_per_application(ingested, sample_dir):
    home, _, _, result = ingested
    raw = pd.read_csv(sample_dir / "lms_loan_daily.csv", dtype=str)
    starts = raw[raw["installment_num"] == "0"]
    expected = starts.groupby(starts["loan_start_date"].str[:7] + "-01").size().to_dict()
    features = lake.read_months_pandas(_table(home, "gold", "gold_features"))
    assert features.groupby("month").size().to_dict() == expected
    assert features["loan_id"].is_unique and len(features) == 400
    assert check_results(result)[("gold_features", "one_row_per_loan")].passed
    assert check_results(result)[("gold_features", "schema_contract")].passed
    assert check_results(result)[("gold_labels", "schema_contract")].passed


def test_gold_features_use_nothing_dated_after_the_application(ingested, sample_dir):
    home, _, _, result = ingested
    features = lake.read_months_pandas(_table(home, "gold", "gold_features"))
    application = pd.to_datetime(features["application_date"])
    for column in ("profile_snapshot_date", "financials_snapshot_date", "clickstream_last_date"):
        used = pd.to_datetime(features[column])
        assert (used.isna() | (used <= application)).all(), column
    # The sample holds later profile refreshes: gold must have used the application-time row instead.
    fin = pd.read_csv(sample_dir / "features_financials.csv", dtype=str)
    refreshed = fin[fin.duplicated("Customer_ID", keep=False)]
    assert len(refreshed) > 0
    used = features.set_index("Customer_ID").loc[refreshed["Customer_ID"].unique()]
    assert (pd.to_datetime(used["financials_snapshot_date"]) == pd.to_datetime(used["application_date"])).all()
    assert check_results(result)[("gold_features", "no_future_data")].passed


def test_gold_labels_follow_the_label_definition(ingested, sample_dir):
    home, *_ = ingested
    labels = lake.read_months_pandas(_table(home, "gold", "gold_labels"))
    raw = pd.read_csv(sample_dir / "lms_loan_daily.csv")
    mob6 = raw[raw["installment_num"] == 6]
    assert len(labels) == len(mob6) and set(labels["loan_id"]) == set(mob6["loan_id"])
    assert (labels["label_definition"] == "dpd30_mob6").all()
    assert (pd.to_datetime(labels["label_month"]) == pd.to_datetime(labels["application_month"]) + pd.DateOffset(months=6)).all()
    assert labels["label"].eq((labels["dpd"] >= 30).astype(int)).all()
    assert 0.15 < labels["label"].mean() < 0.45


def test_rematerializing_a_month_replaces_exactly_that_month(ingested):
    home, defs, instance, _ = ingested
    table = _table(home, "silver", "silver_lms")
    before = {m: sorted(p.name for p in lake.month_dir(table, m).iterdir()) for m in lake.available_months(table)}
    before_rows = lake.month_row_counts(table, before)
    result = run_ingest(defs, "2024-02-01", "2024-02-01", instance, selection=["bronze_lms", "silver_lms"])
    assert result.success
    after = {m: sorted(p.name for p in lake.month_dir(table, m).iterdir()) for m in lake.available_months(table)}
    assert after.keys() == before.keys()
    changed = [m for m in after if after[m] != before[m]]
    assert changed == ["2024-02-01"]  # new files for the month, the other months untouched
    assert lake.month_row_counts(table, before) == before_rows
    assert not (table / "_staging").exists() or not any((table / "_staging").iterdir())


def test_gold_labels_can_be_materialized_without_the_features(ingested):
    """Features and labels share one step; selecting one materializes only that one."""
    home, defs, instance, _ = ingested
    features = _table(home, "gold", "gold_features")
    before = sorted(p.name for p in lake.month_dir(features, "2024-02-01").iterdir())
    result = run_ingest(defs, "2024-02-01", "2024-02-01", instance, selection=["gold_labels"])
    assert result.success
    assert {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()} == {"gold_labels"}
    assert {k for k, _ in check_results(result)} == {"gold_labels"}
    assert sorted(p.name for p in lake.month_dir(features, "2024-02-01").iterdir()) == before


def test_every_month_shows_rows_and_a_preview(ingested):
    _, _, instance, _ = ingested
    event = instance.get_latest_materialization_event(dg.AssetKey("gold_features"))
    metadata = event.asset_materialization.metadata
    assert metadata["dagster/row_count"].value > 0
    assert "loan_id" in metadata["preview"].value


def test_a_month_without_profile_rows_or_applications_is_written_empty_with_the_full_schemas(ingested, sample_dir, spark_resource, tmp_path):
    # The newest month of the sample: loan-book snapshots only (no profile or clickstream snapshot, no
    # application). Silver and gold write those empty months from emptied plans, without a Spark job.
    home, *_ = ingested
    defs = ingest_definitions(tmp_path, sample_dir, spark_resource)
    result = run_ingest(defs, LAST, LAST, dg.DagsterInstance.ephemeral())
    assert result.success
    checks = check_results(result)
    empty_sources = {f"bronze_{source}" for source in ("attributes", "financials", "clickstream")}
    warned = {key for key, c in checks.items() if not c.passed}
    assert warned == {(name, "month_not_empty") for name in empty_sources}  # a warning for these sources, not an error
    assert all(checks[key].severity == dg.AssetCheckSeverity.WARN for key in warned)
    empty_tables = [("silver", f"{kind}_{source}") for source in ("attributes", "financials", "clickstream") for kind in ("silver", "quarantine")]
    for layer, name in [*empty_tables, ("gold", "gold_features")]:
        assert lake.month_row_counts(_table(tmp_path, layer, name), [LAST]) == {LAST: 0}, name
        full_run_month = "2023-06-01"  # a month the full run wrote rows into, through the Spark jobs
        written = pq.ParquetDataset(lake.month_dir(_table(home, layer, name), full_run_month)).schema
        empty = pq.ParquetDataset(lake.month_dir(_table(tmp_path, layer, name), LAST)).schema
        # Names and types (an empty month's file, like any month without rows, marks every column nullable).
        assert [(f.name, str(f.type)) for f in empty] == [(f.name, str(f.type)) for f in written], name
    assert lake.month_row_counts(_table(tmp_path, "silver", "silver_lms"), [LAST])[LAST] > 0


def test_silver_flag_statistics_match_the_written_rows(ingested):
    home, _, _, result = ingested
    for source in ("financials", "attributes"):
        written = lake.read_months_pandas(_table(home, "silver", f"silver_{source}"))
        flags = written[["month", "dq_flags"]].explode("dq_flags").dropna()
        expected = {}
        for (month, flag), n in flags.groupby(["month", "dq_flags"]).size().items():
            expected.setdefault(month, {})[flag] = int(n)
        assert expected, f"the sample's {source} has flagged values"
        recorded = {}
        for event in result.get_asset_materialization_events():
            materialization = event.step_materialization_data.materialization
            if materialization.asset_key == dg.AssetKey(f"silver_{source}"):
                month = materialization.partition
                recorded[month] = materialization.metadata["flag_counts_per_month"].value.get(month, {})
        assert {m: f for m, f in recorded.items() if f} == expected
